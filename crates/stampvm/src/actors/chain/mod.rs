//! The chain actor: owns the store (as its only writer), the processing blocks (verified, not yet
//! decided), the rejected set, the preference and the last accepted block. Verification, accept,
//! reject and every lookup that needs a block's status go through it.

mod state;
#[cfg(test)]
mod tests;

pub use state::ChainCore;

use crate::actors::mempool::MempoolMsg;
use crate::actors::off_worker;
use crate::actors::tasks::Tasks;
use crate::chain::view::BlockView;
use crate::chain::{Block, ClockBehindParent, Id, Payload, VerifyError};
use crate::clock::Clock;
use crate::failures::{self, Cause, Operation};
use crate::storage::{StorageError, Store};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::sync::Arc;
use std::time::Duration;

/// How often the tip's lead over the local clock is looked at without any block activity: a chain
/// stalled by its clock builds nothing, and its gauge must still follow the clock.
const CLOCK_CHECK_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("block {0} is not known")]
    Unknown(Id),
    #[error("block {0} was rejected")]
    Rejected(Id),
    #[error("block {id} is invalid: {reason}")]
    Invalid { id: Id, reason: VerifyError },
    #[error("block {0} is not processing (it must be verified before it is decided)")]
    NotProcessing(Id),
    #[error("every payload offered for a block is already in a block")]
    NothingNew,
    #[error("preferred block {0} cannot be built on (it is decided below the tip or rejected)")]
    PreferenceNotBuildable(Id),
    #[error(transparent)]
    ClockBehind(#[from] ClockBehindParent),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

pub type Reply<T> = RpcReplyPort<Result<T, ChainError>>;

pub enum ChainMsg {
    Get(Id, Reply<Option<BlockView>>),
    /// Verifies a block (ours or a peer's); on success it is processing. Idempotent.
    Verify(Block, Reply<BlockView>),
    Accept(Id, Reply<()>),
    Reject(Id, Reply<()>),
    SetPreference(Id, Reply<()>),
    /// Makes a block of these payloads on the preferred block and verifies it (the builder's
    /// one message per block). On a batched chain, payloads an accepted block or a processing
    /// ancestor already holds are left out and named in the reply.
    Build(Vec<Payload>, Reply<Built>),
    LastAccepted(Reply<BlockView>),
    BlockAtHeight(u64, Reply<Option<BlockView>>),
    /// Encoded blocks from `id` back towards genesis, within the node's budgets.
    Ancestors(AncestorsQuery, Reply<Vec<Vec<u8>>>),
    /// How many blocks are processing, and how long the oldest has waited for a decision.
    Processing(RpcReplyPort<ProcessingFacts>),
    /// Whether a block being decided carries this payload (getProof's "not yet accepted").
    ProcessingHolds(Payload, RpcReplyPort<bool>),
    /// Time to compare the tip with the local clock again.
    CheckClock,
}

/// The processing blocks as Health sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessingFacts {
    pub count: usize,
    /// Time since the longest-processing block was verified: consensus decides a block within
    /// seconds, so a large value means the chain is stalled.
    pub oldest: Option<Duration>,
}

/// A block built and verified, and the offered payloads it left out.
pub struct Built {
    pub view: BlockView,
    pub left_out: Vec<Payload>,
}

/// GetAncestors' limits (node-behaviour.md section 7).
pub struct AncestorsQuery {
    pub id: Id,
    pub max_blocks: usize,
    pub max_bytes: usize,
    pub max_time: Duration,
}

pub struct ChainArgs {
    pub store: Arc<Store>,
    pub mempool: ActorRef<MempoolMsg>,
    /// What "local time" is in the verification rules and for blocks built here.
    pub clock: Clock,
    /// Where the clock check's timer runs (stopped with the VM).
    pub tasks: Tasks,
}

/// The actor's state: its [`ChainCore`], lent to the blocking pool for each message that reads
/// or writes the store. `None` only while lent, or after a message panicked there.
pub struct ChainState {
    core: Option<ChainCore>,
}

pub struct ChainActor;

/// RocksDB's memory as gauges: a long run shows whether the plugin's memory growth is its
/// memtables and cache filling up to their cap (`scripts/soak.sh`).
fn publish_memory(store: &Store) {
    use crate::metrics::{LABEL_PART, ROCKSDB_MEMORY_BYTES};
    let memory = store.memory();
    metrics::gauge!(ROCKSDB_MEMORY_BYTES, LABEL_PART => "memtables").set(memory.memtables as f64);
    metrics::gauge!(ROCKSDB_MEMORY_BYTES, LABEL_PART => "block_cache")
        .set(memory.block_cache as f64);
}

/// `result`, after [`failures::report`] has counted and logged its error. Reads report only the
/// store's failures (an unknown block is an answer, not a failure); a build that found nothing new
/// to put in a block is no failure either.
fn reported<T>(operation: Operation, result: Result<T, ChainError>) -> Result<T, ChainError> {
    if let Err(error) = &result {
        let cause = match error {
            ChainError::Storage(_) => Cause::Storage,
            ChainError::Invalid { .. } => Cause::Invalid,
            _ => Cause::Other,
        };
        let worth_reporting = match (operation, error) {
            (_, ChainError::Storage(_)) => true,
            (Operation::Read, _) | (Operation::Build, ChainError::NothingNew) => false,
            _ => true,
        };
        if worth_reporting {
            failures::report(operation, cause, error);
        }
    }
    result
}

impl Actor for ChainActor {
    type Msg = ChainMsg;
    type State = ChainState;
    type Arguments = ChainArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: ChainArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        let store = args.store.clone();
        let last_accepted = off_worker(move || store.last_accepted()).await??;
        metrics::gauge!(crate::metrics::LAST_ACCEPTED_HEIGHT).set(last_accepted.1.height as f64);
        publish_memory(&args.store);
        args.tasks
            .every(CLOCK_CHECK_EVERY, myself, || ChainMsg::CheckClock);
        let mut core = ChainCore::new(args.store, args.mempool, args.clock, last_accepted);
        core.check_clock();
        Ok(ChainState { core: Some(core) })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let core = state.core.as_mut().ok_or(LOST)?;
        // Replies may find the caller gone (a cancelled request): that is not an error here.
        match msg {
            // Answered from memory, on the worker.
            ChainMsg::LastAccepted(reply) => {
                let _ = reply.send(Ok(core.last_accepted_view()));
            }
            ChainMsg::Processing(reply) => {
                let _ = reply.send(core.processing_facts());
            }
            ChainMsg::ProcessingHolds(payload, reply) => {
                let _ = reply.send(core.processing_holds(&payload));
            }
            ChainMsg::CheckClock => core.check_clock(),
            // The two that can hold the thread for long: an accept's fsynced write batch, and
            // GetAncestors' read of up to its byte limit of blocks. The core goes to the
            // blocking pool and back within this message, so messages still run one at a time in
            // mailbox order: an accept's fsync completes before the next message starts.
            long @ ChainMsg::Ancestors(..) => self.lend_core_off_worker(state, long).await?,
            long @ ChainMsg::Accept(..) if core.store().syncs_writes() => {
                self.lend_core_off_worker(state, long).await?
            }
            // The rest read at most one block or a height entry, from memory or RocksDB's
            // cache in the common case, and an accept without fsync writes to the memtable and
            // the write-ahead log's page cache: microseconds. A trip to the blocking pool and
            // back costs more (~45 us each on a 2-core machine: BlockVerify went from 19 to 64 us
            // and SetPreference from 16 to 65 us in `grpc_round`), so they run here.
            short => core.handle_store(short),
        }
        Ok(())
    }
}

impl ChainActor {
    /// Runs one store message on the blocking pool, the core lent to it and given back.
    async fn lend_core_off_worker(
        &self,
        state: &mut ChainState,
        msg: ChainMsg,
    ) -> Result<(), ActorProcessingErr> {
        let mut core = state.core.take().ok_or(LOST)?;
        let core = off_worker(move || {
            core.handle_store(msg);
            core
        })
        .await?;
        state.core = Some(core);
        Ok(())
    }
}

/// A message panicked on the blocking pool and took the chain's state with it.
const LOST: &str = "the chain actor's state was lost by a message that panicked";

impl ChainCore {
    /// The messages that read or write the store.
    fn handle_store(&mut self, msg: ChainMsg) {
        match msg {
            ChainMsg::Get(id, reply) => {
                let _ = reply.send(reported(Operation::Read, self.lookup(&id)));
            }
            ChainMsg::Verify(block, reply) => {
                let _ = reply.send(reported(Operation::Verify, self.verify(block)));
            }
            ChainMsg::Accept(id, reply) => {
                let _ = reply.send(reported(Operation::Accept, self.accept(id)));
            }
            ChainMsg::Reject(id, reply) => {
                let _ = reply.send(reported(Operation::Reject, self.reject(id)));
            }
            ChainMsg::SetPreference(id, reply) => {
                let _ = reply.send(reported(Operation::SetPreference, self.set_preference(id)));
            }
            ChainMsg::Build(payloads, reply) => {
                let _ = reply.send(reported(Operation::Build, self.build(payloads)));
            }
            ChainMsg::BlockAtHeight(height, reply) => {
                let found = self
                    .store()
                    .block_id_at_height(height)
                    .map_err(ChainError::from)
                    .and_then(|id| match id {
                        Some(id) => self.lookup(&id),
                        None => Ok(None),
                    });
                let _ = reply.send(reported(Operation::Read, found));
            }
            ChainMsg::Ancestors(query, reply) => {
                let _ = reply.send(reported(Operation::Read, self.ancestors(query)));
            }
            ChainMsg::LastAccepted(_)
            | ChainMsg::Processing(_)
            | ChainMsg::ProcessingHolds(..)
            | ChainMsg::CheckClock => {
                unreachable!("answered from memory by ChainActor::handle")
            }
        }
    }
}
