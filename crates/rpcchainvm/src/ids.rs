//! 32-byte IDs (blocks, chains, VMs, payloads), 20-byte NodeIDs, and CB58, the text form the node uses.

use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// Why a CB58 string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Cb58Error {
    #[error("not base58: {0}")]
    Base58(String),
    #[error("too short to hold a checksum")]
    TooShort,
    #[error("checksum mismatch")]
    Checksum,
    #[error("expected {expected} bytes, found {found}")]
    Length { expected: usize, found: usize },
    #[error("missing the `NodeID-` prefix")]
    NodeIdPrefix,
    /// Refused unread: no CB58 text of `expected` bytes is this long. Decoding base58 costs time
    /// quadratic in the text's length (a 100,000-character ID took seconds), so length comes first.
    #[error("text of {found} bytes is longer than any CB58 encoding of {expected} bytes ({max} characters)")]
    TooLong {
        expected: usize,
        max: usize,
        found: usize,
    },
}

/// The last 4 bytes of SHA-256(payload): the checksum CB58 and the node's `0x` hex form append.
pub fn checksum4(payload: &[u8]) -> [u8; 4] {
    let digest = Sha256::digest(payload);
    let mut out = [0u8; 4];
    out.copy_from_slice(&digest[28..32]);
    out
}

/// CB58: base58 (Bitcoin alphabet) of the payload followed by its 4-byte checksum.
pub fn cb58_encode(payload: &[u8]) -> String {
    let mut buf = Vec::with_capacity(payload.len() + 4);
    buf.extend_from_slice(payload);
    buf.extend_from_slice(&checksum4(payload));
    bs58::encode(buf).into_string()
}

/// The longest base58 text of `len` bytes: the digits of the largest number `len` bytes hold,
/// 256^len - 1 (all bytes 0xff), so ceil(len * 8 / log2(58)). Leading zero bytes never make text
/// longer: each is one `1`, while a nonzero byte costs at least one digit.
///
/// Integer arithmetic: log2(58) = 5.857980995127…, and 5_857_980_995 / 10^9 is just below it, so
/// the quotient can only round up, never below the true length; the unit tests check equality
/// with the encoder for every length up to 256.
pub const fn max_base58_len(len: usize) -> usize {
    const LOG2_58_NANOS: u128 = 5_857_980_995;
    let bits_nanos = len as u128 * 8 * 1_000_000_000;
    bits_nanos.div_ceil(LOG2_58_NANOS) as usize
}

/// The longest CB58 text of a `payload_len`-byte payload, its 4-byte checksum included: 50 for
/// an [`Id`], 33 for a [`NodeId`] (without `NodeID-`).
pub const fn max_cb58_len(payload_len: usize) -> usize {
    max_base58_len(payload_len + 4)
}

/// Decodes the CB58 text of exactly `N` payload bytes and verifies its checksum. Text longer than
/// [`max_cb58_len`]`(N)` is refused before any decoding, which bounds the work to a constant
/// whatever a client sends.
pub fn cb58_decode<const N: usize>(text: &str) -> Result<[u8; N], Cb58Error> {
    let max = max_cb58_len(N);
    if text.len() > max {
        return Err(Cb58Error::TooLong {
            expected: N,
            max,
            found: text.len(),
        });
    }
    let raw = bs58::decode(text)
        .into_vec()
        .map_err(|e| Cb58Error::Base58(e.to_string()))?;
    if raw.len() < 4 {
        return Err(Cb58Error::TooShort);
    }
    let (payload, sum) = raw.split_at(raw.len() - 4);
    if checksum4(payload) != sum {
        return Err(Cb58Error::Checksum);
    }
    <[u8; N]>::try_from(payload).map_err(|_| Cb58Error::Length {
        expected: N,
        found: payload.len(),
    })
}

/// A 32-byte identifier: block IDs (SHA-256 of the block bytes), chain and VM IDs, payloads.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Id(pub [u8; 32]);

impl Id {
    pub const LEN: usize = 32;
    /// All zeros: the parent of a genesis block (`ids.Empty` in the node).
    pub const EMPTY: Id = Id([0u8; 32]);

    /// SHA-256 of `bytes`: how block IDs are derived.
    pub fn sha256(bytes: &[u8]) -> Id {
        Id(Sha256::digest(bytes).into())
    }

    /// Takes exactly 32 bytes, as the node sends IDs; anything else is `None`.
    pub fn from_slice(bytes: &[u8]) -> Option<Id> {
        <[u8; 32]>::try_from(bytes).ok().map(Id)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A VM ID from its name: the name's bytes zero-padded to 32, as `avalanche-cli` and the
    /// TimestampVM tutorials derive them. Names longer than 32 bytes are refused.
    pub fn from_name(name: &str) -> Option<Id> {
        let bytes = name.as_bytes();
        if bytes.len() > 32 {
            return None;
        }
        let mut out = [0u8; 32];
        out[..bytes.len()].copy_from_slice(bytes);
        Some(Id(out))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&cb58_encode(&self.0))
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({self})")
    }
}

impl FromStr for Id {
    type Err = Cb58Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        cb58_decode(s).map(Id)
    }
}

/// A 20-byte node identity; prints as `NodeID-` + CB58.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeId(pub [u8; 20]);

impl NodeId {
    pub const LEN: usize = 20;

    pub fn from_slice(bytes: &[u8]) -> Option<NodeId> {
        <[u8; 20]>::try_from(bytes).ok().map(NodeId)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeID-{}", cb58_encode(&self.0))
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for NodeId {
    type Err = Cb58Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let body = s.strip_prefix("NodeID-").ok_or(Cb58Error::NodeIdPrefix)?;
        cb58_decode(body).map(NodeId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn padded(text: &str) -> [u8; 32] {
        Id::from_name(text).unwrap().0
    }

    // Golden values: docs/spec/vectors.md section 1.
    #[test]
    fn cb58_vectors() {
        assert_eq!(
            cb58_encode(&[0u8; 32]),
            "11111111111111111111111111111111LpoYY"
        );
        assert_eq!(
            cb58_encode(&padded("timestampvm")),
            "tGas3T58KzdjcJ2iKSyiYsWiqYctRXaPTqBCA11BqEkNg8kPc"
        );
        assert_eq!(
            cb58_encode(&padded("timestamp")),
            "tGas3T58KzdjLHhBDMnH2TvrddhqTji5iZAMZ3RXs2NLpSnhH"
        );
        assert_eq!(cb58_encode(&[0u8]), "1c7hwa");
        assert_eq!(cb58_encode(&[]), "45PJLL");
    }

    #[test]
    fn cb58_round_trip_and_checksum() {
        let id: Id = "tGas3T58KzdjLHhBDMnH2TvrddhqTji5iZAMZ3RXs2NLpSnhH"
            .parse()
            .unwrap();
        assert_eq!(id.0, padded("timestamp"));
        // One changed character breaks the checksum.
        assert_eq!(
            "tGas3T58KzdjLHhBDMnH2TvrddhqTji5iZAMZ3RXs2NLpSnhJ".parse::<Id>(),
            Err(Cb58Error::Checksum)
        );
        assert!(matches!("0OIl".parse::<Id>(), Err(Cb58Error::Base58(_))));
        assert_eq!(
            "1c7hwa".parse::<Id>(),
            Err(Cb58Error::Length {
                expected: 32,
                found: 1
            })
        );
    }

    #[test]
    fn node_id_vectors() {
        let raw: Vec<u8> = (1u8..=20).collect();
        let node = NodeId::from_slice(&raw).unwrap();
        assert_eq!(node.to_string(), "NodeID-6L5yRNPTuciSgXGHqYwn9N6NeoKMvqvy");
        assert_eq!(
            NodeId([0; 20]).to_string(),
            "NodeID-111111111111111111116DBWJs"
        );
        assert_eq!(
            "NodeID-6L5yRNPTuciSgXGHqYwn9N6NeoKMvqvy".parse::<NodeId>(),
            Ok(node)
        );
        assert_eq!(
            "6L5yRNPTuciSgXGHqYwn9N6NeoKMvqvy".parse::<NodeId>(),
            Err(Cb58Error::NodeIdPrefix)
        );
    }

    #[test]
    fn longest_base58_text_matches_the_encoder() {
        for len in 0..=256 {
            // All bytes 0xff is the largest number of `len` bytes: the longest text.
            let longest = bs58::encode(vec![0xff; len]).into_string().len();
            assert_eq!(max_base58_len(len), longest, "{len} bytes");
            // Leading zero bytes only shorten it (one `1` each).
            let mut zeros = vec![0xff; len];
            zeros.iter_mut().take(len / 2).for_each(|b| *b = 0);
            assert!(bs58::encode(zeros).into_string().len() <= longest);
        }
        assert_eq!(max_cb58_len(Id::LEN), 50);
        assert_eq!(max_cb58_len(NodeId::LEN), 33);
    }

    #[test]
    fn every_valid_length_decodes_and_one_more_is_refused_unread() {
        // The longest IDs (0xff…, and 0xff… whose checksum is also large) round-trip.
        for id in [Id([0xff; 32]), Id([0; 32]), Id::sha256(b"x")] {
            let text = id.to_string();
            assert!(text.len() <= max_cb58_len(Id::LEN), "{text}");
            assert_eq!(text.parse::<Id>(), Ok(id));
        }
        let node = NodeId([0xff; 20]);
        assert_eq!(node.to_string().parse::<NodeId>(), Ok(node));
        // 51 `1`s: base58 for 51 zero bytes, so it would decode, but no 36 bytes encode so long.
        let long = "1".repeat(51);
        assert_eq!(
            long.parse::<Id>(),
            Err(Cb58Error::TooLong {
                expected: 32,
                max: 50,
                found: 51
            })
        );
        // 50 characters of valid base58 are decoded (and then fail on their merits).
        assert_eq!("1".repeat(50).parse::<Id>(), Err(Cb58Error::Checksum));
        let node_long = format!("NodeID-{}", "2".repeat(34));
        assert!(matches!(
            node_long.parse::<NodeId>(),
            Err(Cb58Error::TooLong { max: 33, .. })
        ));
        // The length is counted in bytes: multi-byte characters cannot sneak past it.
        assert!(matches!(
            "é".repeat(26).parse::<Id>(),
            Err(Cb58Error::TooLong { found: 52, .. })
        ));
    }

    /// The audit's input: a 300,000-character ID took seconds of CPU in base58. Refused by
    /// length, so this loop of a thousand such parses is nothing; a regression would run for
    /// hours, far past any test timeout.
    #[test]
    fn huge_text_is_refused_by_length() {
        let huge = "2".repeat(300_000);
        for _ in 0..1000 {
            assert!(matches!(
                huge.parse::<Id>(),
                Err(Cb58Error::TooLong { found: 300_000, .. })
            ));
        }
    }

    #[test]
    fn from_name_limits() {
        assert!(Id::from_name(&"x".repeat(32)).is_some());
        assert!(Id::from_name(&"x".repeat(33)).is_none());
    }
}
