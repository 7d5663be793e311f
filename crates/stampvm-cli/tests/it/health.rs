//! Health (docs/spec/node-behaviour.md section 9): the details are JSON that tell the truth
//! about the chain, and the verdict follows the store. The test makes the chain's RocksDB
//! directory unwritable while the plugin runs (`chattr +i` as root, whom permission bits do not
//! stop; `chmod 0555` otherwise), then restores it. Fails if healthy details are not JSON or say
//! something false, if Health stays OK while the directory refuses new files (RocksDB keeps
//! appending to its open WAL, so a write batch alone would pass), if the error does not name the
//! store, or if the chain does not come back healthy and able to accept blocks once the directory
//! is writable again.
//!
//! While the store is locked, the probe's failure is logged at ERROR once (rate-limited) however
//! often Health is called, and counted in `stampvm_failures_total`.
//!
//! `genesis_has_no_age_and_a_stuck_block_is_a_stall`: on a fresh chain `lastAcceptedAgeSeconds`
//! is null (genesis carries time 0; the audit saw 1,796,679,744), and a block verified but never
//! decided for longer than `health-max-processing-seconds` makes Health unhealthy with a message
//! that says so; deciding it makes the chain healthy again. Fails if the stall goes unreported.
//!
//! `the_write_probe_is_cached_for_a_second`: eight concurrent Health calls right after one another
//! run one probe between them, seen in the RocksDB directory's modification time (the probe
//! creates and removes a file there; an idle chain touches the directory otherwise never). Fails
//! if any call within the second probes again, or if a call after it does not.
//!
//! A last test pins down what RocksDB itself does when a memtable flush meets an unwritable
//! directory, which is what the probe must catch before it happens.

use crate::common;

use common::*;
use rpcchainvm::pb::vm as pb;
use rpcchainvm_host::Network;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// One Health call: `Ok(details)` or `Err((code, message))`.
async fn health(node: &TestNode) -> Result<Value, (tonic::Code, String)> {
    match node.client.raw().health(()).await {
        Ok(reply) => Ok(serde_json::from_slice(&reply.into_inner().details)
            .expect("health details are valid JSON")),
        Err(status) => Err((status.code(), status.message().to_string())),
    }
}

/// Makes a directory refuse new files until dropped (restored on every path out of the test, so
/// the temp dir can be removed).
struct Unwritable {
    dir: PathBuf,
    as_root: bool,
}

impl Unwritable {
    /// `Err(why)` when this machine cannot make the directory unwritable for us (e.g. root on a
    /// filesystem without the immutable attribute).
    fn lock(dir: &Path) -> Result<Unwritable, String> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let as_root = unsafe { libc::geteuid() } == 0;
        let guard = Unwritable {
            dir: dir.to_path_buf(),
            as_root,
        };
        if as_root {
            chattr("+i", dir)?;
        } else {
            set_mode(dir, 0o555);
        }
        // Prove it: the guard restores the directory if the lock did not take.
        match std::fs::File::create(dir.join("lock-check")) {
            Ok(_) => {
                std::fs::remove_file(dir.join("lock-check")).unwrap();
                Err(format!("{} still accepts new files", dir.display()))
            }
            Err(_) => Ok(guard),
        }
    }
}

impl Drop for Unwritable {
    fn drop(&mut self) {
        if self.as_root {
            if let Err(e) = chattr("-i", &self.dir) {
                eprintln!("could not restore {}: {e}", self.dir.display());
            }
        } else {
            set_mode(&self.dir, 0o755);
        }
    }
}

fn chattr(flag: &str, dir: &Path) -> Result<(), String> {
    let out = Command::new("chattr")
        .arg(flag)
        .arg(dir)
        .output()
        .map_err(|e| format!("chattr: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "chattr {flag}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn set_mode(dir: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn health_follows_the_store_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let network = Network::new();
    let (sink, mut log) = mpsc::unbounded_channel();
    let process = launch_with("health", |options| options.output = Some(sink)).await;
    let node = start_chain_on(
        process,
        node_id(1),
        &network,
        dir.path(),
        r#"{"mempool-capacity": 4}"#,
    )
    .await;
    let genesis = node.started.last_accepted.clone();

    // Healthy, and every field says something true.
    let details = health(&node).await.expect("a fresh chain is healthy");
    assert_eq!(details["database"], json!({"writable": true}));
    let facts = &details["health"];
    assert_eq!(facts["lastAcceptedHeight"], 0);
    assert_eq!(facts["lastAcceptedId"], genesis.id.to_string());
    assert_eq!(facts["processingBlocks"], 0);
    assert_eq!(facts["actorsAlive"], true);
    assert_eq!(
        facts["mempool"],
        json!({"size": 0, "capacity": 4, "fill": 0.0})
    );
    assert_eq!(facts["lastAcceptedAgeSeconds"], Value::Null, "genesis");

    assert_eq!(node.propose(&payload(1)).await, json!({"Success": true}));
    node.wait_mempool(1).await;
    let facts = health(&node).await.unwrap()["health"].clone();
    assert_eq!(facts["mempool"]["size"], 1);
    assert_eq!(facts["mempool"]["fill"], 0.25);

    // The RocksDB directory refuses new files: unhealthy, and the message names the store.
    let rocksdb = dir.path().join("rocksdb");
    assert!(rocksdb.is_dir(), "store lives at chain_data_dir/rocksdb");
    let lock = match Unwritable::lock(&rocksdb) {
        Ok(lock) => lock,
        Err(why) => {
            eprintln!("SKIPPED the unwritable-store part: {why}");
            node.stop().await;
            return;
        }
    };
    // The last probe's result stands for a second (`PROBE_FRESH_FOR`): wait it out.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (code, message) = health(&node)
        .await
        .expect_err("an unwritable store is unhealthy");
    assert_eq!(code, tonic::Code::Unavailable, "{message}");
    assert!(
        message.starts_with("unhealthy: store cannot be written: create "),
        "{message}"
    );
    assert!(message.contains("rocksdb/HEALTH-PROBE"), "{message}");
    assert!(
        !message.contains("actor stopped"),
        "only the store failed: {message}"
    );
    eprintln!("Health while the store is locked: {message}");
    // Called again over more than a second, so the cached probe runs again and fails again:
    // still one ERROR line, and every failed probe counted.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(health(&node).await.is_err());
    }
    let probe_failures = failures(&node, "health_probe").await;
    assert!(
        probe_failures >= 2.0,
        "{probe_failures} failed probes counted"
    );
    let mut lines = Vec::new();
    while let Ok(line) = log.try_recv() {
        lines.push(line);
    }
    let logged: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("health_probe failed"))
        .collect();
    assert_eq!(logged.len(), 1, "{lines:#?}");
    assert!(
        logged[0].contains(" ERROR ") && logged[0].contains("HEALTH-PROBE"),
        "{}",
        logged[0]
    );

    // Why the probe must create a file: RocksDB still appends this accept to its open WAL.
    wait_for_build_event(&node.client).await;
    let one = node.build_and_accept().await;
    assert_eq!(one.height, 1);
    assert!(health(&node).await.is_err(), "still unhealthy");

    // Writable again: healthy within a bounded wait (RocksDB never saw an error: no flush or WAL
    // rotation happened while the directory was locked).
    drop(lock);
    let started = Instant::now();
    let details = loop {
        match health(&node).await {
            Ok(details) => break details,
            Err((_, message)) if started.elapsed() < Duration::from_secs(10) => {
                eprintln!("not healthy yet: {message}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err((_, message)) => panic!("still unhealthy after 10 s: {message}"),
        }
    };
    assert_eq!(details["database"], json!({"writable": true}));
    assert_eq!(details["health"]["lastAcceptedHeight"], 1);
    assert!(
        !rocksdb.join("HEALTH-PROBE").exists(),
        "the probe cleans up after itself"
    );

    // And the chain still works.
    assert_eq!(node.propose(&payload(2)).await, json!({"Success": true}));
    wait_for_build_event(&node.client).await;
    let two = node.build_and_accept().await;
    assert_eq!(two.height, 2);
    let facts = health(&node).await.unwrap()["health"].clone();
    assert_eq!(facts["lastAcceptedHeight"], 2);
    assert_eq!(
        facts["lastAcceptedId"],
        stampvm::chain::Id::from_slice(&two.id).unwrap().to_string()
    );
    assert!(facts["lastAcceptedAgeSeconds"].as_i64().unwrap() <= 5);
    node.stop().await;
}

/// `stampvm_failures_total{operation=…}` as the node's Gather reports it, every cause summed.
async fn failures(node: &TestNode, operation: &str) -> f64 {
    let families = node.client.gather().await.expect("Gather").metric_families;
    stampvm::metrics::counter_sum(
        &families,
        stampvm::metrics::FAILURES_TOTAL,
        stampvm::metrics::LABEL_OPERATION,
        operation,
    )
}

#[tokio::test]
async fn genesis_has_no_age_and_a_stuck_block_is_a_stall() {
    let dir = tempfile::tempdir().unwrap();
    let config = r#"{"health-max-processing-seconds": 1}"#;
    let node = start_node("stall", node_id(1), &Network::new(), dir.path(), config).await;
    let facts = health(&node).await.expect("a fresh chain is healthy")["health"].clone();
    assert_eq!(facts["lastAcceptedAgeSeconds"], Value::Null);
    assert_eq!(facts["oldestProcessingSeconds"], Value::Null);

    // A block built and verified, never decided: the engine stopped hearing from its peers.
    assert_eq!(node.propose(&payload(1)).await, json!({"Success": true}));
    wait_for_build_event(&node.client).await;
    let built = node
        .client
        .build_block(pb::BuildBlockRequest {
            p_chain_height: Some(0),
        })
        .await
        .expect("BuildBlock");
    let facts = health(&node).await.expect("healthy while young")["health"].clone();
    assert_eq!(facts["processingBlocks"], 1);
    assert_eq!(facts["oldestProcessingSeconds"], 0);

    tokio::time::sleep(Duration::from_millis(2200)).await;
    let (code, message) = health(&node)
        .await
        .expect_err("a stalled chain is unhealthy");
    assert_eq!(code, tonic::Code::Unavailable);
    assert!(
        message.starts_with("unhealthy: chain stalled: 1 block(s) processing, the oldest verified"),
        "{message}"
    );
    assert!(message.ends_with("(more than 1 s)"), "{message}");

    // Decided: healthy again, and the first block has an age.
    set_preference(&node, stampvm::chain::Id::from_slice(&built.id).unwrap()).await;
    node.client
        .block_accept(pb::BlockAcceptRequest { id: built.id })
        .await
        .expect("BlockAccept");
    let facts = health(&node).await.expect("healthy once decided")["health"].clone();
    assert_eq!(facts["processingBlocks"], 0);
    assert_eq!(facts["lastAcceptedHeight"], 1);
    let age = facts["lastAcceptedAgeSeconds"].as_i64().expect("an age");
    assert!((0..=5).contains(&age), "{age}");
    node.stop().await;
}

#[tokio::test]
async fn the_write_probe_is_cached_for_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_node("probe-cache", node_id(1), &Network::new(), dir.path(), "").await;
    let rocksdb = dir.path().join("rocksdb");
    let touched = || std::fs::metadata(&rocksdb).unwrap().modified().unwrap();
    // Wait out the probe of any earlier call, so the next call probes.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let before = touched();
        let started = Instant::now();
        health(&node).await.expect("healthy");
        let probed = touched();
        assert_ne!(probed, before, "the first call after a second probes");
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let client = node.client.clone();
            calls.spawn(async move { client.raw().health(()).await });
        }
        while let Some(answer) = calls.join_next().await {
            answer.unwrap().expect("healthy");
        }
        // Only conclusive if the eight calls fell within the probe's second (a loaded machine
        // may be slower: then try again, a few times).
        if started.elapsed() < Duration::from_millis(800) {
            assert_eq!(touched(), probed, "a call within the second probed again");
            break;
        }
        assert!(attempts < 5, "eight Health calls never fit in 0.8 s");
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = touched();
    health(&node).await.expect("healthy");
    assert_ne!(touched(), before, "a call after the second probes again");
    node.stop().await;
}

/// What RocksDB (through the `rocksdb` crate the store uses) does in a directory that stops
/// accepting new files: synced writes still succeed (they append to the open WAL), but the next
/// flush must start a new WAL, fails, and leaves the database refusing every write, even once the
/// directory is writable again, until it is reopened (which recovers every synced write). The
/// crate exposes no `DB::Resume`. So the health probe must report the directory before a flush
/// does; once a flush has failed, Health stays unhealthy and its message carries RocksDB's error
/// until the plugin restarts. Fails if RocksDB changes any of this.
#[test]
fn rocksdb_in_an_unwritable_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let mut options = rocksdb::Options::default();
    options.create_if_missing(true);
    let db = rocksdb::DB::open(&options, &path).unwrap();
    let mut synced = rocksdb::WriteOptions::default();
    synced.set_sync(true);
    db.put_opt(b"before", b"1", &synced).unwrap();

    let lock = match Unwritable::lock(&path) {
        Ok(lock) => lock,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    db.put_opt(b"locked", b"2", &synced)
        .expect("a synced write appends to the open WAL");
    let flush = db.flush().expect_err("a flush needs a new WAL file");
    assert!(flush.to_string().starts_with("IO error"), "{flush}");
    let refused = db.put_opt(b"after flush", b"3", &synced).unwrap_err();
    assert_eq!(
        refused.to_string(),
        flush.to_string(),
        "the flush error sticks"
    );

    drop(lock);
    assert!(db.put_opt(b"unlocked", b"4", &synced).is_err());
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        db.put_opt(b"unlocked", b"4", &synced).is_err(),
        "no automatic recovery from this error"
    );
    assert_eq!(db.get(b"locked").unwrap().as_deref(), Some(&b"2"[..]));

    drop(db);
    let db = rocksdb::DB::open(&options, &path).expect("reopening recovers");
    assert_eq!(db.get(b"before").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(db.get(b"locked").unwrap().as_deref(), Some(&b"2"[..]));
    assert_eq!(db.get(b"after flush").unwrap(), None);
    db.put_opt(b"reopened", b"5", &synced).unwrap();
}
