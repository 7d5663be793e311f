//! The [`Vm`] trait: what a virtual machine written with this crate implements, in its own terms.
//! The SDK's service (`service`, private) turns any `impl Vm` into the node's `vm.VM` gRPC service for the chosen
//! [`crate::protocol::Profile`]; no protobuf type appears here (the Prometheus metric families of
//! [`Vm::gather`] excepted: Prometheus defines its data model as that protobuf).
//!
//! Every method returns a `Send` future (written `async fn` in an impl), so the service stays
//! generic and runs on tonic's multi-threaded runtime. The node calls methods concurrently; a VM
//! serializes what needs it (stampvm does it with actors).

use crate::block::{AncestorsLimits, BlockInfo, BlockStatus, Timestamp};
use crate::http::SharedHandler;
use crate::ids::{Id, NodeId};
use crate::node_client::NodeClients;
use crate::protocol::Profile;
use crate::wire::WireError;
use std::future::Future;
use std::path::PathBuf;

/// A Prometheus metric family as [`Vm::gather`] returns it (the node merges it into `/ext/metrics`).
pub use crate::pb::io::prometheus::client::MetricFamily;

/// Why a call failed, as the VM says it. The service answers each variant with one gRPC status
/// code and the variant's text as the message (the node logs the message; for Initialize it is
/// all the operator sees).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VmError {
    /// A chain call before Initialize or after Shutdown (`FAILED_PRECONDITION`).
    #[error("the VM is not initialized")]
    NotInitialized,
    /// A second Initialize on a running chain (`FAILED_PRECONDITION`).
    #[error("the VM is already initialized")]
    AlreadyInitialized,
    /// The node's input is malformed or breaks the VM's rules (`INVALID_ARGUMENT`).
    #[error("{0}")]
    Invalid(String),
    /// The input is fine but the VM's state refuses the call now (`FAILED_PRECONDITION`): nothing
    /// to build, a data directory in use, a configured port taken.
    #[error("{0}")]
    Refused(String),
    /// A part of the VM is gone or unhealthy (`UNAVAILABLE`).
    #[error("{0}")]
    Unavailable(String),
    /// The VM broke its own invariants (`INTERNAL`).
    #[error("{0}")]
    Internal(String),
    /// The operation failed for a reason of its own, e.g. a storage error (`UNKNOWN`).
    #[error("{0}")]
    Failed(String),
}

impl VmError {
    /// The status the node receives for this error.
    pub(crate) fn into_status(self) -> tonic::Status {
        let message = self.to_string();
        match self {
            VmError::NotInitialized | VmError::AlreadyInitialized | VmError::Refused(_) => {
                tonic::Status::failed_precondition(message)
            }
            VmError::Invalid(_) => tonic::Status::invalid_argument(message),
            VmError::Unavailable(_) => tonic::Status::unavailable(message),
            VmError::Internal(_) => tonic::Status::internal(message),
            VmError::Failed(_) => tonic::Status::unknown(message),
        }
    }
}

/// What the node tells a chain at Initialize (node-behaviour.md section 5.1), read in the
/// profile's layouts. IDs the node must send are checked by the service before the VM sees them;
/// the others are `None` when the node sent no 32-byte value (test hosts often send none).
#[derive(Clone)]
pub struct InitParams {
    /// The profile the plugin serves, for a VM whose own behaviour depends on the node's version.
    pub profile: Profile,
    pub network_id: u32,
    pub subnet_id: Option<Id>,
    pub chain_id: Id,
    pub node_id: NodeId,
    /// The node's BLS public key, as sent.
    pub public_key: Vec<u8>,
    pub x_chain_id: Option<Id>,
    pub c_chain_id: Option<Id>,
    pub avax_asset_id: Option<Id>,
    /// Where the chain keeps its files; empty if the node sent none (a VM that stores refuses it).
    pub chain_data_dir: PathBuf,
    pub genesis_bytes: Vec<u8>,
    pub upgrade_bytes: Vec<u8>,
    /// The chain config file's bytes (empty without one).
    pub config_bytes: Vec<u8>,
    /// The node's `rpcdb.Database` server, if it sent one; `Err` when field 13 does not read in
    /// the profile's layout (a node of another profile than the one we serve).
    pub db_server_addr: Result<Option<String>, WireError>,
    /// Clients of the node's AppSender and Messenger at `server_addr`, connecting on first use.
    pub node: NodeClients,
}

/// The engine state announced by `SetState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineState {
    StateSyncing,
    Bootstrapping,
    NormalOp,
    /// A value this build does not know (`vm.State` numbering).
    Other(i32),
}

/// A peer as `Connected` names it: its client and version, `avalanchego/1.14.2` style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerVersion(pub String);

/// What [`Vm::wait_for_event`] reports: the node's `vm.Message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A block can be built: the node calls BuildBlock.
    BuildBlock,
    /// The VM state-synced (for VMs that do state sync).
    StateSyncDone,
}

/// An app request from a peer (`vm.VM/AppRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRequest {
    /// `None` when the node sent no 20-byte ID.
    pub from: Option<NodeId>,
    pub request_id: u32,
    /// When the requester stops waiting, if the node said.
    pub deadline: Option<Timestamp>,
    pub request: Vec<u8>,
}

/// A virtual machine the node can drive. See the crate docs for a walk-through and
/// `examples/counter_vm.rs` for a complete one.
///
/// Methods with a default body answer as a VM without that feature should; the service itself
/// answers what no VM chooses (state sync not implemented, cross-chain messages dropped, height
/// index always complete, and refusals of RPCs the profile does not have).
pub trait Vm: Send + Sync + 'static {
    /// Starts the chain. Returns the last accepted block (genesis on a new chain). A refused
    /// Initialize must leave nothing behind: the node may call it again.
    fn initialize(
        &self,
        params: InitParams,
    ) -> impl Future<Output = Result<BlockInfo, VmError>> + Send;

    /// The engine's state changed; returns the last accepted block.
    fn set_state(
        &self,
        state: EngineState,
    ) -> impl Future<Output = Result<BlockInfo, VmError>> + Send;

    /// Stops the chain, if it runs. Also called on a process that was never initialized.
    fn shutdown(&self) -> impl Future<Output = ()> + Send;

    /// Builds a block on the preferred one and verifies it (it is then processing).
    fn build_block(&self) -> impl Future<Output = Result<BlockInfo, VmError>> + Send;

    /// Decodes block bytes without verifying them; `Invalid` for bytes that are no block.
    fn parse_block(&self, bytes: &[u8]) -> impl Future<Output = Result<BlockInfo, VmError>> + Send;

    /// The status of a parsed block: asked only on profiles whose node requires one (up to 35).
    /// Accepted if it is the accepted block at its height, rejected if another one is, else
    /// processing.
    fn parsed_block_status(
        &self,
        block: &BlockInfo,
    ) -> impl Future<Output = Result<BlockStatus, VmError>> + Send;

    /// A block the VM holds (processing or accepted), or `None`.
    fn get_block(&self, id: Id) -> impl Future<Output = Result<Option<BlockInfo>, VmError>> + Send;

    /// Verifies block bytes; on success the block is processing. Returns its time.
    fn verify_block(&self, bytes: &[u8])
        -> impl Future<Output = Result<Timestamp, VmError>> + Send;

    fn accept_block(&self, id: Id) -> impl Future<Output = Result<(), VmError>> + Send;

    fn reject_block(&self, id: Id) -> impl Future<Output = Result<(), VmError>> + Send;

    /// The block the next one is built on.
    fn set_preference(&self, id: Id) -> impl Future<Output = Result<(), VmError>> + Send;

    /// The ID of the accepted block at `height`, or `None` above the tip.
    fn block_id_at_height(
        &self,
        height: u64,
    ) -> impl Future<Output = Result<Option<Id>, VmError>> + Send;

    /// Encoded blocks from `id` back towards genesis, within the node's limits.
    fn ancestors(
        &self,
        id: Id,
        limits: AncestorsLimits,
    ) -> impl Future<Output = Result<Vec<Vec<u8>>, VmError>> + Send;

    /// Health details (JSON the node embeds in `/ext/health`), or why the chain is unhealthy.
    fn health(&self) -> impl Future<Output = Result<String, VmError>> + Send;

    /// The VM's version text (`vm.VM/Version`).
    fn version(&self) -> impl Future<Output = Result<String, VmError>> + Send;

    /// The chain's HTTP handlers by path prefix (`""` is `/ext/bc/<chainID>` itself). Each
    /// distinct handler gets one `http.HTTP` server, shared by every prefix and call that
    /// returns a clone of it; the servers stop at Shutdown.
    fn create_handlers(
        &self,
    ) -> impl Future<Output = Result<Vec<(String, SharedHandler)>, VmError>> + Send;

    /// The handler the node routes by header (`CreateHTTP2Handler` at 41, `NewHTTPHandler` from
    /// 42), or `None`.
    fn http_handler(&self) -> impl Future<Output = Result<Option<SharedHandler>, VmError>> + Send {
        async { Ok(None) }
    }

    /// Profiles 28-30: the VM's chain-less handlers, asked of a never-initialized process at VM
    /// registration (mounted at `/ext/vm/<vmID>`); served until the process exits.
    fn create_static_handlers(
        &self,
    ) -> impl Future<Output = Result<Vec<(String, SharedHandler)>, VmError>> + Send {
        async { Ok(Vec::new()) }
    }

    /// Profiles 42+: resolves when the VM has work for the engine. The node cancels the call
    /// (the future is dropped) when it stops waiting, so it must be cancel-safe.
    fn wait_for_event(&self) -> impl Future<Output = Result<Event, VmError>> + Send;

    /// A peer connected (the node itself among them). The default logs it at debug.
    fn connected(
        &self,
        node: NodeId,
        version: PeerVersion,
    ) -> impl Future<Output = Result<(), VmError>> + Send {
        async move {
            tracing::debug!(%node, version = %version.0, "peer connected");
            Ok(())
        }
    }

    /// The default logs it at debug.
    fn disconnected(&self, node: NodeId) -> impl Future<Output = Result<(), VmError>> + Send {
        async move {
            tracing::debug!(%node, "peer disconnected");
            Ok(())
        }
    }

    /// A peer's gossip. Never fails: an error status would make the node stop the chain, so the
    /// service drops malformed senders before this and a VM drops what it cannot use.
    fn app_gossip(&self, _from: NodeId, _msg: Vec<u8>) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// A peer's request. The default ignores it: the requester's timeout answers it.
    fn app_request(&self, request: AppRequest) -> impl Future<Output = ()> + Send {
        async move {
            tracing::debug!(
                request_id = request.request_id,
                bytes = request.request.len(),
                "app request ignored"
            );
        }
    }

    /// The node's metrics of this VM, gathered at each scrape of the node's `/ext/metrics`.
    fn gather(&self) -> impl Future<Output = Vec<MetricFamily>> + Send {
        async { Vec::new() }
    }
}
