//! A block of either format a chain may have (fixed by its genesis, [`ChainFormat`]):
//! - the TimestampVM block, one payload in 82 bytes, byte for byte the Go reference's
//!   (docs/spec/vectors.md section 2), so block IDs agree with Go TimestampVM nodes;
//! - the batched block ([`super::batched`]), many payloads under a Merkle root.
//!
//! Both start with a two-byte codec version (0 and 1), and both are identified by the SHA-256 of
//! their bytes.

use super::batched::{self, BatchedCodecError};
use super::genesis::ChainFormat;
use super::id::Id;
use super::merkle::{self, Hash, Tree};
use std::sync::Arc;

/// Encoded length of a single-payload block: version (2) + parent (32) + height (8) +
/// timestamp (8) + data (32).
pub const BLOCK_LEN: usize = 82;

/// The codec version of a single-payload block, the only one the Go reference knows.
pub const CODEC_VERSION: u16 = 0;

/// What a block proves existed: 32 bytes, typically a document hash.
pub type Payload = [u8; 32];

/// Why bytes are not a block of this chain. Every variant is a parse failure: such bytes never
/// enter the chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("block is {0} bytes, fewer than the {BLOCK_LEN} a block needs")]
    TooShort(usize),
    #[error("block is {0} bytes: {extra} trailing bytes after the {BLOCK_LEN}-byte block", extra = .0 - BLOCK_LEN)]
    ExtraBytes(usize),
    #[error("unknown codec version {0}")]
    UnknownVersion(u16),
    #[error("a {found} block (codec version {version}) on a {chain} chain")]
    OtherFormat {
        version: u16,
        found: &'static str,
        chain: &'static str,
    },
    #[error(transparent)]
    Batched(#[from] BatchedCodecError),
}

/// The payloads of a batched block and their Merkle root. Shared (`Arc`), because a block of
/// thousands of payloads travels between actors and caches.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Batch {
    pub root: Hash,
    pub payloads: Arc<[Payload]>,
}

/// What a block carries, by format.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Body {
    /// TimestampVM: one payload.
    Single(Payload),
    /// One or more payloads under a Merkle root.
    Batched(Batch),
}

/// One block: proof that its payloads existed at `timestamp`, chained to `parent`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Block {
    pub parent: Id,
    pub height: u64,
    /// Unix seconds. Signed because the Go reference encodes an `int64`.
    pub timestamp: i64,
    pub body: Body,
}

impl Block {
    /// A TimestampVM block.
    pub fn single(parent: Id, height: u64, timestamp: i64, data: Payload) -> Block {
        Block {
            parent,
            height,
            timestamp,
            body: Body::Single(data),
        }
    }

    /// A batched block over `payloads`, root computed; `None` for an empty batch.
    pub fn batched(
        parent: Id,
        height: u64,
        timestamp: i64,
        payloads: Vec<Payload>,
    ) -> Option<Block> {
        let root = merkle::root(&payloads)?;
        Some(Block::with_batch(parent, height, timestamp, root, payloads))
    }

    /// [`Block::batched`], keeping the whole Merkle tree (a builder verifies and stores it);
    /// `None` for an empty batch.
    pub fn batched_with_tree(
        parent: Id,
        height: u64,
        timestamp: i64,
        payloads: Vec<Payload>,
    ) -> Option<(Block, Tree)> {
        let tree = Tree::new(&payloads)?;
        let block = Block::with_batch(parent, height, timestamp, tree.root(), payloads);
        Some((block, tree))
    }

    fn with_batch(
        parent: Id,
        height: u64,
        timestamp: i64,
        root: Hash,
        payloads: Vec<Payload>,
    ) -> Block {
        Block {
            parent,
            height,
            timestamp,
            body: Body::Batched(Batch {
                root,
                payloads: payloads.into(),
            }),
        }
    }

    /// The payloads in order; a payload's position is its leaf index.
    pub fn payloads(&self) -> &[Payload] {
        match &self.body {
            Body::Single(data) => std::slice::from_ref(data),
            Body::Batched(batch) => &batch.payloads,
        }
    }

    /// The Merkle root over the payloads. A single-payload block has none in its bytes; its
    /// root is that of a one-leaf tree, the leaf hash of its payload (the trivial proof).
    pub fn root(&self) -> Hash {
        match &self.body {
            Body::Single(data) => merkle::leaf_hash(data),
            Body::Batched(batch) => batch.root,
        }
    }

    pub fn batch(&self) -> Option<&Batch> {
        match &self.body {
            Body::Single(_) => None,
            Body::Batched(batch) => Some(batch),
        }
    }

    /// The canonical bytes: what is hashed for the ID, stored, and sent to the node.
    pub fn encode(&self) -> Vec<u8> {
        match &self.body {
            Body::Single(data) => {
                let mut out = Vec::with_capacity(BLOCK_LEN);
                out.extend_from_slice(&CODEC_VERSION.to_be_bytes());
                out.extend_from_slice(self.parent.as_bytes());
                out.extend_from_slice(&self.height.to_be_bytes());
                out.extend_from_slice(&self.timestamp.to_be_bytes());
                out.extend_from_slice(data);
                out
            }
            Body::Batched(batch) => batched::encode(self, batch),
        }
    }

    /// Parses exactly one block of the chain's format; the other format, short, long, or
    /// wrongly versioned input is refused.
    pub fn decode(bytes: &[u8], format: ChainFormat) -> Result<Block, CodecError> {
        let version = match bytes {
            [a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
            _ => None,
        };
        match (format, version) {
            (ChainFormat::Single, Some(batched::BATCHED_CODEC_VERSION)) => {
                Err(CodecError::OtherFormat {
                    version: batched::BATCHED_CODEC_VERSION,
                    found: "batched",
                    chain: "single-payload",
                })
            }
            (ChainFormat::Batched { .. }, Some(CODEC_VERSION)) => Err(CodecError::OtherFormat {
                version: CODEC_VERSION,
                found: "single-payload",
                chain: "batched",
            }),
            (ChainFormat::Single, _) => Block::decode_single(bytes),
            (ChainFormat::Batched { .. }, _) => Ok(batched::decode(bytes)?),
        }
    }

    /// The Go reference's order of complaints: length first, then version.
    fn decode_single(bytes: &[u8]) -> Result<Block, CodecError> {
        if bytes.len() < BLOCK_LEN {
            return Err(CodecError::TooShort(bytes.len()));
        }
        let version = u16::from_be_bytes([bytes[0], bytes[1]]);
        if version != CODEC_VERSION {
            return Err(CodecError::UnknownVersion(version));
        }
        if bytes.len() > BLOCK_LEN {
            return Err(CodecError::ExtraBytes(bytes.len()));
        }
        let field = |range: std::ops::Range<usize>| &bytes[range];
        Ok(Block::single(
            Id::from_slice(field(2..34)).expect("32-byte range"),
            u64::from_be_bytes(field(34..42).try_into().expect("8-byte range")),
            i64::from_be_bytes(field(42..50).try_into().expect("8-byte range")),
            field(50..82).try_into().expect("32-byte range"),
        ))
    }

    /// SHA-256 of the encoding.
    pub fn id(&self) -> Id {
        Id::sha256(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENESIS_HEX: &str = "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000068656c6c6f000000000000000000000000000000000000000000000000000000";
    const CHILD_HEX: &str = "0000904cbd92a440ae4a18fec29f08b5bbbe40108ec5f5de82f245145e0c8626aedf0000000000000001000000006553f1008f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941";

    const SINGLE: ChainFormat = ChainFormat::Single;

    fn hello_genesis() -> Block {
        let mut data = [0u8; 32];
        data[..5].copy_from_slice(b"hello");
        Block::single(Id::EMPTY, 0, 0, data)
    }

    // docs/spec/vectors.md 2.1
    #[test]
    fn genesis_vector() {
        let block = hello_genesis();
        assert_eq!(hex::encode(block.encode()), GENESIS_HEX);
        assert_eq!(
            hex::encode(block.id().0),
            "904cbd92a440ae4a18fec29f08b5bbbe40108ec5f5de82f245145e0c8626aedf"
        );
        assert_eq!(
            block.id().to_string(),
            "26YwkG2RtzBa9pP5pj9qDvjYbw19PtF7ajT75hDZ3FTs4Waurp"
        );
    }

    // docs/spec/vectors.md 2.2
    #[test]
    fn child_vector_round_trip() {
        let bytes = hex::decode(CHILD_HEX).unwrap();
        let block = Block::decode(&bytes, SINGLE).unwrap();
        assert_eq!(block.parent, hello_genesis().id());
        assert_eq!(block.height, 1);
        assert_eq!(block.timestamp, 1_700_000_000);
        assert_eq!(
            hex::encode(block.payloads()[0]),
            "8f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941"
        );
        assert_eq!(block.encode().as_slice(), bytes.as_slice());
        assert_eq!(
            block.id().to_string(),
            "2C7r6YFmQbZpRNEbqk9Mspqx9hGdZYSTWWg8RwHY4rt3x79rxM"
        );
    }

    #[test]
    fn negative_timestamp_is_twos_complement() {
        let block = Block {
            timestamp: -1,
            ..hello_genesis()
        };
        assert_eq!(&block.encode()[42..50], &[0xff; 8]);
        assert_eq!(
            Block::decode(&block.encode(), SINGLE).unwrap().timestamp,
            -1
        );
    }

    #[test]
    fn malformed_bytes_are_refused() {
        let good = hello_genesis().encode();
        assert_eq!(
            Block::decode(&good[..81], SINGLE),
            Err(CodecError::TooShort(81))
        );
        assert_eq!(Block::decode(&[], SINGLE), Err(CodecError::TooShort(0)));
        let mut long = good.to_vec();
        long.push(0);
        assert_eq!(
            Block::decode(&long, SINGLE),
            Err(CodecError::ExtraBytes(83))
        );
        let mut versioned = good.clone();
        versioned[1] = 2;
        assert_eq!(
            Block::decode(&versioned, SINGLE),
            Err(CodecError::UnknownVersion(2))
        );
    }

    #[test]
    fn a_block_of_the_other_format_is_a_parse_error() {
        let single = hello_genesis().encode();
        let batched = Block::batched(Id::EMPTY, 0, 0, vec![[1; 32], [2; 32]])
            .unwrap()
            .encode();
        let batched_chain = ChainFormat::Batched { max_batch: 16 };
        assert!(matches!(
            Block::decode(&single, batched_chain),
            Err(CodecError::OtherFormat { version: 0, .. })
        ));
        assert!(matches!(
            Block::decode(&batched, SINGLE),
            Err(CodecError::OtherFormat { version: 1, .. })
        ));
        let parsed = Block::decode(&batched, batched_chain).unwrap();
        assert_eq!(parsed.payloads(), &[[1; 32], [2; 32]]);
        assert_eq!(parsed.encode(), batched);
    }
}
