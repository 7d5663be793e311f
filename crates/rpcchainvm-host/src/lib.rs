//! The node's side of the rpcchainvm protocol, in Rust: what AvalancheGo (or luxd) does to launch,
//! handshake with, drive and stop a VM plugin (docs/spec/node-behaviour.md), playing any
//! supported profile ([`rpcchainvm::protocol::Profile`]): the message layouts, the call order,
//! the block-building trigger and the HTTP rules of that protocol's node. `stampvm dev`, the
//! integration tests and the benches use it; it talks only the wire contract, so it drives any
//! rpcchainvm plugin binary, not only ours.
//!
//! # Layout
//! - [`runtime`]: the `vm.runtime.Runtime` server at the engine address; judges the handshake.
//! - [`process`]: launches a plugin (empty environment, piped logs, parent-death signal), waits for
//!   the handshake, and stops it the node's way (SIGTERM, then SIGKILL after a grace period).
//! - `supervisor`: the one task that owns a plugin's `Child`: reaps it, delivers its signals.
//! - `output`: copies a plugin's stdout/stderr into our stderr with a `[name] ` prefix (when we
//!   log JSON: its JSON lines with a `process` field), and to [`LaunchOptions::output`] when a
//!   test wants to read the plugin's log.
//! - [`vm_client`]: a typed `vm.VM` client of one profile, and raw calls ([`VmClient::call_raw`]).
//! - `raw_codec`: the bytes-in, bytes-out codec behind `call_raw`.
//! - `checks`: the node's checks of answers (IDs, timestamps, block status, handler layout).
//! - `chain_start`: [`VmClient::start_chain`], the node's chain-start sequence per profile.
//! - [`registration`]: the VM-registration processes: the version probe and, up to 30, the
//!   static-handler process ([`StaticHandlerProcess`]).
//! - `chain_params`: what the node tells a chain at Initialize ([`ChainParams`]), the node's
//!   [`ClientVersion`] for `Connected`, and the default network-upgrade schedule.
//! - [`rpcdb`]: the node's `rpcdb.Database` server, the address in `InitializeRequest` field 13.
//! - [`node_services`]: the node's `server_addr` (AppSender, and Messenger where it exists).
//! - `network`: a [`Network`] of hosts in one process that relays app messages between them.
//! - `notify_slot`: the node's one-message Messenger queue ([`node_services::NotifySlot`]).
//! - [`engine`]: a one-validator consensus loop: wait for an event, build, verify, accept.
//! - [`gateway`]: the node's HTTP API server (`/ext/bc/<chainID>…`, `/ext/vm/<vmID>…`).
//! - [`node_api`]: the node's own endpoints on it: `/ext/health`, `/ext/info`, `/ext/metrics`.
//! - `prometheus_text`: a chain's `Gather` answer as the node's `/ext/metrics` shows it.
//! - [`http_callbacks`]: the per-request Writer/Reader server behind the gateway's `Handle` calls.
//! - `go_http`: requests and replies in Go's `net/http` shapes, shared by both gateway RPCs.
//! - `error`: [`HostError`], one variant per step that can fail.
//! - `fake_plugin`, `tests` (test builds only): an in-process fake `vm.VM` and the host's end-to-end
//!   unit tests against it.
//!
//! A typical host for `profile`: [`NodeServices::serve_as`] → [`PluginProcess::launch`] (with
//! [`LaunchOptions::profile`]) → [`PluginProcess::vm_client`] → [`Network::register`] →
//! [`VmClient::start_chain`] (with [`ChainParams::with_profile`]) → [`SoloEngine::spawn`] (with
//! [`EngineMode::for_node`]); up to 30 also [`StaticHandlerProcess::launch`]. To stop:
//! `vm.VM/Shutdown`, trigger the shutdown signal, then [`PluginProcess::terminate`] (see
//! [`PluginProcess::stop`]).

mod chain_params;
mod chain_start;
mod checks;
pub mod engine;
mod error;
pub mod gateway;
mod go_http;
pub mod http_callbacks;
mod network;
pub mod node;
pub mod node_api;
pub mod node_services;
mod notify_slot;
mod output;
pub mod process;
mod prometheus_text;
mod raw_codec;
pub mod registration;
pub mod rpcdb;
pub mod runtime;
mod supervisor;
pub mod vm_client;

#[cfg(test)]
mod fake_plugin;
#[cfg(test)]
mod tests;

pub use chain_params::{dev_chain_id, ChainParams, ClientVersion};
pub use engine::{AcceptedTip, EngineHandle, EngineMode, SoloEngine};
pub use error::HostError;
pub use node_api::NodeChain;
pub use node_services::{Network, NodeCounters, NodeServices, NodeServicesHandle};
pub use process::{LaunchOptions, PluginProcess};
pub use registration::StaticHandlerProcess;
pub use runtime::{Announcement, HandshakeOutcome, RuntimeConfig, RuntimeEndpoint};
pub use vm_client::{BlockSummary, ChainStart, VmClient};
