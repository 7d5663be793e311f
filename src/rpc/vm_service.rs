//! The `vm.VM` gRPC service: every call the node makes, answered. Handlers are thin: decode the
//! request, send a message to an actor (or read the store), await, encode the reply.

use crate::actors::builder::{BuildError, BuilderMsg};
use crate::actors::chain::{AncestorsQuery, ChainMsg};
use crate::actors::{ask, BLOCKING_CALL};
use crate::api::BackendError;
use crate::rpc::convert;
use crate::rpc::lifecycle::{Running, VmState};
use crate::rpc::pb::vm::{self, vm_server::Vm};
use std::sync::Arc;
use std::time::Duration;
use tonic::{Request, Response, Status};

type Reply<T> = Result<Response<T>, Status>;

/// Cheap to clone; all clones share one [`VmState`].
#[derive(Clone)]
pub struct VmService {
    state: Arc<VmState>,
}

impl VmService {
    pub fn new(state: Arc<VmState>) -> VmService {
        VmService { state }
    }

    /// The tonic server for this service, with the node's (unlimited) message sizes.
    pub fn into_server(self) -> vm::vm_server::VmServer<VmService> {
        vm::vm_server::VmServer::new(self)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX)
    }

    fn running(&self) -> Result<Running, Status> {
        self.state.running()
    }
}

fn unavailable(e: BackendError) -> Status {
    Status::unavailable(e.to_string())
}

fn failed(e: impl std::fmt::Display) -> Status {
    Status::unknown(e.to_string())
}

fn ok<T>(value: T) -> Reply<T> {
    Ok(Response::new(value))
}

impl VmService {
    async fn chain_call<T: Send + 'static>(
        &self,
        build: impl FnOnce(crate::actors::chain::Reply<T>) -> ChainMsg,
    ) -> Result<T, Status> {
        let running = self.running()?;
        ask(&running.handles.chain, build, BLOCKING_CALL)
            .await
            .map_err(unavailable)?
            .map_err(failed)
    }

    /// The HTTP server address, starting the server on first use.
    async fn http_addr(&self) -> Result<String, Status> {
        let running = self.running()?;
        let addr = running
            .http_addr
            .get_or_try_init(|| {
                crate::rpc::http_service::serve_http(
                    running.handles.clone(),
                    running.servers_stop.clone(),
                )
            })
            .await
            .map_err(|e| Status::internal(format!("starting the HTTP server: {e}")))?;
        Ok(addr.to_string())
    }
}

#[tonic::async_trait]
impl Vm for VmService {
    async fn initialize(
        &self,
        request: Request<vm::InitializeRequest>,
    ) -> Reply<vm::InitializeResponse> {
        let running = self.state.initialize(request.into_inner()).await?;
        let last = ask(
            &running.handles.chain,
            ChainMsg::LastAccepted,
            BLOCKING_CALL,
        )
        .await
        .map_err(unavailable)?
        .map_err(failed)?;
        ok(convert::initialize_response(&last)?)
    }

    async fn set_state(
        &self,
        request: Request<vm::SetStateRequest>,
    ) -> Reply<vm::SetStateResponse> {
        let state = request.into_inner().state;
        let name = vm::State::try_from(state)
            .map(|s| s.as_str_name())
            .unwrap_or("unknown");
        tracing::info!(state = name, "engine state changed");
        let last = self.chain_call(ChainMsg::LastAccepted).await?;
        ok(convert::set_state_response(&last)?)
    }

    async fn shutdown(&self, _request: Request<()>) -> Reply<()> {
        self.state.shutdown().await;
        ok(())
    }

    async fn create_handlers(&self, _request: Request<()>) -> Reply<vm::CreateHandlersResponse> {
        let server_addr = self.http_addr().await?;
        // "" is where Go TimestampVM clients post (/ext/bc/<chainID>); "/rpc" is the usual path.
        let handlers = ["", "/rpc"]
            .into_iter()
            .map(|prefix| vm::Handler {
                prefix: prefix.to_string(),
                server_addr: server_addr.clone(),
            })
            .collect();
        ok(vm::CreateHandlersResponse { handlers })
    }

    async fn new_http_handler(&self, _request: Request<()>) -> Reply<vm::NewHttpHandlerResponse> {
        let server_addr = self.http_addr().await?;
        ok(vm::NewHttpHandlerResponse { server_addr })
    }

    async fn wait_for_event(&self, _request: Request<()>) -> Reply<vm::WaitForEventResponse> {
        let running = self.running()?;
        // No timeout: the call blocks until there is work; the node cancels it by resetting the
        // stream, which drops this future and with it our reply port (nothing is consumed).
        ask(&running.handles.builder, BuilderMsg::WaitForEvent, None)
            .await
            .map_err(unavailable)?;
        ok(vm::WaitForEventResponse {
            message: vm::Message::BuildBlock as i32,
        })
    }

    async fn connected(&self, request: Request<vm::ConnectedRequest>) -> Reply<()> {
        let peer = request.into_inner();
        match convert::node_id(&peer.node_id) {
            Ok(node) => {
                tracing::debug!(%node, name = %peer.name, major = peer.major, minor = peer.minor, patch = peer.patch, "peer connected")
            }
            Err(e) => tracing::debug!(error = %e.message(), "connected: malformed node id"),
        }
        ok(())
    }

    async fn disconnected(&self, request: Request<vm::DisconnectedRequest>) -> Reply<()> {
        if let Ok(node) = convert::node_id(&request.into_inner().node_id) {
            tracing::debug!(%node, "peer disconnected");
        }
        ok(())
    }

    async fn build_block(
        &self,
        _request: Request<vm::BuildBlockRequest>,
    ) -> Reply<vm::BuildBlockResponse> {
        let running = self.running()?;
        let built = ask(&running.handles.builder, BuilderMsg::Build, BLOCKING_CALL)
            .await
            .map_err(unavailable)?
            .map_err(|e| match e {
                BuildError::NothingToBuild => Status::failed_precondition(e.to_string()),
                other => failed(other),
            })?;
        ok(convert::build_response(&built)?)
    }

    async fn parse_block(
        &self,
        request: Request<vm::ParseBlockRequest>,
    ) -> Reply<vm::ParseBlockResponse> {
        let block = convert::block(&request.into_inner().bytes)?;
        ok(convert::parse_response(block.id(), &block)?)
    }

    async fn get_block(
        &self,
        request: Request<vm::GetBlockRequest>,
    ) -> Reply<vm::GetBlockResponse> {
        let id = convert::id(&request.into_inner().id, "block id")?;
        match self.chain_call(|r| ChainMsg::Get(id, r)).await? {
            Some(view) => ok(convert::get_response(&view)?),
            None => ok(vm::GetBlockResponse {
                err: self.state.profile.err_not_found(),
                ..Default::default()
            }),
        }
    }

    async fn set_preference(&self, request: Request<vm::SetPreferenceRequest>) -> Reply<()> {
        let id = convert::id(&request.into_inner().id, "preferred block id")?;
        self.chain_call(|r| ChainMsg::SetPreference(id, r)).await?;
        ok(())
    }

    async fn health(&self, _request: Request<()>) -> Reply<vm::HealthResponse> {
        let details = crate::rpc::health::report(self.state.try_running()).await?;
        ok(vm::HealthResponse {
            details: details.into_bytes(),
        })
    }

    async fn version(&self, _request: Request<()>) -> Reply<vm::VersionResponse> {
        ok(vm::VersionResponse {
            version: format!("v{}", crate::VERSION),
        })
    }

    async fn app_request(&self, request: Request<vm::AppRequestMsg>) -> Reply<()> {
        // stampvm defines no request/response protocol; the requester's timeout answers it.
        let msg = request.into_inner();
        tracing::debug!(
            request_id = msg.request_id,
            bytes = msg.request.len(),
            "app request ignored"
        );
        ok(())
    }

    async fn app_request_failed(&self, _request: Request<vm::AppRequestFailedMsg>) -> Reply<()> {
        ok(())
    }

    async fn app_response(&self, _request: Request<vm::AppResponseMsg>) -> Reply<()> {
        ok(())
    }

    async fn app_gossip(&self, request: Request<vm::AppGossipMsg>) -> Reply<()> {
        let msg = request.into_inner();
        // Never an error: an error status here would make the node shut the chain down.
        match (convert::node_id(&msg.node_id), self.state.try_running()) {
            (Ok(peer), Some(running)) => running.handles.gossip_in(peer, msg.msg),
            (Err(e), _) => {
                tracing::debug!(error = %e.message(), "gossip with malformed sender dropped")
            }
            (_, None) => tracing::debug!("gossip before Initialize dropped"),
        }
        ok(())
    }

    async fn gather(&self, _request: Request<()>) -> Reply<vm::GatherResponse> {
        ok(vm::GatherResponse {
            metric_families: self.state.metrics.gather(),
        })
    }

    async fn get_ancestors(
        &self,
        request: Request<vm::GetAncestorsRequest>,
    ) -> Reply<vm::GetAncestorsResponse> {
        let request = request.into_inner();
        let Some(id) = crate::chain::Id::from_slice(&request.blk_id) else {
            return ok(vm::GetAncestorsResponse::default());
        };
        let query = AncestorsQuery {
            id,
            max_blocks: usize::try_from(request.max_blocks_num).unwrap_or(0),
            max_bytes: usize::try_from(request.max_blocks_size).unwrap_or(0),
            max_time: Duration::from_nanos(
                u64::try_from(request.max_blocks_retrival_time).unwrap_or(0),
            ),
        };
        let blks_bytes = self.chain_call(|r| ChainMsg::Ancestors(query, r)).await?;
        ok(vm::GetAncestorsResponse { blks_bytes })
    }

    async fn batched_parse_block(
        &self,
        request: Request<vm::BatchedParseBlockRequest>,
    ) -> Reply<vm::BatchedParseBlockResponse> {
        // Exactly one entry per request entry, in order; one bad entry fails the whole call.
        let response = request
            .into_inner()
            .request
            .iter()
            .map(|bytes| convert::block(bytes).and_then(|b| convert::parse_response(b.id(), &b)))
            .collect::<Result<Vec<_>, Status>>()?;
        ok(vm::BatchedParseBlockResponse { response })
    }

    async fn get_block_id_at_height(
        &self,
        request: Request<vm::GetBlockIdAtHeightRequest>,
    ) -> Reply<vm::GetBlockIdAtHeightResponse> {
        let height = request.into_inner().height;
        let running = self.running()?;
        // Accepted blocks are immutable: read the store directly, without the chain actor.
        match running
            .handles
            .store
            .block_id_at_height(height)
            .map_err(failed)?
        {
            Some(id) => ok(vm::GetBlockIdAtHeightResponse {
                blk_id: id.as_bytes().to_vec(),
                err: 0,
            }),
            None => ok(vm::GetBlockIdAtHeightResponse {
                blk_id: Vec::new(),
                err: self.state.profile.err_not_found(),
            }),
        }
    }

    async fn state_sync_enabled(
        &self,
        _request: Request<()>,
    ) -> Reply<vm::StateSyncEnabledResponse> {
        // enabled=false with no error is valid in every profile (node-behaviour.md section 11).
        ok(vm::StateSyncEnabledResponse::default())
    }

    async fn get_ongoing_sync_state_summary(
        &self,
        _request: Request<()>,
    ) -> Reply<vm::GetOngoingSyncStateSummaryResponse> {
        ok(vm::GetOngoingSyncStateSummaryResponse {
            err: self.state.profile.err_state_sync_not_implemented(),
            ..Default::default()
        })
    }

    async fn get_last_state_summary(
        &self,
        _request: Request<()>,
    ) -> Reply<vm::GetLastStateSummaryResponse> {
        ok(vm::GetLastStateSummaryResponse {
            err: self.state.profile.err_state_sync_not_implemented(),
            ..Default::default()
        })
    }

    async fn parse_state_summary(
        &self,
        _request: Request<vm::ParseStateSummaryRequest>,
    ) -> Reply<vm::ParseStateSummaryResponse> {
        ok(vm::ParseStateSummaryResponse {
            err: self.state.profile.err_state_sync_not_implemented(),
            ..Default::default()
        })
    }

    async fn get_state_summary(
        &self,
        _request: Request<vm::GetStateSummaryRequest>,
    ) -> Reply<vm::GetStateSummaryResponse> {
        ok(vm::GetStateSummaryResponse {
            err: self.state.profile.err_state_sync_not_implemented(),
            ..Default::default()
        })
    }

    async fn block_verify(
        &self,
        request: Request<vm::BlockVerifyRequest>,
    ) -> Reply<vm::BlockVerifyResponse> {
        let block = convert::block(&request.into_inner().bytes)?;
        let view = self.chain_call(|r| ChainMsg::Verify(block, r)).await?;
        ok(vm::BlockVerifyResponse {
            timestamp: Some(convert::timestamp(view.block.timestamp)?),
        })
    }

    async fn block_accept(&self, request: Request<vm::BlockAcceptRequest>) -> Reply<()> {
        let id = convert::id(&request.into_inner().id, "block id")?;
        self.chain_call(|r| ChainMsg::Accept(id, r)).await?;
        ok(())
    }

    async fn block_reject(&self, request: Request<vm::BlockRejectRequest>) -> Reply<()> {
        let id = convert::id(&request.into_inner().id, "block id")?;
        self.chain_call(|r| ChainMsg::Reject(id, r)).await?;
        ok(())
    }

    async fn state_summary_accept(
        &self,
        _request: Request<vm::StateSummaryAcceptRequest>,
    ) -> Reply<vm::StateSummaryAcceptResponse> {
        ok(vm::StateSummaryAcceptResponse {
            mode: vm::state_summary_accept_response::Mode::Unspecified as i32,
            err: self.state.profile.err_state_sync_not_implemented(),
        })
    }
}
