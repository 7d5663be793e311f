//! What the JSON-RPC layer needs from the rest of the VM, as a trait: the actors implement it
//! (`crate::actors::VmHandles`), so the API layer knows nothing of actors or storage.

use crate::chain::{Block, ChainFormat, Id, Payload, Proof};
use std::future::Future;

/// Where a block the VM still holds stands in consensus (rejected blocks are not held).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockStatus {
    Processing,
    Accepted,
}

/// A block with its ID (computed once) and status.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// What the chain knows of a payload, for `timestampvm.getProof`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofLookup {
    /// In an accepted block: here is the proof.
    Proven(Proof),
    /// Waiting in the mempool or in a block not yet decided: ask again later.
    NotYetAccepted,
    /// Never proposed here (or proposed and refused).
    Unknown,
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
    /// Adds many payloads, in order, each taken or refused on its own (one answer per payload,
    /// same order). `Err` only when the VM cannot answer at all.
    fn propose_batch(
        &self,
        payloads: Vec<Payload>,
    ) -> impl Future<Output = Result<Vec<Result<(), ProposeError>>, BackendError>> + Send;
    /// The inclusion proof of a payload, or why there is none yet.
    fn proof(
        &self,
        payload: Payload,
    ) -> impl Future<Output = Result<ProofLookup, BackendError>> + Send;
    /// The chain's block format (from its genesis).
    fn chain_format(&self) -> ChainFormat;
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
