//! Starting one chain at Initialize: the chain config applied (logging, metrics endpoint), the
//! store opened (or resumed), the actors started. A refused start leaves nothing behind, so the
//! node may call Initialize again.

use super::health::HealthCheck;
use crate::actors::VmHandles;
use crate::api::http::ChainApi;
use crate::chain::{parse_genesis, Genesis, Id, NodeId};
use crate::clock::Clock;
use crate::config::ChainConfig;
use crate::metrics::Metrics;
use crate::storage::{Store, StoreOptions};
use rpcchainvm::jsonrpc::over_http::JsonRpcHandler;
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm::{InitParams, SharedHandler, VmError};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// One initialized chain.
#[derive(Clone)]
pub(crate) struct Running {
    pub(crate) handles: VmHandles,
    pub(crate) chain_id: Id,
    /// The JSON-RPC API's handler: one value, so the SDK serves it with one `http.HTTP` server
    /// at every prefix and for the header-routed handler.
    pub(crate) api: SharedHandler,
    /// The chain's one stop signal: its own servers (the Prometheus endpoint) and every actor
    /// task watch children of it, so the node's Shutdown stops them all.
    pub(crate) stop: Shutdown,
    /// What the Health RPC keeps between calls (its cached store probe, the stall threshold).
    pub(crate) health: Arc<HealthCheck>,
}

fn invalid(e: impl std::fmt::Display) -> VmError {
    VmError::Invalid(e.to_string())
}

/// How a refused `metrics-addr` starts its message; [`metrics_refusal_cause`] looks for it.
const METRICS_REFUSAL: &str = "chain config key `metrics-addr`: cannot serve metrics on ";

/// Initialize's refusal when the chain config's `metrics-addr` cannot be bound. The chain does
/// not start without it: an operator who set the key scrapes that address, and a port in use
/// usually has another HTTP server behind it (9100 is node_exporter's), which a scrape would
/// then read as this chain's metrics, up and silently wrong. The node logs the refusal; the fix
/// is a free port or no key (the node's `/ext/metrics` serves the same metrics either way).
fn metrics_refusal(addr: SocketAddr, error: &std::io::Error) -> VmError {
    let hint = match error.kind() {
        std::io::ErrorKind::AddrInUse => {
            "; another process listens there: choose a free port, or remove the key (the node's /ext/metrics serves the same metrics)"
        }
        _ => "",
    };
    VmError::Refused(format!("{METRICS_REFUSAL}{addr}: {error}{hint}"))
}

/// When `status` is the refusal of `metrics_refusal` as the node receives it, its cause
/// (`<addr>: <OS error>`): a host that put `metrics-addr` in the config itself (`stampvm dev`)
/// may start the chain again without it, and say why in its own words.
pub fn metrics_refusal_cause(status: &tonic::Status) -> Option<&str> {
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

/// Validates the node's parameters, opens (or resumes) the store and starts the actors.
pub(crate) async fn start(params: InitParams, metrics: &Metrics) -> Result<Running, VmError> {
    let config = ChainConfig::from_bytes(&params.config_bytes).map_err(invalid)?;
    crate::logging::apply(config.log_level, config.log_format);
    let genesis = parse_genesis(&params.genesis_bytes).map_err(invalid)?;
    let (chain_id, node_id): (Id, NodeId) = (params.chain_id, params.node_id);
    if params.chain_data_dir.as_os_str().is_empty() {
        return Err(VmError::Invalid("chain_data_dir is empty".into()));
    }
    let dir = params.chain_data_dir;
    let store_options = StoreOptions::for_chain(&config, genesis.format);
    let store = tokio::task::spawn_blocking(move || open_store(&dir, &genesis, store_options))
        .await
        .map_err(|e| VmError::Internal(e.to_string()))?
        .map_err(|e| {
            // The node shows only "error creating chain" and this message; the chain's log
            // (our stderr) must carry it too, at ERROR, since the chain will not run until
            // the operator acts on it.
            crate::failures::report(
                crate::failures::Operation::Open,
                crate::failures::Cause::Storage,
                &e,
            );
            VmError::Refused(e)
        })?;
    let stop = Shutdown::new();
    let metrics_addr = match config.metrics_addr {
        None => None,
        Some(addr) => Some(
            crate::metrics::serve_scrape(addr, metrics.clone(), stop.child())
                .await
                .map_err(|e| metrics_refusal(addr, &e))?,
        ),
    };
    let actors = VmHandles::start_under(
        Arc::new(store),
        &config,
        params.node,
        Clock::System,
        stop.child(),
    );
    let handles = match actors.await {
        Ok(handles) => handles,
        Err(e) => {
            stop.trigger();
            return Err(VmError::Internal(e.to_string()));
        }
    };
    if let Some(addr) = metrics_addr {
        tracing::info!(%addr, "serving Prometheus metrics at /metrics");
    }
    let running = Running {
        api: SharedHandler::new(JsonRpcHandler(ChainApi(handles.clone()))),
        handles,
        chain_id,
        stop,
        health: Arc::new(HealthCheck::new(config.health_max_processing())),
    };
    // We keep our own RocksDB; the node's database server is only reported. Field 13's
    // layout differs by profile (a list at 28-29), so a wrong profile shows up here.
    let db_server = match params.db_server_addr {
        Ok(addr) => addr.unwrap_or_default(),
        Err(error) => format!("unreadable: {error}"),
    };
    // The config as chain config JSON (a file with these bytes is the same config), so a log
    // shipper can read it and a person can paste it.
    let config = config.to_json();
    let profile = params.profile;
    tracing::info!(chain = %chain_id, node = %node_id, %profile, %db_server, %config, "chain initialized");
    Ok(running)
}

impl Running {
    /// Stops the chain's servers and actors (producers first), closing the store.
    pub(crate) async fn stop(self) {
        self.stop.trigger();
        self.handles.stop().await;
        tracing::info!(chain = %self.chain_id, "chain shut down");
    }
}
