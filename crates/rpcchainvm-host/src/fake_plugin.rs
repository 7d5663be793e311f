//! A fake plugin for the host's unit tests: an in-process `vm.VM` server that records the calls
//! it receives and builds 40-byte blocks (parent id, height) on demand, so the host's call order,
//! engine loop and gossip relay can be checked without launching a process.

use super::VmClient;
use rpcchainvm::ids::Id;
use rpcchainvm::pb::vm::{self as pb, vm_server};
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm::transport;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::{Request, Response, Status};

#[derive(Default)]
pub(super) struct FakeState {
    /// Every recorded call, in order (`"SetState(2)"`, `"Connected(avalanchego)"`, …).
    pub(super) calls: Vec<String>,
    /// The last accepted block: (id, height).
    pub(super) tip: (Id, u64),
    heights: HashMap<Id, u64>,
    /// Blocks the fake will build; each BuildBlock takes one, WaitForEvent waits for one.
    pub(super) pending: u32,
    /// AppGossip received: (sender node ID, message).
    pub(super) gossip: Vec<(Vec<u8>, Vec<u8>)>,
    /// `lock_options` of every handler the fake returns: `Some(2)` is profile 28's layout.
    pub(super) handler_lock: Option<u32>,
    /// The `status` ParseBlock answers with (0 = unset, which nodes up to 35 refuse).
    pub(super) parse_status: i32,
    /// BlockAccept answers with this error status instead of accepting (a store gone bad).
    pub(super) fail_accept: Option<String>,
}

/// A plugin that records its calls and builds 40-byte blocks (parent id, height) on demand.
#[derive(Clone, Default)]
pub(super) struct FakeVm(pub(super) Arc<Mutex<FakeState>>);

type Answer<T> = Result<T, Status>;

/// Implements `vm.VM`: `rpc(Req) -> Resp => handler` methods call `self.handler(request)`;
/// the rest answer `Unimplemented`.
macro_rules! fake_vm {
    ($($name:ident($req:ty) -> $resp:ty => $handler:ident;)* | $($none:ident($nreq:ty) -> $nresp:ty;)*) => {
        #[tonic::async_trait]
        impl vm_server::Vm for FakeVm {
            $(async fn $name(&self, r: Request<$req>) -> Answer<Response<$resp>> {
                self.$handler(r.into_inner()).await.map(Response::new)
            })*
            $(async fn $none(&self, _: Request<$nreq>) -> Answer<Response<$nresp>> {
                Err(Status::unimplemented(stringify!($none)))
            })*
        }
    };
}

fake_vm! {
    initialize(pb::InitializeRequest) -> pb::InitializeResponse => on_initialize;
    set_state(pb::SetStateRequest) -> pb::SetStateResponse => on_set_state;
    shutdown(()) -> () => on_shutdown;
    create_handlers(()) -> pb::CreateHandlersResponse => on_create_handlers;
    new_http_handler(()) -> pb::NewHttpHandlerResponse => on_new_http_handler;
    state_sync_enabled(()) -> pb::StateSyncEnabledResponse => on_state_sync_enabled;
    connected(pb::ConnectedRequest) -> () => on_connected;
    set_preference(pb::SetPreferenceRequest) -> () => on_set_preference;
    version(()) -> pb::VersionResponse => on_version;
    wait_for_event(()) -> pb::WaitForEventResponse => on_wait_for_event;
    build_block(pb::BuildBlockRequest) -> pb::BuildBlockResponse => on_build_block;
    block_verify(pb::BlockVerifyRequest) -> pb::BlockVerifyResponse => on_block_verify;
    block_accept(pb::BlockAcceptRequest) -> () => on_block_accept;
    app_gossip(pb::AppGossipMsg) -> () => on_app_gossip;
    verify_height_index(()) -> pb::VerifyHeightIndexResponse => on_verify_height_index;
    create_static_handlers(()) -> pb::CreateStaticHandlersResponse => on_create_static_handlers;
    create_http2_handler(()) -> pb::CreateHttp2HandlerResponse => on_create_http2_handler;
    parse_block(pb::ParseBlockRequest) -> pb::ParseBlockResponse => on_parse_block;
    |
    disconnected(pb::DisconnectedRequest) -> ();
    get_block(pb::GetBlockRequest) -> pb::GetBlockResponse;
    health(()) -> pb::HealthResponse;
    app_request(pb::AppRequestMsg) -> ();
    app_request_failed(pb::AppRequestFailedMsg) -> ();
    app_response(pb::AppResponseMsg) -> ();
    gather(()) -> pb::GatherResponse;
    get_ancestors(pb::GetAncestorsRequest) -> pb::GetAncestorsResponse;
    batched_parse_block(pb::BatchedParseBlockRequest) -> pb::BatchedParseBlockResponse;
    get_block_id_at_height(pb::GetBlockIdAtHeightRequest) -> pb::GetBlockIdAtHeightResponse;
    get_ongoing_sync_state_summary(()) -> pb::GetOngoingSyncStateSummaryResponse;
    get_last_state_summary(()) -> pb::GetLastStateSummaryResponse;
    parse_state_summary(pb::ParseStateSummaryRequest) -> pb::ParseStateSummaryResponse;
    get_state_summary(pb::GetStateSummaryRequest) -> pb::GetStateSummaryResponse;
    block_reject(pb::BlockRejectRequest) -> ();
    state_summary_accept(pb::StateSummaryAcceptRequest) -> pb::StateSummaryAcceptResponse;
    cross_chain_app_request(pb::CrossChainAppRequestMsg) -> ();
    cross_chain_app_request_failed(pb::CrossChainAppRequestFailedMsg) -> ();
    cross_chain_app_response(pb::CrossChainAppResponseMsg) -> ();
}

impl FakeVm {
    fn record(&self, call: impl Into<String>) -> Answer<()> {
        self.0.lock().unwrap().calls.push(call.into());
        Ok(())
    }
    fn tip(&self) -> pb::SetStateResponse {
        let tip = self.0.lock().unwrap().tip;
        pb::SetStateResponse {
            last_accepted_id: tip.0 .0.to_vec(),
            last_accepted_parent_id: vec![0; 32],
            height: tip.1,
            bytes: vec![],
            timestamp: Some(Default::default()),
        }
    }
    async fn on_initialize(&self, _: pb::InitializeRequest) -> Answer<pb::InitializeResponse> {
        self.record("Initialize")?;
        let tip = self.tip();
        Ok(pb::InitializeResponse {
            last_accepted_id: tip.last_accepted_id,
            last_accepted_parent_id: tip.last_accepted_parent_id,
            height: tip.height,
            bytes: tip.bytes,
            timestamp: tip.timestamp,
        })
    }
    async fn on_set_state(&self, r: pb::SetStateRequest) -> Answer<pb::SetStateResponse> {
        self.record(format!("SetState({})", r.state))?;
        Ok(self.tip())
    }
    async fn on_shutdown(&self, _: ()) -> Answer<()> {
        self.record("Shutdown")
    }
    fn handler(&self, prefix: &str) -> pb::Handler {
        pb::Handler {
            prefix: prefix.into(),
            server_addr: "127.0.0.1:1".into(),
            lock_options: self.0.lock().unwrap().handler_lock,
        }
    }
    async fn on_create_handlers(&self, _: ()) -> Answer<pb::CreateHandlersResponse> {
        self.record("CreateHandlers")?;
        let handlers = vec![self.handler(""), self.handler("bad")];
        Ok(pb::CreateHandlersResponse { handlers })
    }
    async fn on_create_static_handlers(&self, _: ()) -> Answer<pb::CreateStaticHandlersResponse> {
        self.record("CreateStaticHandlers")?;
        let handlers = vec![self.handler("/static")];
        Ok(pb::CreateStaticHandlersResponse { handlers })
    }
    async fn on_create_http2_handler(&self, _: ()) -> Answer<pb::CreateHttp2HandlerResponse> {
        self.record("CreateHTTP2Handler")?;
        Ok(Default::default())
    }
    async fn on_verify_height_index(&self, _: ()) -> Answer<pb::VerifyHeightIndexResponse> {
        self.record("VerifyHeightIndex")?;
        Ok(Default::default())
    }
    async fn on_parse_block(&self, r: pb::ParseBlockRequest) -> Answer<pb::ParseBlockResponse> {
        let status = self.0.lock().unwrap().parse_status;
        Ok(pb::ParseBlockResponse {
            id: Id::sha256(&r.bytes).0.to_vec(),
            parent_id: vec![0; 32],
            status,
            height: 1,
            timestamp: Some(Default::default()),
            verify_with_context: false,
        })
    }
    async fn on_new_http_handler(&self, _: ()) -> Answer<pb::NewHttpHandlerResponse> {
        self.record("NewHTTPHandler")?;
        Ok(Default::default())
    }
    async fn on_state_sync_enabled(&self, _: ()) -> Answer<pb::StateSyncEnabledResponse> {
        self.record("StateSyncEnabled")?;
        Ok(Default::default())
    }
    async fn on_connected(&self, r: pb::ConnectedRequest) -> Answer<()> {
        self.record(format!("Connected({})", r.name))
    }
    async fn on_set_preference(&self, _: pb::SetPreferenceRequest) -> Answer<()> {
        self.record("SetPreference")
    }
    async fn on_version(&self, _: ()) -> Answer<pb::VersionResponse> {
        self.record("Version")?;
        Ok(pb::VersionResponse {
            version: "fake/1.0".into(),
        })
    }
    async fn on_wait_for_event(&self, _: ()) -> Answer<pb::WaitForEventResponse> {
        while self.0.lock().unwrap().pending == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let message = pb::Message::BuildBlock.into();
        Ok(pb::WaitForEventResponse { message })
    }
    async fn on_build_block(&self, _: pb::BuildBlockRequest) -> Answer<pb::BuildBlockResponse> {
        let mut state = self.0.lock().unwrap();
        if state.pending == 0 {
            return Err(Status::unknown("nothing to build"));
        }
        state.pending -= 1;
        let (parent, height) = (state.tip.0, state.tip.1 + 1);
        let bytes = [&parent.0[..], &height.to_be_bytes()].concat();
        let id = Id::sha256(&bytes);
        state.heights.insert(id, height);
        Ok(pb::BuildBlockResponse {
            id: id.0.to_vec(),
            parent_id: parent.0.to_vec(),
            bytes,
            height,
            timestamp: Some(Default::default()),
            verify_with_context: false,
        })
    }
    async fn on_block_verify(&self, r: pb::BlockVerifyRequest) -> Answer<pb::BlockVerifyResponse> {
        if r.bytes.len() != 40 {
            return Err(Status::unknown("bad block"));
        }
        let timestamp = Some(Default::default());
        Ok(pb::BlockVerifyResponse { timestamp })
    }
    async fn on_block_accept(&self, r: pb::BlockAcceptRequest) -> Answer<()> {
        let id = Id::from_slice(&r.id).ok_or_else(|| Status::unknown("id"))?;
        let mut state = self.0.lock().unwrap();
        if let Some(reason) = &state.fail_accept {
            return Err(Status::unknown(reason.clone()));
        }
        let height = *state
            .heights
            .get(&id)
            .ok_or_else(|| Status::unknown("id"))?;
        state.tip = (id, height);
        Ok(())
    }
    async fn on_app_gossip(&self, r: pb::AppGossipMsg) -> Answer<()> {
        self.0.lock().unwrap().gossip.push((r.node_id, r.msg));
        Ok(())
    }
}

/// Serves a fresh fake plugin; returns it and a connected client.
pub(super) async fn fake_plugin(shutdown: &Shutdown) -> (FakeVm, VmClient) {
    let fake = FakeVm::default();
    let (listener, addr) = transport::bind_loopback().await.unwrap();
    let server = vm_server::VmServer::new(fake.clone());
    let stop = shutdown.clone();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(server)
            .serve_with_incoming_shutdown(transport::incoming(listener), async move {
                stop.wait().await
            }),
    );
    let client = VmClient::connect(&addr.to_string()).await.unwrap();
    (fake, client)
}
