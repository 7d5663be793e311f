//! gRPC calls observed: every request the node makes to one of the plugin's servers (`vm.VM`,
//! `http.HTTP`) is reported to the VM's [`CallObserver`] with its method, outcome and latency
//! (stampvm counts them in its own metrics).
//!
//! [`Observed`] wraps a tonic service where it is added to the server. It is a wrapper rather
//! than a `tower_layer::Layer` for `Server::builder().layer(..)` because tonic does not re-export
//! that trait and the crate does not depend on tower directly; the wrapping is the same tower
//! `Service` a layer would produce, and it keeps the service's [`NamedService`] name.
//!
//! - `method` is the last segment of a known path (`/vm.VM/BuildBlock` → `BuildBlock`); any
//!   other path is `other`, so a confused client cannot grow the label set.
//! - `outcome` is `ok` or `error`, read from the response head: tonic sends a failed call as a
//!   trailers-only response, with `grpc-status` in the headers; a successful unary call has no
//!   `grpc-status` header (it comes in the trailers, as 0). A status sent only in trailers after a
//!   successful head (an encoding failure mid-body) therefore still counts as `ok`.
//! - Latency runs from the call to the response head, i.e. the handler's whole run.
//!
//! A call whose future is dropped before it answers (the node cancelling `WaitForEvent`, a
//! connection closing) is not counted: the wrapper holds nothing but the start time and the
//! method name, and dropping it drops the inner call at once, so cancellation works as without it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};
use tonic::codegen::http;
use tonic::codegen::Service;
use tonic::server::NamedService;

/// The `method` label of a path nobody we serve answers.
pub const OTHER_METHOD: &str = "other";

/// `vm.VM` of every profile (wire-45.md 2.1, profiles.md 2; the `rpc` lines of `proto/vm/vm.proto`).
const VM_METHODS: [&str; 37] = [
    "Initialize",
    "SetState",
    "Shutdown",
    "CreateHandlers",
    "NewHTTPHandler",
    "WaitForEvent",
    "Connected",
    "Disconnected",
    "BuildBlock",
    "ParseBlock",
    "GetBlock",
    "SetPreference",
    "Health",
    "Version",
    "AppRequest",
    "AppRequestFailed",
    "AppResponse",
    "AppGossip",
    "Gather",
    "GetAncestors",
    "BatchedParseBlock",
    "GetBlockIDAtHeight",
    "StateSyncEnabled",
    "GetOngoingSyncStateSummary",
    "GetLastStateSummary",
    "ParseStateSummary",
    "GetStateSummary",
    "BlockVerify",
    "BlockAccept",
    "BlockReject",
    "StateSummaryAccept",
    // Only nodes of older profiles call these (profiles.md section 2).
    "VerifyHeightIndex",
    "CreateStaticHandlers",
    "CreateHTTP2Handler",
    "CrossChainAppRequest",
    "CrossChainAppRequestFailed",
    "CrossChainAppResponse",
];

/// `http.HTTP` (wire-45.md 2.2).
const HTTP_METHODS: [&str; 2] = ["Handle", "HandleSimple"];

/// The `method` label for a request path: the method name when the path is `/vm.VM/<method>` or
/// `/http.HTTP/<method>` with a method that service has, otherwise [`OTHER_METHOD`]. Always one of
/// a fixed set of 34 values.
pub fn method_label(path: &str) -> &'static str {
    let Some((service, method)) = path.strip_prefix('/').and_then(|rest| rest.split_once('/'))
    else {
        return OTHER_METHOD;
    };
    let known: &[&'static str] = match service {
        "vm.VM" => &VM_METHODS,
        "http.HTTP" => &HTTP_METHODS,
        _ => return OTHER_METHOD,
    };
    known
        .iter()
        .find(|name| **name == method)
        .copied()
        .unwrap_or(OTHER_METHOD)
}

/// `ok` unless the response head says the call failed: an HTTP status other than 200, or a
/// `grpc-status` header other than `0`.
fn outcome(status: http::StatusCode, headers: &http::HeaderMap) -> Outcome {
    let grpc_ok = headers
        .get("grpc-status")
        .is_none_or(|value| value.as_bytes() == b"0");
    if status == http::StatusCode::OK && grpc_ok {
        Outcome::Ok
    } else {
        Outcome::Error
    }
}

/// Whether a call succeeded, as its response head says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Error,
}

impl Outcome {
    /// `ok` or `error`, the label text.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
        }
    }
}

/// Told about every answered gRPC call to the plugin's servers.
pub trait CallObserver: Send + Sync + 'static {
    /// `method` is one of a fixed set ([`method_label`]); `latency` runs from the call to the
    /// response head.
    fn observe(&self, method: &'static str, outcome: Outcome, latency: Duration);
}

/// The observer the service reports to, if the VM gave one.
pub(crate) type SharedObserver = Option<Arc<dyn CallObserver>>;

/// Wraps `service` so each of its calls is reported to `observer`.
pub(crate) fn observed<S>(service: S, observer: SharedObserver) -> Observed<S> {
    Observed {
        inner: service,
        observer,
    }
}

/// A tonic service whose calls are reported; see the module docs.
#[derive(Clone)]
pub struct Observed<S> {
    inner: S,
    observer: SharedObserver,
}

impl<S: NamedService> NamedService for Observed<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B, R> Service<http::Request<B>> for Observed<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    // tonic's generated servers answer with a boxed future, which is `Unpin`; requiring it keeps
    // the wrapper's own future free of pinning code.
    S::Future: Unpin,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ObservedCall<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = method_label(request.uri().path());
        ObservedCall {
            inner: self.inner.call(request),
            method,
            started: Instant::now(),
            observer: self.observer.clone(),
        }
    }
}

/// One call in flight: the inner call plus what its report needs.
pub struct ObservedCall<F> {
    inner: F,
    method: &'static str,
    started: Instant,
    observer: SharedObserver,
}

impl<F, R, E> Future for ObservedCall<F>
where
    F: Future<Output = Result<http::Response<R>, E>> + Unpin,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let result = ready!(Pin::new(&mut self.inner).poll(cx));
        if let Some(observer) = &self.observer {
            let outcome = match &result {
                Ok(response) => outcome(response.status(), response.headers()),
                Err(_) => Outcome::Error,
            };
            observer.observe(self.method, outcome, self.started.elapsed());
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_map_to_their_method() {
        assert_eq!(method_label("/vm.VM/BuildBlock"), "BuildBlock");
        assert_eq!(method_label("/vm.VM/WaitForEvent"), "WaitForEvent");
        assert_eq!(
            method_label("/vm.VM/GetBlockIDAtHeight"),
            "GetBlockIDAtHeight"
        );
        assert_eq!(method_label("/http.HTTP/HandleSimple"), "HandleSimple");
        assert_eq!(method_label("/http.HTTP/Handle"), "Handle");
    }

    #[test]
    fn anything_else_is_other() {
        for path in [
            "",
            "/",
            "//",
            "vm.VM/BuildBlock",
            "/vm.VM/",
            "/vm.VM/buildblock",
            "/vm.VM/BuildBlock/",
            "/vm.VM/BuildBlock/x",
            "/vm.VM/Handle",
            "/http.HTTP/BuildBlock",
            "/vm.VMX/BuildBlock",
            "/vm.Other/Gather",
            "/vm.VM/VerifyHeightIndexes",
            "/grpc.health.v1.Health/Check",
            "/metrics",
        ] {
            assert_eq!(method_label(path), OTHER_METHOD, "{path:?}");
        }
    }

    /// The known lists are exactly the protos' `rpc` lines: a method added to a proto and not
    /// here would silently count as `other`.
    #[test]
    fn known_methods_match_the_protos() {
        fn rpcs(proto: &str) -> Vec<String> {
            proto
                .lines()
                .filter_map(|line| line.trim().strip_prefix("rpc "))
                .map(|rest| rest.split('(').next().unwrap_or("").trim().to_string())
                .collect()
        }
        let vm = rpcs(include_str!("../proto/vm/vm.proto"));
        assert_eq!(vm, VM_METHODS.map(String::from).to_vec());
        let http = rpcs(include_str!("../proto/http/http.proto"));
        assert_eq!(http, HTTP_METHODS.map(String::from).to_vec());
    }

    #[test]
    fn outcome_reads_the_response_head() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(outcome(http::StatusCode::OK, &headers), Outcome::Ok);
        headers.insert("grpc-status", http::HeaderValue::from_static("0"));
        assert_eq!(outcome(http::StatusCode::OK, &headers), Outcome::Ok);
        headers.insert("grpc-status", http::HeaderValue::from_static("9"));
        assert_eq!(outcome(http::StatusCode::OK, &headers), Outcome::Error);
        let headers = http::HeaderMap::new();
        assert_eq!(
            outcome(http::StatusCode::INTERNAL_SERVER_ERROR, &headers),
            Outcome::Error
        );
    }

    /// Through a real tonic status: an `Err(Status)` from a handler becomes a trailers-only
    /// response whose head carries `grpc-status`.
    #[test]
    fn a_tonic_error_status_is_an_error() {
        let response = tonic::Status::failed_precondition("not initialized").into_http::<()>();
        assert_eq!(
            outcome(response.status(), response.headers()),
            Outcome::Error
        );
    }
}
