//! `stampvm vm-id NAME`: the VM ID the node derives from a VM's name, the name of the plugin file
//! in its plugin directory.

use anyhow::Context;
use stampvm::chain::Id;

#[derive(clap::Args)]
pub(crate) struct VmIdArgs {
    /// At most 32 bytes.
    name: String,
}

/// Prints the VM ID for the name (its bytes zero-padded to 32, in CB58).
pub(crate) fn run(args: VmIdArgs) -> anyhow::Result<std::process::ExitCode> {
    let name = args.name;
    let id = Id::from_name(&name)
        .with_context(|| format!("VM name {name:?} is longer than 32 bytes"))?;
    println!("{id}");
    Ok(std::process::ExitCode::SUCCESS)
}
