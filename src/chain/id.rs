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

/// Decodes CB58 and verifies its checksum; returns the payload without the checksum.
pub fn cb58_decode(text: &str) -> Result<Vec<u8>, Cb58Error> {
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
    Ok(payload.to_vec())
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
        let bytes = cb58_decode(s)?;
        Id::from_slice(&bytes).ok_or(Cb58Error::Length {
            expected: 32,
            found: bytes.len(),
        })
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
        let bytes = cb58_decode(body)?;
        NodeId::from_slice(&bytes).ok_or(Cb58Error::Length {
            expected: 20,
            found: bytes.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn padded(text: &str) -> [u8; 32] {
        Id::from_name(text).unwrap().0
    }

    // Golden values: shared/spec/vectors.md section 1.
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
    fn from_name_limits() {
        assert!(Id::from_name(&"x".repeat(32)).is_some());
        assert!(Id::from_name(&"x".repeat(33)).is_none());
    }
}
