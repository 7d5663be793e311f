//! Point and batched reads of the accepted chain: the tip, blocks by ID and height, and which
//! accepted block holds a payload.

use super::keys::*;
use super::{StorageError, Store};
use crate::chain::{Block, Id, Payload};

/// A payload index value, of either schema.
pub(super) fn decode_location(raw: &[u8]) -> Result<StoredLocation, StorageError> {
    PayloadLocation::decode(raw).ok_or(StorageError::CorruptMeta {
        what: "payload index",
    })
}

impl Store {
    pub fn last_accepted_id(&self) -> Result<Id, StorageError> {
        self.meta_id(META_LAST_ACCEPTED)?
            .ok_or(StorageError::CorruptMeta {
                what: "last accepted id",
            })
    }

    /// The last accepted block and its ID.
    pub fn last_accepted(&self) -> Result<(Id, Block), StorageError> {
        let id = self.last_accepted_id()?;
        let block = self.block(&id)?.ok_or(StorageError::CorruptMeta {
            what: "last accepted block",
        })?;
        Ok((id, block))
    }

    /// An accepted block by ID.
    pub fn block(&self, id: &Id) -> Result<Option<Block>, StorageError> {
        match self.db.get_pinned_cf(self.cf(CF_BLOCKS), id.as_bytes())? {
            None => Ok(None),
            Some(raw) => Block::decode(&raw, self.format)
                .map(Some)
                .map_err(|source| StorageError::Corrupt { id: *id, source }),
        }
    }

    /// The ID of the accepted block at `height`.
    pub fn block_id_at_height(&self, height: u64) -> Result<Option<Id>, StorageError> {
        match self
            .db
            .get_pinned_cf(self.cf(CF_HEIGHTS), height_key(height))?
        {
            None => Ok(None),
            Some(raw) => Id::from_slice(&raw)
                .map(Some)
                .ok_or(StorageError::CorruptMeta {
                    what: "height index",
                }),
        }
    }

    pub(super) fn payload_location(
        &self,
        payload: &Payload,
    ) -> Result<Option<StoredLocation>, StorageError> {
        let raw = self.db.get_pinned_cf(self.cf(CF_PAYLOADS), payload)?;
        raw.as_deref().map(decode_location).transpose()
    }

    /// The accepted block that first included `payload`, if any.
    pub fn payload_block(&self, payload: &Payload) -> Result<Option<Id>, StorageError> {
        Ok(self.payload_location(payload)?.map(|l| l.block_id()))
    }

    /// For each of `payloads`, the accepted block that first included it, in one batched read.
    pub fn payload_blocks(&self, payloads: &[Payload]) -> Result<Vec<Option<Id>>, StorageError> {
        let cf = self.cf(CF_PAYLOADS);
        self.db
            .batched_multi_get_cf(cf, payloads.iter().map(|p| &p[..]), false)
            .into_iter()
            .map(|value| {
                let location = value?.as_deref().map(decode_location).transpose()?;
                Ok(location.map(|l| l.block_id()))
            })
            .collect()
    }

    /// Those of `payloads` that an accepted block already holds, in order, in one batched read.
    pub fn accepted_among(&self, payloads: &[Payload]) -> Result<Vec<Payload>, StorageError> {
        let blocks = self.payload_blocks(payloads)?;
        Ok(payloads
            .iter()
            .zip(blocks)
            .filter_map(|(payload, block)| block.map(|_| *payload))
            .collect())
    }

    pub(super) fn meta_id(&self, key: &[u8]) -> Result<Option<Id>, StorageError> {
        match self.db.get_pinned_cf(self.cf(CF_META), key)? {
            None => Ok(None),
            Some(raw) => Id::from_slice(&raw)
                .map(Some)
                .ok_or(StorageError::CorruptMeta { what: "id" }),
        }
    }
}
