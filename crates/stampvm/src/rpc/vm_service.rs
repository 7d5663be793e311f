//! The `vm.VM` gRPC service: every call the node makes, answered. Handlers are thin: decode the
//! request, send a message to an actor (or read the store), await, encode the reply.

use crate::actors::builder::{BuildError, BuilderMsg};
use crate::actors::chain::{AncestorsQuery, ChainMsg};
use crate::actors::{ask, BLOCKING_CALL};
use crate::api::static_api::StaticApi;
use crate::api::BackendError;
use crate::chain::{Block, Id};
use crate::failures::{self, Cause, Operation};
use crate::rpc::convert;
use crate::rpc::lifecycle::{Running, VmState};
use rpcchainvm::pb::vm::{self, vm_server::Vm};
use rpcchainvm::protocol::{ExtraHandlerRpc, PeerVersionLayout};
use rpcchainvm::transport;
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

    /// The tonic server for this service: replies as large as they come (the node reads them
    /// without a limit), requests within [`transport::MAX_DECODING_MESSAGE_BYTES`].
    pub fn into_server(self) -> vm::vm_server::VmServer<VmService> {
        vm::vm_server::VmServer::new(self)
            .max_decoding_message_size(transport::MAX_DECODING_MESSAGE_BYTES)
            .max_encoding_message_size(usize::MAX)
    }

    fn running(&self) -> Result<Running, Status> {
        self.state.running()
    }

    /// Refuses an RPC that the node of our profile does not have: a node calling it speaks
    /// another protocol than the one we announced, which should show, not be papered over.
    fn only_if(&self, exists: bool, rpc: &str) -> Result<(), Status> {
        match exists {
            true => Ok(()),
            false => Err(Status::unimplemented(format!(
                "{rpc} does not exist at {}",
                self.state.profile
            ))),
        }
    }

    /// The status a parsed block is reported with, where the node requires one (up to 35):
    /// accepted if it is the accepted block at its height, rejected if another block is (it can
    /// never be accepted), processing otherwise.
    fn parsed_status(&self, id: Id, block: &Block) -> Result<vm::Status, Status> {
        if !self.state.profile.sends_block_status() {
            return Ok(vm::Status::Unspecified);
        }
        let running = self.running()?;
        let accepted = running
            .handles
            .store
            .block_id_at_height(block.height)
            .map_err(store_failed)?;
        Ok(match accepted {
            Some(accepted) if accepted == id => vm::Status::Accepted,
            Some(_) => vm::Status::Rejected,
            None => vm::Status::Processing,
        })
    }

    fn parse_one(&self, bytes: &[u8]) -> Result<vm::ParseBlockResponse, Status> {
        let block = convert::block(bytes, self.running()?.handles.store.format())?;
        let id = block.id();
        convert::parse_response(id, &block, self.parsed_status(id, &block)?)
    }

    fn held_status(&self, view: &crate::api::BlockView) -> vm::Status {
        match self.state.profile.sends_block_status() {
            true => convert::held_status(view),
            false => vm::Status::Unspecified,
        }
    }
}

fn unavailable(e: BackendError) -> Status {
    Status::unavailable(e.to_string())
}

fn failed(e: impl std::fmt::Display) -> Status {
    Status::unknown(e.to_string())
}

/// A read of the store this service makes itself (not through the chain actor, which reports
/// its own): counted and logged, then answered as [`failed`].
fn store_failed(e: crate::storage::StorageError) -> Status {
    failures::report(Operation::Read, Cause::Storage, &e);
    failed(e)
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
                    self.state.profile,
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
        let layout = self.state.profile.handler_layout();
        let handlers = ["", "/rpc"]
            .into_iter()
            .map(|prefix| vm::Handler::new(layout, prefix, &server_addr))
            .collect();
        ok(vm::CreateHandlersResponse { handlers })
    }

    async fn new_http_handler(&self, _request: Request<()>) -> Reply<vm::NewHttpHandlerResponse> {
        let extra = self.state.profile.extra_handler_rpc();
        self.only_if(extra == ExtraHandlerRpc::NewHttpHandler, "NewHTTPHandler")?;
        let server_addr = self.http_addr().await?;
        ok(vm::NewHttpHandlerResponse { server_addr })
    }

    /// Profile 41's header-routed handler: the node sends every HTTP/2 request carrying
    /// `chain-id: <our chain>` to it, through `Handle`. The chain's server answers those.
    async fn create_http2_handler(
        &self,
        _request: Request<()>,
    ) -> Reply<vm::CreateHttp2HandlerResponse> {
        let extra = self.state.profile.extra_handler_rpc();
        self.only_if(
            extra == ExtraHandlerRpc::CreateHttp2Handler,
            "CreateHTTP2Handler",
        )?;
        let server_addr = self.http_addr().await?;
        ok(vm::CreateHttp2HandlerResponse { server_addr })
    }

    /// Profiles 28-30: called on a second, never-initialized process at VM registration. The
    /// handler is mounted at `/ext/vm/<vmID>` and serves the chain-less static API; an error here
    /// would fail the VM's registration.
    async fn create_static_handlers(
        &self,
        _request: Request<()>,
    ) -> Reply<vm::CreateStaticHandlersResponse> {
        let profile = self.state.profile;
        self.only_if(profile.serves_static_handlers(), "CreateStaticHandlers")?;
        let addr = self
            .state
            .static_http_addr
            .get_or_try_init(|| {
                crate::rpc::http_service::serve_http(
                    StaticApi,
                    profile,
                    self.state.static_stop.clone(),
                )
            })
            .await
            .map_err(|e| Status::internal(format!("starting the static API server: {e}")))?;
        let handler = vm::Handler::new(profile.handler_layout(), "", &addr.to_string());
        ok(vm::CreateStaticHandlersResponse {
            handlers: vec![handler],
        })
    }

    /// Profiles 28-34: the proposer VM asks whether our height index is complete. It always
    /// is: every accept writes the height entry in the same batch as the block.
    async fn verify_height_index(
        &self,
        _request: Request<()>,
    ) -> Reply<vm::VerifyHeightIndexResponse> {
        self.only_if(
            self.state.profile.answers_verify_height_index(),
            "VerifyHeightIndex",
        )?;
        ok(vm::VerifyHeightIndexResponse { err: 0 })
    }

    // Cross-chain messages (28-36) come only from other chains on the same node; stampvm has
    // no cross-chain protocol, so they are acknowledged and dropped.
    async fn cross_chain_app_request(
        &self,
        request: Request<vm::CrossChainAppRequestMsg>,
    ) -> Reply<()> {
        self.only_if(
            self.state.profile.has_cross_chain_app(),
            "CrossChainAppRequest",
        )?;
        let msg = request.into_inner();
        tracing::debug!(
            request_id = msg.request_id,
            "cross-chain app request ignored"
        );
        ok(())
    }

    async fn cross_chain_app_request_failed(
        &self,
        _request: Request<vm::CrossChainAppRequestFailedMsg>,
    ) -> Reply<()> {
        let exists = self.state.profile.has_cross_chain_app();
        self.only_if(exists, "CrossChainAppRequestFailed")?;
        ok(())
    }

    async fn cross_chain_app_response(
        &self,
        _request: Request<vm::CrossChainAppResponseMsg>,
    ) -> Reply<()> {
        let exists = self.state.profile.has_cross_chain_app();
        self.only_if(exists, "CrossChainAppResponse")?;
        ok(())
    }

    async fn wait_for_event(&self, _request: Request<()>) -> Reply<vm::WaitForEventResponse> {
        let waits = self.state.profile.node_waits_for_events();
        self.only_if(waits, "WaitForEvent")?;
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
        // Field 2 is the whole version text (`avalanche/1.10.15`) up to 30, the client name after.
        let version = match self.state.profile.peer_version_layout() {
            PeerVersionLayout::VersionText => peer.name,
            PeerVersionLayout::NameAndNumbers => {
                format!("{}/{}.{}.{}", peer.name, peer.major, peer.minor, peer.patch)
            }
        };
        match convert::node_id(&peer.node_id) {
            Ok(node) => tracing::debug!(%node, %version, "peer connected"),
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
                // The chain actor reported its own failures; this one never reached it.
                BuildError::Unavailable(_) => {
                    failures::report(Operation::Build, Cause::Other, &e);
                    failed(e)
                }
                other => failed(other),
            })?;
        ok(convert::build_response(&built)?)
    }

    async fn parse_block(
        &self,
        request: Request<vm::ParseBlockRequest>,
    ) -> Reply<vm::ParseBlockResponse> {
        ok(self.parse_one(&request.into_inner().bytes)?)
    }

    async fn get_block(
        &self,
        request: Request<vm::GetBlockRequest>,
    ) -> Reply<vm::GetBlockResponse> {
        let id = convert::id(&request.into_inner().id, "block id")?;
        match self.chain_call(|r| ChainMsg::Get(id, r)).await? {
            Some(view) => ok(convert::get_response(&view, self.held_status(&view))?),
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
            .map(|bytes| self.parse_one(bytes))
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
            .map_err(store_failed)?
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
        let format = self.running()?.handles.store.format();
        let block = convert::block(&request.into_inner().bytes, format)?;
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
