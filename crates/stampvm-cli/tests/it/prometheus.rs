//! The plugin's metrics as real Prometheus sees them, never mocked (README "Metrics").
//!
//! - `promtool_accepts_the_scrape_endpoint`: a running `stampvm dev` serves `/metrics` on its
//!   `--metrics` address, with blocks, JSON-RPC and gRPC counters in it, and Debian's
//!   `promtool check metrics` finds nothing wrong with that text. Fails on any promtool complaint.
//! - `prometheus_scrapes_the_accepted_blocks`: Debian's `prometheus` server scrapes that endpoint
//!   every second; after three proposals the chain reaches height 3 and Prometheus's own query API
//!   answers `stampvm_blocks_accepted_total` = 3 within 30 s. Fails if the scrape never succeeds
//!   or the value never arrives.
//! - `gather_and_scrape_agree`: the node's way out (`vm.VM/Gather`) and the chain config's
//!   endpoint (`metrics-addr`) render the same recorder: after two accepted blocks both say 2.
//!
//! `/usr/bin/prometheus` and `/usr/bin/promtool` come from Debian's `prometheus` package
//! (`scripts/ensure-system-deps.sh --for-tests` installs it). Without them these tests fail, they
//! never skip. Every child process is killed on drop, every wait is bounded, all on loopback.

use crate::common;

use common::dev::DevProcess;
use common::{collect, node_id, payload, payload_hex, start_node};
use rpcchainvm_host::Network;
use serde_json::{json, Value};
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How long anything here may take to show up.
const PATIENCE: Duration = Duration::from_secs(30);

/// A tool from Debian's `prometheus` package, or a failure that says how to get it.
fn prometheus_tool(name: &str) -> PathBuf {
    let path = Path::new("/usr/bin").join(name);
    assert!(
        path.is_file(),
        "{} is missing: these tests run the real Prometheus. Install it with \
         `apt-get install prometheus` (or `scripts/ensure-system-deps.sh --for-tests`)",
        path.display()
    );
    path
}

/// A loopback port nobody listens on right now (bound and released).
fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    listener.local_addr().unwrap()
}

/// An HTTP client whose every request gives up after 5 s.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// `GET http://<addr>/metrics`: the text exposition.
async fn scrape(addr: SocketAddr) -> String {
    let response = http()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200, "GET /metrics");
    response.text().await.expect("metrics text")
}

/// The value of the sample `series` (name plus label set exactly as rendered, e.g.
/// `foo_total{a="b"}`) in a text exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok())?
        })
}

/// `stampvm dev` on `data_dir` serving metrics on a fresh loopback address, and that address.
fn dev_chain(data_dir: &Path) -> (DevProcess, SocketAddr) {
    let metrics = free_addr();
    let dev = DevProcess::spawn(data_dir, &["--metrics", &metrics.to_string()]);
    (dev, metrics)
}

/// Proposes `count` distinct payloads, then waits until `timestampvm.lastAccepted` reports
/// height `count` (the dev engine builds and accepts by itself).
async fn propose_and_wait(url: &str, count: u64) {
    for n in 1..=count {
        let reply = common::json_rpc(
            url,
            "timestampvm.proposeBlock",
            json!({"data": payload_hex(&payload(n))}),
        )
        .await;
        assert_eq!(reply["result"], json!({"Success": true}), "{reply}");
    }
    let deadline = Instant::now() + PATIENCE;
    loop {
        let reply = common::json_rpc(url, "timestampvm.lastAccepted", json!({})).await;
        if reply["result"]["height"] == json!(count.to_string()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the dev chain did not reach height {count} within 30 s: {reply}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn promtool_accepts_the_scrape_endpoint() {
    let promtool = prometheus_tool("promtool");
    let dir = tempfile::tempdir().unwrap();
    let (mut dev, metrics) = dev_chain(&dir.path().join("dev"));
    let url = dev.rpc_url().await;
    // Something in every kind of family: counters, gauges, histograms with observations.
    propose_and_wait(&url, 1).await;
    let text = scrape(metrics).await;

    for series in [
        "stampvm_blocks_accepted_total",
        "stampvm_last_accepted_height",
        "stampvm_block_accept_seconds_count",
        r#"stampvm_jsonrpc_requests_total{method="timestampvm.proposeBlock",outcome="ok"}"#,
        r#"stampvm_grpc_requests_total{method="BlockAccept",outcome="ok"}"#,
        r#"stampvm_grpc_request_seconds_count{method="BuildBlock"}"#,
    ] {
        let value = sample(&text, series);
        assert!(
            value.is_some_and(|v| v >= 1.0),
            "{series} is {value:?}; scraped:\n{text}"
        );
    }

    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    let output = Arc::new(Mutex::new(String::new()));
    collect(check.stdout.take().unwrap(), output.clone());
    collect(check.stderr.take().unwrap(), output.clone());
    let mut stdin = check.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).expect("feed promtool");
    drop(stdin);
    let check = ChildGuard(check);
    let status = check.wait_bounded(Duration::from_secs(10)).await;
    // Let the reader threads drain what promtool wrote before it exited.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let said = output.lock().unwrap().clone();
    assert!(
        status.success(),
        "promtool check metrics: {status}\n{said}\n--- scraped ---\n{text}"
    );
    assert!(said.trim().is_empty(), "promtool complained:\n{said}");
}

/// A child killed (SIGKILL) and reaped on drop.
struct ChildGuard(Child);

impl ChildGuard {
    /// Polls for the exit status for at most `timeout`; fails the test if it runs longer.
    async fn wait_bounded(mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "still running after {timeout:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Debian's Prometheus server scraping `target` every second, storing under `dir`.
struct Prometheus {
    child: ChildGuard,
    api: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Prometheus {
    fn start(dir: &Path, target: SocketAddr) -> Prometheus {
        let binary = prometheus_tool("prometheus");
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: stampvm\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let api = free_addr();
        let mut child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={api}"))
            .env_clear()
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("prometheus starts");
        let log = Arc::new(Mutex::new(String::new()));
        collect(child.stderr.take().unwrap(), log.clone());
        Prometheus {
            child: ChildGuard(child),
            api,
            log,
        }
    }

    /// `GET /api/v1/<path>`; `None` while the server is not answering yet.
    async fn api(&self, path: &str, query: &[(&str, &str)]) -> Option<Value> {
        let response = http()
            .get(format!("http://{}/api/v1/{path}", self.api))
            .query(query)
            .send()
            .await
            .ok()?;
        response.json().await.ok()
    }

    /// Queries `expr` until its single sample equals `want`, for at most 30 s.
    async fn wait_for_value(&mut self, expr: &str, want: &str) {
        let deadline = Instant::now() + PATIENCE;
        let mut last = None;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.0.try_wait() {
                panic!("prometheus exited with {status}:\n{}", self.log());
            }
            last = self.api("query", &[("query", expr)]).await;
            if let Some(reply) = &last {
                if reply["status"] == "success" && reply["data"]["result"][0]["value"][1] == want {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let targets = self.api("targets", &[]).await;
        panic!(
            "Prometheus never answered {expr} = {want} within 30 s.\nlast answer: {last:?}\n\
             targets: {targets:?}\nprometheus log:\n{}",
            self.log()
        );
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn prometheus_scrapes_the_accepted_blocks() {
    const BLOCKS: u64 = 3;
    let dir = tempfile::tempdir().unwrap();
    let (mut dev, metrics) = dev_chain(&dir.path().join("dev"));
    let url = dev.rpc_url().await;
    let prometheus_dir = dir.path().join("prometheus");
    std::fs::create_dir_all(&prometheus_dir).unwrap();
    let mut prometheus = Prometheus::start(&prometheus_dir, metrics);

    propose_and_wait(&url, BLOCKS).await;
    prometheus
        .wait_for_value("stampvm_blocks_accepted_total", &BLOCKS.to_string())
        .await;
    drop(prometheus);
    drop(dev);
}

#[tokio::test]
async fn gather_and_scrape_agree() {
    const BLOCKS: u64 = 2;
    let dir = tempfile::tempdir().unwrap();
    let metrics = free_addr();
    let network = Network::new();
    let node = start_node(
        "gather-scrape",
        node_id(1),
        &network,
        dir.path(),
        &json!({"metrics-addr": metrics.to_string()}).to_string(),
    )
    .await;
    for n in 1..=BLOCKS {
        assert_eq!(node.propose(&payload(n)).await, json!({"Success": true}));
        node.wait_mempool(1).await;
        node.build_and_accept().await;
    }

    let families = node.client.gather().await.expect("Gather").metric_families;
    rpcchainvm::gather::check_families(&families).expect("Gather passes the node's checks");
    let gathered = families
        .iter()
        .find(|f| f.name() == "stampvm_blocks_accepted_total")
        .and_then(|f| f.metric.first())
        .and_then(|m| m.counter.as_ref())
        .map(|c| c.value())
        .expect("Gather has stampvm_blocks_accepted_total");
    let text = scrape(metrics).await;
    let scraped = sample(&text, "stampvm_blocks_accepted_total")
        .unwrap_or_else(|| panic!("no stampvm_blocks_accepted_total in:\n{text}"));
    assert_eq!(gathered, BLOCKS as f64, "Gather");
    assert_eq!(scraped, gathered, "the scrape endpoint and Gather disagree");
    // The gRPC calls that got us here are in both too.
    assert!(
        families
            .iter()
            .any(|f| f.name() == "stampvm_grpc_requests_total"),
        "Gather lacks stampvm_grpc_requests_total"
    );
    node.stop().await;
}

#[tokio::test]
async fn requests_are_counted_by_method_and_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = free_addr();
    let network = Network::new();
    let node = start_node(
        "request-counters",
        node_id(2),
        &network,
        dir.path(),
        &json!({"metrics-addr": metrics.to_string()}).to_string(),
    )
    .await;
    // gRPC: an error status (nothing to build) and a success.
    let refused = node
        .client
        .build_block(rpcchainvm::pb::vm::BuildBlockRequest {
            p_chain_height: Some(0),
        })
        .await;
    assert!(refused.is_err(), "BuildBlock with an empty mempool fails");
    // JSON-RPC: ok, refused (the payload is already pending), error, and a name we do not serve.
    assert_eq!(node.propose(&payload(1)).await, json!({"Success": true}));
    assert_eq!(node.propose(&payload(1)).await["Success"], json!(false));
    let bad = node
        .rpc("timestampvm.getBlock", json!({"id": "not an ID"}))
        .await;
    assert!(bad["error"].is_object(), "{bad}");
    let unknown = node.rpc("timestampvm.noSuchMethod", json!({})).await;
    assert!(unknown["error"].is_object(), "{unknown}");
    node.wait_mempool(1).await;
    node.build_and_accept().await;

    let text = scrape(metrics).await;
    for (series, want) in [
        (
            r#"stampvm_grpc_requests_total{method="BuildBlock",outcome="error"}"#,
            1.0,
        ),
        (
            r#"stampvm_grpc_requests_total{method="BuildBlock",outcome="ok"}"#,
            1.0,
        ),
        (
            r#"stampvm_grpc_requests_total{method="BlockAccept",outcome="ok"}"#,
            1.0,
        ),
        (
            r#"stampvm_grpc_request_seconds_count{method="BlockAccept"}"#,
            1.0,
        ),
        (
            r#"stampvm_jsonrpc_requests_total{method="timestampvm.proposeBlock",outcome="ok"}"#,
            1.0,
        ),
        (
            r#"stampvm_jsonrpc_requests_total{method="timestampvm.proposeBlock",outcome="refused"}"#,
            1.0,
        ),
        (
            r#"stampvm_jsonrpc_requests_total{method="timestampvm.getBlock",outcome="error"}"#,
            1.0,
        ),
        (
            r#"stampvm_jsonrpc_requests_total{method="unknown",outcome="error"}"#,
            1.0,
        ),
    ] {
        assert_eq!(
            sample(&text, series),
            Some(want),
            "{series}; scraped:\n{text}"
        );
    }
    node.stop().await;
}

/// The shipped alert rules (`monitoring/stampvm-alerts.yml`) are valid for promtool, and its unit
/// tests (`monitoring/stampvm-alerts.test.yml`: a stalled chain alerts, a healthy one does not)
/// pass. Fails on any promtool complaint or a test whose alerts differ.
#[test]
fn alert_rules_pass_promtool() {
    let promtool = prometheus_tool("promtool");
    let monitoring = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../monitoring");
    for args in [
        ["check", "rules", "stampvm-alerts.yml"],
        ["test", "rules", "stampvm-alerts.test.yml"],
    ] {
        let output = Command::new(&promtool)
            .args(args)
            .current_dir(&monitoring)
            .output()
            .expect("run promtool");
        assert!(
            output.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Metric names (`stampvm_…`, `process_…`) a PromQL text mentions, histogram suffixes removed.
fn metric_names(promql: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (start, _) in promql.match_indices(['s', 'p']) {
        let rest = &promql[start..];
        if !(rest.starts_with("stampvm_") || rest.starts_with("process_")) {
            continue;
        }
        let starts_word = promql[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if starts_word {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(&name);
            names.push(family.to_string());
        }
    }
    names
}

/// A fresh chain, before any event, already exports every family that the shipped dashboard
/// (`monitoring/grafana-dashboard.json`) and alert rules query, the refusal and failure counters at
/// zero among them; so an alert reads 0 rather than "no data". Fails if a family appears only
/// after its first event, or if the dashboard or rules name a metric the plugin does not export.
#[tokio::test]
async fn a_fresh_chain_exports_every_family_the_dashboard_and_alerts_use() {
    let dir = tempfile::tempdir().unwrap();
    let (mut dev, metrics) = dev_chain(&dir.path().join("dev"));
    dev.rpc_url().await;
    let text = scrape(metrics).await;
    let exported: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();

    let monitoring = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../monitoring");
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(monitoring.join("grafana-dashboard.json")).unwrap(),
    )
    .expect("the dashboard is JSON");
    let mut queried: Vec<String> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|panel| panel["targets"].as_array().cloned().unwrap_or_default())
        .flat_map(|target| metric_names(target["expr"].as_str().expect("expr")))
        .collect();
    let rules = std::fs::read_to_string(monitoring.join("stampvm-alerts.yml")).unwrap();
    let expressions = rules
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    queried.extend(metric_names(&expressions));
    assert!(queried.len() > 10, "too few names found: {queried:?}");
    for name in &queried {
        assert!(
            exported.contains(&name.as_str()),
            "{name} is queried but not exported by a fresh chain; exported: {exported:?}"
        );
    }

    for series in [
        "stampvm_blocks_rejected_total",
        r#"stampvm_payloads_refused_total{reason="mempool_full"}"#,
        r#"stampvm_failures_total{operation="accept",cause="storage"}"#,
    ] {
        assert_eq!(sample(&text, series), Some(0.0), "{series}");
    }
    for series in ["process_resident_memory_bytes", "process_open_fds"] {
        assert!(sample(&text, series).is_some_and(|v| v > 0.0), "{series}");
    }
}
