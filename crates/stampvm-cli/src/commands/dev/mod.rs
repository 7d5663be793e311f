//! `stampvm dev`: a single-node local chain with no AvalancheGo installed. The host side
//! ([`rpcchainvm_host`]) plays the node of one profile (the newest AvalancheGo unless told
//! otherwise): it launches this very binary as a plugin through the real handshake, telling it to
//! speak that profile, starts a chain in that node's order, drives it as a one-validator node
//! would (wait for the profile's build trigger, build, verify, prefer, accept) and serves the
//! node's HTTP paths on a local port, including the static API (`/ext/vm/<vmID>`) up to 30.
//!
//! `stampvm dev` runs until Ctrl-C or SIGTERM, or until the chain cannot go on: its plugin exited
//! (a crash, the OOM killer, a stray `kill`), or the engine stopped the chain as the node does
//! after a failed BlockAccept. Then it stops what is left and fails, naming the cause, rather
//! than serving a chain that answers every call with an error or never finalises again.
//!
//! # Layout
//! - `args`: the flags ([`DevArgs`]) and the listening addresses they take.
//! - `node`: [`DevNode`], the running chain (also `stampvm bench`'s), and its data directory lock.
//! - `config`: the chain config handed to the plugin, and the metrics address dropped when taken.
//! - `banner`: what a person reads on stdout once the chain is up.
//! - `error`: [`DevError`], with the hint for a taken HTTP port.

mod args;
mod banner;
mod config;
mod error;
mod node;

pub(crate) use args::DevArgs;
pub(crate) use error::DevError;
pub(crate) use node::{DevNode, DevOptions, NodeExtras};

use anyhow::Context;
use banner::{print_banner, Banner};
use rpcchainvm::protocol::{self, HostFlavour};
use stampvm::config::ChainConfig;

/// `stampvm dev`: sets up its log from the chain config, then runs the chain until stopped.
pub(crate) fn run(args: DevArgs) -> anyhow::Result<std::process::ExitCode> {
    // Read before the first log line: its `log-format` is the format of every line on
    // our stderr, the plugin's included (the plugin would refuse a bad config anyway).
    let (config, chain_config) = match &args.config {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("reading chain config {}", path.display()))?;
            let parsed = ChainConfig::from_bytes(&bytes)
                .with_context(|| format!("--config {}", path.display()))?;
            (bytes, parsed)
        }
        None => (Vec::new(), ChainConfig::default()),
    };
    let log_format = chain_config
        .log_format
        .unwrap_or_else(stampvm::logging::format_from_env);
    stampvm::logging::init_as(super::terminal_stderr(), log_format);
    stampvm::logging::apply(chain_config.log_level, Some(log_format));
    let flavour = match args.luxd {
        true => HostFlavour::Luxd,
        false => HostFlavour::AvalancheGo,
    };
    let number = args.protocol.unwrap_or(protocol::LATEST);
    let profile = protocol::Profile::new(number, flavour).context("--protocol")?;
    let options = DevOptions {
        data_dir: args.data_dir,
        http_addr: args.http,
        genesis: args.genesis.into_bytes(),
        config,
        metrics_addr: (!args.no_metrics).then_some(args.metrics),
        plugin: std::env::current_exe().context("locating this binary")?,
        profile,
        log_format: Some(log_format),
    };
    super::runtime()?.block_on(serve(options))?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Runs the dev chain until Ctrl-C or SIGTERM, then stops the plugin the node's way.
async fn serve(options: DevOptions) -> Result<(), DevError> {
    let node = DevNode::start(&options, NodeExtras::default()).await?;
    // Listen for Ctrl-C/SIGTERM before announcing readiness: a signal sent the moment the banner
    // appears must stop the chain cleanly, not kill the process.
    let stop_signal = stop_signals()?;
    print_banner(&Banner {
        http: node.http_addr(),
        chain_id: node.chain_id(),
        chain_dir: node.chain_dir(),
        height: node.start_height(),
        profile: node.profile(),
        static_vm: node.static_vm(),
        format: node.format(),
        metrics: node.metrics_addr(),
        command: &options.plugin,
    });
    let failure = tokio::select! {
        signalled = stop_signal => {
            signalled?;
            None
        }
        failure = node.failed() => Some(failure),
    };
    let Some(failure) = failure else {
        return node.stop().await;
    };
    tracing::error!(error = %failure, "the dev chain cannot go on; stopping");
    if let Err(error) = node.stop().await {
        tracing::warn!(%error, "stopping the rest of the dev node");
    }
    Err(failure)
}

/// Installs the SIGINT and SIGTERM handlers now; the returned future resolves on either.
fn stop_signals() -> Result<impl std::future::Future<Output = Result<(), DevError>>, DevError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).map_err(DevError::Signal)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(DevError::Signal)?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        Ok(())
    })
}
