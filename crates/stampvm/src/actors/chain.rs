//! The chain actor: owns the store (as its only writer), the processing blocks (verified, not yet
//! decided), the rejected set, the preference and the last accepted block. Verification, accept,
//! reject and every lookup that needs a block's status go through it.

use crate::actors::clock_watch::ClockWatch;
use crate::actors::mempool::MempoolMsg;
use crate::actors::off_worker;
use crate::actors::tasks::Tasks;
use crate::chain::batched::first_shared;
use crate::chain::merkle::Tree;
use crate::chain::view::{BlockStatus, BlockView};
use crate::chain::{
    build_timestamp, verify_body, verify_child, Block, ChainFormat, ClockBehindParent, Id,
    ParentStatus, Payload, VerifyError,
};
use crate::clock::Clock;
use crate::failures::{self, Cause, Operation};
use crate::storage::{StorageError, Store};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many rejected IDs are remembered (to refuse their children) before the oldest are forgotten.
const REJECTED_MEMORY: usize = 16_384;
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

/// What the chain actor owns, and every rule that needs it. Its methods block (RocksDB reads,
/// the fsynced accept): the actor runs them on tokio's blocking pool, never on an async worker.
pub struct ChainCore {
    store: Arc<Store>,
    format: ChainFormat,
    mempool: ActorRef<MempoolMsg>,
    last_accepted: (Id, Block),
    preferred: Id,
    processing: HashMap<Id, Block>,
    /// When each processing block was verified.
    verified_at: HashMap<Id, Instant>,
    /// Merkle trees of processing batched blocks, hashed once by verification and kept so
    /// accept stores the proof nodes without hashing again.
    trees: HashMap<Id, Tree>,
    rejected: HashSet<Id>,
    rejected_order: VecDeque<Id>,
    clock: Clock,
    clock_watch: ClockWatch,
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

fn view(id: Id, block: Block, status: BlockStatus) -> BlockView {
    BlockView { id, block, status }
}

impl ChainCore {
    fn lookup(&self, id: &Id) -> Result<Option<BlockView>, ChainError> {
        if let Some(block) = self.processing.get(id) {
            return Ok(Some(view(*id, block.clone(), BlockStatus::Processing)));
        }
        if let Some(block) = self.store.block(id)? {
            return Ok(Some(view(*id, block, BlockStatus::Accepted)));
        }
        Ok(None)
    }

    fn parent_status(&self, parent: &Id) -> Result<Option<(Block, ParentStatus)>, ChainError> {
        if *parent == self.last_accepted.0 {
            return Ok(Some((
                self.last_accepted.1.clone(),
                ParentStatus::LastAccepted,
            )));
        }
        if let Some(block) = self.processing.get(parent) {
            return Ok(Some((block.clone(), ParentStatus::Processing)));
        }
        if self.rejected.contains(parent) {
            // The rule fires before the block is looked at, so any block stands in.
            return Ok(Some((self.last_accepted.1.clone(), ParentStatus::Rejected)));
        }
        Ok(self
            .store
            .block(parent)?
            .map(|block| (block, ParentStatus::AcceptedBelowTip)))
    }

    fn verify(&mut self, block: Block) -> Result<BlockView, ChainError> {
        self.verify_with(block, None)
    }

    /// Verification; `built` is the tree of a block [`ChainState::build`] just made from
    /// payloads it checked against this same state (within this one message), so the batch
    /// rules hold by construction and are not paid for twice. Peers' blocks always get `None`.
    fn verify_with(&mut self, block: Block, built: Option<Tree>) -> Result<BlockView, ChainError> {
        let started = Instant::now();
        let id = block.id();
        if let Some(known) = self.lookup(&id)? {
            return Ok(known);
        }
        if self.rejected.contains(&id) {
            return Err(ChainError::Rejected(id));
        }
        let parent = self.parent_status(&block.parent)?;
        verify_child(
            &block,
            parent.as_ref().map(|(b, s)| (b, *s)),
            self.clock.now(),
        )
        .map_err(|reason| ChainError::Invalid { id, reason })?;
        let tree = match built {
            Some(tree) => Some(tree),
            None => {
                let tree = verify_body(&block, self.format)
                    .map_err(|reason| ChainError::Invalid { id, reason })?;
                self.check_not_included(id, &block)?;
                tree
            }
        };
        if let Some(tree) = tree {
            self.trees.insert(id, tree);
        }
        let view = view(id, block.clone(), BlockStatus::Processing);
        self.processing.insert(id, block);
        self.verified_at.insert(id, Instant::now());
        metrics::counter!(crate::metrics::BLOCKS_VERIFIED_TOTAL).increment(1);
        metrics::histogram!(crate::metrics::BLOCK_VERIFY_SECONDS)
            .record(started.elapsed().as_secs_f64());
        self.publish_processing();
        Ok(view)
    }

    /// A batched block may not carry a payload that an accepted block or a processing block
    /// it builds on already holds: every payload has one place, so one proof. (TimestampVM
    /// chains accept repeats, as the Go reference does.)
    fn check_not_included(&self, id: Id, block: &Block) -> Result<(), ChainError> {
        if block.batch().is_none() {
            return Ok(());
        }
        let payloads = block.payloads();
        let included = |payload: Payload| ChainError::Invalid {
            id,
            reason: VerifyError::AlreadyIncluded(Id(payload)),
        };
        if let Some(&payload) = self.store.accepted_among(payloads)?.first() {
            return Err(included(payload));
        }
        for earlier in self.processing_ancestors(&block.parent) {
            if let Some(payload) = first_shared(payloads, earlier.payloads()) {
                return Err(included(payload));
            }
        }
        Ok(())
    }

    /// `from` and its ancestors while they are processing (verified, not yet decided), newest
    /// first: the blocks a new block on `from` builds on but no accepted index holds yet.
    fn processing_ancestors<'a>(&'a self, from: &Id) -> impl Iterator<Item = &'a Block> + 'a {
        std::iter::successors(self.processing.get(from), |block| {
            self.processing.get(&block.parent)
        })
    }

    fn accept(&mut self, id: Id) -> Result<(), ChainError> {
        let started = Instant::now();
        if id == self.last_accepted.0 {
            return Ok(());
        }
        let block = self
            .processing
            .get(&id)
            .ok_or(ChainError::NotProcessing(id))?;
        self.store.accept(id, block, self.trees.get(&id))?;
        let block = self.processing.remove(&id).expect("checked above");
        self.trees.remove(&id);
        self.verified_at.remove(&id);
        let _ = self
            .mempool
            .cast(MempoolMsg::Included(block.payloads().to_vec()));
        metrics::counter!(crate::metrics::BLOCKS_ACCEPTED_TOTAL).increment(1);
        metrics::gauge!(crate::metrics::LAST_ACCEPTED_HEIGHT).set(block.height as f64);
        publish_memory(&self.store);
        metrics::histogram!(crate::metrics::BLOCK_ACCEPT_SECONDS)
            .record(started.elapsed().as_secs_f64());
        self.publish_processing();
        tracing::info!(%id, height = block.height, timestamp = block.timestamp, payloads = block.payloads().len(), "block accepted");
        self.last_accepted = (id, block);
        self.check_clock();
        Ok(())
    }

    fn reject(&mut self, id: Id) -> Result<(), ChainError> {
        if self.rejected.contains(&id) {
            return Ok(());
        }
        let block = self
            .processing
            .remove(&id)
            .ok_or(ChainError::NotProcessing(id))?;
        self.trees.remove(&id);
        self.verified_at.remove(&id);
        self.remember_rejected(id);
        // Payloads go back unless an accepted block already holds them.
        let accepted = self.store.payload_blocks(block.payloads())?;
        let back: Vec<Payload> = block
            .payloads()
            .iter()
            .zip(accepted)
            .filter_map(|(payload, block)| block.is_none().then_some(*payload))
            .collect();
        if !back.is_empty() {
            let _ = self.mempool.cast(MempoolMsg::Requeue(back));
        }
        metrics::counter!(crate::metrics::BLOCKS_REJECTED_TOTAL).increment(1);
        self.publish_processing();
        tracing::debug!(%id, height = block.height, "block rejected");
        Ok(())
    }

    fn remember_rejected(&mut self, id: Id) {
        if self.rejected.insert(id) {
            self.rejected_order.push_back(id);
        }
        while self.rejected_order.len() > REJECTED_MEMORY {
            if let Some(old) = self.rejected_order.pop_front() {
                self.rejected.remove(&old);
            }
        }
    }

    fn set_preference(&mut self, id: Id) -> Result<(), ChainError> {
        if self.lookup(&id)?.is_none() {
            return Err(ChainError::Unknown(id));
        }
        self.preferred = id;
        Ok(())
    }

    fn preferred(&self) -> Result<BlockView, ChainError> {
        if self.preferred == self.last_accepted.0 {
            let (id, block) = &self.last_accepted;
            return Ok(view(*id, block.clone(), BlockStatus::Accepted));
        }
        match self.processing.get(&self.preferred) {
            Some(block) => Ok(view(self.preferred, block.clone(), BlockStatus::Processing)),
            None => Err(ChainError::PreferenceNotBuildable(self.preferred)),
        }
    }

    fn build(&mut self, payloads: Vec<Payload>) -> Result<Built, ChainError> {
        let parent = self.preferred()?;
        let (payloads, left_out) = self.split_included(&parent.id, payloads)?;
        let height = parent.block.height + 1;
        let now = self.clock.now();
        self.check_clock_at(now);
        // Never before the parent, or our own block would fail verification; refused before
        // any work when no time can pass it (the parent an hour or more ahead of the clock).
        let timestamp = build_timestamp(parent.block.timestamp, now)?;
        let (block, tree) = match self.format {
            ChainFormat::Single => {
                let data = *payloads.first().ok_or(ChainError::NothingNew)?;
                (Block::single(parent.id, height, timestamp, data), None)
            }
            ChainFormat::Batched { .. } => {
                let (block, tree) =
                    Block::batched_with_tree(parent.id, height, timestamp, payloads)
                        .ok_or(ChainError::NothingNew)?;
                (block, Some(tree))
            }
        };
        let view = self.verify_with(block, tree)?;
        Ok(Built { view, left_out })
    }

    /// Splits offered payloads into those a new block on `parent` may carry and those an
    /// accepted block or a processing ancestor already holds (batched chains; a TimestampVM
    /// chain takes repeats).
    fn split_included(
        &self,
        parent: &Id,
        payloads: Vec<Payload>,
    ) -> Result<(Vec<Payload>, Vec<Payload>), ChainError> {
        if self.format == ChainFormat::Single {
            return Ok((payloads, Vec::new()));
        }
        let mut held: HashSet<Payload> =
            self.store.accepted_among(&payloads)?.into_iter().collect();
        let offered: HashSet<&Payload> = payloads.iter().collect();
        for block in self.processing_ancestors(parent) {
            held.extend(block.payloads().iter().filter(|p| offered.contains(p)));
        }
        Ok(payloads.into_iter().partition(|p| !held.contains(p)))
    }

    fn ancestors(&self, query: AncestorsQuery) -> Result<Vec<Vec<u8>>, ChainError> {
        let started = Instant::now();
        let mut out = Vec::new();
        let mut used = 0usize;
        let mut next = Some(query.id);
        while let Some(id) = next {
            if out.len() >= query.max_blocks || started.elapsed() > query.max_time {
                break;
            }
            let Some(found) = self.lookup(&id)? else {
                break;
            };
            let bytes = found.block.encode();
            // Each block costs its length + 4 against the byte budget.
            if used + bytes.len() + 4 > query.max_bytes {
                break;
            }
            used += bytes.len() + 4;
            out.push(bytes);
            next = (found.block.height > 0).then_some(found.block.parent);
        }
        Ok(out)
    }

    /// Publishes (and, rate-limited, warns about) the tip's lead over the local clock.
    fn check_clock(&mut self) {
        self.check_clock_at(self.clock.now());
    }

    fn check_clock_at(&mut self, now: i64) {
        let tip = self.last_accepted.1.timestamp;
        self.clock_watch.observe(tip, now, Instant::now());
    }

    fn processing_facts(&self) -> ProcessingFacts {
        ProcessingFacts {
            count: self.processing.len(),
            oldest: self.verified_at.values().min().map(Instant::elapsed),
        }
    }

    fn publish_processing(&self) {
        metrics::gauge!(crate::metrics::PROCESSING_BLOCKS).set(self.processing.len() as f64);
    }
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
        let mut core = ChainCore {
            format: args.store.format(),
            trees: HashMap::new(),
            store: args.store,
            mempool: args.mempool,
            preferred: last_accepted.0,
            last_accepted,
            processing: HashMap::new(),
            verified_at: HashMap::new(),
            rejected: HashSet::new(),
            rejected_order: VecDeque::new(),
            clock: args.clock,
            clock_watch: ClockWatch::default(),
        };
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
                let (id, block) = &core.last_accepted;
                let _ = reply.send(Ok(view(*id, block.clone(), BlockStatus::Accepted)));
            }
            ChainMsg::Processing(reply) => {
                let _ = reply.send(core.processing_facts());
            }
            ChainMsg::ProcessingHolds(payload, reply) => {
                let holds = core
                    .processing
                    .values()
                    .any(|block| block.payloads().contains(&payload));
                let _ = reply.send(holds);
            }
            ChainMsg::CheckClock => core.check_clock(),
            // Everything else may touch the store. The core goes to the blocking pool and back
            // within this message, so messages still run one at a time in mailbox order: an
            // accept's fsync completes before the next message (the node's next accept) starts.
            touches_store => {
                let mut core = state.core.take().ok_or(LOST)?;
                let core = off_worker(move || {
                    core.handle_blocking(touches_store);
                    core
                })
                .await?;
                state.core = Some(core);
            }
        }
        Ok(())
    }
}

/// A message panicked on the blocking pool and took the chain's state with it.
const LOST: &str = "the chain actor's state was lost by a message that panicked";

impl ChainCore {
    /// The messages that read or write the store; blocking.
    fn handle_blocking(&mut self, msg: ChainMsg) {
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
                    .store
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
                unreachable!("answered on the worker by ChainActor::handle")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The builder → chain path with a clock set by hand on a real store: a clock behind the tip
    //! builds at the parent's time, and an hour behind builds nothing and loses nothing. Fails if
    //! a block is built at the (earlier) clock's time, which the chain's own verification refuses,
    //! or if a refused build drops its payload.
    use super::*;
    use crate::actors::builder::{BuildError, BuilderMsg};
    use crate::actors::{ask, VmHandles, BLOCKING_CALL};
    use crate::api::Backend;
    use crate::chain::parse_genesis;
    use crate::config::ChainConfig;
    use crate::storage::StoreOptions;
    use rpcchainvm::node_client::NodeClients;
    use rpcchainvm::protocol::Profile;
    use std::sync::atomic::{AtomicI64, Ordering};

    const T: i64 = 1_700_000_000;

    async fn build(handles: &VmHandles) -> Result<BlockView, BuildError> {
        ask(&handles.builder, BuilderMsg::Build, BLOCKING_CALL)
            .await
            .expect("the builder answers")
    }

    /// What the node does with a block it decides: prefer it, accept it.
    async fn accept(handles: &VmHandles, id: Id) {
        ask(
            &handles.chain,
            |r| ChainMsg::SetPreference(id, r),
            BLOCKING_CALL,
        )
        .await
        .unwrap()
        .expect("preferred");
        ask(&handles.chain, |r| ChainMsg::Accept(id, r), BLOCKING_CALL)
            .await
            .unwrap()
            .expect("accepted");
    }

    #[tokio::test]
    async fn a_clock_behind_the_tip_builds_at_the_parents_time() {
        let dir = tempfile::tempdir().unwrap();
        let genesis = parse_genesis(b"clock").unwrap();
        let store = Arc::new(Store::open(dir.path(), &genesis, StoreOptions::default()).unwrap());
        let clients = NodeClients::connect_lazy("", Profile::latest()).unwrap();
        let time = Arc::new(AtomicI64::new(T));
        let clock = Clock::Manual(time.clone());
        let handles = VmHandles::start_with_clock(store, &ChainConfig::default(), clients, clock)
            .await
            .unwrap();

        handles.propose([1; 32]).await.unwrap();
        let first = build(&handles).await.unwrap();
        assert_eq!(first.block.timestamp, T);
        accept(&handles, first.id).await;

        // Stepped back by just under an hour: the block takes its parent's time.
        time.store(T - 3599, Ordering::Relaxed);
        handles.propose([2; 32]).await.unwrap();
        let second = build(&handles).await.unwrap();
        assert_eq!((second.block.height, second.block.timestamp), (2, T));
        accept(&handles, second.id).await;

        // An hour behind: no timestamp can pass verification; the payload waits in the mempool.
        time.store(T - 3600, Ordering::Relaxed);
        handles.propose([3; 32]).await.unwrap();
        let refused = build(&handles).await.unwrap_err();
        assert!(
            matches!(
                refused,
                BuildError::Chain(ChainError::ClockBehind(ClockBehindParent { parent: T, .. }))
            ),
            "{refused}"
        );
        assert_eq!(handles.mempool_stats().await.unwrap().size, 1);

        // One second later building resumes, still at the parent's time, with the same payload.
        time.store(T - 3599, Ordering::Relaxed);
        let third = build(&handles).await.unwrap();
        assert_eq!((third.block.height, third.block.timestamp), (3, T));
        assert_eq!(third.block.payloads(), [[3; 32]]);
        handles.stop().await;
    }
}
