//! Plugin mode: stampvm served to the node by the SDK's serve loop ([`rpcchainvm::serve()`]:
//! handshake, serving, signals, parent watch, one shutdown tree), with its gRPC calls counted
//! in stampvm's metrics.

use crate::rpc::observe::GrpcMetrics;
use crate::vm::StampVm;
use rpcchainvm::protocol::Profile;
use rpcchainvm::{ServeError, ServeOptions};
use std::sync::Arc;

/// Runs the plugin until the node shuts it down (or goes away).
pub async fn run(engine_addr: &str, profile: Profile) -> Result<(), ServeError> {
    let options = ServeOptions {
        engine_addr: engine_addr.to_owned(),
        profile,
        observer: Some(Arc::new(GrpcMetrics)),
        version: crate::VERSION.to_owned(),
    };
    rpcchainvm::serve(StampVm::new(), options).await
}
