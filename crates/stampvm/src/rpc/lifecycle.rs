//! The plugin's life as the node sees it: not initialized, running one chain, shut down.
//! Initialize and Shutdown change it; every other handler only reads it.

use crate::actors::VmHandles;
use crate::chain::{parse_genesis, Genesis, Id, NodeId};
use crate::config::ChainConfig;
use crate::storage::{Store, StoreOptions};
use rpcchainvm::node_client::NodeClients;
use rpcchainvm::pb::vm;
use rpcchainvm::protocol::Profile;
use rpcchainvm::shutdown::Shutdown;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::OnceCell;
use tonic::Status;

/// Flags the signal policy reads (node-behaviour.md section 10), plus the process's stop signal.
#[derive(Debug, Default)]
pub struct Lifecycle {
    initialized: AtomicBool,
    shutdown_called: AtomicBool,
    pub stop: Shutdown,
}

impl Lifecycle {
    pub fn was_initialized(&self) -> bool {
        self.initialized.load(Ordering::SeqCst)
    }
    pub fn shutdown_called(&self) -> bool {
        self.shutdown_called.load(Ordering::SeqCst)
    }
}

/// One initialized chain.
#[derive(Clone)]
pub struct Running {
    pub handles: VmHandles,
    pub chain_id: Id,
    pub node_id: NodeId,
    /// The `http.HTTP` server, started by the first CreateHandlers or NewHTTPHandler.
    pub http_addr: Arc<OnceCell<SocketAddr>>,
    /// The Prometheus scrape endpoint, when the chain config asks for one.
    pub metrics_addr: Option<SocketAddr>,
    /// Stops this chain's servers (HTTP, metrics) at Shutdown.
    pub servers_stop: Shutdown,
    /// What the Health RPC keeps between calls (its cached store probe, the stall threshold).
    pub health: Arc<crate::rpc::health::HealthCheck>,
}

/// What the service shares between handlers.
pub struct VmState {
    pub profile: Profile,
    /// The static API server of profiles 28-30, started by CreateStaticHandlers on a process
    /// that is never initialized; it lives until the process exits.
    pub static_http_addr: OnceCell<SocketAddr>,
    pub static_stop: Shutdown,
    pub lifecycle: Arc<Lifecycle>,
    pub metrics: crate::metrics::Metrics,
    running: RwLock<Option<Running>>,
    /// Serializes Initialize and Shutdown against each other.
    transition: tokio::sync::Mutex<()>,
}

fn invalid(e: impl std::fmt::Display) -> Status {
    Status::invalid_argument(e.to_string())
}

/// How a refused `metrics-addr` starts its message; [`is_metrics_refusal`] looks for it.
const METRICS_REFUSAL: &str = "chain config key `metrics-addr`: cannot serve metrics on ";

/// Initialize's refusal when the chain config's `metrics-addr` cannot be bound. The chain does
/// not start without it: an operator who set the key scrapes that address, and a port in use
/// usually has another HTTP server behind it (9100 is node_exporter's), which a scrape would
/// then read as this chain's metrics, up and silently wrong. The node logs the refusal; the fix
/// is a free port or no key (the node's `/ext/metrics` serves the same metrics either way).
fn metrics_refusal(addr: SocketAddr, error: &std::io::Error) -> Status {
    let hint = match error.kind() {
        std::io::ErrorKind::AddrInUse => {
            "; another process listens there: choose a free port, or remove the key (the node's /ext/metrics serves the same metrics)"
        }
        _ => "",
    };
    Status::failed_precondition(format!("{METRICS_REFUSAL}{addr}: {error}{hint}"))
}

/// When `status` is the refusal of [`metrics_refusal`], its cause (`<addr>: <OS error>`): a host
/// that put `metrics-addr` in the config itself (`stampvm dev`) may start the chain again
/// without it, and say why in its own words.
pub fn metrics_refusal_cause(status: &Status) -> Option<&str> {
    if status.code() != tonic::Code::FailedPrecondition {
        return None;
    }
    let cause = status.message().strip_prefix(METRICS_REFUSAL)?;
    Some(cause.split_once("; ").map_or(cause, |(cause, _hint)| cause))
}

/// Opens the chain's store under `dir`, creating `dir` if needed. When RocksDB's lock is held,
/// the message names the process holding it, rather than RocksDB's `Resource temporarily
/// unavailable`.
fn open_store(dir: &Path, genesis: &Genesis, options: StoreOptions) -> Result<Store, String> {
    let opened = std::fs::create_dir_all(dir)
        .map_err(|e| e.to_string())
        .and_then(|()| Store::open(dir, genesis, options).map_err(|e| e.to_string()));
    opened.map_err(|error| {
        let lock = dir.join(crate::storage::keys::DB_DIR).join("LOCK");
        match crate::dir_lock::posix_lock_holder(&lock) {
            Some(pid) => format!(
                "the chain store in {} is in use by another process (pid {pid}): another stampvm (or node) is using this chain's data directory",
                dir.display()
            ),
            None => format!("opening the chain store: {error}"),
        }
    })
}

impl VmState {
    pub fn new(profile: Profile, lifecycle: Arc<Lifecycle>) -> VmState {
        let metrics = crate::metrics::install();
        // The API's per-method family, at zero from the first scrape like the others.
        crate::api::methods::register_request_metrics();
        VmState {
            profile,
            static_http_addr: OnceCell::new(),
            static_stop: Shutdown::new(),
            lifecycle,
            metrics,
            running: RwLock::new(None),
            transition: tokio::sync::Mutex::new(()),
        }
    }

    /// The running chain, or the error a call before Initialize (or after Shutdown) gets.
    pub fn running(&self) -> Result<Running, Status> {
        self.running
            .read()
            .map_err(|_| Status::internal("state lock poisoned"))?
            .clone()
            .ok_or_else(|| Status::failed_precondition("the VM is not initialized"))
    }

    pub fn try_running(&self) -> Option<Running> {
        self.running.read().ok().and_then(|r| r.clone())
    }

    /// Validates the request, opens (or resumes) the store and starts the actors. A refused
    /// request leaves nothing behind, so the node may call Initialize again.
    pub async fn initialize(&self, request: vm::InitializeRequest) -> Result<Running, Status> {
        let _guard = self.transition.lock().await;
        if self.try_running().is_some() {
            return Err(Status::failed_precondition("the VM is already initialized"));
        }
        let config = ChainConfig::from_bytes(&request.config_bytes).map_err(invalid)?;
        let db_server = request.db_server_addr(self.profile.db_server_layout());
        crate::logging::apply(config.log_level, config.log_format);
        let genesis = parse_genesis(&request.genesis_bytes).map_err(invalid)?;
        let chain_id = crate::rpc::convert::id(&request.chain_id, "chain id")?;
        let node_id = crate::rpc::convert::node_id(&request.node_id)?;
        if request.chain_data_dir.is_empty() {
            return Err(Status::invalid_argument("chain_data_dir is empty"));
        }
        let dir = PathBuf::from(&request.chain_data_dir);
        let store_options = StoreOptions::for_chain(&config, genesis.format);
        let store = tokio::task::spawn_blocking(move || open_store(&dir, &genesis, store_options))
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(|e| {
                // The node shows only "error creating chain" and this message; the chain's log
                // (our stderr) must carry it too, at ERROR, since the chain will not run until
                // the operator acts on it.
                crate::failures::report(
                    crate::failures::Operation::Open,
                    crate::failures::Cause::Storage,
                    &e,
                );
                Status::failed_precondition(e)
            })?;
        let clients =
            NodeClients::connect_lazy(&request.server_addr, self.profile).map_err(invalid)?;
        let servers_stop = Shutdown::new();
        let metrics_addr = match config.metrics_addr {
            None => None,
            Some(addr) => Some(
                crate::metrics::serve_scrape(addr, self.metrics.clone(), servers_stop.clone())
                    .await
                    .map_err(|e| metrics_refusal(addr, &e))?,
            ),
        };
        let handles = match VmHandles::start(Arc::new(store), &config, clients).await {
            Ok(handles) => handles,
            Err(e) => {
                servers_stop.trigger();
                return Err(Status::internal(e.to_string()));
            }
        };
        if let Some(addr) = metrics_addr {
            tracing::info!(%addr, "serving Prometheus metrics at /metrics");
        }
        let running = Running {
            handles,
            chain_id,
            node_id,
            http_addr: Arc::new(OnceCell::new()),
            metrics_addr,
            servers_stop,
            health: Arc::new(crate::rpc::health::HealthCheck::new(
                config.health_max_processing(),
            )),
        };
        *self
            .running
            .write()
            .map_err(|_| Status::internal("state lock poisoned"))? = Some(running.clone());
        self.lifecycle.initialized.store(true, Ordering::SeqCst);
        // We keep our own RocksDB; the node's database server is only reported. Field 13's
        // layout differs by profile (a list at 28-29), so a wrong profile shows up here.
        let db_server = match db_server {
            Ok(addr) => addr.unwrap_or_default(),
            Err(error) => format!("unreadable: {error}"),
        };
        // The config as chain config JSON (a file with these bytes is the same config), so a log
        // shipper can read it and a person can paste it.
        let config = config.to_json();
        tracing::info!(chain = %chain_id, node = %node_id, profile = %self.profile, %db_server, %config, "chain initialized");
        Ok(running)
    }

    /// Stops the chain (if any), closes the store, then asks the process to stop. Succeeds
    /// without Initialize: the node's registration-time process calls it that way.
    pub async fn shutdown(&self) {
        let _guard = self.transition.lock().await;
        self.lifecycle.shutdown_called.store(true, Ordering::SeqCst);
        let running = self.running.write().ok().and_then(|mut r| r.take());
        if let Some(running) = running {
            running.servers_stop.trigger();
            running.handles.stop().await;
            tracing::info!(chain = %running.chain_id, "chain shut down");
        }
        self.lifecycle.stop.trigger();
    }
}
