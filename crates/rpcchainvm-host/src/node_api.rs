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
//!   names them ([`super::prometheus_text`]); any failure is a 500, as the node's whole endpoint
//!   fails with one bad gatherer.
//!
//! Chains appear here once registered ([`super::gateway::Gateway::register_node_chain`]).

use super::engine::AcceptedTip;
use super::prometheus_text;
use super::VmClient;
use rpcchainvm::ids::Id;
use rpcchainvm::protocol::Profile;
use rpcchainvm::utc::rfc3339_nanos;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use stampvm::api::http::{respond, HeaderField, HttpReply, JsonRpcApi, TEXT_CONTENT_TYPE};
use stampvm::api::jsonrpc::{self, Body, Call, Replies, RpcError};
use stampvm::api::methods::{params, to_raw};
use stampvm::metrics::check_families;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Instant, SystemTime};
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

/// A chain and the run of failures its health check is on, which the node reports.
#[derive(Debug)]
struct Registered {
    chain: NodeChain,
    failures: Mutex<FailureRun>,
}

#[derive(Debug, Default, Clone, Copy)]
struct FailureRun {
    contiguous: i64,
    first: Option<SystemTime>,
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
        let registered = Arc::new(Registered {
            chain,
            failures: Mutex::default(),
        });
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
            headers: reply.headers(Vec::new()),
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

impl Registered {
    /// The node's health check of this chain: the plugin's `Health` under the node's nesting,
    /// timed, and the run of failures updated.
    async fn check(&self) -> CheckResult {
        let at = SystemTime::now();
        let started = Instant::now();
        let answer = self.chain.client.raw().health(()).await;
        let duration = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
        let (vm, error) = match answer {
            // The node embeds the details as raw JSON, empty read as null.
            Ok(reply) => match reply.into_inner().details {
                details if details.is_empty() => (None, None),
                details => match serde_json::from_slice::<Box<RawValue>>(&details) {
                    Ok(raw) => (Some(raw), None),
                    // Go would fail to encode the whole reply; one failed check says more.
                    Err(error) => (None, Some(format!("health details are not JSON: {error}"))),
                },
            },
            // Go's rendering of a gRPC status, as the node's VM client wraps it.
            Err(status) => (
                None,
                Some(format!(
                    "health check failed: rpc error: code = {:?} desc = {}",
                    status.code(),
                    status.message()
                )),
            ),
        };
        let run = {
            let mut run = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
            match error {
                Some(_) => {
                    run.contiguous += 1;
                    run.first.get_or_insert(at);
                }
                None => *run = FailureRun::default(),
            }
            *run
        };
        let consensus = self.chain.tip.as_ref().map(|tip| {
            let tip = *tip.borrow();
            Consensus {
                last_accepted_id: tip.id.to_string(),
                last_accepted_height: tip.height,
            }
        });
        CheckResult {
            message: ChainDetails {
                engine: EngineDetails { consensus, vm },
                networking: Networking {
                    percent_connected: 1.0,
                },
            },
            error,
            timestamp: rfc3339_nanos(at),
            duration,
            contiguous_failures: run.contiguous,
            time_of_first_failure: run.first.map(rfc3339_nanos),
        }
    }
}

/// AvalancheGo's `health.APIReply`.
#[derive(Debug, Serialize)]
struct HealthReply {
    checks: BTreeMap<String, CheckResult>,
    healthy: bool,
}

/// AvalancheGo's `health.Result`, its members in Go's order and with Go's `omitempty`s.
#[derive(Debug, Serialize)]
struct CheckResult {
    message: ChainDetails,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    timestamp: String,
    /// Nanoseconds, as Go marshals a `time.Duration`.
    duration: i64,
    #[serde(rename = "contiguousFailures", skip_serializing_if = "is_zero")]
    contiguous_failures: i64,
    #[serde(rename = "timeOfFirstFailure", skip_serializing_if = "Option::is_none")]
    time_of_first_failure: Option<String>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// The node's chain health (its message handler's), whose `engine.vm` is the plugin's details.
#[derive(Debug, Serialize)]
struct ChainDetails {
    engine: EngineDetails,
    networking: Networking,
}

#[derive(Debug, Serialize)]
struct EngineDetails {
    consensus: Option<Consensus>,
    vm: Option<Box<RawValue>>,
}

/// What the dev engine knows of consensus: the block it last accepted.
#[derive(Debug, Serialize)]
struct Consensus {
    #[serde(rename = "lastAcceptedID")]
    last_accepted_id: String,
    #[serde(rename = "lastAcceptedHeight")]
    last_accepted_height: u64,
}

/// A one-validator node is connected to all the stake there is: its own.
#[derive(Debug, Serialize)]
struct Networking {
    #[serde(rename = "percentConnected")]
    percent_connected: f64,
}

/// `info.getNodeVersion`'s reply; `rpcProtocolVersion` is a decimal string, as Go's `json.Uint32`.
#[derive(Debug, Serialize)]
struct NodeVersionReply {
    version: String,
    #[serde(rename = "databaseVersion")]
    database_version: &'static str,
    #[serde(rename = "rpcProtocolVersion")]
    rpc_protocol_version: String,
    /// The dev host is no AvalancheGo build: empty.
    #[serde(rename = "gitCommit")]
    git_commit: String,
    #[serde(rename = "vmVersions")]
    vm_versions: BTreeMap<String, String>,
}

/// Go's `json.Encoder`: compact JSON and a newline.
fn encode_line<T: Serialize>(value: &T) -> Vec<u8> {
    let mut body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
    body.push(b'\n');
    body
}

/// The `health` JSON-RPC service at `/ext/health`.
#[derive(Clone)]
struct HealthService(Arc<NodeApis>);

/// The `info` JSON-RPC service at `/ext/info`.
#[derive(Clone)]
struct InfoService {
    apis: Arc<NodeApis>,
    bootstrapped: Arc<BTreeMap<Id, bool>>,
}

/// A node JSON-RPC service: its name before the dot, and its methods.
trait NodeService: Clone + Send + Sync + 'static {
    const NAME: &'static str;

    /// Runs `call`, whose service is this one, by its upper-cased method name.
    fn method(
        &self,
        call: &Call<'_>,
    ) -> impl std::future::Future<Output = Result<Box<RawValue>, RpcError>> + Send;
}

impl JsonRpcApi for HealthService {
    async fn handle_body(&self, body: &[u8]) -> Option<Vec<u8>> {
        handle_body(self, body).await
    }
}

impl JsonRpcApi for InfoService {
    async fn handle_body(&self, body: &[u8]) -> Option<Vec<u8>> {
        handle_body(self, body).await
    }
}

/// The envelope around a service's methods, as around the chain API's ([`stampvm::api::jsonrpc`]):
/// entries run in order, gorilla's lookup first (a request to `/ext/info` for `health.health`
/// names no service there).
async fn handle_body<S: NodeService>(service: &S, body: &[u8]) -> Option<Vec<u8>> {
    let (entries, batch) = match jsonrpc::parse_body(body) {
        Body::Single(entry) => (vec![entry], false),
        Body::Batch(entries) => (entries, true),
    };
    let mut replies = Replies::new(batch);
    for entry in entries {
        let outcome = match (&entry.call, replies.has_room()) {
            (_, false) => {
                replies.push(jsonrpc::not_run(&entry));
                continue;
            }
            (Err(error), true) => Err(error.clone()),
            (Ok(call), true) if call.service() != S::NAME => {
                Err(RpcError::UnknownService(call.name.clone()))
            }
            (Ok(call), true) => service.method(call).await,
        };
        replies.push(jsonrpc::encode_reply(entry.id, &outcome));
    }
    replies.finish()
}

impl NodeService for HealthService {
    const NAME: &'static str = "health";

    async fn method(&self, call: &Call<'_>) -> Result<Box<RawValue>, RpcError> {
        match call.method() {
            // The `tags` argument filters checks by subnet; one chain needs no filter.
            "Health" => to_raw(&self.0.health().await),
            _ => Err(RpcError::UnknownMethod(call.name.clone())),
        }
    }
}

/// `info.isBootstrapped`'s argument.
#[derive(Debug, Default, Deserialize)]
struct ChainArg {
    #[serde(default)]
    chain: String,
}

#[derive(Debug, Serialize)]
struct IsBootstrappedReply {
    #[serde(rename = "isBootstrapped")]
    is_bootstrapped: bool,
}

impl NodeService for InfoService {
    const NAME: &'static str = "info";

    async fn method(&self, call: &Call<'_>) -> Result<Box<RawValue>, RpcError> {
        match call.method() {
            "GetNodeVersion" => to_raw(&self.apis.node_version()),
            "GetNodeID" => to_raw(&serde_json::json!({
                "nodeID": self.apis.node_id,
                // The dev node has a BLS key but no secret behind it, so no proof.
                "nodePOP": null,
            })),
            "GetNetworkID" => to_raw(&serde_json::json!({
                "networkID": self.apis.network_id.load(Relaxed).to_string(),
            })),
            "IsBootstrapped" => {
                let ChainArg { chain } = params(call.params)?;
                if chain.is_empty() {
                    return Err(RpcError::Node("argument 'chain' not given".into()));
                }
                let ready = chain.parse().ok().and_then(|id| self.bootstrapped.get(&id));
                let Some(ready) = ready else {
                    let text = format!("there is no chain with alias/ID '{chain}'");
                    return Err(RpcError::Node(text));
                };
                to_raw(&IsBootstrappedReply {
                    is_bootstrapped: *ready,
                })
            }
            _ => Err(RpcError::UnknownMethod(call.name.clone())),
        }
    }
}
