//! The node's own APIs, served next to the chains' on the gateway's port as AvalancheGo serves
//! them on 9650, so health checks, `info` calls and Prometheus scrapes can be rehearsed against
//! `stampvm dev` (README, "Node endpoints in `stampvm dev`"):
//!
//! - `/ext/health`: `GET` answers `{"checks": {…}, "healthy": …}` with 200, or 503 when a check
//!   fails; any other method is JSON-RPC `health.health` with the same result. `/ext/health/health`
//!   answers as `GET` whatever the method. One check per chain, keyed by its ID, run when asked
//!   (the node runs them every 30 s and answers the last results): its `message` nests the plugin's
//!   `vm.VM/Health` details where the node does, `{"engine": {"consensus": …, "vm": <details>},
//!   "networking": …}`; a `Health` error status fails the check with Go's wording of it.
//! - `/ext/info`: JSON-RPC `info.getNodeVersion` (with the plugin's `vm.VM/Version` under its VM
//!   ID in `vmVersions`), `info.getNodeID`, `info.getNetworkID`, `info.isBootstrapped`.
//! - `/ext/metrics`: every chain's `vm.VM/Gather`, checked by the node's rules, named as the node
//!   names them (`prometheus_text`); any failure is a 500, as the node's whole endpoint
//!   fails with one bad gatherer.
//!
//! Chains appear here once registered ([`super::gateway::Gateway::register_node_chain`]).

mod health;
mod services;

use super::engine::AcceptedTip;
use super::prometheus_text;
use super::VmClient;
use health::{HealthReply, Registered};
use rpcchainvm::gather::check_families;
use rpcchainvm::http::{HeaderField, HttpReply};
use rpcchainvm::ids::Id;
use rpcchainvm::jsonrpc::over_http::{respond, TEXT_CONTENT_TYPE};
use rpcchainvm::protocol::Profile;
use serde::Serialize;
use services::{HealthService, InfoService, NodeVersionReply};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock};
use tokio::sync::watch;

/// The network ID of a local network (AvalancheGo's `constants.LocalID`), which the dev node's
/// chains are told at Initialize unless the host says otherwise.
pub const LOCAL_NETWORK_ID: u32 = 12345;

/// AvalancheGo's database version (`version.CurrentDatabase`), the same in every release the
/// profiles cover.
const DATABASE_VERSION: &str = "v1.4.5";

/// Prometheus' text format, as the node's `/ext/metrics` labels it.
const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the node's APIs need of one chain.
#[derive(Debug, Clone)]
pub struct NodeChain {
    /// Its VM: the `avalanche_<vmID>_` metric prefix and the key in `vmVersions`.
    pub vm_id: Id,
    /// What the VM's `vm.VM/Version` said, for `info.getNodeVersion`.
    pub vm_version: String,
    /// The chain's plugin, asked for `Health` and `Gather`.
    pub client: VmClient,
    /// The engine's last accepted block, reported as the consensus part of the chain's health.
    pub tip: Option<watch::Receiver<AcceptedTip>>,
}

/// Which node endpoint a request path names, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
    /// `/ext/health`: `GET` or JSON-RPC.
    Health,
    /// `/ext/health/health`: the `GET` answer for every method.
    HealthGet,
    Info,
    Metrics,
}

impl Endpoint {
    pub(super) fn for_path(path: &str) -> Option<Endpoint> {
        match path {
            "/ext/health" => Some(Endpoint::Health),
            "/ext/health/health" => Some(Endpoint::HealthGet),
            "/ext/info" => Some(Endpoint::Info),
            "/ext/metrics" => Some(Endpoint::Metrics),
            _ => None,
        }
    }
}

/// A node API's answer; the gateway adds the node's preset headers.
#[derive(Debug)]
pub(super) struct NodeReply {
    pub status: u16,
    pub headers: Vec<HeaderField>,
    pub body: Vec<u8>,
}

impl NodeReply {
    fn new(status: u16, content_type: &str, body: Vec<u8>) -> NodeReply {
        NodeReply {
            status,
            headers: vec![HeaderField::new("Content-Type", content_type)],
            body,
        }
    }
}

/// The node's APIs: its identity, and the chains registered for them.
pub(super) struct NodeApis {
    node_id: String,
    profile: Profile,
    network_id: AtomicU32,
    chains: RwLock<BTreeMap<Id, Arc<Registered>>>,
}

impl NodeApis {
    pub(super) fn new(node_id: String, profile: Profile) -> NodeApis {
        NodeApis {
            node_id,
            profile,
            network_id: AtomicU32::new(LOCAL_NETWORK_ID),
            chains: RwLock::default(),
        }
    }

    pub(super) fn set_network_id(&self, network_id: u32) {
        self.network_id.store(network_id, Relaxed);
    }

    pub(super) fn register(&self, chain_id: Id, chain: NodeChain) {
        let registered = Arc::new(Registered::new(chain));
        self.write().insert(chain_id, registered);
    }

    pub(super) fn remove(&self, chain_id: Id) {
        self.write().remove(&chain_id);
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<Id, Arc<Registered>>> {
        self.chains.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The registered chains, copied out so no lock is held across a plugin call.
    fn snapshot(&self) -> Vec<(Id, Arc<Registered>)> {
        let chains = self.chains.read().unwrap_or_else(PoisonError::into_inner);
        chains.iter().map(|(id, c)| (*id, c.clone())).collect()
    }

    /// Answers one request to `endpoint`. `bootstrapped` is every mounted chain's readiness, for
    /// `info.isBootstrapped`.
    pub(super) async fn answer(
        self: &Arc<Self>,
        endpoint: Endpoint,
        method: &str,
        headers: &[HeaderField],
        body: &[u8],
        bootstrapped: BTreeMap<Id, bool>,
    ) -> NodeReply {
        let json_rpc = |reply: HttpReply| NodeReply {
            status: reply.status,
            headers: reply.headers,
            body: reply.body,
        };
        match endpoint {
            Endpoint::Health if method != "GET" => {
                json_rpc(respond(&HealthService(self.clone()), method, headers, body).await)
            }
            Endpoint::Health | Endpoint::HealthGet => {
                let report = self.health().await;
                let status = if report.healthy { 200 } else { 503 };
                NodeReply::new(status, "application/json", encode_line(&report))
            }
            Endpoint::Info => {
                let info = InfoService {
                    apis: self.clone(),
                    bootstrapped: Arc::new(bootstrapped),
                };
                json_rpc(respond(&info, method, headers, body).await)
            }
            Endpoint::Metrics => match self.metrics().await {
                Ok(text) => NodeReply::new(200, METRICS_CONTENT_TYPE, text.into_bytes()),
                // promhttp's words for a failed gather.
                Err(error) => NodeReply::new(
                    500,
                    TEXT_CONTENT_TYPE,
                    format!("An error has occurred while serving metrics:\n\n{error}\n")
                        .into_bytes(),
                ),
            },
        }
    }

    /// Every chain's health check, run now.
    async fn health(&self) -> HealthReply {
        let mut checks = BTreeMap::new();
        for (chain_id, registered) in self.snapshot() {
            checks.insert(chain_id.to_string(), registered.check().await);
        }
        let healthy = checks.values().all(|check| check.error.is_none());
        HealthReply { checks, healthy }
    }

    /// The text the node's `/ext/metrics` shows of the registered chains.
    async fn metrics(&self) -> Result<String, String> {
        let mut per_chain = Vec::new();
        for (chain_id, registered) in self.snapshot() {
            let chain = &registered.chain;
            let gathered = chain.client.gather().await.map_err(|e| e.to_string())?;
            let families = gathered.metric_families;
            check_families(&families).map_err(|e| format!("chain {chain_id}: {e}"))?;
            let prefix = format!("avalanche_{}_", chain.vm_id);
            let alias = chain_id.to_string();
            per_chain.push(prometheus_text::for_chain(&prefix, &alias, families));
        }
        let families = prometheus_text::merge(per_chain).map_err(|e| e.to_string())?;
        Ok(prometheus_text::render(&families))
    }

    fn node_version(&self) -> NodeVersionReply {
        let vm_versions = self
            .snapshot()
            .into_iter()
            .map(|(_, registered)| {
                let chain = &registered.chain;
                (chain.vm_id.to_string(), chain.vm_version.clone())
            })
            .collect();
        NodeVersionReply {
            version: self.profile.node_release().to_string(),
            database_version: DATABASE_VERSION,
            rpc_protocol_version: self.profile.announced().to_string(),
            git_commit: String::new(),
            vm_versions,
        }
    }
}

/// Go's `json.Encoder`: compact JSON and a newline.
fn encode_line<T: Serialize>(value: &T) -> Vec<u8> {
    let mut body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
    body.push(b'\n');
    body
}
