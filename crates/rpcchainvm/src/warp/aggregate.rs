//! Adding individual validators' signatures up into a signed message, as AvalancheGo's ACP-118
//! aggregator does (docs/spec/warp.md §3.7), without the networking: the caller asks the nodes
//! [`SignatureCollector::pending_nodes`] names and feeds each answer to
//! [`SignatureCollector::add`]. Two differences from AvalancheGo, both the spec's advice: "enough"
//! is the exact inequality of §2.7, not the floor that can stop one signer short, and
//! [`SignatureCollector::finish`] refuses to build a message that would not verify.

use super::bls::{BlsError, Signature};
use super::codec::UnsignedMessage;
use super::quorum::Quorum;
use super::signed::{BitSetSignature, SignedMessage, SignerSet};
use super::validators::CanonicalValidatorSet;
use crate::ids::NodeId;

/// What [`SignatureCollector::add`] did with a valid signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    /// A new canonical index signed; `signed_weight` is the running total.
    Added { index: usize, signed_weight: u64 },
    /// The index already had a signature (nodes that share a key, or a repeated answer); the
    /// signature was dropped (docs/spec/warp.md §3.7).
    AlreadySigned { index: usize },
}

/// Why a signature was not added, or why no signed message could be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    #[error("{0} is not in the validator set")]
    UnknownNode(NodeId),
    /// The signature is a valid point but not this validator's signature of this message.
    #[error("signature from {0} does not verify against its key")]
    InvalidSignature(NodeId),
    #[error("signers weigh {signed} of {total}, short of the quorum ({required} needed)")]
    QuorumNotMet {
        signed: u64,
        total: u64,
        required: u64,
    },
    #[error(transparent)]
    Bls(#[from] BlsError),
}

/// Collects verified signatures of one unsigned message from the validators of one canonical
/// set until their weight meets a quorum.
#[derive(Debug, Clone)]
pub struct SignatureCollector {
    message: UnsignedMessage,
    message_bytes: Vec<u8>,
    validators: CanonicalValidatorSet,
    quorum: Quorum,
    signers: SignerSet,
    signatures: Vec<Signature>,
    signed_weight: u64,
}

impl SignatureCollector {
    pub fn new(
        message: UnsignedMessage,
        validators: CanonicalValidatorSet,
        quorum: Quorum,
    ) -> Self {
        let message_bytes = message.to_bytes();
        SignatureCollector {
            message,
            message_bytes,
            validators,
            quorum,
            signers: SignerSet::new(),
            signatures: Vec::new(),
            signed_weight: 0,
        }
    }

    /// The nodes worth asking: every node of every canonical validator that has not signed
    /// (docs/spec/warp.md §3.7).
    pub fn pending_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.validators
            .validators()
            .iter()
            .enumerate()
            .filter(|(index, _)| !self.signers.contains(*index))
            .flat_map(|(_, validator)| validator.node_ids.iter().copied())
    }

    /// Checks `signature` against the key of `node_id`'s canonical entry and, if it verifies
    /// and that entry has not signed yet, adds it (docs/spec/warp.md §3.7).
    pub fn add(
        &mut self,
        node_id: &NodeId,
        signature: &Signature,
    ) -> Result<AddOutcome, CollectError> {
        let index = self
            .validators
            .index_of_node(node_id)
            .ok_or(CollectError::UnknownNode(*node_id))?;
        let validator = &self.validators.validators()[index];
        if !validator.public_key.verify(&self.message_bytes, signature) {
            return Err(CollectError::InvalidSignature(*node_id));
        }
        if !self.signers.insert(index) {
            return Ok(AddOutcome::AlreadySigned { index });
        }
        self.signatures.push(*signature);
        // Bounded by the set's total weight, which fits in u64.
        self.signed_weight = self.signed_weight.saturating_add(validator.weight);
        Ok(AddOutcome::Added {
            index,
            signed_weight: self.signed_weight,
        })
    }

    pub fn signed_weight(&self) -> u64 {
        self.signed_weight
    }

    /// Whether the signatures so far meet the quorum exactly as verification will check it.
    pub fn has_quorum(&self) -> bool {
        self.quorum
            .is_met(self.signed_weight, self.validators.total_weight())
    }

    /// The signed message, if the quorum is met. Every part was verified on the way in, so the
    /// result passes [`crate::warp::verify_signed_message`] against the same set and quorum.
    pub fn finish(self) -> Result<SignedMessage, CollectError> {
        let total = self.validators.total_weight();
        if !self.has_quorum() || self.signatures.is_empty() {
            return Err(CollectError::QuorumNotMet {
                signed: self.signed_weight,
                total,
                required: self.quorum.required_weight(total),
            });
        }
        let aggregate = Signature::aggregate(&self.signatures)?;
        Ok(SignedMessage {
            signature: BitSetSignature::new(&self.signers, &aggregate),
            unsigned: self.message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warp::test_vectors::*;
    use crate::warp::{verify_signed_message, CanonicalValidatorSet, Validator};

    fn collector(quorum: Quorum) -> SignatureCollector {
        SignatureCollector::new(
            UnsignedMessage::from_bytes(&unsigned()).unwrap(),
            canonical_set(),
            quorum,
        )
    }

    fn node(index: usize) -> NodeId {
        NodeId(array(VALIDATORS[index].node_id_hex))
    }

    fn vector_signature(index: usize) -> Signature {
        Signature::from_bytes(&array(VALIDATORS[index].sig_hex)).unwrap()
    }

    // docs/spec/warp.md §5.4: the three vector signatures, added in any order, give the `all3`
    // signed message byte for byte.
    #[test]
    fn all_three_signatures_build_the_all3_vector() {
        let mut collector = collector(Quorum::DEFAULT);
        assert_eq!(collector.pending_nodes().count(), 3);
        for (step, index) in [0, 2, 1].into_iter().enumerate() {
            assert!(!collector.has_quorum());
            let outcome = collector
                .add(&node(index), &vector_signature(index))
                .unwrap();
            let canonical = CANONICAL_ORDER.iter().position(|&i| i == index).unwrap();
            assert_eq!(
                outcome,
                AddOutcome::Added {
                    index: canonical,
                    signed_weight: 100 * (step as u64 + 1)
                }
            );
        }
        assert!(collector.has_quorum());
        assert_eq!(collector.pending_nodes().count(), 0);
        let message = collector.finish().unwrap();
        assert_eq!(hex::encode(message.to_bytes()), ALL3.signed_message_hex);
    }

    // docs/spec/warp.md §5.4 `first2` and §6.5: two of three meet 2/3 but not 67/100.
    #[test]
    fn two_signatures_meet_two_thirds_only() {
        for (quorum, enough) in [(Quorum::TWO_THIRDS, true), (Quorum::DEFAULT, false)] {
            let mut collector = collector(quorum);
            collector.add(&node(2), &vector_signature(2)).unwrap();
            collector.add(&node(1), &vector_signature(1)).unwrap();
            assert_eq!(collector.has_quorum(), enough);
            assert_eq!(collector.pending_nodes().collect::<Vec<_>>(), vec![node(0)]);
            match collector.finish() {
                Ok(message) => {
                    assert!(enough);
                    assert_eq!(hex::encode(message.to_bytes()), FIRST2.signed_message_hex);
                    verify_signed_message(&message, NETWORK_ID, &canonical_set(), quorum).unwrap();
                }
                Err(err) => {
                    assert!(!enough);
                    assert_eq!(
                        err,
                        CollectError::QuorumNotMet {
                            signed: 200,
                            total: 300,
                            required: 201
                        }
                    );
                }
            }
        }
    }

    #[test]
    fn wrong_signer_unknown_node_and_repeats_are_handled() {
        let mut collector = collector(Quorum::DEFAULT);
        assert_eq!(
            collector.add(&node(0), &vector_signature(1)),
            Err(CollectError::InvalidSignature(node(0)))
        );
        assert_eq!(
            collector.add(&NodeId([7; 20]), &vector_signature(0)),
            Err(CollectError::UnknownNode(NodeId([7; 20])))
        );
        collector.add(&node(0), &vector_signature(0)).unwrap();
        assert_eq!(
            collector.add(&node(0), &vector_signature(0)),
            Ok(AddOutcome::AlreadySigned { index: 2 })
        );
        assert_eq!(collector.signed_weight(), 100);
    }

    // docs/spec/warp.md §3.7: nodes sharing a key are one canonical index; the second answer
    // is dropped.
    #[test]
    fn nodes_sharing_a_key_sign_once() {
        let twin = Validator {
            node_id: NodeId([1; 20]),
            ..validator(0)
        };
        let set = CanonicalValidatorSet::flatten((0..3).map(validator).chain([twin])).unwrap();
        let mut collector = SignatureCollector::new(
            UnsignedMessage::from_bytes(&unsigned()).unwrap(),
            set,
            Quorum::DEFAULT,
        );
        assert_eq!(collector.pending_nodes().count(), 4);
        collector.add(&node(0), &vector_signature(0)).unwrap();
        assert_eq!(collector.pending_nodes().count(), 2);
        assert_eq!(
            collector.add(&NodeId([1; 20]), &vector_signature(0)),
            Ok(AddOutcome::AlreadySigned { index: 2 })
        );
        assert_eq!(collector.signed_weight(), 200);
    }

    #[test]
    fn nothing_collected_is_not_a_message() {
        assert!(matches!(
            collector(Quorum::DEFAULT).finish(),
            Err(CollectError::QuorumNotMet { signed: 0, .. })
        ));
        let empty = SignatureCollector::new(
            UnsignedMessage::from_bytes(&unsigned()).unwrap(),
            CanonicalValidatorSet::flatten([]).unwrap(),
            Quorum::DEFAULT,
        );
        assert!(empty.has_quorum());
        assert!(matches!(
            empty.finish(),
            Err(CollectError::QuorumNotMet { .. })
        ));
    }
}
