//! The TimestampVM block and its 82-byte encoding, byte for byte the Go reference's
//! (shared/spec/vectors.md section 2), so block IDs agree with Go TimestampVM nodes.

use super::id::Id;

/// Encoded length of a block: version (2) + parent (32) + height (8) + timestamp (8) + data (32).
pub const BLOCK_LEN: usize = 82;

/// The only codec version the chain knows.
pub const CODEC_VERSION: u16 = 0;

/// Why bytes are not a block. Every variant is a parse failure: such bytes never enter the chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("block is {0} bytes, fewer than the {BLOCK_LEN} a block needs")]
    TooShort(usize),
    #[error("block is {0} bytes: {extra} trailing bytes after the {BLOCK_LEN}-byte block", extra = .0 - BLOCK_LEN)]
    ExtraBytes(usize),
    #[error("unknown codec version {0}")]
    UnknownVersion(u16),
}

/// One block: proof that `data` existed at `timestamp`, chained to `parent`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Block {
    pub parent: Id,
    pub height: u64,
    /// Unix seconds. Signed because the Go reference encodes an `int64`.
    pub timestamp: i64,
    pub data: [u8; 32],
}

impl Block {
    /// The canonical bytes: what is hashed for the ID, stored, and sent to the node.
    pub fn encode(&self) -> [u8; BLOCK_LEN] {
        let mut out = [0u8; BLOCK_LEN];
        out[0..2].copy_from_slice(&CODEC_VERSION.to_be_bytes());
        out[2..34].copy_from_slice(self.parent.as_bytes());
        out[34..42].copy_from_slice(&self.height.to_be_bytes());
        out[42..50].copy_from_slice(&self.timestamp.to_be_bytes());
        out[50..82].copy_from_slice(&self.data);
        out
    }

    /// Parses exactly one block; short, long, or wrongly versioned input is refused.
    pub fn decode(bytes: &[u8]) -> Result<Block, CodecError> {
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
        Ok(Block {
            parent: Id::from_slice(field(2..34)).expect("32-byte range"),
            height: u64::from_be_bytes(field(34..42).try_into().expect("8-byte range")),
            timestamp: i64::from_be_bytes(field(42..50).try_into().expect("8-byte range")),
            data: field(50..82).try_into().expect("32-byte range"),
        })
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

    fn hello_genesis() -> Block {
        let mut data = [0u8; 32];
        data[..5].copy_from_slice(b"hello");
        Block {
            parent: Id::EMPTY,
            height: 0,
            timestamp: 0,
            data,
        }
    }

    // shared/spec/vectors.md 2.1
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

    // shared/spec/vectors.md 2.2
    #[test]
    fn child_vector_round_trip() {
        let bytes = hex::decode(CHILD_HEX).unwrap();
        let block = Block::decode(&bytes).unwrap();
        assert_eq!(block.parent, hello_genesis().id());
        assert_eq!(block.height, 1);
        assert_eq!(block.timestamp, 1_700_000_000);
        assert_eq!(
            hex::encode(block.data),
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
        assert_eq!(Block::decode(&block.encode()).unwrap().timestamp, -1);
    }

    #[test]
    fn malformed_bytes_are_refused() {
        let good = hello_genesis().encode();
        assert_eq!(Block::decode(&good[..81]), Err(CodecError::TooShort(81)));
        assert_eq!(Block::decode(&[]), Err(CodecError::TooShort(0)));
        let mut long = good.to_vec();
        long.push(0);
        assert_eq!(Block::decode(&long), Err(CodecError::ExtraBytes(83)));
        let mut versioned = good;
        versioned[1] = 1;
        assert_eq!(
            Block::decode(&versioned),
            Err(CodecError::UnknownVersion(1))
        );
    }
}
