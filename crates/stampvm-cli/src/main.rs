//! The `stampvm` binary. With the node's engine-address variable set it is a plugin; otherwise a
//! command-line tool (`dev`, `bench`, `verify-proof`, `genesis`, `vm-id`, `version`). This file is
//! the command line and the dispatch; each command lives in `commands/`. anyhow lives here and in
//! the commands, command-line code all; never in the library.

mod allocator;
mod commands;
mod error_text;

use anyhow::bail;
use clap::{Parser, Subcommand};
use rpcchainvm::protocol::HostFlavour;

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
#[command(name = "stampvm", version = commands::version::line(), about = ABOUT, long_about = None, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(flatten)]
    protocol: commands::version::ProtocolArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a local single-node chain: this binary is launched as a plugin through the real
    /// handshake and driven as a one-validator node of the chosen protocol would drive it.
    Dev(commands::dev::DevArgs),
    /// Benchmark a plugin: start a chain as `dev` does, propose unique payloads through the HTTP
    /// API from N concurrent clients for a fixed time, report throughput, block cycle and memory.
    Bench(commands::bench::BenchArgs),
    /// Check a proof from `timestampvm.getProof`: its audit path always, and on request that it
    /// names a trusted block ID or matches a node's block. Exit 0 valid, 1 invalid (the failed
    /// check is printed), 2 could not check.
    VerifyProof(commands::verify_proof::VerifyProofArgs),
    /// Write a chain's genesis file (exactly the bytes given, no newline) for either chain format,
    /// and print the genesis block ID every node derives from it; --inspect reads one instead.
    Genesis(commands::genesis::GenesisArgs),
    /// Print the VM ID for a VM name (the name's bytes zero-padded to 32, in CB58).
    VmId(commands::vm_id::VmIdArgs),
    /// Print the RPCChainVM protocol number this binary announces (the newest it speaks, or the
    /// one --rpcchainvm-protocol / GRPC_STAMPVM_PROTOCOL pins) and every number it speaks.
    Version(commands::version::VersionArgs),
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
        (None, Some((addr, flavour))) => commands::plugin::run(&addr, flavour, cli.protocol),
        (None, None) => {
            eprintln!("{ABOUT}\n\nRun `stampvm --help` for the options.");
            Ok(std::process::ExitCode::from(2))
        }
        (Some(Command::VmId(args)), _) => commands::vm_id::run(args),
        (Some(Command::Version(args)), _) => commands::version::run(args),
        (Some(Command::Genesis(args)), _) => commands::genesis::run(args),
        (Some(Command::VerifyProof(args)), _) => Ok(commands::verify_proof::run(args)),
        (Some(Command::Bench(args)), _) => commands::bench::run(args),
        (Some(Command::Dev(args)), _) => commands::dev::run(args),
    }
}
