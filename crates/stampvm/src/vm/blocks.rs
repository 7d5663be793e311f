//! stampvm's blocks as the SDK's [`BlockInfo`]: decoded with the chain's format, their times
//! checked against what the node can carry before any actor sees them.

use crate::api::{BlockStatus as HeldStatus, BlockView};
use crate::chain::{Block, ChainFormat};
use rpcchainvm::{BlockInfo, BlockStatus, Timestamp, VmError};

/// Decodes block bytes of the chain's format; a parse failure, or a time no protobuf Timestamp
/// carries, is the node's invalid input (it treats the bytes as invalid).
pub fn decode(bytes: &[u8], format: ChainFormat) -> Result<Block, VmError> {
    let block = Block::decode(bytes, format).map_err(|e| VmError::Invalid(e.to_string()))?;
    Timestamp::from_unix(block.timestamp)?;
    Ok(block)
}

/// A decoded block as ParseBlock answers it: no bytes (the node has them), status processing
/// until [`crate::vm::StampVm`]'s `parsed_block_status` says otherwise.
pub fn parsed(block: &Block) -> Result<BlockInfo, VmError> {
    Ok(BlockInfo {
        id: block.id(),
        parent: block.parent,
        height: block.height,
        timestamp: Timestamp::from_unix(block.timestamp)?,
        bytes: Vec::new(),
        status: BlockStatus::Processing,
    })
}

/// A block the chain holds (`BlockView` never holds rejected ones), with its bytes.
pub fn held(view: &BlockView) -> Result<BlockInfo, VmError> {
    Ok(BlockInfo {
        id: view.id,
        parent: view.block.parent,
        height: view.block.height,
        timestamp: Timestamp::from_unix(view.block.timestamp)?,
        bytes: view.block.encode().to_vec(),
        status: match view.status {
            HeldStatus::Processing => BlockStatus::Processing,
            HeldStatus::Accepted => BlockStatus::Accepted,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::genesis_block;

    // docs/spec/vectors.md sections 2.1 and 4: the genesis of `hello` as Initialize reports it.
    #[test]
    fn genesis_of_hello_matches_the_vector() {
        let genesis = genesis_block(b"hello").unwrap();
        let view = BlockView {
            id: genesis.id(),
            block: genesis,
            status: HeldStatus::Accepted,
        };
        let info = held(&view).unwrap();
        assert_eq!(
            hex::encode(info.id.as_bytes()),
            "904cbd92a440ae4a18fec29f08b5bbbe40108ec5f5de82f245145e0c8626aedf"
        );
        assert_eq!(info.parent.as_bytes(), &[0; 32]);
        assert_eq!(
            hex::encode(&info.bytes),
            "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000068656c6c6f000000000000000000000000000000000000000000000000000000"
        );
        assert_eq!(info.bytes.len(), 82);
        assert_eq!(info.status, BlockStatus::Accepted);
    }

    // docs/spec/vectors.md section 2.2: the child block, as ParseBlock reports it.
    #[test]
    fn child_block_parses_to_the_vector_facts() {
        let bytes = hex::decode("0000904cbd92a440ae4a18fec29f08b5bbbe40108ec5f5de82f245145e0c8626aedf0000000000000001000000006553f1008f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941").unwrap();
        let child = parsed(&decode(&bytes, ChainFormat::Single).unwrap()).unwrap();
        assert_eq!(
            hex::encode(child.id.as_bytes()),
            "9cf0e37e4abc934ad49832fa3e481283a768b6d952b8512fbba5aecbbe520462"
        );
        assert_eq!(
            hex::encode(child.parent.as_bytes()),
            "904cbd92a440ae4a18fec29f08b5bbbe40108ec5f5de82f245145e0c8626aedf"
        );
        assert_eq!(child.height, 1);
        assert_eq!(child.timestamp.unix_seconds(), 1_700_000_000);
    }

    #[test]
    fn blocks_with_times_out_of_protobuf_range_are_refused() {
        let mut far = genesis_block(b"x").unwrap();
        far.timestamp = i64::MAX;
        assert!(matches!(
            decode(&far.encode(), ChainFormat::Single),
            Err(VmError::Invalid(_))
        ));
    }
}
