//! The health check's write probe: proves the store and its directory still take writes.

use super::keys::*;
use super::Store;
use rocksdb::{WriteBatch, WriteOptions};
use std::path::{Path, PathBuf};

impl Store {
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
