//! The batched block: many payloads committed under one Merkle root, so each can be proven with
//! a path of ~log2(n) hashes. Its codec version (1) differs from the TimestampVM block's (0),
//! so the first two bytes tell the formats apart.
//!
//! Layout, all integers big-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | codec version, `0x0001` |
//! | 2 | 32 | parent block ID |
//! | 34 | 8 | height (u64) |
//! | 42 | 8 | timestamp, Unix seconds (i64) |
//! | 50 | 32 | Merkle root of the payloads ([`super::merkle`]) |
//! | 82 | 4 | payload count n (u32) |
//! | 86 | 32·n | the payloads, in order (a payload's position is its leaf index) |
//!
//! The block ID is SHA-256 of these bytes, as for the single-payload block.

use super::id::Id;
use super::merkle;
use std::collections::HashSet;

/// The codec version of a batched block.
pub const BATCHED_CODEC_VERSION: u16 = 1;
/// Bytes before the payloads.
pub const HEADER_LEN: usize = 86;
/// Bytes per payload.
pub const PAYLOAD_LEN: usize = 32;

pub type Payload = [u8; PAYLOAD_LEN];

/// Why bytes are not a batched block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchedCodecError {
    #[error("batched block is {0} bytes, fewer than its {HEADER_LEN}-byte header")]
    TooShort(usize),
    #[error("codec version {0} is not a batched block's ({BATCHED_CODEC_VERSION})")]
    WrongVersion(u16),
    #[error("batched block declares {count} payloads but carries {carried} bytes of payloads")]
    LengthMismatch { count: u32, carried: usize },
}

/// Why a well-formed batched block breaks the batch rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("a batched block carries at least one payload")]
    Empty,
    #[error("{count} payloads, more than this chain's maximum of {max}")]
    TooMany { count: usize, max: usize },
    #[error("payload {0} appears more than once in the block")]
    Duplicate(Id),
    #[error("the Merkle root does not match the payloads")]
    WrongRoot,
}

/// One batched block.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BatchedBlock {
    pub parent: Id,
    pub height: u64,
    /// Unix seconds, signed like the single-payload block's.
    pub timestamp: i64,
    pub root: merkle::Hash,
    pub payloads: Vec<Payload>,
}

impl BatchedBlock {
    /// A block over `payloads` with their root computed; `None` for an empty batch.
    pub fn new(parent: Id, height: u64, timestamp: i64, payloads: Vec<Payload>) -> Option<Self> {
        let root = merkle::root(&payloads)?;
        Some(BatchedBlock {
            parent,
            height,
            timestamp,
            root,
            payloads,
        })
    }

    /// The canonical bytes: hashed for the ID, stored, and sent to the node.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + PAYLOAD_LEN * self.payloads.len());
        out.extend_from_slice(&BATCHED_CODEC_VERSION.to_be_bytes());
        out.extend_from_slice(self.parent.as_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.root);
        // A block over u32::MAX payloads would be 128 GiB; the builder's maximum is far below.
        let count = u32::try_from(self.payloads.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        for payload in &self.payloads {
            out.extend_from_slice(payload);
        }
        out
    }

    /// Parses exactly one batched block. Only the layout is checked here; the batch rules are
    /// [`BatchedBlock::check_batch`].
    pub fn decode(bytes: &[u8]) -> Result<BatchedBlock, BatchedCodecError> {
        if bytes.len() < HEADER_LEN {
            return Err(BatchedCodecError::TooShort(bytes.len()));
        }
        let version = u16::from_be_bytes([bytes[0], bytes[1]]);
        if version != BATCHED_CODEC_VERSION {
            return Err(BatchedCodecError::WrongVersion(version));
        }
        let count = u32::from_be_bytes(bytes[82..86].try_into().expect("4-byte range"));
        let body = &bytes[HEADER_LEN..];
        let expected = usize::try_from(count)
            .ok()
            .and_then(|count| count.checked_mul(PAYLOAD_LEN));
        if expected != Some(body.len()) {
            return Err(BatchedCodecError::LengthMismatch {
                count,
                carried: body.len(),
            });
        }
        Ok(BatchedBlock {
            parent: Id::from_slice(&bytes[2..34]).expect("32-byte range"),
            height: u64::from_be_bytes(bytes[34..42].try_into().expect("8-byte range")),
            timestamp: i64::from_be_bytes(bytes[42..50].try_into().expect("8-byte range")),
            root: bytes[50..82].try_into().expect("32-byte range"),
            payloads: body
                .chunks_exact(PAYLOAD_LEN)
                .map(|chunk| chunk.try_into().expect("exact chunks"))
                .collect(),
        })
    }

    /// SHA-256 of the encoding.
    pub fn id(&self) -> Id {
        Id::sha256(&self.encode())
    }

    /// The rules every node checks on a batched block, apart from the chain rules (parent,
    /// height, time) and "not already accepted", which need the chain: 1 to `max` payloads, no
    /// payload twice, and the root over exactly these payloads.
    pub fn check_batch(&self, max: usize) -> Result<(), BatchError> {
        match self.payloads.len() {
            0 => return Err(BatchError::Empty),
            count if count > max => return Err(BatchError::TooMany { count, max }),
            _ => {}
        }
        let mut seen = HashSet::with_capacity(self.payloads.len());
        if let Some(twice) = self.payloads.iter().find(|payload| !seen.insert(*payload)) {
            return Err(BatchError::Duplicate(Id(*twice)));
        }
        match merkle::root(&self.payloads) == Some(self.root) {
            true => Ok(()),
            false => Err(BatchError::WrongRoot),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn payload(n: u8) -> Payload {
        Sha256::digest([n]).into()
    }

    fn block(payloads: Vec<Payload>) -> BatchedBlock {
        BatchedBlock::new(Id([9; 32]), 5, 1_700_000_000, payloads).unwrap()
    }

    /// The layout's test vector: two payloads SHA-256(0x01), SHA-256(0x02) on parent 09…09,
    /// height 5, timestamp 1700000000. The root is spelled out from RFC 6962's definition.
    #[test]
    fn layout_vector() {
        let (a, b) = (payload(1), payload(2));
        let leaf = |p: &Payload| -> [u8; 32] { Sha256::digest([&[0u8][..], p].concat()).into() };
        let root: [u8; 32] = Sha256::digest([&[1u8][..], &leaf(&a), &leaf(&b)].concat()).into();
        let block = block(vec![a, b]);
        assert_eq!(block.root, root);
        let expected = [
            "0001".to_string(),
            "09".repeat(32),
            "0000000000000005".into(),
            "000000006553f100".into(),
            hex::encode(root),
            "00000002".into(),
            hex::encode(a),
            hex::encode(b),
        ]
        .concat();
        assert_eq!(hex::encode(block.encode()), expected);
        assert_eq!(block.encode().len(), HEADER_LEN + 2 * PAYLOAD_LEN);
        assert_eq!(BatchedBlock::decode(&block.encode()).unwrap(), block);
        assert_eq!(block.id(), Id::sha256(&hex::decode(&expected).unwrap()));
    }

    #[test]
    fn malformed_bytes_are_refused() {
        let bytes = block(vec![payload(1), payload(2)]).encode();
        assert_eq!(
            BatchedBlock::decode(&bytes[..HEADER_LEN - 1]),
            Err(BatchedCodecError::TooShort(HEADER_LEN - 1))
        );
        assert!(matches!(
            BatchedBlock::decode(&bytes[..bytes.len() - 1]),
            Err(BatchedCodecError::LengthMismatch { count: 2, .. })
        ));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(BatchedBlock::decode(&longer).is_err());
        // A TimestampVM block (version 0) is not a batched block.
        let mut single = bytes.clone();
        single[1] = 0;
        assert_eq!(
            BatchedBlock::decode(&single),
            Err(BatchedCodecError::WrongVersion(0))
        );
        // A count that would overflow the length computation.
        let mut huge = bytes[..HEADER_LEN].to_vec();
        huge[82..86].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(BatchedBlock::decode(&huge).is_err());
    }

    #[test]
    fn batch_rules() {
        let good = block(vec![payload(1), payload(2), payload(3)]);
        assert_eq!(good.check_batch(3), Ok(()));
        assert_eq!(
            good.check_batch(2),
            Err(BatchError::TooMany { count: 3, max: 2 })
        );
        let mut empty = good.clone();
        empty.payloads.clear();
        assert_eq!(empty.check_batch(10), Err(BatchError::Empty));
        let mut twice = block(vec![payload(1), payload(1)]);
        assert_eq!(
            twice.check_batch(10),
            Err(BatchError::Duplicate(Id(payload(1))))
        );
        twice.payloads[1] = payload(2);
        assert_eq!(twice.check_batch(10), Err(BatchError::WrongRoot));
        let mut reordered = good.clone();
        reordered.payloads.swap(0, 1);
        assert_eq!(reordered.check_batch(10), Err(BatchError::WrongRoot));
    }
}
