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
mod tests {
    //! The layout is pinned byte for byte; both chain formats give a statement that reads back;
    //! every malformation of the message, the payload or the statement is a typed error (never
    //! a panic); and a handler's match is exact.

    use super::*;
    use crate::chain::merkle::leaf_hash;

    const NETWORK_ID: u32 = 12345;

    fn chain_id() -> Id {
        Id(std::array::from_fn(|i| i as u8 + 1))
    }

    fn batched_block() -> Block {
        Block::batched(
            Id([7; 32]),
            9,
            1_700_000_000,
            vec![[1; 32], [2; 32], [3; 32]],
        )
        .unwrap()
    }

    fn single_block() -> Block {
        Block::single(Id([7; 32]), 9, 1_700_000_000, [1; 32])
    }

    /// A statement with a distinct byte in every field, so a misplaced field shows.
    fn distinct() -> Statement {
        Statement {
            network_id: 0x0102_0304,
            chain_id: Id([0xcc; 32]),
            height: 0x1112_1314_1516_1718,
            block_id: Id([0xbb; 32]),
            timestamp: -2,
            root: [0xaa; 32],
            count: 0x2122_2324_2526_2728,
        }
    }

    // The table in the module docs, offset by offset.
    #[test]
    fn the_layout_is_the_documented_one() {
        let expected = [
            "0000",
            "01020304",
            &"cc".repeat(32),
            "00000070",
            "0000",
            "00000001",
            "00000000",
            "00000062",
            "7374616d70766d00",
            "0001",
            "1112131415161718",
            &"bb".repeat(32),
            "fffffffffffffffe",
            &"aa".repeat(32),
            "2122232425262728",
        ]
        .concat();
        let bytes = distinct().to_bytes();
        assert_eq!(hex::encode(&bytes), expected);
        assert_eq!(bytes.len(), STATEMENT_MESSAGE_LEN);
        assert_eq!(STATEMENT_MESSAGE_LEN, 154);
        assert_eq!(Statement::from_bytes(&bytes), Ok(distinct()));
    }

    #[test]
    fn both_chain_formats_give_a_statement_that_reads_back() {
        let single = single_block();
        let statement = Statement::for_block(NETWORK_ID, chain_id(), &single);
        assert_eq!(statement.root, leaf_hash(&[1; 32]));
        assert_eq!(statement.count, 1);
        assert_eq!(statement.block_id, single.id());
        let batched = batched_block();
        let other = Statement::for_block(NETWORK_ID, chain_id(), &batched);
        assert_eq!(other.root, batched.root());
        assert_eq!(other.count, 3);
        assert_eq!((other.height, other.timestamp), (9, 1_700_000_000));
        for statement in [statement, other] {
            let message = statement.to_unsigned_message();
            assert_eq!(message.network_id(), NETWORK_ID);
            assert_eq!(message.source_chain_id(), chain_id());
            assert_eq!(Statement::from_bytes(&statement.to_bytes()), Ok(statement));
            assert_eq!(Statement::from_unsigned_message(&message), Ok(statement));
        }
    }

    #[test]
    fn every_truncation_and_extension_is_a_typed_error() {
        let bytes = distinct().to_bytes();
        for len in 0..bytes.len() {
            assert!(Statement::from_bytes(&bytes[..len]).is_err(), "{len}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            Statement::from_bytes(&long),
            Err(StatementError::Message(CodecError::TrailingBytes(1)))
        ));
        // A statement one byte short or long inside well-formed Warp framing.
        let body = distinct().payload_bytes();
        let longer = [&body[..], &[0u8][..]].concat();
        for inner in [&body[..body.len() - 1], &longer[..]] {
            let message = wrap(Payload::AddressedCall(
                AddressedCall::new(Vec::new(), inner.to_vec()).unwrap(),
            ));
            assert_eq!(
                Statement::from_bytes(&message),
                Err(StatementError::Length(inner.len()))
            );
        }
        // Magic and nothing else.
        let message = wrap(Payload::AddressedCall(
            AddressedCall::new(Vec::new(), STATEMENT_MAGIC.to_vec()).unwrap(),
        ));
        assert_eq!(
            Statement::from_bytes(&message),
            Err(StatementError::Length(8))
        );
    }

    fn wrap(payload: Payload) -> Vec<u8> {
        UnsignedMessage::new(NETWORK_ID, chain_id(), payload.to_bytes())
            .unwrap()
            .to_bytes()
    }

    #[test]
    fn other_payloads_are_refused_by_name() {
        let body = distinct().payload_bytes();
        assert_eq!(
            Statement::from_bytes(&wrap(Payload::Hash([1; 32]))),
            Err(StatementError::NotAddressedCall)
        );
        let addressed = AddressedCall::new(vec![0xaa; 20], body.clone()).unwrap();
        assert_eq!(
            Statement::from_bytes(&wrap(Payload::AddressedCall(addressed))),
            Err(StatementError::SourceAddress(20))
        );
        let mut other_vm = body.clone();
        other_vm[0] = b'S';
        let call = AddressedCall::new(Vec::new(), other_vm).unwrap();
        assert_eq!(
            Statement::from_bytes(&wrap(Payload::AddressedCall(call))),
            Err(StatementError::Magic)
        );
        let mut version_2 = body;
        version_2[9] = 2;
        let call = AddressedCall::new(Vec::new(), version_2).unwrap();
        assert_eq!(
            Statement::from_bytes(&wrap(Payload::AddressedCall(call))),
            Err(StatementError::Version(2))
        );
        let raw = UnsignedMessage::new(NETWORK_ID, chain_id(), distinct().payload_bytes())
            .unwrap()
            .to_bytes();
        assert!(matches!(
            Statement::from_bytes(&raw),
            Err(StatementError::Payload(_))
        ));
    }

    #[test]
    fn a_handler_signs_only_what_it_would_build() {
        for block in [single_block(), batched_block()] {
            let bytes = Statement::for_block(NETWORK_ID, chain_id(), &block).to_bytes();
            assert!(statement_matches_block(
                &bytes,
                NETWORK_ID,
                chain_id(),
                &block
            ));
            assert!(!statement_matches_block(
                &bytes,
                NETWORK_ID + 1,
                chain_id(),
                &block
            ));
            assert!(!statement_matches_block(
                &bytes,
                NETWORK_ID,
                Id([9; 32]),
                &block
            ));
            let later = Block {
                timestamp: block.timestamp + 1,
                ..block.clone()
            };
            assert!(!statement_matches_block(
                &bytes,
                NETWORK_ID,
                chain_id(),
                &later
            ));
            // Each byte of the statement matters.
            for offset in 0..bytes.len() {
                let mut flipped = bytes.clone();
                flipped[offset] ^= 1;
                assert!(
                    !statement_matches_block(&flipped, NETWORK_ID, chain_id(), &block),
                    "{offset}"
                );
            }
            assert!(!statement_matches_block(
                &bytes[..100],
                NETWORK_ID,
                chain_id(),
                &block
            ));
        }
        // The same height and time on the other chain format is another block.
        let single = Statement::for_block(NETWORK_ID, chain_id(), &single_block()).to_bytes();
        assert!(!statement_matches_block(
            &single,
            NETWORK_ID,
            chain_id(),
            &batched_block()
        ));
    }
}
