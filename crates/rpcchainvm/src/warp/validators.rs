//! A validator set at one P-chain height, flattened into the canonical list whose indices the
//! signers bitset refers to (docs/spec/warp.md §4.1). Signer and verifier must build the same
//! list from the same set, or a bitset names the wrong keys and the signature does not verify.

use super::bls::PublicKey;
use crate::ids::NodeId;
use std::collections::{BTreeMap, HashSet};

/// One validator as the P-chain lists it for a subnet: the raw, per-node form
/// (`ValidatorState.GetValidatorSet`, `platform.getValidatorsAt`; docs/spec/warp.md §1.4, §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validator {
    pub node_id: NodeId,
    pub weight: u64,
    /// `None` for a validator without a BLS key: it counts toward the total weight but can
    /// never sign (docs/spec/warp.md §4.1).
    pub public_key: Option<PublicKey>,
}

/// One entry of the canonical list: every node that shares a key, with their summed weight
/// (docs/spec/warp.md §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalValidator {
    pub public_key: PublicKey,
    pub weight: u64,
    /// Never empty; ascending, though the spec leaves the order inside an entry open.
    pub node_ids: Vec<NodeId>,
}

/// Why a validator set cannot be made canonical.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// The weights add up past u64; the P-chain leaves such a subnet out (docs/spec/warp.md §1.4).
    #[error("validator weights overflow u64")]
    WeightOverflow,
    #[error("{0} is listed twice")]
    DuplicateNodeId(NodeId),
    #[error("canonical validator {index} has no node IDs")]
    NoNodeIds { index: usize },
    /// A served list not strictly ascending by uncompressed key (docs/spec/warp.md §4.1).
    #[error("canonical validator {index} is not after the one before it by uncompressed key")]
    NotCanonical { index: usize },
    #[error("listed validators weigh {listed}, more than the total weight {total}")]
    TotalBelowListed { listed: u64, total: u64 },
}

/// The canonical list and the total weight a quorum is measured against. The total counts
/// validators without a key (docs/spec/warp.md §4.1 step 1), so it can exceed the list's sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalValidatorSet {
    validators: Vec<CanonicalValidator>,
    total_weight: u64,
}

impl CanonicalValidatorSet {
    /// Flattens a raw set (docs/spec/warp.md §4.1): totals every weight (overflow is an error),
    /// skips validators without a key, merges validators sharing a key, and sorts by the 96-byte
    /// uncompressed key. Each node may appear once.
    pub fn flatten(
        validators: impl IntoIterator<Item = Validator>,
    ) -> Result<Self, ValidatorSetError> {
        let mut total_weight = 0u64;
        let mut seen = HashSet::new();
        let mut by_key: BTreeMap<[u8; 96], CanonicalValidator> = BTreeMap::new();
        for validator in validators {
            if !seen.insert(validator.node_id) {
                return Err(ValidatorSetError::DuplicateNodeId(validator.node_id));
            }
            total_weight = total_weight
                .checked_add(validator.weight)
                .ok_or(ValidatorSetError::WeightOverflow)?;
            let Some(public_key) = validator.public_key else {
                continue;
            };
            let entry = by_key
                .entry(public_key.to_uncompressed())
                .or_insert_with(|| CanonicalValidator {
                    public_key,
                    weight: 0,
                    node_ids: Vec::new(),
                });
            // Cannot overflow: bounded by the total, which did not.
            entry.weight += validator.weight;
            entry.node_ids.push(validator.node_id);
        }
        let validators = by_key
            .into_values()
            .map(|mut entry| {
                entry.node_ids.sort();
                entry
            })
            .collect();
        Ok(CanonicalValidatorSet {
            validators,
            total_weight,
        })
    }

    /// Takes a list that is already canonical, as `GetWarpValidatorSets` and
    /// `platform.getAllValidatorsAt` serve it (docs/spec/warp.md §1.4, §4.3), and checks that it
    /// is: keys strictly ascending by uncompressed form (so no key twice), every entry with a
    /// node, and listed weights summing to no more than `total_weight`.
    pub fn from_canonical(
        validators: Vec<CanonicalValidator>,
        total_weight: u64,
    ) -> Result<Self, ValidatorSetError> {
        let mut listed = 0u64;
        let mut previous: Option<[u8; 96]> = None;
        for (index, validator) in validators.iter().enumerate() {
            if validator.node_ids.is_empty() {
                return Err(ValidatorSetError::NoNodeIds { index });
            }
            let key = validator.public_key.to_uncompressed();
            if previous.is_some_and(|previous| previous >= key) {
                return Err(ValidatorSetError::NotCanonical { index });
            }
            previous = Some(key);
            listed = listed
                .checked_add(validator.weight)
                .ok_or(ValidatorSetError::WeightOverflow)?;
        }
        if listed > total_weight {
            return Err(ValidatorSetError::TotalBelowListed {
                listed,
                total: total_weight,
            });
        }
        Ok(CanonicalValidatorSet {
            validators,
            total_weight,
        })
    }

    /// The list in canonical order: index i is bit i of a signers bitset.
    pub fn validators(&self) -> &[CanonicalValidator] {
        &self.validators
    }

    pub fn total_weight(&self) -> u64 {
        self.total_weight
    }

    /// The canonical index whose entry includes `node_id`: where that node's signature goes.
    pub fn index_of_node(&self, node_id: &NodeId) -> Option<usize> {
        self.validators
            .iter()
            .position(|validator| validator.node_ids.contains(node_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warp::test_vectors::*;

    fn vector_validator(index: usize, weight: u64) -> Validator {
        Validator {
            weight,
            ..validator(index)
        }
    }

    fn vector_set() -> Vec<Validator> {
        (0..3).map(validator).collect()
    }

    // docs/spec/warp-vectors.json `validators[*].node_id_*`: the hex and text forms agree.
    #[test]
    fn vector_node_ids_match_their_text_form() {
        for vector in &VALIDATORS {
            let node_id = NodeId(array(vector.node_id_hex));
            assert_eq!(node_id.to_string(), vector.node_id_str);
        }
    }

    // docs/spec/warp-vectors.json `canonical_order_by_uncompressed` and
    // `order_if_sorted_by_compressed`; docs/spec/warp.md §5.4: v2, v1, v0, total 300, which is
    // not the order of the compressed keys.
    #[test]
    fn flattening_orders_by_uncompressed_key() {
        for input in [vector_set(), vector_set().into_iter().rev().collect()] {
            let set = CanonicalValidatorSet::flatten(input).unwrap();
            let order: Vec<NodeId> = set.validators().iter().map(|v| v.node_ids[0]).collect();
            let expected: Vec<NodeId> = CANONICAL_ORDER
                .iter()
                .map(|&i| NodeId(array(VALIDATORS[i].node_id_hex)))
                .collect();
            assert_eq!(order, expected);
            assert_eq!(set.total_weight(), ALL3.total_weight);
        }
        let mut by_compressed: Vec<usize> = (0..3).collect();
        by_compressed.sort_by_key(|&i| VALIDATORS[i].pk_compressed_hex);
        assert_eq!(by_compressed, ORDER_BY_COMPRESSED);
        assert_ne!(ORDER_BY_COMPRESSED, CANONICAL_ORDER);
    }

    // docs/spec/warp.md §4.1 steps 1-3.
    #[test]
    fn keyless_validators_count_toward_the_total_only_and_shared_keys_merge() {
        let mut input = vector_set();
        input.push(Validator {
            node_id: NodeId([9; 20]),
            weight: 50,
            public_key: None,
        });
        let shares_v0_key = Validator {
            node_id: NodeId([1; 20]),
            ..vector_validator(0, 25)
        };
        input.push(shares_v0_key);
        let set = CanonicalValidatorSet::flatten(input).unwrap();
        assert_eq!(set.total_weight(), 375);
        assert_eq!(set.validators().len(), 3);
        let v0 = &set.validators()[2];
        assert_eq!(v0.weight, 125);
        assert_eq!(
            v0.node_ids,
            vec![NodeId([1; 20]), NodeId(array(VALIDATORS[0].node_id_hex))]
        );
        assert_eq!(set.index_of_node(&NodeId([1; 20])), Some(2));
        assert_eq!(set.index_of_node(&NodeId([9; 20])), None);
    }

    #[test]
    fn weight_overflow_and_duplicate_nodes_are_errors() {
        let mut input = vector_set();
        input.push(Validator {
            node_id: NodeId([9; 20]),
            weight: u64::MAX - 250,
            public_key: None,
        });
        assert_eq!(
            CanonicalValidatorSet::flatten(input),
            Err(ValidatorSetError::WeightOverflow)
        );
        let mut input = vector_set();
        input.push(vector_validator(1, 1));
        assert_eq!(
            CanonicalValidatorSet::flatten(input),
            Err(ValidatorSetError::DuplicateNodeId(NodeId(array(
                VALIDATORS[1].node_id_hex
            ))))
        );
    }

    #[test]
    fn served_lists_are_checked_for_canonical_order() {
        let canonical = CanonicalValidatorSet::flatten(vector_set()).unwrap();
        let served =
            CanonicalValidatorSet::from_canonical(canonical.validators().to_vec(), 400).unwrap();
        assert_eq!(served.validators(), canonical.validators());
        assert_eq!(served.total_weight(), 400);

        let mut swapped = canonical.validators().to_vec();
        swapped.swap(1, 2);
        assert_eq!(
            CanonicalValidatorSet::from_canonical(swapped, 300),
            Err(ValidatorSetError::NotCanonical { index: 2 })
        );
        let mut repeated = canonical.validators().to_vec();
        repeated[1] = repeated[0].clone();
        assert_eq!(
            CanonicalValidatorSet::from_canonical(repeated, 300),
            Err(ValidatorSetError::NotCanonical { index: 1 })
        );
        let mut nodeless = canonical.validators().to_vec();
        nodeless[0].node_ids.clear();
        assert_eq!(
            CanonicalValidatorSet::from_canonical(nodeless, 300),
            Err(ValidatorSetError::NoNodeIds { index: 0 })
        );
        assert_eq!(
            CanonicalValidatorSet::from_canonical(canonical.validators().to_vec(), 299),
            Err(ValidatorSetError::TotalBelowListed {
                listed: 300,
                total: 299
            })
        );
        let mut heavy = canonical.validators().to_vec();
        heavy[0].weight = u64::MAX;
        assert_eq!(
            CanonicalValidatorSet::from_canonical(heavy, u64::MAX),
            Err(ValidatorSetError::WeightOverflow)
        );
    }
}
