//! The signers bitset, the [`BitSetSignature`] and the signed [`SignedMessage`]
//! (docs/spec/warp.md §2.4–§2.5).

use super::bls::{Signature, SIGNATURE_LEN};
use super::codec::{put_len_prefixed, CodecError, Reader, UnsignedMessage};

/// The only registered Signature type in the Warp codec (docs/spec/warp.md §2.4).
const BIT_SET_SIGNATURE_TYPE_ID: u32 = 0;

/// Why signer bytes are not a valid bitset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignersError {
    /// A leading zero byte: AvalancheGo re-encodes the integer and rejects a length change
    /// (docs/spec/warp.md §2.4).
    #[error("signers bitset is not minimal (leading zero byte)")]
    NotMinimal,
}

/// Which canonical validators signed: bit i set means index i of the canonical list
/// (docs/spec/warp.md §2.4, §4.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SignerSet {
    /// Little-endian bytes of the integer (byte 0 holds indices 0..8), with no trailing zero
    /// byte, so that equal sets compare equal and the wire form is the reverse.
    little_endian: Vec<u8>,
}

impl SignerSet {
    pub fn new() -> Self {
        SignerSet::default()
    }

    pub fn from_indices(indices: impl IntoIterator<Item = usize>) -> Self {
        let mut set = SignerSet::new();
        for index in indices {
            set.insert(index);
        }
        set
    }

    /// Marks canonical index `index` as a signer; returns false if it already was.
    pub fn insert(&mut self, index: usize) -> bool {
        let byte = index / 8;
        if byte >= self.little_endian.len() {
            self.little_endian.resize(byte + 1, 0);
        }
        let mask = 1u8 << (index % 8);
        let fresh = self.little_endian[byte] & mask == 0;
        self.little_endian[byte] |= mask;
        fresh
    }

    pub fn contains(&self, index: usize) -> bool {
        self.little_endian
            .get(index / 8)
            .is_some_and(|byte| byte & (1 << (index % 8)) != 0)
    }

    /// The set indices, ascending.
    pub fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.little_endian
            .iter()
            .enumerate()
            .flat_map(|(byte_index, byte)| {
                (0..8)
                    .filter(move |bit| byte & (1 << bit) != 0)
                    .map(move |bit| byte_index * 8 + bit)
            })
    }

    pub fn len(&self) -> usize {
        self.little_endian
            .iter()
            .map(|byte| byte.count_ones() as usize)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.little_endian.is_empty()
    }

    /// One more than the highest set index (0 when empty): must not exceed the number of
    /// canonical validators (docs/spec/warp.md §2.4).
    pub fn bit_len(&self) -> usize {
        match self.little_endian.last() {
            None => 0,
            Some(top) => (self.little_endian.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
        }
    }

    /// The minimal big-endian bytes of the integer; empty for no signers (docs/spec/warp.md §2.4).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.little_endian.iter().rev().copied().collect()
    }

    /// Reads the big-endian bytes; a leading zero byte is refused (docs/spec/warp.md §2.4).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SignersError> {
        if bytes.first() == Some(&0) {
            return Err(SignersError::NotMinimal);
        }
        Ok(SignerSet {
            little_endian: bytes.iter().rev().copied().collect(),
        })
    }
}

/// The Warp signature: who signed, and the aggregate of their signatures (docs/spec/warp.md §2.4).
///
/// Both fields are kept as they came off the wire. Decoding accepts what AvalancheGo's codec
/// accepts; whether the bitset is minimal and the signature a G2 point is for verification to say
/// ([`crate::warp::verify_signed_message`]), which names the check that failed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BitSetSignature {
    signers: Vec<u8>,
    signature: [u8; SIGNATURE_LEN],
}

impl BitSetSignature {
    pub fn new(signers: &SignerSet, signature: &Signature) -> Self {
        BitSetSignature {
            signers: signers.to_bytes(),
            signature: signature.to_bytes(),
        }
    }

    /// The signers bitset as it was on the wire.
    pub fn signers_bytes(&self) -> &[u8] {
        &self.signers
    }

    pub fn signers(&self) -> Result<SignerSet, SignersError> {
        SignerSet::from_bytes(&self.signers)
    }

    /// The 96 aggregate-signature bytes as they were on the wire.
    pub fn signature_bytes(&self) -> &[u8; SIGNATURE_LEN] {
        &self.signature
    }
}

/// An unsigned message with its validators' aggregate signature: unsigned bytes ‖ `00000000` ‖
/// `len32(signers)` ‖ `signers` ‖ `sig[96]` (docs/spec/warp.md §2.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SignedMessage {
    pub unsigned: UnsignedMessage,
    pub signature: BitSetSignature,
}

impl SignedMessage {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.unsigned.to_bytes();
        out.extend_from_slice(&BIT_SET_SIGNATURE_TYPE_ID.to_be_bytes());
        put_len_prefixed(&mut out, &self.signature.signers);
        out.extend_from_slice(&self.signature.signature);
        out
    }

    /// Decodes exactly one signed message; every malformation is a [`CodecError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut reader = Reader::new(bytes);
        let unsigned = UnsignedMessage::read(&mut reader)?;
        let type_id = reader.u32("signature type ID")?;
        if type_id != BIT_SET_SIGNATURE_TYPE_ID {
            return Err(CodecError::UnknownTypeId {
                what: "signature",
                type_id,
            });
        }
        let signers = reader.len_prefixed("signers")?.to_vec();
        let signature = reader.array::<SIGNATURE_LEN>("aggregate signature")?;
        reader.finish()?;
        Ok(SignedMessage {
            unsigned,
            signature: BitSetSignature { signers, signature },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warp::test_vectors::*;

    // docs/spec/warp.md §2.4 examples and docs/spec/warp-vectors.json `signers_bitset_hex`.
    #[test]
    fn bitsets_encode_big_endian_and_minimal() {
        assert_eq!(SignerSet::from_indices([0, 1, 2]).to_bytes(), vec![0x07]);
        assert_eq!(SignerSet::from_indices([0, 8]).to_bytes(), vec![0x01, 0x01]);
        assert_eq!(SignerSet::new().to_bytes(), Vec::<u8>::new());
        for vector in [ALL3, FIRST2] {
            let set = SignerSet::from_indices(vector.signer_indices.iter().copied());
            assert_eq!(hex::encode(set.to_bytes()), vector.signers_bitset_hex);
        }
        let set = SignerSet::from_bytes(&[0x01, 0x01]).unwrap();
        assert_eq!(set.indices().collect::<Vec<_>>(), vec![0, 8]);
        assert_eq!(set.bit_len(), 9);
        assert_eq!(set.len(), 2);
        assert!(set.contains(8) && !set.contains(1) && !set.contains(1000));
    }

    #[test]
    fn insert_reports_duplicates() {
        let mut set = SignerSet::new();
        assert!(set.insert(3));
        assert!(!set.insert(3));
        assert_eq!(set.to_bytes(), vec![0x08]);
        assert_eq!(set.bit_len(), 4);
    }

    #[test]
    fn a_leading_zero_byte_is_not_minimal() {
        assert_eq!(
            SignerSet::from_bytes(&[0x00]),
            Err(SignersError::NotMinimal)
        );
        assert_eq!(
            SignerSet::from_bytes(&[0x00, 0x07]),
            Err(SignersError::NotMinimal)
        );
        assert!(SignerSet::from_bytes(&[]).unwrap().is_empty());
    }

    // docs/spec/warp-vectors.json `aggregates.*.signed_message_hex`; docs/spec/warp.md §5.4.
    #[test]
    fn signed_messages_match_the_vectors_both_ways() {
        for vector in [ALL3, FIRST2] {
            let unsigned = UnsignedMessage::from_bytes(&unsigned()).unwrap();
            let signers = SignerSet::from_indices(vector.signer_indices.iter().copied());
            let signature = Signature::from_bytes(&array(vector.aggregate_sig_hex)).unwrap();
            let message = SignedMessage {
                unsigned,
                signature: BitSetSignature::new(&signers, &signature),
            };
            let bytes = message.to_bytes();
            assert_eq!(bytes.len(), 185);
            assert_eq!(hex::encode(&bytes), vector.signed_message_hex);
            let decoded = SignedMessage::from_bytes(&bytes).unwrap();
            assert_eq!(decoded, message);
            assert_eq!(decoded.signature.signers().unwrap(), signers);
        }
    }

    #[test]
    fn malformed_signed_messages_are_typed_errors() {
        let bytes = bytes(ALL3.signed_message_hex);
        for len in 0..bytes.len() {
            assert!(
                matches!(
                    SignedMessage::from_bytes(&bytes[..len]),
                    Err(CodecError::Truncated { .. })
                ),
                "{len}"
            );
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            SignedMessage::from_bytes(&trailing),
            Err(CodecError::TrailingBytes(1))
        );
        let mut wrong_type = bytes.clone();
        wrong_type[83] = 1;
        assert_eq!(
            SignedMessage::from_bytes(&wrong_type),
            Err(CodecError::UnknownTypeId {
                what: "signature",
                type_id: 1
            })
        );
        let mut huge_signers = bytes.clone();
        huge_signers[84..88].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            SignedMessage::from_bytes(&huge_signers),
            Err(CodecError::Truncated {
                field: "signers",
                ..
            })
        ));
    }

    #[test]
    fn a_non_minimal_bitset_decodes_but_does_not_read_as_signers() {
        let mut bytes = bytes(ALL3.signed_message_hex);
        // Signers length 1 → 2 and a leading zero byte before `07`.
        bytes[87] = 2;
        bytes.insert(88, 0);
        let message = SignedMessage::from_bytes(&bytes).unwrap();
        assert_eq!(message.signature.signers_bytes(), &[0x00, 0x07]);
        assert_eq!(message.signature.signers(), Err(SignersError::NotMinimal));
        assert_eq!(message.to_bytes(), bytes);
    }
}
