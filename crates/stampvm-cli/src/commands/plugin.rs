//! Plugin mode: the node launched this binary (its engine-address variable is set). Chooses the
//! protocol to speak before the handshake, then serves the chain until the node stops it.

use rpcchainvm::profile_choice;
use rpcchainvm::protocol::HostFlavour;

/// Serves `vm.VM` to the node at `addr` (the engine address) as `flavour`'s plugin.
pub(crate) fn run(
    addr: &str,
    flavour: HostFlavour,
    protocol: super::version::ProtocolArgs,
) -> anyhow::Result<std::process::ExitCode> {
    // Logs go to stderr, which the node copies into the chain's log: no colour.
    stampvm::logging::init(false);
    // Before the handshake: the node gives no second try (README, "Protocol versions").
    let profile = profile_choice::choose(
        protocol.rpcchainvm_protocol,
        protocol.follow_newer_protocol,
        flavour,
    )?;
    crate::allocator::publish_stats();
    super::runtime()?.block_on(stampvm::plugin::run(addr, profile))?;
    Ok(std::process::ExitCode::SUCCESS)
}
