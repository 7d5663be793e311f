//! `stampvm bench`: load one rpcchainvm plugin through the node's HTTP API and say how it held
//! up. The chain is started and driven exactly as `stampvm dev` does ([`super::dev::DevNode`]:
//! the real handshake, the chosen profile's call order and build trigger, the one-validator
//! engine); then N clients propose unique payloads over keep-alive loopback HTTP for a fixed
//! time, and the run reports proposals/s, payloads finalized/s, the engine's block cycle and the
//! plugin's memory and CPU. It drives any plugin that speaks one of the two JSON-RPC dialects in
//! [`api`] — stampvm, or timestampvm-rs 0.0.18 for the side-by-side comparison
//! (`scripts/compare-timestampvm.sh`).
//!
//! # Layout
//! - [`cli`]: the flags ([`BenchArgs`]).
//! - [`api`]: the dialects: genesis, request body, reply.
//! - `load`: the clients and the shared tally.
//! - `progress`: the once-a-second line.
//! - [`stats`]: percentiles and the [`Figures`] printed at the end.
//! - `procfs`: the plugin's RSS and CPU time from `/proc`.
//! - `data_dir`: the chain's (temporary) data directory.

pub mod api;
pub mod cli;
mod data_dir;
mod load;
mod procfs;
mod progress;
pub mod stats;

pub use api::ApiKind;
pub use cli::BenchArgs;
pub use stats::Figures;

use super::dev::{DevError, DevNode, DevOptions, NodeExtras};
use anyhow::Context;
use data_dir::DataDir;
use rpcchainvm::protocol::{Profile, UnsupportedProtocol};
use stats::{rate, Spread};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// On top of `--duration`: chain start (5 s handshakes, a Version probe up to 30) and the node's
/// stop (5 s grace per process) fit well within this.
const SETUP_BUDGET: Duration = Duration::from_secs(90);

/// What one run does.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub plugin: PathBuf,
    pub api: ApiKind,
    /// The node the host plays; the plugin is told it too (`GRPC_STAMPVM_PROTOCOL`, as in dev).
    pub profile: Profile,
    pub clients: usize,
    /// How long the clients propose.
    pub duration: Duration,
    /// `None`: a temporary directory, removed afterwards.
    pub data_dir: Option<PathBuf>,
    /// The chain config bytes.
    pub config: Vec<u8>,
    /// Print the figures as JSON too.
    pub json: bool,
    /// Payloads per `proposeBatch` request on a batched stampvm chain; `None`: a TimestampVM
    /// chain and one `proposeBlock` per payload.
    pub batch: Option<usize>,
    /// `timestampvm.getProof` calls timed after the load (stampvm's API only; 0: none).
    pub proofs: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("--protocol: {0}")]
    Protocol(#[from] UnsupportedProtocol),
    #[error("reading chain config {path}: {source}")]
    Config {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("creating the data directory: {0}")]
    DataDir(std::io::Error),
    #[error("starting or stopping the chain: {0}")]
    Node(#[from] DevError),
    #[error("the run took longer than its hard cap of {0:?}; the plugin was killed")]
    HardCap(Duration),
    #[error("--batch needs a stampvm plugin (proposeBatch and batched chains are stampvm's)")]
    BatchNeedsStampvm,
    #[error("counting the payloads of the accepted blocks: {0}")]
    Count(String),
}

/// Host-side logs on stderr: warnings only unless RUST_LOG says otherwise (the engine logs every
/// block at info, which would drown the progress lines at hundreds of blocks per second).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// `stampvm bench`: host-side logs at warn, the options from the flags, then the run.
pub(crate) fn run(args: BenchArgs) -> anyhow::Result<std::process::ExitCode> {
    init_logging();
    let this = std::env::current_exe().context("locating this binary")?;
    let options = args.into_options(this)?;
    super::runtime()?.block_on(bench(options))?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Runs the bench, printing progress and the figures on stdout; bounded by `--duration` plus
/// [`SETUP_BUDGET`], after which everything is dropped (the plugin is SIGKILLed on drop).
pub async fn bench(options: BenchOptions) -> Result<Figures, BenchError> {
    let cap = options.duration + SETUP_BUDGET;
    let figures = tokio::time::timeout(cap, measure(&options))
        .await
        .map_err(|_| BenchError::HardCap(cap))??;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", figures.human());
    if options.json {
        let _ = writeln!(out, "{}", figures.json());
    }
    let _ = out.flush();
    Ok(figures)
}

/// Start the chain, load it, read the figures, stop it.
async fn measure(options: &BenchOptions) -> Result<Figures, BenchError> {
    // Declared first, dropped last: the directory goes only after the plugin is stopped.
    let data_dir = DataDir::new(options.data_dir.clone()).map_err(BenchError::DataDir)?;
    let dev = DevOptions {
        data_dir: data_dir.path().to_path_buf(),
        http_addr: ([127, 0, 0, 1], 0).into(),
        genesis: options.api.genesis(options.batch.is_some()),
        config: options.config.clone(),
        metrics_addr: None,
        plugin: options.plugin.clone(),
        profile: options.profile,
        log_format: None,
    };
    let (cycle_times, mut cycles) = mpsc::unbounded_channel();
    let extras = NodeExtras {
        node_database: true,
        cycle_times: Some(cycle_times),
    };
    let node = DevNode::start(&dev, extras).await?;
    let pid = node.plugin_pid();
    println!(
        "bench: {} chain {} up at http://{}{} (plugin pid {pid}); {} clients for {} s",
        options.api.name(),
        node.chain_id(),
        node.http_addr(),
        node.rpc_path(),
        options.clients,
        options.duration.as_secs(),
    );
    let rss_start = procfs::rss_kib(pid);
    let cpu_start = procfs::cpu_seconds(pid);
    let host_cpu_start = procfs::cpu_seconds(std::process::id());
    // Rounds before the load (none expected) are not the load's.
    while cycles.try_recv().is_ok() {}
    let tip_before = node.engine().tip();
    let counters_before = node.counters();

    let started = Instant::now();
    let plan = Arc::new(load::Plan {
        api: options.api,
        addr: node.http_addr(),
        path: node.rpc_path(),
        clients: options.clients,
        deadline: started + options.duration,
        nonce: nonce(),
        batch: options.batch,
    });
    let tally = Arc::new(load::Tally::default());
    let progress = tokio::spawn(progress::report(
        tally.clone(),
        node.engine().subscribe(),
        tip_before.accepted,
        pid,
        node.vm_client().clone(),
    ));
    let latencies = load::run(plan.clone(), tally.clone()).await;
    let window = started.elapsed();
    progress.abort();

    let tip_after = node.engine().tip();
    let blocks = tip_after.accepted - tip_before.accepted;
    let counters = node.counters();
    let rss_end = procfs::rss_kib(pid);
    let cpu_end = procfs::cpu_seconds(pid);
    let host_cpu_end = procfs::cpu_seconds(std::process::id());
    let mut cycle_sample = Vec::new();
    while let Ok(cycle) = cycles.try_recv() {
        cycle_sample.push(cycle);
    }
    if let Some(error) = tally.first_error() {
        eprintln!("bench: first failed proposal: {error}");
    }
    // One payload per block, but on a batched chain: ask the chain what its blocks hold.
    let payloads = match options.batch {
        None => blocks,
        Some(_) => load::payloads_in_blocks(&plan, tip_before.height + 1..=tip_after.height)
            .await
            .map_err(BenchError::Count)?,
    };
    // Proofs of payloads that are in blocks by now: the mempool is first in, first out, so
    // roughly the first ones the API took, as many as were finalized.
    let requests_in_blocks = payloads / options.batch.unwrap_or(1) as u64;
    let (proof_times, unproven) = match options.proofs {
        0 => (Vec::new(), 0),
        count => load::proof_latencies(&plan, count, &tally.taken_first(requests_in_blocks))
            .await
            .map_err(BenchError::Count)?,
    };
    node.stop().await?;
    drop(data_dir);

    let accepted = tally.accepted.load(Ordering::Relaxed);
    let cycle = Spread::of(cycle_sample);
    let request = Spread::of(latencies);
    let proofs_timed = proof_times.len() as u64;
    let proof = Spread::of(proof_times);
    Ok(Figures {
        api: options.api.name(),
        plugin: options.plugin.display().to_string(),
        protocol: options.profile.announced(),
        clients: options.clients,
        window_s: window.as_secs_f64(),
        proposals_accepted: accepted,
        proposals_refused: tally.refused.load(Ordering::Relaxed),
        errors: tally.errors.load(Ordering::Relaxed),
        proposals_per_s: rate(accepted, window),
        batch: options.batch,
        blocks_finalized: blocks,
        payloads_finalized: payloads,
        payloads_finalized_per_s: rate(payloads, window),
        block_cycle_p50_ms: cycle.p50_ms,
        block_cycle_p99_ms: cycle.p99_ms,
        block_cycle_max_ms: cycle.max_ms,
        request_p50_ms: request.p50_ms,
        request_p99_ms: request.p99_ms,
        proofs_timed,
        proofs_missing: unproven,
        get_proof_p50_ms: proof.p50_ms,
        get_proof_p99_ms: proof.p99_ms,
        plugin_rss_start_kib: rss_start,
        plugin_rss_end_kib: rss_end,
        plugin_cpu_s: cpu_start.zip(cpu_end).map(|(a, b)| b - a),
        notifies: counters.notifies - counters_before.notifies,
        notifies_refused: counters.notifies_refused - counters_before.notifies_refused,
        host_cpu_s: host_cpu_start.zip(host_cpu_end).map(|(a, b)| b - a),
    })
}

/// A per-run number mixed into every payload: the clock's nanoseconds and our pid.
fn nonce() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ u64::from(std::process::id()) << 32
}
