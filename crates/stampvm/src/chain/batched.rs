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

use super::block::{Batch, Block, Body, Payload};
use super::id::Id;
use super::merkle::Tree;
use std::collections::HashSet;

/// The codec version of a batched block.
pub const BATCHED_CODEC_VERSION: u16 = 1;
/// Bytes before the payloads.
pub const HEADER_LEN: usize = 86;
/// Bytes per payload.
pub const PAYLOAD_LEN: usize = 32;

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

/// The canonical bytes of `block`, whose body is `batch`.
pub(super) fn encode(block: &Block, batch: &Batch) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + PAYLOAD_LEN * batch.payloads.len());
    out.extend_from_slice(&BATCHED_CODEC_VERSION.to_be_bytes());
    out.extend_from_slice(block.parent.as_bytes());
    out.extend_from_slice(&block.height.to_be_bytes());
    out.extend_from_slice(&block.timestamp.to_be_bytes());
    out.extend_from_slice(&batch.root);
    // A block over u32::MAX payloads would be 128 GiB; the genesis limit is far below.
    let count = u32::try_from(batch.payloads.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    for payload in batch.payloads.iter() {
        out.extend_from_slice(payload);
    }
    out
}

/// Parses exactly one batched block. Only the layout is checked here; the batch rules are
/// [`check_batch`].
pub(super) fn decode(bytes: &[u8]) -> Result<Block, BatchedCodecError> {
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
    Ok(Block {
        parent: Id::from_slice(&bytes[2..34]).expect("32-byte range"),
        height: u64::from_be_bytes(bytes[34..42].try_into().expect("8-byte range")),
        timestamp: i64::from_be_bytes(bytes[42..50].try_into().expect("8-byte range")),
        body: Body::Batched(Batch {
            root: bytes[50..82].try_into().expect("32-byte range"),
            payloads: body
                .chunks_exact(PAYLOAD_LEN)
                .map(|chunk| chunk.try_into().expect("exact chunks"))
                .collect(),
        }),
    })
}

/// The rules every node checks on a batched block, apart from the chain rules (parent, height,
/// time) and "not already included", which need the chain: 1 to `max` payloads, no payload
/// twice, and the root over exactly these payloads. Returns the tree, which the chain keeps to
/// store the proof nodes when the block is accepted.
pub fn check_batch(batch: &Batch, max: usize) -> Result<Tree, BatchError> {
    match batch.payloads.len() {
        0 => return Err(BatchError::Empty),
        count if count > max => return Err(BatchError::TooMany { count, max }),
        _ => {}
    }
    let mut seen = HashSet::with_capacity(batch.payloads.len());
    if let Some(twice) = batch.payloads.iter().find(|payload| !seen.insert(*payload)) {
        return Err(BatchError::Duplicate(Id(*twice)));
    }
    let tree = Tree::new(&batch.payloads).ok_or(BatchError::Empty)?;
    match tree.root() == batch.root {
        true => Ok(tree),
        false => Err(BatchError::WrongRoot),
    }
}

/// Payloads of `batch` that are in `earlier` too (used against blocks not yet accepted that
/// the candidate builds on).
pub fn first_shared(batch: &[Payload], earlier: &[Payload]) -> Option<Payload> {
    let mine: HashSet<&Payload> = batch.iter().collect();
    earlier
        .iter()
        .find(|payload| mine.contains(payload))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn payload(n: u8) -> Payload {
        Sha256::digest([n]).into()
    }

    fn block(payloads: Vec<Payload>) -> Block {
        Block::batched(Id([9; 32]), 5, 1_700_000_000, payloads).unwrap()
    }

    fn batch_of(block: &Block) -> Batch {
        block.batch().unwrap().clone()
    }

    /// The layout's test vector: two payloads SHA-256(0x01), SHA-256(0x02) on parent 09…09,
    /// height 5, timestamp 1700000000. The root is spelled out from RFC 6962's definition.
    #[test]
    fn layout_vector() {
        let (a, b) = (payload(1), payload(2));
        let leaf = |p: &Payload| -> [u8; 32] { Sha256::digest([&[0u8][..], p].concat()).into() };
        let root: [u8; 32] = Sha256::digest([&[1u8][..], &leaf(&a), &leaf(&b)].concat()).into();
        let block = block(vec![a, b]);
        assert_eq!(block.root(), root);
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
        assert_eq!(decode(&block.encode()).unwrap(), block);
        assert_eq!(block.id(), Id::sha256(&hex::decode(&expected).unwrap()));
        // The README's vector, spelled out.
        assert_eq!(
            hex::encode(root),
            "00c30d52856f3a163b8c3f1f55d6e1bebfb7a73a231e10df0de72daf32213338"
        );
        assert_eq!(
            hex::encode(block.id().0),
            "e1aaa73bf689be035d91961dd362aa92c684fe5248aedbb9b58acdef0123a2bb"
        );
    }

    #[test]
    fn malformed_bytes_are_refused() {
        let bytes = block(vec![payload(1), payload(2)]).encode();
        assert_eq!(
            decode(&bytes[..HEADER_LEN - 1]),
            Err(BatchedCodecError::TooShort(HEADER_LEN - 1))
        );
        assert!(matches!(
            decode(&bytes[..bytes.len() - 1]),
            Err(BatchedCodecError::LengthMismatch { count: 2, .. })
        ));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        // A TimestampVM block (version 0) is not a batched block.
        let mut single = bytes.clone();
        single[1] = 0;
        assert_eq!(decode(&single), Err(BatchedCodecError::WrongVersion(0)));
        // A count that would overflow the length computation.
        let mut huge = bytes[..HEADER_LEN].to_vec();
        huge[82..86].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode(&huge).is_err());
    }

    #[test]
    fn batch_rules() {
        let good = batch_of(&block(vec![payload(1), payload(2), payload(3)]));
        assert_eq!(check_batch(&good, 3).unwrap().root(), good.root);
        assert_eq!(
            check_batch(&good, 2),
            Err(BatchError::TooMany { count: 3, max: 2 })
        );
        let empty = Batch {
            root: good.root,
            payloads: Vec::new().into(),
        };
        assert_eq!(check_batch(&empty, 10), Err(BatchError::Empty));
        let twice = Batch {
            root: good.root,
            payloads: vec![payload(1), payload(1)].into(),
        };
        assert_eq!(
            check_batch(&twice, 10),
            Err(BatchError::Duplicate(Id(payload(1))))
        );
        let other = Batch {
            root: good.root,
            payloads: vec![payload(1), payload(2)].into(),
        };
        assert_eq!(check_batch(&other, 10), Err(BatchError::WrongRoot));
        let mut reordered = good.payloads.to_vec();
        reordered.swap(0, 1);
        let reordered = Batch {
            root: good.root,
            payloads: reordered.into(),
        };
        assert_eq!(check_batch(&reordered, 10), Err(BatchError::WrongRoot));
    }

    #[test]
    fn shared_payloads_are_found() {
        let (a, b, c) = (payload(1), payload(2), payload(3));
        assert_eq!(first_shared(&[a, b], &[c]), None);
        assert_eq!(first_shared(&[a, b], &[c, b]), Some(b));
    }
}
