//! BLS12-381 in min-pk form (public keys in G1, signatures in G2) under the Warp ciphersuite
//! (docs/spec/warp.md §2.6), on `blst`, the C library AvalancheGo binds. These wrappers exist so
//! that every key or signature built from bytes has passed the validation the spec requires, and
//! so that signing and verifying cannot be called with the wrong domain tag.

use blst::min_pk;
use blst::BLST_ERROR;
use std::fmt;

/// Domain separation tag of message signatures (docs/spec/warp.md §2.6).
pub const SIGNATURE_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
/// Domain separation tag of proofs of possession (docs/spec/warp.md §2.6).
pub const POP_DST: &[u8] = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// A secret key: a 32-byte big-endian scalar (docs/spec/warp.md §2.6).
pub const SECRET_KEY_LEN: usize = 32;
/// A compressed G1 public key (docs/spec/warp.md §2.6).
pub const PUBLIC_KEY_LEN: usize = 48;
/// An uncompressed G1 public key, x ‖ y, as ValidatorState serves it (docs/spec/warp.md §1.4).
pub const PUBLIC_KEY_UNCOMPRESSED_LEN: usize = 96;
/// A compressed G2 signature (docs/spec/warp.md §2.6).
pub const SIGNATURE_LEN: usize = 96;

/// Why bytes are not an acceptable key or signature, or why nothing could be aggregated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BlsError {
    #[error("secret key is not a scalar in [1, r-1]")]
    InvalidSecretKey,
    #[error("{0}: not a valid point encoding")]
    BadEncoding(&'static str),
    #[error("{0}: point is not on the curve")]
    NotOnCurve(&'static str),
    #[error("{0}: point is not in the prime-order subgroup")]
    NotInSubgroup(&'static str),
    #[error("{0}: the point at infinity is not a valid public key")]
    Infinity(&'static str),
    #[error("nothing to aggregate")]
    NothingToAggregate,
}

impl BlsError {
    fn from_blst(what: &'static str, error: BLST_ERROR) -> BlsError {
        match error {
            BLST_ERROR::BLST_POINT_NOT_ON_CURVE => BlsError::NotOnCurve(what),
            BLST_ERROR::BLST_POINT_NOT_IN_GROUP => BlsError::NotInSubgroup(what),
            BLST_ERROR::BLST_PK_IS_INFINITY => BlsError::Infinity(what),
            _ => BlsError::BadEncoding(what),
        }
    }
}

/// A validator's signing key. The plugin never holds one (the node signs, docs/spec/warp.md
/// §1.2); test hosts that play validators do.
#[derive(Clone)]
pub struct SecretKey(min_pk::SecretKey);

impl SecretKey {
    /// Accepts a 32-byte big-endian scalar in [1, r−1] (docs/spec/warp.md §2.6).
    pub fn from_bytes(bytes: &[u8; SECRET_KEY_LEN]) -> Result<Self, BlsError> {
        min_pk::SecretKey::from_bytes(bytes)
            .map(SecretKey)
            .map_err(|_| BlsError::InvalidSecretKey)
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.sk_to_pk())
    }

    /// Signs `message` (for Warp: the unsigned-message bytes, not a hash) under the signature
    /// DST (docs/spec/warp.md §2.6).
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message, SIGNATURE_DST, &[]))
    }

    /// The proof of possession: a signature over the compressed public key under the PoP DST
    /// (docs/spec/warp.md §2.6).
    pub fn proof_of_possession(&self) -> Signature {
        let public_key = self.public_key().to_compressed();
        Signature(self.0.sign(&public_key, POP_DST, &[]))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// A public key that is on the curve, in G1 and not the identity.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(min_pk::PublicKey);

impl PublicKey {
    /// Decompresses the 48-byte form and validates it (docs/spec/warp.md §2.6).
    pub fn from_compressed(bytes: &[u8; PUBLIC_KEY_LEN]) -> Result<Self, BlsError> {
        let key = min_pk::PublicKey::uncompress(bytes)
            .map_err(|e| BlsError::from_blst("public key", e))?;
        Self::validated(key)
    }

    /// Reads the 96-byte x ‖ y form ValidatorState serves (docs/spec/warp.md §1.4). AvalancheGo
    /// trusts these without re-validating (§2.6); we validate anyway, since a key that fails
    /// here could never have passed the P-chain's proof-of-possession check.
    pub fn from_uncompressed(bytes: &[u8; PUBLIC_KEY_UNCOMPRESSED_LEN]) -> Result<Self, BlsError> {
        let key = min_pk::PublicKey::deserialize(bytes)
            .map_err(|e| BlsError::from_blst("public key", e))?;
        Self::validated(key)
    }

    fn validated(key: min_pk::PublicKey) -> Result<Self, BlsError> {
        key.validate()
            .map_err(|e| BlsError::from_blst("public key", e))?;
        Ok(PublicKey(key))
    }

    pub fn to_compressed(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.0.compress()
    }

    /// The x ‖ y form: what the canonical validator order sorts by (docs/spec/warp.md §4.1).
    pub fn to_uncompressed(&self) -> [u8; PUBLIC_KEY_UNCOMPRESSED_LEN] {
        self.0.serialize()
    }

    /// The sum of `keys` as points (docs/spec/warp.md §2.6), to check an aggregate signature
    /// against. Empty input is an error: there is no key to check against.
    pub fn aggregate<'a>(keys: impl IntoIterator<Item = &'a PublicKey>) -> Result<Self, BlsError> {
        let keys: Vec<&min_pk::PublicKey> = keys.into_iter().map(|key| &key.0).collect();
        if keys.is_empty() {
            return Err(BlsError::NothingToAggregate);
        }
        // Every input passed validation when it was built.
        min_pk::AggregatePublicKey::aggregate(&keys, false)
            .map(|sum| PublicKey(sum.to_public_key()))
            .map_err(|e| BlsError::from_blst("public key", e))
    }

    /// Whether `signature` signs `message` under the signature DST with this key.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        self.verify_with_dst(message, signature, SIGNATURE_DST)
    }

    /// Whether `proof` is this key's proof of possession (docs/spec/warp.md §2.6).
    pub fn verify_proof_of_possession(&self, proof: &Signature) -> bool {
        self.verify_with_dst(&self.to_compressed(), proof, POP_DST)
    }

    fn verify_with_dst(&self, message: &[u8], signature: &Signature, dst: &[u8]) -> bool {
        // Both points were group-checked when built, so blst need not repeat it.
        signature.0.verify(false, message, dst, &[], &self.0, false) == BLST_ERROR::BLST_SUCCESS
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.to_compressed()))
    }
}

/// A signature that decompressed to a point in G2.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(min_pk::Signature);

impl Signature {
    /// Decompresses the 96-byte form and checks the subgroup (docs/spec/warp.md §2.6). Like
    /// AvalancheGo, the point at infinity is not refused here; it verifies against nothing.
    pub fn from_bytes(bytes: &[u8; SIGNATURE_LEN]) -> Result<Self, BlsError> {
        min_pk::Signature::sig_validate(bytes, false)
            .map(Signature)
            .map_err(|e| BlsError::from_blst("signature", e))
    }

    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        self.0.compress()
    }

    /// The sum of `signatures` as points (docs/spec/warp.md §2.6); the order does not matter.
    pub fn aggregate<'a>(
        signatures: impl IntoIterator<Item = &'a Signature>,
    ) -> Result<Self, BlsError> {
        let signatures: Vec<&min_pk::Signature> = signatures
            .into_iter()
            .map(|signature| &signature.0)
            .collect();
        if signatures.is_empty() {
            return Err(BlsError::NothingToAggregate);
        }
        // Every input passed the subgroup check when it was built.
        min_pk::AggregateSignature::aggregate(&signatures, false)
            .map(|sum| Signature(sum.to_signature()))
            .map_err(|e| BlsError::from_blst("signature", e))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warp::test_vectors::*;

    fn secret(index: usize) -> SecretKey {
        SecretKey::from_bytes(&array(VALIDATORS[index].sk_hex)).unwrap()
    }

    // docs/spec/warp-vectors.json `validators[*]`; docs/spec/warp.md §5.3: every key form,
    // signature and PoP is reproduced byte for byte, and each verifies.
    #[test]
    fn fixed_keys_reproduce_every_vector() {
        for (index, vector) in VALIDATORS.iter().enumerate() {
            let secret = secret(index);
            let public = secret.public_key();
            assert_eq!(
                hex::encode(public.to_compressed()),
                vector.pk_compressed_hex,
                "{}",
                vector.name
            );
            assert_eq!(
                hex::encode(public.to_uncompressed()),
                vector.pk_uncompressed_hex
            );
            assert_eq!(
                PublicKey::from_compressed(&array(vector.pk_compressed_hex)).unwrap(),
                public
            );
            assert_eq!(
                PublicKey::from_uncompressed(&array(vector.pk_uncompressed_hex)).unwrap(),
                public
            );

            let signature = secret.sign(&unsigned());
            assert_eq!(hex::encode(signature.to_bytes()), vector.sig_hex);
            let parsed = Signature::from_bytes(&array(vector.sig_hex)).unwrap();
            assert_eq!(parsed, signature);
            assert!(public.verify(&unsigned(), &parsed));

            let proof = secret.proof_of_possession();
            assert_eq!(hex::encode(proof.to_bytes()), vector.pop_hex);
            assert!(public.verify_proof_of_possession(&proof));
        }
    }

    // docs/spec/warp.md §5.3 negative checks: a flipped message bit, and a PoP used as a
    // message signature (the DSTs differ), both fail; so does another validator's key.
    #[test]
    fn wrong_message_wrong_dst_and_wrong_key_do_not_verify() {
        let public = secret(0).public_key();
        let signature = Signature::from_bytes(&array(VALIDATORS[0].sig_hex)).unwrap();
        let mut message = unsigned();
        message[79] ^= 1;
        assert!(!public.verify(&message, &signature));

        let proof = Signature::from_bytes(&array(VALIDATORS[0].pop_hex)).unwrap();
        assert!(!public.verify(&public.to_compressed(), &proof));
        assert!(!public.verify_proof_of_possession(&signature));

        assert!(!secret(1).public_key().verify(&unsigned(), &signature));
    }

    // docs/spec/warp-vectors.json `aggregates`; docs/spec/warp.md §5.4.
    #[test]
    fn aggregates_reproduce_the_vectors_in_any_order() {
        let signatures: Vec<Signature> = (0..3).map(|i| secret(i).sign(&unsigned())).collect();
        let keys: Vec<PublicKey> = (0..3).map(|i| secret(i).public_key()).collect();
        for vector in [ALL3, FIRST2] {
            let chosen: Vec<usize> = vector
                .signer_indices
                .iter()
                .map(|&canonical| CANONICAL_ORDER[canonical])
                .collect();
            let sum = Signature::aggregate(chosen.iter().map(|&i| &signatures[i])).unwrap();
            assert_eq!(hex::encode(sum.to_bytes()), vector.aggregate_sig_hex);
            let reversed =
                Signature::aggregate(chosen.iter().rev().map(|&i| &signatures[i])).unwrap();
            assert_eq!(reversed, sum);
            let key = PublicKey::aggregate(chosen.iter().map(|&i| &keys[i])).unwrap();
            assert!(key.verify(&unsigned(), &sum));
        }
        let two = PublicKey::aggregate(&keys[..2]).unwrap();
        let all = Signature::from_bytes(&array(ALL3.aggregate_sig_hex)).unwrap();
        assert!(!two.verify(&unsigned(), &all));
    }

    #[test]
    fn empty_aggregates_are_errors() {
        assert_eq!(
            Signature::aggregate([]).unwrap_err(),
            BlsError::NothingToAggregate
        );
        assert_eq!(
            PublicKey::aggregate([]).unwrap_err(),
            BlsError::NothingToAggregate
        );
    }

    #[test]
    fn secret_keys_outside_the_scalar_range_are_rejected() {
        assert_eq!(
            SecretKey::from_bytes(&[0; 32]).unwrap_err(),
            BlsError::InvalidSecretKey
        );
        assert_eq!(
            SecretKey::from_bytes(&[0xff; 32]).unwrap_err(),
            BlsError::InvalidSecretKey
        );
    }

    // docs/spec/warp.md §2.6: compressed keys must decompress, be in G1 and not be infinity.
    #[test]
    fn malformed_public_keys_are_rejected_with_the_reason() {
        let mut infinity = [0u8; 48];
        infinity[0] = 0xc0;
        assert_eq!(
            PublicKey::from_compressed(&infinity).unwrap_err(),
            BlsError::Infinity("public key")
        );
        let mut uncompressed_flag = array::<48>(VALIDATORS[0].pk_compressed_hex);
        uncompressed_flag[0] &= 0x7f;
        assert_eq!(
            PublicKey::from_compressed(&uncompressed_flag).unwrap_err(),
            BlsError::BadEncoding("public key")
        );
        let mut past_the_field = [0xffu8; 48];
        past_the_field[0] = 0x9f;
        assert_eq!(
            PublicKey::from_compressed(&past_the_field).unwrap_err(),
            BlsError::BadEncoding("public key")
        );

        let mut uncompressed_infinity = [0u8; 96];
        uncompressed_infinity[0] = 0x40;
        assert_eq!(
            PublicKey::from_uncompressed(&uncompressed_infinity).unwrap_err(),
            BlsError::Infinity("public key")
        );
        let mut off_curve = array::<96>(VALIDATORS[0].pk_uncompressed_hex);
        off_curve[95] ^= 1;
        assert_eq!(
            PublicKey::from_uncompressed(&off_curve).unwrap_err(),
            BlsError::NotOnCurve("public key")
        );
    }

    /// Decodes every x in 1..=60 (compressed flag set, smallest y) through `decode` and
    /// returns the errors seen. Small x values give both off-curve points (x³ + b has no square
    /// root) and on-curve points outside the prime-order subgroup, which is almost every point.
    fn small_x_outcomes<const N: usize>(
        decode: impl Fn(&[u8; N]) -> Result<(), BlsError>,
    ) -> Vec<BlsError> {
        (1u8..=60)
            .map(|x| {
                let mut bytes = [0u8; N];
                bytes[0] = 0x80;
                bytes[N - 1] = x;
                decode(&bytes).expect_err("a small x is never a valid point")
            })
            .collect()
    }

    // docs/spec/warp.md §2.6: a compressed key must be on the curve and in G1.
    #[test]
    fn public_keys_off_the_curve_or_outside_the_subgroup_are_rejected() {
        let outcomes =
            small_x_outcomes::<48>(|bytes| PublicKey::from_compressed(bytes).map(|_| ()));
        assert!(outcomes.contains(&BlsError::NotOnCurve("public key")));
        assert!(outcomes.contains(&BlsError::NotInSubgroup("public key")));
    }

    // docs/spec/warp.md §2.6: a signature must decompress and be in G2.
    #[test]
    fn malformed_signatures_are_rejected() {
        let mut unflagged = array::<96>(VALIDATORS[0].sig_hex);
        unflagged[0] &= 0x7f;
        assert_eq!(
            Signature::from_bytes(&unflagged).unwrap_err(),
            BlsError::BadEncoding("signature")
        );
        let outcomes = small_x_outcomes::<96>(|bytes| Signature::from_bytes(bytes).map(|_| ()));
        assert!(outcomes.contains(&BlsError::NotOnCurve("signature")));
        assert!(outcomes.contains(&BlsError::NotInSubgroup("signature")));
    }
}
