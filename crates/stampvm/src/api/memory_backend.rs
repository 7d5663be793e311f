//! An in-memory [`Backend`]: accepted blocks in a HashMap, a bounded mempool that admits
//! payloads by the real mempool's rules in the real order, and a switch that makes the VM "down".
//! It lets the JSON-RPC layer be tested (the crate's unit tests) and fuzzed (`fuzz/`, through
//! the `memory-backend` feature) alone: deterministic, nothing depends on time or on earlier
//! inputs. The real actors are tested end to end elsewhere.
//!
//! The chains are those of docs/spec/vectors.md: genesis `hello` (2.1), and its child carrying
//! SHA-256("manuscript") (2.2); the batched chain's child carries [`BATCH`], so its proofs have
//! paths of one and two hashes.

use crate::api::backend::Backend;
use crate::chain::mempool::{Mempool, Origin};
use crate::chain::view::{
    BackendError, BlockStatus, BlockView, MempoolStats, ProofLookup, ProposeError,
};
use crate::chain::{Block, ChainFormat, Genesis, Id, Payload, Proof};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// SHA-256("manuscript"): the child block's payload (vectors.md 2.2).
pub const MANUSCRIPT: Payload = [
    0x8f, 0x10, 0xa6, 0x8d, 0x54, 0xa8, 0x8a, 0xfc, 0xb6, 0x36, 0x9c, 0x01, 0xda, 0x9d, 0xdf, 0xb6,
    0x88, 0x1d, 0x75, 0x4e, 0x5e, 0xce, 0x21, 0x05, 0x41, 0xf8, 0x65, 0x67, 0x83, 0x69, 0x29, 0x41,
];

/// The payloads of block 1 of [`MemoryBackend::batched`].
pub const BATCH: [Payload; 3] = [MANUSCRIPT, [1; 32], [2; 32]];

/// The batched chain's `maxBatch`.
pub const MAX_BATCH: usize = 16;

/// Pending payloads the mempool holds before it answers "full", unless
/// [`MemoryBackend::with_capacity`] says otherwise: small, so "full" is easy to reach.
pub const DEFAULT_CAPACITY: usize = 2;

/// A chain in a HashMap and a bounded mempool. Clones share the chain.
#[derive(Clone)]
pub struct MemoryBackend {
    state: Arc<Mutex<State>>,
    format: ChainFormat,
}

struct State {
    blocks: HashMap<Id, BlockView>,
    heights: Vec<Id>,
    /// The real mempool's rules (`chain::mempool`), over this HashMap chain.
    mempool: Mempool,
    /// When set, proposals and proofs fail as if the VM were shutting down.
    down: bool,
}

/// Block 0 of a chain of `format` whose genesis data is `hello` (vectors.md 2.1).
fn hello_genesis(format: ChainFormat) -> Block {
    Genesis {
        format,
        data: b"hello".to_vec(),
    }
    .block()
}

impl MemoryBackend {
    /// The chain of vectors.md 2.1: genesis `hello` alone.
    pub fn genesis_only() -> MemoryBackend {
        let genesis = hello_genesis(ChainFormat::Single);
        MemoryBackend::with_blocks(ChainFormat::Single, vec![genesis])
    }

    /// The chain of vectors.md 2.1 and 2.2: genesis `hello` and its child carrying
    /// [`MANUSCRIPT`].
    pub fn single() -> MemoryBackend {
        let genesis = hello_genesis(ChainFormat::Single);
        let child = Block::single(genesis.id(), 1, 1_700_000_000, MANUSCRIPT);
        MemoryBackend::with_blocks(ChainFormat::Single, vec![genesis, child])
    }

    /// A batched chain: genesis `hello` as a batch of one, then a block carrying [`BATCH`].
    pub fn batched() -> MemoryBackend {
        let format = ChainFormat::Batched {
            max_batch: MAX_BATCH,
        };
        let genesis = hello_genesis(format);
        let child =
            Block::batched(genesis.id(), 1, 1_700_000_000, BATCH.to_vec()).expect("three payloads");
        MemoryBackend::with_blocks(format, vec![genesis, child])
    }

    /// The same chain with a mempool of `capacity` payloads.
    pub fn with_capacity(self, capacity: usize) -> MemoryBackend {
        self.lock().mempool = Mempool::with_capacity(capacity);
        self
    }

    fn with_blocks(format: ChainFormat, blocks: Vec<Block>) -> MemoryBackend {
        let mut state = State {
            blocks: HashMap::new(),
            heights: Vec::new(),
            mempool: Mempool::with_capacity(DEFAULT_CAPACITY),
            down: false,
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
        MemoryBackend {
            state: Arc::new(Mutex::new(state)),
            format,
        }
    }

    /// The pending payloads, oldest first.
    pub fn mempool(&self) -> Vec<Payload> {
        self.lock().mempool.pending().copied().collect()
    }

    /// Makes later proposals and proof lookups fail as if the VM were shutting down (or not).
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A test or fuzz input that panicked while holding the lock has failed already.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The state, unless the VM is down.
    fn up(&self) -> Result<std::sync::MutexGuard<'_, State>, BackendError> {
        let state = self.lock();
        match state.down {
            true => Err(BackendError::ShuttingDown),
            false => Ok(state),
        }
    }
}

impl State {
    /// The accepted block that carries `payload`, lowest first.
    fn accepted_in(&self, payload: &Payload) -> Option<&BlockView> {
        accepted_in(&self.blocks, &self.heights, payload)
    }

    /// The real mempool's rules in its order (`chain::mempool`): pending already, then full,
    /// and only then the chain, which the real one reads from disk.
    fn take(&mut self, payload: Payload) -> Result<(), ProposeError> {
        let State {
            blocks,
            heights,
            mempool,
            ..
        } = self;
        mempool.admit(payload, Origin::Local, || {
            Ok(accepted_in(blocks, heights, &payload).map(|view| view.id))
        })
    }
}

/// The accepted block in `heights` that carries `payload`, lowest first.
fn accepted_in<'a>(
    blocks: &'a HashMap<Id, BlockView>,
    heights: &[Id],
    payload: &Payload,
) -> Option<&'a BlockView> {
    heights
        .iter()
        .map(|id| &blocks[id])
        .find(|view| view.block.payloads().contains(payload))
}

impl Backend for MemoryBackend {
    async fn propose(&self, payload: Payload) -> Result<(), ProposeError> {
        self.up()?.take(payload)
    }

    async fn propose_batch(
        &self,
        payloads: Vec<Payload>,
    ) -> Result<Vec<Result<(), ProposeError>>, BackendError> {
        let mut state = self.up()?;
        Ok(payloads
            .into_iter()
            .map(|payload| state.take(payload))
            .collect())
    }

    async fn proof(&self, payload: Payload) -> Result<ProofLookup, BackendError> {
        let state = self.up()?;
        if let Some(view) = state.accepted_in(&payload) {
            let index = view.block.payloads().iter().position(|p| *p == payload);
            let proof = index.and_then(|index| Proof::in_block(&view.block, view.id, index));
            return Ok(ProofLookup::Proven(proof.expect("the block carries it")));
        }
        Ok(match state.mempool.holds(&payload) {
            true => ProofLookup::NotYetAccepted,
            false => ProofLookup::Unknown,
        })
    }

    fn chain_format(&self) -> ChainFormat {
        self.format
    }

    async fn block(&self, id: Id) -> Result<Option<BlockView>, BackendError> {
        Ok(self.lock().blocks.get(&id).cloned())
    }

    async fn last_accepted(&self) -> Result<BlockView, BackendError> {
        let state = self.lock();
        let id = state.heights.last().ok_or(BackendError::NotInitialized)?;
        Ok(state.blocks[id].clone())
    }

    async fn block_at_height(&self, height: u64) -> Result<Option<BlockView>, BackendError> {
        let state = self.lock();
        let id = usize::try_from(height)
            .ok()
            .and_then(|h| state.heights.get(h));
        Ok(id.map(|id| state.blocks[id].clone()))
    }

    async fn mempool_stats(&self) -> Result<MempoolStats, BackendError> {
        Ok(self.lock().mempool.stats())
    }
}
