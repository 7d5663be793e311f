//! The once-a-second progress line while the load runs: what the API accepted and what the
//! engine finalized so far, with the last second's rates, the plugin's RSS and, from its `Gather`,
//! RocksDB's memtables and block cache and the allocator's live and resident bytes (so a long run
//! shows whether memory levels off, and which part of it grows: `scripts/soak.sh`).

use super::load::Tally;
use rpcchainvm_host::{AcceptedTip, VmClient};
use stampvm::metrics::{
    find_series, ALLOCATOR_BYTES, LABEL_KIND, LABEL_PART, ROCKSDB_MEMORY_BYTES,
};
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Prints until aborted (the run aborts it when the load ends). `blocks_before` is the engine's
/// accepted count when the load started; `plugin_pid` is whose RSS to read; `client` is asked
/// for the plugin's metrics.
pub async fn report(
    tally: Arc<Tally>,
    tip: watch::Receiver<AcceptedTip>,
    blocks_before: u64,
    plugin_pid: u32,
    client: VmClient,
) {
    let started = Instant::now();
    let mut ticks =
        tokio::time::interval_at(started + Duration::from_secs(1), Duration::from_secs(1));
    let (mut last_accepted, mut last_blocks) = (0, 0);
    loop {
        ticks.tick().await;
        let accepted = tally.accepted.load(Ordering::Relaxed);
        let refused = tally.refused.load(Ordering::Relaxed);
        let errors = tally.errors.load(Ordering::Relaxed);
        let blocks = tip.borrow().accepted - blocks_before;
        let rss = super::procfs::rss_kib(plugin_pid).map_or("unknown".into(), |kib| {
            format!("{:.1} MiB", kib as f64 / 1024.0)
        });
        let memory = plugin_memory(&client).await;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "[{:>4.0}s] proposals accepted {accepted} (+{}), refused {refused}, errors {errors}; \
             blocks finalized {blocks} (+{}); plugin RSS {rss}{memory}",
            started.elapsed().as_secs_f64(),
            accepted - last_accepted,
            blocks - last_blocks,
        );
        let _ = out.flush();
        (last_accepted, last_blocks) = (accepted, blocks);
    }
}

/// `; RocksDB memtables X MiB, block cache Y MiB; heap allocated Z MiB, resident W MiB` from the
/// plugin's `Gather`: each part only when the plugin has those gauges (another plugin has none),
/// nothing when the call fails.
async fn plugin_memory(client: &VmClient) -> String {
    let Ok(gathered) = client.gather().await else {
        return String::new();
    };
    // The gauge `name{label_key=label}` in MiB, if present.
    let mib = |name: &str, label_key: &str, label: &str| {
        let series = find_series(&gathered.metric_families, name, label_key, label)?;
        Some(series.gauge.as_ref()?.value? / (1024.0 * 1024.0))
    };
    let mut figures = String::new();
    if let (Some(memtables), Some(cache)) = (
        mib(ROCKSDB_MEMORY_BYTES, LABEL_PART, "memtables"),
        mib(ROCKSDB_MEMORY_BYTES, LABEL_PART, "block_cache"),
    ) {
        figures += &format!("; RocksDB memtables {memtables:.1} MiB, block cache {cache:.1} MiB");
    }
    if let (Some(allocated), Some(resident)) = (
        mib(ALLOCATOR_BYTES, LABEL_KIND, "allocated"),
        mib(ALLOCATOR_BYTES, LABEL_KIND, "resident"),
    ) {
        figures += &format!("; heap allocated {allocated:.1} MiB, resident {resident:.1} MiB");
    }
    figures
}
