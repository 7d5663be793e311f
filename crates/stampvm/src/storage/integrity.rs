//! The store's checks at open: a damaged store is refused, never silently started over.
//!
//! Two moments matter. Before RocksDB opens the directory, [`survey`] looks at its files: RocksDB
//! itself, told to create a missing store, would take a directory whose `CURRENT` file is gone for
//! a new database (and delete the old tables as obsolete), and it cannot know that a deleted
//! write-ahead log held the newest accepted blocks. After it opens, `Store::check_tip` checks
//! that the metadata and the height index agree: the last accepted block is stored, indexed at its
//! height, its parent one below, genesis at 0, and nothing is indexed above it. A few point reads
//! and two seeks, whatever the chain's length.
//!
//! Every refusal is a [`Damage`], which [`StorageError::Damaged`] words with what the operator can
//! do about it.

use super::keys::*;
use super::{StorageError, Store};
use crate::chain::{Block, Id};
use rocksdb::{ColumnFamily, IteratorMode};
use std::path::Path;
use std::sync::Arc;

/// What is wrong with a store that will not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Damage {
    #[error(
        "its CURRENT file is missing, but {files} other RocksDB files (MANIFEST, tables, \
         write-ahead logs) remain"
    )]
    NoCurrent { files: usize },
    #[error(
        "it has no write-ahead log (*.log file); RocksDB always keeps one, so it was deleted, \
         and with it the most recently accepted blocks"
    )]
    NoWal,
    #[error("its CURRENT file names {manifest}, which is missing")]
    NoManifest { manifest: String },
    #[error("RocksDB cannot read it: {0}")]
    Unreadable(String),
    #[error("its chain metadata (schema version) is missing, but {holds} hold data")]
    MetadataMissing { holds: &'static str },
    #[error("the ID of its last accepted block is missing")]
    NoTip,
    #[error("its last accepted block {tip} is missing")]
    TipBlockMissing { tip: Id },
    #[error("its last accepted block {tip} (height {height}) is not in the height index (found {indexed:?})")]
    TipNotIndexed {
        tip: Id,
        height: u64,
        indexed: Option<Id>,
    },
    #[error("the parent {parent} of its last accepted block (height {height}) is not the block indexed at height {below} (found {indexed:?})")]
    ParentNotIndexed {
        parent: Id,
        height: u64,
        below: u64,
        indexed: Option<Id>,
    },
    #[error("its height index names {indexed:?} at height 0, not the genesis block {genesis}")]
    GenesisNotIndexed { genesis: Id, indexed: Option<Id> },
    #[error("its {family} column family holds height {height}, above the last accepted block's height {tip_height}")]
    AboveTip {
        family: &'static str,
        height: u64,
        tip_height: u64,
    },
}

/// What the store's directory held before RocksDB opened it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Survey {
    /// No RocksDB store yet (no directory, or only files RocksDB has not started a store with):
    /// RocksDB creates one.
    Fresh,
    /// A RocksDB store. `held_data`: it had tables or a non-empty write-ahead log, so it held
    /// writes (a store created by a first start that stopped before writing its genesis has
    /// neither).
    Existing { held_data: bool },
}

/// Looks at the files of the RocksDB directory `path` ([`Survey`]); [`StorageError::Damaged`]
/// when they show damage that RocksDB would not report (or would "repair" by starting over).
pub fn survey(path: &Path) -> Result<Survey, StorageError> {
    let io = |source: std::io::Error| StorageError::Survey {
        path: path.to_path_buf(),
        source: Arc::new(source),
    };
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Survey::Fresh),
        Err(e) => return Err(io(e)),
    };
    let (mut current, mut store_files, mut wals, mut wal_bytes, mut tables) = (false, 0, 0, 0, 0);
    for entry in entries {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        match FileKind::of(&name) {
            Some(FileKind::Current) => current = true,
            Some(FileKind::Manifest) => store_files += 1,
            Some(FileKind::Table) => {
                store_files += 1;
                tables += 1;
            }
            Some(FileKind::Wal) => {
                store_files += 1;
                wals += 1;
                wal_bytes += entry.metadata().map_err(io)?.len();
            }
            None => {}
        }
    }
    if current {
        // RocksDB would report a missing MANIFEST as a plain I/O error ("No such file").
        let named = std::fs::read_to_string(path.join("CURRENT")).map_err(io)?;
        let manifest = named.trim_end_matches('\n');
        if FileKind::of(manifest) == Some(FileKind::Manifest) && !path.join(manifest).exists() {
            return Err(StorageError::Damaged {
                path: path.to_path_buf(),
                damage: Damage::NoManifest {
                    manifest: manifest.to_string(),
                },
            });
        }
    }
    let damage = match (current, store_files, wals) {
        (false, 0, _) => return Ok(Survey::Fresh),
        (false, files, _) => Damage::NoCurrent { files },
        // RocksDB opens a new WAL at every open and deletes an old one only once a newer one
        // exists, so an opened store always has one.
        (true, _, 0) => Damage::NoWal,
        (true, _, _) => {
            return Ok(Survey::Existing {
                held_data: tables > 0 || wal_bytes > 0,
            })
        }
    };
    Err(StorageError::Damaged {
        path: path.to_path_buf(),
        damage,
    })
}

/// The RocksDB files [`survey`] tells apart (RocksDB's names: `CURRENT`, `MANIFEST-000005`,
/// `000012.sst`, `000013.log`, `000014.blob`). Its info log is `LOG`, not a WAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Current,
    Manifest,
    Table,
    Wal,
}

impl FileKind {
    fn of(name: &str) -> Option<FileKind> {
        if name == "CURRENT" {
            return Some(FileKind::Current);
        }
        if name.starts_with("MANIFEST-") {
            return Some(FileKind::Manifest);
        }
        let (number, extension) = name.split_once('.')?;
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        match extension {
            "sst" | "blob" => Some(FileKind::Table),
            "log" => Some(FileKind::Wal),
            _ => None,
        }
    }
}

impl Store {
    /// The first column family holding any key, if any: a store without metadata must be empty.
    pub(super) fn first_family_with_data(&self) -> Result<Option<&'static str>, StorageError> {
        for name in ALL_CFS {
            if let Some(item) = self
                .db
                .iterator_cf(self.cf(name), IteratorMode::Start)
                .next()
            {
                item?;
                return Ok(Some(name));
            }
        }
        Ok(None)
    }

    /// The highest height a height-keyed column family holds (its last key's first 8 bytes).
    fn highest_height(&self, cf: &ColumnFamily) -> Result<Option<u64>, StorageError> {
        match self.db.iterator_cf(cf, IteratorMode::End).next() {
            None => Ok(None),
            Some(item) => {
                let (key, _) = item?;
                let height = key
                    .get(..8)
                    .and_then(|bytes| bytes.try_into().ok())
                    .map(u64::from_be_bytes)
                    .ok_or(StorageError::CorruptMeta {
                        what: "height-keyed key",
                    })?;
                Ok(Some(height))
            }
        }
    }

    /// Checks that the last accepted block and the height index agree (see the module docs) and
    /// returns the last accepted block.
    pub(super) fn check_tip(&self, genesis: Id) -> Result<(Id, Block), StorageError> {
        let damaged = |damage| self.damaged(damage);
        let tip = self
            .meta_id(META_LAST_ACCEPTED)?
            .ok_or_else(|| damaged(Damage::NoTip))?;
        let block = self
            .block(&tip)?
            .ok_or_else(|| damaged(Damage::TipBlockMissing { tip }))?;
        let height = block.height;
        let indexed = self.block_id_at_height(height)?;
        if indexed != Some(tip) {
            return Err(damaged(Damage::TipNotIndexed {
                tip,
                height,
                indexed,
            }));
        }
        if height > 0 {
            let below = height - 1;
            let indexed = self.block_id_at_height(below)?;
            if indexed != Some(block.parent) || self.block(&block.parent)?.is_none() {
                return Err(damaged(Damage::ParentNotIndexed {
                    parent: block.parent,
                    height,
                    below,
                    indexed,
                }));
            }
        }
        let indexed = self.block_id_at_height(0)?;
        if indexed != Some(genesis) {
            return Err(damaged(Damage::GenesisNotIndexed { genesis, indexed }));
        }
        for family in [CF_HEIGHTS, CF_MERKLE] {
            if let Some(found) = self.highest_height(self.cf(family))? {
                if found > height {
                    return Err(damaged(Damage::AboveTip {
                        family,
                        height: found,
                        tip_height: height,
                    }));
                }
            }
        }
        Ok((tip, block))
    }

    pub(super) fn damaged(&self, damage: Damage) -> StorageError {
        StorageError::Damaged {
            path: self.db.path().to_path_buf(),
            damage,
        }
    }
}

#[cfg(test)]
mod tests {
    //! Each test damages a real RocksDB store the way a disk, an operator or a bad copy can,
    //! then opens it again: the open must refuse with the damage named (and, for the directory
    //! checks, leave the files as they were), never start over at genesis or at a lower tip.
    use super::*;
    use crate::chain::{parse_genesis, Genesis};
    use crate::storage::StoreOptions;
    use rocksdb::WriteBatch;

    fn genesis() -> Genesis {
        parse_genesis(b"integrity").unwrap()
    }

    fn open_with(dir: &Path, sync_writes: bool) -> Result<Store, StorageError> {
        let options = StoreOptions {
            sync_writes,
            ..StoreOptions::default()
        };
        Store::open(dir, &genesis(), options)
    }

    fn open(dir: &Path) -> Result<Store, StorageError> {
        open_with(dir, true)
    }

    /// A store holding genesis and `blocks` accepted blocks (payload `[n; 32]` at height `n`),
    /// closed; returns the blocks, genesis first.
    fn chain(dir: &Path, blocks: u8) -> Vec<Block> {
        let store = open(dir).unwrap();
        let mut chain = vec![genesis().block()];
        for n in 1..=blocks {
            let parent = chain.last().unwrap();
            let block = Block::single(parent.id(), parent.height + 1, i64::from(n), [n; 32]);
            store.accept(block.id(), &block, None).unwrap();
            chain.push(block);
        }
        chain
    }

    /// Changes the closed store with `damage`, written by RocksDB alone (below the store's rules
    /// and checks), as a damaged disk or a bad copy could leave it.
    fn tamper(dir: &Path, damage: impl FnOnce(&Raw, &mut WriteBatch)) {
        let db =
            rocksdb::DB::open_cf(&rocksdb::Options::default(), dir.join(DB_DIR), ALL_CFS).unwrap();
        let mut batch = WriteBatch::default();
        damage(&Raw(&db), &mut batch);
        db.write(batch).unwrap();
    }

    /// A RocksDB handle with the store's way of naming column families.
    struct Raw<'a>(&'a rocksdb::DB);

    impl Raw<'_> {
        fn cf(&self, name: &str) -> &ColumnFamily {
            self.0.cf_handle(name).unwrap()
        }
    }

    fn refusal(dir: &Path) -> Damage {
        match open(dir) {
            Ok(_) => panic!("a damaged store opened"),
            Err(StorageError::Damaged { damage, .. }) => damage,
            Err(other) => panic!("refused, but not as damage: {other}"),
        }
    }

    fn rocksdb_files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir.join(DB_DIR))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_intact_store_reopens_at_its_tip() {
        let dir = tempfile::tempdir().unwrap();
        let blocks = chain(dir.path(), 3);
        let store = open(dir.path()).unwrap();
        let tip = blocks.last().unwrap();
        assert_eq!(store.last_accepted().unwrap(), (tip.id(), tip.clone()));
        assert_eq!(store.check_tip(genesis().block().id()).unwrap().1, *tip);
    }

    #[test]
    fn data_without_metadata_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        chain(dir.path(), 2);
        tamper(dir.path(), |store, batch| {
            batch.delete_cf(store.cf(CF_META), META_SCHEMA_VERSION)
        });
        assert_eq!(
            refusal(dir.path()),
            Damage::MetadataMissing { holds: "blocks" }
        );
        // Still refused: the first refusal wrote no new genesis.
        assert_eq!(
            refusal(dir.path()),
            Damage::MetadataMissing { holds: "blocks" }
        );

        // Every family but the payload index emptied too: the payloads still give it away.
        tamper(dir.path(), |store, batch| {
            for (family, key) in [
                (CF_META, META_LAST_ACCEPTED),
                (CF_META, META_GENESIS),
                (CF_META, META_SCHEMA_VERSION),
            ] {
                batch.delete_cf(store.cf(family), key);
            }
            batch.delete_range_cf(store.cf(CF_BLOCKS), &[0u8; 32][..], &[0xffu8; 33][..]);
            batch.delete_range_cf(store.cf(CF_HEIGHTS), &[0u8; 8][..], &[0xffu8; 9][..]);
        });
        assert_eq!(
            refusal(dir.path()),
            Damage::MetadataMissing { holds: "payloads" }
        );
    }

    #[test]
    fn a_store_created_but_never_written_gets_its_genesis() {
        // A first start that stopped between RocksDB creating the store and the genesis write.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_DIR);
        let mut options = rocksdb::Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        drop(rocksdb::DB::open_cf(&options, &path, ALL_CFS).unwrap());
        let store = open(dir.path()).unwrap();
        assert_eq!(store.last_accepted_id().unwrap(), genesis().block().id());
    }

    /// A damage to a three-block chain, and how the open must name it.
    type Case = (
        &'static str,
        fn(&Raw, &mut WriteBatch, &[Block]),
        fn(&[Block]) -> Damage,
    );

    #[test]
    fn a_height_index_out_of_step_with_the_tip_is_refused() {
        let cases: [Case; 6] = [
            (
                "tip missing",
                |store, batch, _| batch.delete_cf(store.cf(CF_META), META_LAST_ACCEPTED),
                |_| Damage::NoTip,
            ),
            (
                "tip block missing",
                |store, batch, blocks| {
                    batch.delete_cf(store.cf(CF_BLOCKS), blocks[3].id().as_bytes())
                },
                |blocks| Damage::TipBlockMissing {
                    tip: blocks[3].id(),
                },
            ),
            (
                "tip not indexed",
                |store, batch, _| batch.delete_cf(store.cf(CF_HEIGHTS), height_key(3)),
                |blocks| Damage::TipNotIndexed {
                    tip: blocks[3].id(),
                    height: 3,
                    indexed: None,
                },
            ),
            (
                "a gap below the tip",
                |store, batch, _| batch.delete_cf(store.cf(CF_HEIGHTS), height_key(2)),
                |blocks| Damage::ParentNotIndexed {
                    parent: blocks[2].id(),
                    height: 3,
                    below: 2,
                    indexed: None,
                },
            ),
            (
                "heights above the tip",
                |store, batch, blocks| {
                    batch.put_cf(
                        store.cf(CF_HEIGHTS),
                        height_key(7),
                        blocks[1].id().as_bytes(),
                    )
                },
                |_| Damage::AboveTip {
                    family: CF_HEIGHTS,
                    height: 7,
                    tip_height: 3,
                },
            ),
            (
                "Merkle pages above the tip",
                |store, batch, _| batch.put_cf(store.cf(CF_MERKLE), merkle_key(9, 0, 0), [0u8; 32]),
                |_| Damage::AboveTip {
                    family: CF_MERKLE,
                    height: 9,
                    tip_height: 3,
                },
            ),
        ];
        for (case, damage, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            let blocks = chain(dir.path(), 3);
            tamper(dir.path(), |store, batch| damage(store, batch, &blocks));
            assert_eq!(refusal(dir.path()), expected(&blocks), "{case}");
        }

        // Another block indexed at height 0.
        let dir = tempfile::tempdir().unwrap();
        chain(dir.path(), 3);
        tamper(dir.path(), |store, batch| {
            batch.put_cf(store.cf(CF_HEIGHTS), height_key(0), [7u8; 32])
        });
        assert_eq!(
            refusal(dir.path()),
            Damage::GenesisNotIndexed {
                genesis: genesis().block().id(),
                indexed: Some(Id([7; 32]))
            }
        );
    }

    #[test]
    fn a_lost_current_file_is_refused_not_recreated() {
        let dir = tempfile::tempdir().unwrap();
        chain(dir.path(), 2);
        std::fs::remove_file(dir.path().join(DB_DIR).join("CURRENT")).unwrap();
        let before = rocksdb_files(dir.path());
        assert!(matches!(refusal(dir.path()), Damage::NoCurrent { files } if files >= 2));
        assert_eq!(
            rocksdb_files(dir.path()),
            before,
            "the refusal changed the directory"
        );
    }

    /// The store's own files (not RocksDB's info logs), with their sizes.
    fn data_files(dir: &Path) -> Vec<(String, u64)> {
        rocksdb_files(dir)
            .into_iter()
            .filter(|name| FileKind::of(name).is_some())
            .map(|name| {
                let size = std::fs::metadata(dir.join(DB_DIR).join(&name))
                    .unwrap()
                    .len();
                (name, size)
            })
            .collect()
    }

    /// As a backup copied from a running node can be. The refusal must come before RocksDB's
    /// read-write open, which would delete every table the short MANIFEST does not name.
    #[test]
    fn a_truncated_manifest_is_refused_without_touching_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let blocks = chain(dir.path(), 3);
        {
            // A second run: its open flushes the first run's log into tables.
            let store = open(dir.path()).unwrap();
            let tip = blocks.last().unwrap();
            let block = Block::single(tip.id(), 4, 4, [4; 32]);
            store.accept(block.id(), &block, None).unwrap();
        }
        let db = dir.path().join(DB_DIR);
        let current = std::fs::read_to_string(db.join("CURRENT")).unwrap();
        let manifest = db.join(current.trim_end());
        let bytes = std::fs::read(&manifest).unwrap();
        std::fs::write(&manifest, &bytes[..bytes.len() / 2]).unwrap();
        let before = data_files(dir.path());
        assert!(before.iter().any(|(name, _)| name.ends_with(".sst")));
        let damage = refusal(dir.path());
        eprintln!("{damage}");
        assert_eq!(
            data_files(dir.path()),
            before,
            "the refusal changed the store"
        );
    }

    #[test]
    fn a_deleted_manifest_is_named() {
        let dir = tempfile::tempdir().unwrap();
        chain(dir.path(), 1);
        let db = dir.path().join(DB_DIR);
        let current = std::fs::read_to_string(db.join("CURRENT")).unwrap();
        let manifest = current.trim_end().to_string();
        std::fs::remove_file(db.join(&manifest)).unwrap();
        assert_eq!(refusal(dir.path()), Damage::NoManifest { manifest });
    }

    #[test]
    fn a_deleted_write_ahead_log_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        chain(dir.path(), 2);
        let db = dir.path().join(DB_DIR);
        let mut deleted = 0;
        for name in rocksdb_files(dir.path()) {
            if name.ends_with(".log") {
                std::fs::remove_file(db.join(name)).unwrap();
                deleted += 1;
            }
        }
        assert!(deleted > 0, "the closed store kept its WAL");
        assert_eq!(refusal(dir.path()), Damage::NoWal);
    }

    /// Flipped bytes in an acknowledged record of the WAL: refused when every accept was
    /// fsynced; an unsynced chain (which may lose its newest accepts anyway) resumes before them.
    #[test]
    fn a_corrupt_write_ahead_log_is_refused_when_accepts_were_synced() {
        let dir = tempfile::tempdir().unwrap();
        let blocks = chain(dir.path(), 3);
        let db = dir.path().join(DB_DIR);
        let wal = rocksdb_files(dir.path())
            .into_iter()
            .find(|name| name.ends_with(".log"))
            .unwrap();
        let mut bytes = std::fs::read(db.join(&wal)).unwrap();
        // Block 2's payload, in its accept's record (the first copy: the block's bytes).
        let at = bytes.windows(32).position(|w| w == [2u8; 32]).unwrap();
        for byte in &mut bytes[at..at + 8] {
            *byte ^= 0xff;
        }
        std::fs::write(db.join(&wal), bytes).unwrap();

        let damage = refusal(dir.path());
        assert!(
            matches!(&damage, Damage::Unreadable(e) if e.contains("Corruption")),
            "{damage}"
        );
        let store = open_with(dir.path(), false).unwrap();
        assert_eq!(store.last_accepted_id().unwrap(), blocks[1].id());
    }

    #[test]
    fn the_refusal_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        chain(dir.path(), 1);
        std::fs::remove_file(dir.path().join(DB_DIR).join("CURRENT")).unwrap();
        let message = open(dir.path()).err().unwrap().to_string();
        for needle in [
            "is damaged",
            "CURRENT",
            "restore",
            "backup",
            "delete",
            "bootstraps",
        ] {
            assert!(message.contains(needle), "{needle:?} in {message}");
        }
    }

    #[test]
    fn file_kinds_follow_rocksdb_names() {
        assert_eq!(FileKind::of("CURRENT"), Some(FileKind::Current));
        assert_eq!(FileKind::of("MANIFEST-000005"), Some(FileKind::Manifest));
        assert_eq!(FileKind::of("000012.sst"), Some(FileKind::Table));
        assert_eq!(FileKind::of("000014.blob"), Some(FileKind::Table));
        assert_eq!(FileKind::of("000013.log"), Some(FileKind::Wal));
        for other in [
            "LOG",
            "LOG.old.1700000000",
            "LOCK",
            "IDENTITY",
            "OPTIONS-000007",
            "HEALTH-PROBE",
            "x.log",
            ".log",
            "CURRENT.bak",
        ] {
            assert_eq!(FileKind::of(other), None, "{other}");
        }
    }
}
