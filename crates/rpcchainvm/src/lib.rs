//! rpcchainvm: write an Avalanche virtual machine in Rust and have AvalancheGo (protocols 28–46)
//! or luxd launch it as a plugin.
//!
//! The node starts the plugin binary with the address of its runtime server in the environment;
//! the plugin serves the `vm.VM` gRPC service on a loopback port, tells the node that port
//! ([`handshake`]), and from then on answers the node's calls. Which messages and fields exist
//! depends on the protocol number the node speaks: [`protocol::Profile`] is the one place that
//! knows, and [`profile_choice`] picks the profile before anything is served.
//!
//! # Layout
//! - [`protocol`]: the protocol numbers we speak and what each one implies ([`protocol::Profile`]
//!   and its named predicates), per node (AvalancheGo, luxd).
//! - [`profile_choice`]: which profile to serve: pinned, read from the node, or probed.
//! - [`pb`]: the node's protobuf interfaces, generated from `proto/` at build time.
//! - [`wire`]: the hand-written layouts of the messages whose fields moved between protocols.
//! - [`handshake`]: the one call that tells the node where the plugin serves.
//! - [`transport`]: gRPC channels and listeners with the node's limits.
//! - [`node_client`]: the plugin's clients of the node's services (app sender, messenger).
//! - [`ids`]: 32-byte IDs, node IDs, and their CB58 text form.
//! - [`shutdown`]: the one stop signal every long-running task watches.
//! - [`http_server`]: HTTP serving with connection limits and timeouts.
//! - [`utc`]: times as RFC 3339 UTC text, without a date crate.

pub mod block;
pub mod handshake;
pub mod http;
pub mod http_server;
pub mod ids;
pub mod node_client;
pub mod observe;
pub mod pb;
pub mod profile_choice;
pub mod protocol;
pub mod serve;
mod service;
pub mod shutdown;
pub mod tasks;
pub mod transport;
pub mod utc;
pub mod vm;
pub mod wire;

pub use block::{AncestorsLimits, BlockInfo, BlockStatus, Timestamp};
pub use http::{HttpHandler, SharedHandler};
pub use serve::{serve, ServeError, ServeOptions};
pub use vm::{InitParams, Vm, VmError};
