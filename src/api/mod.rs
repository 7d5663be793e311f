//! The JSON-RPC API (`timestampvm.*`), compatible with Go TimestampVM clients.

pub mod backend;
pub mod data;
pub mod http;
pub mod jsonrpc;
pub mod methods;
pub mod proof_json;
pub mod static_api;
#[cfg(test)]
pub(crate) mod test_backend;

pub use backend::{
    Backend, BackendError, BlockStatus, BlockView, MempoolStats, ProofLookup, ProposeError,
};
