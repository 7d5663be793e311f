//! The node's own endpoints in `stampvm dev` (README, "Node endpoints in `stampvm dev`";
//! crates/rpcchainvm-host/src/node_api.rs), through the real binary as a user reaches them with curl or Prometheus:
//!
//! - `node_endpoints_answer_as_the_node_does`: `GET /ext/health` is 200 with the chain's check
//!   holding the plugin's health details where AvalancheGo puts them, `health.health` says the
//!   same, `info.getNodeVersion` lists the VM ID with the plugin's version, `getNodeID`,
//!   `getNetworkID` and `isBootstrapped` answer, and `/ext/metrics` carries
//!   `avalanche_<vmID>_stampvm_blocks_accepted_total{chain="<chainID>"}` for a block proposed as a
//!   bare `sha256sum` digest, in text that `promtool check metrics` parses and finds nothing
//!   wrong with beyond the VM ID's capitals, which the node's own names have too. Fails on a 404,
//!   any other shape or value, a missed block, or a promtool complaint.
//! - `health_turns_503_when_the_store_fails`: the plugin's store stops taking writes under the
//!   running chain (its file-size limit goes to 0, as in dev_chain.rs); `/ext/health` must then
//!   answer 503 with `healthy: false` and the plugin's reason, counting the failures in a row.

use crate::common;

use common::dev::{plugin_with_failing_writes, DevProcess};
use rpcchainvm::ids::checksum4;
use serde_json::{json, Value};
use stampvm::chain::Id;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// Every start here: the plugin's own metrics endpoint on an ephemeral port, so no test holds
/// the default 9100.
const DEV_FLAGS: &[&str] = &["--metrics", "127.0.0.1:0"];

/// The dev chain's VM: the ID of the name `stampvm` (`stampvm vm-id stampvm`).
fn vm_id() -> Id {
    Id::from_name("stampvm").unwrap()
}

/// `http://127.0.0.1:<port>` and the chain ID, from the banner's JSON-RPC URL.
fn split_url(rpc_url: &str) -> (String, String) {
    let (base, rest) = rpc_url.split_once("/ext/bc/").expect("a chain URL");
    let chain = rest.strip_suffix("/rpc").expect("ends in /rpc");
    (base.to_owned(), chain.to_owned())
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// `GET url`: the status, `node-id` header and body.
async fn get(url: &str) -> (u16, Option<String>, String) {
    let response = http().get(url).send().await.expect("GET");
    let status = response.status().as_u16();
    let node_id = response
        .headers()
        .get("node-id")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, node_id, response.text().await.expect("body"))
}

/// One JSON-RPC call's `result`, failing on an error object.
async fn result(url: &str, method: &str, params: Value) -> Value {
    let reply = common::json_rpc(url, method, params).await;
    assert!(reply.get("error").is_none(), "{method}: {reply}");
    reply["result"].clone()
}

#[tokio::test]
async fn node_endpoints_answer_as_the_node_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = DevProcess::spawn(&dir.path().join("dev"), DEV_FLAGS);
    let rpc_url = dev.rpc_url().await;
    let (base, chain) = split_url(&rpc_url);
    let vm_id = vm_id().to_string();

    // Health, GET: 200 and AvalancheGo's APIReply, the plugin's details under engine.vm.
    let (status, node_id, body) = get(&format!("{base}/ext/health")).await;
    assert_eq!(status, 200, "{body}");
    let node_id = node_id.expect("the node's node-id header");
    let health: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(health["healthy"], true, "{health}");
    let check = &health["checks"][&chain];
    assert_eq!(
        check["message"]["engine"]["vm"]["database"]["writable"], true,
        "{health}"
    );
    let vm_health = &check["message"]["engine"]["vm"]["health"];
    assert_eq!(vm_health["lastAcceptedHeight"], 0, "{health}");
    assert_eq!(
        check["message"]["engine"]["consensus"]["lastAcceptedHeight"],
        0
    );
    assert!(
        check["duration"].as_i64().is_some_and(|ns| ns > 0),
        "{check}"
    );
    assert!(
        check["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{check}"
    );
    assert!(check.get("error").is_none() && check.get("contiguousFailures").is_none());
    assert_eq!(
        get(&format!("{base}/ext/health/health")).await.0,
        200,
        "/ext/health/health"
    );

    // Health, JSON-RPC: the same reply as a result.
    let health_url = format!("{base}/ext/health");
    let reply = result(&health_url, "health.health", json!({})).await;
    assert_eq!(reply["healthy"], true, "{reply}");
    assert!(reply["checks"][&chain].is_object(), "{reply}");

    // Info.
    let info_url = format!("{base}/ext/info");
    let version = result(&info_url, "info.getNodeVersion", json!({})).await;
    assert_eq!(
        version["vmVersions"],
        json!({ vm_id.clone(): format!("v{}", stampvm::VERSION) }),
        "{version}"
    );
    assert!(version["version"]
        .as_str()
        .unwrap()
        .starts_with("avalanchego/1."));
    assert!(version["rpcProtocolVersion"]
        .as_str()
        .unwrap()
        .parse::<u32>()
        .is_ok());
    let id = result(&info_url, "info.getNodeID", json!({})).await;
    assert_eq!(
        id["nodeID"],
        json!(node_id),
        "the same node as the header says"
    );
    let network = result(&info_url, "info.getNetworkID", json!({})).await;
    assert_eq!(network, json!({"networkID": "12345"}));
    let ready = result(&info_url, "info.isBootstrapped", json!({"chain": chain})).await;
    assert_eq!(ready, json!({"isBootstrapped": true}));
    let unknown = common::json_rpc(&info_url, "info.isBootstrapped", json!({"chain": "X"})).await;
    assert_eq!(
        unknown["error"]["message"],
        "there is no chain with alias/ID 'X'"
    );

    // A block, proposed the way a shell user would: the bare sha256sum digest.
    let document = b"dev_node_endpoints: a document";
    let digest = Id::sha256(document);
    let bare = hex::encode(digest.0);
    let proposed = result(&rpc_url, "timestampvm.proposeBlock", json!({"data": bare})).await;
    assert_eq!(proposed, json!({"Success": true}));
    let go_form = format!("0x{bare}{}", hex::encode(checksum4(&digest.0)));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let block = result(&rpc_url, "timestampvm.getBlock", json!({})).await;
        if block["data"] == json!(go_form) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not accepted within 10 s: {block}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Metrics: the node's names and label, promtool-clean.
    let (status, _, text) = get(&format!("{base}/ext/metrics")).await;
    assert_eq!(status, 200, "{text}");
    let series = format!("avalanche_{vm_id}_stampvm_blocks_accepted_total{{chain=\"{chain}\"}} ");
    let line = text.lines().find(|line| line.starts_with(&series));
    assert_eq!(
        line.map(|l| &l[series.len()..]),
        Some("1"),
        "{series}in:\n{text}"
    );
    assert!(
        text.lines()
            .all(|l| l.starts_with('#') || l.contains(&format!("chain=\"{chain}\""))),
        "every sample carries the chain label:\n{text}"
    );
    // promtool lints capitals in names; the VM ID in the node's prefix has them, in AvalancheGo
    // as here. Everything else must pass untouched: with a lower-case stand-in for the VM ID,
    // not a word of complaint; as served, no complaint but that one.
    let (code, said) = promtool(&text.replace(&vm_id, "vmid")).await;
    assert_eq!((code, said.as_str()), (0, ""), "promtool on:\n{text}");
    let (code, said) = promtool(&text).await;
    assert!(code == 0 || code == 3, "promtool exit {code}: {said}");
    for complaint in said.lines() {
        assert!(
            complaint.starts_with(&format!("avalanche_{vm_id}_"))
                && complaint
                    .ends_with("metric names should be written in 'snake_case' not 'camelCase'"),
            "promtool: {complaint}"
        );
    }
    dev.interrupt().await;
}

/// `promtool check metrics` on `text`: its exit code and everything it said, within 10 s.
async fn promtool(text: &str) -> (i32, String) {
    let mut child = tokio::process::Command::new("/usr/bin/promtool")
        .args(["check", "metrics"])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("/usr/bin/promtool (Debian's prometheus package) runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(text.as_bytes())
        .await
        .expect("feed promtool");
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("promtool within 10 s")
        .expect("promtool output");
    let said = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), said)
}

#[tokio::test]
async fn health_turns_503_when_the_store_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = DevProcess::spawn(&dir.path().join("dev"), DEV_FLAGS);
    let (base, chain) = split_url(&dev.rpc_url().await);
    let health_url = format!("{base}/ext/health");
    assert_eq!(get(&health_url).await.0, 200);

    let plugin = plugin_with_failing_writes(dev.pid());
    // The plugin answers Health from a probe result it keeps for PROBE_FRESH_FOR: the healthy
    // one above must age out before the failing store shows.
    tokio::time::sleep(stampvm::vm::health::PROBE_FRESH_FOR + Duration::from_millis(200)).await;

    let mut first_failure = None;
    for failures in 1..=2 {
        let (status, _, body) = get(&health_url).await;
        assert_eq!(status, 503, "{body}");
        let health: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(health["healthy"], false, "{health}");
        let check = &health["checks"][&chain];
        let error = check["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{health}"));
        assert!(
            error.starts_with("health check failed: rpc error: code = ")
                && error.contains("store cannot be written"),
            "{error}"
        );
        assert_eq!(check["contiguousFailures"], failures, "{health}");
        let first = check["timeOfFirstFailure"].clone();
        assert!(first.is_string(), "{health}");
        assert_eq!(*first_failure.get_or_insert(first.clone()), first);
    }
    // The JSON-RPC form answers 200 with the same verdict.
    let reply = common::json_rpc(&health_url, "health.health", json!({})).await;
    assert_eq!(reply["result"]["healthy"], false, "{reply}");
    drop(plugin);
}
