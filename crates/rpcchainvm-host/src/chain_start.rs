//! How the node starts a chain on a freshly handshaken plugin process, in the order of the
//! profile it plays (node-behaviour.md section 5): Initialize → VerifyHeightIndex (28-34) →
//! CreateHandlers → CreateHTTP2Handler (41) or NewHTTPHandler (42+) → StateSyncEnabled →
//! SetState(BOOTSTRAPPING) → Connected(self) → SetPreference(last accepted) → SetState(NORMAL_OP).

use super::checks::{handler_layout, BlockSummary};
use super::{ChainParams, HostError, VmClient};
use rpcchainvm::pb::vm as pb;
use rpcchainvm::protocol::ExtraHandlerRpc;

/// What the node has once a chain is in NORMAL_OP.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainStart {
    /// From the final `SetState(NORMAL_OP)` answer.
    pub last_accepted: BlockSummary,
    /// `CreateHandlers`, minus invalid prefixes; empty if the call failed.
    pub handlers: Vec<pb::Handler>,
    /// The header-routed server: `CreateHTTP2Handler`'s at 41 (HTTP/2 requests with
    /// `chain-id`), `NewHTTPHandler`'s from 42 (requests with `Avalanche-Api-Route`); `None`
    /// before 41, when empty, or when the call failed.
    pub http_handler_addr: Option<String>,
    /// What `StateSyncEnabled` said (the host does not state sync either way).
    pub state_sync_enabled: bool,
}

impl VmClient {
    /// Starts a chain as the node of `params.profile` does (the module doc has the order).
    /// Creates `chain_data_dir` (mode 0700) first, as the node does. A failing handler RPC is
    /// logged and leaves the chain without that API, like the node; handlers in another
    /// profile's layout, or a height index that is not complete, fail the start.
    pub async fn start_chain(&self, params: &ChainParams) -> Result<ChainStart, HostError> {
        let profile = self.profile();
        if params.profile != profile {
            return Err(HostError::ProfileConflict {
                client: profile,
                params: params.profile,
            });
        }
        create_chain_dir(&params.chain_data_dir)?;
        let initialized = self.initialize(params.initialize_request()).await?;
        let genesis = BlockSummary::from_initialize(initialized)?;
        tracing::debug!(id = %genesis.id, height = genesis.height, %profile, "vm.VM/Initialize done");

        if profile.answers_verify_height_index() {
            self.check_height_index().await?;
        }
        let handlers = match self.create_handlers().await {
            Ok(response) => {
                handler_layout("vm.VM/CreateHandlers", profile, &response.handlers)?;
                Some(valid_handlers(response.handlers))
            }
            Err(error) => {
                tracing::error!(%error, "no HTTP API for this chain");
                None
            }
        };
        // The node skips the extra handler when CreateHandlers failed.
        let http_handler_addr = match handlers {
            None => None,
            Some(_) => self.extra_handler().await,
        };

        let sync = self.state_sync_enabled().await?;
        if sync.enabled {
            tracing::warn!("the VM asks for state sync, which this host does not do; skipping it");
        }

        let state = pb::SetStateRequest {
            state: pb::State::Bootstrapping.into(),
        };
        let bootstrapping = BlockSummary::from_set_state(self.set_state(state).await?)?;
        self.connected(params.connected_self()).await?;
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

    /// 28-34: the proposer VM's repair step. Anything but `err` 0 fails chain creation here
    /// (the node would repair by iterating and poll again; a VM without a complete index is not
    /// something this host plays along with).
    async fn check_height_index(&self) -> Result<(), HostError> {
        let answer = self.verify_height_index().await?;
        match answer.err {
            0 => Ok(()),
            err => Err(HostError::InvalidResponse {
                method: "vm.VM/VerifyHeightIndex",
                reason: format!("err {err}: the height index is not complete"),
            }),
        }
    }

    /// The profile's handler RPC after CreateHandlers, if it has one; `None` when it answers
    /// `""` or fails (logged, as the node does).
    async fn extra_handler(&self) -> Option<String> {
        let answer = match self.profile().extra_handler_rpc() {
            ExtraHandlerRpc::None => return None,
            ExtraHandlerRpc::CreateHttp2Handler => self
                .create_http2_handler()
                .await
                .map(|response| response.server_addr),
            ExtraHandlerRpc::NewHttpHandler => self
                .new_http_handler()
                .await
                .map(|response| response.server_addr),
        };
        match answer {
            Ok(addr) if addr.is_empty() => None,
            Ok(addr) => Some(addr),
            Err(error) => {
                tracing::error!(%error, "no header-routed HTTP handler");
                None
            }
        }
    }
}

/// The node drops handlers whose prefix is neither empty nor starts with `/` (with an error log).
pub(super) fn valid_handlers(handlers: Vec<pb::Handler>) -> Vec<pb::Handler> {
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
