//! The node's HTTP API server for chains, as AvalancheGo runs it (docs/spec/node-behaviour.md
//! section 8), so `stampvm dev`, the tests and the benches reach any rpcchainvm plugin's API the
//! way real clients reach it through a node of the profile the gateway plays.
//!
//! Routing: the exact path `/ext/bc/<chainID><prefix>` goes to the `http.HTTP` server the plugin
//! returned for that prefix, `/ext/vm/<vmID><prefix>` to a static handler (profiles up to 30). The
//! chain's header-routed server takes, at 41, every HTTP/2 request with `chain-id: <chainID>`
//! (and no HTTP/2 request reaches a path route), from 42 every request with
//! `Avalanche-Api-Route: <chainID>` whatever its path.
//!
//! RPC: HTTP/1.x without `Upgrade` is forwarded with `HandleSimple`; `Upgrade` requests, and from
//! 41 every HTTP/2 one, with `Handle` and a per-request Writer/Reader server
//! ([`crate::http_callbacks`]). The plugin's headers are merged into the node's preset ones
//! up to 39 and replace them from 40. Responses are buffered whole.
//!
//! The node's own endpoints, `/ext/health`, `/ext/info` and `/ext/metrics`, are answered here too,
//! for the chains registered with [`Gateway::register_node_chain`] ([`super::node_api`]).
//!
//! Limits ([`GATEWAY_LIMITS`]): request bodies are buffered before forwarding, so they are held to
//! the plugin API's own limit ([`MAX_BODY_BYTES`], 413 beyond) and must arrive within 30 s (408);
//! connections are capped, and one without a request in progress is closed after 30 s, which
//! bounds slow headers ([`rpcchainvm::http_server`]).

use super::go_http::{build_response, element, header_elements, node_headers, request_target};
use super::http_callbacks::call_handle;
use super::node_api::{Endpoint, NodeApis, NodeChain, NodeReply};
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, StatusCode, Version};
use axum::response::Response;
use axum::Router;
use http_body_util::BodyExt;
use rpcchainvm::http_server::{self, ServerLimits};
use rpcchainvm::ids::{Id, NodeId};
use rpcchainvm::pb::http::{self as pb, http_client::HttpClient};
use rpcchainvm::protocol::{ExtraHandlerRpc, Profile};
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm::transport;
use stampvm::api::http::MAX_BODY_BYTES;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// The header that selects a chain's header-route handler (protocol 42+, `NewHTTPHandler`).
pub const ROUTE_HEADER: &str = "avalanche-api-route";

/// The header that selects the chain of an HTTP/2 request at protocol 41 (`CreateHTTP2Handler`).
pub const HTTP2_CHAIN_HEADER: &str = "chain-id";

/// The node's answer to every chain request before the chain reaches NORMAL_OP.
pub const NOT_BOOTSTRAPPED: &str = "API call rejected because chain is not done bootstrapping";

/// What the gateway allows a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayLimits {
    /// Connections and their timeout for a connection with no request in progress.
    pub server: ServerLimits,
    /// The largest request body; beyond it, 413 (after reading and dropping at most as much
    /// again, see `read_body`).
    pub max_body_bytes: usize,
    /// How long a request body may take to arrive once its headers have; beyond it, 408.
    pub body_read_timeout: Duration,
}

/// The gateway's limits unless a test says otherwise. The body limit is the plugin API's own
/// (2 MiB): a body is buffered whole before forwarding, and nothing larger is answered anyway.
/// The timeouts are AvalancheGo's defaults (`http-read-header-timeout`, `http-read-timeout`:
/// 30 s). 512 connections keep the dev node within a default descriptor limit (1024) with room
/// for its gRPC sockets.
pub const GATEWAY_LIMITS: GatewayLimits = GatewayLimits {
    server: ServerLimits {
        max_connections: 512,
        idle_timeout: Duration::from_secs(30),
    },
    max_body_bytes: MAX_BODY_BYTES,
    body_read_timeout: Duration::from_secs(30),
};

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
    /// The node ID as text, encoded once: it goes into every request's preset headers, and its
    /// CB58 encoding per request was ~1% of the host's CPU under load.
    node_id: String,
    profile: Profile,
    limits: GatewayLimits,
    table: RwLock<Table>,
    forwarded: ForwardCounters,
    /// The node's own APIs (`/ext/health`, `/ext/info`, `/ext/metrics`).
    node: Arc<NodeApis>,
}

/// What a path route belongs to: a chain (gated until it is ready) or a VM's static handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mount {
    Chain(Id),
    Vm(Id),
}

/// An exact request path and the plugin server behind it.
type PathRoute = (String, HttpClient<Channel>);

#[derive(Default)]
struct Table {
    /// Exact request path → (owner, plugin `http.HTTP` client); one channel per handler, reused.
    paths: HashMap<String, (Mount, HttpClient<Channel>)>,
    chains: HashMap<Id, ChainEntry>,
}

/// How many requests went to the plugins through each RPC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forwarded {
    pub handle_simple: u64,
    pub handle: u64,
}

#[derive(Debug, Default)]
struct ForwardCounters {
    handle_simple: AtomicU64,
    handle: AtomicU64,
}

#[derive(Default)]
struct ChainEntry {
    ready: bool,
    header_route: Option<HttpClient<Channel>>,
}

impl Gateway {
    /// [`Gateway::bind_as`] for the newest node (protocol 45).
    pub async fn bind(addr: SocketAddr, node_id: NodeId) -> std::io::Result<Gateway> {
        Gateway::bind_as(addr, node_id, Profile::latest()).await
    }

    /// Binds `addr` now (127.0.0.1:9650 for `stampvm dev`, port 0 in tests) so the port is known
    /// before serving, for a node playing `profile`. `node_id` is the `node-id` header the node's
    /// middleware presets: it is in the gateway's own answers (404, 503, …), and the plugin's
    /// answers keep it where the profile's node merges headers (up to 39) or hands the preset
    /// map to the plugin to copy (`Handle`, and `HandleSimple` from 42).
    pub async fn bind_as(
        addr: SocketAddr,
        node_id: NodeId,
        profile: Profile,
    ) -> std::io::Result<Gateway> {
        Gateway::bind_with(addr, node_id, profile, GATEWAY_LIMITS).await
    }

    /// [`Gateway::bind_as`] with `limits` instead of [`GATEWAY_LIMITS`] (tests use short
    /// timeouts, or a larger body limit to reach a plugin's own).
    pub async fn bind_with(
        addr: SocketAddr,
        node_id: NodeId,
        profile: Profile,
        limits: GatewayLimits,
    ) -> std::io::Result<Gateway> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        Ok(Gateway {
            routes: Arc::new(Routes {
                node_id: node_id.to_string(),
                profile,
                limits,
                table: RwLock::new(Table::default()),
                forwarded: ForwardCounters::default(),
                node: Arc::new(NodeApis::new(node_id.to_string(), profile)),
            }),
            listener: Arc::new(Mutex::new(Some(listener))),
            local_addr,
        })
    }

    /// The bound address (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The profile whose node this gateway plays.
    pub fn profile(&self) -> Profile {
        self.routes.profile
    }

    /// How many requests were forwarded with each RPC so far.
    pub fn forwarded(&self) -> Forwarded {
        let counters = &self.routes.forwarded;
        Forwarded {
            handle_simple: counters.handle_simple.load(Relaxed),
            handle: counters.handle.load(Relaxed),
        }
    }

    /// Mounts a chain's handlers: `handlers` are `CreateHandlers`' `(prefix, server_addr)` pairs,
    /// `header_route_addr` is the extra handler's address (`CreateHTTP2Handler` at 41,
    /// `NewHTTPHandler` from 42; `None` or `""` = none). Replaces the chain's earlier routes and
    /// keeps its readiness. Like the node, an invalid entry is skipped (logged) and the others
    /// are still mounted; the first such problem is returned.
    pub fn register_chain(
        &self,
        chain_id: Id,
        handlers: Vec<(String, String)>,
        header_route_addr: Option<String>,
    ) -> Result<(), GatewayError> {
        let mount = Mount::Chain(chain_id);
        let (paths, mut first_error) = path_routes(mount, handlers);
        let header_route = match header_route_addr.filter(|addr| !addr.is_empty()) {
            None => None,
            Some(addr) => plugin_client(&addr)
                .map_err(|error| {
                    tracing::warn!(chain = %chain_id, %error, "header route not mounted");
                    first_error.get_or_insert(error);
                })
                .ok(),
        };
        let mut table = self.routes.write();
        table.mount(mount, paths);
        table.chains.entry(chain_id).or_default().header_route = header_route;
        first_error.map_or(Ok(()), Err)
    }

    /// Mounts a VM's static handlers (`CreateStaticHandlers`, profiles up to 30) at
    /// `/ext/vm/<vmID><prefix>`; they need no chain, so no readiness gate applies. Replaces the
    /// VM's earlier static routes; invalid entries are skipped as in
    /// [`Gateway::register_chain`].
    pub fn register_vm(
        &self,
        vm_id: Id,
        handlers: Vec<(String, String)>,
    ) -> Result<(), GatewayError> {
        let mount = Mount::Vm(vm_id);
        let (paths, first_error) = path_routes(mount, handlers);
        self.routes.write().mount(mount, paths);
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

    /// Unmounts a chain (its handlers are gone, e.g. the plugin shut down): its requests get 404,
    /// and the node's endpoints no longer report it.
    pub fn remove_chain(&self, chain_id: Id) {
        let mut table = self.routes.write();
        table.mount(Mount::Chain(chain_id), Vec::new());
        table.chains.remove(&chain_id);
        self.routes.node.remove(chain_id);
    }

    /// Reports a chain in the node's own endpoints, as the node does for every chain it runs: its
    /// health check in `/ext/health`, its VM's version in `info.getNodeVersion`, its metrics in
    /// `/ext/metrics`. Replaces an earlier registration of the chain.
    pub fn register_node_chain(&self, chain_id: Id, chain: NodeChain) {
        self.routes.node.register(chain_id, chain);
    }

    /// The network ID `info.getNetworkID` reports (default 12345, a local network's).
    pub fn set_network_id(&self, network_id: u32) {
        self.routes.node.set_network_id(network_id);
    }

    /// Unmounts a VM's static handlers (its static-handler process is gone).
    pub fn remove_vm(&self, vm_id: Id) {
        self.routes.write().mount(Mount::Vm(vm_id), Vec::new());
    }

    /// Serves HTTP/1.1 and h2c (prior knowledge) within its limits until `shutdown` fires, then
    /// drains open connections (a plugin call that never returns holds shutdown up: abort the
    /// task then). Only one call serves; later ones return [`GatewayError::AlreadyServing`].
    pub async fn serve(&self, shutdown: Shutdown) -> Result<(), GatewayError> {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or(GatewayError::AlreadyServing)?;
        let app = Router::new()
            .fallback(route)
            .with_state(self.routes.clone());
        let limits = self.routes.limits;
        tracing::debug!(addr = %self.local_addr, ?limits, "HTTP gateway serving");
        http_server::serve(listener, app, limits.server, shutdown).await;
        Ok(())
    }

    /// [`Gateway::serve`] on a new task.
    pub fn spawn(&self, shutdown: Shutdown) -> JoinHandle<Result<(), GatewayError>> {
        let gateway = self.clone();
        tokio::spawn(async move { gateway.serve(shutdown).await })
    }
}

/// The routes for `handlers` (`(prefix, server_addr)` pairs) under `mount`, and the first entry
/// that had to be skipped (logged, as the node logs it).
fn path_routes(
    mount: Mount,
    handlers: Vec<(String, String)>,
) -> (Vec<PathRoute>, Option<GatewayError>) {
    let mut first_error = None;
    let mut routes = Vec::new();
    for (prefix, addr) in handlers {
        let valid = prefix.is_empty() || prefix.starts_with('/');
        let client = match valid {
            true => plugin_client(&addr),
            false => Err(GatewayError::InvalidPrefix(prefix.clone())),
        };
        match client {
            Ok(client) => routes.push((format!("{}{prefix}", mount.base_path()), client)),
            Err(error) => {
                tracing::warn!(?mount, %error, "HTTP handler not mounted");
                first_error.get_or_insert(error);
            }
        }
    }
    (routes, first_error)
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

impl Mount {
    /// Where the node mounts this owner's handlers; the handler's prefix follows.
    fn base_path(&self) -> String {
        match self {
            Mount::Chain(chain_id) => format!("/ext/bc/{chain_id}"),
            Mount::Vm(vm_id) => format!("/ext/vm/{vm_id}"),
        }
    }
}

impl Table {
    /// Replaces every path route of `mount` with `paths`.
    fn mount(&mut self, mount: Mount, paths: Vec<PathRoute>) {
        self.paths.retain(|_, (owner, _)| *owner != mount);
        for (path, client) in paths {
            tracing::debug!(?mount, %path, "mounted HTTP handler");
            self.paths.insert(path, (mount, client));
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
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Picks the plugin server for a request and applies the bootstrapping gate to chains.
    fn resolve(&self, parts: &Parts) -> Result<HttpClient<Channel>, RequestError> {
        let table = self.read();
        let (mount, client) = match self.header_route(parts)? {
            Some(chain) => {
                let client = table
                    .chains
                    .get(&chain)
                    .and_then(|c| c.header_route.clone());
                (Mount::Chain(chain), client.ok_or(RequestError::NotFound)?)
            }
            None => table
                .paths
                .get(parts.uri.path())
                .cloned()
                .ok_or(RequestError::NotFound)?,
        };
        match mount {
            Mount::Vm(_) => Ok(client),
            Mount::Chain(chain) => match table.chains.get(&chain) {
                Some(entry) if entry.ready => Ok(client),
                _ => Err(RequestError::NotReady),
            },
        }
    }

    /// The chain whose header-routed server takes this request, if the profile routes it by
    /// header: at 41 every HTTP/2 request, by `chain-id` (path routes are unreachable over
    /// HTTP/2 there, so a missing header is a 404); from 42 any request carrying
    /// `Avalanche-Api-Route`. An empty header is a 400, anything but a chain ID a 404.
    fn header_route(&self, parts: &Parts) -> Result<Option<Id>, RequestError> {
        let header = match self.profile.extra_handler_rpc() {
            ExtraHandlerRpc::None => return Ok(None),
            ExtraHandlerRpc::NewHttpHandler => ROUTE_HEADER,
            ExtraHandlerRpc::CreateHttp2Handler if parts.version != Version::HTTP_2 => {
                return Ok(None)
            }
            ExtraHandlerRpc::CreateHttp2Handler => {
                let value = parts.headers.get(HTTP2_CHAIN_HEADER);
                let value = value.ok_or(RequestError::NotFound)?;
                return parse_route_header(HTTP2_CHAIN_HEADER, value.as_bytes()).map(Some);
            }
        };
        parts
            .headers
            .get(header)
            .map(|value| parse_route_header(header, value.as_bytes()))
            .transpose()
    }

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
                stampvm::api::http::HeaderField::new(name.as_str(), &value)
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

/// The whole request body, within the limits' size and time. Past the size limit, the rest of
/// the body is read and dropped up to as much again, so a client that sent a little too much
/// still reads its 413 on a clean connection (closing on unread data makes the kernel reset it,
/// and the client may see only that); beyond that, or with a declared length beyond that, the
/// 413 comes at once and hyper closes the connection rather than read further. Memory stays
/// within the limit either way.
async fn read_body(
    parts: &Parts,
    body: Body,
    limits: GatewayLimits,
) -> Result<Bytes, RequestError> {
    let max = limits.max_body_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > 2 * max as u64) {
        return Err(RequestError::BodyTooLarge(max));
    }
    let capacity = declared.map_or(0, |length| length.min(max as u64) as usize);
    tokio::time::timeout(limits.body_read_timeout, collect_body(body, max, capacity))
        .await
        .map_err(|_| RequestError::BodyTimeout(limits.body_read_timeout))?
}

/// Collects at most `max` bytes; past them, drops up to `max` more before refusing.
async fn collect_body(mut body: Body, max: usize, capacity: usize) -> Result<Bytes, RequestError> {
    let mut kept = Vec::with_capacity(capacity);
    let mut dropped: Option<usize> = None;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(RequestError::Body)?.into_data() else {
            continue; // trailers
        };
        match &mut dropped {
            None if kept.len() + data.len() <= max => kept.extend_from_slice(&data),
            None => {
                dropped = Some(kept.len() + data.len());
                kept = Vec::new();
            }
            Some(total) => *total += data.len(),
        }
        if dropped.is_some_and(|total| total > 2 * max) {
            break;
        }
    }
    match dropped {
        None => Ok(Bytes::from(kept)),
        Some(_) => Err(RequestError::BodyTooLarge(max)),
    }
}

/// Reads a routing header (`Avalanche-Api-Route`, or `chain-id` at 41): an empty value is a
/// 400, anything but a chain ID a 404.
fn parse_route_header(name: &'static str, value: &[u8]) -> Result<Id, RequestError> {
    let text = std::str::from_utf8(value)
        .map_err(|_| RequestError::NotFound)?
        .trim();
    if text.is_empty() {
        return Err(RequestError::EmptyRouteHeader(name));
    }
    text.parse().map_err(|_| RequestError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_header_parsing() {
        let chain = Id::from_name("timestamp").unwrap();
        let parse = |value: &[u8]| parse_route_header(ROUTE_HEADER, value);
        assert_eq!(parse(chain.to_string().as_bytes()).unwrap(), chain);
        assert!(matches!(
            parse(b" "),
            Err(RequestError::EmptyRouteHeader(ROUTE_HEADER))
        ));
        assert!(matches!(parse(b"nonsense"), Err(RequestError::NotFound)));
        assert!(matches!(parse(&[0xff]), Err(RequestError::NotFound)));
    }
}
