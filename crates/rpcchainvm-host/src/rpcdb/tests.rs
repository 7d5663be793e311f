//! The database server through a real tonic client over loopback, one behaviour per test.

use super::store::Entry;
use super::*;
use rpcchainvm::pb::rpcdb::database_client::DatabaseClient;
use std::future::Future;
use std::time::Duration;
use tonic::transport::Channel;

const NOT_FOUND: i32 = pb::Error::NotFound as i32;
const CLOSED: i32 = pb::Error::Closed as i32;

/// A served database, a connected client, and the shutdown that stops the server.
struct Fixture {
    handle: NodeDatabaseHandle,
    client: DatabaseClient<Channel>,
    shutdown: Shutdown,
}

async fn serve() -> Fixture {
    let shutdown = Shutdown::new();
    let handle = NodeDatabase::serve(shutdown.clone()).await.unwrap();
    let channel = transport::connect(&handle.addr().to_string())
        .await
        .unwrap();
    Fixture {
        handle,
        client: DatabaseClient::new(channel),
        shutdown,
    }
}

/// Every test is bounded: a hung server fails the test instead of the run.
async fn within<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), test)
        .await
        .expect("test finished within 10 s")
}

impl Fixture {
    async fn put(&mut self, key: &[u8], value: &[u8]) -> i32 {
        let request = pb::PutRequest {
            key: key.to_vec(),
            value: value.to_vec(),
        };
        self.client.put(request).await.unwrap().into_inner().err
    }

    async fn get(&mut self, key: &[u8]) -> pb::GetResponse {
        let request = pb::GetRequest { key: key.to_vec() };
        self.client.get(request).await.unwrap().into_inner()
    }

    async fn has(&mut self, key: &[u8]) -> pb::HasResponse {
        let request = pb::HasRequest { key: key.to_vec() };
        self.client.has(request).await.unwrap().into_inner()
    }

    async fn iterator(&mut self, start: &[u8], prefix: &[u8]) -> u64 {
        let request = pb::NewIteratorWithStartAndPrefixRequest {
            start: start.to_vec(),
            prefix: prefix.to_vec(),
        };
        let response = self.client.new_iterator_with_start_and_prefix(request);
        response.await.unwrap().into_inner().id
    }

    async fn next(&mut self, id: u64) -> Result<Vec<Entry>, Status> {
        let response = self.client.iterator_next(pb::IteratorNextRequest { id });
        let data = response.await?.into_inner().data;
        Ok(data.into_iter().map(|put| (put.key, put.value)).collect())
    }

    /// Every entry of iterator `id`, batch after batch until the empty one.
    async fn drain(&mut self, id: u64) -> Vec<Entry> {
        let mut all = Vec::new();
        loop {
            let batch = self.next(id).await.unwrap();
            if batch.is_empty() {
                return all;
            }
            all.extend(batch);
        }
    }
}

fn entry(key: &str, value: &str) -> Entry {
    (key.as_bytes().to_vec(), value.as_bytes().to_vec())
}

#[tokio::test]
async fn a_missing_key_is_not_found_inside_an_ok_answer() {
    within(async {
        let mut db = serve().await;
        let missing = db.get(b"nope").await;
        assert_eq!((missing.value, missing.err), (Vec::new(), NOT_FOUND));
        assert_eq!(
            (db.has(b"nope").await.has, db.has(b"nope").await.err),
            (false, 0)
        );

        assert_eq!(db.put(b"k", b"v").await, 0);
        let found = db.get(b"k").await;
        assert_eq!((found.value, found.err), (b"v".to_vec(), 0));
        assert!(db.has(b"k").await.has);
        assert_eq!(db.handle.get(b"k"), Some(b"v".to_vec()));

        let request = pb::DeleteRequest { key: b"k".to_vec() };
        assert_eq!(
            db.client
                .delete(request.clone())
                .await
                .unwrap()
                .into_inner()
                .err,
            0
        );
        assert_eq!(db.get(b"k").await.err, NOT_FOUND);
        // Deleting what is not there is not an error either.
        assert_eq!(db.client.delete(request).await.unwrap().into_inner().err, 0);
        // An empty value is a value, not a missing key.
        assert_eq!(db.put(b"empty", b"").await, 0);
        assert_eq!(db.get(b"empty").await.err, 0);
        assert!(db.has(b"empty").await.has);
    })
    .await;
}

// Two workers, so the watcher really runs while the server applies the batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_batch_applies_puts_then_deletes_in_one_step() {
    within(async {
        let mut db = serve().await;
        assert_eq!(db.put(b"old", b"1").await, 0);
        let put = |key: &str, value: &str| pb::PutRequest {
            key: key.into(),
            value: value.into(),
        };
        let delete = |key: &str| pb::DeleteRequest { key: key.into() };
        let batch = pb::WriteBatchRequest {
            puts: vec![put("a", "1"), put("b", "2"), put("gone", "3")],
            deletes: vec![delete("old"), delete("gone")],
        };
        // Watch the store from another task while the batch lands: it sees none or all of it.
        let watcher = db.handle.clone();
        let observed = tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..200 {
                seen.push(watcher.keys());
                tokio::task::yield_now().await;
            }
            seen
        });
        let response = db.client.write_batch(batch).await.unwrap().into_inner();
        assert_eq!(response.err, 0);
        let before = vec![b"old".to_vec()];
        let after = vec![b"a".to_vec(), b"b".to_vec()];
        for keys in observed.await.unwrap() {
            assert!(keys == before || keys == after, "half a batch: {keys:?}");
        }
        assert_eq!(db.handle.keys(), after);
        assert_eq!(db.get(b"b").await.value, b"2");
    })
    .await;
}

#[tokio::test]
async fn iterators_walk_start_and_prefix_in_key_order() {
    within(async {
        let mut db = serve().await;
        for (key, value) in [
            ("b/2", "x"),
            ("a/1", "y"),
            ("b/1", "z"),
            ("b/3", "w"),
            ("c", "v"),
        ] {
            assert_eq!(db.put(key.as_bytes(), value.as_bytes()).await, 0);
        }
        let everything = db.iterator(b"", b"").await;
        let keys: Vec<_> = db
            .drain(everything)
            .await
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, [&b"a/1"[..], b"b/1", b"b/2", b"b/3", b"c"]);

        let prefixed = db.iterator(b"", b"b/").await;
        assert_eq!(
            db.drain(prefixed).await,
            [entry("b/1", "z"), entry("b/2", "x"), entry("b/3", "w")]
        );
        // `start` within the prefix skips the smaller keys; a start below the prefix does not.
        let from_two = db.iterator(b"b/2", b"b/").await;
        assert_eq!(
            db.drain(from_two).await,
            [entry("b/2", "x"), entry("b/3", "w")]
        );
        let from_a = db.iterator(b"a", b"b/").await;
        assert_eq!(db.drain(from_a).await.len(), 3);
        let nothing = db.iterator(b"", b"zzz").await;
        assert!(db.drain(nothing).await.is_empty());

        // The end stays the end, and IteratorError has nothing to report.
        assert!(db.next(prefixed).await.unwrap().is_empty());
        let error = db
            .client
            .iterator_error(pb::IteratorErrorRequest { id: prefixed });
        assert_eq!(error.await.unwrap().into_inner().err, 0);
    })
    .await;
}

#[tokio::test]
async fn iterator_next_answers_bounded_batches() {
    within(async {
        let mut db = serve().await;
        let value = vec![1u8; ITERATION_BATCH_BYTES / 4];
        for n in 0..10u8 {
            assert_eq!(db.put(&[n], &value).await, 0);
        }
        let id = db.iterator(b"", b"").await;
        let first = db.next(id).await.unwrap();
        assert!(
            first.len() > 1 && first.len() < 10,
            "{} entries",
            first.len()
        );
        let rest = db.drain(id).await;
        assert_eq!(first.len() + rest.len(), 10);
        assert_eq!(
            rest.first().map(|(key, _)| key.clone()),
            Some(vec![first.len() as u8])
        );
    })
    .await;
}

#[tokio::test]
async fn release_frees_the_iterator() {
    within(async {
        let mut db = serve().await;
        assert_eq!(db.put(b"k", b"v").await, 0);
        let id = db.iterator(b"", b"").await;
        let release = pb::IteratorReleaseRequest { id };
        let released = db.client.iterator_release(release).await.unwrap();
        assert_eq!(released.into_inner().err, 0);
        let status = db.next(id).await.unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (tonic::Code::Unknown, "unknown iterator")
        );
        let error = db
            .client
            .iterator_error(pb::IteratorErrorRequest { id })
            .await;
        assert_eq!(error.unwrap_err().message(), "unknown iterator");
        // Go answers a second release (or one of an unknown ID) without complaint.
        let again = db.client.iterator_release(release).await.unwrap();
        assert_eq!(again.into_inner().err, 0);
        let health = db.client.health_check(()).await.unwrap().into_inner();
        let details: serde_json::Value = serde_json::from_slice(&health.details).unwrap();
        assert_eq!(details["openIterators"], 0);
    })
    .await;
}

#[tokio::test]
async fn health_check_answers_json_details() {
    within(async {
        let mut db = serve().await;
        assert_eq!(db.put(b"k", b"v").await, 0);
        let _open = db.iterator(b"", b"").await;
        let health = db.client.health_check(()).await.unwrap().into_inner();
        let details: serde_json::Value = serde_json::from_slice(&health.details).unwrap();
        assert_eq!(
            details,
            serde_json::json!({"database": "memory", "keys": 1, "openIterators": 1})
        );
    })
    .await;
}

#[tokio::test]
async fn after_close_every_call_answers_closed() {
    within(async {
        let mut db = serve().await;
        assert_eq!(db.put(b"k", b"v").await, 0);
        let open_before = db.iterator(b"", b"").await;
        let close = db.client.close(pb::CloseRequest {}).await.unwrap();
        assert_eq!(close.into_inner().err, 0);
        assert!(db.handle.is_closed());

        assert_eq!(db.get(b"k").await.err, CLOSED);
        assert_eq!(
            (db.has(b"k").await.has, db.has(b"k").await.err),
            (false, CLOSED)
        );
        assert_eq!(db.put(b"k", b"v").await, CLOSED);
        let delete = db.client.delete(pb::DeleteRequest { key: b"k".to_vec() });
        assert_eq!(delete.await.unwrap().into_inner().err, CLOSED);
        let compact = db.client.compact(pb::CompactRequest::default());
        assert_eq!(compact.await.unwrap().into_inner().err, CLOSED);
        let batch = db.client.write_batch(pb::WriteBatchRequest::default());
        assert_eq!(batch.await.unwrap().into_inner().err, CLOSED);
        let close = db.client.close(pb::CloseRequest {}).await.unwrap();
        assert_eq!(close.into_inner().err, CLOSED);
        let health = db.client.health_check(()).await.unwrap_err();
        assert_eq!(health.message(), "database closed");

        // Iterators old and new end at once and report the closed database.
        let open_after = db.iterator(b"", b"").await;
        for id in [open_before, open_after] {
            assert!(db.next(id).await.unwrap().is_empty());
            let error = db.client.iterator_error(pb::IteratorErrorRequest { id });
            assert_eq!(error.await.unwrap().into_inner().err, CLOSED);
            let release = db
                .client
                .iterator_release(pb::IteratorReleaseRequest { id });
            assert_eq!(release.await.unwrap().into_inner().err, CLOSED);
        }
        assert!(db.handle.is_empty());
    })
    .await;
}

#[tokio::test]
async fn each_database_is_its_own_and_stops_on_shutdown() {
    within(async {
        let mut first = serve().await;
        let mut second = serve().await;
        assert_eq!(first.put(b"k", b"1").await, 0);
        assert_eq!(second.get(b"k").await.err, NOT_FOUND);

        first.shutdown.trigger();
        let addr = first.handle.addr().to_string();
        let mut refused = false;
        for _ in 0..100 {
            if transport::connect(&addr).await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            refused,
            "the server still accepts connections after shutdown"
        );
        // The other chain's database is untouched.
        assert_eq!(second.put(b"k", b"2").await, 0);
        second.shutdown.trigger();
    })
    .await;
}
