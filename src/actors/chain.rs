//! The chain actor: owns the store (as its only writer), the processing blocks (verified, not yet
//! decided), the rejected set, the preference and the last accepted block. Verification, accept,
//! reject and every lookup that needs a block's status go through it.

use crate::actors::mempool::MempoolMsg;
use crate::api::{BlockStatus, BlockView};
use crate::chain::{verify_child, Block, Id, ParentStatus, VerifyError};
use crate::storage::{StorageError, Store};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many rejected IDs are remembered (to refuse their children) before the oldest are forgotten.
const REJECTED_MEMORY: usize = 16_384;

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
    #[error("preferred block {0} cannot be built on (it is decided below the tip or rejected)")]
    PreferenceNotBuildable(Id),
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
    /// The block new blocks must build on.
    Preferred(Reply<BlockView>),
    LastAccepted(Reply<BlockView>),
    BlockAtHeight(u64, Reply<Option<BlockView>>),
    /// Encoded blocks from `id` back towards genesis, within the node's budgets.
    Ancestors(AncestorsQuery, Reply<Vec<Vec<u8>>>),
    ProcessingCount(RpcReplyPort<usize>),
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
}

pub struct ChainState {
    store: Arc<Store>,
    mempool: ActorRef<MempoolMsg>,
    last_accepted: (Id, Block),
    preferred: Id,
    processing: HashMap<Id, Block>,
    rejected: HashSet<Id>,
    rejected_order: VecDeque<Id>,
}

pub struct ChainActor;

fn view(id: Id, block: Block, status: BlockStatus) -> BlockView {
    BlockView { id, block, status }
}

impl ChainState {
    fn lookup(&self, id: &Id) -> Result<Option<BlockView>, ChainError> {
        if let Some(block) = self.processing.get(id) {
            return Ok(Some(view(*id, *block, BlockStatus::Processing)));
        }
        if let Some(block) = self.store.block(id)? {
            return Ok(Some(view(*id, block, BlockStatus::Accepted)));
        }
        Ok(None)
    }

    fn parent_status(&self, parent: &Id) -> Result<Option<(Block, ParentStatus)>, ChainError> {
        if *parent == self.last_accepted.0 {
            return Ok(Some((self.last_accepted.1, ParentStatus::LastAccepted)));
        }
        if let Some(block) = self.processing.get(parent) {
            return Ok(Some((*block, ParentStatus::Processing)));
        }
        if self.rejected.contains(parent) {
            // The rule fires before the block is looked at, so any block stands in.
            return Ok(Some((self.last_accepted.1, ParentStatus::Rejected)));
        }
        Ok(self
            .store
            .block(parent)?
            .map(|block| (block, ParentStatus::AcceptedBelowTip)))
    }

    fn verify(&mut self, block: Block) -> Result<BlockView, ChainError> {
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
            crate::clock::unix_now(),
        )
        .map_err(|reason| ChainError::Invalid { id, reason })?;
        self.processing.insert(id, block);
        metrics::counter!(crate::metrics::BLOCKS_VERIFIED_TOTAL).increment(1);
        metrics::histogram!(crate::metrics::BLOCK_VERIFY_SECONDS)
            .record(started.elapsed().as_secs_f64());
        self.publish_processing();
        Ok(view(id, block, BlockStatus::Processing))
    }

    fn accept(&mut self, id: Id) -> Result<(), ChainError> {
        let started = Instant::now();
        if id == self.last_accepted.0 {
            return Ok(());
        }
        let block = *self
            .processing
            .get(&id)
            .ok_or(ChainError::NotProcessing(id))?;
        self.store.accept(id, &block)?;
        self.processing.remove(&id);
        self.last_accepted = (id, block);
        let _ = self.mempool.cast(MempoolMsg::Included(vec![block.data]));
        metrics::counter!(crate::metrics::BLOCKS_ACCEPTED_TOTAL).increment(1);
        metrics::gauge!(crate::metrics::LAST_ACCEPTED_HEIGHT).set(block.height as f64);
        metrics::histogram!(crate::metrics::BLOCK_ACCEPT_SECONDS)
            .record(started.elapsed().as_secs_f64());
        self.publish_processing();
        tracing::info!(%id, height = block.height, timestamp = block.timestamp, "block accepted");
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
        self.remember_rejected(id);
        // The payload goes back unless an accepted block already holds it.
        if self.store.payload_block(&block.data)?.is_none() {
            let _ = self.mempool.cast(MempoolMsg::Requeue(vec![block.data]));
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
            let (id, block) = self.last_accepted;
            return Ok(view(id, block, BlockStatus::Accepted));
        }
        match self.processing.get(&self.preferred) {
            Some(block) => Ok(view(self.preferred, *block, BlockStatus::Processing)),
            None => Err(ChainError::PreferenceNotBuildable(self.preferred)),
        }
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
            out.push(bytes.to_vec());
            next = (found.block.height > 0).then_some(found.block.parent);
        }
        Ok(out)
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
        _myself: ActorRef<Self::Msg>,
        args: ChainArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        let last_accepted = args.store.last_accepted()?;
        metrics::gauge!(crate::metrics::LAST_ACCEPTED_HEIGHT).set(last_accepted.1.height as f64);
        Ok(ChainState {
            store: args.store,
            mempool: args.mempool,
            preferred: last_accepted.0,
            last_accepted,
            processing: HashMap::new(),
            rejected: HashSet::new(),
            rejected_order: VecDeque::new(),
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // Replies may find the caller gone (a cancelled request): that is not an error here.
        match msg {
            ChainMsg::Get(id, reply) => {
                let _ = reply.send(state.lookup(&id));
            }
            ChainMsg::Verify(block, reply) => {
                let _ = reply.send(state.verify(block));
            }
            ChainMsg::Accept(id, reply) => {
                let _ = reply.send(state.accept(id));
            }
            ChainMsg::Reject(id, reply) => {
                let _ = reply.send(state.reject(id));
            }
            ChainMsg::SetPreference(id, reply) => {
                let _ = reply.send(state.set_preference(id));
            }
            ChainMsg::Preferred(reply) => {
                let _ = reply.send(state.preferred());
            }
            ChainMsg::LastAccepted(reply) => {
                let (id, block) = state.last_accepted;
                let _ = reply.send(Ok(view(id, block, BlockStatus::Accepted)));
            }
            ChainMsg::BlockAtHeight(height, reply) => {
                let found = state
                    .store
                    .block_id_at_height(height)
                    .map_err(ChainError::from)
                    .and_then(|id| match id {
                        Some(id) => state.lookup(&id),
                        None => Ok(None),
                    });
                let _ = reply.send(found);
            }
            ChainMsg::Ancestors(query, reply) => {
                let _ = reply.send(state.ancestors(query));
            }
            ChainMsg::ProcessingCount(reply) => {
                let _ = reply.send(state.processing.len());
            }
        }
        Ok(())
    }
}
