//! The JSON-RPC API (`timestampvm.*`), compatible with Go TimestampVM clients.

pub mod backend;
pub mod data;
pub mod http;
pub mod jsonrpc;
#[cfg(any(test, feature = "memory-backend"))]
pub mod memory_backend;
pub mod methods;
pub mod proof_json;
pub mod static_api;

pub use backend::{
    Backend, BackendError, BlockStatus, BlockView, MempoolStats, ProofLookup, ProposeError,
};
