//! The **receipt**: one JSON document holding everything needed to check, offline and without
//! trusting whoever handed it over, that a payload was in a block the chain's validators signed
//! for ([`super::check`] runs the checks). Version 1:
//!
//! ```json
//! {
//!   "version": 1,
//!   "data": "0x<64 hex digits><8 of checksum>",
//!   "index": 3,
//!   "count": 5,
//!   "path": ["0x<64 hex digits>", "0x<64 hex digits>", "0x<64 hex digits>"],
//!   "root": "0x<64 hex digits>",
//!   "height": "9",
//!   "blockID": "<CB58>",
//!   "timestamp": "1700000000",
//!   "networkID": 12345,
//!   "chainID": "<CB58>",
//!   "signedMessage": "0x<hex of the signed Warp message>",
//!   "pChainHeight": "42",
//!   "quorum": { "numerator": 67, "denominator": 100 },
//!   "validatorSet": {
//!     "validators": [
//!       { "publicKey": "0x<96 hex digits>", "weight": "200", "nodeIDs": ["NodeID-<CB58>"] }
//!     ],
//!     "totalWeight": "525"
//!   }
//! }
//! ```
//!
//! Field by field (members in this order; no other member is accepted):
//! - `version`: the JSON number 1. Another value is refused by name before anything else is
//!   read, so a later format is never half-read as this one.
//! - `data`: the payload (what was stamped, typically a file's SHA-256) in the API's text form
//!   ([`crate::api::data`]): written as `0x`, 64 hex digits and the 4-byte checksum; any form
//!   `timestampvm.proposeBlock` accepts reads back.
//! - `index`, `count`: JSON numbers: the payload's leaf index and how many payloads the block
//!   carries (1 and index 0 for a TimestampVM block).
//! - `path`: the Merkle audit path from the payload's leaf up to `root`
//!   ([`crate::chain::merkle`]); empty for a one-payload block.
//! - `root`, each `path` entry: `0x` and 64 hex digits, as `getProof` and `getBlock` write hashes
//!   ([`crate::api::proof_json`]).
//! - `height`, `timestamp`: decimal strings as `getBlock` prints them; the timestamp is Unix
//!   seconds, written as Go's `uint64` cast of the block's signed value.
//! - `blockID`, `chainID`: CB58. The chain ID is the Warp message's source chain.
//! - `networkID`: a JSON number, the Warp message's network ID.
//! - `signedMessage`: `0x` and the hex of the signed Warp message (docs/spec/warp.md §2.5): the
//!   statement ([`super::statement`]), the signers bitset and the aggregate BLS signature.
//! - `pChainHeight`: a decimal string: the P-chain height whose validator set signed (the Warp
//!   message carries none, docs/spec/warp.md §2.7).
//! - `quorum`: the fraction of the total weight the issuer required (JSON numbers). A checker
//!   applies its own minimum as well; this never lowers it.
//! - `validatorSet`: the canonical validator set at `pChainHeight` (docs/spec/warp.md §4.1), in
//!   the shape of one subnet's entry in `platform.getAllValidatorsAt` (§4.3): `validators` in
//!   canonical order, each with its compressed BLS public key (`0x` and 96 hex digits), its
//!   weight and its node IDs (`NodeID-` and CB58); `totalWeight`, which also counts validators
//!   without a BLS key. Weights are decimal strings ([`super::validator_set`]).
//!
//! Decimal strings are read in their canonical form only (digits, no sign, no leading zero), so a
//! receipt this module writes reads back and re-writes to the same bytes. Every text is checked
//! when read, and an error names the member at fault (`validatorSet.validators[1].publicKey`).

use super::validator_set::{
    read_validator_set, refuse_listed_validators, validator_set_json, ValidatorSetJson,
};
use crate::api::data::{format_payload, parse_payload, DataError, Encoding};
use crate::api::proof_json::{format_hash, parse_hash};
use crate::chain::{Cb58Error, Id, Proof};
use rpcchainvm::warp::{
    BlsError, CanonicalValidatorSet, CodecError, Quorum, QuorumError, SignedMessage,
    ValidatorSetError,
};
use serde::{Deserialize, Serialize};

/// The receipt format this code writes and reads.
pub const RECEIPT_VERSION: u64 = 1;

/// A receipt, read and checked for form (not yet for truth: that is [`super::check`]'s job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The payload, its block (ID, height, time), the block's root, the leaf index, the count
    /// and the audit path.
    pub proof: Proof,
    pub network_id: u32,
    pub chain_id: Id,
    /// The validators' signature over the statement about `proof`'s block.
    pub signed_message: SignedMessage,
    pub p_chain_height: u64,
    pub quorum: Quorum,
    /// The canonical set at `p_chain_height`, as the issuer used it.
    pub validators: CanonicalValidatorSet,
}

/// Why bytes are not a receipt (or a validator set file). Every variant past the JSON syntax
/// names the member at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("not JSON: {0}")]
    Json(String),
    /// A member missing, unknown, repeated or of the wrong JSON type.
    #[error("not a {what}: {detail}")]
    Shape { what: &'static str, detail: String },
    #[error("version: this reader knows receipt version {RECEIPT_VERSION}, the file says {0}")]
    Version(String),
    #[error("data: {0}")]
    Data(DataError),
    #[error("{field}: expected 0x and 64 hex digits")]
    Hash { field: String },
    #[error("{field}: {error}")]
    Id { field: String, error: Cb58Error },
    #[error("{field}: expected the decimal digits of an unsigned 64-bit integer, with no sign or leading zero; found {found:?}")]
    Decimal { field: String, found: String },
    #[error("{field}: expected {expected}")]
    Hex {
        field: String,
        expected: &'static str,
    },
    #[error("{field}: {error}")]
    PublicKey { field: String, error: BlsError },
    #[error("signedMessage: {0}")]
    SignedMessage(CodecError),
    #[error("quorum: {0}")]
    Quorum(QuorumError),
    #[error("{field}: {error}")]
    ValidatorSet {
        field: String,
        error: ValidatorSetError,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptJson {
    version: u64,
    data: String,
    index: u64,
    count: u64,
    path: Vec<String>,
    root: String,
    height: String,
    #[serde(rename = "blockID")]
    block_id: String,
    timestamp: String,
    #[serde(rename = "networkID")]
    network_id: u32,
    #[serde(rename = "chainID")]
    chain_id: String,
    #[serde(rename = "signedMessage")]
    signed_message: String,
    #[serde(rename = "pChainHeight")]
    p_chain_height: String,
    quorum: QuorumJson,
    #[serde(rename = "validatorSet")]
    validator_set: ValidatorSetJson,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuorumJson {
    numerator: u64,
    denominator: u64,
}

impl Receipt {
    /// The receipt file: pretty-printed JSON (two-space indent) and a final newline.
    pub fn to_json(&self) -> String {
        let json = ReceiptJson {
            version: RECEIPT_VERSION,
            data: format_payload(&self.proof.payload, Encoding::Hex),
            index: self.proof.index,
            count: self.proof.count,
            path: self.proof.path.iter().map(format_hash).collect(),
            root: format_hash(&self.proof.root),
            height: self.proof.height.to_string(),
            block_id: self.proof.block_id.to_string(),
            // Go's `uint64(timestamp)`, as getBlock prints it; reading casts back.
            timestamp: (self.proof.timestamp as u64).to_string(),
            network_id: self.network_id,
            chain_id: self.chain_id.to_string(),
            signed_message: format_hex(&self.signed_message.to_bytes()),
            p_chain_height: self.p_chain_height.to_string(),
            quorum: QuorumJson {
                numerator: self.quorum.numerator(),
                denominator: self.quorum.denominator(),
            },
            validator_set: validator_set_json(&self.validators),
        };
        pretty(&json)
    }

    /// Reads a receipt file, strictly: see the module docs for every member's form.
    pub fn from_json(json: &[u8]) -> Result<Receipt, DocumentError> {
        // First as a tree: the version is refused as such, not as a shape this reader does not
        // know, and objects are required where serde would also take an array of the values.
        let tree: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| read_error(e, "receipt"))?;
        let shape = |detail: &str| DocumentError::Shape {
            what: "receipt",
            detail: detail.into(),
        };
        let members = tree
            .as_object()
            .ok_or_else(|| shape("expected a JSON object"))?;
        let version = members
            .get("version")
            .ok_or_else(|| shape("missing field `version`"))?;
        if version.as_u64() != Some(RECEIPT_VERSION) {
            return Err(DocumentError::Version(version.to_string()));
        }
        if members
            .get("quorum")
            .is_some_and(serde_json::Value::is_array)
        {
            return Err(shape("quorum: expected a JSON object"));
        }
        if let Some(set) = members.get("validatorSet") {
            refuse_listed_validators(set, "receipt", "validatorSet.")?;
        }
        // Then typed, from the bytes again: serde_json refuses repeated members only there.
        let json: ReceiptJson =
            serde_json::from_slice(json).map_err(|e| read_error(e, "receipt"))?;
        let payload = parse_payload(&json.data).map_err(DocumentError::Data)?;
        let path = json
            .path
            .iter()
            .enumerate()
            .map(|(i, text)| hash(|| format!("path[{i}]"), text))
            .collect::<Result<Vec<_>, _>>()?;
        let proof = Proof {
            payload,
            index: json.index,
            count: json.count,
            path,
            root: hash(|| "root".into(), &json.root)?,
            height: decimal(|| "height".into(), &json.height)?,
            block_id: id("blockID", &json.block_id)?,
            timestamp: decimal(|| "timestamp".into(), &json.timestamp)? as i64,
        };
        let chain_id = id("chainID", &json.chain_id)?;
        let signed_bytes = parse_hex(&json.signed_message).ok_or_else(|| DocumentError::Hex {
            field: "signedMessage".into(),
            expected: "0x and an even number of hex digits",
        })?;
        let signed_message =
            SignedMessage::from_bytes(&signed_bytes).map_err(DocumentError::SignedMessage)?;
        let p_chain_height = decimal(|| "pChainHeight".into(), &json.p_chain_height)?;
        let quorum = Quorum::new(json.quorum.numerator, json.quorum.denominator)
            .map_err(DocumentError::Quorum)?;
        let validators = read_validator_set(&json.validator_set, "validatorSet.")?;
        Ok(Receipt {
            proof,
            network_id: json.network_id,
            chain_id,
            signed_message,
            p_chain_height,
            quorum,
            validators,
        })
    }
}

pub(super) fn pretty<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("strings and numbers serialize");
    text.push('\n');
    text
}

/// serde_json's syntax errors are "not JSON"; its data errors (a member missing, unknown,
/// repeated, mistyped) are the document's shape, and its message names the member.
pub(super) fn read_error(error: serde_json::Error, what: &'static str) -> DocumentError {
    match error.classify() {
        serde_json::error::Category::Data => DocumentError::Shape {
            what,
            detail: error.to_string(),
        },
        _ => DocumentError::Json(error.to_string()),
    }
}

fn hash(field: impl FnOnce() -> String, text: &str) -> Result<[u8; 32], DocumentError> {
    parse_hash(text).ok_or_else(|| DocumentError::Hash { field: field() })
}

fn id(field: &str, text: &str) -> Result<Id, DocumentError> {
    text.parse().map_err(|error| DocumentError::Id {
        field: field.into(),
        error,
    })
}

/// A u64 in its one canonical decimal form: what `to_string` writes, nothing else.
pub(super) fn decimal(field: impl FnOnce() -> String, text: &str) -> Result<u64, DocumentError> {
    match text.parse::<u64>() {
        Ok(value) if value.to_string() == text => Ok(value),
        _ => Err(DocumentError::Decimal {
            field: field(),
            found: text.to_owned(),
        }),
    }
}

/// `0x` and lowercase hex, as AvalancheGo writes keys (docs/spec/warp.md §4.3).
pub(super) fn format_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Reads [`format_hex`]'s form (either case of digits); `None` for anything else.
pub(super) fn parse_hex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text.strip_prefix("0x")?).ok()
}

#[cfg(test)]
mod tests;
