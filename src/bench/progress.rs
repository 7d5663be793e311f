//! The once-a-second progress line while the load runs: what the API accepted and what the
//! engine finalized so far, with the last second's rates, the plugin's RSS and, from its `Gather`,
//! RocksDB's memtables and block cache (so a long run shows whether memory levels off, and which
//! part of it grows: `scripts/soak.sh`).

use super::load::Tally;
use stampvm::host::{AcceptedTip, VmClient};
use stampvm::metrics::{LABEL_PART, ROCKSDB_MEMORY_BYTES};
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
        let rocksdb = rocksdb_memory(&client).await.unwrap_or_default();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "[{:>4.0}s] proposals accepted {accepted} (+{}), refused {refused}, errors {errors}; \
             blocks finalized {blocks} (+{}); plugin RSS {rss}{rocksdb}",
            started.elapsed().as_secs_f64(),
            accepted - last_accepted,
            blocks - last_blocks,
        );
        let _ = out.flush();
        (last_accepted, last_blocks) = (accepted, blocks);
    }
}

/// `; RocksDB memtables X MiB, block cache Y MiB` from the plugin's `Gather`, or `None` when it
/// has no such gauges (another plugin) or the call fails.
async fn rocksdb_memory(client: &VmClient) -> Option<String> {
    let gathered = client.gather().await.ok()?;
    let family = gathered
        .metric_families
        .iter()
        .find(|family| family.name.as_deref() == Some(ROCKSDB_MEMORY_BYTES))?;
    let part = |wanted: &str| {
        family.metric.iter().find_map(|metric| {
            let labelled = metric.label.iter().any(|label| {
                label.name.as_deref() == Some(LABEL_PART) && label.value.as_deref() == Some(wanted)
            });
            let bytes = metric.gauge.as_ref()?.value?;
            labelled.then_some(bytes / (1024.0 * 1024.0))
        })
    };
    Some(format!(
        "; RocksDB memtables {:.1} MiB, block cache {:.1} MiB",
        part("memtables")?,
        part("block_cache")?
    ))
}
