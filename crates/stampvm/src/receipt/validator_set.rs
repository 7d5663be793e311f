//! A canonical validator set in JSON: a receipt's `validatorSet` member, and the **trusted
//! validator set** file a user pins, which has the same shape:
//!
//! ```json
//! {
//!   "validators": [
//!     { "publicKey": "0x<96 hex digits>", "weight": "200", "nodeIDs": ["NodeID-<CB58>"] }
//!   ],
//!   "totalWeight": "525"
//! }
//! ```
//!
//! It is the shape of one subnet's entry in `platform.getAllValidatorsAt` (docs/spec/warp.md
//! §4.3), so that entry, taken at the receipt's P-chain height, is a trusted set file as it
//! stands: `validators` in canonical order (§4.1), each with its compressed BLS public key, its
//! weight (a decimal string) and its node IDs; `totalWeight`, which also counts validators
//! without a BLS key. Read strictly, as the rest of a receipt ([`super::document`]).

use super::document::{decimal, format_hex, parse_hex, pretty, read_error, DocumentError};
use crate::chain::NodeId;
use rpcchainvm::warp::{CanonicalValidator, CanonicalValidatorSet, PublicKey, PUBLIC_KEY_LEN};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ValidatorSetJson {
    validators: Vec<ValidatorJson>,
    #[serde(rename = "totalWeight")]
    total_weight: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidatorJson {
    #[serde(rename = "publicKey")]
    public_key: String,
    weight: String,
    #[serde(rename = "nodeIDs")]
    node_ids: Vec<String>,
}

/// Reads a trusted validator set file (the module docs' shape), as strictly as a receipt is
/// read, and requires the list to be canonical (docs/spec/warp.md §4.1).
pub fn validator_set_from_json(json: &[u8]) -> Result<CanonicalValidatorSet, DocumentError> {
    let what = "validator set";
    let tree: serde_json::Value = serde_json::from_slice(json).map_err(|e| read_error(e, what))?;
    if !tree.is_object() {
        return Err(DocumentError::Shape {
            what,
            detail: "expected a JSON object".into(),
        });
    }
    refuse_listed_validators(&tree, what, "")?;
    let json: ValidatorSetJson = serde_json::from_slice(json).map_err(|e| read_error(e, what))?;
    read_validator_set(&json, "")
}

/// A validator set file as [`validator_set_from_json`] reads it: how a user pins a set they
/// trust, or the `validatorSet` of a receipt taken out on its own.
pub fn validator_set_to_json(set: &CanonicalValidatorSet) -> String {
    pretty(&validator_set_json(set))
}

/// serde reads a struct from an array of its values as well as from an object; refuses a set or
/// validator written that way, which no writer of this format produces.
pub(super) fn refuse_listed_validators(
    set: &serde_json::Value,
    what: &'static str,
    prefix: &str,
) -> Result<(), DocumentError> {
    let as_array = |field: String| DocumentError::Shape {
        what,
        detail: format!("{field}: expected a JSON object"),
    };
    if set.is_array() {
        return Err(as_array(prefix.trim_end_matches('.').into()));
    }
    let validators = set.get("validators").and_then(serde_json::Value::as_array);
    for (i, validator) in validators.into_iter().flatten().enumerate() {
        if validator.is_array() {
            return Err(as_array(format!("{prefix}validators[{i}]")));
        }
    }
    Ok(())
}

pub(super) fn validator_set_json(set: &CanonicalValidatorSet) -> ValidatorSetJson {
    ValidatorSetJson {
        validators: set
            .validators()
            .iter()
            .map(|validator| ValidatorJson {
                public_key: format_hex(&validator.public_key.to_compressed()),
                weight: validator.weight.to_string(),
                node_ids: validator.node_ids.iter().map(NodeId::to_string).collect(),
            })
            .collect(),
        total_weight: set.total_weight().to_string(),
    }
}

/// The set `json` states, every text checked; `prefix` places the members in the file
/// (`validatorSet.` inside a receipt, nothing in a set file of its own).
pub(super) fn read_validator_set(
    json: &ValidatorSetJson,
    prefix: &str,
) -> Result<CanonicalValidatorSet, DocumentError> {
    let mut validators = Vec::with_capacity(json.validators.len());
    for (i, validator) in json.validators.iter().enumerate() {
        let field = |member: &str| format!("{prefix}validators[{i}].{member}");
        let key_bytes: [u8; PUBLIC_KEY_LEN] = parse_hex(&validator.public_key)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| DocumentError::Hex {
                field: field("publicKey"),
                expected: "0x and 96 hex digits (a compressed BLS public key)",
            })?;
        let public_key =
            PublicKey::from_compressed(&key_bytes).map_err(|error| DocumentError::PublicKey {
                field: field("publicKey"),
                error,
            })?;
        let weight = decimal(|| field("weight"), &validator.weight)?;
        let node_ids = validator
            .node_ids
            .iter()
            .enumerate()
            .map(|(j, text)| {
                text.parse::<NodeId>().map_err(|error| DocumentError::Id {
                    field: field(&format!("nodeIDs[{j}]")),
                    error,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        validators.push(CanonicalValidator {
            public_key,
            weight,
            node_ids,
        });
    }
    let total_weight = decimal(|| format!("{prefix}totalWeight"), &json.total_weight)?;
    CanonicalValidatorSet::from_canonical(validators, total_weight).map_err(|error| {
        DocumentError::ValidatorSet {
            field: format!("{prefix}validators"),
            error,
        }
    })
}
