//! The one JSON form of a [`Proof`]: `timestampvm.getProof` replies with it and
//! `stampvm verify-proof` reads it back from a file, so the tool checks exactly what the node
//! said. One proof, as a getProof result:
//!
//! ```json
//! {"data":"0x<64 hex digits><8 of checksum>","blockID":"<CB58>","height":"12",
//!  "timestamp":"1700000000","root":"0x<64 hex digits>","index":5,"count":4096,
//!  "path":["0x<64 hex digits>", …],"format":"batched"}
//! ```
//!
//! - `data`: the payload in the request's encoding ([`super::data`]); either form reads back.
//! - `blockID`: CB58, as `getBlock`'s `id`.
//! - `height`, `timestamp`: decimal strings, as `getBlock` prints them (Go's `json.Uint64`); the
//!   timestamp is Go's `uint64` cast of the signed seconds, which reads back exactly.
//! - `root` and each `path` entry: a hash, always `0x` + 64 lowercase hex digits, no checksum
//!   whatever the encoding. Hashes are made by machines and checked against each other, so a
//!   changed digit must make the proof *invalid* (the check says which part), not unreadable.
//! - `index`, `count`: JSON numbers, the leaf's position and the block's payload count.
//! - `format`: `"single"` or `"batched"`, the block format of the chain.

use super::data::{format_payload, parse_payload, DataError, Encoding};
use crate::chain::merkle::Hash;
use crate::chain::{Cb58Error, ChainFormat, Proof};
use serde::{Deserialize, Serialize};

/// A proof as `getProof` returns it and `verify-proof` reads it; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofJson {
    pub data: String,
    #[serde(rename = "blockID")]
    pub block_id: String,
    pub height: String,
    pub timestamp: String,
    pub root: String,
    pub index: u64,
    pub count: u64,
    pub path: Vec<String>,
    pub format: BlockFormat,
}

/// Which kind of block the proof is from. A verifier needs it to compare the root with what a
/// node serves: a batched block states its root, a single-payload block's root is the leaf
/// hash of its one payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockFormat {
    Single,
    Batched,
}

impl From<ChainFormat> for BlockFormat {
    fn from(format: ChainFormat) -> Self {
        match format {
            ChainFormat::Single => BlockFormat::Single,
            ChainFormat::Batched { .. } => BlockFormat::Batched,
        }
    }
}

/// Why JSON is not a proof. Each names the member at fault, for a user holding a proof file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofJsonError {
    #[error("not JSON: {0}")]
    Json(String),
    /// The file holds a JSON-RPC reply, and the reply is an error (e.g. "not yet accepted").
    #[error("the JSON-RPC reply holds an error, not a proof: {0}")]
    RpcError(String),
    /// A member missing or of the wrong JSON type.
    #[error("not a proof object: {0}")]
    Shape(String),
    #[error("data: {0}")]
    Data(#[from] DataError),
    #[error("blockID: {0}")]
    BlockId(Cb58Error),
    #[error("{field}: expected a decimal string of an unsigned 64-bit integer, found {found:?}")]
    Number { field: &'static str, found: String },
    /// `field` is `root` or `path[i]`.
    #[error("{field}: expected 0x and 64 hex digits")]
    Hash { field: String },
}

impl ProofJson {
    /// The JSON form of `proof`, the payload in `encoding`.
    pub fn from_proof(proof: &Proof, format: BlockFormat, encoding: Encoding) -> ProofJson {
        ProofJson {
            data: format_payload(&proof.payload, encoding),
            block_id: proof.block_id.to_string(),
            height: proof.height.to_string(),
            // Go's `uint64(timestamp)`, as getBlock prints it; `to_proof` casts back.
            timestamp: (proof.timestamp as u64).to_string(),
            root: format_hash(&proof.root),
            index: proof.index,
            count: proof.count,
            path: proof.path.iter().map(format_hash).collect(),
            format,
        }
    }

    /// The proof this JSON states. Only the text forms are checked here; whether the proof
    /// holds is [`Proof::path_is_valid`]'s question.
    pub fn to_proof(&self) -> Result<Proof, ProofJsonError> {
        let path = self
            .path
            .iter()
            .enumerate()
            .map(|(i, text)| {
                parse_hash(text).ok_or_else(|| ProofJsonError::Hash {
                    field: format!("path[{i}]"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Proof {
            payload: parse_payload(&self.data)?,
            block_id: self.block_id.parse().map_err(ProofJsonError::BlockId)?,
            height: parse_decimal("height", &self.height)?,
            timestamp: parse_decimal("timestamp", &self.timestamp)? as i64,
            root: parse_hash(&self.root).ok_or_else(|| ProofJsonError::Hash {
                field: "root".into(),
            })?,
            index: self.index,
            count: self.count,
            path,
        })
    }

    /// Reads a proof file: the getProof result object alone, or the whole JSON-RPC reply
    /// (`{"jsonrpc":"2.0","result":{…},"id":…}`) as a client saved it. A reply is told apart
    /// by its `jsonrpc` member, which a proof object does not have.
    pub fn read(json: &[u8]) -> Result<ProofJson, ProofJsonError> {
        let mut value: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| ProofJsonError::Json(e.to_string()))?;
        if value.get("jsonrpc").is_some() {
            if let Some(error) = value.get("error") {
                let message = error.get("message").and_then(|m| m.as_str());
                let text = message.map_or_else(|| error.to_string(), str::to_owned);
                return Err(ProofJsonError::RpcError(text));
            }
            value = value
                .get_mut("result")
                .map(serde_json::Value::take)
                .ok_or_else(|| ProofJsonError::Shape("JSON-RPC reply without a result".into()))?;
        }
        serde_json::from_value(value).map_err(|e| ProofJsonError::Shape(e.to_string()))
    }
}

/// A hash as the API prints it: `0x` and 64 lowercase hex digits (no checksum; see the module
/// docs). Also `getBlock`'s `root`.
pub fn format_hash(hash: &Hash) -> String {
    format!("0x{}", hex::encode(hash))
}

/// Reads [`format_hash`]'s form (hex digits of either case); `None` for anything else.
pub fn parse_hash(text: &str) -> Option<Hash> {
    let mut hash = [0u8; 32];
    let digits = text
        .strip_prefix("0x")
        .filter(|digits| digits.len() == 64)?;
    hex::decode_to_slice(digits, &mut hash).ok()?;
    Some(hash)
}

/// A `json.Uint64` string: ASCII digits only (no sign, no spaces), within u64.
fn parse_decimal(field: &'static str, text: &str) -> Result<u64, ProofJsonError> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits_only
        .then(|| text.parse().ok())
        .flatten()
        .ok_or_else(|| ProofJsonError::Number {
            field,
            found: text.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    //! The JSON form round-trips every field exactly (negative timestamps included), reads
    //! both file shapes, and names the member at fault when it cannot read one.

    use super::*;
    use crate::chain::merkle::leaf_hash;
    use crate::chain::{Block, Id};

    fn sample() -> Proof {
        let block = Block::batched(Id::EMPTY, 3, -5, vec![[1; 32], [2; 32], [3; 32]]).unwrap();
        Proof::in_block(&block, block.id(), 1).unwrap()
    }

    #[test]
    fn round_trips_in_both_encodings() {
        let proof = sample();
        for encoding in [Encoding::Hex, Encoding::Cb58] {
            let json = ProofJson::from_proof(&proof, BlockFormat::Batched, encoding);
            assert_eq!(json.to_proof(), Ok(proof.clone()), "{encoding}");
            let text = serde_json::to_string(&json).unwrap();
            assert_eq!(ProofJson::read(text.as_bytes()), Ok(json));
        }
    }

    #[test]
    fn exact_shape() {
        let payload = [9u8; 32];
        let proof = Proof {
            payload,
            block_id: Id::EMPTY,
            height: 1,
            timestamp: 1_700_000_000,
            root: leaf_hash(&payload),
            index: 0,
            count: 1,
            path: vec![[0xab; 32]],
        };
        let json = ProofJson::from_proof(&proof, BlockFormat::Single, Encoding::Hex);
        let expected = format!(
            r#"{{"data":"{}","blockID":"11111111111111111111111111111111LpoYY","height":"1","timestamp":"1700000000","root":"0x{}","index":0,"count":1,"path":["0x{}"],"format":"single"}}"#,
            format_payload(&payload, Encoding::Hex),
            hex::encode(leaf_hash(&payload)),
            "ab".repeat(32),
        );
        assert_eq!(serde_json::to_string(&json).unwrap(), expected);
        // A pre-1970 time prints as Go's uint64 cast and reads back.
        let early = Proof {
            timestamp: -1,
            ..proof
        };
        let json = ProofJson::from_proof(&early, BlockFormat::Single, Encoding::Hex);
        assert_eq!(json.timestamp, u64::MAX.to_string());
        assert_eq!(json.to_proof().unwrap().timestamp, -1);
    }

    #[test]
    fn reads_a_whole_json_rpc_reply() {
        let json = ProofJson::from_proof(&sample(), BlockFormat::Batched, Encoding::Hex);
        let result = serde_json::to_string(&json).unwrap();
        let reply = format!(r#"{{"jsonrpc":"2.0","result":{result},"id":1}}"#);
        assert_eq!(ProofJson::read(reply.as_bytes()), Ok(json));
        let error = br#"{"jsonrpc":"2.0","error":{"code":-32002,"message":"payload 0x00 is unknown to this node","data":null},"id":1}"#;
        assert_eq!(
            ProofJson::read(error),
            Err(ProofJsonError::RpcError(
                "payload 0x00 is unknown to this node".into()
            ))
        );
        assert!(matches!(
            ProofJson::read(br#"{"jsonrpc":"2.0","id":1}"#),
            Err(ProofJsonError::Shape(_))
        ));
    }

    #[test]
    fn names_the_member_it_cannot_read() {
        let good = ProofJson::from_proof(&sample(), BlockFormat::Batched, Encoding::Hex);
        let with = |edit: fn(&mut ProofJson)| {
            let mut json = good.clone();
            edit(&mut json);
            json.to_proof().unwrap_err().to_string()
        };
        assert!(with(|j| j.data.push('0')).starts_with("data: "));
        assert!(with(|j| j.block_id = "x".into()).starts_with("blockID: "));
        assert!(with(|j| j.height = "-1".into()).starts_with("height: "));
        assert!(with(|j| j.timestamp = "1e9".into()).starts_with("timestamp: "));
        assert!(with(|j| j.timestamp = "18446744073709551616".into()).starts_with("timestamp: "));
        assert_eq!(
            with(|j| j.root.truncate(65)),
            "root: expected 0x and 64 hex digits"
        );
        assert!(with(|j| j.path[1] = j.path[1].replace("0x", "")).starts_with("path[1]: "));
        assert!(with(|j| j.path[0] = format!("0x{}", "zz".repeat(32))).starts_with("path[0]: "));
        assert!(matches!(
            ProofJson::read(b"{not json"),
            Err(ProofJsonError::Json(_))
        ));
        assert!(matches!(
            ProofJson::read(br#"{"data":"0x00"}"#),
            Err(ProofJsonError::Shape(_))
        ));
        assert!(matches!(
            ProofJson::read(
                serde_json::to_string(&good)
                    .unwrap()
                    .replace("batched", "zip")
                    .as_bytes()
            ),
            Err(ProofJsonError::Shape(_))
        ));
    }
}
