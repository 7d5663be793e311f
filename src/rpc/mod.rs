//! The plugin's gRPC face. Generated protobuf types live in [`pb`] and nowhere else; the rest of
//! the crate speaks [`crate::chain`] types, converted at this boundary.

pub mod convert;
pub mod engine;
pub mod handshake;
pub mod health;
pub mod http_service;
pub mod lifecycle;
pub mod observe;
pub mod pb;
pub mod profile_choice;
pub mod protocol;
pub mod transport;
pub mod vm_service;
pub mod wire;
