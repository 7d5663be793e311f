//! The node's HTTP API server for chains, as AvalancheGo runs it (shared/spec/node-behaviour.md
//! section 8), so `stampvm dev`, the tests and the benches reach any rpcchainvm plugin's API the
//! way real clients reach it through a node.
//!
//! Routing: the exact path `/ext/bc/<chainID><prefix>` goes to the `http.HTTP` server the plugin
//! returned for that prefix; a request with `Avalanche-Api-Route: <chainID>` goes to the chain's
//! header-route server whatever its path. HTTP/1.x without `Upgrade` is forwarded with
//! `HandleSimple`; HTTP/2 (h2c) and `Upgrade` requests with `Handle` and a per-request
//! Writer/Reader server ([`crate::host::http_callbacks`]). Responses are buffered whole.

use super::go_http::{build_response, element, header_elements, request_target};
use super::http_callbacks::call_handle;
use crate::chain::id::{Id, NodeId};
use crate::rpc::pb::http::{self as pb, http_client::HttpClient};
use crate::rpc::transport;
use crate::shutdown::Shutdown;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Version};
use axum::response::Response;
use axum::serve::ListenerExt;
use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// The header that selects a chain's header-route handler (protocol 42+, `NewHTTPHandler`).
pub const ROUTE_HEADER: &str = "avalanche-api-route";

/// The node's answer to every chain request before the chain reaches NORMAL_OP.
pub const NOT_BOOTSTRAPPED: &str = "API call rejected because chain is not done bootstrapping";

/// Why the gateway could not start, serve, or mount a handler.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("handler prefix {0:?} must be empty or start with '/'")]
    InvalidPrefix(String),
    #[error("invalid plugin HTTP server address {addr:?}: {source}")]
    BadAddress {
        addr: String,
        #[source]
        source: tonic::transport::Error,
    },
    #[error("the gateway is already serving")]
    AlreadyServing,
    #[error("HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Why one request was not forwarded; each maps to the status the node answers with.
#[derive(Debug, thiserror::Error)]
enum RequestError {
    #[error("404 page not found")]
    NotFound,
    #[error("empty Avalanche-Api-Route header")]
    EmptyRouteHeader,
    #[error("{NOT_BOOTSTRAPPED}")]
    NotReady,
    #[error("reading the request body: {0}")]
    Body(axum::Error),
    #[error("{}", .0.message())]
    Rpc(tonic::Status),
}

impl RequestError {
    fn status(&self) -> StatusCode {
        match self {
            RequestError::NotFound => StatusCode::NOT_FOUND,
            RequestError::EmptyRouteHeader | RequestError::Body(_) => StatusCode::BAD_REQUEST,
            RequestError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            RequestError::Rpc(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The HTTP API server. Cheap to clone: clones share the route table, so chains can be
/// registered and marked ready while [`Gateway::serve`] runs.
#[derive(Clone)]
pub struct Gateway {
    routes: Arc<Routes>,
    listener: Arc<Mutex<Option<TcpListener>>>,
    local_addr: SocketAddr,
}

/// Shared by the request handlers: which plugin server answers which request.
struct Routes {
    node_id: NodeId,
    table: RwLock<Table>,
}

#[derive(Default)]
struct Table {
    /// Exact request path → (chain, plugin `http.HTTP` client); one channel per handler, reused.
    paths: HashMap<String, (Id, HttpClient<Channel>)>,
    chains: HashMap<Id, ChainEntry>,
}

#[derive(Default)]
struct ChainEntry {
    ready: bool,
    header_route: Option<HttpClient<Channel>>,
}

impl Gateway {
    /// Binds `addr` now (127.0.0.1:9650 for `stampvm dev`, port 0 in tests) so the port is known
    /// before serving. `node_id` is the `node-id` header the node's middleware presets: it is in
    /// the gateway's own answers (404, 503, …) and is handed to the plugin to copy, since from
    /// protocol 40 the plugin's header list replaces the preset map.
    pub async fn bind(addr: SocketAddr, node_id: NodeId) -> std::io::Result<Gateway> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        Ok(Gateway {
            routes: Arc::new(Routes {
                node_id,
                table: RwLock::new(Table::default()),
            }),
            listener: Arc::new(Mutex::new(Some(listener))),
            local_addr,
        })
    }

    /// The bound address (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Mounts a chain's handlers: `handlers` are `CreateHandlers`' `(prefix, server_addr)` pairs,
    /// `header_route_addr` is `NewHTTPHandler`'s address (`None` or `""` = none). Replaces the
    /// chain's earlier routes and keeps its readiness. Like the node, an invalid entry is skipped
    /// (logged) and the others are still mounted; the first such problem is returned.
    pub fn register_chain(
        &self,
        chain_id: Id,
        handlers: Vec<(String, String)>,
        header_route_addr: Option<String>,
    ) -> Result<(), GatewayError> {
        let mut first_error = None;
        let mut skip = |error: GatewayError| {
            tracing::warn!(chain = %chain_id, %error, "HTTP handler not mounted");
            first_error.get_or_insert(error);
        };
        let mut paths = Vec::new();
        for (prefix, addr) in handlers {
            if !(prefix.is_empty() || prefix.starts_with('/')) {
                skip(GatewayError::InvalidPrefix(prefix));
                continue;
            }
            match plugin_client(&addr) {
                Ok(client) => paths.push((format!("/ext/bc/{chain_id}{prefix}"), client)),
                Err(error) => skip(error),
            }
        }
        let header_route = match header_route_addr.filter(|addr| !addr.is_empty()) {
            None => None,
            Some(addr) => plugin_client(&addr).map_err(&mut skip).ok(),
        };
        let mut table = self.routes.write();
        table.paths.retain(|_, (chain, _)| *chain != chain_id);
        for (path, client) in paths {
            tracing::debug!(chain = %chain_id, %path, "mounted HTTP handler");
            table.paths.insert(path, (chain_id, client));
        }
        table.chains.entry(chain_id).or_default().header_route = header_route;
        first_error.map_or(Ok(()), Err)
    }

    /// Until a chain is ready every request for it gets 503 [`NOT_BOOTSTRAPPED`], as the node
    /// answers before NORMAL_OP. Chains start not ready.
    pub fn set_ready(&self, chain_id: Id, ready: bool) {
        self.routes
            .write()
            .chains
            .entry(chain_id)
            .or_default()
            .ready = ready;
    }

    /// Unmounts a chain (its handlers are gone, e.g. the plugin shut down): its requests get 404.
    pub fn remove_chain(&self, chain_id: Id) {
        let mut table = self.routes.write();
        table.paths.retain(|_, (chain, _)| *chain != chain_id);
        table.chains.remove(&chain_id);
    }

    /// Serves HTTP/1.1 and h2c (prior knowledge) until `shutdown` fires, then drains open
    /// connections (a plugin call that never returns holds shutdown up: abort the task then).
    /// Only one call serves; later ones return [`GatewayError::AlreadyServing`].
    pub async fn serve(&self, shutdown: Shutdown) -> Result<(), GatewayError> {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or(GatewayError::AlreadyServing)?;
        let listener = listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "TCP_NODELAY not set on an HTTP connection");
            }
        });
        let app = Router::new()
            .fallback(route)
            .with_state(self.routes.clone())
            .into_make_service_with_connect_info::<SocketAddr>();
        tracing::debug!(addr = %self.local_addr, "HTTP gateway serving");
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.wait().await })
            .await?;
        Ok(())
    }

    /// [`Gateway::serve`] on a new task.
    pub fn spawn(&self, shutdown: Shutdown) -> JoinHandle<Result<(), GatewayError>> {
        let gateway = self.clone();
        tokio::spawn(async move { gateway.serve(shutdown).await })
    }
}

/// One lazily connected client per plugin server, with the node's unlimited message sizes.
fn plugin_client(addr: &str) -> Result<HttpClient<Channel>, GatewayError> {
    let channel = transport::connect_lazy(addr).map_err(|source| GatewayError::BadAddress {
        addr: addr.to_owned(),
        source,
    })?;
    Ok(HttpClient::new(channel)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX))
}

impl Routes {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Picks the plugin server for a request and applies the bootstrapping gate.
    fn resolve(
        &self,
        headers: &HeaderMap,
        path: &str,
    ) -> Result<(Id, HttpClient<Channel>), RequestError> {
        let table = self.read();
        let (chain, client) = match headers.get(ROUTE_HEADER) {
            Some(value) => {
                let chain = parse_route_header(value.as_bytes())?;
                let client = table
                    .chains
                    .get(&chain)
                    .and_then(|c| c.header_route.clone());
                (chain, client.ok_or(RequestError::NotFound)?)
            }
            None => table
                .paths
                .get(path)
                .cloned()
                .ok_or(RequestError::NotFound)?,
        };
        match table.chains.get(&chain) {
            Some(entry) if entry.ready => Ok((chain, client)),
            _ => Err(RequestError::NotReady),
        }
    }

    /// Resolves, gates, reads the whole body, then picks the RPC as the node does: `Handle` for
    /// HTTP/2 and `Upgrade` requests, `HandleSimple` for everything else.
    async fn forward(
        &self,
        parts: Parts,
        body: Body,
        remote: SocketAddr,
    ) -> Result<Response, RequestError> {
        let (chain, mut client) = self.resolve(&parts.headers, parts.uri.path())?;
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(RequestError::Body)?;
        let upgrade = parts.headers.get(header::UPGRADE);
        let streaming = upgrade.is_some_and(|v| !v.is_empty()) || parts.version >= Version::HTTP_2;
        let rpc = if streaming { "Handle" } else { "HandleSimple" };
        tracing::debug!(%chain, rpc, method = %parts.method, uri = %parts.uri, "forwarding");
        let preset = vec![element("Node-Id", vec![self.node_id.to_string()])];
        let reply = if streaming {
            call_handle(&mut client, &parts, remote, body, preset).await
        } else {
            let request = pb::HandleSimpleHttpRequest {
                method: parts.method.to_string(),
                url: request_target(&parts),
                request_headers: header_elements(&parts.headers),
                body: body.to_vec(),
                response_headers: preset,
            };
            let reply = client.handle_simple(request).await;
            reply.map(tonic::Response::into_inner)
        };
        Ok(build_response(
            &parts.method,
            reply.map_err(RequestError::Rpc)?,
        ))
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
        if let Ok(value) = HeaderValue::from_str(&self.node_id.to_string()) {
            headers.insert(HeaderName::from_static("node-id"), value);
        }
        response
    }
}

/// The one axum handler: every path goes through the route table, as the node's mux does.
async fn route(
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

/// Reads `Avalanche-Api-Route`: an empty value is a 400, anything but a chain ID a 404.
fn parse_route_header(value: &[u8]) -> Result<Id, RequestError> {
    let text = std::str::from_utf8(value)
        .map_err(|_| RequestError::NotFound)?
        .trim();
    if text.is_empty() {
        return Err(RequestError::EmptyRouteHeader);
    }
    text.parse().map_err(|_| RequestError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_header_parsing() {
        let chain = Id::from_name("timestamp").unwrap();
        assert_eq!(
            parse_route_header(chain.to_string().as_bytes()).unwrap(),
            chain
        );
        assert!(matches!(
            parse_route_header(b" "),
            Err(RequestError::EmptyRouteHeader)
        ));
        assert!(matches!(
            parse_route_header(b"nonsense"),
            Err(RequestError::NotFound)
        ));
        assert!(matches!(
            parse_route_header(&[0xff]),
            Err(RequestError::NotFound)
        ));
    }
}
