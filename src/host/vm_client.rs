//! A typed client of a plugin's `vm.VM` server, with the node's transport settings (unlimited
//! message sizes, TCP_NODELAY) and the node's call sequences: chain start in AvalancheGo's order
//! (shared/spec/node-behaviour.md section 5) and the registration-time probe (section 4).
//! Responses are the generated protobuf types so tests can look at every field; `start_chain`
//! checks them the way the node does (32-byte IDs, timestamps present and in range).

use super::HostError;
use crate::chain::id::Id;
use crate::rpc::pb::vm as pb;
use crate::rpc::pb::vm::vm_client::VmClient as RawClient;
use crate::rpc::transport;
use prost_types::Timestamp;
use tonic::transport::Channel;

/// The chain-start parameters used to live here; the old paths keep working.
pub use super::chain_params::{default_network_upgrades, ChainParams, ClientVersion};

/// A cheap-to-clone handle on one plugin's `vm.VM` server; calls may run concurrently.
#[derive(Debug, Clone)]
pub struct VmClient {
    inner: RawClient<Channel>,
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
    /// Dials `addr` (`host:port`, as announced at the handshake).
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
        let inner = RawClient::new(channel)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        VmClient { inner }
    }

    /// The generated client, for calls with custom metadata or deadlines.
    pub fn raw(&self) -> RawClient<Channel> {
        self.inner.clone()
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
        parse_block "vm.VM/ParseBlock" (pb::ParseBlockRequest) -> pb::ParseBlockResponse;
        get_block "vm.VM/GetBlock" (pb::GetBlockRequest) -> pb::GetBlockResponse;
        set_preference "vm.VM/SetPreference" (pb::SetPreferenceRequest) -> ();
        health "vm.VM/Health" () -> pb::HealthResponse;
        version "vm.VM/Version" () -> pb::VersionResponse;
        app_request "vm.VM/AppRequest" (pb::AppRequestMsg) -> ();
        app_request_failed "vm.VM/AppRequestFailed" (pb::AppRequestFailedMsg) -> ();
        app_response "vm.VM/AppResponse" (pb::AppResponseMsg) -> ();
        app_gossip "vm.VM/AppGossip" (pb::AppGossipMsg) -> ();
        gather "vm.VM/Gather" () -> pb::GatherResponse;
        get_ancestors "vm.VM/GetAncestors" (pb::GetAncestorsRequest) -> pb::GetAncestorsResponse;
        batched_parse_block "vm.VM/BatchedParseBlock" (pb::BatchedParseBlockRequest) -> pb::BatchedParseBlockResponse;
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
    }

    /// The registration-time sequence (node-behaviour.md section 4): `Version`, then `Shutdown`
    /// without Initialize. A Shutdown error is only logged, as the node does.
    pub async fn version_probe(&self) -> Result<String, HostError> {
        let version = self.version().await?.version;
        if let Err(error) = self.shutdown().await {
            tracing::warn!(%error, "Shutdown after Version failed");
        }
        Ok(version)
    }

    /// Starts a chain in the node's order: Initialize → CreateHandlers → NewHTTPHandler →
    /// StateSyncEnabled → SetState(BOOTSTRAPPING) → Connected(self) → SetPreference(last
    /// accepted) → SetState(NORMAL_OP). Creates `chain_data_dir` (mode 0700) first, as the node
    /// does. Handler errors are logged and leave the chain without that API, like the node.
    pub async fn start_chain(&self, params: &ChainParams) -> Result<ChainStart, HostError> {
        create_chain_dir(&params.chain_data_dir)?;
        let initialized = self.initialize(params.initialize_request()).await?;
        let genesis = BlockSummary::from_initialize(initialized)?;
        tracing::debug!(id = %genesis.id, height = genesis.height, "vm.VM/Initialize done");

        let handlers = match self.create_handlers().await {
            Ok(response) => Some(valid_handlers(response.handlers)),
            Err(error) => {
                tracing::error!(%error, "no HTTP API for this chain");
                None
            }
        };
        let http_handler_addr = match handlers {
            None => None, // the node skips NewHTTPHandler when CreateHandlers failed
            Some(_) => match self.new_http_handler().await {
                Ok(response) if response.server_addr.is_empty() => None,
                Ok(response) => Some(response.server_addr),
                Err(error) => {
                    tracing::error!(%error, "no header-routed HTTP handler");
                    None
                }
            },
        };

        let sync = self.state_sync_enabled().await?;
        if sync.enabled {
            tracing::warn!("the VM asks for state sync, which this host does not do; skipping it");
        }

        let state = pb::SetStateRequest {
            state: pb::State::Bootstrapping.into(),
        };
        let bootstrapping = BlockSummary::from_set_state(self.set_state(state).await?)?;
        self.connected(params.client.connected_request(params.node_id))
            .await?;
        self.set_preference(pb::SetPreferenceRequest {
            id: bootstrapping.id.0.to_vec(),
        })
        .await?;
        let state = pb::SetStateRequest {
            state: pb::State::NormalOp.into(),
        };
        let last_accepted = BlockSummary::from_set_state(self.set_state(state).await?)?;
        Ok(ChainStart {
            last_accepted,
            handlers: handlers.unwrap_or_default(),
            http_handler_addr,
            state_sync_enabled: sync.enabled,
        })
    }
}

/// The node drops handlers whose prefix is neither empty nor starts with `/` (with an error log).
fn valid_handlers(handlers: Vec<pb::Handler>) -> Vec<pb::Handler> {
    handlers
        .into_iter()
        .filter(|h| {
            let ok = h.prefix.is_empty() || h.prefix.starts_with('/');
            if !ok {
                tracing::error!(prefix = %h.prefix, "skipping handler with an invalid prefix");
            }
            ok
        })
        .collect()
}

fn create_chain_dir(path: &std::path::Path) -> Result<(), HostError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|source| HostError::ChainDir {
            path: path.to_path_buf(),
            source,
        })
}

/// What the node has once a chain is in NORMAL_OP.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainStart {
    /// From the final `SetState(NORMAL_OP)` answer.
    pub last_accepted: BlockSummary,
    /// `CreateHandlers`, minus invalid prefixes; empty if the call failed.
    pub handlers: Vec<pb::Handler>,
    /// `NewHTTPHandler`'s server, `None` when empty or failed.
    pub http_handler_addr: Option<String>,
    /// What `StateSyncEnabled` said (the host does not state sync either way).
    pub state_sync_enabled: bool,
}

/// A block as the node sees it in Initialize/SetState/BuildBlock answers, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockSummary {
    pub id: Id,
    pub parent_id: Id,
    pub height: u64,
    pub timestamp: Timestamp,
    pub bytes: Vec<u8>,
}

impl BlockSummary {
    pub fn from_initialize(r: pb::InitializeResponse) -> Result<BlockSummary, HostError> {
        let (id, parent) = (&r.last_accepted_id, &r.last_accepted_parent_id);
        BlockSummary::check(
            "vm.VM/Initialize",
            id,
            parent,
            r.height,
            r.timestamp,
            r.bytes,
        )
    }

    pub fn from_set_state(r: pb::SetStateResponse) -> Result<BlockSummary, HostError> {
        let (id, parent) = (&r.last_accepted_id, &r.last_accepted_parent_id);
        BlockSummary::check("vm.VM/SetState", id, parent, r.height, r.timestamp, r.bytes)
    }

    pub fn from_build(r: pb::BuildBlockResponse) -> Result<BlockSummary, HostError> {
        let (id, parent) = (&r.id, &r.parent_id);
        BlockSummary::check(
            "vm.VM/BuildBlock",
            id,
            parent,
            r.height,
            r.timestamp,
            r.bytes,
        )
    }

    fn check(
        method: &'static str,
        id: &[u8],
        parent_id: &[u8],
        height: u64,
        timestamp: Option<Timestamp>,
        bytes: Vec<u8>,
    ) -> Result<BlockSummary, HostError> {
        Ok(BlockSummary {
            id: id32(method, "id", id)?,
            parent_id: id32(method, "parent id", parent_id)?,
            height,
            timestamp: valid_timestamp(method, timestamp)?,
            bytes,
        })
    }
}

/// The node's `ids.ToID`: exactly 32 bytes.
pub fn id32(method: &'static str, field: &str, bytes: &[u8]) -> Result<Id, HostError> {
    Id::from_slice(bytes).ok_or_else(|| HostError::InvalidResponse {
        method,
        reason: format!("{field} has {} bytes, expected 32", bytes.len()),
    })
}

/// The node's timestamp check: present, seconds within years 1–9999, nanos within a second.
pub fn valid_timestamp(
    method: &'static str,
    timestamp: Option<Timestamp>,
) -> Result<Timestamp, HostError> {
    let invalid = |reason: String| HostError::InvalidResponse { method, reason };
    let ts = timestamp.ok_or_else(|| invalid("invalid nil Timestamp".into()))?;
    if !(-62_135_596_800..=253_402_300_799).contains(&ts.seconds) {
        return Err(invalid(format!(
            "timestamp seconds {} out of range",
            ts.seconds
        )));
    }
    if !(0..=999_999_999).contains(&ts.nanos) {
        return Err(invalid(format!(
            "timestamp nanos {} out of range",
            ts.nanos
        )));
    }
    Ok(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_checked_like_the_node() {
        let good = pb::InitializeResponse {
            last_accepted_id: vec![1; 32],
            last_accepted_parent_id: vec![0; 32],
            height: 0,
            bytes: vec![0; 82],
            timestamp: Some(Timestamp::default()),
        };
        assert_eq!(
            BlockSummary::from_initialize(good.clone()).unwrap().id,
            Id([1; 32])
        );
        let short = pb::InitializeResponse {
            last_accepted_id: vec![1; 31],
            ..good.clone()
        };
        assert!(BlockSummary::from_initialize(short).is_err());
        let no_time = pb::InitializeResponse {
            timestamp: None,
            ..good
        };
        let error = BlockSummary::from_initialize(no_time).unwrap_err();
        assert!(
            error.to_string().contains("invalid nil Timestamp"),
            "{error}"
        );
    }
}
