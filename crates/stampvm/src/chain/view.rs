//! The chain's vocabulary as its readers see it: a block with its status, why a proposal was
//! refused, what is known of a payload's proof, the mempool's size. Plain data, shared by the
//! actors that produce it, the JSON-RPC layer that reads it (through `api::Backend`) and the
//! pure mempool rules ([`crate::chain::mempool`]).

use crate::chain::{Block, Id, Proof};

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

/// How full the mempool is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MempoolStats {
    pub size: usize,
    pub capacity: usize,
}
