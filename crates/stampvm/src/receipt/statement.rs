//! The **statement** validators sign for a receipt: "on network N, chain C, the accepted block at
//! height H is block B, made at time T, and it commits to K payloads under Merkle root R". It is
//! a Warp unsigned message (docs/spec/warp.md §2.2) whose payload this module defines.
//!
//! # Why an AddressedCall with an empty source address
//! The node's signer signs any payload bytes (docs/spec/warp.md §1.3), so what a signature means
//! is whatever the payload can be read as, by anyone. We wrap our bytes in the standard
//! `AddressedCall` payload (type ID 1, §2.3) with an empty source address rather than sending
//! them raw or as a `Hash`:
//! - a `Hash` payload is how subnet-evm asks validators to attest that a block ID was accepted
//!   (§3.4); signing a hash of anything else would let our signature be read as such a claim;
//! - raw bytes are opaque to every generic Warp tool (AvalancheGo's payload parser,
//!   aggregators), while an AddressedCall parses everywhere and an empty source address is the
//!   convention for a message that comes from the chain itself rather than from a contract on it
//!   (§2.3; subnet-evm's off-chain messages);
//! - inside it, our magic and version make the bytes unambiguous among the AddressedCall payloads
//!   of other VMs, as ACP-118 recommends (§2.3), and let a later layout coexist with this one.
//!
//! # Byte layout (version 1), all integers big-endian
//! The whole unsigned message is 154 bytes:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | Warp codec version `00 00` (§2.2) |
//! | 2 | 4 | network ID (u32) |
//! | 6 | 32 | source chain ID: this chain's ID |
//! | 38 | 4 | payload length, `00 00 00 70` (112) |
//! | 42 | 2 | payload codec version `00 00` (§2.3) |
//! | 44 | 4 | payload type ID `00 00 00 01` (AddressedCall) |
//! | 48 | 4 | source address length `00 00 00 00` (empty) |
//! | 52 | 4 | statement length `00 00 00 62` (98) |
//! | 56 | 8 | magic, ASCII `stampvm` and a zero byte: `73 74 61 6d 70 76 6d 00` |
//! | 64 | 2 | statement version `00 01` |
//! | 66 | 8 | block height (u64) |
//! | 74 | 32 | block ID (SHA-256 of the block's bytes) |
//! | 106 | 8 | block timestamp, Unix seconds (i64, two's complement, as in the block) |
//! | 114 | 32 | Merkle root of the block's payloads |
//! | 146 | 8 | payload count (u64) |
//!
//! The root of a TimestampVM (single-payload) block is the leaf hash of its one payload and its
//! count is 1 ([`Block::root`]), so one layout serves both chain formats.
//!
//! Parsing ([`Statement::from_bytes`]) is strict: anything but exactly this layout is a
//! [`StatementError`], never a panic, and a parsed statement re-encodes to the same bytes.

use crate::chain::merkle::Hash;
use crate::chain::{Block, Id};
use rpcchainvm::warp::{AddressedCall, CodecError, Payload, UnsignedMessage};

/// The first bytes of every stampvm statement: what tells it apart from other VMs' payloads.
pub const STATEMENT_MAGIC: [u8; 8] = *b"stampvm\0";
/// The only layout this code writes and reads.
pub const STATEMENT_VERSION: u16 = 1;
/// Bytes of a version-1 statement (inside the AddressedCall): magic, version, height, block ID,
/// timestamp, root, count.
pub const STATEMENT_LEN: usize = 8 + 2 + 8 + 32 + 8 + 32 + 8;
/// Bytes of the whole unsigned message that carries a version-1 statement: the Warp header (42)
/// and the AddressedCall (14 + `STATEMENT_LEN`).
pub const STATEMENT_MESSAGE_LEN: usize = 42 + 14 + STATEMENT_LEN;

/// What the validators attest to about one accepted block, and where (network and chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Statement {
    pub network_id: u32,
    /// The chain the block is on: the Warp message's source chain.
    pub chain_id: Id,
    pub height: u64,
    pub block_id: Id,
    /// Unix seconds, as the block states it.
    pub timestamp: i64,
    pub root: Hash,
    /// How many payloads the block carries (1 for a TimestampVM block).
    pub count: u64,
}

/// Why bytes are not a stampvm statement. Each names the layer that failed, outermost first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("not a Warp unsigned message: {0}")]
    Message(CodecError),
    #[error("the Warp payload is not a standard payload: {0}")]
    Payload(CodecError),
    #[error("the Warp payload is a Hash, not the AddressedCall a statement is")]
    NotAddressedCall,
    #[error("the AddressedCall has a {0}-byte source address; a statement's is empty")]
    SourceAddress(usize),
    #[error("not a stampvm statement: the payload does not start with the stampvm magic")]
    Magic,
    #[error("statement version {0}; this code reads version {STATEMENT_VERSION}")]
    Version(u16),
    #[error("statement is {0} bytes; version {STATEMENT_VERSION} is {STATEMENT_LEN}")]
    Length(usize),
}

impl Statement {
    /// The statement for `block` on chain `chain_id` of network `network_id`. The block ID is
    /// computed from the block (SHA-256 of its bytes), so it cannot disagree with the block.
    pub fn for_block(network_id: u32, chain_id: Id, block: &Block) -> Statement {
        Statement {
            network_id,
            chain_id,
            height: block.height,
            block_id: block.id(),
            timestamp: block.timestamp,
            root: block.root(),
            count: block.payloads().len() as u64,
        }
    }

    /// The statement's own bytes, the AddressedCall's payload (offsets 56.. of the message).
    fn payload_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(STATEMENT_LEN);
        out.extend_from_slice(&STATEMENT_MAGIC);
        out.extend_from_slice(&STATEMENT_VERSION.to_be_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(self.block_id.as_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.root);
        out.extend_from_slice(&self.count.to_be_bytes());
        out
    }

    /// The Warp unsigned message validators sign (see the module docs for its bytes).
    pub fn to_unsigned_message(&self) -> UnsignedMessage {
        let call = AddressedCall::new(Vec::new(), self.payload_bytes())
            .expect("a 112-byte payload is far below the payload codec's 24 KiB limit");
        UnsignedMessage::new(
            self.network_id,
            self.chain_id,
            Payload::AddressedCall(call).to_bytes(),
        )
        .expect("a 112-byte payload fits its uint32 length")
    }

    /// [`Statement::to_unsigned_message`]'s bytes: what a signature covers.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_unsigned_message().to_bytes()
    }

    /// Reads a statement back from the unsigned message's bytes, strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<Statement, StatementError> {
        let message = UnsignedMessage::from_bytes(bytes).map_err(StatementError::Message)?;
        Statement::from_unsigned_message(&message)
    }

    /// Reads a statement out of an already parsed unsigned message (e.g. a signed message's).
    pub fn from_unsigned_message(message: &UnsignedMessage) -> Result<Statement, StatementError> {
        let call = match Payload::from_bytes(message.payload()).map_err(StatementError::Payload)? {
            Payload::AddressedCall(call) => call,
            Payload::Hash(_) => return Err(StatementError::NotAddressedCall),
        };
        if !call.source_address().is_empty() {
            return Err(StatementError::SourceAddress(call.source_address().len()));
        }
        let bytes = call.payload();
        // Magic first, so another VM's payload is called that rather than "wrong length".
        if bytes.get(..STATEMENT_MAGIC.len()) != Some(&STATEMENT_MAGIC[..]) {
            return Err(StatementError::Magic);
        }
        let version = read_array::<2>(bytes, 8).map(u16::from_be_bytes);
        match version {
            Some(STATEMENT_VERSION) => {}
            Some(other) => return Err(StatementError::Version(other)),
            None => return Err(StatementError::Length(bytes.len())),
        }
        if bytes.len() != STATEMENT_LEN {
            return Err(StatementError::Length(bytes.len()));
        }
        // The length is exact, so every field below is present.
        let field = |offset| read_array::<8>(bytes, offset).expect("length checked");
        let hash = |offset| read_array::<32>(bytes, offset).expect("length checked");
        Ok(Statement {
            network_id: message.network_id(),
            chain_id: message.source_chain_id(),
            height: u64::from_be_bytes(field(10)),
            block_id: Id(hash(18)),
            timestamp: i64::from_be_bytes(field(50)),
            root: hash(58),
            count: u64::from_be_bytes(field(90)),
        })
    }
}

/// `N` bytes of `bytes` at `offset`, if they are there.
fn read_array<const N: usize>(bytes: &[u8], offset: usize) -> Option<[u8; N]> {
    bytes.get(offset..offset.checked_add(N)?)?.try_into().ok()
}

/// Whether `message_bytes` is exactly the statement this node would build for `block`, an
/// accepted block of chain `chain_id` on network `network_id`: the one thing an ACP-118 handler
/// may sign (docs/spec/warp.md §3.4). Byte equality, so a statement that parses but differs in
/// any field, or is encoded any other way, is refused.
///
/// The network and chain are compared too although the node's signer refuses others anyway
/// (§1.3): a handler that signs only what it would have built needs no such reasoning.
pub fn statement_matches_block(
    message_bytes: &[u8],
    network_id: u32,
    chain_id: Id,
    block: &Block,
) -> bool {
    message_bytes == Statement::for_block(network_id, chain_id, block).to_bytes()
}

#[cfg(test)]
mod tests;
