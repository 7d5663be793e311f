//! The node's HTTP API server for chains, as AvalancheGo runs it (docs/spec/node-behaviour.md
//! §8), so `stampvm dev`, the tests and the benches reach any rpcchainvm plugin's API the
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
//!
//! This file holds the gateway's state and the calls that mount, gate and unmount handlers;
//! `routing` picks the plugin server for a request, `forward` carries it there (or to a node
//! endpoint) and back, `body` reads request bodies within the limits.

mod body;
mod forward;
mod routing;

use super::node_api::{NodeApis, NodeChain};
use axum::Router;
use forward::route;
use routing::{path_routes, plugin_client};
use rpcchainvm::http_server::{self, ServerLimits};
use rpcchainvm::ids::{Id, NodeId};
use rpcchainvm::jsonrpc::over_http::MAX_BODY_BYTES;
use rpcchainvm::pb::http::http_client::HttpClient;
use rpcchainvm::protocol::Profile;
use rpcchainvm::shutdown::Shutdown;
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

impl Routes {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }
}
