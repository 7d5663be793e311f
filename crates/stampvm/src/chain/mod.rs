//! The chain's pure domain: IDs and their text forms, the block codec, the verification rules and the
//! genesis block, the vocabulary readers see the chain in ([`view`]). No I/O and no async here, so everything is unit-testable and usable from benches.

pub mod batched;
pub mod block;
pub mod genesis;
pub mod gossip;
pub mod mempool;
pub mod merkle;
pub mod peer_rate;
pub mod proof;
pub mod verify;
pub mod view;

pub use block::{Batch, Block, Body, CodecError, Payload, BLOCK_LEN};
pub use genesis::{
    genesis_block, parse_genesis, ChainFormat, Genesis, GenesisError, MAX_GENESIS_LEN,
};
pub use proof::Proof;
pub use rpcchainvm::ids::{self as id, Cb58Error, Id, NodeId};
pub use verify::{
    build_timestamp, verify_body, verify_child, ClockBehindParent, ParentStatus, VerifyError,
    MAX_FUTURE_SECS,
};
pub use view::{BackendError, BlockStatus, BlockView, MempoolStats, ProofLookup, ProposeError};
