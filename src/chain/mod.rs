//! The chain's pure domain: IDs and their text forms, the block codec, the verification rules and the
//! genesis block. No I/O and no async here, so everything is unit-testable and usable from benches.

pub mod batched;
pub mod block;
pub mod genesis;
pub mod gossip;
pub mod id;
pub mod merkle;
pub mod verify;

pub use block::{Block, CodecError, BLOCK_LEN};
pub use genesis::{genesis_block, GenesisError, MAX_GENESIS_LEN};
pub use id::{Cb58Error, Id, NodeId};
pub use verify::{verify_child, ParentStatus, VerifyError, MAX_FUTURE_SECS};
