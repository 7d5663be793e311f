//! The chain config's `log-format` and `log-level` keys (src/config.rs) take effect at Initialize,
//! seen from the node's side: the test reads every line the real plugin writes, through the
//! host's output sink ([`LaunchOptions::output`]).
//!
//! - `{"log-format": "json", "log-level": "debug"}`: every line after Initialize is a JSON object
//!   with a `level` and a `fields` object; the `chain initialized` event is one, with its message
//!   in `fields.message`; and debug events of the plugin appear. Fails on any plain-text line.
//! - No chain config: lines stay plain text, none is a JSON object, and none is at DEBUG or TRACE.
//! - `{"log-level": "info", "log-format": "json"}` and 50 proposals through the HTTP gateway:
//!   no INFO-or-louder line names a proposed payload or mentions payloads, proposals or the
//!   mempool, and the whole stretch from the first proposal until all 50 are in the mempool
//!   (plus a build interval) holds fewer than 10 INFO-or-louder lines: a line per payload fails.
//! - `stampvm dev` with `{"log-format": "json"}`: every line on its stderr, from the first to the
//!   last of a run that accepts a block and stops on Ctrl-C, is a JSON object with a `level` and
//!   `fields`; the plugin's carry `"process":"plugin"` (no `[plugin] ` prefix), the host's none;
//!   the `chain initialized` config is the chain config's own JSON. A second dev refused on the
//!   same directory says so in a JSON ERROR line. Fails on any other line.

use crate::common;

use common::dev::DevProcess;
use common::*;
use rpcchainvm_host::Network;
use serde_json::{json, Value};
use stampvm::api::data::{format_payload, Encoding};
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;

/// Every line the plugin has written so far, without the host's `[name] ` prefix.
struct PluginLog {
    receiver: mpsc::UnboundedReceiver<String>,
    lines: Vec<String>,
}

impl PluginLog {
    /// Takes in whatever has arrived, without waiting.
    fn drain(&mut self) {
        while let Ok(line) = self.receiver.try_recv() {
            self.lines.push(line);
        }
    }

    /// Waits (bounded) for a line containing `needle`; returns its index.
    async fn wait_for(&mut self, needle: &str) -> usize {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(index) = self.lines.iter().position(|l| l.contains(needle)) {
                return index;
            }
            match tokio::time::timeout_at(deadline, self.receiver.recv()).await {
                Ok(Some(line)) => self.lines.push(line),
                Ok(None) => panic!("the plugin's output ended without {needle:?}"),
                Err(_) => panic!("no line with {needle:?} in 10 s: {:#?}", self.lines),
            }
        }
    }

    /// Reads until the plugin has closed both pipes (it exited), bounded.
    async fn until_closed(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.receiver.recv()).await {
                Ok(Some(line)) => self.lines.push(line),
                Ok(None) => return,
                Err(_) => panic!("the plugin's output is still open 10 s after it stopped"),
            }
        }
    }
}

/// `common`'s `start_node` with the plugin's output captured. Waits for the plugin's
/// `handshake accepted` line before starting the chain, so every line from `first_after_handshake`
/// on was written after that point, and the ones before it in the startup format (text, info).
async fn start_logged(name: &str, config: &str, dir: &Path) -> (TestNode, PluginLog, usize) {
    let (sink, receiver) = mpsc::unbounded_channel();
    let process = launch_with(name, |options| options.output = Some(sink)).await;
    let mut log = PluginLog {
        receiver,
        lines: Vec::new(),
    };
    let first_after_handshake = log.wait_for("handshake accepted").await + 1;

    let node = start_chain_on(process, node_id(1), &Network::new(), dir, config).await;
    (node, log, first_after_handshake)
}

/// The line as a JSON object, if it is one.
fn json_object(line: &str) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_str(line) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    }
}

const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

#[tokio::test]
async fn json_format_and_debug_level_apply_after_initialize() {
    let dir = tempfile::tempdir().unwrap();
    let config = r#"{"log-format": "json", "log-level": "debug"}"#;
    let (node, mut log, after) = start_logged("json-debug", config, dir.path()).await;
    log.wait_for("chain initialized").await;
    node.stop().await;
    log.until_closed().await;

    // Before Initialize the plugin logs in its startup format: text.
    assert!(after > 0 && log.lines[..after].iter().all(|l| json_object(l).is_none()));
    let lines = &log.lines[after..];
    let mut stampvm_debug = 0;
    let mut initialized = 0;
    for line in lines {
        let object = json_object(line).unwrap_or_else(|| panic!("not a JSON object: {line}"));
        let level = object["level"].as_str().unwrap_or_default();
        assert!(LEVELS.contains(&level), "level {level:?} in {line}");
        let fields = object["fields"].as_object();
        let fields = fields.unwrap_or_else(|| panic!("no `fields` object: {line}"));
        let target = object["target"].as_str().unwrap_or_default();
        if level == "DEBUG" && target.starts_with("stampvm") {
            stampvm_debug += 1;
        }
        if fields.get("message") == Some(&json!("chain initialized")) {
            assert_eq!(level, "INFO", "{line}");
            assert!(fields["chain"].is_string(), "{line}");
            initialized += 1;
        }
    }
    assert_eq!(initialized, 1, "one `chain initialized` event");
    assert!(
        stampvm_debug > 0,
        "no debug event of the plugin: {lines:#?}"
    );
}

#[tokio::test]
async fn default_config_logs_text_without_debug() {
    let dir = tempfile::tempdir().unwrap();
    let (node, mut log, _) = start_logged("text-info", "", dir.path()).await;
    let initialized = log.wait_for("chain initialized").await;
    node.stop().await;
    log.until_closed().await;

    // `<timestamp>  INFO <target>: <message> <fields>`: the level is the second word.
    assert!(
        log.lines[initialized].contains(" INFO "),
        "{}",
        log.lines[initialized]
    );
    for line in &log.lines {
        assert!(
            json_object(line).is_none(),
            "a JSON line by default: {line}"
        );
        let level = line.split_whitespace().nth(1).unwrap_or_default();
        assert!(
            ["INFO", "WARN", "ERROR"].contains(&level),
            "level {level:?} at the default log level: {line}"
        );
    }
}

#[tokio::test]
async fn info_level_writes_no_line_per_payload() {
    const PROPOSALS: u64 = 50;
    let dir = tempfile::tempdir().unwrap();
    let config = r#"{"log-level": "info", "log-format": "json"}"#;
    let (node, mut log, _) = start_logged("per-payload", config, dir.path()).await;
    log.wait_for("chain initialized").await;
    log.drain();
    let start = log.lines.len();

    let payloads: Vec<[u8; 32]> = (0..PROPOSALS).map(payload).collect();
    for data in &payloads {
        assert_eq!(node.propose(data).await, json!({"Success": true}));
    }
    node.wait_mempool(PROPOSALS).await;
    // Let the builder's interval (1 s by default) and a gossip flush pass.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    log.drain();
    let window = &log.lines[start..];

    let names = |data: &[u8; 32]| [hex::encode(data), format_payload(data, Encoding::Cb58)];
    let loud: Vec<&String> = window
        .iter()
        .filter(|line| {
            let object = json_object(line).unwrap_or_else(|| panic!("not JSON: {line}"));
            matches!(object["level"].as_str(), Some("INFO" | "WARN" | "ERROR"))
        })
        .collect();
    let about_payloads: Vec<&&String> = loud
        .iter()
        .filter(|line| {
            let lower = line.to_lowercase();
            ["payload", "propos", "mempool"]
                .iter()
                .any(|w| lower.contains(w))
                || payloads.iter().any(|data| {
                    names(data)
                        .iter()
                        .any(|name| lower.contains(&name.to_lowercase()))
                })
        })
        .collect();
    assert!(
        about_payloads.is_empty(),
        "INFO lines about payloads: {about_payloads:#?}"
    );
    assert!(
        loud.len() < 10,
        "{} INFO+ lines for {PROPOSALS} proposals: {loud:#?}",
        loud.len()
    );
    node.stop().await;
}

/// Every line of `said` as a JSON object with a known `level` and a `fields` object.
fn json_lines(said: &str) -> Vec<serde_json::Map<String, Value>> {
    assert!(!said.is_empty(), "nothing on stderr");
    said.lines()
        .map(|line| {
            let object = json_object(line).unwrap_or_else(|| panic!("not JSON: {line}\n{said}"));
            let level = object["level"].as_str().unwrap_or_default();
            assert!(LEVELS.contains(&level), "level {level:?} in {line}");
            assert!(object["fields"].is_object(), "no `fields` object: {line}");
            object
        })
        .collect()
}

#[tokio::test]
async fn dev_in_json_mode_writes_json_only_from_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, r#"{"log-format": "json"}"#).unwrap();
    let data_dir = dir.path().join("dev");
    let flags = [
        "--metrics",
        "127.0.0.1:0",
        "--config",
        config.to_str().unwrap(),
    ];
    let mut dev = DevProcess::spawn(&data_dir, &flags);
    let url = dev.rpc_url().await;
    let data = payload_hex(&payload(1));
    let reply = json_rpc(&url, "timestampvm.proposeBlock", json!({"data": data})).await;
    assert_eq!(reply["result"], json!({"Success": true}), "{reply}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while json_rpc(&url, "timestampvm.getBlock", json!({})).await["result"]["data"] != json!(data) {
        assert!(tokio::time::Instant::now() < deadline, "no block in 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut second = DevProcess::spawn(&data_dir, &flags);
    let exited = second.wait_exit(Duration::from_secs(30)).await;
    let refused = second
        .stderr_with("another stampvm", Duration::from_secs(5))
        .await;
    assert!(
        exited.is_some_and(|s| !s.success()),
        "{exited:?}: {refused}"
    );
    let last = json_lines(&refused).pop().unwrap();
    assert_eq!(last["level"], "ERROR", "{refused}");
    let message = last["fields"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("stampvm: error: another stampvm"),
        "{refused}"
    );

    dev.interrupt().await;
    let said = dev
        .stderr_with("plugin stopped", Duration::from_secs(5))
        .await;
    let lines = json_lines(&said);
    let from_plugin =
        |object: &&serde_json::Map<String, Value>| object.get("process") == Some(&json!("plugin"));
    let plugin = lines.iter().filter(from_plugin).count();
    assert!(
        plugin > 0 && plugin < lines.len(),
        "plugin and host lines both: {said}"
    );
    assert!(!from_plugin(&&lines[0]), "the host's first line: {said}");
    let initialized = lines
        .iter()
        .find(|object| object["fields"]["message"] == json!("chain initialized"))
        .unwrap_or_else(|| panic!("no `chain initialized`: {said}"));
    assert!(from_plugin(&initialized));
    let logged = initialized["fields"]["config"]
        .as_str()
        .expect("config text");
    let logged: Value = serde_json::from_str(logged).expect("the config as JSON");
    assert_eq!(logged["log-format"], "json", "{logged}");
    assert_eq!(logged["mempool-capacity"], 4096, "{logged}");
}
