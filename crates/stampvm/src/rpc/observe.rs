//! gRPC calls as metrics: every request the node makes to one of our servers (`vm.VM`,
//! `http.HTTP`) counts in `stampvm_grpc_requests_total{method,outcome}` and times in
//! `stampvm_grpc_request_seconds{method}` ([`crate::metrics`] names them). The SDK
//! ([`rpcchainvm::observe`]) labels each call and reports it here.

use crate::metrics::{GRPC_REQUESTS_TOTAL, GRPC_REQUEST_SECONDS, LABEL_METHOD, LABEL_OUTCOME};
use rpcchainvm::observe::{CallObserver, Outcome};
use std::time::Duration;

/// The observer [`crate::plugin`] gives the SDK.
pub struct GrpcMetrics;

impl CallObserver for GrpcMetrics {
    fn observe(&self, method: &'static str, outcome: Outcome, latency: Duration) {
        metrics::counter!(GRPC_REQUESTS_TOTAL, LABEL_METHOD => method, LABEL_OUTCOME => outcome.as_str())
            .increment(1);
        metrics::histogram!(GRPC_REQUEST_SECONDS, LABEL_METHOD => method)
            .record(latency.as_secs_f64());
    }
}
