//! An in-memory [`Backend`] for the API's unit tests: the chain of shared/spec/vectors.md 2.1
//! and 2.2 in a HashMap (or a small batched chain), a bounded mempool, and a switch that makes
//! the VM "down". It tests the pure JSON-RPC layer alone; the real actors are tested end to end
//! elsewhere.

use crate::api::backend::{
    Backend, BackendError, BlockStatus, BlockView, MempoolStats, ProofLookup, ProposeError,
};
use crate::api::data::parse_payload;
use crate::chain::{Block, ChainFormat, Id, Payload, Proof};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// SHA-256("manuscript") in the Go reference's hex form: the child block's data (vectors.md 3.1).
pub(crate) const MANUSCRIPT_HEX: &str =
    "0x8f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941cc82d1c2";

/// The payloads of block 1 of [`MapBackend::batched`].
pub(crate) const BATCH: [Payload; 3] = [[1; 32], [2; 32], [3; 32]];

/// A chain in a HashMap: accepted blocks by ID and height, and a bounded mempool.
#[derive(Clone)]
pub(crate) struct MapBackend {
    pub(crate) state: Arc<Mutex<State>>,
    format: ChainFormat,
}

#[derive(Default)]
pub(crate) struct State {
    blocks: HashMap<Id, BlockView>,
    heights: Vec<Id>,
    pub(crate) mempool: Vec<Payload>,
    pub(crate) capacity: usize,
    /// When set, every call that asks the VM fails as if it were shutting down.
    pub(crate) down: bool,
}

/// The `hello` genesis data zero-padded to a payload (vectors.md 2.1).
fn hello() -> Payload {
    let mut data = [0u8; 32];
    data[..5].copy_from_slice(b"hello");
    data
}

impl MapBackend {
    fn empty(format: ChainFormat) -> Self {
        let backend = MapBackend {
            state: Arc::default(),
            format,
        };
        backend.state.lock().unwrap().capacity = 2;
        backend
    }

    /// The chain of vectors.md 2.1 (genesis `hello`), plus 2.2's child when `with_child`.
    pub(crate) fn new(with_child: bool) -> Self {
        let backend = MapBackend::empty(ChainFormat::Single);
        let genesis = Block::single(Id::EMPTY, 0, 0, hello());
        let genesis_id = genesis.id();
        backend.accept(genesis);
        if with_child {
            let data = parse_payload(MANUSCRIPT_HEX).unwrap();
            backend.accept(Block::single(genesis_id, 1, 1_700_000_000, data));
        }
        backend
    }

    /// A batched chain: the `hello` genesis as a batch of one, then block 1 carrying [`BATCH`].
    pub(crate) fn batched() -> Self {
        let backend = MapBackend::empty(ChainFormat::Batched { max_batch: 16 });
        let genesis = Block::batched(Id::EMPTY, 0, 0, vec![hello()]).unwrap();
        let genesis_id = genesis.id();
        backend.accept(genesis);
        backend.accept(Block::batched(genesis_id, 1, 1_700_000_000, BATCH.to_vec()).unwrap());
        backend
    }

    fn accept(&self, block: Block) {
        let mut state = self.state.lock().unwrap();
        let id = block.id();
        let view = BlockView {
            id,
            block,
            status: BlockStatus::Accepted,
        };
        state.blocks.insert(id, view);
        state.heights.push(id);
    }

    pub(crate) fn mempool(&self) -> Vec<Payload> {
        self.state.lock().unwrap().mempool.clone()
    }
}

impl State {
    fn accepted_in(&self, payload: &Payload) -> Option<&BlockView> {
        self.heights
            .iter()
            .map(|id| &self.blocks[id])
            .find(|view| view.block.payloads().contains(payload))
    }

    /// The mempool's rules, in the order the real one applies them.
    fn take(&mut self, payload: Payload) -> Result<(), ProposeError> {
        if let Some(view) = self.accepted_in(&payload) {
            return Err(ProposeError::AlreadyAccepted(view.id));
        }
        if self.mempool.contains(&payload) {
            return Err(ProposeError::Duplicate);
        }
        if self.mempool.len() >= self.capacity {
            return Err(ProposeError::MempoolFull {
                capacity: self.capacity,
            });
        }
        self.mempool.push(payload);
        Ok(())
    }
}

impl Backend for MapBackend {
    async fn propose(&self, payload: Payload) -> Result<(), ProposeError> {
        let mut state = self.state.lock().unwrap();
        if state.down {
            return Err(BackendError::ShuttingDown.into());
        }
        state.take(payload)
    }

    async fn propose_batch(
        &self,
        payloads: Vec<Payload>,
    ) -> Result<Vec<Result<(), ProposeError>>, BackendError> {
        let mut state = self.state.lock().unwrap();
        if state.down {
            return Err(BackendError::ShuttingDown);
        }
        Ok(payloads
            .into_iter()
            .map(|payload| state.take(payload))
            .collect())
    }

    async fn proof(&self, payload: Payload) -> Result<ProofLookup, BackendError> {
        let state = self.state.lock().unwrap();
        if state.down {
            return Err(BackendError::ShuttingDown);
        }
        if let Some(view) = state.accepted_in(&payload) {
            let index = view.block.payloads().iter().position(|p| *p == payload);
            let proof = index.and_then(|index| Proof::in_block(&view.block, view.id, index));
            return Ok(ProofLookup::Proven(proof.expect("the block carries it")));
        }
        Ok(match state.mempool.contains(&payload) {
            true => ProofLookup::NotYetAccepted,
            false => ProofLookup::Unknown,
        })
    }

    fn chain_format(&self) -> ChainFormat {
        self.format
    }

    async fn block(&self, id: Id) -> Result<Option<BlockView>, BackendError> {
        Ok(self.state.lock().unwrap().blocks.get(&id).cloned())
    }

    async fn last_accepted(&self) -> Result<BlockView, BackendError> {
        let state = self.state.lock().unwrap();
        let id = state.heights.last().ok_or(BackendError::NotInitialized)?;
        Ok(state.blocks[id].clone())
    }

    async fn block_at_height(&self, height: u64) -> Result<Option<BlockView>, BackendError> {
        let state = self.state.lock().unwrap();
        let id = usize::try_from(height)
            .ok()
            .and_then(|h| state.heights.get(h));
        Ok(id.map(|id| state.blocks[id].clone()))
    }

    async fn mempool_stats(&self) -> Result<MempoolStats, BackendError> {
        let state = self.state.lock().unwrap();
        Ok(MempoolStats {
            size: state.mempool.len(),
            capacity: state.capacity,
        })
    }
}
