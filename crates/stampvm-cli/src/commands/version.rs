//! `stampvm version` and `stampvm --version`: the RPCChainVM number this binary announces, in the
//! shapes tools read. AvalancheGo's `--version` line carries `rpcchainvm=N` and its
//! `--version-json` an object whose `rpcchainvm` is a number (node-behaviour.md section 3);
//! tmpnet runs a VM binary with the chain's `VersionArgs`, skips what precedes the first `{` and
//! refuses to start a network unless that number equals the node's (README, "Local networks").

use rpcchainvm::profile_choice;
use rpcchainvm::protocol;
use std::sync::LazyLock;

/// How the plugin's number is pinned: the top-level flags of plugin mode, also taken by `version`
/// so that it reports what the same arguments would announce.
#[derive(clap::Args, Clone, Copy, Default)]
pub struct ProtocolArgs {
    /// Announce this RPCChainVM protocol number instead of asking the node (plugin mode: for a
    /// wrapper script installed as the plugin; see README, "Protocol versions").
    #[arg(long, value_name = "N")]
    pub rpcchainvm_protocol: Option<u32>,
    /// When the node is an AvalancheGo newer than this build, announce its number and speak the
    /// newest wire this build knows instead of refusing (one WARN line says so). Same as
    /// GRPC_STAMPVM_FOLLOW_NEWER=1. Never applies to numbers below the oldest supported, to 32,
    /// or to luxd.
    #[arg(long)]
    pub follow_newer_protocol: bool,
}

#[derive(clap::Args)]
pub struct VersionArgs {
    /// One JSON object shaped like AvalancheGo's --version-json: {"application", "rpcchainvm"
    /// (the number announced), "wire", "supported", "luxd", "version"}. Name
    /// ["version", "--json"] as a tmpnet chain's VersionArgs.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    protocol: ProtocolArgs,
}

/// `--version`'s text after the name: `0.1.0 [rpcchainvm=46] (speaks …)`, so `rpcchainvm=N` is
/// found as in a node's line. `stampvm version` prints the same line for the number it reports.
pub fn line() -> &'static str {
    static LINE: LazyLock<String> = LazyLock::new(|| text(&protocol::Profile::latest()));
    &LINE
}

fn text(profile: &protocol::Profile) -> String {
    let followed = match profile.follows_newer() {
        true => format!(", followed with the wire of {}", profile.wire()),
        false => String::new(),
    };
    let luxd: Vec<String> = luxd_numbers().iter().map(u32::to_string).collect();
    format!(
        "{} [rpcchainvm={}{followed}] (speaks RPCChainVM {}; luxd {})",
        stampvm::VERSION,
        profile.announced(),
        protocol::supported_text(),
        luxd.join(", ")
    )
}

/// The luxd numbers this build speaks (their wire profiles are supported).
fn luxd_numbers() -> Vec<u32> {
    protocol::LUXD_ANNOUNCED
        .iter()
        .copied()
        .filter(|&n| protocol::Profile::new(n, protocol::HostFlavour::Luxd).is_ok())
        .collect()
}

/// The JSON form; field order as AvalancheGo prints its own.
#[derive(serde::Serialize)]
struct VersionJson {
    application: String,
    rpcchainvm: u32,
    wire: u32,
    supported: &'static [u32],
    luxd: Vec<u32>,
    version: &'static str,
}

pub fn run(args: VersionArgs) -> anyhow::Result<std::process::ExitCode> {
    let profile = profile_choice::choose_without_node(
        args.protocol.rpcchainvm_protocol,
        args.protocol.follow_newer_protocol,
    )?;
    if args.json {
        let json = VersionJson {
            application: format!("stampvm/{}", stampvm::VERSION),
            rpcchainvm: profile.announced(),
            wire: profile.wire(),
            supported: protocol::SUPPORTED,
            luxd: luxd_numbers(),
            version: stampvm::VERSION,
        };
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        println!("stampvm {}", text(&profile));
    }
    Ok(std::process::ExitCode::SUCCESS)
}
