//! The figures a bench run ends with, how they are summarised (percentiles) and printed: a
//! human summary, and one JSON object for scripts (`scripts/compare-timestampvm.sh`).

use serde::Serialize;
use std::time::Duration;

/// Everything one run measured. Rates are per second of the load window (from the first request
/// until every client's last reply); field names are the JSON keys.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub api: &'static str,
    pub plugin: String,
    pub protocol: u32,
    pub clients: usize,
    pub window_s: f64,
    /// Replies `Success: true`.
    pub proposals_accepted: u64,
    /// Replies `Success: false` (mempool full or payload pending).
    pub proposals_refused: u64,
    /// JSON-RPC errors, HTTP failures and timeouts.
    pub errors: u64,
    pub proposals_per_s: f64,
    /// Payloads per proposeBatch request (batched stampvm chain), or none: one proposeBlock each.
    pub batch: Option<usize>,
    /// Blocks the engine accepted in the window.
    pub blocks_finalized: u64,
    /// The payloads those blocks carry: one each on a TimestampVM chain.
    pub payloads_finalized: u64,
    pub payloads_finalized_per_s: f64,
    /// One engine round: BuildBlock sent → BlockAccept answered.
    pub block_cycle_p50_ms: f64,
    pub block_cycle_p99_ms: f64,
    pub block_cycle_max_ms: f64,
    /// One proposeBlock as a client sees it (request written → reply read).
    pub request_p50_ms: f64,
    pub request_p99_ms: f64,
    /// `timestampvm.getProof` after the load: calls answered with a proof, calls without one
    /// (payloads refused or not yet in a block), and the proven calls' latency.
    pub proofs_timed: u64,
    pub proofs_missing: u64,
    pub get_proof_p50_ms: f64,
    pub get_proof_p99_ms: f64,
    pub plugin_rss_start_kib: Option<u64>,
    pub plugin_rss_end_kib: Option<u64>,
    /// The plugin's CPU time (user + system) during the window.
    pub plugin_cpu_s: Option<f64>,
    /// `Messenger.Notify` calls the plugin made in the window (its build trigger up to 41) that
    /// the node's one-message slot took / refused as already full; 0 and 0 from 42.
    pub notifies: u64,
    pub notifies_refused: u64,
    /// This process's (the node's side: gateway, engine, and the clients) in the same window:
    /// on a small machine the host competes with the plugin for the same cores.
    pub host_cpu_s: Option<f64>,
}

/// p50, p99 and max of a sample, in milliseconds (all 0 for an empty one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Spread {
    /// Nearest-rank percentiles: the value below which `p` of the sample lies, never
    /// interpolated, so a p99 is a time that really happened.
    pub fn of(mut sample: Vec<Duration>) -> Spread {
        sample.sort_unstable();
        let rank = |p: f64| -> f64 {
            if sample.is_empty() {
                return 0.0;
            }
            let index = ((p * sample.len() as f64).ceil() as usize).clamp(1, sample.len()) - 1;
            sample[index].as_secs_f64() * 1e3
        };
        Spread {
            p50_ms: rank(0.50),
            p99_ms: rank(0.99),
            max_ms: rank(1.0),
        }
    }
}

/// Per second of `window`, 0 for an empty window.
pub fn rate(count: u64, window: Duration) -> f64 {
    match window.as_secs_f64() {
        s if s > 0.0 => count as f64 / s,
        _ => 0.0,
    }
}

impl Figures {
    /// The summary a person reads.
    pub fn human(&self) -> String {
        let mib = |kib: Option<u64>| match kib {
            Some(kib) => format!("{:.1} MiB", kib as f64 / 1024.0),
            None => "unknown".into(),
        };
        let cpu = |seconds: Option<f64>| match seconds {
            Some(s) => format!(
                "{s:.2} s ({:.0}% of one core)",
                100.0 * s / self.window_s.max(f64::EPSILON)
            ),
            None => "unknown".into(),
        };
        format!(
            "stampvm bench: {api} plugin {plugin} at protocol {protocol}, {clients} clients, \
             {window:.1} s window\n\
             \x20 proposals accepted  {accepted} ({pps:.1}/s); refused {refused}; errors {errors}\n\
             \x20 payloads finalized  {payloads} ({fps:.1}/s) in {blocks} blocks ({shape})\n\
             \x20 block cycle         p50 {c50:.2} ms, p99 {c99:.2} ms, max {cmax:.2} ms\n\
             \x20 proposeBlock        p50 {r50:.2} ms, p99 {r99:.2} ms (client side)\n\
             \x20 getProof            p50 {g50:.2} ms, p99 {g99:.2} ms ({proofs} proofs; {missing} without one)\n\
             \x20 Messenger.Notify    {notifies} taken, {notifies_refused} refused (slot full)\n\
             \x20 plugin RSS          {rss0} at start, {rss1} at end\n\
             \x20 plugin CPU          {plugin_cpu}\n\
             \x20 host CPU            {host_cpu} (gateway, engine and clients)",
            api = self.api,
            plugin = self.plugin,
            protocol = self.protocol,
            clients = self.clients,
            window = self.window_s,
            accepted = self.proposals_accepted,
            pps = self.proposals_per_s,
            refused = self.proposals_refused,
            errors = self.errors,
            blocks = self.blocks_finalized,
            payloads = self.payloads_finalized,
            shape = match self.batch {
                None => "one payload per block, one per proposeBlock".to_string(),
                Some(n) => format!("batched chain, {n} payloads per proposeBatch"),
            },
            fps = self.payloads_finalized_per_s,
            c50 = self.block_cycle_p50_ms,
            c99 = self.block_cycle_p99_ms,
            cmax = self.block_cycle_max_ms,
            r50 = self.request_p50_ms,
            r99 = self.request_p99_ms,
            g50 = self.get_proof_p50_ms,
            g99 = self.get_proof_p99_ms,
            proofs = self.proofs_timed,
            missing = self.proofs_missing,
            notifies = self.notifies,
            notifies_refused = self.notifies_refused,
            rss0 = mib(self.plugin_rss_start_kib),
            rss1 = mib(self.plugin_rss_end_kib),
            plugin_cpu = cpu(self.plugin_cpu_s),
            host_cpu = cpu(self.host_cpu_s),
        )
    }

    /// One line of JSON.
    pub fn json(&self) -> String {
        serde_json::to_string(self).expect("plain numbers and strings serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|v| Duration::from_millis(*v)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let spread = Spread::of(ms(&(1..=100).rev().collect::<Vec<_>>()));
        assert_eq!(spread.p50_ms, 50.0);
        assert_eq!(spread.p99_ms, 99.0);
        assert_eq!(spread.max_ms, 100.0);
        let one = Spread::of(ms(&[7]));
        assert_eq!((one.p50_ms, one.p99_ms, one.max_ms), (7.0, 7.0, 7.0));
        assert_eq!(Spread::of(Vec::new()).max_ms, 0.0);
    }

    #[test]
    fn rates_survive_an_empty_window() {
        assert_eq!(rate(10, Duration::ZERO), 0.0);
        assert_eq!(rate(10, Duration::from_secs(2)), 5.0);
    }
}
