//! RocksDB storage of the accepted chain. The chain actor is its only writer; readers share it
//! through an `Arc` (RocksDB is safe for concurrent reads).
//!
//! Durability rule: an accept is one atomic write batch (block, height index, payload index,
//! Merkle nodes, last accepted), written with fsync before BlockAccept is answered. After a crash the store is
//! exactly at some last accepted block, never between two. A store damaged in a way that breaks
//! this rule (deleted or corrupt RocksDB files, a lost write-ahead log) is refused at open
//! ([`integrity`]), never started over at genesis or resumed at a lower tip without a word.

pub mod integrity;
pub mod keys;

use crate::chain::merkle::{self, Tree};
use crate::chain::{Block, ChainFormat, CodecError, Genesis, Id, Payload, Proof};
pub use integrity::Damage;
use integrity::Survey;
use keys::*;
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DBRecoveryMode, ErrorKind,
    Options, WriteBatch, WriteBufferManager, WriteOptions, DB,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, thiserror::Error)]
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
    #[error(
        "the store holds schema version {found}; this build reads versions {READABLE_SCHEMAS:?}"
    )]
    Schema { found: u32 },
    #[error("the store belongs to a chain with genesis block {stored}, not {given}: wrong chain_data_dir?")]
    OtherChain { stored: Id, given: Id },
    #[error("accept of {id}: parent {parent} is not the last accepted block {last}")]
    NotOnTip { id: Id, parent: Id, last: Id },
    #[error("reading the store directory {path}: {source}")]
    Survey {
        path: PathBuf,
        source: Arc<std::io::Error>,
    },
    /// Refused at open: see [`integrity`]. The text says what the operator can do.
    #[error(
        "the chain store {path} is damaged: {damage}. stampvm will not start on it, since that \
         would lose or rewrite accepted blocks. Stop the node, then either restore the chain's \
         data directory from a backup taken while the node was stopped, or delete {path} so the \
         node bootstraps the chain again from its peers"
    )]
    Damaged { path: PathBuf, damage: Damage },
}

impl StorageError {
    /// An error met while opening and checking the store, as the operator should read it: what
    /// shows the store's files or values are corrupt is [`StorageError::Damaged`].
    fn at_open(self, path: &Path) -> StorageError {
        let corrupt = match &self {
            StorageError::Open { source, .. } | StorageError::Db(source) => {
                source.kind() == ErrorKind::Corruption
            }
            StorageError::Corrupt { .. } | StorageError::CorruptMeta { .. } => true,
            _ => false,
        };
        if !corrupt {
            return self;
        }
        let detail = match self {
            StorageError::Open { source, .. } => source.to_string(),
            other => other.to_string(),
        };
        StorageError::Damaged {
            path: path.to_path_buf(),
            damage: Damage::Unreadable(detail),
        }
    }
}

/// Filter strength, as a Bloom filter's bits per key. Every false positive reads a data block
/// into the block cache, so the cache warms with random blocks at the rate payloads are checked.
/// With 10-bit Bloom filters (~1% false positives) a TimestampVM chain's cache grew 18 MiB in a
/// 10-minute soak, with these 5.3 MiB. Ribbon filters of this strength err several times less
/// often in about the ~10 bits a key those Bloom filters took (Ribbon needs ~30% fewer bits).
const FILTER_BITS_PER_KEY: f64 = 14.0;

/// Tunables that matter for this workload.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// fsync every accept before answering: the node's proposer VM must never be behind us.
    pub sync_writes: bool,
    /// RocksDB block cache size besides the memtables' budget; reads of recent blocks, and the
    /// tables' filters and indexes, are served from it.
    pub cache_bytes: u64,
    /// All memtables together, before RocksDB flushes one; charged to the block cache, whose
    /// capacity is this plus `cache_bytes`. It is also how far RocksDB's memory swings between
    /// flushes, and how long a slow chain takes to reach its plateau.
    pub memtable_bytes: u64,
}

impl StoreOptions {
    /// The options a chain of `format` runs with under `config`.
    pub fn for_chain(config: &crate::config::ChainConfig, format: ChainFormat) -> StoreOptions {
        const MIB: u64 = 1024 * 1024;
        StoreOptions {
            sync_writes: config.rocksdb_sync_writes,
            cache_bytes: config.rocksdb_cache_mb * MIB,
            memtable_bytes: config.memtable_mb_for(format) * MIB,
        }
    }
}

/// A TimestampVM-format chain's options under the default config.
impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions::for_chain(&crate::config::ChainConfig::default(), ChainFormat::Single)
    }
}

/// The accepted chain on disk.
pub struct Store {
    db: DB,
    options: StoreOptions,
    format: ChainFormat,
    /// Held for [`Store::memory`]; RocksDB holds its own references.
    cache: Cache,
    memtables: WriteBufferManager,
}

/// How [`Store::open`] opens RocksDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// To check an existing store without changing a byte of it.
    ReadOnly,
    /// To run the chain; `create`: a new store, in a directory that holds none.
    ReadWrite { create: bool },
}

/// What RocksDB's memory budget holds now, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RocksdbMemory {
    /// All memtables together (at most the memtable budget).
    pub memtables: usize,
    /// The block cache's whole use: cached blocks, filters and indexes, and the memtables'
    /// reservation (at most its capacity, `cache_bytes` plus the memtable budget).
    pub block_cache: usize,
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

/// A payload index value, of either schema.
fn decode_location(raw: &[u8]) -> Result<StoredLocation, StorageError> {
    PayloadLocation::decode(raw).ok_or(StorageError::CorruptMeta {
        what: "payload index",
    })
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

    /// The chain's block format, from its genesis.
    pub fn format(&self) -> ChainFormat {
        self.format
    }

    /// RocksDB's memory now: an atomic read for the memtables, and for the cache one uncontended
    /// lock per cache shard (at most 64), a few microseconds beside an accept's write.
    pub fn memory(&self) -> RocksdbMemory {
        RocksdbMemory {
            memtables: self.memtables.get_usage(),
            block_cache: self.cache.get_usage(),
        }
    }

    fn cf(&self, name: &str) -> &ColumnFamily {
        // The column families are created at open from ALL_CFS; a missing one is a bug here.
        self.db
            .cf_handle(name)
            .expect("column family opened at start")
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

    fn meta_id(&self, key: &[u8]) -> Result<Option<Id>, StorageError> {
        match self.db.get_pinned_cf(self.cf(CF_META), key)? {
            None => Ok(None),
            Some(raw) => Id::from_slice(&raw)
                .map(Some)
                .ok_or(StorageError::CorruptMeta { what: "id" }),
        }
    }

    /// Adds an accepted block to `batch`: the block, its height, where each payload lies, its
    /// Merkle nodes (from `tree` when verification kept it, else hashed here), the new tip.
    fn put_accepted(
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

    fn payload_location(&self, payload: &Payload) -> Result<Option<StoredLocation>, StorageError> {
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
    use crate::chain::parse_genesis;

    fn single_genesis(data: &[u8]) -> Genesis {
        parse_genesis(data).unwrap()
    }

    fn child(parent: &Block, data: u8) -> Block {
        Block::single(
            parent.id(),
            parent.height + 1,
            parent.timestamp + 1,
            [data; 32],
        )
    }

    fn open(dir: &Path, genesis: &Genesis) -> Store {
        Store::open(dir, genesis, StoreOptions::default()).unwrap()
    }

    #[test]
    fn fresh_store_holds_genesis_then_resumes_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let genesis = single_genesis(b"hello");
        let block0 = genesis.block();
        let one = child(&block0, 1);
        {
            let store = open(dir.path(), &genesis);
            assert_eq!(
                store.last_accepted().unwrap(),
                (block0.id(), block0.clone())
            );
            store.accept(one.id(), &one, None).unwrap();
        }
        let store = open(dir.path(), &genesis);
        assert_eq!(store.last_accepted().unwrap(), (one.id(), one.clone()));
        assert_eq!(store.block_id_at_height(1).unwrap(), Some(one.id()));
        assert_eq!(store.block_id_at_height(0).unwrap(), Some(block0.id()));
        assert_eq!(store.block_id_at_height(2).unwrap(), None);
        assert_eq!(store.payload_block(&[1; 32]).unwrap(), Some(one.id()));
        assert_eq!(store.block(&Id([9; 32])).unwrap(), None);
        // The trivial proof of a single-payload block.
        let proof = store.proof(&[1; 32]).unwrap().unwrap();
        assert_eq!(
            (proof.block_id, proof.height, proof.count),
            (one.id(), 1, 1)
        );
        assert!(proof.path.is_empty() && proof.path_is_valid());
        assert_eq!(store.proof(&[2; 32]).unwrap(), None);
    }

    #[test]
    fn another_genesis_is_another_chain() {
        let dir = tempfile::tempdir().unwrap();
        drop(open(dir.path(), &single_genesis(b"a")));
        assert!(matches!(
            Store::open(dir.path(), &single_genesis(b"b"), StoreOptions::default()),
            Err(StorageError::OtherChain { .. })
        ));
        // The same data as a batched chain is another chain too.
        let batched = parse_genesis(br#"{"format": "batched", "data": "a"}"#).unwrap();
        assert!(matches!(
            Store::open(dir.path(), &batched, StoreOptions::default()),
            Err(StorageError::OtherChain { .. })
        ));
    }

    #[test]
    fn accept_must_extend_the_tip() {
        let dir = tempfile::tempdir().unwrap();
        let genesis = single_genesis(b"a");
        let store = open(dir.path(), &genesis);
        let one = child(&genesis.block(), 1);
        let sibling = child(&genesis.block(), 2);
        store.accept(one.id(), &one, None).unwrap();
        assert!(matches!(
            store.accept(sibling.id(), &sibling, None),
            Err(StorageError::NotOnTip { .. })
        ));
        assert_eq!(store.last_accepted_id().unwrap(), one.id());
    }

    fn payloads(count: u32, salt: u8) -> Vec<Payload> {
        (0..count)
            .map(|i| crate::chain::Id::sha256(&[&i.to_be_bytes()[..], &[salt]].concat()).0)
            .collect()
    }

    #[test]
    fn batched_blocks_prove_every_payload_from_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let genesis = parse_genesis(br#"{"format": "batched", "data": "docs"}"#).unwrap();
        let store = open(dir.path(), &genesis);
        let mut parent = genesis.block();
        for (count, salt) in [(1, 1), (2, 2), (3, 3), (1000, 4)] {
            let batch = payloads(count, salt);
            let block =
                Block::batched(parent.id(), parent.height + 1, 1_700_000_000, batch.clone())
                    .unwrap();
            store.accept(block.id(), &block, None).unwrap();
            assert_eq!(store.accepted_among(&batch).unwrap(), batch);
            for (index, payload) in batch.iter().enumerate() {
                let proof = store.proof(payload).unwrap().unwrap();
                assert!(proof.path_is_valid(), "{index} of {count}");
                assert_eq!(proof.root, block.root());
                assert_eq!((proof.index, proof.count), (index as u64, u64::from(count)));
                assert_eq!(proof.block_id, block.id());
            }
            parent = block;
        }
        assert!(store.accepted_among(&payloads(5, 9)).unwrap().is_empty());
        // Reopened, the chain reads its batched blocks back.
        drop(store);
        let store = open(dir.path(), &genesis);
        assert_eq!(store.last_accepted().unwrap(), (parent.id(), parent));
    }

    #[test]
    fn a_schema_1_store_is_read_and_marked_2() {
        let dir = tempfile::tempdir().unwrap();
        let genesis = single_genesis(b"old");
        let one = child(&genesis.block(), 1);
        {
            let store = open(dir.path(), &genesis);
            store.accept(one.id(), &one, None).unwrap();
            // What schema 1 wrote: the block ID alone, and version 1.
            let mut batch = WriteBatch::default();
            batch.put_cf(store.cf(CF_PAYLOADS), [1u8; 32], one.id().as_bytes());
            batch.put_cf(store.cf(CF_META), META_SCHEMA_VERSION, 1u32.to_be_bytes());
            store.write(batch).unwrap();
        }
        let store = open(dir.path(), &genesis);
        let proof = store.proof(&[1; 32]).unwrap().unwrap();
        assert_eq!(
            (proof.block_id, proof.height, proof.timestamp),
            (one.id(), 1, 1)
        );
        assert!(proof.path_is_valid());
        let version = store
            .db
            .get_cf(store.cf(CF_META), META_SCHEMA_VERSION)
            .unwrap();
        assert_eq!(version.unwrap(), SCHEMA_VERSION.to_be_bytes());
    }
}
