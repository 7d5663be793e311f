//! The `stampvm` binary. With the node's engine-address variable set it is a plugin; otherwise a
//! command-line tool (`dev`, `bench`, `verify-proof`, `vm-id`, `version`). anyhow lives here and
//! in `verify_proof`, command-line code both; never in the library.

mod allocator;
mod bench;
mod dev;
mod error_text;
mod genesis_cmd;
mod verify_proof;
mod version;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use rpcchainvm::profile_choice;
use rpcchainvm::protocol::{self, HostFlavour};
use stampvm::chain::Id;
use stampvm::config::ChainConfig;
use std::path::PathBuf;

const ABOUT: &str = "\
stampvm: a timestamp-server virtual machine for Avalanche L1s (subnets).

Each block proves that 32-byte payloads (document hashes) existed at its time: one per block, or
thousands on a batched chain, each with a small proof anyone can check offline.
The binary is an rpcchainvm plugin: copy it into AvalancheGo's plugin directory, named by the VM ID
(`stampvm vm-id stampvm`), and the node launches it for every chain of that VM. It then speaks
gRPC with the node; you don't run it by hand in that role.

By hand:
  stampvm dev                 run a local single-node chain (no AvalancheGo needed), JSON-RPC on
                              http://127.0.0.1:9650/ext/bc/<chainID>/rpc
  stampvm dev --protocol N    the same, played as the node of protocol N (--luxd: luxd's)
  stampvm dev --genesis '{\"format\":\"batched\"}'   the same, a batched chain (README)
  stampvm bench               load a local chain through its HTTP API, report throughput,
                              block cycle and plugin RSS (any plugin: --plugin)
  stampvm verify-proof --proof FILE [--block-id ID] [--rpc URL]
                              check a getProof proof; exit 0 valid, 1 invalid, 2 error
  stampvm genesis --data TEXT [--batched] --out FILE
                              write a genesis file (exact bytes) and print its genesis block ID
  stampvm vm-id NAME          print the VM ID (CB58) for a VM name, e.g. `stampvm vm-id stampvm`
  stampvm version [--json]    the RPCChainVM protocol announced, and those spoken (--json: tmpnet)";

#[derive(Parser)]
#[command(name = "stampvm", version = version::line(), about = ABOUT, long_about = None, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(flatten)]
    protocol: version::ProtocolArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a local single-node chain: this binary is launched as a plugin through the real
    /// handshake and driven as a one-validator node of the chosen protocol would drive it.
    Dev(DevArgs),
    /// Benchmark a plugin: start a chain as `dev` does, propose unique payloads through the HTTP
    /// API from N concurrent clients for a fixed time, report throughput, block cycle and memory.
    Bench(bench::BenchArgs),
    /// Check a proof from `timestampvm.getProof`: its audit path always, and on request that it
    /// names a trusted block ID or matches a node's block. Exit 0 valid, 1 invalid (the failed
    /// check is printed), 2 could not check.
    VerifyProof(verify_proof::VerifyProofArgs),
    /// Write a chain's genesis file (exactly the bytes given, no newline) for either chain format,
    /// and print the genesis block ID every node derives from it; --inspect reads one instead.
    Genesis(genesis_cmd::GenesisArgs),
    /// Print the VM ID for a VM name (the name's bytes zero-padded to 32, in CB58).
    VmId {
        /// At most 32 bytes.
        name: String,
    },
    /// Print the RPCChainVM protocol number this binary announces (the newest it speaks, or the
    /// one --rpcchainvm-protocol / GRPC_STAMPVM_PROTOCOL pins) and every number it speaks.
    Version(version::VersionArgs),
}

#[derive(clap::Args)]
struct DevArgs {
    /// Directory for the chain's data; reused (and resumed) on the next start. One `stampvm
    /// dev` at a time uses it (it is locked).
    #[arg(long, default_value = "stampvm-dev")]
    data_dir: PathBuf,
    /// Address of the HTTP API (the node's usual port): HOST:PORT, the host an IP address or a
    /// name such as localhost.
    #[arg(long, default_value = "127.0.0.1:9650", value_parser = listen_address)]
    http: std::net::SocketAddr,
    /// Genesis of the chain: data of at most 32 bytes (a TimestampVM chain), or a batched chain's
    /// JSON, e.g. '{"format":"batched","data":"docs","maxBatch":4096}' (README, "Batched
    /// chains"). A different genesis is a different chain.
    #[arg(long, default_value = "stampvm dev chain")]
    genesis: String,
    /// Chain config JSON passed to the plugin as the node would (see README); its `log-format`
    /// and `log-level` set this command's own log too.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where the plugin serves Prometheus metrics (`GET /metrics`); a `metrics-addr` in the
    /// chain config wins. A taken port is warned about, and the chain runs without them.
    #[arg(long, default_value = "127.0.0.1:9100", value_parser = listen_address)]
    metrics: std::net::SocketAddr,
    /// Serve no Prometheus endpoint.
    #[arg(long, conflicts_with = "metrics")]
    no_metrics: bool,
    /// Play the node of this RPCChainVM protocol number, with its message layouts, call order,
    /// block-building trigger and HTTP rules; the plugin is launched with
    /// GRPC_STAMPVM_PROTOCOL=N so it speaks the same. Default: the newest supported
    /// (`stampvm version` lists them).
    #[arg(long, value_name = "N")]
    protocol: Option<u32>,
    /// Play luxd (Lux's node) rather than AvalancheGo: the engine address goes in
    /// LUX_VM_RUNTIME_ENGINE_ADDR and --protocol is the number luxd announces (30, 35 or 43;
    /// luxd's 43 speaks profile 35).
    #[arg(long, requires = "protocol")]
    luxd: bool,
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            stampvm::logging::print_error(&error_text::chain(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The engine address and host flavour, if the node launched us.
fn engine_address() -> Option<(String, HostFlavour)> {
    [HostFlavour::AvalancheGo, HostFlavour::Luxd]
        .into_iter()
        .find_map(|flavour| {
            std::env::var(flavour.engine_addr_var())
                .ok()
                .filter(|v| !v.is_empty())
                .map(|addr| (addr, flavour))
        })
}

fn run() -> anyhow::Result<std::process::ExitCode> {
    if std::env::var("LUX_VM_TRANSPORT").is_ok_and(|t| t.eq_ignore_ascii_case("zap")) {
        bail!("luxd asked for its ZAP transport (LUX_VM_TRANSPORT=zap); stampvm speaks only the gRPC rpcchainvm protocol. Use a luxd built with gRPC plugins.");
    }
    let cli = Cli::parse();
    match (cli.command, engine_address()) {
        (None, Some((addr, flavour))) => {
            // Logs go to stderr, which the node copies into the chain's log: no colour.
            stampvm::logging::init(false);
            // Before the handshake: the node gives no second try (README, "Protocol versions").
            let profile = profile_choice::choose(
                cli.protocol.rpcchainvm_protocol,
                cli.protocol.follow_newer_protocol,
                flavour,
            )?;
            allocator::publish_stats();
            runtime()?.block_on(stampvm::plugin::run(&addr, profile))?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        (None, None) => {
            eprintln!("{ABOUT}\n\nRun `stampvm --help` for the options.");
            Ok(std::process::ExitCode::from(2))
        }
        (Some(Command::VmId { name }), _) => {
            let id = Id::from_name(&name)
                .with_context(|| format!("VM name {name:?} is longer than 32 bytes"))?;
            println!("{id}");
            Ok(std::process::ExitCode::SUCCESS)
        }
        (Some(Command::Version(args)), _) => version::run(args),
        (Some(Command::Genesis(args)), _) => genesis_cmd::run(args),
        (Some(Command::VerifyProof(args)), _) => Ok(verify_proof::run(args)),
        (Some(Command::Bench(args)), _) => {
            bench::init_logging();
            let this = std::env::current_exe().context("locating this binary")?;
            let options = args.into_options(this)?;
            runtime()?.block_on(bench::run(options))?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        (Some(Command::Dev(args)), _) => {
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
            stampvm::logging::init_as(terminal_stderr(), log_format);
            stampvm::logging::apply(chain_config.log_level, Some(log_format));
            let flavour = match args.luxd {
                true => HostFlavour::Luxd,
                false => HostFlavour::AvalancheGo,
            };
            let number = args.protocol.unwrap_or(protocol::LATEST);
            let profile = protocol::Profile::new(number, flavour).context("--protocol")?;
            let options = crate::dev::DevOptions {
                data_dir: args.data_dir,
                http_addr: args.http,
                genesis: args.genesis.into_bytes(),
                config,
                metrics_addr: (!args.no_metrics).then_some(args.metrics),
                plugin: std::env::current_exe().context("locating this binary")?,
                profile,
                log_format: Some(log_format),
            };
            runtime()?.block_on(crate::dev::run(options))?;
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

/// A listening address as people write it: `127.0.0.1:9650`, `[::1]:9650` or `localhost:9650`.
/// A name is resolved once, here; of its addresses the first IPv4 one is taken (`localhost` is
/// often `::1` first, which IPv4-only clients such as many curl setups would not reach).
fn listen_address(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(address) = text.parse() {
        return Ok(address);
    }
    let addresses: Vec<std::net::SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("{text:?} is not HOST:PORT with a host that resolves ({e})"))?
        .collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| format!("{text:?} resolves to no address"))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Colour for a person at a terminal.
fn terminal_stderr() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr())
}

#[cfg(test)]
mod tests {
    use super::listen_address;

    #[test]
    fn listen_addresses_take_names_and_literals() {
        assert_eq!(
            listen_address("localhost:9650").unwrap(),
            "127.0.0.1:9650".parse().unwrap()
        );
        assert_eq!(
            listen_address("[::1]:9100").unwrap(),
            "[::1]:9100".parse().unwrap()
        );
        for bad in ["localhost", "9650", "no-such-host.invalid:9650", ":"] {
            let error = listen_address(bad).unwrap_err();
            assert!(error.contains(bad), "{bad}: {error}");
        }
    }
}
