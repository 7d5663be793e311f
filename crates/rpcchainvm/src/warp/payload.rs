//! The standard payloads carried inside an unsigned message (docs/spec/warp.md §2.3). They are
//! conventions of a separate codec (version 0, its own type IDs, a 24 KiB limit): the node's
//! signer signs any payload bytes, so a VM uses these to make what it attests unambiguous.

use super::codec::{check_u32_len, put_len_prefixed, CodecError, Reader, CODEC_VERSION};

/// The payload codec's size limit: larger inputs are rejected whole (docs/spec/warp.md §2.1).
pub const PAYLOAD_MAX_SIZE: usize = 24 * 1024;

/// Type IDs in registration order (docs/spec/warp.md §2.3).
const HASH_TYPE_ID: u32 = 0;
const ADDRESSED_CALL_TYPE_ID: u32 = 1;

/// Bytes of an AddressedCall besides its two variable fields: version, type ID, two lengths.
const ADDRESSED_CALL_OVERHEAD: usize = 2 + 4 + 4 + 4;

/// A message from an address on the source chain (docs/spec/warp.md §2.3). Off-chain messages
/// use an empty source address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AddressedCall {
    source_address: Vec<u8>,
    payload: Vec<u8>,
}

impl AddressedCall {
    /// Fails if the encoding would exceed [`PAYLOAD_MAX_SIZE`], which the payload codec refuses
    /// to write as well as to read.
    pub fn new(source_address: Vec<u8>, payload: Vec<u8>) -> Result<Self, CodecError> {
        let len = ADDRESSED_CALL_OVERHEAD
            .saturating_add(source_address.len())
            .saturating_add(payload.len());
        check_size(len)?;
        Ok(AddressedCall {
            source_address,
            payload,
        })
    }

    pub fn source_address(&self) -> &[u8] {
        &self.source_address
    }

    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

/// A payload of one of the standard types (docs/spec/warp.md §2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Payload {
    /// Type 0: a 32-byte hash (subnet-evm signs accepted block IDs this way). Always 38 bytes.
    Hash([u8; 32]),
    /// Type 1: [`AddressedCall`].
    AddressedCall(AddressedCall),
}

impl Payload {
    /// Writes the payload codec's bytes: version, type ID, fields.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&CODEC_VERSION.to_be_bytes());
        match self {
            Payload::Hash(hash) => {
                out.extend_from_slice(&HASH_TYPE_ID.to_be_bytes());
                out.extend_from_slice(hash);
            }
            Payload::AddressedCall(call) => {
                out.extend_from_slice(&ADDRESSED_CALL_TYPE_ID.to_be_bytes());
                put_len_prefixed(&mut out, &call.source_address);
                put_len_prefixed(&mut out, &call.payload);
            }
        }
        out
    }

    /// Reads exactly one payload: a version other than 0, an unknown type ID, trailing bytes or
    /// more than [`PAYLOAD_MAX_SIZE`] bytes are errors.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        check_size(bytes.len())?;
        let mut reader = Reader::new(bytes);
        reader.version()?;
        let payload = match reader.u32("payload type ID")? {
            HASH_TYPE_ID => Payload::Hash(reader.array::<32>("hash")?),
            ADDRESSED_CALL_TYPE_ID => {
                let source_address = reader.len_prefixed("source address")?.to_vec();
                let payload = reader.len_prefixed("addressed call payload")?.to_vec();
                Payload::AddressedCall(AddressedCall {
                    source_address,
                    payload,
                })
            }
            type_id => {
                return Err(CodecError::UnknownTypeId {
                    what: "payload",
                    type_id,
                })
            }
        };
        reader.finish()?;
        Ok(payload)
    }
}

fn check_size(len: usize) -> Result<(), CodecError> {
    check_u32_len("payload", len)?;
    if len > PAYLOAD_MAX_SIZE {
        return Err(CodecError::TooLarge {
            what: "payload",
            len,
            limit: PAYLOAD_MAX_SIZE,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warp::test_vectors::*;

    // docs/spec/warp-vectors.json `hash_payload_hex`, `hash_payload_len`; docs/spec/warp.md §5.2.
    #[test]
    fn hash_payload_matches_the_vector_both_ways() {
        let payload = Payload::Hash(array(SHA256_STAMPVM_HEX));
        assert_eq!(hex::encode(payload.to_bytes()), HASH_PAYLOAD_HEX);
        assert_eq!(payload.to_bytes().len(), 38);
        assert_eq!(Payload::from_bytes(&hash_payload()).unwrap(), payload);
    }

    // docs/spec/warp-vectors.json `addressed_call_example_hex`; docs/spec/warp.md §5.2.
    #[test]
    fn addressed_call_matches_the_vector_both_ways() {
        let call = AddressedCall::new(vec![0xaa; 20], b"hello".to_vec()).unwrap();
        let payload = Payload::AddressedCall(call);
        let bytes = payload.to_bytes();
        assert_eq!(hex::encode(&bytes), ADDRESSED_CALL_HEX);
        assert_eq!(bytes.len(), 14 + 20 + 5);
        assert_eq!(Payload::from_bytes(&bytes).unwrap(), payload);
    }

    #[test]
    fn unknown_type_id_is_rejected() {
        let mut bytes = hash_payload();
        bytes[5] = 2;
        assert_eq!(
            Payload::from_bytes(&bytes),
            Err(CodecError::UnknownTypeId {
                what: "payload",
                type_id: 2
            })
        );
    }

    #[test]
    fn wrong_version_truncation_and_trailing_bytes_are_rejected() {
        let mut versioned = hash_payload();
        versioned[0] = 1;
        assert_eq!(
            Payload::from_bytes(&versioned),
            Err(CodecError::UnknownVersion(256))
        );
        let call = bytes(ADDRESSED_CALL_HEX);
        for len in 0..call.len() {
            assert!(matches!(
                Payload::from_bytes(&call[..len]),
                Err(CodecError::Truncated { .. })
            ));
        }
        let mut long = call.clone();
        long.push(0);
        assert_eq!(
            Payload::from_bytes(&long),
            Err(CodecError::TrailingBytes(1))
        );
    }

    #[test]
    fn the_24_kib_limit_holds_for_writing_and_reading() {
        let fits = PAYLOAD_MAX_SIZE - ADDRESSED_CALL_OVERHEAD;
        let call = AddressedCall::new(Vec::new(), vec![1; fits]).unwrap();
        let bytes = Payload::AddressedCall(call).to_bytes();
        assert_eq!(bytes.len(), PAYLOAD_MAX_SIZE);
        assert!(Payload::from_bytes(&bytes).is_ok());

        assert!(matches!(
            AddressedCall::new(Vec::new(), vec![1; fits + 1]),
            Err(CodecError::TooLarge { .. })
        ));
        let mut too_long = bytes;
        too_long.push(0);
        assert_eq!(
            Payload::from_bytes(&too_long),
            Err(CodecError::TooLarge {
                what: "payload",
                len: PAYLOAD_MAX_SIZE + 1,
                limit: PAYLOAD_MAX_SIZE
            })
        );
    }
}
