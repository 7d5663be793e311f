//! The genesis block: what every node of a chain derives from the chain's genesis bytes.
//!
//! Genesis bytes also decide the chain's block format, so every node of a chain agrees on it:
//! raw bytes (at most 32, the Go reference's rule) give a TimestampVM chain of single-payload
//! blocks; a JSON object with a `format` key, e.g.
//! `{"format": "batched", "data": "my chain", "maxBatch": 4096}`, gives a batched chain
//! (`super::batched`) whose blocks carry 1 to `maxBatch` payloads.

use super::block::Block;
use super::id::Id;
use serde::Deserialize;

/// The Go reference refuses genesis data longer than one payload.
pub const MAX_GENESIS_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    #[error("genesis data should be bytes (max length {MAX_GENESIS_LEN}), got {0} bytes")]
    TooLong(usize),
    #[error("genesis JSON: {0}")]
    Json(String),
    #[error("genesis `maxBatch` must be 1 to {MAX_BATCH_LIMIT}, got {0}")]
    MaxBatch(u64),
}

/// Default and ceiling of a batched chain's `maxBatch`. The ceiling keeps a block under 2 MiB,
/// well within what the node carries in one message.
pub const DEFAULT_MAX_BATCH: usize = 4096;
pub const MAX_BATCH_LIMIT: usize = 65_536;

/// The block format of a chain, fixed by its genesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainFormat {
    /// TimestampVM blocks: one payload each, byte-identical to the Go reference.
    Single,
    /// Batched blocks of 1 to `max_batch` payloads under a Merkle root.
    Batched { max_batch: usize },
}

/// A chain's genesis as read from its genesis bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    pub format: ChainFormat,
    /// The genesis data, at most 32 bytes, zero-padded into the genesis block's payload.
    pub data: Vec<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct GenesisJson {
    format: String,
    #[serde(default)]
    data: String,
    max_batch: Option<u64>,
}

impl Genesis {
    /// Block 0 of the chain: parent all zeros, height 0, timestamp 0, and the data zero-padded to
    /// one payload, in the chain's format (a batched chain's genesis is a batch of one).
    pub fn block(&self) -> Block {
        let mut data = [0u8; 32];
        data[..self.data.len()].copy_from_slice(&self.data);
        match self.format {
            ChainFormat::Single => Block::single(Id::EMPTY, 0, 0, data),
            ChainFormat::Batched { .. } => {
                Block::batched(Id::EMPTY, 0, 0, vec![data]).expect("one payload")
            }
        }
    }
}

impl ChainFormat {
    /// How many payloads a block of this chain carries at most.
    pub fn max_payloads(self) -> usize {
        match self {
            ChainFormat::Single => 1,
            ChainFormat::Batched { max_batch } => max_batch,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ChainFormat::Single => "single",
            ChainFormat::Batched { .. } => "batched",
        }
    }
}

/// Reads genesis bytes: a JSON object with a `format` key declares the format, anything else
/// is raw TimestampVM genesis data.
pub fn parse_genesis(genesis_bytes: &[u8]) -> Result<Genesis, GenesisError> {
    let declared = serde_json::from_slice::<serde_json::Value>(genesis_bytes)
        .ok()
        .filter(|value| value.get("format").is_some());
    let Some(value) = declared else {
        genesis_block(genesis_bytes)?;
        return Ok(Genesis {
            format: ChainFormat::Single,
            data: genesis_bytes.to_vec(),
        });
    };
    let json: GenesisJson =
        serde_json::from_value(value).map_err(|e| GenesisError::Json(e.to_string()))?;
    let format = match json.format.as_str() {
        "single" if json.max_batch.is_none() => ChainFormat::Single,
        "single" => {
            return Err(GenesisError::Json(
                "`maxBatch` needs format \"batched\"".into(),
            ))
        }
        "batched" => {
            let max = json.max_batch.unwrap_or(DEFAULT_MAX_BATCH as u64);
            match usize::try_from(max) {
                Ok(max_batch) if (1..=MAX_BATCH_LIMIT).contains(&max_batch) => {
                    ChainFormat::Batched { max_batch }
                }
                _ => return Err(GenesisError::MaxBatch(max)),
            }
        }
        other => {
            return Err(GenesisError::Json(format!(
                "unknown format {other:?}: expected \"single\" or \"batched\""
            )))
        }
    };
    let data = json.data.into_bytes();
    if data.len() > MAX_GENESIS_LEN {
        return Err(GenesisError::TooLong(data.len()));
    }
    Ok(Genesis { format, data })
}

/// Parent all zeros, height 0, timestamp 0, data = genesis bytes zero-padded to 32.
pub fn genesis_block(genesis_bytes: &[u8]) -> Result<Block, GenesisError> {
    if genesis_bytes.len() > MAX_GENESIS_LEN {
        return Err(GenesisError::TooLong(genesis_bytes.len()));
    }
    let mut data = [0u8; 32];
    data[..genesis_bytes.len()].copy_from_slice(genesis_bytes);
    Ok(Block::single(Id::EMPTY, 0, 0, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_genesis_matches_vector() {
        // docs/spec/vectors.md 2.1
        let block = genesis_block(b"hello").unwrap();
        assert_eq!(
            block.id().to_string(),
            "26YwkG2RtzBa9pP5pj9qDvjYbw19PtF7ajT75hDZ3FTs4Waurp"
        );
    }

    #[test]
    fn format_comes_from_the_genesis() {
        let raw = parse_genesis(b"hello").unwrap();
        assert_eq!(raw.format, ChainFormat::Single);
        assert_eq!(raw.data, b"hello");
        let batched =
            parse_genesis(br#"{"format": "batched", "data": "docs", "maxBatch": 100}"#).unwrap();
        assert_eq!(batched.format, ChainFormat::Batched { max_batch: 100 });
        assert_eq!(batched.data, b"docs");
        let default = parse_genesis(br#"{"format": "batched"}"#).unwrap();
        assert_eq!(
            default.format,
            ChainFormat::Batched {
                max_batch: DEFAULT_MAX_BATCH
            }
        );
        // JSON without a `format` key is raw data, as before (if it fits in 32 bytes).
        assert_eq!(
            parse_genesis(br#"{"a": 1}"#).unwrap().format,
            ChainFormat::Single
        );
        for bad in [
            &br#"{"format": "batched", "maxBatch": 0}"#[..],
            br#"{"format": "batched", "maxBatch": 65537}"#,
            br#"{"format": "batched", "maxbatch": 5}"#,
            br#"{"format": "zip"}"#,
            br#"{"format": "single", "maxBatch": 5}"#,
            br#"{"format": "batched", "data": "0123456789012345678901234567890123"}"#,
        ] {
            assert!(
                parse_genesis(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse_genesis(&[7u8; 33]), Err(GenesisError::TooLong(33)));
    }

    #[test]
    fn a_batched_genesis_is_a_batch_of_one() {
        let genesis = parse_genesis(br#"{"format": "batched", "data": "docs"}"#).unwrap();
        let block = genesis.block();
        let mut data = [0u8; 32];
        data[..4].copy_from_slice(b"docs");
        assert_eq!(block.payloads(), &[data]);
        assert_eq!(block.encode()[..2], [0, 1]);
        let single = parse_genesis(b"hello").unwrap().block();
        assert_eq!(single, genesis_block(b"hello").unwrap());
    }

    #[test]
    fn limits() {
        assert!(genesis_block(&[7u8; 32]).is_ok());
        assert!(genesis_block(&[]).is_ok());
        assert_eq!(genesis_block(&[7u8; 33]), Err(GenesisError::TooLong(33)));
    }
}
