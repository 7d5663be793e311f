//! An in-memory [`Backend`] for the JSON-RPC fuzz target (the crate's own test backend is
//! `#[cfg(test)]`-only): genesis `hello` and one child, and a small mempool, so proposals,
//! duplicates, "already accepted" and "mempool full" are all reachable from fuzzed bodies.

use stampvm::api::{Backend, BackendError, BlockStatus, BlockView, MempoolStats, ProposeError};
use stampvm::chain::{genesis_block, Block, Id};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Pending payloads the mempool holds before it answers "full".
const CAPACITY: usize = 4;

#[derive(Clone)]
pub struct FuzzBackend {
    state: Arc<Mutex<State>>,
}

struct State {
    blocks: HashMap<Id, BlockView>,
    heights: Vec<Id>,
    mempool: Vec<[u8; 32]>,
}

impl FuzzBackend {
    /// A fresh chain per input, so runs do not depend on earlier inputs.
    pub fn new() -> FuzzBackend {
        let genesis = genesis_block(b"hello").expect("5 bytes");
        let mut data = [0u8; 32];
        data[0] = 0x8f;
        let child = Block {
            parent: genesis.id(),
            height: 1,
            timestamp: 1_700_000_000,
            data,
        };
        let mut state = State {
            blocks: HashMap::new(),
            heights: Vec::new(),
            mempool: Vec::new(),
        };
        for block in [genesis, child] {
            let view = BlockView {
                id: block.id(),
                block,
                status: BlockStatus::Accepted,
            };
            state.blocks.insert(view.id, view);
            state.heights.push(view.id);
        }
        FuzzBackend {
            state: Arc::new(Mutex::new(state)),
        }
    }
}

impl Default for FuzzBackend {
    fn default() -> Self {
        FuzzBackend::new()
    }
}

impl Backend for FuzzBackend {
    async fn propose(&self, payload: [u8; 32]) -> Result<(), ProposeError> {
        let mut state = self.state.lock().unwrap();
        if let Some(view) = state.blocks.values().find(|v| v.block.data == payload) {
            return Err(ProposeError::AlreadyAccepted(view.id));
        }
        if state.mempool.contains(&payload) {
            return Err(ProposeError::Duplicate);
        }
        if state.mempool.len() >= CAPACITY {
            return Err(ProposeError::MempoolFull { capacity: CAPACITY });
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
            capacity: CAPACITY,
        })
    }
}
