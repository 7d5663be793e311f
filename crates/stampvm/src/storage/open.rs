//! Opening the store: RocksDB's options (one memory budget, filters, WAL recovery), the
//! read-only inspection of an existing store before anything is written, genesis for a fresh
//! one, and the schema upgrade of an older one.

use super::integrity::{self, Damage, Survey};
use super::keys::*;
use super::{StorageError, Store, StoreOptions};
use crate::chain::{Block, ChainFormat, Genesis, Id};
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, DBRecoveryMode, Options, WriteBatch,
    WriteBufferManager, DB,
};
use std::path::Path;

/// Filter strength, as a Bloom filter's bits per key. Every false positive reads a data block
/// into the block cache, so the cache warms with random blocks at the rate payloads are checked.
/// With 10-bit Bloom filters (~1% false positives) a TimestampVM chain's cache grew 18 MiB in a
/// 10-minute soak, with these 5.3 MiB. Ribbon filters of this strength err several times less
/// often in about the ~10 bits a key those Bloom filters took (Ribbon needs ~30% fewer bits).
const FILTER_BITS_PER_KEY: f64 = 14.0;

/// How [`Store::open`] opens RocksDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// To check an existing store without changing a byte of it.
    ReadOnly,
    /// To run the chain; `create`: a new store, in a directory that holds none.
    ReadWrite { create: bool },
}

/// How RocksDB replays its write-ahead log at open.
///
/// With `sync_writes`, every accept is fsynced before the node hears of it, so the only WAL record
/// that may be incomplete after a crash is the one being written when it came: a kill -9 can stop
/// RocksDB between the `write` calls of one record (a batched block's record is hundreds of KiB),
/// or the kernel within one, and a power loss leaves that unsynced tail torn or zeroed. That
/// record was never acknowledged, so dropping it loses nothing: `TolerateCorruptedTailRecords`
/// drops exactly an incomplete last record, and refuses to open on anything else (a checksum
/// mismatch anywhere, a bad record in the middle), which can only be damage to acknowledged
/// accepts. `AbsoluteConsistency` would refuse after every crash that tore a record, and the
/// crash test kills the plugin mid-write on purpose; `PointInTime`, RocksDB's default, silently
/// stops the replay at the first bad record, which is how flipped WAL bytes once brought a chain
/// back 67 blocks lower without a word.
///
/// Without `sync_writes` the operator has accepted that a power loss may lose the newest
/// accepts, and such a loss may leave garbage anywhere in the unsynced part of the WAL:
/// `PointInTime` then resumes at the last consistent point before it, which the node's
/// bootstrapping fills in from peers, and the open logs where it resumed.
fn wal_recovery_mode(sync_writes: bool) -> DBRecoveryMode {
    if sync_writes {
        DBRecoveryMode::TolerateCorruptedTailRecords
    } else {
        DBRecoveryMode::PointInTime
    }
}

/// What [`Store::inspect`] found.
enum Inspection {
    /// No chain yet: genesis is to be written.
    Empty,
    /// A chain of a readable `schema`, consistent up to its last accepted block `tip`.
    Chain { schema: u32, tip: (Id, Block) },
}

impl Store {
    /// Opens (creating if needed) the store under `chain_data_dir`, then makes sure it holds the
    /// chain that starts with `genesis`: a fresh store gets its block written as accepted block
    /// 0; an existing one must have the same genesis block (and so the same format), and be
    /// consistent ([`integrity`]).
    pub fn open(
        chain_data_dir: &Path,
        genesis: &Genesis,
        options: StoreOptions,
    ) -> Result<Store, StorageError> {
        let path = chain_data_dir.join(DB_DIR);
        let survey = integrity::survey(&path)?;
        let genesis_block = genesis.block();
        let at_open = |e: StorageError| e.at_open(&path);
        // An existing store is checked read-only first. A read-write open already changes the
        // directory: it flushes the replayed write-ahead log into new tables, writes a new
        // MANIFEST and deletes every table the MANIFEST does not name. Over a MANIFEST cut in
        // half that deleted most of the chain's tables before the checks below could refuse
        // the store, and with them what RocksDB's repair tool could have salvaged. A read-only
        // open changes nothing; it replays the log into memory once more (a second or less even
        // for a batched chain's full 128 MiB of memtables).
        if matches!(survey, Survey::Existing { .. }) && Store::has_every_family(&path)? {
            let inspected = Store::open_db(&path, genesis.format, options, Access::ReadOnly)?;
            inspected
                .inspect(genesis_block.id(), survey)
                .map_err(at_open)?;
        }
        let access = Access::ReadWrite {
            create: survey == Survey::Fresh,
        };
        let store = Store::open_db(&path, genesis.format, options, access)?;
        let (tip, block) = store
            .check_or_init(&genesis_block, survey)
            .map_err(at_open)?;
        // Every open says where the chain resumes, so a store that came back lower than the
        // node expects (an unsynced chain after a power loss) shows in the log.
        tracing::info!(
            path = %path.display(),
            height = block.height,
            id = %tip,
            timestamp = block.timestamp,
            sync_writes = options.sync_writes,
            "chain store opened at its last accepted block"
        );
        Ok(store)
    }

    /// Whether the store at `path` has every column family of this schema (a schema 1 store
    /// has no Merkle family until its first read-write open creates it).
    fn has_every_family(path: &Path) -> Result<bool, StorageError> {
        let families = DB::list_cf(&Options::default(), path).map_err(|source| {
            StorageError::Open {
                path: path.to_path_buf(),
                source,
            }
            .at_open(path)
        })?;
        Ok(ALL_CFS
            .iter()
            .all(|name| families.iter().any(|family| family == name)))
    }

    /// RocksDB with this store's options, opened as `access` says.
    fn open_db(
        path: &Path,
        format: ChainFormat,
        options: StoreOptions,
        access: Access,
    ) -> Result<Store, StorageError> {
        let mut db_options = Options::default();
        // Only a directory without a store may get a new one: RocksDB would otherwise take a
        // store whose CURRENT file is lost for a new one (and [`integrity::survey`] refuses it).
        db_options.create_if_missing(access == Access::ReadWrite { create: true });
        // Old stores lack the families later schemas added (schema 1 had no Merkle family).
        db_options.create_missing_column_families(true);
        db_options.set_wal_recovery_mode(wal_recovery_mode(options.sync_writes));
        // Every flush writes all column families' memtables in one step, recorded in one
        // MANIFEST edit. Left off, each family flushed on its own, and a store that lost its
        // write-ahead log came back with its families at different points (blocks without their
        // height index); now any recovered state is one some accept left.
        db_options.set_atomic_flush(true);
        // One memory budget for RocksDB: the block cache, shared by every column family, also
        // carries the memtables' size (the write buffer manager reserves it there). Left alone,
        // each family may grow its own 64 MiB memtable and a batched chain writes three hard;
        // with a separate budget the memory swung by the memtables' fill on every flush. Now a
        // flush hands its space to cached blocks, and the total stays at the cap.
        let cache_bytes = usize::try_from(options.cache_bytes).unwrap_or(usize::MAX);
        let memtable_bytes = usize::try_from(options.memtable_bytes).unwrap_or(usize::MAX);
        let cache = Cache::new_lru_cache(cache_bytes.saturating_add(memtable_bytes));
        let memtables = WriteBufferManager::new_write_buffer_manager_with_cache(
            memtable_bytes,
            false,
            cache.clone(),
        );
        db_options.set_write_buffer_manager(&memtables);
        let cfs = ALL_CFS.iter().map(|name| {
            let mut table = BlockBasedOptions::default();
            table.set_block_cache(&cache);
            // Most payload lookups are for payloads never accepted (every proposal the mempool
            // has room for, and every block's payloads): filters answer "absent" without reading a data
            // block, on disk and, for the payload index, in the memtable too. See
            // FILTER_BITS_PER_KEY for why Ribbon, and the flushes' level-0 files keep Bloom
            // filters: they are short-lived, and Ribbon costs more CPU to build.
            table.set_hybrid_ribbon_filter(FILTER_BITS_PER_KEY, 1);
            // Filters and indexes live in the block cache, not beside it: left outside they
            // grow with the database (about 1.3 bytes per payload ever accepted) and the
            // plugin's memory with them. The newest files' stay pinned: they are read most.
            table.set_cache_index_and_filter_blocks(true);
            table.set_pin_l0_filter_and_index_blocks_in_cache(true);
            let mut cf_options = Options::default();
            cf_options.set_block_based_table_factory(&table);
            // A family's memtable is at most half the budget. What a memtable sizes from this
            // (its arena blocks, its prefix Bloom filter) then stays small against a small
            // budget, which buys room for writes, not fixed costs. At the batched chain's 128 MiB
            // it is RocksDB's default, 64 MiB. (RocksDB raises anything under 64 KiB to that.)
            cf_options.set_write_buffer_size(memtable_bytes / 2);
            if *name == CF_PAYLOADS {
                cf_options.set_memtable_whole_key_filtering(true);
                cf_options.set_memtable_prefix_bloom_ratio(0.1);
            }
            ColumnFamilyDescriptor::new(*name, cf_options)
        });
        let opened = match access {
            Access::ReadOnly => DB::open_cf_descriptors_read_only(&db_options, path, cfs, false),
            Access::ReadWrite { .. } => DB::open_cf_descriptors(&db_options, path, cfs),
        };
        let db = opened.map_err(|source| {
            StorageError::Open {
                path: path.to_path_buf(),
                source,
            }
            .at_open(path)
        })?;
        Ok(Store {
            db,
            options,
            format,
            cache,
            memtables,
        })
    }

    /// What an opened store holds, read only: nothing yet, or a chain (after checking it is
    /// `genesis`'s and consistent, [`integrity`]). Data without metadata is damage.
    fn inspect(&self, genesis_id: Id, survey: Survey) -> Result<Inspection, StorageError> {
        let Some(raw) = self.db.get_cf(self.cf(CF_META), META_SCHEMA_VERSION)? else {
            // No metadata: only a store that never held a write may get its genesis.
            if let Some(family) = self.first_family_with_data()? {
                return Err(self.damaged(Damage::MetadataMissing { holds: family }));
            }
            if survey == (Survey::Existing { held_data: true }) {
                return Err(self.damaged(Damage::MetadataMissing {
                    holds: "its table files or write-ahead log",
                }));
            }
            return Ok(Inspection::Empty);
        };
        let schema = u32::from_be_bytes(raw.as_slice().try_into().map_err(|_| {
            StorageError::CorruptMeta {
                what: "schema version",
            }
        })?);
        if !READABLE_SCHEMAS.contains(&schema) {
            return Err(StorageError::Schema { found: schema });
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
        let tip = self.check_tip(genesis_id)?;
        Ok(Inspection::Chain { schema, tip })
    }

    /// [`Store::inspect`], then writes genesis into an empty store or marks an older schema
    /// current; returns the last accepted block.
    fn check_or_init(&self, genesis: &Block, survey: Survey) -> Result<(Id, Block), StorageError> {
        let genesis_id = genesis.id();
        match self.inspect(genesis_id, survey)? {
            Inspection::Chain { schema, tip } => {
                if schema != SCHEMA_VERSION {
                    tracing::info!(from = schema, to = SCHEMA_VERSION, "store schema upgraded");
                    let mut batch = WriteBatch::default();
                    batch.put_cf(
                        self.cf(CF_META),
                        META_SCHEMA_VERSION,
                        SCHEMA_VERSION.to_be_bytes(),
                    );
                    self.write(batch)?;
                }
                Ok(tip)
            }
            Inspection::Empty => {
                let mut batch = WriteBatch::default();
                self.put_accepted(&mut batch, genesis_id, genesis, None)?;
                batch.put_cf(self.cf(CF_META), META_GENESIS, genesis_id.as_bytes());
                batch.put_cf(
                    self.cf(CF_META),
                    META_SCHEMA_VERSION,
                    SCHEMA_VERSION.to_be_bytes(),
                );
                self.write(batch)?;
                Ok((genesis_id, genesis.clone()))
            }
        }
    }
}
