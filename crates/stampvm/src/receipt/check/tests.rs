//! Real receipts (real blocks of both formats, real BLS keys, unequal weights) pass; every field
//! tampered in turn fails, naming the check that catches it; short stake fails the quorum, and
//! the receipt cannot lower the quorum; no trusted set is "could not check", never valid; a
//! trusted set unlike the receipt's fails. A wrong verdict names the field and format.

use super::*;
use crate::chain::NodeId;
use crate::receipt::fixtures::*;
use rpcchainvm::warp::{CanonicalValidator, SecretKey, SignedMessage, SignerSet, Validator};

fn check(receipt: &Receipt) -> Outcome {
    check_receipt(
        Subject::File(SUBJECT),
        receipt,
        Some(&validator_set()),
        Quorum::DEFAULT,
    )
}

fn failed_check(outcome: &Outcome) -> Option<Check> {
    match outcome {
        Outcome::Invalid { check, .. } => Some(*check),
        _ => None,
    }
}

#[test]
fn a_real_receipt_is_valid_in_both_formats() {
    for format in FORMATS {
        let receipt = receipt(format);
        let valid = Outcome::Valid {
            proven_time_utc: TIME_UTC.into(),
            signed_weight: 450,
            total_weight: TOTAL_WEIGHT,
        };
        assert_eq!(check(&receipt), valid, "{format:?}");
        let by_digest = check_receipt(
            Subject::Digest(digest()),
            &receipt,
            Some(&validator_set()),
            Quorum::DEFAULT,
        );
        assert_eq!(by_digest, valid, "{format:?}");
        assert_eq!(
            valid.to_string(),
            "valid: existed at 2023-11-14T22:13:20Z, signed by validators of weight 450 of 525"
        );
    }
}

/// The signed message with its signers bitset replaced by `bits` (as raw wire bytes, so that
/// malformed bitsets can be written too).
fn with_signer_bytes(message: &SignedMessage, bits: &[u8]) -> SignedMessage {
    let mut bytes = message.unsigned.to_bytes();
    bytes.extend_from_slice(&0u32.to_be_bytes());
    bytes.extend_from_slice(&(bits.len() as u32).to_be_bytes());
    bytes.extend_from_slice(bits);
    bytes.extend_from_slice(message.signature.signature_bytes());
    SignedMessage::from_bytes(&bytes).unwrap()
}

fn flip_first(bytes: &mut [u8]) {
    bytes[0] ^= 1;
}

/// The receipt's set with validator `node`'s key replaced by some other key that keeps the
/// list canonical (ordered by uncompressed key), so the receipt still reads.
fn with_other_key(receipt: &mut Receipt, node: usize) {
    let set = &receipt.validators;
    let index = set.index_of_node(&node_id(node)).unwrap();
    let replaced = (10u8..60)
        .map(|seed| SecretKey::from_bytes(&[seed; 32]).unwrap().public_key())
        .find_map(|public_key| {
            let mut list: Vec<CanonicalValidator> = set.validators().to_vec();
            list[index].public_key = public_key;
            CanonicalValidatorSet::from_canonical(list, set.total_weight()).ok()
        })
        .expect("some key fits between the neighbours");
    receipt.validators = replaced;
}

/// The receipt's set with validator `node`'s weight and the total weight replaced.
fn with_weight(receipt: &mut Receipt, node: usize, weight: u64, total: u64) {
    let set = &receipt.validators;
    let index = set.index_of_node(&node_id(node)).unwrap();
    let mut list: Vec<CanonicalValidator> = set.validators().to_vec();
    list[index].weight = weight;
    receipt.validators = CanonicalValidatorSet::from_canonical(list, total).unwrap();
}

type Edit = fn(&mut Receipt);

/// One tampering: a field, how it is changed, and the check that must catch it.
fn case(field: &'static str, edit: Edit, check: Check) -> (&'static str, Edit, Check) {
    (field, edit, check)
}

/// Every field of the receipt, tampered, and the check that must catch it.
fn tamperings() -> Vec<(&'static str, Edit, Check)> {
    vec![
        case(
            "payload",
            |r| flip_first(&mut r.proof.payload),
            Check::Payload,
        ),
        case(
            "path entry",
            |r| match r.proof.path.first_mut() {
                Some(entry) => flip_first(entry),
                None => r.proof.path.push([0; 32]),
            },
            Check::MerklePath,
        ),
        case("index", |r| r.proof.index ^= 1, Check::MerklePath),
        case("root", |r| flip_first(&mut r.proof.root), Check::MerklePath),
        case("height", |r| r.proof.height += 1, Check::Statement),
        case("time", |r| r.proof.timestamp -= 1, Check::Statement),
        case(
            "block ID",
            |r| flip_first(&mut r.proof.block_id.0),
            Check::Statement,
        ),
        case(
            "chain ID",
            |r| flip_first(&mut r.chain_id.0),
            Check::Statement,
        ),
        case("network ID", |r| r.network_id += 1, Check::Statement),
        case(
            "signer bits: not minimal",
            |r| {
                let bits = [&[0][..], r.signed_message.signature.signers_bytes()].concat();
                r.signed_message = with_signer_bytes(&r.signed_message, &bits);
            },
            Check::SignerBits,
        ),
        case(
            "signer bits: a validator past the end",
            |r| r.signed_message = with_signer_bytes(&r.signed_message, &[0x1f]),
            Check::SignerBits,
        ),
        case(
            "signer bits: one more signer named",
            |r| r.signed_message = with_signer_bytes(&r.signed_message, &[0x0f]),
            Check::Signature,
        ),
        case(
            "signer bits: one signer dropped",
            |r| {
                // Any two of the three signers weigh 350 or less of 525: short of 67/100.
                let set = validator_set();
                let keep = [2, 3].map(|i| set.index_of_node(&node_id(i)).unwrap());
                let bits = SignerSet::from_indices(keep).to_bytes();
                r.signed_message = with_signer_bytes(&r.signed_message, &bits);
            },
            Check::Quorum,
        ),
        case(
            "signature: one bit",
            |r| {
                let mut bytes = r.signed_message.to_bytes();
                let last = bytes.len() - 1;
                bytes[last] ^= 1;
                r.signed_message = SignedMessage::from_bytes(&bytes).unwrap();
            },
            Check::Signature,
        ),
        case(
            "signature: another message's",
            |r| {
                let mut other =
                    Statement::from_unsigned_message(&r.signed_message.unsigned).unwrap();
                other.height += 1;
                let forged = sign(&other, &SIGNERS);
                r.signed_message.signature = forged.signature;
            },
            Check::Signature,
        ),
        case("a signer's key", |r| with_other_key(r, 3), Check::Signature),
        case(
            "a non-signer's key",
            |r| with_other_key(r, 0),
            Check::ValidatorSet,
        ),
        case(
            "a non-signer's weight",
            |r| with_weight(r, 0, 51, TOTAL_WEIGHT + 1),
            Check::ValidatorSet,
        ),
        case(
            "a signer's weight, quorum still met",
            |r| with_weight(r, 3, 100, TOTAL_WEIGHT - 100),
            Check::ValidatorSet,
        ),
        case(
            "a signer's weight, quorum no longer met",
            |r| with_weight(r, 3, 10, TOTAL_WEIGHT),
            Check::Quorum,
        ),
        case(
            "the total weight",
            |r| {
                let list = r.validators.validators().to_vec();
                r.validators =
                    CanonicalValidatorSet::from_canonical(list, TOTAL_WEIGHT - 1).unwrap();
            },
            Check::ValidatorSet,
        ),
    ]
}

#[test]
fn every_field_tampered_fails_the_check_that_covers_it() {
    for format in FORMATS {
        for (field, edit, expected) in tamperings() {
            let mut receipt = receipt(format);
            edit(&mut receipt);
            let outcome = check(&receipt);
            assert_eq!(
                failed_check(&outcome),
                Some(expected),
                "{field} in a {format:?} receipt: {outcome}"
            );
            // The tampered receipt still writes and reads: these are lies, not typos.
            assert_eq!(
                Receipt::from_json(receipt.to_json().as_bytes()),
                Ok(receipt)
            );
        }
    }
}

#[test]
fn a_tampered_count_is_caught_by_the_path_or_the_statement() {
    // One payload: count 2 makes the empty path too short.
    let mut single = receipt(Format::Single);
    single.proof.count = 2;
    assert_eq!(failed_check(&check(&single)), Some(Check::MerklePath));
    // Leaf 3 of 5 has the same path as leaf 3 of 6 (RFC 9162 binds the count with the root);
    // the signed statement binds it here.
    let mut batched = receipt(Format::Batched);
    batched.proof.count = 6;
    assert!(batched.proof.path_is_valid());
    let outcome = check(&batched);
    assert_eq!(failed_check(&outcome), Some(Check::Statement));
    assert!(
        outcome
            .to_string()
            .contains("payload count 5, the receipt says 6"),
        "{outcome}"
    );
}

#[test]
fn statement_details_name_the_field() {
    let mut receipt = receipt(Format::Batched);
    receipt.proof.height = 10;
    assert_eq!(
        check(&receipt).to_string(),
        "invalid (statement): the signed statement says height 9, the receipt says 10"
    );
}

#[test]
fn another_file_fails_the_payload_check() {
    let receipt = receipt(Format::Single);
    let outcome = check_receipt(
        Subject::File(b"another document"),
        &receipt,
        Some(&validator_set()),
        Quorum::DEFAULT,
    );
    assert_eq!(failed_check(&outcome), Some(Check::Payload));
}

#[test]
fn too_little_stake_fails_the_quorum_and_a_receipt_cannot_lower_it() {
    for format in FORMATS {
        let short = receipt_signed_by(format, &TOO_FEW);
        let outcome = check(&short);
        assert_eq!(failed_check(&outcome), Some(Check::Quorum), "{outcome}");
        assert!(outcome.to_string().contains("350 of 525"), "{outcome}");
        // The receipt claims a low bar; the checker's minimum still applies.
        let lowered = Receipt {
            quorum: Quorum::new(1, 100).unwrap(),
            ..short.clone()
        };
        assert_eq!(failed_check(&check(&lowered)), Some(Check::Quorum));
        // A checker may accept less, as subnet-evm's configurable quorum does.
        let lenient = check_receipt(
            Subject::File(SUBJECT),
            &lowered,
            Some(&validator_set()),
            Quorum::new(1, 2).unwrap(),
        );
        assert!(
            matches!(
                lenient,
                Outcome::Valid {
                    signed_weight: 350,
                    ..
                }
            ),
            "{lenient}"
        );
        // A receipt may raise the bar, and the checker may too.
        let strict_receipt = Receipt {
            quorum: Quorum::new(9, 10).unwrap(),
            ..receipt(format)
        };
        assert_eq!(failed_check(&check(&strict_receipt)), Some(Check::Quorum));
        let strict_checker = check_receipt(
            Subject::File(SUBJECT),
            &receipt(format),
            Some(&validator_set()),
            Quorum::new(9, 10).unwrap(),
        );
        assert_eq!(failed_check(&strict_checker), Some(Check::Quorum));
    }
}

#[test]
fn without_a_trusted_set_a_good_receipt_cannot_be_checked_and_a_bad_one_is_invalid() {
    for format in FORMATS {
        let outcome = check_receipt(
            Subject::File(SUBJECT),
            &receipt(format),
            None,
            Quorum::DEFAULT,
        );
        assert_eq!(
            outcome,
            Outcome::CannotCheck {
                why: CannotCheckReason::NoTrustedValidatorSet
            }
        );
        assert_eq!(
            outcome.to_string(),
            "could not check: no trusted validator set"
        );
        // Made-up validators sign anything; without a trusted set that is all one can tell.
        let mut forged = receipt(format);
        with_other_key(&mut forged, 3);
        let outcome = check_receipt(Subject::File(SUBJECT), &forged, None, Quorum::DEFAULT);
        assert_eq!(failed_check(&outcome), Some(Check::Signature));
        for (field, edit, _) in tamperings() {
            let mut receipt = receipt(format);
            edit(&mut receipt);
            let outcome = check_receipt(Subject::File(SUBJECT), &receipt, None, Quorum::DEFAULT);
            assert!(
                !matches!(outcome, Outcome::Valid { .. }),
                "{field}: {outcome}"
            );
        }
    }
}

#[test]
fn a_trusted_set_unlike_the_receipts_fails_the_validator_set_check() {
    let receipt = receipt(Format::Batched);
    let base = validator_set();
    let list = || base.validators().to_vec();
    let index = base.index_of_node(&node_id(2)).unwrap();
    let mut heavier = list();
    heavier[index].weight += 1;
    let mut other_node = list();
    other_node[index].node_ids = vec![NodeId([0x99; 20])];
    let mut shuffled_nodes = list();
    shuffled_nodes[index].node_ids = vec![NodeId([0x99; 20]), node_id(2)];
    let mut receipt_with_two_nodes = receipt.clone();
    let mut two_nodes = list();
    two_nodes[index].node_ids = vec![node_id(2), NodeId([0x99; 20])];
    receipt_with_two_nodes.validators =
        CanonicalValidatorSet::from_canonical(two_nodes, TOTAL_WEIGHT).unwrap();
    let cases = [
        (
            "weight",
            CanonicalValidatorSet::from_canonical(heavier, TOTAL_WEIGHT + 1),
        ),
        (
            "total",
            CanonicalValidatorSet::from_canonical(list(), TOTAL_WEIGHT + 5),
        ),
        (
            "fewer validators",
            CanonicalValidatorSet::from_canonical(list()[1..].to_vec(), TOTAL_WEIGHT),
        ),
        (
            "node ID",
            CanonicalValidatorSet::from_canonical(other_node, TOTAL_WEIGHT),
        ),
    ];
    for (what, trusted) in cases {
        let trusted = trusted.unwrap();
        let outcome = check_receipt(
            Subject::File(SUBJECT),
            &receipt,
            Some(&trusted),
            Quorum::DEFAULT,
        );
        assert_eq!(
            failed_check(&outcome),
            Some(Check::ValidatorSet),
            "{what}: {outcome}"
        );
    }
    // Another key: a set whose keys are all different.
    let strangers = CanonicalValidatorSet::flatten((0..4).map(|i| {
        Validator {
            node_id: node_id(i),
            weight: WEIGHTS[i],
            public_key: Some(
                SecretKey::from_bytes(&[0x50 + i as u8; 32])
                    .unwrap()
                    .public_key(),
            ),
        }
    }))
    .unwrap();
    let strangers =
        CanonicalValidatorSet::from_canonical(strangers.validators().to_vec(), TOTAL_WEIGHT)
            .unwrap();
    let outcome = check_receipt(
        Subject::File(SUBJECT),
        &receipt,
        Some(&strangers),
        Quorum::DEFAULT,
    );
    assert_eq!(
        failed_check(&outcome),
        Some(Check::ValidatorSet),
        "{outcome}"
    );
    assert!(outcome.to_string().contains("BLS key"), "{outcome}");
    // The order of node IDs inside an entry is unspecified (docs/spec/warp.md §4.1).
    let trusted = CanonicalValidatorSet::from_canonical(shuffled_nodes, TOTAL_WEIGHT).unwrap();
    let outcome = check_receipt(
        Subject::File(SUBJECT),
        &receipt_with_two_nodes,
        Some(&trusted),
        Quorum::DEFAULT,
    );
    assert!(matches!(outcome, Outcome::Valid { .. }), "{outcome}");
}

#[test]
fn checks_are_named_in_reports() {
    let names: Vec<&str> = [
        Check::Payload,
        Check::MerklePath,
        Check::Statement,
        Check::SignerBits,
        Check::Quorum,
        Check::Signature,
        Check::ValidatorSet,
    ]
    .map(Check::name)
    .to_vec();
    assert_eq!(
        names,
        [
            "payload",
            "merkle path",
            "statement",
            "signer bits",
            "quorum",
            "signature",
            "validator set"
        ]
    );
}
