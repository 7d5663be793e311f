//! The genesis block: what every node of a chain derives from the chain's genesis bytes.

use super::block::Block;
use super::id::Id;

/// The Go reference refuses genesis data longer than one payload.
pub const MAX_GENESIS_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    #[error("genesis data should be bytes (max length {MAX_GENESIS_LEN}), got {0} bytes")]
    TooLong(usize),
}

/// Parent all zeros, height 0, timestamp 0, data = genesis bytes zero-padded to 32.
pub fn genesis_block(genesis_bytes: &[u8]) -> Result<Block, GenesisError> {
    if genesis_bytes.len() > MAX_GENESIS_LEN {
        return Err(GenesisError::TooLong(genesis_bytes.len()));
    }
    let mut data = [0u8; 32];
    data[..genesis_bytes.len()].copy_from_slice(genesis_bytes);
    Ok(Block {
        parent: Id::EMPTY,
        height: 0,
        timestamp: 0,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_genesis_matches_vector() {
        // shared/spec/vectors.md 2.1
        let block = genesis_block(b"hello").unwrap();
        assert_eq!(
            block.id().to_string(),
            "26YwkG2RtzBa9pP5pj9qDvjYbw19PtF7ajT75hDZ3FTs4Waurp"
        );
    }

    #[test]
    fn limits() {
        assert!(genesis_block(&[7u8; 32]).is_ok());
        assert!(genesis_block(&[]).is_ok());
        assert_eq!(genesis_block(&[7u8; 33]), Err(GenesisError::TooLong(33)));
    }
}
