//! The process's allocator, and its figures as metrics.
//!
//! jemalloc serves every allocation in the process, RocksDB's C++ included (the feature
//! `unprefixed_malloc_on_supported_platforms` makes it the process's `malloc`). Under glibc's
//! allocator the plugin's RSS climbed by a quarter in four minutes of load while its live heap,
//! traced with heaptrack, stayed flat: freed memtables and compaction buffers were kept,
//! fragmented, instead of reused or returned.
//!
//! heaptrack cannot see jemalloc's allocations, so the plugin reports jemalloc's own accounting
//! (`stampvm_allocator_bytes`): live bytes against the pages that hold them and the pages in RAM
//! tell a leak (allocated grows) from fragmentation (active grows, allocated does not) from pages
//! kept for reuse (resident grows, active does not).

use std::time::Duration;

#[cfg(all(unix, not(target_env = "musl")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// How often the figures are refreshed: reading them makes jemalloc merge every thread's counters
/// (an "epoch"), cheap but not free; the chain's other gauges move about as often.
const PUBLISH_INTERVAL: Duration = Duration::from_secs(1);

/// Publishes the allocator's figures every [`PUBLISH_INTERVAL`] from a small thread of its own,
/// for the life of the process. Does nothing where the binary is built without jemalloc.
pub fn publish_stats() {
    #[cfg(all(unix, not(target_env = "musl")))]
    {
        // Gauges set before the recorder exists go nowhere; installing is idempotent, and the
        // chain later gets this same recorder.
        stampvm::metrics::install();
        let spawned = std::thread::Builder::new()
            .name("allocator-stats".into())
            .spawn(|| loop {
                match read() {
                    Ok(bytes) => bytes.publish(),
                    Err(err) => {
                        tracing::warn!(%err, "jemalloc statistics unreadable; not publishing them");
                        return;
                    }
                }
                std::thread::sleep(PUBLISH_INTERVAL);
            });
        if let Err(err) = spawned {
            tracing::warn!(%err, "allocator statistics thread not started");
        }
    }
}

#[cfg(all(unix, not(target_env = "musl")))]
fn read() -> Result<stampvm::metrics::AllocatorBytes, tikv_jemalloc_ctl::Error> {
    use tikv_jemalloc_ctl::{epoch, stats};
    epoch::advance()?;
    Ok(stampvm::metrics::AllocatorBytes {
        allocated: stats::allocated::read()? as u64,
        active: stats::active::read()? as u64,
        resident: stats::resident::read()? as u64,
    })
}
