//! Forwarding a request the way the profile's node does: `HandleSimple` or `Handle` (with its
//! per-request Writer/Reader server), the node's preset headers and its header rule, and the
//! node's own endpoints answered in place (docs/spec/node-behaviour.md §8).

use super::body::read_body;
use super::{Routes, NOT_BOOTSTRAPPED};
use crate::go_http::{build_response, element, header_elements, node_headers, request_target};
use crate::http_callbacks::call_handle;
use crate::node_api::{Endpoint, NodeReply};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, StatusCode, Version};
use axum::response::Response;
use rpcchainvm::pb::http as pb;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

/// Why one request was not forwarded; each maps to the status the node answers with.
#[derive(Debug, thiserror::Error)]
pub(super) enum RequestError {
    #[error("404 page not found")]
    NotFound,
    #[error("empty {0} header")]
    EmptyRouteHeader(&'static str),
    #[error("{NOT_BOOTSTRAPPED}")]
    NotReady,
    #[error("reading the request body: {0}")]
    Body(axum::Error),
    #[error("request body larger than the limit of {0} bytes")]
    BodyTooLarge(usize),
    #[error("reading the request body: not complete within {0:?}")]
    BodyTimeout(Duration),
    #[error("{}", .0.message())]
    Rpc(tonic::Status),
}

impl RequestError {
    fn status(&self) -> StatusCode {
        match self {
            RequestError::NotFound => StatusCode::NOT_FOUND,
            RequestError::EmptyRouteHeader(_) | RequestError::Body(_) => StatusCode::BAD_REQUEST,
            RequestError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            RequestError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            RequestError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            RequestError::Rpc(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Which RPC carries a request to the plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rpc {
    HandleSimple,
    Handle,
}

impl Routes {
    /// `Handle` for `Upgrade` requests and, where the profile does so, every HTTP/2 request;
    /// `HandleSimple` for the rest.
    fn rpc_for(&self, parts: &Parts) -> Rpc {
        let upgrade = parts.headers.get(header::UPGRADE);
        let http2 = parts.version == Version::HTTP_2 && self.profile.routes_http2_through_handle();
        match upgrade.is_some_and(|v| !v.is_empty()) || http2 {
            true => Rpc::Handle,
            false => Rpc::HandleSimple,
        }
    }

    /// Resolves, gates, reads the whole body, forwards with the profile's RPC, then applies the
    /// profile's header rule (merge up to 39, replace from 40) to the plugin's answer.
    async fn forward(
        &self,
        parts: Parts,
        body: Body,
        remote: SocketAddr,
    ) -> Result<Response, RequestError> {
        if let Some(endpoint) = self.node_endpoint(&parts)? {
            let body = read_body(&parts, body, self.limits).await?;
            return Ok(self.answer_node(endpoint, &parts, &body).await);
        }
        let mut client = self.resolve(&parts)?;
        let body = read_body(&parts, body, self.limits).await?;
        let rpc = self.rpc_for(&parts);
        let name = match rpc {
            Rpc::Handle => "Handle",
            Rpc::HandleSimple => "HandleSimple",
        };
        tracing::debug!(rpc = name, method = %parts.method, uri = %parts.uri, "forwarding");
        let preset = vec![element("Node-Id", vec![self.node_id.clone()])];
        let reply = match rpc {
            Rpc::Handle => {
                self.forwarded.handle.fetch_add(1, Relaxed);
                call_handle(
                    &mut client,
                    self.profile,
                    &parts,
                    remote,
                    body,
                    preset.clone(),
                )
                .await
            }
            Rpc::HandleSimple => {
                self.forwarded.handle_simple.fetch_add(1, Relaxed);
                // Up to 41 the node does not send its preset headers (field 5).
                let response_headers = match self.profile.echoes_response_headers() {
                    true => preset.clone(),
                    false => Vec::new(),
                };
                let request = pb::HandleSimpleHttpRequest {
                    method: parts.method.to_string(),
                    url: request_target(&parts),
                    request_headers: header_elements(&parts.headers),
                    body: body.to_vec(),
                    response_headers,
                };
                let reply = client.handle_simple(request).await;
                reply.map(tonic::Response::into_inner)
            }
        };
        let mut reply = reply.map_err(RequestError::Rpc)?;
        reply.headers = node_headers(self.profile, preset, reply.headers);
        Ok(build_response(&parts.method, reply))
    }

    /// The node endpoint a request is for: a path route like the chains', so a header-routed
    /// request goes to its chain instead.
    fn node_endpoint(&self, parts: &Parts) -> Result<Option<Endpoint>, RequestError> {
        Ok(match self.header_route(parts)? {
            Some(_) => None,
            None => Endpoint::for_path(parts.uri.path()),
        })
    }

    /// A node endpoint's answer, with the node's `node-id` header.
    async fn answer_node(&self, endpoint: Endpoint, parts: &Parts, body: &[u8]) -> Response {
        let bootstrapped = {
            let table = self.read();
            table.chains.iter().map(|(id, c)| (*id, c.ready)).collect()
        };
        let headers: Vec<_> = parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                rpcchainvm::http::HeaderField::new(name.as_str(), &value)
            })
            .collect();
        let method = parts.method.as_str();
        let reply = self
            .node
            .answer(endpoint, method, &headers, body, bootstrapped)
            .await;
        self.node_response(reply)
    }

    fn node_response(&self, reply: NodeReply) -> Response {
        let mut response = Response::new(Body::from(reply.body));
        *response.status_mut() =
            StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        for field in reply.headers {
            let Ok(name) = HeaderName::try_from(field.name.as_str()) else {
                continue;
            };
            for value in field.values {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.append(name.clone(), value);
                }
            }
        }
        if let Ok(value) = HeaderValue::from_str(&self.node_id) {
            headers.insert(HeaderName::from_static("node-id"), value);
        }
        response
    }

    /// Go's `http.Error`: plain text plus newline, with the node's preset headers.
    fn error_response(&self, error: &RequestError) -> Response {
        let mut response = Response::new(Body::from(format!("{error}\n")));
        *response.status_mut() = error.status();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if let Ok(value) = HeaderValue::from_str(&self.node_id) {
            headers.insert(HeaderName::from_static("node-id"), value);
        }
        response
    }
}

/// The one axum handler: every path goes through the route table, as the node's mux does.
pub(super) async fn route(
    State(routes): State<Arc<Routes>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let (method, uri) = (parts.method.clone(), parts.uri.clone());
    let response = match routes.forward(parts, body, remote).await {
        Ok(response) => response,
        Err(error) => routes.error_response(&error),
    };
    tracing::debug!(%method, %uri, status = response.status().as_u16(), "gateway request");
    response
}
