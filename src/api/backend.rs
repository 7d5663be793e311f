//! What the JSON-RPC layer needs from the rest of the VM, as a trait: the actors implement it
//! (`crate::actors::VmHandles`), so the API layer knows nothing of actors or storage.

use crate::chain::{Block, Id};
use std::future::Future;

/// Where a block the VM still holds stands in consensus (rejected blocks are not held).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockStatus {
    Processing,
    Accepted,
}

/// A block with its ID (computed once) and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockView {
    pub id: Id,
    pub block: Block,
    pub status: BlockStatus,
}

/// Why a proposed payload was not taken. Each is an answer to the caller, never a silent drop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProposeError {
    #[error("mempool full ({capacity} pending payloads)")]
    MempoolFull { capacity: usize },
    #[error("payload is already pending in the mempool")]
    Duplicate,
    #[error("payload is already in accepted block {0}")]
    AlreadyAccepted(Id),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// The VM could not answer at all (as opposed to answering "no").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("the VM is not initialized")]
    NotInitialized,
    #[error("the VM is shutting down")]
    ShuttingDown,
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MempoolStats {
    pub size: usize,
    pub capacity: usize,
}

/// The chain as the JSON-RPC methods see it.
pub trait Backend: Clone + Send + Sync + 'static {
    /// Adds a payload to the mempool (and from there to gossip and the next block).
    fn propose(&self, payload: [u8; 32]) -> impl Future<Output = Result<(), ProposeError>> + Send;
    /// An accepted or processing block (rejected blocks are forgotten).
    fn block(&self, id: Id)
        -> impl Future<Output = Result<Option<BlockView>, BackendError>> + Send;
    fn last_accepted(&self) -> impl Future<Output = Result<BlockView, BackendError>> + Send;
    /// The accepted block at `height`, if the accepted chain is that tall.
    fn block_at_height(
        &self,
        height: u64,
    ) -> impl Future<Output = Result<Option<BlockView>, BackendError>> + Send;
    fn mempool_stats(&self) -> impl Future<Output = Result<MempoolStats, BackendError>> + Send;
}
