//! stampvm: a timestamp-server virtual machine for Avalanche, shipped as an rpcchainvm plugin.
//!
//! The node (AvalancheGo or luxd) launches the binary, the plugin announces itself over gRPC, and
//! the node drives it: each accepted block proves that its 32-byte payloads existed at its time
//! (one per block on a TimestampVM chain; up to `maxBatch` under a Merkle root on a batched chain,
//! each with its own proof).
//!
//! # Layout
//! - [`chain`]: the pure domain — IDs and CB58, both block codecs (the 82-byte TimestampVM block,
//!   the batched block), the Merkle tree and proofs, verification, genesis (which picks the format).
//! - [`storage`]: RocksDB — column families, the one atomic write batch per accept (with the
//!   payload index and Merkle pages that serve proofs), reopen.
//! - [`actors`]: mempool, builder, chain and gossip actors (ractor); they own all mutable state.
//! - [`rpc`]: the plugin's gRPC face — handshake, the `vm.VM` and `http.HTTP` services, clients of
//!   the node's services, and [`rpc::protocol`], the one place that knows protocol numbers.
//! - [`api`]: the JSON-RPC methods (`timestampvm.*`) behind `http.HTTP`, and the one JSON form
//!   of a proof ([`api::proof_json`]) that `getProof` writes and `stampvm verify-proof` reads.
//! - [`host`]: the node's side in Rust — runtime server, app sender, a VM client that calls in the
//!   node's order, an HTTP gateway. Drives `stampvm dev`, the tests and the benches.
//! - [`plugin`]: plugin mode end to end — handshake, serving, signals and exit.
//! - [`dev`]: `stampvm dev`, a single-node local chain with no AvalancheGo installed.
//! - [`metrics`]: metric names, the Prometheus exporter, the conversion for the node's `Gather`.
//! - [`failures`]: failures logged (rate-limited) and counted, so they never pass in silence.
//! - [`config`]: the chain config (the node's `config_bytes`), defaults and validation.
//! - [`logging`]: stderr logs, level and format switched by the chain config at run time.
//! - [`shutdown`]: the one stop signal every long-running task watches.
//! - [`http_server`]: HTTP serving with connection limits and timeouts, for our own listeners.
//! - [`dir_lock`]: who is using a data directory (the dev lock, the holder of RocksDB's lock).
//! - [`clock`]: the local clock in the unit block timestamps use.
//! - [`utc`]: times as RFC 3339 UTC text, without a date crate.

pub mod actors;
pub mod api;
pub mod chain;
pub mod clock;
pub mod config;
pub mod dev;
pub mod dir_lock;
pub mod failures;
pub mod host;
pub mod http_server;
pub mod logging;
pub mod metrics;
pub mod plugin;
pub mod rpc;
pub mod shutdown;
pub mod storage;
pub mod utc;

/// The crate version, reported by `vm.VM/Version` and `stampvm version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
