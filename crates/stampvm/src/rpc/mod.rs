//! The plugin's gRPC face. Generated protobuf types come from `rpcchainvm::pb`; the rest of the
//! crate speaks [`crate::chain`] types, converted at this boundary.

pub mod convert;
pub mod health;
pub mod http_service;
pub mod lifecycle;
pub mod observe;
pub mod vm_service;
