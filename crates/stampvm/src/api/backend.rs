//! What the JSON-RPC layer needs from the rest of the VM, as a trait: the actors implement it
//! (`crate::actors::VmHandles`), so the API layer knows nothing of actors or storage. The types
//! it speaks in are the chain's ([`crate::chain::view`]), re-exported here for the API's code.

use crate::chain::{ChainFormat, Id, Payload};
use std::future::Future;

pub use crate::chain::view::{
    BackendError, BlockStatus, BlockView, MempoolStats, ProofLookup, ProposeError,
};

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
