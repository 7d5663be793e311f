//! Accepting a block: everything an accept changes goes into one write batch (block, height
//! index, payload index, Merkle pages, the new tip), written once and fsynced when
//! `sync_writes` is on, so after a crash the store is at some last accepted block, never
//! between two.

use super::keys::*;
use super::{StorageError, Store};
use crate::chain::merkle::Tree;
use crate::chain::{Block, Id};
use rocksdb::{WriteBatch, WriteOptions};

impl Store {
    /// Records `block` as accepted on top of the current last accepted block, atomically.
    /// `tree` is the block's Merkle tree if the caller has it (batched blocks).
    pub fn accept(&self, id: Id, block: &Block, tree: Option<&Tree>) -> Result<(), StorageError> {
        let last = self.last_accepted_id()?;
        if block.parent != last {
            return Err(StorageError::NotOnTip {
                id,
                parent: block.parent,
                last,
            });
        }
        let mut batch = WriteBatch::default();
        self.put_accepted(&mut batch, id, block, tree)?;
        self.write(batch)
    }

    /// Adds an accepted block to `batch`: the block, its height, where each payload lies, its
    /// Merkle nodes (from `tree` when verification kept it, else hashed here), the new tip.
    pub(super) fn put_accepted(
        &self,
        batch: &mut WriteBatch,
        id: Id,
        block: &Block,
        tree: Option<&Tree>,
    ) -> Result<(), StorageError> {
        batch.put_cf(self.cf(CF_BLOCKS), id.as_bytes(), block.encode());
        batch.put_cf(self.cf(CF_HEIGHTS), height_key(block.height), id.as_bytes());
        let payloads = block.payloads();
        let count = u32::try_from(payloads.len()).map_err(|_| StorageError::CorruptMeta {
            what: "payload count",
        })?;
        let mut location = PayloadLocation {
            block_id: id,
            height: block.height,
            timestamp: block.timestamp,
            position: 0,
            count,
        };
        match block.batch() {
            None => {
                // TimestampVM chains may accept a payload twice (the Go reference does): the
                // first block keeps the proof; later repeats don't move it.
                if self.payload_block(&payloads[0])?.is_none() {
                    batch.put_cf(self.cf(CF_PAYLOADS), payloads[0], location.encode());
                }
            }
            Some(_) => {
                // Verification refused payloads already accepted, so every one is new here.
                for (position, payload) in (0u32..).zip(payloads) {
                    location.position = position;
                    batch.put_cf(self.cf(CF_PAYLOADS), payload, location.encode());
                }
                if payloads.len() > 1 {
                    let hashed;
                    let tree = match tree {
                        Some(tree) => tree,
                        None => {
                            hashed = Tree::new(payloads).expect("a batch holds payloads");
                            &hashed
                        }
                    };
                    for (level, nodes) in (0u8..).zip(tree.levels()) {
                        for (page, chunk) in (0u32..).zip(nodes.chunks(MERKLE_PAGE)) {
                            batch.put_cf(
                                self.cf(CF_MERKLE),
                                merkle_key(block.height, level, page),
                                chunk.concat(),
                            );
                        }
                    }
                }
            }
        }
        batch.put_cf(self.cf(CF_META), META_LAST_ACCEPTED, id.as_bytes());
        Ok(())
    }

    pub(super) fn write(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let mut write_options = WriteOptions::default();
        write_options.set_sync(self.options.sync_writes);
        let started = std::time::Instant::now();
        self.db.write_opt(batch, &write_options)?;
        metrics::histogram!(crate::metrics::ROCKSDB_WRITE_SECONDS)
            .record(started.elapsed().as_secs_f64());
        Ok(())
    }
}
