//! The **offline verification** of a receipt: does it prove that this file (or digest) existed at
//! the block's time, on the word of a validator set the user trusts? No node, no network.
//!
//! The checks run in a fixed order and the first that fails is the verdict, so a receipt has one
//! answer and the user learns which part of it is wrong:
//! 1. [`Check::Payload`]: the file's SHA-256 (or the digest given) is the receipt's payload.
//! 2. [`Check::MerklePath`]: the audit path leads from the payload to the receipt's root.
//! 3. [`Check::Statement`]: the signed message is the statement ([`super::statement`]) of the
//!    receipt's network, chain, height, block ID, time, root and payload count.
//! 4. The Warp signature against the receipt's validator set (docs/spec/warp.md §2.7), as
//!    [`verify_signed_message`] runs it: [`Check::SignerBits`] (a minimal bitset naming existing
//!    validators), [`Check::Quorum`] (the signers' weight), [`Check::Signature`] (the aggregate
//!    BLS signature over the statement's bytes).
//! 5. [`Check::ValidatorSet`]: the receipt's set is the trusted one.
//!
//! Steps 1–4 show the receipt is consistent with itself; only step 5 ties it to real validators,
//! since anyone can make up keys, sign with them and list them. So with no trusted set the
//! outcome is [`Outcome::CannotCheck`], never [`Outcome::Valid`].
//!
//! The quorum applied is the stricter of the receipt's own and the caller's minimum: a receipt
//! can raise the bar it must clear, never lower it.

use super::document::Receipt;
use super::statement::Statement;
use crate::chain::{Id, Payload};
use rpcchainvm::warp::{verify_signed_message, CanonicalValidatorSet, Quorum, VerifyError};
use std::fmt;

/// What a receipt is checked against: the file itself, or its SHA-256 when only that is at hand.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    File(&'a [u8]),
    Digest(Payload),
}

impl Subject<'_> {
    /// What a payload must be to prove this subject: the file's SHA-256 (what `sha256sum`
    /// prints and the README's stamping recipe submits).
    pub fn digest(&self) -> Payload {
        match self {
            Subject::File(bytes) => Id::sha256(bytes).0,
            Subject::Digest(digest) => *digest,
        }
    }
}

/// The checks, in the order they run (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    Payload,
    MerklePath,
    Statement,
    SignerBits,
    Quorum,
    Signature,
    ValidatorSet,
}

impl Check {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Check::Payload => "payload",
            Check::MerklePath => "merkle path",
            Check::Statement => "statement",
            Check::SignerBits => "signer bits",
            Check::Quorum => "quorum",
            Check::Signature => "signature",
            Check::ValidatorSet => "validator set",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a receipt that passed every check it could still gets no verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CannotCheckReason {
    /// The signatures check out against the receipt's own validator set, but nothing says that
    /// set is the chain's.
    #[error("no trusted validator set")]
    NoTrustedValidatorSet,
}

/// The verdict. A CLI maps `Valid`, `Invalid` and `CannotCheck` to exit codes 0, 1 and 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every check passed, the last against the trusted set.
    Valid {
        /// The block's time, RFC 3339 UTC: the subject existed then.
        proven_time_utc: String,
        signed_weight: u64,
        total_weight: u64,
    },
    /// `check` failed (the first to fail); `detail` says how.
    Invalid {
        check: Check,
        detail: String,
    },
    CannotCheck {
        why: CannotCheckReason,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Valid {
                proven_time_utc,
                signed_weight,
                total_weight,
            } => write!(
                f,
                "valid: existed at {proven_time_utc}, signed by validators of weight \
                 {signed_weight} of {total_weight}"
            ),
            Outcome::Invalid { check, detail } => write!(f, "invalid ({check}): {detail}"),
            Outcome::CannotCheck { why } => write!(f, "could not check: {why}"),
        }
    }
}

/// Checks `receipt` for `subject` (see the module docs for the order). `trusted` is the set the
/// user pinned for the receipt's P-chain height ([`super::validator_set_from_json`]);
/// `minimum_quorum` is the least share of weight the user accepts ([`Quorum::DEFAULT`] is the
/// Warp precompiles' 67/100, docs/spec/warp.md §2.7).
pub fn check_receipt(
    subject: Subject<'_>,
    receipt: &Receipt,
    trusted: Option<&CanonicalValidatorSet>,
    minimum_quorum: Quorum,
) -> Outcome {
    match run_checks(subject, receipt, trusted, minimum_quorum) {
        Ok(outcome) => outcome,
        Err((check, detail)) => Outcome::Invalid { check, detail },
    }
}

fn run_checks(
    subject: Subject<'_>,
    receipt: &Receipt,
    trusted: Option<&CanonicalValidatorSet>,
    minimum_quorum: Quorum,
) -> Result<Outcome, (Check, String)> {
    let proof = &receipt.proof;
    // 1. The subject is the payload.
    let digest = subject.digest();
    if digest != proof.payload {
        return Err((
            Check::Payload,
            format!(
                "the subject's SHA-256 is {}, the receipt proves {}",
                hex::encode(digest),
                hex::encode(proof.payload)
            ),
        ));
    }
    // 2. The payload is under the root.
    if !proof.path_is_valid() {
        return Err((
            Check::MerklePath,
            format!(
                "the audit path does not lead from the payload to the root (leaf {} of {})",
                proof.index, proof.count
            ),
        ));
    }
    // 3. What was signed is the statement of this receipt's block.
    let signed = Statement::from_unsigned_message(&receipt.signed_message.unsigned)
        .map_err(|error| (Check::Statement, error.to_string()))?;
    let expected = Statement {
        network_id: receipt.network_id,
        chain_id: receipt.chain_id,
        height: proof.height,
        block_id: proof.block_id,
        timestamp: proof.timestamp,
        root: proof.root,
        count: proof.count,
    };
    if let Some(detail) = statement_difference(&signed, &expected) {
        return Err((Check::Statement, detail));
    }
    // 4. Enough of the receipt's validators signed it.
    let quorum = stricter(receipt.quorum, minimum_quorum);
    let verified = verify_signed_message(
        &receipt.signed_message,
        receipt.network_id,
        &receipt.validators,
        quorum,
    )
    .map_err(|error| (warp_check(&error), error.to_string()))?;
    // 5. Those validators are the ones the user trusts.
    let Some(trusted) = trusted else {
        return Ok(Outcome::CannotCheck {
            why: CannotCheckReason::NoTrustedValidatorSet,
        });
    };
    if let Some(detail) = set_difference(&receipt.validators, trusted) {
        return Err((Check::ValidatorSet, detail));
    }
    Ok(Outcome::Valid {
        proven_time_utc: rpcchainvm::utc::rfc3339(proof.timestamp),
        signed_weight: verified.signed_weight,
        total_weight: verified.total_weight,
    })
}

/// Which of our checks a Warp verification error belongs to. A wrong network cannot reach here
/// (step 3 compared it), but is a statement mismatch if it ever does.
fn warp_check(error: &VerifyError) -> Check {
    match error {
        VerifyError::WrongNetworkId { .. } => Check::Statement,
        VerifyError::Signers(_) | VerifyError::UnknownSigner { .. } => Check::SignerBits,
        VerifyError::InsufficientWeight { .. } => Check::Quorum,
        VerifyError::SignatureEncoding(_)
        | VerifyError::NoSigners
        | VerifyError::SignatureMismatch => Check::Signature,
    }
}

/// The higher of two fractions, compared exactly (a/b ≥ c/d ⇔ a·d ≥ c·b; products fit u128).
fn stricter(a: Quorum, b: Quorum) -> Quorum {
    let a_scaled = u128::from(a.numerator()) * u128::from(b.denominator());
    let b_scaled = u128::from(b.numerator()) * u128::from(a.denominator());
    if a_scaled >= b_scaled {
        a
    } else {
        b
    }
}

/// The first field in which the signed statement differs from the receipt's, said in words.
fn statement_difference(signed: &Statement, receipt: &Statement) -> Option<String> {
    let differs = |field: &str, signed: String, receipt: String| {
        Some(format!(
            "the signed statement says {field} {signed}, the receipt says {receipt}"
        ))
    };
    if signed.network_id != receipt.network_id {
        return differs(
            "network ID",
            signed.network_id.to_string(),
            receipt.network_id.to_string(),
        );
    }
    if signed.chain_id != receipt.chain_id {
        return differs(
            "chain ID",
            signed.chain_id.to_string(),
            receipt.chain_id.to_string(),
        );
    }
    if signed.height != receipt.height {
        return differs(
            "height",
            signed.height.to_string(),
            receipt.height.to_string(),
        );
    }
    if signed.block_id != receipt.block_id {
        return differs(
            "block ID",
            signed.block_id.to_string(),
            receipt.block_id.to_string(),
        );
    }
    if signed.timestamp != receipt.timestamp {
        return differs(
            "timestamp",
            signed.timestamp.to_string(),
            receipt.timestamp.to_string(),
        );
    }
    if signed.root != receipt.root {
        return differs("root", hex::encode(signed.root), hex::encode(receipt.root));
    }
    if signed.count != receipt.count {
        return differs(
            "payload count",
            signed.count.to_string(),
            receipt.count.to_string(),
        );
    }
    None
}

/// The first difference between the receipt's set and the trusted one, in words. Keys, weights,
/// the total and each entry's node IDs (as a set: their order inside an entry is unspecified,
/// docs/spec/warp.md §4.1) must all agree.
fn set_difference(
    receipt: &CanonicalValidatorSet,
    trusted: &CanonicalValidatorSet,
) -> Option<String> {
    if receipt.total_weight() != trusted.total_weight() {
        return Some(format!(
            "total weight {} in the receipt, {} in the trusted set",
            receipt.total_weight(),
            trusted.total_weight()
        ));
    }
    let (ours, theirs) = (receipt.validators(), trusted.validators());
    if ours.len() != theirs.len() {
        return Some(format!(
            "{} validators in the receipt, {} in the trusted set",
            ours.len(),
            theirs.len()
        ));
    }
    for (index, (ours, theirs)) in ours.iter().zip(theirs).enumerate() {
        if ours.public_key != theirs.public_key {
            return Some(format!(
                "validator {index}: the receipt's BLS key {} is not the trusted {}",
                hex::encode(ours.public_key.to_compressed()),
                hex::encode(theirs.public_key.to_compressed())
            ));
        }
        if ours.weight != theirs.weight {
            return Some(format!(
                "validator {index}: weight {} in the receipt, {} in the trusted set",
                ours.weight, theirs.weight
            ));
        }
        let mut our_nodes = ours.node_ids.clone();
        let mut their_nodes = theirs.node_ids.clone();
        our_nodes.sort();
        their_nodes.sort();
        if our_nodes != their_nodes {
            return Some(format!(
                "validator {index}: node IDs {our_nodes:?} in the receipt, {their_nodes:?} in \
                 the trusted set"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests;
