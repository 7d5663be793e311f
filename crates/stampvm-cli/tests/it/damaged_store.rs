//! A damaged chain store is refused, never silently started over (README "Performance and
//! durability", crash section). Each test grows a chain with the real binary over a real RocksDB
//! directory, stops it, damages the directory between two runs as a disk, an operator or a copy
//! taken from a running node can (CURRENT or MANIFEST deleted, MANIFEST truncated, the schema key
//! deleted with the data kept, bytes flipped in the newest write-ahead log, the write-ahead log
//! deleted), and starts the binary again. Fails if the second Initialize succeeds (at genesis, or
//! at a lower tip), if its error does not say the store is damaged and what the operator can do,
//! if the plugin's log lacks the refusal at ERROR, or if a refused start deleted or added a table,
//! MANIFEST or CURRENT file. An intact restart must log the tip it resumed at (INFO), and an
//! unsynced chain (`rocksdb-sync-writes: false`) whose WAL is damaged resumes at the last intact
//! accept and logs that lower tip.

use crate::common;

use common::*;
use rpcchainvm::pb::vm as pb;
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm_host::{Network, NodeServices};
use stampvm::chain::Id;
use stampvm::storage::keys::{ALL_CFS, CF_META, DB_DIR, META_SCHEMA_VERSION};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

const SYNCED: &str = "";
const UNSYNCED: &str = r#"{"rocksdb-sync-writes": false}"#;

/// Starts the chain on `dir` with the real binary, accepts the blocks of payloads `numbers`,
/// stops the plugin the node's way; returns the accepted blocks' (height, ID).
async fn grow(dir: &Path, config: &str, numbers: std::ops::Range<u64>) -> Vec<(u64, Id)> {
    let node = start_node("grow", node_id(1), &Network::new(), dir, config).await;
    let mut accepted = Vec::new();
    for n in numbers {
        assert_eq!(
            node.propose(&payload(n)).await,
            serde_json::json!({"Success": true})
        );
        wait_for_build_event(&node.client).await;
        let built = node.build_and_accept().await;
        accepted.push((built.height, Id::from_slice(&built.id).unwrap()));
    }
    node.stop().await;
    accepted
}

/// One more start of the binary on `dir`: only Initialize, as the node sends it first.
struct Restart {
    answer: Result<pb::InitializeResponse, rpcchainvm_host::HostError>,
    log: Vec<String>,
}

impl Restart {
    async fn run(name: &str, dir: &Path, config: &str) -> Restart {
        let shutdown = Shutdown::new();
        let (services_addr, _services) =
            NodeServices::serve(node_id(1), Network::new(), shutdown.clone())
                .await
                .expect("node services bind");
        let (sink, mut lines) = mpsc::unbounded_channel();
        let process = launch_with(name, |options| options.output = Some(sink)).await;
        let client = process.vm_client().await.expect("dial the plugin");
        let mut params = rpcchainvm_host::ChainParams::new(
            node_id(1),
            dir,
            GENESIS.to_vec(),
            services_addr.to_string(),
        );
        params.config_bytes = config.as_bytes().to_vec();
        let answer = client.initialize(params.initialize_request()).await;
        stop_plugin(&process, &client, &shutdown).await;
        let mut log = Vec::new();
        let read_all = async {
            while let Some(line) = lines.recv().await {
                log.push(line);
            }
        };
        tokio::time::timeout(Duration::from_secs(10), read_all)
            .await
            .expect("the plugin's output closes once it has exited");
        Restart { answer, log }
    }

    /// Asserts the refusal and returns its message.
    fn refused(&self) -> String {
        let error = match &self.answer {
            Ok(answer) => panic!(
                "Initialize on a damaged store succeeded at height {}",
                answer.height
            ),
            Err(error) => error,
        };
        let status = error.status().expect("a gRPC error status");
        assert_eq!(status.code(), tonic::Code::FailedPrecondition, "{status:?}");
        let message = status.message().to_string();
        for needle in ["is damaged", "restore", "backup", "delete", "bootstraps"] {
            assert!(message.contains(needle), "{needle:?} missing: {message}");
        }
        let logged = self
            .log
            .iter()
            .find(|line| line.contains(" ERROR ") && line.contains("open failed"));
        let logged = logged.unwrap_or_else(|| panic!("no ERROR line: {:#?}", self.log));
        assert!(logged.contains("is damaged"), "{logged}");
        eprintln!("refused: {message}");
        message
    }

    /// The height and ID the open logged it resumed at.
    fn logged_tip(&self) -> String {
        self.log
            .iter()
            .find(|line| line.contains(" INFO ") && line.contains("chain store opened"))
            .unwrap_or_else(|| panic!("no tip logged: {:#?}", self.log))
            .clone()
    }
}

fn rocksdb(dir: &Path) -> PathBuf {
    dir.join(DB_DIR)
}

/// The RocksDB files of `dir` whose names satisfy `pick`, sorted.
fn files(dir: &Path, pick: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(rocksdb(dir))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| pick(&path.file_name().unwrap().to_string_lossy()))
        .collect();
    found.sort();
    found
}

fn current_manifest(dir: &Path) -> PathBuf {
    let named = std::fs::read_to_string(rocksdb(dir).join("CURRENT")).unwrap();
    rocksdb(dir).join(named.trim_end())
}

/// RocksDB names WAL files `<number>.log`, numbers rising: the newest is the last.
fn newest_wal(dir: &Path) -> PathBuf {
    files(dir, |name| name.ends_with(".log"))
        .pop()
        .expect("a write-ahead log")
}

#[tokio::test]
async fn deleted_current_is_refused_and_nothing_is_recreated() {
    let dir = tempfile::tempdir().unwrap();
    grow(dir.path(), SYNCED, 1..4).await;
    std::fs::remove_file(rocksdb(dir.path()).join("CURRENT")).unwrap();
    let before = files(dir.path(), |_| true);
    let restart = Restart::run("no-current", dir.path(), SYNCED).await;
    assert!(restart.refused().contains("CURRENT file is missing"));
    assert_eq!(
        files(dir.path(), |_| true),
        before,
        "the refused start changed the store's files"
    );
}

#[tokio::test]
async fn deleted_manifest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    grow(dir.path(), SYNCED, 1..4).await;
    let manifest = current_manifest(dir.path());
    std::fs::remove_file(&manifest).unwrap();
    let message = Restart::run("no-manifest", dir.path(), SYNCED)
        .await
        .refused();
    let name = manifest.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        message.contains(&format!("names {name}, which is missing")),
        "{message}"
    );
}

/// As a copy of a running node's directory can be: the MANIFEST cut in half. Two runs first, so
/// the store has flushed tables and a MANIFEST with several edits.
#[tokio::test]
async fn truncated_manifest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    grow(dir.path(), SYNCED, 1..4).await;
    grow(dir.path(), SYNCED, 4..7).await;
    let manifest = current_manifest(dir.path());
    let bytes = std::fs::read(&manifest).unwrap();
    std::fs::write(&manifest, &bytes[..bytes.len() / 2]).unwrap();
    let data_files = || {
        files(dir.path(), |name| {
            name == "CURRENT" || name.starts_with("MANIFEST-") || name.contains(".sst")
        })
    };
    let before = data_files();
    Restart::run("half-manifest", dir.path(), SYNCED)
        .await
        .refused();
    // A read-write open would have deleted the tables the short MANIFEST does not name.
    assert_eq!(data_files(), before, "the refused start changed the store");
}

#[tokio::test]
async fn deleted_schema_key_with_data_kept_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    grow(dir.path(), SYNCED, 1..4).await;
    {
        let options = rocksdb::Options::default();
        let db = rocksdb::DB::open_cf(&options, rocksdb(dir.path()), ALL_CFS).unwrap();
        db.delete_cf(db.cf_handle(CF_META).unwrap(), META_SCHEMA_VERSION)
            .unwrap();
    }
    let message = Restart::run("no-schema", dir.path(), SYNCED)
        .await
        .refused();
    assert!(
        message.contains("metadata (schema version) is missing"),
        "{message}"
    );
}

#[tokio::test]
async fn deleted_wal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    grow(dir.path(), SYNCED, 1..4).await;
    for wal in files(dir.path(), |name| name.ends_with(".log")) {
        std::fs::remove_file(wal).unwrap();
    }
    let message = Restart::run("no-wal", dir.path(), SYNCED).await.refused();
    assert!(message.contains("no write-ahead log"), "{message}");
}

/// Flips 8 bytes of the payload of the second of three accepted blocks inside the newest WAL
/// (a clean stop leaves the accepts there: RocksDB does not flush at close).
fn flip_in_newest_wal(dir: &Path, data: &[u8; 32]) {
    let wal = newest_wal(dir);
    let mut bytes = std::fs::read(&wal).unwrap();
    let at = bytes
        .windows(32)
        .position(|window| window == data)
        .expect("the accept is in the newest WAL");
    for byte in &mut bytes[at..at + 8] {
        *byte ^= 0xff;
    }
    std::fs::write(&wal, bytes).unwrap();
}

#[tokio::test]
async fn flipped_wal_bytes_are_refused_when_accepts_are_synced() {
    let dir = tempfile::tempdir().unwrap();
    grow(dir.path(), SYNCED, 1..4).await;
    flip_in_newest_wal(dir.path(), &payload(2));
    let message = Restart::run("bad-wal", dir.path(), SYNCED).await.refused();
    assert!(message.contains("Corruption"), "{message}");
}

/// The recovery modes side by side: an intact restart logs its tip; an unsynced chain with the
/// same WAL damage resumes below the damaged accept and says so in the log.
#[tokio::test]
async fn every_open_logs_its_tip_and_an_unsynced_chain_resumes_lower() {
    let dir = tempfile::tempdir().unwrap();
    let accepted = grow(dir.path(), UNSYNCED, 1..4).await;
    let intact = Restart::run("intact", dir.path(), UNSYNCED).await;
    let answer = intact.answer.as_ref().expect("an intact store opens");
    assert_eq!(answer.height, 3);
    let line = intact.logged_tip();
    assert!(
        line.contains("height=3") && line.contains(&accepted[2].1.to_string()),
        "{line}"
    );

    // The intact restart flushed the WAL into tables; three more accepts go to a new WAL.
    let accepted = grow(dir.path(), UNSYNCED, 4..7).await;
    flip_in_newest_wal(dir.path(), &payload(5));
    let lower = Restart::run("unsynced-bad-wal", dir.path(), UNSYNCED).await;
    let answer = lower
        .answer
        .as_ref()
        .expect("an unsynced chain resumes at its last intact accept");
    assert_eq!(answer.height, 4, "resumed below the damaged accept");
    let line = lower.logged_tip();
    assert!(
        line.contains("height=4") && line.contains(&accepted[0].1.to_string()),
        "{line}"
    );
}
