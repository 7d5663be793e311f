//! stampvm: a timestamp-server virtual machine for Avalanche, shipped as an rpcchainvm plugin.
//!
//! The node (AvalancheGo or luxd) launches the binary, the plugin announces itself over gRPC, and
//! the node drives it: each accepted block proves that its 32-byte payloads existed at its time
//! (one per block on a TimestampVM chain; up to `maxBatch` under a Merkle root on a batched chain,
//! each with its own proof).
//!
//! The protocol itself (handshake, profiles, IDs, the node's services) is the `rpcchainvm` crate;
//! the node's side, which `stampvm dev` and the tests use, is `rpcchainvm-host`; the binary is
//! `stampvm-cli`. This crate is the VM alone.
//!
//! # Layout
//! - [`chain`]: the pure domain — both block codecs (the 82-byte TimestampVM block,
//!   the batched block), the Merkle tree and proofs, verification, genesis (which picks the format).
//! - [`storage`]: RocksDB — column families, the one atomic write batch per accept (with the
//!   payload index and Merkle pages that serve proofs), reopen.
//! - [`actors`]: mempool, builder, chain and gossip actors (ractor); they own all mutable state.
//! - [`vm`]: the composition root — stampvm as an `rpcchainvm::Vm`: Initialize opens the store,
//!   applies the chain config and starts the actors; every call is answered through them.
//! - [`rpc`]: what stampvm adds to the SDK's gRPC face (its metrics of the node's calls).
//! - [`receipt`]: validator-signed receipts, pure: the signed statement, the file, its check.
//! - [`api`]: the JSON-RPC methods (`timestampvm.*`) behind `http.HTTP`, and the one JSON form
//!   of a proof ([`api::proof_json`]) that `getProof` writes and `stampvm verify-proof` reads.
//! - [`plugin`]: plugin mode — [`vm::StampVm`] handed to the SDK's serve loop.
//! - [`metrics`]: metric names, the Prometheus exporter, the conversion for the node's `Gather`.
//! - [`failures`]: failures logged (rate-limited) and counted, so they never pass in silence.
//! - [`config`]: the chain config (the node's `config_bytes`), defaults and validation.
//! - [`logging`]: stderr logs, level and format switched by the chain config at run time.
//! - [`dir_lock`]: who is using a data directory (the dev lock, the holder of RocksDB's lock).
//! - [`clock`]: the local clock in the unit block timestamps use.

pub mod actors;
pub mod api;
pub mod chain;
pub mod clock;
pub mod config;
pub mod dir_lock;
pub mod failures;
pub mod logging;
pub mod metrics;
pub mod plugin;
pub mod receipt;
pub mod rpc;
pub mod storage;
pub mod vm;

/// The crate version, reported by `vm.VM/Version` and `stampvm version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
