//! Inclusion proofs served from the payload index and the stored Merkle pages, without reading
//! the block.

use super::keys::*;
use super::{StorageError, Store};
use crate::chain::merkle;
use crate::chain::{Payload, Proof};

impl Store {
    /// The proof that `payload` is in an accepted block: its location, then the audit path's
    /// nodes and the root, a few point reads whatever the block's size (no block is read,
    /// except for a schema 1 payload, whose single-payload block is 82 bytes).
    pub fn proof(&self, payload: &Payload) -> Result<Option<Proof>, StorageError> {
        let location = match self.payload_location(payload)? {
            None => return Ok(None),
            Some(StoredLocation::Full(location)) => location,
            Some(StoredLocation::BlockOnly(block_id)) => {
                let block = self.block(&block_id)?.ok_or(StorageError::CorruptMeta {
                    what: "payload index names a missing block",
                })?;
                PayloadLocation {
                    block_id,
                    height: block.height,
                    timestamp: block.timestamp,
                    position: 0,
                    count: 1,
                }
            }
        };
        let mut proof = Proof {
            payload: *payload,
            block_id: location.block_id,
            height: location.height,
            timestamp: location.timestamp,
            root: merkle::leaf_hash(payload),
            index: location.position.into(),
            count: location.count.into(),
            path: Vec::new(),
        };
        if location.count > 1 {
            let positions = merkle::audit_positions(proof.index, proof.count);
            let top = merkle::depth(proof.count);
            // Each wanted node (the siblings, then the root) and the page that holds it.
            let wanted: Vec<(u8, u64)> = positions
                .into_iter()
                .chain(std::iter::once((top, 0)))
                .collect();
            let page_of = |node: u64| (node / MERKLE_PAGE as u64) as u32;
            let keys: Vec<[u8; 13]> = wanted
                .iter()
                .map(|&(level, node)| merkle_key(location.height, level, page_of(node)))
                .collect();
            let mut nodes = Vec::with_capacity(keys.len());
            let pages = self
                .db
                .batched_multi_get_cf(self.cf(CF_MERKLE), keys.iter(), false);
            for (&(_, node), page) in wanted.iter().zip(pages) {
                let page = page?.ok_or(StorageError::CorruptMeta {
                    what: "merkle page missing",
                })?;
                let offset = (node as usize % MERKLE_PAGE) * 32;
                let hash: merkle::Hash = page
                    .get(offset..offset + 32)
                    .and_then(|bytes| bytes.try_into().ok())
                    .ok_or(StorageError::CorruptMeta {
                        what: "merkle node missing",
                    })?;
                nodes.push(hash);
            }
            proof.root = nodes.pop().expect("the root's key was asked for");
            proof.path = nodes;
        }
        Ok(Some(proof))
    }
}
