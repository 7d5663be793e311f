//! rpcchainvm: write an Avalanche virtual machine in Rust and have AvalancheGo (protocols 28–46)
//! or luxd launch it as a plugin.
//!
//! The node starts the plugin binary with the address of its runtime server in the environment;
//! the plugin serves the `vm.VM` gRPC service on a loopback port, tells the node that port
//! ([`handshake`]), and from then on answers the node's calls. Which messages and fields exist
//! depends on the protocol number the node speaks: [`protocol::Profile`] is the one place that
//! knows, and [`profile_choice`] picks the profile before anything is served.
//!
//! # Write a VM
//! Implement [`Vm`] with your own block format and state: `initialize` receives the node's
//! parameters ([`InitParams`]) and returns the last accepted block as a [`BlockInfo`]; the
//! block calls (`build_block`, `parse_block`, `verify_block`, `accept_block`, …) take and return
//! IDs, bytes and [`BlockInfo`]s; errors are [`VmError`]s, which the service answers with the
//! matching gRPC status. HTTP APIs are [`HttpHandler`]s, handed over as [`SharedHandler`]s from
//! `create_handlers`. Then, in `main`:
//!
//! ```no_run
//! # async fn run(my_vm: impl rpcchainvm::Vm) -> Result<(), Box<dyn std::error::Error>> {
//! let (engine_addr, flavour) = rpcchainvm::serve::engine_address().ok_or("not a plugin run")?;
//! let profile = rpcchainvm::profile_choice::choose(None, false, flavour)?;
//! let options = rpcchainvm::ServeOptions {
//!     engine_addr,
//!     profile,
//!     observer: None,
//!     version: "my_vm/0.1.0".into(),
//! };
//! rpcchainvm::serve(my_vm, options).await?;
//! # Ok(()) }
//! ```
//!
//! [`serve()`] handshakes, serves every RPC in the chosen profile's layouts, keeps the node's
//! signal policy and exits after Shutdown. `examples/counter_vm.rs` is a complete VM in a few
//! hundred lines; `rpcchainvm-host`'s `counter_vm` test drives it as a node would.
//!
//! # Layout
//! - [`vm`]: the [`Vm`] trait a VM implements, its parameters and [`VmError`].
//! - [`block`]: blocks as the node sees them ([`BlockInfo`], [`Timestamp`], [`BlockStatus`]).
//! - [`http`]: requests, replies and the [`HttpHandler`] trait of a VM's HTTP APIs.
//! - `service` (private): the `vm.VM` service over any [`Vm`] and the `http.HTTP` servers of its
//!   handlers, in the chosen profile's layouts.
//! - [`serve`](mod@serve): plugin mode end to end — bind, handshake, serve, signals, parent watch, exit.
//! - [`tasks`]: the tracker every long-running task is spawned through and awaited on stop.
//! - [`observe`]: each gRPC call reported to the VM's [`observe::CallObserver`] (metrics).
//! - [`protocol`]: the protocol numbers we speak and what each one implies ([`protocol::Profile`]
//!   and its named predicates), per node (AvalancheGo, luxd).
//! - [`profile_choice`]: which profile to serve: pinned, read from the node, or probed.
//! - [`pb`]: the node's protobuf interfaces, generated from `proto/` at build time.
//! - [`wire`]: the hand-written layouts of the messages whose fields moved between protocols.
//! - [`handshake`]: the one call that tells the node where the plugin serves.
//! - [`transport`]: gRPC channels and listeners with the node's limits.
//! - [`node_client`]: the plugin's clients of the node's services (app sender, messenger).
//! - [`ids`]: 32-byte IDs, node IDs, and their CB58 text form.
//! - [`jsonrpc`]: the gorilla/rpc `json2` envelope AvalancheGo's APIs speak: bodies, batches,
//!   method names, replies with Go's escaping, and the error objects a service returns.
//! - [`gather`]: the node's rules for a `Gather` answer, checked before the node sees it.
//! - [`shutdown`]: the stop signals every long-running task watches, as a tree.
//! - [`http_server`]: HTTP serving with connection limits and timeouts.
//! - [`utc`]: times as RFC 3339 UTC text, without a date crate.
//! - [`zap`]: luxd's ZAP plugin transport as a pure codec: environment, handshake, frames, bodies.
//! - [`warp`]: Avalanche Warp messages, BLS signatures, validator quorums and ACP-118 framing.

pub mod block;
pub mod gather;
pub mod handshake;
pub mod http;
pub mod http_server;
pub mod ids;
pub mod jsonrpc;
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
pub mod warp;
pub mod wire;
pub mod zap;

pub use block::{AncestorsLimits, BlockInfo, BlockStatus, Timestamp};
pub use http::{HttpHandler, SharedHandler};
pub use serve::{serve, ServeError, ServeOptions};
pub use vm::{InitParams, Vm, VmError};
