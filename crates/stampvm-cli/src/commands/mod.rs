//! The binary's commands, one module each: `plugin` (what the node launches), `dev`, `bench`,
//! `verify_proof`, `genesis`, `vm_id` and `version`; and what several of them share.

pub(crate) mod bench;
pub(crate) mod dev;
pub(crate) mod genesis;
pub(crate) mod plugin;
pub(crate) mod verify_proof;
pub(crate) mod version;
pub(crate) mod vm_id;

use anyhow::Context;

/// The async runtime a command runs on.
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
