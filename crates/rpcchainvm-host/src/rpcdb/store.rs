//! The data behind one chain's `rpcdb.Database`: an ordered in-memory map with the semantics of
//! AvalancheGo's `memdb` as its `rpcdb` server exposes it (missing keys are an error value, not a
//! failure; iterators see a snapshot taken when they were created; everything stops with
//! "database closed" once closed). No gRPC here: the service maps these results onto messages.

use std::collections::{BTreeMap, HashMap, VecDeque};

/// `rpcdb.Error` values other than "none", as the Go client decodes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DbError {
    /// `ERROR_CLOSED`: the database was closed.
    #[error("database closed")]
    Closed,
    /// `ERROR_NOT_FOUND`: `Get` of a key that is not there.
    #[error("not found")]
    NotFound,
}

/// Why an iterator call could not be answered at all (a gRPC failure, not an `rpcdb.Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IteratorError {
    /// The ID was never handed out or was released; Go's text, which clients show as is.
    #[error("unknown iterator")]
    Unknown,
}

/// One `IteratorNext` answer stops adding entries once their keys and values reach this many
/// bytes (AvalancheGo's `iterationBatchSize`); it always carries at least one entry if any remain.
pub const ITERATION_BATCH_BYTES: usize = 128 * 1024;

/// One key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// The entries an iterator has not handed out yet, copied at creation as `memdb` does, so later
/// writes never change what an open iterator returns.
#[derive(Debug, Default)]
struct Snapshot {
    remaining: VecDeque<Entry>,
}

/// One chain's key-value state.
#[derive(Debug, Default)]
pub struct Store {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
    closed: bool,
    iterators: HashMap<u64, Snapshot>,
    /// IDs start at 1 so a request that forgot the ID (proto3 default 0) never hits an iterator.
    last_iterator_id: u64,
}

impl Store {
    fn open(&self) -> Result<(), DbError> {
        match self.closed {
            true => Err(DbError::Closed),
            false => Ok(()),
        }
    }

    pub fn has(&self, key: &[u8]) -> Result<bool, DbError> {
        self.open()?;
        Ok(self.entries.contains_key(key))
    }

    pub fn get(&self, key: &[u8]) -> Result<Vec<u8>, DbError> {
        self.open()?;
        self.entries.get(key).cloned().ok_or(DbError::NotFound)
    }

    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), DbError> {
        self.open()?;
        self.entries.insert(key, value);
        Ok(())
    }

    /// Deleting a missing key is not an error, as in Go.
    pub fn delete(&mut self, key: &[u8]) -> Result<(), DbError> {
        self.open()?;
        self.entries.remove(key);
        Ok(())
    }

    /// Nothing to compact in memory; only a closed database refuses.
    pub fn compact(&self) -> Result<(), DbError> {
        self.open()
    }

    /// Applies every put, then every delete (the order of Go's `WriteBatch`), or nothing at all:
    /// the only failure is a closed database, which is checked before anything changes.
    pub fn write_batch(&mut self, puts: Vec<Entry>, deletes: Vec<Vec<u8>>) -> Result<(), DbError> {
        self.open()?;
        self.entries.extend(puts);
        for key in deletes {
            self.entries.remove(&key);
        }
        Ok(())
    }

    /// Closes the database: the data and every open iterator are dropped, and each later call
    /// answers [`DbError::Closed`]. Closing twice is itself answered with `Closed`, as in Go.
    pub fn close(&mut self) -> Result<(), DbError> {
        self.open()?;
        self.closed = true;
        self.entries = BTreeMap::new();
        self.iterators = HashMap::new();
        Ok(())
    }

    /// A new iterator over the keys that start with `prefix` and are not below `start`, in key
    /// order. On a closed database the ID is valid but the iterator is empty and reports `Closed`.
    pub fn new_iterator(&mut self, start: &[u8], prefix: &[u8]) -> u64 {
        self.last_iterator_id += 1;
        let id = self.last_iterator_id;
        if self.closed {
            return id;
        }
        let from = std::cmp::max(start, prefix).to_vec();
        let remaining = self
            .entries
            .range(from..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        self.iterators.insert(id, Snapshot { remaining });
        id
    }

    /// The next batch of `id`'s entries (see [`ITERATION_BATCH_BYTES`]); empty at the end, and
    /// always empty once the database is closed.
    pub fn iterator_next(&mut self, id: u64) -> Result<Vec<Entry>, IteratorError> {
        if self.closed {
            return Ok(Vec::new());
        }
        let snapshot = self.iterators.get_mut(&id).ok_or(IteratorError::Unknown)?;
        let mut batch = Vec::new();
        let mut size = 0;
        while size < ITERATION_BATCH_BYTES {
            let Some((key, value)) = snapshot.remaining.pop_front() else {
                break;
            };
            size += key.len() + value.len();
            batch.push((key, value));
        }
        Ok(batch)
    }

    /// What went wrong with iterator `id`: nothing for a snapshot, `Closed` once closed.
    pub fn iterator_error(&self, id: u64) -> Result<Result<(), DbError>, IteratorError> {
        if self.closed {
            return Ok(Err(DbError::Closed));
        }
        match self.iterators.contains_key(&id) {
            true => Ok(Ok(())),
            false => Err(IteratorError::Unknown),
        }
    }

    /// Frees iterator `id`. Releasing an unknown (or already released) ID is fine, as in Go.
    pub fn iterator_release(&mut self, id: u64) -> Result<(), DbError> {
        self.open()?;
        self.iterators.remove(&id);
        Ok(())
    }

    /// What `HealthCheck` reports.
    pub fn health(&self) -> Result<Health, DbError> {
        self.open()?;
        Ok(Health {
            keys: self.entries.len(),
            open_iterators: self.iterators.len(),
        })
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Every key in order, for callers that inspect what a plugin stored.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        self.entries.keys().cloned().collect()
    }
}

/// The numbers behind `HealthCheck`'s JSON details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub keys: usize,
    pub open_iterators: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(store: &mut Store, id: u64) -> Vec<Entry> {
        store.iterator_next(id).unwrap()
    }

    // memdb copies the range at creation: a write after NewIterator is not seen by it.
    #[test]
    fn iterators_read_a_snapshot() {
        let mut store = Store::default();
        store.put(b"a1".to_vec(), b"x".to_vec()).unwrap();
        let id = store.new_iterator(b"", b"a");
        store.put(b"a2".to_vec(), b"y".to_vec()).unwrap();
        store.delete(b"a1").unwrap();
        assert_eq!(pairs(&mut store, id), [(b"a1".to_vec(), b"x".to_vec())]);
        assert!(pairs(&mut store, id).is_empty());
    }

    // A batch stops once it holds ITERATION_BATCH_BYTES, but never splits or skips an entry.
    #[test]
    fn batches_are_bounded_by_size() {
        let mut store = Store::default();
        let value = vec![7u8; ITERATION_BATCH_BYTES / 2];
        for key in [b"k1", b"k2", b"k3"] {
            store.put(key.to_vec(), value.clone()).unwrap();
        }
        let id = store.new_iterator(b"", b"");
        let first = pairs(&mut store, id);
        let second = pairs(&mut store, id);
        assert_eq!((first.len(), second.len()), (2, 1));
        assert_eq!(second[0].0, b"k3");
        assert!(pairs(&mut store, id).is_empty());
    }

    #[test]
    fn iterator_ids_start_at_one_and_never_repeat() {
        let mut store = Store::default();
        let first = store.new_iterator(b"", b"");
        store.iterator_release(first).unwrap();
        let second = store.new_iterator(b"", b"");
        assert_eq!((first, second), (1, 2));
        assert_eq!(store.iterator_next(0), Err(IteratorError::Unknown));
    }
}
