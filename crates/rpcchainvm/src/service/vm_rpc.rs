//! Each `vm.VM` RPC: decode the node's message in the profile's layout, call the [`Vm`], encode
//! the reply (or the error status) the way that profile's node reads it.

use super::convert;
use super::{engine_state, failed, VmService};
use crate::block::{AncestorsLimits, Timestamp};
use crate::ids::{Id, NodeId};
use crate::pb::vm::{self, vm_server};
use crate::protocol::{ExtraHandlerRpc, PeerVersionLayout};
use crate::vm::{AppRequest, Event, PeerVersion, Vm};
use std::time::Duration;
use tonic::{Request, Response, Status};

type Reply<T> = Result<Response<T>, Status>;

fn ok<T>(value: T) -> Reply<T> {
    Ok(Response::new(value))
}

#[tonic::async_trait]
impl<V: Vm> vm_server::Vm for VmService<V> {
    async fn initialize(
        &self,
        request: Request<vm::InitializeRequest>,
    ) -> Reply<vm::InitializeResponse> {
        let params = self.init_params(request.into_inner())?;
        let last = VmService::initialize(self, params).await?;
        ok(convert::initialize_response(&last))
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
        let last = self
            .vm()
            .set_state(engine_state(state))
            .await
            .map_err(failed)?;
        ok(convert::set_state_response(&last))
    }

    async fn shutdown(&self, _request: Request<()>) -> Reply<()> {
        VmService::shutdown(self).await;
        ok(())
    }

    async fn create_handlers(&self, _request: Request<()>) -> Reply<vm::CreateHandlersResponse> {
        let handlers = self.vm().create_handlers().await.map_err(failed)?;
        let servers = &self.inner.chain_servers;
        let handlers = self.handler_list(handlers, servers, "HTTP server").await?;
        ok(vm::CreateHandlersResponse { handlers })
    }

    async fn new_http_handler(&self, _request: Request<()>) -> Reply<vm::NewHttpHandlerResponse> {
        let extra = self.profile().extra_handler_rpc();
        self.only_if(extra == ExtraHandlerRpc::NewHttpHandler, "NewHTTPHandler")?;
        let server_addr = self.http_handler_addr().await?;
        ok(vm::NewHttpHandlerResponse { server_addr })
    }

    /// Profile 41's header-routed handler: the node sends every HTTP/2 request carrying
    /// `chain-id: <our chain>` to it, through `Handle`.
    async fn create_http2_handler(
        &self,
        _request: Request<()>,
    ) -> Reply<vm::CreateHttp2HandlerResponse> {
        let extra = self.profile().extra_handler_rpc();
        self.only_if(
            extra == ExtraHandlerRpc::CreateHttp2Handler,
            "CreateHTTP2Handler",
        )?;
        let server_addr = self.http_handler_addr().await?;
        ok(vm::CreateHttp2HandlerResponse { server_addr })
    }

    /// Profiles 28-30: called on a second, never-initialized process at VM registration. The
    /// handlers are mounted at `/ext/vm/<vmID>`; an error here would fail the VM's registration.
    async fn create_static_handlers(
        &self,
        _request: Request<()>,
    ) -> Reply<vm::CreateStaticHandlersResponse> {
        let profile = self.profile();
        self.only_if(profile.serves_static_handlers(), "CreateStaticHandlers")?;
        let handlers = self.vm().create_static_handlers().await.map_err(failed)?;
        let servers = &self.inner.static_servers;
        let handlers = self
            .handler_list(handlers, servers, "static API server")
            .await?;
        ok(vm::CreateStaticHandlersResponse { handlers })
    }

    /// Profiles 28-34: the proposer VM asks whether the height index is complete. It always is:
    /// every [`Vm`] answers [`Vm::block_id_at_height`] for every accepted block.
    async fn verify_height_index(
        &self,
        _request: Request<()>,
    ) -> Reply<vm::VerifyHeightIndexResponse> {
        self.only_if(
            self.profile().answers_verify_height_index(),
            "VerifyHeightIndex",
        )?;
        ok(vm::VerifyHeightIndexResponse { err: 0 })
    }

    // Cross-chain messages (28-36) come only from other chains on the same node; the SDK has no
    // cross-chain protocol, so they are acknowledged and dropped.
    async fn cross_chain_app_request(
        &self,
        request: Request<vm::CrossChainAppRequestMsg>,
    ) -> Reply<()> {
        self.only_if(self.profile().has_cross_chain_app(), "CrossChainAppRequest")?;
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
        let exists = self.profile().has_cross_chain_app();
        self.only_if(exists, "CrossChainAppRequestFailed")?;
        ok(())
    }

    async fn cross_chain_app_response(
        &self,
        _request: Request<vm::CrossChainAppResponseMsg>,
    ) -> Reply<()> {
        let exists = self.profile().has_cross_chain_app();
        self.only_if(exists, "CrossChainAppResponse")?;
        ok(())
    }

    async fn wait_for_event(&self, _request: Request<()>) -> Reply<vm::WaitForEventResponse> {
        let waits = self.profile().node_waits_for_events();
        self.only_if(waits, "WaitForEvent")?;
        // No timeout: the call blocks until there is work; the node cancels it by resetting the
        // stream, which drops this future.
        let message = match self.vm().wait_for_event().await.map_err(failed)? {
            Event::BuildBlock => vm::Message::BuildBlock,
            Event::StateSyncDone => vm::Message::StateSyncFinished,
        };
        ok(vm::WaitForEventResponse {
            message: message as i32,
        })
    }

    async fn connected(&self, request: Request<vm::ConnectedRequest>) -> Reply<()> {
        let peer = request.into_inner();
        // Field 2 is the whole version text (`avalanche/1.10.15`) up to 30, the client name after.
        let version = match self.profile().peer_version_layout() {
            PeerVersionLayout::VersionText => peer.name,
            PeerVersionLayout::NameAndNumbers => {
                format!("{}/{}.{}.{}", peer.name, peer.major, peer.minor, peer.patch)
            }
        };
        match convert::node_id(&peer.node_id) {
            Ok(node) => {
                let version = PeerVersion(version);
                self.vm().connected(node, version).await.map_err(failed)?;
            }
            Err(e) => tracing::debug!(error = %e.message(), "connected: malformed node id"),
        }
        ok(())
    }

    async fn disconnected(&self, request: Request<vm::DisconnectedRequest>) -> Reply<()> {
        if let Ok(node) = convert::node_id(&request.into_inner().node_id) {
            self.vm().disconnected(node).await.map_err(failed)?;
        }
        ok(())
    }

    async fn build_block(
        &self,
        _request: Request<vm::BuildBlockRequest>,
    ) -> Reply<vm::BuildBlockResponse> {
        let built = self.vm().build_block().await.map_err(failed)?;
        ok(convert::build_response(&built))
    }

    async fn parse_block(
        &self,
        request: Request<vm::ParseBlockRequest>,
    ) -> Reply<vm::ParseBlockResponse> {
        ok(self.parse_one(&request.into_inner().bytes).await?)
    }

    async fn get_block(
        &self,
        request: Request<vm::GetBlockRequest>,
    ) -> Reply<vm::GetBlockResponse> {
        let id = convert::id(&request.into_inner().id, "block id")?;
        match self.vm().get_block(id).await.map_err(failed)? {
            Some(block) => ok(convert::get_response(&block, self.status_if_sent(&block))),
            None => ok(vm::GetBlockResponse {
                err: self.profile().err_not_found(),
                ..Default::default()
            }),
        }
    }

    async fn set_preference(&self, request: Request<vm::SetPreferenceRequest>) -> Reply<()> {
        let id = convert::id(&request.into_inner().id, "preferred block id")?;
        self.vm().set_preference(id).await.map_err(failed)?;
        ok(())
    }

    async fn health(&self, _request: Request<()>) -> Reply<vm::HealthResponse> {
        let details = self.vm().health().await.map_err(failed)?;
        ok(vm::HealthResponse {
            details: details.into_bytes(),
        })
    }

    async fn version(&self, _request: Request<()>) -> Reply<vm::VersionResponse> {
        let version = self.vm().version().await.map_err(failed)?;
        ok(vm::VersionResponse { version })
    }

    async fn app_request(&self, request: Request<vm::AppRequestMsg>) -> Reply<()> {
        let msg = request.into_inner();
        self.vm()
            .app_request(AppRequest {
                from: NodeId::from_slice(&msg.node_id),
                request_id: msg.request_id,
                deadline: msg.deadline.as_ref().and_then(Timestamp::from_pb),
                request: msg.request,
            })
            .await;
        ok(())
    }

    // No request/response protocol of the VM's own is carried yet: failures of, and answers to,
    // requests the VM never sent are acknowledged.
    async fn app_request_failed(&self, _request: Request<vm::AppRequestFailedMsg>) -> Reply<()> {
        ok(())
    }

    async fn app_response(&self, _request: Request<vm::AppResponseMsg>) -> Reply<()> {
        ok(())
    }

    async fn app_gossip(&self, request: Request<vm::AppGossipMsg>) -> Reply<()> {
        let msg = request.into_inner();
        // Never an error: an error status here would make the node shut the chain down.
        match convert::node_id(&msg.node_id) {
            Ok(peer) => self.vm().app_gossip(peer, msg.msg).await,
            Err(e) => {
                tracing::debug!(error = %e.message(), "gossip with malformed sender dropped")
            }
        }
        ok(())
    }

    async fn gather(&self, _request: Request<()>) -> Reply<vm::GatherResponse> {
        ok(vm::GatherResponse {
            metric_families: self.vm().gather().await,
        })
    }

    async fn get_ancestors(
        &self,
        request: Request<vm::GetAncestorsRequest>,
    ) -> Reply<vm::GetAncestorsResponse> {
        let request = request.into_inner();
        let Some(id) = Id::from_slice(&request.blk_id) else {
            return ok(vm::GetAncestorsResponse::default());
        };
        let limits = AncestorsLimits {
            max_blocks: usize::try_from(request.max_blocks_num).unwrap_or(0),
            max_bytes: usize::try_from(request.max_blocks_size).unwrap_or(0),
            max_time: Duration::from_nanos(
                u64::try_from(request.max_blocks_retrival_time).unwrap_or(0),
            ),
        };
        let blks_bytes = self.vm().ancestors(id, limits).await.map_err(failed)?;
        ok(vm::GetAncestorsResponse { blks_bytes })
    }

    async fn batched_parse_block(
        &self,
        request: Request<vm::BatchedParseBlockRequest>,
    ) -> Reply<vm::BatchedParseBlockResponse> {
        // Exactly one entry per request entry, in order; one bad entry fails the whole call.
        let mut response = Vec::new();
        for bytes in &request.into_inner().request {
            response.push(self.parse_one(bytes).await?);
        }
        ok(vm::BatchedParseBlockResponse { response })
    }

    async fn get_block_id_at_height(
        &self,
        request: Request<vm::GetBlockIdAtHeightRequest>,
    ) -> Reply<vm::GetBlockIdAtHeightResponse> {
        let height = request.into_inner().height;
        match self.vm().block_id_at_height(height).await.map_err(failed)? {
            Some(id) => ok(vm::GetBlockIdAtHeightResponse {
                blk_id: id.as_bytes().to_vec(),
                err: 0,
            }),
            None => ok(vm::GetBlockIdAtHeightResponse {
                blk_id: Vec::new(),
                err: self.profile().err_not_found(),
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
            err: self.profile().err_state_sync_not_implemented(),
            ..Default::default()
        })
    }

    async fn get_last_state_summary(
        &self,
        _request: Request<()>,
    ) -> Reply<vm::GetLastStateSummaryResponse> {
        ok(vm::GetLastStateSummaryResponse {
            err: self.profile().err_state_sync_not_implemented(),
            ..Default::default()
        })
    }

    async fn parse_state_summary(
        &self,
        _request: Request<vm::ParseStateSummaryRequest>,
    ) -> Reply<vm::ParseStateSummaryResponse> {
        ok(vm::ParseStateSummaryResponse {
            err: self.profile().err_state_sync_not_implemented(),
            ..Default::default()
        })
    }

    async fn get_state_summary(
        &self,
        _request: Request<vm::GetStateSummaryRequest>,
    ) -> Reply<vm::GetStateSummaryResponse> {
        ok(vm::GetStateSummaryResponse {
            err: self.profile().err_state_sync_not_implemented(),
            ..Default::default()
        })
    }

    async fn block_verify(
        &self,
        request: Request<vm::BlockVerifyRequest>,
    ) -> Reply<vm::BlockVerifyResponse> {
        let bytes = request.into_inner().bytes;
        let timestamp = self.vm().verify_block(&bytes).await.map_err(failed)?;
        ok(vm::BlockVerifyResponse {
            timestamp: Some(timestamp.to_pb()),
        })
    }

    async fn block_accept(&self, request: Request<vm::BlockAcceptRequest>) -> Reply<()> {
        let id = convert::id(&request.into_inner().id, "block id")?;
        self.vm().accept_block(id).await.map_err(failed)?;
        ok(())
    }

    async fn block_reject(&self, request: Request<vm::BlockRejectRequest>) -> Reply<()> {
        let id = convert::id(&request.into_inner().id, "block id")?;
        self.vm().reject_block(id).await.map_err(failed)?;
        ok(())
    }

    async fn state_summary_accept(
        &self,
        _request: Request<vm::StateSummaryAcceptRequest>,
    ) -> Reply<vm::StateSummaryAcceptResponse> {
        ok(vm::StateSummaryAcceptResponse {
            mode: vm::state_summary_accept_response::Mode::Unspecified as i32,
            err: self.profile().err_state_sync_not_implemented(),
        })
    }
}
