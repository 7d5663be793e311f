//! RocksDB storage of the accepted chain. The chain actor is its only writer; readers share it
//! through an `Arc` (RocksDB is safe for concurrent reads).
//!
//! Durability rule: an accept is one atomic write batch (block, height index, payload index,
//! Merkle nodes, last accepted), written with fsync before BlockAccept is answered. After a crash the store is
//! exactly at some last accepted block, never between two. A store damaged in a way that breaks
//! this rule (deleted or corrupt RocksDB files, a lost write-ahead log) is refused at open
//! ([`integrity`]), never started over at genesis or resumed at a lower tip without a word.
//!
//! One file per job: `open` (RocksDB's options, inspection, genesis, schema upgrade), `accept`
//! (the one write batch per accept), `reads` (tip, blocks, payload index), `proofs` (inclusion
//! proofs from the stored Merkle pages), `probe` (the health check's write probe), [`integrity`]
//! (what a damaged store looks like) and [`keys`] (column families and key layouts).

mod accept;
pub mod integrity;
pub mod keys;
mod open;
mod probe;
mod proofs;
mod reads;
#[cfg(test)]
mod tests;

use crate::chain::{ChainFormat, CodecError, Id};
pub use integrity::Damage;
use keys::READABLE_SCHEMAS;
pub use probe::{ProbeError, HEALTH_PROBE_FILE};
use rocksdb::{Cache, ColumnFamily, ErrorKind, WriteBufferManager, DB};
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
    pub(super) fn at_open(self, path: &Path) -> StorageError {
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

/// What RocksDB's memory budget holds now, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RocksdbMemory {
    /// All memtables together (at most the memtable budget).
    pub memtables: usize,
    /// The block cache's whole use: cached blocks, filters and indexes, and the memtables'
    /// reservation (at most its capacity, `cache_bytes` plus the memtable budget).
    pub block_cache: usize,
}

impl Store {
    /// The chain's block format, from its genesis.
    /// Whether each accept is fsynced before it is answered (the chain config's
    /// `rocksdb-sync-writes`): then an accept holds its thread for a disk flush.
    pub fn syncs_writes(&self) -> bool {
        self.options.sync_writes
    }

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

    pub(super) fn cf(&self, name: &str) -> &ColumnFamily {
        // The column families are created at open from ALL_CFS; a missing one is a bug here.
        self.db
            .cf_handle(name)
            .expect("column family opened at start")
    }
}
