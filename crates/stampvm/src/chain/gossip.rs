//! The gossip message stampvm nodes exchange through the node's AppGossip: a batch of pending
//! payloads. Layout: version byte `1`, payload count (u16 big-endian, 1..=MAX_GOSSIP_PAYLOADS),
//! then the payloads, 32 bytes each. Anything else is refused whole: a peer's bytes are untrusted.

/// The current layout version.
pub const GOSSIP_VERSION: u8 = 1;

/// Most payloads one message may carry (4096 * 32 bytes = 128 KiB).
pub const MAX_GOSSIP_PAYLOADS: usize = 4096;

const HEADER_LEN: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GossipDecodeError {
    #[error("gossip message of {0} bytes is shorter than its header")]
    TooShort(usize),
    #[error("unknown gossip version {0}")]
    UnknownVersion(u8),
    #[error("gossip message announces {0} payloads; allowed 1..={MAX_GOSSIP_PAYLOADS}")]
    BadCount(usize),
    #[error("gossip message announces {count} payloads but is {len} bytes long")]
    LengthMismatch { count: usize, len: usize },
}

/// Encodes up to MAX_GOSSIP_PAYLOADS payloads; callers split larger sets.
pub fn encode_gossip(payloads: &[[u8; 32]]) -> Vec<u8> {
    debug_assert!(!payloads.is_empty() && payloads.len() <= MAX_GOSSIP_PAYLOADS);
    let count = payloads.len().min(MAX_GOSSIP_PAYLOADS);
    let mut out = Vec::with_capacity(HEADER_LEN + 32 * count);
    out.push(GOSSIP_VERSION);
    out.extend_from_slice(&(count as u16).to_be_bytes());
    for payload in &payloads[..count] {
        out.extend_from_slice(payload);
    }
    out
}

pub fn decode_gossip(bytes: &[u8]) -> Result<Vec<[u8; 32]>, GossipDecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(GossipDecodeError::TooShort(bytes.len()));
    }
    if bytes[0] != GOSSIP_VERSION {
        return Err(GossipDecodeError::UnknownVersion(bytes[0]));
    }
    let count = u16::from_be_bytes([bytes[1], bytes[2]]) as usize;
    if count == 0 || count > MAX_GOSSIP_PAYLOADS {
        return Err(GossipDecodeError::BadCount(count));
    }
    let body = &bytes[HEADER_LEN..];
    if body.len() != count * 32 {
        return Err(GossipDecodeError::LengthMismatch {
            count,
            len: bytes.len(),
        });
    }
    Ok(body
        .chunks_exact(32)
        .map(|chunk| {
            let mut payload = [0u8; 32];
            payload.copy_from_slice(chunk);
            payload
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let payloads = vec![[1u8; 32], [2u8; 32], [3u8; 32]];
        let bytes = encode_gossip(&payloads);
        assert_eq!(bytes.len(), 3 + 96);
        assert_eq!(&bytes[..3], &[1, 0, 3]);
        assert_eq!(decode_gossip(&bytes).unwrap(), payloads);
    }

    #[test]
    fn malformed_messages_are_refused() {
        assert_eq!(decode_gossip(&[]), Err(GossipDecodeError::TooShort(0)));
        assert_eq!(
            decode_gossip(&[2, 0, 1]),
            Err(GossipDecodeError::UnknownVersion(2))
        );
        assert_eq!(
            decode_gossip(&[1, 0, 0]),
            Err(GossipDecodeError::BadCount(0))
        );
        assert_eq!(
            decode_gossip(&[1, 0xff, 0xff]),
            Err(GossipDecodeError::BadCount(65535))
        );
        let mut truncated = encode_gossip(&[[7u8; 32]]);
        truncated.pop();
        assert!(matches!(
            decode_gossip(&truncated),
            Err(GossipDecodeError::LengthMismatch { .. })
        ));
        let mut extended = encode_gossip(&[[7u8; 32]]);
        extended.push(0);
        assert!(matches!(
            decode_gossip(&extended),
            Err(GossipDecodeError::LengthMismatch { .. })
        ));
    }
}
