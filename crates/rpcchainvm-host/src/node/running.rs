//! [`RunningNode`]: a node [`super::NodeBuilder::start`] started, its parts, and the node's stop.

use crate::engine::EngineFailure;
use crate::gateway::{Gateway, GatewayError};
use crate::rpcdb::NodeDatabaseHandle;
use crate::{
    ChainParams, ChainStart, EngineHandle, HostError, Network, NodeServicesHandle, PluginProcess,
    StaticHandlerProcess, VmClient,
};
use rpcchainvm::ids::{Id, NodeId};
use rpcchainvm::protocol::Profile;
use rpcchainvm::shutdown::Shutdown;
use std::net::SocketAddr;
use std::process::ExitStatus;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long the plugin gets after SIGTERM before SIGKILL, as the node gives it.
const PLUGIN_GRACE: Duration = Duration::from_secs(5);
/// How long the stop waits for the gateway to drain its connections.
const GATEWAY_DRAIN: Duration = Duration::from_secs(2);

/// The parts of a [`RunningNode`], for a caller that drives them itself (a test that kills the
/// plugin, starts an engine of its own, or stops the node another way).
pub struct NodeParts {
    pub process: PluginProcess,
    pub client: VmClient,
    pub services: NodeServicesHandle,
    pub network: Network,
    /// What the chain was started with (the config the plugin accepted among them).
    pub params: ChainParams,
    pub started: ChainStart,
    /// Stops the node's servers and the engine.
    pub shutdown: Shutdown,
    pub gateway: Option<Gateway>,
    pub engine: Option<EngineHandle>,
    pub static_handlers: Option<StaticHandlerProcess>,
    pub vm_id: Option<Id>,
    pub database: Option<NodeDatabaseHandle>,
}

/// A started node: the plugin handshaken, the chain started, and whatever else was asked for
/// serving. [`RunningNode::stop`] stops it the node's way.
pub struct RunningNode {
    parts: NodeParts,
    gateway_task: Option<JoinHandle<Result<(), GatewayError>>>,
}

impl RunningNode {
    pub(super) fn new(
        parts: NodeParts,
        gateway_task: Option<JoinHandle<Result<(), GatewayError>>>,
    ) -> RunningNode {
        RunningNode {
            parts,
            gateway_task,
        }
    }

    pub fn process(&self) -> &PluginProcess {
        &self.parts.process
    }

    /// The node's client of the chain plugin's `vm.VM` service.
    pub fn client(&self) -> &VmClient {
        &self.parts.client
    }

    pub fn services(&self) -> &NodeServicesHandle {
        &self.parts.services
    }

    pub fn node_id(&self) -> NodeId {
        self.parts.params.node_id
    }

    pub fn profile(&self) -> Profile {
        self.parts.params.profile
    }

    /// What the chain was started with; its `config_bytes` are the config the plugin accepted.
    pub fn params(&self) -> &ChainParams {
        &self.parts.params
    }

    pub fn chain_id(&self) -> Id {
        self.parts.params.chain_id
    }

    pub fn started(&self) -> &ChainStart {
        &self.parts.started
    }

    pub fn gateway(&self) -> Option<&Gateway> {
        self.parts.gateway.as_ref()
    }

    /// Where the node's HTTP API listens, if it serves one.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.gateway().map(Gateway::local_addr)
    }

    pub fn engine(&self) -> Option<&EngineHandle> {
        self.parts.engine.as_ref()
    }

    /// The static-handler process (profiles up to 30, with a VM ID and a gateway).
    pub fn static_handlers(&self) -> Option<&StaticHandlerProcess> {
        self.parts.static_handlers.as_ref()
    }

    pub fn vm_id(&self) -> Option<Id> {
        self.parts.vm_id
    }

    /// The engine's failure once it stopped the chain (after a failed BlockAccept, as the node
    /// does); never resolves without an engine.
    pub async fn engine_failed(&self) -> EngineFailure {
        match &self.parts.engine {
            Some(engine) => engine.failed().await,
            None => std::future::pending().await,
        }
    }

    /// Takes the node apart; the gateway keeps serving until `shutdown` fires.
    pub fn into_parts(self) -> NodeParts {
        self.parts
    }

    /// The node's stop: unmount the chain, stop the engine, Shutdown the plugin (SIGTERM, then
    /// SIGKILL after 5 s), then the static-handler process (SIGTERM only) and the gateway.
    /// Returns the plugin's exit status.
    pub async fn stop(self) -> Result<ExitStatus, HostError> {
        let NodeParts {
            process,
            client,
            params,
            shutdown,
            gateway,
            engine,
            static_handlers,
            vm_id,
            ..
        } = self.parts;
        tracing::info!("stopping: shutting the plugin down");
        if let Some(gateway) = &gateway {
            gateway.set_ready(params.chain_id, false);
        }
        shutdown.trigger();
        if let Some(engine) = engine {
            engine.join().await;
        }
        let status = process.stop(&client, PLUGIN_GRACE).await?;
        tracing::info!(%status, "plugin stopped");
        if let Some(static_process) = static_handlers {
            // The node's exit: the static-handler process never gets Shutdown, only SIGTERM.
            if let (Some(gateway), Some(vm_id)) = (&gateway, vm_id) {
                gateway.remove_vm(vm_id);
            }
            let status = static_process.stop().await?;
            tracing::info!(%status, "static-handler process stopped");
        }
        if let Some(task) = self.gateway_task {
            let _ = tokio::time::timeout(GATEWAY_DRAIN, task).await;
        }
        Ok(status)
    }
}
