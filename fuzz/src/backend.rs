//! An in-memory [`Backend`] for the JSON-RPC fuzz target (the crate's own test backend is
//! `#[cfg(test)]`-only): a two-block chain of either format and a small mempool, so proposals
//! (one at a time or in batches), duplicates, "already accepted", "mempool full" and the three
//! answers of `getProof` (proven, not yet accepted, unknown) are all reachable from fuzzed
//! bodies. Deterministic: a fresh chain per input, nothing depends on time or earlier inputs.

use stampvm::api::{
    Backend, BackendError, BlockStatus, BlockView, MempoolStats, ProofLookup, ProposeError,
};
use stampvm::chain::{Block, ChainFormat, Id, Payload, Proof};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Pending payloads the mempool holds before it answers "full".
const CAPACITY: usize = 4;

/// The batched chain's `maxBatch`.
const MAX_BATCH: usize = 16;

/// The child block's payload in both chains: SHA-256("manuscript") (vectors.md 2.2), the
/// payload of the jsonrpc_body seeds.
const MANUSCRIPT: Payload = [
    0x8f, 0x10, 0xa6, 0x8d, 0x54, 0xa8, 0x8a, 0xfc, 0xb6, 0x36, 0x9c, 0x01, 0xda, 0x9d, 0xdf, 0xb6,
    0x88, 0x1d, 0x75, 0x4e, 0x5e, 0xce, 0x21, 0x05, 0x41, 0xf8, 0x65, 0x67, 0x83, 0x69, 0x29, 0x41,
];

#[derive(Clone)]
pub struct FuzzBackend {
    state: Arc<Mutex<State>>,
    format: ChainFormat,
}

struct State {
    blocks: HashMap<Id, BlockView>,
    heights: Vec<Id>,
    mempool: Vec<Payload>,
}

/// The `hello` genesis data zero-padded to a payload (vectors.md 2.1).
fn hello() -> Payload {
    let mut data = [0u8; 32];
    data[..5].copy_from_slice(b"hello");
    data
}

impl FuzzBackend {
    /// The single-payload chain of vectors.md 2.1 and 2.2: genesis `hello` and its child
    /// carrying SHA-256("manuscript").
    pub fn single() -> FuzzBackend {
        let genesis = Block::single(Id::EMPTY, 0, 0, hello());
        let child = Block::single(genesis.id(), 1, 1_700_000_000, MANUSCRIPT);
        FuzzBackend::with_blocks(ChainFormat::Single, [genesis, child])
    }

    /// A batched chain: genesis `hello` as a batch of one, then a block of three payloads
    /// (SHA-256("manuscript"), 01…01, 02…02), so proofs have paths of one and two hashes.
    pub fn batched() -> FuzzBackend {
        let genesis = Block::batched(Id::EMPTY, 0, 0, vec![hello()]).expect("one payload");
        let child = Block::batched(
            genesis.id(),
            1,
            1_700_000_000,
            vec![MANUSCRIPT, [1; 32], [2; 32]],
        )
        .expect("three payloads");
        let format = ChainFormat::Batched {
            max_batch: MAX_BATCH,
        };
        FuzzBackend::with_blocks(format, [genesis, child])
    }

    fn with_blocks(format: ChainFormat, blocks: [Block; 2]) -> FuzzBackend {
        let mut state = State {
            blocks: HashMap::new(),
            heights: Vec::new(),
            mempool: Vec::new(),
        };
        for block in blocks {
            let id = block.id();
            let view = BlockView {
                id,
                block,
                status: BlockStatus::Accepted,
            };
            state.blocks.insert(id, view);
            state.heights.push(id);
        }
        FuzzBackend {
            state: Arc::new(Mutex::new(state)),
            format,
        }
    }
}

impl Default for FuzzBackend {
    fn default() -> Self {
        FuzzBackend::single()
    }
}

impl State {
    /// The accepted block that carries `payload`, lowest first.
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
        if self.mempool.len() >= CAPACITY {
            return Err(ProposeError::MempoolFull { capacity: CAPACITY });
        }
        self.mempool.push(payload);
        Ok(())
    }
}

impl Backend for FuzzBackend {
    async fn propose(&self, payload: Payload) -> Result<(), ProposeError> {
        self.state.lock().unwrap().take(payload)
    }

    async fn propose_batch(
        &self,
        payloads: Vec<Payload>,
    ) -> Result<Vec<Result<(), ProposeError>>, BackendError> {
        let mut state = self.state.lock().unwrap();
        Ok(payloads
            .into_iter()
            .map(|payload| state.take(payload))
            .collect())
    }

    async fn proof(&self, payload: Payload) -> Result<ProofLookup, BackendError> {
        let state = self.state.lock().unwrap();
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
            capacity: CAPACITY,
        })
    }
}
