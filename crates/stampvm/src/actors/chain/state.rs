//! The chain actor's state and every rule that needs it: processing blocks, the rejected set,
//! the preference, the last accepted block, and the store they are checked against and accepted
//! into. Plain blocking code; the actor (`super`) runs it off the async workers.

use super::{publish_memory, AncestorsQuery, Built, ChainError, ProcessingFacts};
use crate::actors::clock_watch::ClockWatch;
use crate::actors::mempool::MempoolMsg;
use crate::chain::batched::first_shared;
use crate::chain::merkle::Tree;
use crate::chain::view::{BlockStatus, BlockView};
use crate::chain::{
    build_timestamp, verify_body, verify_child, Block, ChainFormat, Id, ParentStatus, Payload,
    VerifyError,
};
use crate::clock::Clock;
use crate::storage::Store;
use ractor::ActorRef;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

/// How many rejected IDs are remembered (to refuse their children) before the oldest are forgotten.
const REJECTED_MEMORY: usize = 16_384;

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

fn view(id: Id, block: Block, status: BlockStatus) -> BlockView {
    BlockView { id, block, status }
}

impl ChainCore {
    /// The state of a chain whose store's last accepted block is `last_accepted`, preferring it.
    pub(super) fn new(
        store: Arc<Store>,
        mempool: ActorRef<MempoolMsg>,
        clock: Clock,
        last_accepted: (Id, Block),
    ) -> ChainCore {
        ChainCore {
            format: store.format(),
            trees: HashMap::new(),
            store,
            mempool,
            preferred: last_accepted.0,
            last_accepted,
            processing: HashMap::new(),
            verified_at: HashMap::new(),
            rejected: HashSet::new(),
            rejected_order: VecDeque::new(),
            clock,
            clock_watch: ClockWatch::default(),
        }
    }

    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    pub(super) fn last_accepted_view(&self) -> BlockView {
        let (id, block) = &self.last_accepted;
        view(*id, block.clone(), BlockStatus::Accepted)
    }

    /// Whether a block being decided carries `payload`.
    pub(super) fn processing_holds(&self, payload: &Payload) -> bool {
        self.processing
            .values()
            .any(|block| block.payloads().contains(payload))
    }

    pub(super) fn lookup(&self, id: &Id) -> Result<Option<BlockView>, ChainError> {
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

    pub(super) fn verify(&mut self, block: Block) -> Result<BlockView, ChainError> {
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

    pub(super) fn accept(&mut self, id: Id) -> Result<(), ChainError> {
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

    pub(super) fn reject(&mut self, id: Id) -> Result<(), ChainError> {
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

    pub(super) fn set_preference(&mut self, id: Id) -> Result<(), ChainError> {
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

    pub(super) fn build(&mut self, payloads: Vec<Payload>) -> Result<Built, ChainError> {
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

    pub(super) fn ancestors(&self, query: AncestorsQuery) -> Result<Vec<Vec<u8>>, ChainError> {
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
    pub(super) fn check_clock(&mut self) {
        self.check_clock_at(self.clock.now());
    }

    fn check_clock_at(&mut self, now: i64) {
        let tip = self.last_accepted.1.timestamp;
        self.clock_watch.observe(tip, now, Instant::now());
    }

    pub(super) fn processing_facts(&self) -> ProcessingFacts {
        ProcessingFacts {
            count: self.processing.len(),
            oldest: self.verified_at.values().min().map(Instant::elapsed),
        }
    }

    fn publish_processing(&self) {
        metrics::gauge!(crate::metrics::PROCESSING_BLOCKS).set(self.processing.len() as f64);
    }
}
