//! RocksDB storage of the accepted chain. The chain actor is its only writer; readers share it
//! through an `Arc` (RocksDB is safe for concurrent reads).
//!
//! Durability rule: an accept is one atomic write batch (block, height index, payload index, last
//! accepted), written with fsync before BlockAccept is answered. After a crash the store is
//! exactly at some last accepted block, never between two.

pub mod keys;

use crate::chain::{Block, CodecError, Id};
use keys::*;
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, Options, WriteBatch,
    WriteOptions, DB,
};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("rocksdb at {path}: {source}")]
    Open {
        path: PathBuf,
        source: rocksdb::Error,
    },
    #[error("rocksdb: {0}")]
    Db(#[from] rocksdb::Error),
    #[error("stored block {id} is corrupt: {source}")]
    Corrupt { id: Id, source: CodecError },
    #[error("stored value for {what} is corrupt")]
    CorruptMeta { what: &'static str },
    #[error("the store holds schema version {found}; this build reads version {SCHEMA_VERSION}")]
    Schema { found: u32 },
    #[error("the store belongs to a chain with genesis block {stored}, not {given}: wrong chain_data_dir?")]
    OtherChain { stored: Id, given: Id },
    #[error("accept of {id}: parent {parent} is not the last accepted block {last}")]
    NotOnTip { id: Id, parent: Id, last: Id },
}

/// Tunables that matter for this workload.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// fsync every accept before answering: the node's proposer VM must never be behind us.
    pub sync_writes: bool,
    /// RocksDB block cache size; reads of recent blocks are served from it.
    pub cache_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            sync_writes: true,
            cache_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The accepted chain on disk.
pub struct Store {
    db: DB,
    options: StoreOptions,
}

impl Store {
    /// Opens (creating if needed) the store under `chain_data_dir`, then makes sure it holds the
    /// chain that starts with `genesis`: a fresh store gets it written as accepted block 0; an
    /// existing one must have the same genesis.
    pub fn open(
        chain_data_dir: &Path,
        genesis: &Block,
        options: StoreOptions,
    ) -> Result<Store, StorageError> {
        let path = chain_data_dir.join(DB_DIR);
        let mut db_options = Options::default();
        db_options.create_if_missing(true);
        db_options.create_missing_column_families(true);
        // One cache shared by every column family.
        let cache =
            Cache::new_lru_cache(usize::try_from(options.cache_bytes).unwrap_or(usize::MAX));
        let cfs = ALL_CFS.iter().map(|name| {
            let mut table = BlockBasedOptions::default();
            table.set_block_cache(&cache);
            let mut cf_options = Options::default();
            cf_options.set_block_based_table_factory(&table);
            ColumnFamilyDescriptor::new(*name, cf_options)
        });
        let db = DB::open_cf_descriptors(&db_options, &path, cfs)
            .map_err(|source| StorageError::Open { path, source })?;
        let store = Store { db, options };
        store.check_or_init(genesis)?;
        Ok(store)
    }

    fn cf(&self, name: &str) -> &ColumnFamily {
        // The column families are created at open from ALL_CFS; a missing one is a bug here.
        self.db
            .cf_handle(name)
            .expect("column family opened at start")
    }

    fn check_or_init(&self, genesis: &Block) -> Result<(), StorageError> {
        let genesis_id = genesis.id();
        match self.db.get_cf(self.cf(CF_META), META_SCHEMA_VERSION)? {
            Some(raw) => {
                let found = u32::from_be_bytes(raw.as_slice().try_into().map_err(|_| {
                    StorageError::CorruptMeta {
                        what: "schema version",
                    }
                })?);
                if found != SCHEMA_VERSION {
                    return Err(StorageError::Schema { found });
                }
                let stored = self
                    .meta_id(META_GENESIS)?
                    .ok_or(StorageError::CorruptMeta { what: "genesis id" })?;
                if stored != genesis_id {
                    return Err(StorageError::OtherChain {
                        stored,
                        given: genesis_id,
                    });
                }
                Ok(())
            }
            None => {
                let mut batch = WriteBatch::default();
                self.put_accepted(&mut batch, genesis_id, genesis);
                batch.put_cf(self.cf(CF_META), META_GENESIS, genesis_id.as_bytes());
                batch.put_cf(
                    self.cf(CF_META),
                    META_SCHEMA_VERSION,
                    SCHEMA_VERSION.to_be_bytes(),
                );
                self.write(batch)
            }
        }
    }

    fn meta_id(&self, key: &[u8]) -> Result<Option<Id>, StorageError> {
        match self.db.get_pinned_cf(self.cf(CF_META), key)? {
            None => Ok(None),
            Some(raw) => Id::from_slice(&raw)
                .map(Some)
                .ok_or(StorageError::CorruptMeta { what: "id" }),
        }
    }

    fn put_accepted(&self, batch: &mut WriteBatch, id: Id, block: &Block) {
        batch.put_cf(self.cf(CF_BLOCKS), id.as_bytes(), block.encode());
        batch.put_cf(self.cf(CF_HEIGHTS), height_key(block.height), id.as_bytes());
        // The first accepted block with a payload is its proof; later repeats don't move it.
        if self.payload_block(&block.data).ok().flatten().is_none() {
            batch.put_cf(self.cf(CF_PAYLOADS), block.data, id.as_bytes());
        }
        batch.put_cf(self.cf(CF_META), META_LAST_ACCEPTED, id.as_bytes());
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let mut write_options = WriteOptions::default();
        write_options.set_sync(self.options.sync_writes);
        let started = std::time::Instant::now();
        self.db.write_opt(batch, &write_options)?;
        metrics::histogram!(crate::metrics::ROCKSDB_WRITE_SECONDS)
            .record(started.elapsed().as_secs_f64());
        Ok(())
    }

    /// Records `block` as accepted on top of the current last accepted block, atomically.
    pub fn accept(&self, id: Id, block: &Block) -> Result<(), StorageError> {
        let last = self.last_accepted_id()?;
        if block.parent != last {
            return Err(StorageError::NotOnTip {
                id,
                parent: block.parent,
                last,
            });
        }
        let mut batch = WriteBatch::default();
        self.put_accepted(&mut batch, id, block);
        self.write(batch)
    }

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
            Some(raw) => Block::decode(&raw)
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

    /// The accepted block that first included `payload`, if any.
    pub fn payload_block(&self, payload: &[u8; 32]) -> Result<Option<Id>, StorageError> {
        match self.db.get_pinned_cf(self.cf(CF_PAYLOADS), payload)? {
            None => Ok(None),
            Some(raw) => Id::from_slice(&raw)
                .map(Some)
                .ok_or(StorageError::CorruptMeta {
                    what: "payload index",
                }),
        }
    }

    /// Proves the store can still be written (health checks), in two parts, because either can
    /// fail alone:
    /// 1. a synced write batch (rewrites the schema version with its own value): fails once
    ///    RocksDB has stopped taking writes (a background error, a full or failing disk);
    /// 2. creating, fsyncing and removing [`HEALTH_PROBE_FILE`] in the RocksDB directory, then
    ///    fsyncing the directory. RocksDB keeps appending to its open WAL even when the directory
    ///    no longer accepts new files, so part 1 alone would pass until the next memtable flush
    ///    or WAL rotation fails and stops the store.
    ///
    /// Blocking (fsyncs): call it off the async runtime.
    pub fn probe_write(&self) -> Result<(), ProbeError> {
        let mut batch = WriteBatch::default();
        batch.put_cf(
            self.cf(CF_META),
            META_SCHEMA_VERSION,
            SCHEMA_VERSION.to_be_bytes(),
        );
        let mut synced = WriteOptions::default();
        synced.set_sync(true);
        self.db
            .write_opt(batch, &synced)
            .map_err(ProbeError::Write)?;

        let dir = self.db.path();
        let file = dir.join(HEALTH_PROBE_FILE);
        fn failed(step: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ProbeError {
            let path = path.to_path_buf();
            move |source| ProbeError::File { step, path, source }
        }
        let mut probe = std::fs::File::create(&file).map_err(failed("create", &file))?;
        std::io::Write::write_all(&mut probe, b"stampvm health probe; safe to delete\n")
            .and_then(|()| probe.sync_all())
            .map_err(failed("write and fsync", &file))?;
        drop(probe);
        std::fs::remove_file(&file).map_err(failed("remove", &file))?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(failed("fsync directory", dir))
    }
}

/// The file [`Store::probe_write`] creates and removes in the RocksDB directory. RocksDB ignores
/// files whose names it does not use; a leftover one (a crash mid-probe) is harmless.
pub const HEALTH_PROBE_FILE: &str = "HEALTH-PROBE";

/// Why [`Store::probe_write`] failed: the text says which part and why.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("synced write refused by rocksdb: {0}")]
    Write(rocksdb::Error),
    #[error("{step} {}: {source}", path.display())]
    File {
        step: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::genesis_block;

    fn child(parent: &Block, data: u8) -> Block {
        Block {
            parent: parent.id(),
            height: parent.height + 1,
            timestamp: parent.timestamp + 1,
            data: [data; 32],
        }
    }

    #[test]
    fn fresh_store_holds_genesis_then_resumes_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let genesis = genesis_block(b"hello").unwrap();
        let one = child(&genesis, 1);
        {
            let store = Store::open(dir.path(), &genesis, StoreOptions::default()).unwrap();
            assert_eq!(store.last_accepted().unwrap(), (genesis.id(), genesis));
            store.accept(one.id(), &one).unwrap();
        }
        let store = Store::open(dir.path(), &genesis, StoreOptions::default()).unwrap();
        assert_eq!(store.last_accepted().unwrap(), (one.id(), one));
        assert_eq!(store.block_id_at_height(1).unwrap(), Some(one.id()));
        assert_eq!(store.block_id_at_height(0).unwrap(), Some(genesis.id()));
        assert_eq!(store.block_id_at_height(2).unwrap(), None);
        assert_eq!(store.payload_block(&[1; 32]).unwrap(), Some(one.id()));
        assert_eq!(store.block(&Id([9; 32])).unwrap(), None);
    }

    #[test]
    fn another_genesis_is_another_chain() {
        let dir = tempfile::tempdir().unwrap();
        let genesis = genesis_block(b"a").unwrap();
        drop(Store::open(dir.path(), &genesis, StoreOptions::default()).unwrap());
        let other = genesis_block(b"b").unwrap();
        assert!(matches!(
            Store::open(dir.path(), &other, StoreOptions::default()),
            Err(StorageError::OtherChain { .. })
        ));
    }

    #[test]
    fn accept_must_extend_the_tip() {
        let dir = tempfile::tempdir().unwrap();
        let genesis = genesis_block(b"a").unwrap();
        let store = Store::open(dir.path(), &genesis, StoreOptions::default()).unwrap();
        let one = child(&genesis, 1);
        let sibling = child(&genesis, 2);
        store.accept(one.id(), &one).unwrap();
        assert!(matches!(
            store.accept(sibling.id(), &sibling),
            Err(StorageError::NotOnTip { .. })
        ));
        assert_eq!(store.last_accepted_id().unwrap(), one.id());
    }
}
