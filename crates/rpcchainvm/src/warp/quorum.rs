//! The quorum a signed message must reach and the verification of a signed message against the
//! canonical validator set of a P-chain height, one check at a time (docs/spec/warp.md §2.7).
//! The message carries no height: the caller must know which set it was signed against.

use super::bls::{BlsError, PublicKey, Signature};
use super::signed::{SignedMessage, SignerSet, SignersError};
use super::validators::CanonicalValidatorSet;

/// A fraction of the total weight that must sign: numerator / denominator, compared exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quorum {
    numerator: u64,
    denominator: u64,
}

/// Why a numerator / denominator pair is not a quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QuorumError {
    #[error("quorum numerator must be positive")]
    ZeroNumerator,
    #[error("quorum {numerator}/{denominator} is more than the whole")]
    AboveOne { numerator: u64, denominator: u64 },
}

impl Quorum {
    /// 67/100: the P-chain's and the Warp precompiles' default (docs/spec/warp.md §2.7).
    pub const DEFAULT: Quorum = Quorum {
        numerator: 67,
        denominator: 100,
    };
    /// 2/3, as AvalancheGo's example xsvm uses (docs/spec/warp.md §2.7).
    pub const TWO_THIRDS: Quorum = Quorum {
        numerator: 2,
        denominator: 3,
    };

    /// A quorum in (0, 1]: a zero numerator would accept no signers, and one above the
    /// denominator could never be met.
    pub fn new(numerator: u64, denominator: u64) -> Result<Self, QuorumError> {
        if numerator == 0 {
            return Err(QuorumError::ZeroNumerator);
        }
        if numerator > denominator {
            return Err(QuorumError::AboveOne {
                numerator,
                denominator,
            });
        }
        Ok(Quorum {
            numerator,
            denominator,
        })
    }

    pub fn numerator(&self) -> u64 {
        self.numerator
    }

    pub fn denominator(&self) -> u64 {
        self.denominator
    }

    /// numerator × total ≤ denominator × signed, exactly (docs/spec/warp.md §2.7 step 5). The
    /// products of two u64 always fit in u128, so this is the big-integer comparison.
    pub fn is_met(&self, signed_weight: u64, total_weight: u64) -> bool {
        u128::from(self.numerator) * u128::from(total_weight)
            <= u128::from(self.denominator) * u128::from(signed_weight)
    }

    /// The least signed weight that meets the quorum: ceil(total × numerator / denominator).
    /// Not the floor AvalancheGo's aggregator stops at, which can fall one signer short
    /// (docs/spec/warp.md §3.7).
    pub fn required_weight(&self, total_weight: u64) -> u64 {
        let scaled = u128::from(self.numerator) * u128::from(total_weight);
        let required = scaled.div_ceil(u128::from(self.denominator));
        // numerator ≤ denominator, so required ≤ total_weight.
        u64::try_from(required).unwrap_or(u64::MAX)
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub signers: SignerSet,
    pub signed_weight: u64,
    pub total_weight: u64,
}

/// The check of docs/spec/warp.md §2.7 that failed, in the order they run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Step 1.
    #[error("message is for network {found}, expected {expected}")]
    WrongNetworkId { expected: u32, found: u32 },
    /// Step 2.
    #[error(transparent)]
    Signers(#[from] SignersError),
    /// Step 3: the bitset names index `bit_len - 1`, past the end of the list.
    #[error("signers bitset has {bit_len} bits but there are {validators} canonical validators")]
    UnknownSigner { bit_len: usize, validators: usize },
    /// Step 5.
    #[error("signers weigh {signed} of {total}, short of {numerator}/{denominator}")]
    InsufficientWeight {
        signed: u64,
        total: u64,
        numerator: u64,
        denominator: u64,
    },
    /// Step 6: the 96 bytes are not a G2 point.
    #[error("aggregate signature: {0}")]
    SignatureEncoding(BlsError),
    /// Step 6: no signers, so no key to check against (possible only if the quorum was met by
    /// a total weight of 0).
    #[error("no signers to aggregate")]
    NoSigners,
    /// Step 6: the pairing check failed: the signers' keys did not sign these bytes.
    #[error("aggregate signature does not verify against the signers' keys")]
    SignatureMismatch,
}

/// Verifies `message` as AvalancheGo's BitSetSignature verification does (docs/spec/warp.md
/// §2.7), returning the first check that fails.
pub fn verify_signed_message(
    message: &SignedMessage,
    expected_network_id: u32,
    validators: &CanonicalValidatorSet,
    quorum: Quorum,
) -> Result<Verified, VerifyError> {
    // 1. The network.
    let found = message.unsigned.network_id();
    if found != expected_network_id {
        return Err(VerifyError::WrongNetworkId {
            expected: expected_network_id,
            found,
        });
    }
    // 2. A minimal bitset.
    let signers = message.signature.signers()?;
    // 3. Every set bit names a canonical validator.
    let list = validators.validators();
    if signers.bit_len() > list.len() {
        return Err(VerifyError::UnknownSigner {
            bit_len: signers.bit_len(),
            validators: list.len(),
        });
    }
    // 4. Their weight; a subset of a list whose sum fit in u64, so it cannot saturate.
    let signed_weight = signers
        .indices()
        .fold(0u64, |sum, index| sum.saturating_add(list[index].weight));
    // 5. The quorum, counting keyless validators in the total.
    let total_weight = validators.total_weight();
    if !quorum.is_met(signed_weight, total_weight) {
        return Err(VerifyError::InsufficientWeight {
            signed: signed_weight,
            total: total_weight,
            numerator: quorum.numerator(),
            denominator: quorum.denominator(),
        });
    }
    // 6. The signature over the unsigned bytes, against the sum of the signers' keys.
    let signature = Signature::from_bytes(message.signature.signature_bytes())
        .map_err(VerifyError::SignatureEncoding)?;
    let key = PublicKey::aggregate(signers.indices().map(|index| &list[index].public_key))
        .map_err(|_| VerifyError::NoSigners)?;
    if !key.verify(&message.unsigned.to_bytes(), &signature) {
        return Err(VerifyError::SignatureMismatch);
    }
    Ok(Verified {
        signers,
        signed_weight,
        total_weight,
    })
}

#[cfg(test)]
mod tests;
