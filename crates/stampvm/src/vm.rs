//! stampvm as an [`rpcchainvm::Vm`]: the composition root. Initialize opens the store, applies
//! the chain config (logging, metrics endpoint) and starts the actors (`running`); every other
//! call is answered by messaging the actors, or by reading the store where blocks are already
//! accepted (immutable). The SDK carries it all over gRPC in the node's profile.

pub mod blocks;
pub mod health;
mod running;

use crate::actors::builder::{BuildError, BuilderMsg};
use crate::actors::chain::{AncestorsQuery, ChainMsg};
use crate::actors::{ask, BLOCKING_CALL};
use crate::api::static_api::StaticApi;
use crate::api::BackendError;
use crate::failures::{self, Cause, Operation};
use crate::metrics::Metrics;
use rpcchainvm::ids::{Id, NodeId};
use rpcchainvm::jsonrpc::over_http::JsonRpcHandler;
use rpcchainvm::vm::{EngineState, Event, MetricFamily, PeerVersion};
use rpcchainvm::{
    AncestorsLimits, BlockInfo, BlockStatus, InitParams, SharedHandler, Timestamp, Vm, VmError,
};
use running::Running;
use std::sync::RwLock;

pub use running::metrics_refusal_cause;

/// The VM the plugin serves: at most one chain, started by Initialize.
pub struct StampVm {
    metrics: Metrics,
    running: RwLock<Option<Running>>,
    /// The static API of profiles 28-30 (one value, so the SDK serves it with one server).
    static_api: SharedHandler,
}

impl Default for StampVm {
    fn default() -> Self {
        StampVm::new()
    }
}

impl StampVm {
    /// Installs the process's metrics recorder, so the first scrape already sees every family.
    pub fn new() -> StampVm {
        let metrics = crate::metrics::install();
        // The API's per-method family, at zero from the first scrape like the others.
        crate::api::methods::register_request_metrics();
        StampVm {
            metrics,
            running: RwLock::new(None),
            static_api: SharedHandler::new(JsonRpcHandler(StaticApi)),
        }
    }

    /// The running chain, or the error a call before Initialize (or after Shutdown) gets.
    fn running(&self) -> Result<Running, VmError> {
        self.running
            .read()
            .map_err(|_| VmError::Internal("state lock poisoned".into()))?
            .clone()
            .ok_or(VmError::NotInitialized)
    }

    fn try_running(&self) -> Option<Running> {
        self.running.read().ok().and_then(|r| r.clone())
    }

    async fn chain_call<T: Send + 'static>(
        &self,
        build: impl FnOnce(crate::actors::chain::Reply<T>) -> ChainMsg,
    ) -> Result<T, VmError> {
        let running = self.running()?;
        ask(&running.handles.chain, build, BLOCKING_CALL)
            .await
            .map_err(unavailable)?
            .map_err(failed)
    }
}

fn unavailable(e: BackendError) -> VmError {
    VmError::Unavailable(e.to_string())
}

fn failed(e: impl std::fmt::Display) -> VmError {
    VmError::Failed(e.to_string())
}

/// A read of the store this VM makes itself (not through the chain actor, which reports its
/// own): counted and logged, then answered as [`failed`].
fn store_failed(e: crate::storage::StorageError) -> VmError {
    failures::report(Operation::Read, Cause::Storage, &e);
    failed(e)
}

impl Vm for StampVm {
    async fn initialize(&self, params: InitParams) -> Result<BlockInfo, VmError> {
        let running = running::start(params, &self.metrics).await?;
        *self
            .running
            .write()
            .map_err(|_| VmError::Internal("state lock poisoned".into()))? = Some(running.clone());
        let last = ask(
            &running.handles.chain,
            ChainMsg::LastAccepted,
            BLOCKING_CALL,
        )
        .await
        .map_err(unavailable)?
        .map_err(failed)?;
        blocks::held(&last)
    }

    async fn set_state(&self, _state: EngineState) -> Result<BlockInfo, VmError> {
        blocks::held(&self.chain_call(ChainMsg::LastAccepted).await?)
    }

    async fn shutdown(&self) {
        let running = self.running.write().ok().and_then(|mut r| r.take());
        if let Some(running) = running {
            running.stop().await;
        }
    }

    async fn build_block(&self) -> Result<BlockInfo, VmError> {
        let running = self.running()?;
        let built = ask(&running.handles.builder, BuilderMsg::Build, BLOCKING_CALL)
            .await
            .map_err(unavailable)?
            .map_err(|e| match e {
                BuildError::NothingToBuild => VmError::Refused(e.to_string()),
                // The chain actor reported its own failures; this one never reached it.
                BuildError::Unavailable(_) => {
                    failures::report(Operation::Build, Cause::Other, &e);
                    failed(e)
                }
                other => failed(other),
            })?;
        blocks::held(&built)
    }

    async fn parse_block(&self, bytes: &[u8]) -> Result<BlockInfo, VmError> {
        let block = blocks::decode(bytes, self.running()?.handles.store.format())?;
        blocks::parsed(&block)
    }

    /// Accepted if it is the accepted block at its height, rejected if another block is (it can
    /// never be accepted), processing otherwise.
    async fn parsed_block_status(&self, block: &BlockInfo) -> Result<BlockStatus, VmError> {
        let running = self.running()?;
        let accepted = running
            .handles
            .store
            .block_id_at_height(block.height)
            .map_err(store_failed)?;
        Ok(match accepted {
            Some(accepted) if accepted == block.id => BlockStatus::Accepted,
            Some(_) => BlockStatus::Rejected,
            None => BlockStatus::Processing,
        })
    }

    async fn get_block(&self, id: Id) -> Result<Option<BlockInfo>, VmError> {
        match self.chain_call(|r| ChainMsg::Get(id, r)).await? {
            Some(view) => Ok(Some(blocks::held(&view)?)),
            None => Ok(None),
        }
    }

    async fn verify_block(&self, bytes: &[u8]) -> Result<Timestamp, VmError> {
        let block = blocks::decode(bytes, self.running()?.handles.store.format())?;
        let view = self.chain_call(|r| ChainMsg::Verify(block, r)).await?;
        Timestamp::from_unix(view.block.timestamp)
    }

    async fn accept_block(&self, id: Id) -> Result<(), VmError> {
        self.chain_call(|r| ChainMsg::Accept(id, r)).await
    }

    async fn reject_block(&self, id: Id) -> Result<(), VmError> {
        self.chain_call(|r| ChainMsg::Reject(id, r)).await
    }

    async fn set_preference(&self, id: Id) -> Result<(), VmError> {
        self.chain_call(|r| ChainMsg::SetPreference(id, r)).await
    }

    /// Accepted blocks are immutable: read the store directly, without the chain actor.
    async fn block_id_at_height(&self, height: u64) -> Result<Option<Id>, VmError> {
        let running = self.running()?;
        running
            .handles
            .store
            .block_id_at_height(height)
            .map_err(store_failed)
    }

    async fn ancestors(&self, id: Id, limits: AncestorsLimits) -> Result<Vec<Vec<u8>>, VmError> {
        let query = AncestorsQuery {
            id,
            max_blocks: limits.max_blocks,
            max_bytes: limits.max_bytes,
            max_time: limits.max_time,
        };
        self.chain_call(|r| ChainMsg::Ancestors(query, r)).await
    }

    async fn health(&self) -> Result<String, VmError> {
        health::report(self.try_running()).await
    }

    async fn version(&self) -> Result<String, VmError> {
        Ok(format!("v{}", crate::VERSION))
    }

    /// `""` is where Go TimestampVM clients post (`/ext/bc/<chainID>`); `/rpc` is the usual path.
    async fn create_handlers(&self) -> Result<Vec<(String, SharedHandler)>, VmError> {
        let api = self.running()?.api;
        Ok(vec![("".into(), api.clone()), ("/rpc".into(), api)])
    }

    async fn http_handler(&self) -> Result<Option<SharedHandler>, VmError> {
        Ok(Some(self.running()?.api))
    }

    /// The chain-less static API, mounted at `/ext/vm/<vmID>`.
    async fn create_static_handlers(&self) -> Result<Vec<(String, SharedHandler)>, VmError> {
        Ok(vec![("".into(), self.static_api.clone())])
    }

    async fn wait_for_event(&self) -> Result<Event, VmError> {
        let running = self.running()?;
        // No timeout: the call blocks until there is work; the node cancels it by resetting the
        // stream, which drops this future and with it our reply port (nothing is consumed).
        ask(&running.handles.builder, BuilderMsg::WaitForEvent, None)
            .await
            .map_err(unavailable)?;
        Ok(Event::BuildBlock)
    }

    // Logged here rather than by the SDK's defaults, so the events are stampvm's.
    async fn connected(&self, node: NodeId, version: PeerVersion) -> Result<(), VmError> {
        tracing::debug!(%node, version = %version.0, "peer connected");
        Ok(())
    }

    async fn disconnected(&self, node: NodeId) -> Result<(), VmError> {
        tracing::debug!(%node, "peer disconnected");
        Ok(())
    }

    async fn app_gossip(&self, from: NodeId, msg: Vec<u8>) {
        match self.try_running() {
            Some(running) => running.handles.gossip_in(from, msg),
            None => tracing::debug!("gossip before Initialize dropped"),
        }
    }

    async fn gather(&self) -> Vec<MetricFamily> {
        self.metrics.gather()
    }
}
