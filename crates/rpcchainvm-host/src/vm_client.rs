//! A typed client of a plugin's `vm.VM` server, with the node's transport settings (unlimited
//! message sizes, TCP_NODELAY), speaking one profile: the answers the node checks per profile
//! (block `status` up to 35) are checked here too. The node's call sequences live next to it:
//! chain start in `chain_start.rs`, the registration-time processes in `registration.rs`.
//! Responses are the generated protobuf types so tests can look at every field, and
//! [`VmClient::call_raw`] sends and returns bare bytes for tests that check layouts byte by byte.

use super::checks::block_status;
use super::raw_codec::RawCodec;
use super::HostError;
use rpcchainvm::pb::vm as pb;
use rpcchainvm::pb::vm::vm_client::VmClient as RawClient;
use rpcchainvm::protocol::Profile;
use rpcchainvm::transport;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;

/// The chain-start parameters used to live here; the old paths keep working.
pub use super::chain_params::{default_network_upgrades, ChainParams, ClientVersion};
/// The chain-start result used to live here; the old path keeps working.
pub use super::chain_start::ChainStart;
/// The answer checks used to live here; the old paths keep working.
pub use super::checks::{id32, valid_timestamp, BlockSummary, NO_LOCK};

/// A cheap-to-clone handle on one plugin's `vm.VM` server; calls may run concurrently.
#[derive(Debug, Clone)]
pub struct VmClient {
    inner: RawClient<Channel>,
    channel: Channel,
    profile: Profile,
}

/// One thin method per RPC: `name "path" (Request) -> Response;`, `()` for `google.protobuf.Empty`.
macro_rules! rpcs {
    (@message) => { () };
    (@message $request:ident: $req:ty) => { $request };
    ($($(#[$doc:meta])* $name:ident $path:literal ($($req:ty)?) -> $resp:ty;)+) => {$(
        $(#[$doc])*
        pub async fn $name(&self $(, request: $req)?) -> Result<$resp, HostError> {
            self.inner
                .clone()
                .$name(rpcs!(@message $(request: $req)?))
                .await
                .map(tonic::Response::into_inner)
                .map_err(|status| HostError::rpc($path, status))
        }
    )+};
}

impl VmClient {
    /// Dials `addr` (`host:port`, as announced at the handshake). The client speaks the newest
    /// profile until [`VmClient::with_profile`] says otherwise ([`super::PluginProcess::vm_client`]
    /// does that for you).
    pub async fn connect(addr: &str) -> Result<VmClient, HostError> {
        let channel = transport::connect(addr)
            .await
            .map_err(|source| HostError::Connect {
                addr: addr.to_string(),
                source,
            })?;
        Ok(VmClient::from_channel(channel))
    }

    /// Wraps an existing channel, lifting tonic's 4 MiB limits as the node does.
    pub fn from_channel(channel: Channel) -> VmClient {
        let inner = RawClient::new(channel.clone())
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        VmClient {
            inner,
            channel,
            profile: Profile::latest(),
        }
    }

    /// The same connection, checking answers as a node playing `profile` does.
    pub fn with_profile(mut self, profile: Profile) -> VmClient {
        self.profile = profile;
        self
    }

    /// The profile whose node this client plays.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The generated client, for calls with custom metadata or deadlines.
    pub fn raw(&self) -> RawClient<Channel> {
        self.inner.clone()
    }

    /// One unary call of `path` (e.g. `/vm.VM/ParseBlock`, or `/http.HTTP/HandleSimple` on a
    /// handler's server) with `request` as the exact message bytes; returns the exact bytes of
    /// the answer. Nothing is checked or decoded.
    pub async fn call_raw(&self, path: &str, request: Vec<u8>) -> Result<Vec<u8>, HostError> {
        let method = || path.to_owned();
        let path = PathAndQuery::try_from(path).map_err(|e| {
            HostError::rpc(
                method(),
                tonic::Status::invalid_argument(format!("not a method path: {e}")),
            )
        })?;
        let mut grpc = tonic::client::Grpc::new(self.channel.clone())
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        grpc.ready().await.map_err(|e| {
            HostError::rpc(
                method(),
                tonic::Status::unavailable(format!("not ready: {e}")),
            )
        })?;
        grpc.unary(tonic::Request::new(request), path, RawCodec)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| HostError::rpc(method(), status))
    }

    /// `/vm.VM/ParseBlock`, with the block `status` checked where the profile's node reads it.
    pub async fn parse_block(
        &self,
        request: pb::ParseBlockRequest,
    ) -> Result<pb::ParseBlockResponse, HostError> {
        const METHOD: &str = "vm.VM/ParseBlock";
        let parsed = self.unchecked_parse_block(request).await?;
        block_status(METHOD, self.profile, parsed.status)?;
        Ok(parsed)
    }

    /// `/vm.VM/GetBlock`; a found block's `status` is checked where the profile's node reads it
    /// (an `err` answer carries no block, so no status either).
    pub async fn get_block(
        &self,
        request: pb::GetBlockRequest,
    ) -> Result<pb::GetBlockResponse, HostError> {
        const METHOD: &str = "vm.VM/GetBlock";
        let got = self.unchecked_get_block(request).await?;
        if got.err == 0 {
            block_status(METHOD, self.profile, got.status)?;
        }
        Ok(got)
    }

    /// `/vm.VM/BatchedParseBlock`, every entry's `status` checked where the profile's node
    /// reads it.
    pub async fn batched_parse_block(
        &self,
        request: pb::BatchedParseBlockRequest,
    ) -> Result<pb::BatchedParseBlockResponse, HostError> {
        const METHOD: &str = "vm.VM/BatchedParseBlock";
        let parsed = self.unchecked_batched_parse_block(request).await?;
        for entry in &parsed.response {
            block_status(METHOD, self.profile, entry.status)?;
        }
        Ok(parsed)
    }

    rpcs! {
        /// `/vm.VM/Initialize`: the first call of a chain process; answers the last accepted block.
        initialize "vm.VM/Initialize" (pb::InitializeRequest) -> pb::InitializeResponse;
        set_state "vm.VM/SetState" (pb::SetStateRequest) -> pb::SetStateResponse;
        /// `/vm.VM/Shutdown`; must succeed even without Initialize (registration-time process).
        shutdown "vm.VM/Shutdown" () -> ();
        create_handlers "vm.VM/CreateHandlers" () -> pb::CreateHandlersResponse;
        new_http_handler "vm.VM/NewHTTPHandler" () -> pb::NewHttpHandlerResponse;
        /// `/vm.VM/WaitForEvent` blocks until the plugin has an event; drop the future to cancel.
        wait_for_event "vm.VM/WaitForEvent" () -> pb::WaitForEventResponse;
        connected "vm.VM/Connected" (pb::ConnectedRequest) -> ();
        disconnected "vm.VM/Disconnected" (pb::DisconnectedRequest) -> ();
        build_block "vm.VM/BuildBlock" (pb::BuildBlockRequest) -> pb::BuildBlockResponse;
        set_preference "vm.VM/SetPreference" (pb::SetPreferenceRequest) -> ();
        health "vm.VM/Health" () -> pb::HealthResponse;
        version "vm.VM/Version" () -> pb::VersionResponse;
        app_request "vm.VM/AppRequest" (pb::AppRequestMsg) -> ();
        app_request_failed "vm.VM/AppRequestFailed" (pb::AppRequestFailedMsg) -> ();
        app_response "vm.VM/AppResponse" (pb::AppResponseMsg) -> ();
        app_gossip "vm.VM/AppGossip" (pb::AppGossipMsg) -> ();
        gather "vm.VM/Gather" () -> pb::GatherResponse;
        get_ancestors "vm.VM/GetAncestors" (pb::GetAncestorsRequest) -> pb::GetAncestorsResponse;
        get_block_id_at_height "vm.VM/GetBlockIDAtHeight" (pb::GetBlockIdAtHeightRequest) -> pb::GetBlockIdAtHeightResponse;
        state_sync_enabled "vm.VM/StateSyncEnabled" () -> pb::StateSyncEnabledResponse;
        get_ongoing_sync_state_summary "vm.VM/GetOngoingSyncStateSummary" () -> pb::GetOngoingSyncStateSummaryResponse;
        get_last_state_summary "vm.VM/GetLastStateSummary" () -> pb::GetLastStateSummaryResponse;
        parse_state_summary "vm.VM/ParseStateSummary" (pb::ParseStateSummaryRequest) -> pb::ParseStateSummaryResponse;
        get_state_summary "vm.VM/GetStateSummary" (pb::GetStateSummaryRequest) -> pb::GetStateSummaryResponse;
        block_verify "vm.VM/BlockVerify" (pb::BlockVerifyRequest) -> pb::BlockVerifyResponse;
        block_accept "vm.VM/BlockAccept" (pb::BlockAcceptRequest) -> ();
        block_reject "vm.VM/BlockReject" (pb::BlockRejectRequest) -> ();
        state_summary_accept "vm.VM/StateSummaryAccept" (pb::StateSummaryAcceptRequest) -> pb::StateSummaryAcceptResponse;
        /// `/vm.VM/VerifyHeightIndex` (28-34): the node needs `err` 0 to create the chain.
        verify_height_index "vm.VM/VerifyHeightIndex" () -> pb::VerifyHeightIndexResponse;
        /// `/vm.VM/CreateStaticHandlers` (28-30), on a process that never gets Initialize.
        create_static_handlers "vm.VM/CreateStaticHandlers" () -> pb::CreateStaticHandlersResponse;
        /// `/vm.VM/CreateHTTP2Handler` (41): the server for HTTP/2 requests with `chain-id`.
        create_http2_handler "vm.VM/CreateHTTP2Handler" () -> pb::CreateHttp2HandlerResponse;
        cross_chain_app_request "vm.VM/CrossChainAppRequest" (pb::CrossChainAppRequestMsg) -> ();
        cross_chain_app_request_failed "vm.VM/CrossChainAppRequestFailed" (pb::CrossChainAppRequestFailedMsg) -> ();
        cross_chain_app_response "vm.VM/CrossChainAppResponse" (pb::CrossChainAppResponseMsg) -> ();
    }

    // The block answers before the node's checks; the public methods above check them.

    async fn unchecked_parse_block(
        &self,
        request: pb::ParseBlockRequest,
    ) -> Result<pb::ParseBlockResponse, HostError> {
        let answer = self.inner.clone().parse_block(request).await;
        answer
            .map(tonic::Response::into_inner)
            .map_err(|status| HostError::rpc("vm.VM/ParseBlock", status))
    }

    async fn unchecked_get_block(
        &self,
        request: pb::GetBlockRequest,
    ) -> Result<pb::GetBlockResponse, HostError> {
        let answer = self.inner.clone().get_block(request).await;
        answer
            .map(tonic::Response::into_inner)
            .map_err(|status| HostError::rpc("vm.VM/GetBlock", status))
    }

    async fn unchecked_batched_parse_block(
        &self,
        request: pb::BatchedParseBlockRequest,
    ) -> Result<pb::BatchedParseBlockResponse, HostError> {
        let answer = self.inner.clone().batched_parse_block(request).await;
        answer
            .map(tonic::Response::into_inner)
            .map_err(|status| HostError::rpc("vm.VM/BatchedParseBlock", status))
    }
}
