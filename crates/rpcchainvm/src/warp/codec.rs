//! The Warp linear codec's rules (docs/spec/warp.md §2.1) and the [`UnsignedMessage`] (§2.2).
//!
//! Decoding is strict in the ways AvalancheGo's codec is (unknown version, unknown type ID,
//! trailing bytes, oversized input are errors) and never trusts a declared length: every length
//! prefix is checked against the bytes actually present before anything is allocated, so a
//! claimed 4 GiB field in a 10-byte input is an error, not an allocation.

use crate::ids::Id;

/// The codec version every top-level Warp and payload serialization starts with
/// (docs/spec/warp.md §2.1).
pub const CODEC_VERSION: u16 = 0;

/// Bytes before the payload in an unsigned message: version, network ID, source chain ID,
/// payload length (docs/spec/warp.md §2.2).
const UNSIGNED_HEADER_LEN: usize = 2 + 4 + 32 + 4;

/// Why bytes are not a well-formed Warp or payload serialization.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("{field}: needs {needed} more bytes, {remaining} left")]
    Truncated {
        field: &'static str,
        needed: usize,
        remaining: usize,
    },
    #[error("codec version {0} is not 0")]
    UnknownVersion(u16),
    #[error("{what}: unknown type ID {type_id}")]
    UnknownTypeId { what: &'static str, type_id: u32 },
    #[error("{0} bytes after the end of the message")]
    TrailingBytes(usize),
    #[error("{what}: {len} bytes exceed the limit of {limit}")]
    TooLarge {
        what: &'static str,
        len: usize,
        limit: usize,
    },
}

/// Reads big-endian fields off a byte slice, failing (never panicking) when the bytes run out.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    pub(crate) fn take(&mut self, field: &'static str, len: usize) -> Result<&'a [u8], CodecError> {
        if len > self.rest.len() {
            return Err(CodecError::Truncated {
                field,
                needed: len,
                remaining: self.rest.len(),
            });
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], CodecError> {
        let bytes = self.take(field, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, CodecError> {
        self.array::<4>(field).map(u32::from_be_bytes)
    }

    /// The codec version that opens a top-level serialization; only 0 exists (§2.1).
    pub(crate) fn version(&mut self) -> Result<(), CodecError> {
        let version = u16::from_be_bytes(self.array::<2>("codec version")?);
        if version != CODEC_VERSION {
            return Err(CodecError::UnknownVersion(version));
        }
        Ok(())
    }

    /// A uint32 length, then that many bytes (§2.1).
    pub(crate) fn len_prefixed(&mut self, field: &'static str) -> Result<&'a [u8], CodecError> {
        let len = self.u32(field)?;
        // A u32 always fits in usize on the 32- and 64-bit targets we build for; on a 16-bit one
        // the length could not be present anyway.
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        self.take(field, len)
    }

    /// Ends decoding: the codec rejects trailing bytes (§2.1).
    pub(crate) fn finish(self) -> Result<(), CodecError> {
        match self.rest.len() {
            0 => Ok(()),
            extra => Err(CodecError::TrailingBytes(extra)),
        }
    }
}

/// Appends a uint32 length prefix and the bytes. Callers have checked the length fits.
pub(crate) fn put_len_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("length checked by the constructor");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Checks that a variable-length field fits its uint32 length prefix.
pub(crate) fn check_u32_len(what: &'static str, len: usize) -> Result<(), CodecError> {
    if u32::try_from(len).is_err() {
        return Err(CodecError::TooLarge {
            what,
            len,
            limit: u32::MAX as usize,
        });
    }
    Ok(())
}

/// What validators sign: a payload bound to one network and one source chain
/// (docs/spec/warp.md §2.2). The node's signer refuses any message whose network or source chain
/// is not its own (§1.3), so these two fields are what make a signature mean "this chain said so".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnsignedMessage {
    network_id: u32,
    source_chain_id: Id,
    payload: Vec<u8>,
}

impl UnsignedMessage {
    /// Fails only if the payload is longer than its uint32 length prefix can say.
    pub fn new(network_id: u32, source_chain_id: Id, payload: Vec<u8>) -> Result<Self, CodecError> {
        check_u32_len("payload", payload.len())?;
        Ok(UnsignedMessage {
            network_id,
            source_chain_id,
            payload,
        })
    }

    pub fn network_id(&self) -> u32 {
        self.network_id
    }

    pub fn source_chain_id(&self) -> Id {
        self.source_chain_id
    }

    /// The payload bytes; [`crate::warp::Payload::from_bytes`] reads the standard payload types.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The exact bytes that are signed: `00 00` ‖ network_id ‖ source_chain_id ‖ len32 ‖ payload
    /// (docs/spec/warp.md §2.2).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(UNSIGNED_HEADER_LEN + self.payload.len());
        self.write(&mut out);
        out
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&CODEC_VERSION.to_be_bytes());
        out.extend_from_slice(&self.network_id.to_be_bytes());
        out.extend_from_slice(self.source_chain_id.as_bytes());
        put_len_prefixed(out, &self.payload);
    }

    /// Decodes exactly one unsigned message; trailing bytes are an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut reader = Reader::new(bytes);
        let message = Self::read(&mut reader)?;
        reader.finish()?;
        Ok(message)
    }

    /// Reads the unsigned part off the front of `reader`; it carries its own version prefix and
    /// length-prefixed payload, so a signed message can be cut after it (§2.5).
    pub(crate) fn read(reader: &mut Reader<'_>) -> Result<Self, CodecError> {
        reader.version()?;
        let network_id = reader.u32("network ID")?;
        let source_chain_id = Id(reader.array::<32>("source chain ID")?);
        let payload = reader.len_prefixed("payload")?.to_vec();
        Ok(UnsignedMessage {
            network_id,
            source_chain_id,
            payload,
        })
    }

    /// SHA-256 of [`Self::to_bytes`]: the message ID used for caches and look-ups. It is not
    /// what gets signed (docs/spec/warp.md §2.2).
    pub fn id(&self) -> Id {
        Id::sha256(&self.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warp::test_vectors::*;

    fn vector_message() -> UnsignedMessage {
        UnsignedMessage::new(NETWORK_ID, Id(chain_id()), hash_payload()).unwrap()
    }

    // docs/spec/warp-vectors.json `unsigned_hex`, `unsigned_id_sha256`; docs/spec/warp.md §5.2.
    #[test]
    fn unsigned_message_matches_the_vector_both_ways() {
        let message = vector_message();
        assert_eq!(hex::encode(message.to_bytes()), UNSIGNED_HEX);
        assert_eq!(message.to_bytes().len(), 80);
        assert_eq!(hex::encode(message.id().as_bytes()), UNSIGNED_ID_HEX);
        assert_eq!(UnsignedMessage::from_bytes(&unsigned()).unwrap(), message);
    }

    #[test]
    fn empty_payload_is_42_bytes_and_round_trips() {
        let message = UnsignedMessage::new(1, Id([7; 32]), Vec::new()).unwrap();
        let bytes = message.to_bytes();
        assert_eq!(bytes.len(), 42);
        assert_eq!(UnsignedMessage::from_bytes(&bytes).unwrap(), message);
    }

    #[test]
    fn every_truncation_is_a_typed_error() {
        let bytes = unsigned();
        for len in 0..bytes.len() {
            let err = UnsignedMessage::from_bytes(&bytes[..len]).unwrap_err();
            assert!(
                matches!(err, CodecError::Truncated { .. }),
                "{len}: {err:?}"
            );
        }
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut bytes = unsigned();
        bytes.push(0);
        assert_eq!(
            UnsignedMessage::from_bytes(&bytes),
            Err(CodecError::TrailingBytes(1))
        );
    }

    #[test]
    fn unknown_version_is_rejected() {
        let mut bytes = unsigned();
        bytes[1] = 1;
        assert_eq!(
            UnsignedMessage::from_bytes(&bytes),
            Err(CodecError::UnknownVersion(1))
        );
    }

    #[test]
    fn a_huge_declared_payload_length_is_an_error_not_an_allocation() {
        let mut bytes = unsigned()[..42].to_vec();
        bytes[38..42].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(
            UnsignedMessage::from_bytes(&bytes),
            Err(CodecError::Truncated {
                field: "payload",
                needed: u32::MAX as usize,
                remaining: 0
            })
        );
    }

    #[test]
    fn each_field_changes_the_bytes_and_the_id() {
        let base = vector_message();
        let other_network = UnsignedMessage::new(NETWORK_ID + 1, Id(chain_id()), hash_payload());
        let mut chain = chain_id();
        chain[31] ^= 1;
        let other_chain = UnsignedMessage::new(NETWORK_ID, Id(chain), hash_payload());
        let mut payload = hash_payload();
        payload[37] ^= 1;
        let other_payload = UnsignedMessage::new(NETWORK_ID, Id(chain_id()), payload);
        for other in [other_network, other_chain, other_payload] {
            let other = other.unwrap();
            assert_ne!(other.to_bytes(), base.to_bytes());
            assert_ne!(other.id(), base.id());
        }
    }
}
