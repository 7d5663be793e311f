//! `stampvm dev` as a person uses it (README, src/commands/dev/): started on a clean directory it prints
//! its JSON-RPC URL, accepts a curl-style proposeBlock, builds and accepts the block by itself,
//! stops cleanly (exit status 0) on Ctrl-C, and the next start on the same directory resumes at the
//! same height with the same block. Fails if the banner never comes, the proposal is refused, no
//! block with the payload is accepted within 10 s, SIGINT does not end the process cleanly within
//! 10 s, or the second start comes back at another height or tip.
//!
//! `killed_node_leaves_no_plugin_behind` SIGKILLs the dev process, the node in this picture: its plugin must exit on its own
//! (node-behaviour.md section 10: parent-death signal, parent polling) and release the chain's
//! RocksDB, so the next start works. Fails if the plugin outlives its parent by 5 s.
//!
//! The other way round, the dev node follows its chain: `dev_exits_when_its_plugin_dies` SIGKILLs
//! the plugin, and `dev_stops_when_an_accept_fails` makes the plugin's store fail its writes under
//! a running chain; each time `dev` must exit non-zero, naming the cause, within a bound, instead
//! of answering every call with an error, or building on a block that never becomes final.
//!
//! What is in the way at start-up, as a new operator meets it:
//! - `a_taken_metrics_port_leaves_the_chain_running`: `--metrics` on a port the test holds (as
//!   node_exporter holds 9100), then a chain config's `metrics-addr` on it: the chain still comes
//!   up and accepts a block, and a warning names the knob that set the address (`--metrics` /
//!   `--no-metrics`, or `metrics-addr`), not the other. Fails if dev exits, or names the wrong knob.
//! - `a_taken_http_port_names_the_flag`: dev exits non-zero with a hint naming `--http`.
//! - `a_second_dev_on_one_data_dir_stops_before_launching`: it exits non-zero, naming the first
//!   dev's pid and the directory, and no line of a plugin ever appears in its log (a launched
//!   plugin always logs its protocol choice); the first dev keeps serving.
//! - `a_held_chain_store_names_its_holder`: the test holds RocksDB's lock on the chain's store, as
//!   a leftover plugin would; dev exits non-zero naming the test's pid, not RocksDB's words.

use crate::common;

use common::dev::{children, plugin_with_failing_writes, running, DevProcess, Orphan};
use common::{payload, payload_hex, post_raw};
use rpcchainvm_host::dev_chain_id;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How long `dev` may take to notice that its chain cannot go on and exit: generous, as the
/// machine may be loaded; a dev node that keeps running never gets there.
const EXIT_BOUND: Duration = Duration::from_secs(30);

/// Every start here: metrics on an ephemeral port, so no test holds the default 9100.
const DEV_FLAGS: &[&str] = &["--metrics", "127.0.0.1:0"];

/// The last accepted block as `timestampvm.getBlock` with empty params reports it.
async fn last_block(url: &str) -> Value {
    let reply = common::json_rpc(url, "timestampvm.getBlock", json!({})).await;
    reply["result"].clone()
}

#[tokio::test]
async fn dev_chain_from_a_clean_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("dev");
    let data = payload(42);
    let hex = payload_hex(&data);

    let mut dev = DevProcess::spawn(&data_dir, DEV_FLAGS);
    let (lines, url) = dev.banner().await;
    assert!(
        lines[0].contains("is up at height 0"),
        "a clean directory starts at genesis: {lines:?}"
    );

    // What the banner's curl line sends.
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "timestampvm.proposeBlock", "params": {"data": hex}});
    let (status, reply) = post_raw(&url, "application/json", body.to_string().into_bytes()).await;
    assert_eq!(status, 200, "{reply}");
    let reply: Value = serde_json::from_str(&reply).expect("JSON reply");
    assert_eq!(reply["result"], json!({"Success": true}), "{reply}");

    // The dev engine builds and accepts it by itself.
    let deadline = Instant::now() + Duration::from_secs(10);
    let accepted = loop {
        let block = last_block(&url).await;
        if block["data"] == json!(hex) {
            break block;
        }
        assert!(
            Instant::now() < deadline,
            "payload not in the last accepted block within 10 s; last: {block}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let height = accepted["height"].as_str().expect("height").to_string();
    assert_eq!(height, "1", "the first block on a clean chain");
    dev.interrupt().await;
    drop(dev);

    // The next start resumes the chain.
    let mut dev = DevProcess::spawn(&data_dir, DEV_FLAGS);
    let (lines, url) = dev.banner().await;
    assert!(
        lines[0].contains(&format!("is up at height {height} ")),
        "resumes at height {height}: {lines:?}"
    );
    let block = last_block(&url).await;
    assert_eq!(block["id"], accepted["id"], "same tip after restart");
    assert_eq!(block["data"], json!(hex));
    dev.interrupt().await;
}

#[tokio::test]
async fn killed_node_leaves_no_plugin_behind() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("dev");
    let mut dev = DevProcess::spawn(&data_dir, DEV_FLAGS);
    dev.banner().await;
    let plugins = children(dev.pid());
    assert_eq!(plugins.len(), 1, "one plugin process: {plugins:?}");
    let plugin = Orphan(plugins[0]);

    dev.signal(libc::SIGKILL);
    dev.wait_exit(Duration::from_secs(5))
        .await
        .expect("reaped after SIGKILL");
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(plugin.0) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !running(plugin.0),
        "plugin {} still runs 5 s after its parent was killed",
        plugin.0
    );

    // The chain's store was released: the next start resumes it.
    let mut dev = DevProcess::spawn(&data_dir, DEV_FLAGS);
    let (lines, _) = dev.banner().await;
    assert!(lines[0].contains("is up at height 0"), "{lines:?}");
    dev.interrupt().await;
}

/// Waits until the last accepted block is at `height` (at most 10 s).
async fn wait_for_height(url: &str, height: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let block = last_block(url).await;
        if block["height"] == json!(height.to_string()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "height {height} not reached within 10 s; last: {block}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn propose(url: &str, n: u64) {
    let hex = payload_hex(&payload(n));
    let reply = common::json_rpc(url, "timestampvm.proposeBlock", json!({"data": hex})).await;
    assert_eq!(reply["result"], json!({"Success": true}), "{reply}");
}

// Fails if `dev` is still running EXIT_BOUND after its plugin was SIGKILLed, exits 0, or does
// not name the plugin's fate.
#[tokio::test]
async fn dev_exits_when_its_plugin_dies() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = DevProcess::spawn(&dir.path().join("dev"), DEV_FLAGS);
    dev.banner().await;
    let plugins = children(dev.pid());
    assert_eq!(plugins.len(), 1, "one plugin process: {plugins:?}");
    let plugin = Orphan(plugins[0]);
    // SAFETY: kill has no memory-safety preconditions; `dev` has not reaped its child yet.
    assert_eq!(unsafe { libc::kill(plugin.0, libc::SIGKILL) }, 0);

    let status = dev.wait_exit(EXIT_BOUND).await;
    let said = dev.stderr_with("SIGKILL", Duration::from_secs(5)).await;
    let status = status
        .unwrap_or_else(|| panic!("dev still runs {EXIT_BOUND:?} after its plugin died:\n{said}"));
    assert!(!status.success(), "dev exited with {status}:\n{said}");
    assert!(
        said.contains(&format!("plugin (pid {})", plugin.0))
            && said.contains("signal: 9 (SIGKILL)"),
        "the error names the plugin and its signal:\n{said}"
    );
}

// The plugin's store starts failing its writes: the plugin's file-size limit goes to 0 under the
// running chain (RLIMIT_FSIZE, what `ulimit -f 0` sets), so every write to a file fails with
// EFBIG, as writes fail on a full disk (and unlike a read-only directory, it holds as root). The
// next BlockAccept cannot write its block. Fails if `dev` still runs EXIT_BOUND after the
// proposal (it built on the unaccepted block instead), exits 0, or its error does not name the
// failed BlockAccept and the storage error behind it.
#[tokio::test]
async fn dev_stops_when_an_accept_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = DevProcess::spawn(&dir.path().join("dev"), DEV_FLAGS);
    let url = dev.rpc_url().await;
    propose(&url, 1).await;
    wait_for_height(&url, 1).await;

    let _plugin = plugin_with_failing_writes(dev.pid());
    propose(&url, 2).await;

    let status = dev.wait_exit(EXIT_BOUND).await;
    let said = dev
        .stderr_with("File too large", Duration::from_secs(5))
        .await;
    let status = status
        .unwrap_or_else(|| panic!("dev still runs {EXIT_BOUND:?} after an accept failed:\n{said}"));
    assert!(!status.success(), "dev exited with {status}:\n{said}");
    let error = final_error(&said);
    assert!(
        error.contains("vm.VM/BlockAccept of block") && error.contains("(height 2)"),
        "the error names the failed accept: {error}"
    );
    assert!(
        error.contains("File too large"),
        "the error names the storage failure: {error}"
    );
}

/// Waits for `dev` to exit (at most EXIT_BOUND) and returns its whole stderr; fails if it is
/// still running or exited 0.
async fn failed_exit(dev: &mut DevProcess, needle: &str) -> String {
    let status = dev.wait_exit(EXIT_BOUND).await;
    let said = dev.stderr_with(needle, Duration::from_secs(5)).await;
    let status = status.unwrap_or_else(|| panic!("dev still runs after {EXIT_BOUND:?}:\n{said}"));
    assert!(!status.success(), "dev exited with {status}:\n{said}");
    said
}

/// The `stampvm: error:` line dev ends with, out of its stderr `said`.
fn final_error(said: &str) -> &str {
    said.lines()
        .find(|line| line.starts_with("stampvm: error:"))
        .unwrap_or_else(|| panic!("no final error line:\n{said}"))
}

/// The WARN line of `dev`'s stderr that names `address`, once a line holding `wait_for` arrived.
async fn warning_naming(dev: &mut DevProcess, wait_for: &str, address: &str) -> String {
    let said = dev.stderr_with(wait_for, Duration::from_secs(5)).await;
    said.lines()
        .find(|line| line.contains("WARN") && line.contains(address))
        .unwrap_or_else(|| panic!("no warning naming {address}:\n{said}"))
        .to_string()
}

#[tokio::test]
async fn a_taken_metrics_port_leaves_the_chain_running() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = held.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("dev");

    let mut dev = DevProcess::spawn(&data_dir, &["--metrics", &taken]);
    let (lines, url) = dev.whole_banner().await;
    propose(&url, 1).await;
    wait_for_height(&url, 1).await;
    let warning = warning_naming(&mut dev, "--no-metrics", &taken).await;
    assert!(
        warning.contains("--metrics HOST:PORT") && warning.contains("--no-metrics"),
        "the warning names the flags: {warning}"
    );
    assert!(
        !warning.contains("metrics-addr"),
        "the warning blames a config key the user never set: {warning}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("metrics:")),
        "the banner announces metrics that are not served: {lines:?}"
    );
    dev.interrupt().await;
    drop(dev);

    let config = dir.path().join("config.json");
    std::fs::write(&config, json!({"metrics-addr": taken}).to_string()).unwrap();
    let config = config.to_str().unwrap();
    let mut dev = DevProcess::spawn(&data_dir, &["--config", config]);
    let url = dev.rpc_url().await;
    wait_for_height(&url, 1).await;
    let warning = warning_naming(&mut dev, "metrics-addr", &taken).await;
    assert!(
        warning.contains("`metrics-addr` in the chain config") && !warning.contains("--metrics"),
        "the warning names the config key: {warning}"
    );
    dev.interrupt().await;
    drop(held);
}

#[tokio::test]
async fn a_taken_http_port_names_the_flag() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = held.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let mut dev = DevProcess::spawn(&dir.path().join("dev"), &["--http", &taken]);
    let said = failed_exit(&mut dev, "--http HOST:PORT").await;
    let error = final_error(&said);
    assert!(
        error.contains(&format!("HTTP API on {taken}"))
            && error.contains("another node or another `stampvm dev`")
            && error.contains("--http HOST:PORT"),
        "{error}"
    );
    drop(held);
}

/// Lines a plugin (or the static-handler process) wrote into dev's text log.
fn plugin_lines(said: &str) -> Vec<&str> {
    said.lines()
        .filter(|line| line.starts_with("[plugin] ") || line.starts_with("[static] "))
        .collect()
}

#[tokio::test]
async fn a_second_dev_on_one_data_dir_stops_before_launching() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("dev");
    let mut first = DevProcess::spawn(&data_dir, DEV_FLAGS);
    let url = first.rpc_url().await;

    let mut second = DevProcess::spawn(&data_dir, DEV_FLAGS);
    let said = failed_exit(&mut second, "stampvm: error:").await;
    let error = final_error(&said);
    assert!(
        error.contains(&format!(
            "another stampvm (pid {}) is using {}",
            first.pid(),
            data_dir.display()
        )),
        "{error}"
    );
    assert!(
        plugin_lines(&said).is_empty(),
        "the second dev launched a plugin:\n{said}"
    );
    // The first one never noticed.
    propose(&url, 1).await;
    wait_for_height(&url, 1).await;
    first.interrupt().await;
}

#[tokio::test]
async fn a_held_chain_store_names_its_holder() {
    use std::os::fd::AsRawFd;
    const GENESIS: &str = "held store";
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("dev");
    let store = data_dir
        .join("chainData")
        .join(dev_chain_id(GENESIS.as_bytes()).to_string())
        .join("rocksdb");
    std::fs::create_dir_all(&store).unwrap();
    let lock = std::fs::File::create(store.join("LOCK")).unwrap();
    // What RocksDB takes on its LOCK file: a POSIX write lock on the whole file.
    // SAFETY: an all-zero flock is a valid value; F_SETLK reads it; the descriptor is open.
    let mut whole: libc::flock = unsafe { std::mem::zeroed() };
    whole.l_type = libc::F_WRLCK as _;
    whole.l_whence = libc::SEEK_SET as _;
    let held = unsafe { libc::fcntl(lock.as_raw_fd(), libc::F_SETLK, &whole) };
    assert_eq!(held, 0, "F_SETLK: {}", std::io::Error::last_os_error());

    let mut flags = DEV_FLAGS.to_vec();
    flags.extend(["--genesis", GENESIS]);
    let mut dev = DevProcess::spawn(&data_dir, &flags);
    let said = failed_exit(&mut dev, "stampvm: error:").await;
    let error = final_error(&said);
    assert!(
        error.contains(&format!(
            "is in use by another process (pid {})",
            std::process::id()
        )) && !error.contains("Resource temporarily unavailable"),
        "{error}"
    );
    drop(lock);
}
