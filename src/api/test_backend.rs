//! An in-memory [`Backend`] for the API's unit tests: the chain of shared/spec/vectors.md 2.1
//! and 2.2 in a HashMap, a bounded mempool, and a switch that makes the VM "down". It tests the
//! pure JSON-RPC layer alone; the real actors are tested end to end elsewhere.

use crate::api::backend::{
    Backend, BackendError, BlockStatus, BlockView, MempoolStats, ProposeError,
};
use crate::api::data::parse_payload;
use crate::chain::{Block, Id};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// SHA-256("manuscript") in the Go reference's hex form: the child block's data (vectors.md 3.1).
pub(crate) const MANUSCRIPT_HEX: &str =
    "0x8f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941cc82d1c2";

/// A chain in a HashMap: accepted blocks by ID and height, and a bounded mempool.
#[derive(Clone, Default)]
pub(crate) struct MapBackend {
    pub(crate) state: Arc<Mutex<State>>,
}

#[derive(Default)]
pub(crate) struct State {
    blocks: HashMap<Id, BlockView>,
    heights: Vec<Id>,
    pub(crate) mempool: Vec<[u8; 32]>,
    pub(crate) capacity: usize,
    /// When set, every proposal fails as if the VM were shutting down.
    pub(crate) down: bool,
}

impl MapBackend {
    /// The chain of vectors.md 2.1 (genesis `hello`), plus 2.2's child when `with_child`.
    pub(crate) fn new(with_child: bool) -> Self {
        let backend = MapBackend::default();
        let mut data = [0u8; 32];
        data[..5].copy_from_slice(b"hello");
        let genesis = Block {
            parent: Id::EMPTY,
            height: 0,
            timestamp: 0,
            data,
        };
        backend.accept(genesis);
        if with_child {
            backend.accept(Block {
                parent: genesis.id(),
                height: 1,
                timestamp: 1_700_000_000,
                data: parse_payload(MANUSCRIPT_HEX).unwrap(),
            });
        }
        backend.state.lock().unwrap().capacity = 2;
        backend
    }

    fn accept(&self, block: Block) {
        let mut state = self.state.lock().unwrap();
        let view = BlockView {
            id: block.id(),
            block,
            status: BlockStatus::Accepted,
        };
        state.blocks.insert(view.id, view);
        state.heights.push(view.id);
    }

    pub(crate) fn mempool(&self) -> Vec<[u8; 32]> {
        self.state.lock().unwrap().mempool.clone()
    }
}

impl Backend for MapBackend {
    async fn propose(&self, payload: [u8; 32]) -> Result<(), ProposeError> {
        let mut state = self.state.lock().unwrap();
        if state.down {
            return Err(BackendError::ShuttingDown.into());
        }
        if let Some(view) = state
            .blocks
            .values()
            .find(|view| view.block.data == payload)
        {
            return Err(ProposeError::AlreadyAccepted(view.id));
        }
        if state.mempool.contains(&payload) {
            return Err(ProposeError::Duplicate);
        }
        if state.mempool.len() >= state.capacity {
            return Err(ProposeError::MempoolFull {
                capacity: state.capacity,
            });
        }
        state.mempool.push(payload);
        Ok(())
    }

    async fn block(&self, id: Id) -> Result<Option<BlockView>, BackendError> {
        Ok(self.state.lock().unwrap().blocks.get(&id).copied())
    }

    async fn last_accepted(&self) -> Result<BlockView, BackendError> {
        let state = self.state.lock().unwrap();
        let id = state.heights.last().ok_or(BackendError::NotInitialized)?;
        Ok(state.blocks[id])
    }

    async fn block_at_height(&self, height: u64) -> Result<Option<BlockView>, BackendError> {
        let state = self.state.lock().unwrap();
        let id = usize::try_from(height)
            .ok()
            .and_then(|h| state.heights.get(h));
        Ok(id.map(|id| state.blocks[id]))
    }

    async fn mempool_stats(&self) -> Result<MempoolStats, BackendError> {
        let state = self.state.lock().unwrap();
        Ok(MempoolStats {
            size: state.mempool.len(),
            capacity: state.capacity,
        })
    }
}
