//! The node's JSON-RPC services, `health` at `/ext/health` and `info` at `/ext/info`, in
//! AvalancheGo's method names, shapes and error words, inside the SDK's envelope.

use super::NodeApis;
use rpcchainvm::ids::Id;
use rpcchainvm::jsonrpc::over_http::JsonRpcApi;
use rpcchainvm::jsonrpc::{self, params, to_raw, Call, EnvelopeError, ErrorObject};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// The `health` JSON-RPC service at `/ext/health`.
#[derive(Clone)]
pub(super) struct HealthService(pub(super) Arc<NodeApis>);

/// The `info` JSON-RPC service at `/ext/info`.
#[derive(Clone)]
pub(super) struct InfoService {
    pub(super) apis: Arc<NodeApis>,
    pub(super) bootstrapped: Arc<BTreeMap<Id, bool>>,
}

/// A node JSON-RPC service: its name before the dot, and its methods.
trait NodeService: Clone + Send + Sync + 'static {
    const NAME: &'static str;

    /// Runs `call`, whose service is this one, by its upper-cased method name.
    fn method(
        &self,
        call: &Call<'_>,
    ) -> impl std::future::Future<Output = Result<Box<RawValue>, ErrorObject>> + Send;
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

/// The envelope around a service's methods ([`rpcchainvm::jsonrpc`]), as around a chain API's:
/// entries run in order, gorilla's lookup first (a request to `/ext/info` for `health.health`
/// names no service there).
async fn handle_body<S: NodeService>(service: &S, body: &[u8]) -> Option<Vec<u8>> {
    let (entries, mut replies) = jsonrpc::parse_body(body).into_entries();
    for entry in entries {
        let outcome = match (&entry.call, replies.has_room()) {
            (_, false) => {
                replies.push(jsonrpc::not_run(&entry));
                continue;
            }
            (Err(error), true) => Err(error.clone().into()),
            (Ok(call), true) if call.service() != S::NAME => {
                Err(EnvelopeError::UnknownService(call.name.clone()).into())
            }
            (Ok(call), true) => service.method(call).await,
        };
        replies.push(jsonrpc::encode_reply(entry.id, &outcome));
    }
    replies.finish()
}

impl NodeService for HealthService {
    const NAME: &'static str = "health";

    async fn method(&self, call: &Call<'_>) -> Result<Box<RawValue>, ErrorObject> {
        match call.method() {
            // The `tags` argument filters checks by subnet; one chain needs no filter.
            "Health" => Ok(to_raw(&self.0.health().await)?),
            _ => Err(EnvelopeError::UnknownMethod(call.name.clone()).into()),
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

    async fn method(&self, call: &Call<'_>) -> Result<Box<RawValue>, ErrorObject> {
        match call.method() {
            "GetNodeVersion" => Ok(to_raw(&self.apis.node_version())?),
            "GetNodeID" => Ok(to_raw(&serde_json::json!({
                "nodeID": self.apis.node_id,
                // The dev node has a BLS key but no secret behind it, so no proof.
                "nodePOP": null,
            }))?),
            "GetNetworkID" => Ok(to_raw(&serde_json::json!({
                "networkID": self.apis.network_id.load(Relaxed).to_string(),
            }))?),
            "IsBootstrapped" => {
                let ChainArg { chain } = params(call.params)?;
                if chain.is_empty() {
                    return Err(ErrorObject::server("argument 'chain' not given"));
                }
                let ready = chain.parse().ok().and_then(|id| self.bootstrapped.get(&id));
                let Some(ready) = ready else {
                    let text = format!("there is no chain with alias/ID '{chain}'");
                    return Err(ErrorObject::server(text));
                };
                Ok(to_raw(&IsBootstrappedReply {
                    is_bootstrapped: *ready,
                })?)
            }
            _ => Err(EnvelopeError::UnknownMethod(call.name.clone()).into()),
        }
    }
}

/// `info.getNodeVersion`'s reply; `rpcProtocolVersion` is a decimal string, as Go's `json.Uint32`.
#[derive(Debug, Serialize)]
pub(super) struct NodeVersionReply {
    pub(super) version: String,
    #[serde(rename = "databaseVersion")]
    pub(super) database_version: &'static str,
    #[serde(rename = "rpcProtocolVersion")]
    pub(super) rpc_protocol_version: String,
    /// The dev host is no AvalancheGo build: empty.
    #[serde(rename = "gitCommit")]
    pub(super) git_commit: String,
    #[serde(rename = "vmVersions")]
    pub(super) vm_versions: BTreeMap<String, String>,
}
