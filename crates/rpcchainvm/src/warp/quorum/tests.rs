//! Verification of the §5.4 signed messages and of every way to spoil one
//! (docs/spec/warp.md §2.7, §5.4; docs/spec/warp-vectors.json `aggregates`).

use super::*;
use crate::warp::test_vectors::*;
use crate::warp::{BitSetSignature, SignedMessage, UnsignedMessage};

/// Byte offsets in the 185-byte signed vector (docs/spec/warp.md §2.2, §2.5).
const NETWORK_ID_AT: usize = 2;
const CHAIN_ID_AT: usize = 6;
const PAYLOAD_AT: usize = 42;
const SIGNERS_AT: usize = 88;
const SIGNATURE_AT: usize = 89;

fn tampered(vector: &VectorAggregate, at: usize, byte: u8) -> SignedMessage {
    let mut bytes = bytes(vector.signed_message_hex);
    bytes[at] = byte;
    SignedMessage::from_bytes(&bytes).expect("a one-byte change keeps the layout")
}

fn verify(message: &SignedMessage, quorum: Quorum) -> Result<Verified, VerifyError> {
    verify_signed_message(message, NETWORK_ID, &canonical_set(), quorum)
}

// docs/spec/warp-vectors.json `aggregates.*.passes_67_100`, `passes_2_3`, `signed_weight`.
#[test]
fn the_vectors_pass_and_fail_as_the_spec_says() {
    for vector in [ALL3, FIRST2] {
        let message = signed_message(&vector);
        for (quorum, passes) in [
            (Quorum::DEFAULT, vector.passes_67_100),
            (Quorum::TWO_THIRDS, vector.passes_2_3),
        ] {
            match verify(&message, quorum) {
                Ok(verified) => {
                    assert!(passes);
                    assert_eq!(verified.signed_weight, vector.signed_weight);
                    assert_eq!(verified.total_weight, vector.total_weight);
                    assert_eq!(
                        verified.signers.indices().collect::<Vec<_>>(),
                        vector.signer_indices
                    );
                }
                Err(err) => {
                    assert!(!passes);
                    assert_eq!(
                        err,
                        VerifyError::InsufficientWeight {
                            signed: vector.signed_weight,
                            total: vector.total_weight,
                            numerator: 67,
                            denominator: 100
                        }
                    );
                }
            }
        }
    }
}

// docs/spec/warp.md §2.7 step 1.
#[test]
fn another_network_is_refused_first() {
    let message = signed_message(&ALL3);
    assert_eq!(
        verify_signed_message(&message, NETWORK_ID + 1, &canonical_set(), Quorum::DEFAULT),
        Err(VerifyError::WrongNetworkId {
            expected: NETWORK_ID + 1,
            found: NETWORK_ID
        })
    );
    // A message whose network ID was changed fails step 1 against the real network, and the
    // pairing check against its own: the signers never signed it.
    let changed = tampered(&ALL3, NETWORK_ID_AT + 3, 0x3a);
    assert!(matches!(
        verify(&changed, Quorum::DEFAULT),
        Err(VerifyError::WrongNetworkId { .. })
    ));
    assert_eq!(
        verify_signed_message(&changed, NETWORK_ID + 1, &canonical_set(), Quorum::DEFAULT),
        Err(VerifyError::SignatureMismatch)
    );
}

// docs/spec/warp.md §2.7 step 6: the signed bytes cover the source chain and the payload.
#[test]
fn a_changed_chain_or_payload_fails_the_pairing_check() {
    for at in [
        CHAIN_ID_AT,
        CHAIN_ID_AT + 31,
        PAYLOAD_AT + 5,
        PAYLOAD_AT + 37,
    ] {
        let original = bytes(ALL3.signed_message_hex)[at];
        let message = tampered(&ALL3, at, original ^ 0x01);
        assert_eq!(
            verify(&message, Quorum::DEFAULT),
            Err(VerifyError::SignatureMismatch),
            "byte {at}"
        );
    }
}

// docs/spec/warp.md §2.4, §2.7 steps 2-3.
#[test]
fn bad_bitsets_are_named() {
    // Bit 3 set with three validators: an unknown signer.
    assert_eq!(
        verify(&tampered(&ALL3, SIGNERS_AT, 0x0f), Quorum::DEFAULT),
        Err(VerifyError::UnknownSigner {
            bit_len: 4,
            validators: 3
        })
    );
    // A zero byte is not minimal.
    assert_eq!(
        verify(&tampered(&ALL3, SIGNERS_AT, 0x00), Quorum::DEFAULT),
        Err(VerifyError::Signers(SignersError::NotMinimal))
    );
    // Claiming fewer signers than signed: enough weight at 2/3, but the keys do not add up.
    assert_eq!(
        verify(&tampered(&ALL3, SIGNERS_AT, 0x06), Quorum::TWO_THIRDS),
        Err(VerifyError::SignatureMismatch)
    );
    // Claiming more signers than signed.
    assert_eq!(
        verify(&tampered(&FIRST2, SIGNERS_AT, 0x07), Quorum::DEFAULT),
        Err(VerifyError::SignatureMismatch)
    );
}

// docs/spec/warp.md §2.6-§2.7 step 6: bytes that are not a G2 point, and a valid point that is
// not the signers' aggregate.
#[test]
fn bad_signature_bytes_are_named() {
    let original = bytes(ALL3.signed_message_hex)[SIGNATURE_AT + 95];
    let flipped = tampered(&ALL3, SIGNATURE_AT + 95, original ^ 0x01);
    assert!(matches!(
        verify(&flipped, Quorum::DEFAULT),
        Err(VerifyError::SignatureEncoding(_))
    ));
    let unflagged = tampered(&ALL3, SIGNATURE_AT, 0x19);
    assert_eq!(
        verify(&unflagged, Quorum::DEFAULT),
        Err(VerifyError::SignatureEncoding(BlsError::BadEncoding(
            "signature"
        )))
    );
    let mut wrong = signed_message(&ALL3);
    let first2 = Signature::from_bytes(&array(FIRST2.aggregate_sig_hex)).unwrap();
    wrong.signature = BitSetSignature::new(&SignerSet::from_indices([0, 1, 2]), &first2);
    assert_eq!(
        verify(&wrong, Quorum::DEFAULT),
        Err(VerifyError::SignatureMismatch)
    );
}

// A key outside the set signs in place of a member: the bitset names the member, so the
// aggregate does not verify.
#[test]
fn a_signature_by_a_non_signer_is_refused() {
    let unsigned = UnsignedMessage::from_bytes(&unsigned()).unwrap();
    let outsider = crate::warp::SecretKey::from_bytes(&[0x42; 32]).unwrap();
    let signatures = [
        secret_key(2).sign(&unsigned.to_bytes()),
        secret_key(1).sign(&unsigned.to_bytes()),
        outsider.sign(&unsigned.to_bytes()),
    ];
    let message = SignedMessage {
        unsigned,
        signature: BitSetSignature::new(
            &SignerSet::from_indices([0, 1, 2]),
            &Signature::aggregate(&signatures).unwrap(),
        ),
    };
    assert_eq!(
        verify(&message, Quorum::DEFAULT),
        Err(VerifyError::SignatureMismatch)
    );
}

// docs/spec/warp.md §2.4: "no signers" fails, on weight when there is any weight, and on the
// missing key when the total is 0.
#[test]
fn no_signers_never_verifies() {
    let mut message = signed_message(&ALL3);
    let signature = Signature::from_bytes(message.signature.signature_bytes()).unwrap();
    message.signature = BitSetSignature::new(&SignerSet::new(), &signature);
    assert!(matches!(
        verify(&message, Quorum::TWO_THIRDS),
        Err(VerifyError::InsufficientWeight { signed: 0, .. })
    ));
    let empty = crate::warp::CanonicalValidatorSet::flatten([]).unwrap();
    assert_eq!(
        verify_signed_message(&message, NETWORK_ID, &empty, Quorum::DEFAULT),
        Err(VerifyError::NoSigners)
    );
}

// docs/spec/warp.md §2.7 and §6 (item 5): exact arithmetic, and the ceiling that the aggregator's floor
// misses (§3.7).
#[test]
fn quorum_arithmetic_is_exact() {
    let q = Quorum::DEFAULT;
    assert!(!q.is_met(200, 300), "67 × 300 = 20100 > 100 × 200 = 20000");
    assert!(q.is_met(300, 300));
    assert!(Quorum::TWO_THIRDS.is_met(200, 300));
    assert!(!Quorum::TWO_THIRDS.is_met(199, 300));
    assert!(!q.is_met(2, 3) && q.is_met(3, 3));
    assert_eq!(q.required_weight(3), 3);
    assert_eq!(q.required_weight(300), 201);
    assert!(q.is_met(201, 300) && !q.is_met(200, 300));
    assert_eq!(Quorum::TWO_THIRDS.required_weight(300), 200);
    assert!(q.is_met(u64::MAX, u64::MAX));
    assert!(!q.is_met(u64::MAX / 100 * 67 - 1, u64::MAX));
    assert_eq!(q.required_weight(u64::MAX), 12_359_318_529_385_399_583);
    assert!(q.is_met(q.required_weight(u64::MAX), u64::MAX));
    assert!(!q.is_met(q.required_weight(u64::MAX) - 1, u64::MAX));
    assert_eq!(Quorum::new(67, 100), Ok(Quorum::DEFAULT));
    assert_eq!(Quorum::new(0, 100), Err(QuorumError::ZeroNumerator));
    assert_eq!(
        Quorum::new(101, 100),
        Err(QuorumError::AboveOne {
            numerator: 101,
            denominator: 100
        })
    );
}
