//! `stampvm bench`'s command line, turned into [`BenchOptions`].

use super::api::ApiKind;
use super::{BenchError, BenchOptions};
use rpcchainvm::protocol::{HostFlavour, Profile, LATEST};
use std::path::PathBuf;
use std::time::Duration;

/// The flags; `--help` shows each doc comment.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  stampvm bench                                   stampvm itself, newest protocol, 32 clients, 10 s
  stampvm bench --protocol 28                     the same under AvalancheGo v1.10.9's node
  stampvm bench --batch 1024 --clients 4          a batched chain, 1024 payloads per proposeBatch
  stampvm bench --plugin target/foreign/bin/timestampvm --protocol 28
                                                  timestampvm-rs 0.0.18 (scripts/install-foreign-plugin.sh)

Output: a progress line per second, then proposals/s (replies with Success true), payloads/s
finalized (payloads in blocks the engine accepted; one per block on TimestampVM chains), block cycle
p50/p99/max (BuildBlock sent -> BlockAccept answered), proposeBlock latency as the clients saw it,
the plugin's Messenger.Notify calls (its build trigger up to 41), the plugin process's RSS at start
and end, and the CPU time of the plugin and of this process (the host and the clients share the
machine with the plugin). With --json the last line is the same figures as one JSON object.
Plugin logs go to stderr.")]
pub struct BenchArgs {
    /// The rpcchainvm plugin binary to benchmark. Default: this stampvm binary.
    #[arg(long, value_name = "PATH")]
    plugin: Option<PathBuf>,
    /// The plugin's JSON-RPC dialect. stampvm: `params: {"data": "0x<hex+checksum>"}`, reply
    /// `Success` (also Go TimestampVM's). timestampvm-rs: `params: [{"data": "<base64>"}]`,
    /// reply `success`, JSON genesis. Default: timestampvm-rs when the plugin's file name starts
    /// with `timestampvm`, else stampvm.
    #[arg(long, value_enum, value_name = "DIALECT")]
    api: Option<ApiKind>,
    /// Play the node of this RPCChainVM protocol number (handshake, call order, block-building
    /// trigger: Messenger.Notify up to 41, WaitForEvent from 42). Default: the newest. The plugin
    /// must speak it: timestampvm-rs 0.0.18 speaks only 28.
    #[arg(long, value_name = "N")]
    protocol: Option<u32>,
    /// Concurrent clients, each on its own keep-alive HTTP/1.1 connection, one request in flight.
    #[arg(long, value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u16).range(1..=4096))]
    clients: u16,
    /// How long the clients propose, in seconds. The whole run, chain start and stop included,
    /// is capped at this plus 90 s.
    #[arg(long, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    duration: u64,
    /// Keep the chain's data here (it is kept afterwards). Default: a fresh temporary directory,
    /// removed at the end.
    #[arg(long, value_name = "PATH")]
    data_dir: Option<PathBuf>,
    /// Chain config JSON handed to the plugin, as `stampvm dev --config`. Default for stampvm:
    /// {"mempool-capacity": 1000000}, so its default 4096-payload back-pressure does not cap
    /// proposals (timestampvm-rs's mempool is unbounded); none for timestampvm-rs.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Also print the figures as one JSON object, on the last line of stdout.
    #[arg(long)]
    json: bool,
    /// Bench a batched chain (genesis {"format":"batched"}, 4096 payloads per block at most):
    /// each request is one `timestampvm.proposeBatch` of N payloads. stampvm only.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    batch: Option<u32>,
    /// After the load, time this many `timestampvm.getProof` calls (payloads the API took early
    /// enough to be in blocks, one request at a time, 10 s at most). stampvm only; 0 for none.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    proofs: u64,
}

impl BenchArgs {
    /// The options; `this_binary` is the default plugin.
    pub fn into_options(self, this_binary: PathBuf) -> Result<BenchOptions, BenchError> {
        let plugin = self.plugin.unwrap_or(this_binary);
        let api = self.api.unwrap_or_else(|| ApiKind::detect(&plugin));
        if self.batch.is_some() && api != ApiKind::Stampvm {
            return Err(BenchError::BatchNeedsStampvm);
        }
        let number = self.protocol.unwrap_or(LATEST);
        let profile = Profile::new(number, HostFlavour::AvalancheGo)?;
        let config = match &self.config {
            Some(path) => std::fs::read(path).map_err(|source| BenchError::Config {
                path: path.clone(),
                source,
            })?,
            None => api.default_config(),
        };
        Ok(BenchOptions {
            plugin,
            api,
            profile,
            clients: usize::from(self.clients),
            duration: Duration::from_secs(self.duration),
            data_dir: self.data_dir,
            config,
            json: self.json,
            batch: self.batch.map(|n| n as usize),
            // timestampvm-rs has no getProof.
            proofs: match api {
                ApiKind::Stampvm => self.proofs,
                ApiKind::TimestampvmRs => 0,
            },
        })
    }
}
