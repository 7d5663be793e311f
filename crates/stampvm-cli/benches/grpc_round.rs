//! End to end over real gRPC on loopback: the real `stampvm` binary launched as a plugin through
//! [`rpcchainvm_host`] (handshake, node services, chain start in the node's order, HTTP gateway),
//! playing the newest node (`Profile::latest`, where the node waits with `WaitForEvent`).
//!
//! One iteration is one block:
//! 1. propose: `timestampvm.proposeBlock` over HTTP/1.1 to the host's gateway (the path a client
//!    of a node takes: gateway → `http.HTTP/HandleSimple` → the plugin's JSON-RPC → mempool),
//!    one keep-alive connection;
//! 2. the node's round: `WaitForEvent` → `BuildBlock` → `BlockVerify` → `SetPreference` →
//!    `BlockAccept`, each a unary call on the plugin's `vm.VM` server.
//!
//! Criterion reports the whole iteration as blocks/s (`grpc_block/sync_writes/true` — the
//! default, fsync per accept — and `…/false`). Every iteration's durations are also collected,
//! and once per benchmark ID p50/p99/max of the propose, the round and their sum are printed to
//! stderr (`grpc_block latency …` lines, warm-up included; the cycle, BuildBlock sent to
//! BlockAccept answered, is `stampvm bench`'s block cycle), after a `grpc_block floor …` line:
//! the latency of a bare unary call (`vm.VM/Version`) on the same connection, the floor under
//! each of the round's five calls; and after them `grpc_block plugin-side …` lines, the plugin's
//! own mean time in each call of the cycle, read from its metrics. The chain runs with
//! `"log-level": "warn"`, so the plugin's per-accept info line (which the node would copy into its
//! log) is not part of the figures.
//!
//! Run: `cargo bench --bench grpc_round` (one benchmark: `cargo bench --bench grpc_round --
//! sync_writes/false`). The plugin is the binary cargo builds for this bench
//! (`CARGO_BIN_EXE_stampvm`, which cargo sets for bench targets too), told its protocol through
//! `GRPC_STAMPVM_PROTOCOL`; it is stopped the node's way (Shutdown, then SIGTERM) after each
//! benchmark ID, and its data directory removed.

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use rpcchainvm::pb::vm as pb;
use rpcchainvm::protocol::Profile;
use rpcchainvm_host::node::{Node, RunningNode};
use rpcchainvm_host::{Network, VmClient};
use serde_json::{json, Value};
use stampvm::api::data::{format_payload, Encoding};
use stampvm::chain::{Id, NodeId};
use stampvm::metrics::{find_series, GRPC_REQUEST_SECONDS, LABEL_METHOD};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// One iteration's durations.
#[derive(Clone, Copy)]
struct Sample {
    /// The JSON-RPC proposal through the gateway.
    propose: Duration,
    /// WaitForEvent sent to BlockAccept answered.
    round: Duration,
    /// BuildBlock sent to BlockAccept answered: the block cycle.
    cycle: Duration,
}

type Samples = Mutex<Vec<Sample>>;

/// One node with one chain on one plugin process, started by the host's [`Node`] builder.
struct BenchNode {
    node: RunningNode,
    rpc_url: String,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl BenchNode {
    async fn start(sync_writes: bool) -> BenchNode {
        let dir = tempfile::Builder::new()
            .prefix("stampvm-bench-grpc-")
            .tempdir()
            .expect("temp dir");
        let profile = Profile::latest();
        let config = json!({"log-level": "warn", "rocksdb-sync-writes": sync_writes});
        let node = Node::builder(env!("CARGO_BIN_EXE_stampvm"), dir.path().join("chain"))
            .name(format!("bench sync={sync_writes}"))
            .profile(profile)
            // Name the protocol as an operator does. Without it the plugin learns the node's
            // number by running its parent with `--version`: this bench binary, which would
            // launch a plugin that probes its parent in turn, without end (`main` refuses
            // `--version` as well).
            .env("GRPC_STAMPVM_PROTOCOL", profile.announced().to_string())
            .node_id(NodeId([1; 20]))
            .genesis(b"stampvm bench".to_vec())
            .config(config.to_string())
            .network(Network::new())
            .gateway("127.0.0.1:0".parse().unwrap())
            .start()
            .await
            .expect("plugin launches, handshakes and starts the chain");
        let rpc_url = format!(
            "http://{}/ext/bc/{}/rpc",
            node.http_addr().expect("the gateway serves"),
            node.chain_id()
        );
        BenchNode {
            node,
            rpc_url,
            http: reqwest::Client::new(),
            dir,
        }
    }

    /// The node's client of the plugin's `vm.VM` service.
    fn client(&self) -> &VmClient {
        self.node.client()
    }

    /// The node's stop (Shutdown, SIGTERM, SIGKILL after 5 s), then the data directory goes.
    async fn stop(self) {
        let status = self.node.stop().await.expect("plugin stops");
        assert!(status.success(), "plugin exited with {status}");
        self.dir.close().expect("temp dir removed");
    }

    async fn propose(&self) {
        let body = json!({
            "jsonrpc": "2.0",
            "id": 1,
            "method": "timestampvm.proposeBlock",
            "params": {"data": format_payload(&next_payload(), Encoding::Hex)},
        });
        let reply: Value = self
            .http
            .post(&self.rpc_url)
            .json(&body)
            .send()
            .await
            .expect("HTTP request")
            .json()
            .await
            .expect("JSON reply");
        assert_eq!(reply["result"]["Success"], true, "{reply}");
    }

    /// WaitForEvent → BuildBlock → BlockVerify → SetPreference → BlockAccept; returns the block
    /// cycle, BuildBlock sent to BlockAccept answered (what `stampvm bench` calls the cycle).
    async fn round(&self) -> Duration {
        let event = tokio::time::timeout(Duration::from_secs(10), self.client().wait_for_event())
            .await
            .expect("WaitForEvent answered within 10 s")
            .expect("WaitForEvent");
        assert_eq!(event.message, pb::Message::BuildBlock as i32);
        let cycle = Instant::now();
        let built = self
            .client()
            .build_block(pb::BuildBlockRequest {
                p_chain_height: Some(0),
            })
            .await
            .expect("BuildBlock");
        self.client()
            .block_verify(pb::BlockVerifyRequest {
                bytes: built.bytes,
                p_chain_height: None,
            })
            .await
            .expect("BlockVerify");
        self.client()
            .set_preference(pb::SetPreferenceRequest {
                id: built.id.clone(),
            })
            .await
            .expect("SetPreference");
        self.client()
            .block_accept(pb::BlockAcceptRequest { id: built.id })
            .await
            .expect("BlockAccept");
        cycle.elapsed()
    }

    /// The plugin's own mean time in each of the cycle's calls (its `stampvm_grpc_request_seconds`
    /// histogram through `Gather`): what the cycle spends inside the plugin, the rest being the
    /// transport both ways and the host.
    async fn plugin_side(&self, name: &str) {
        let gathered = self.client().gather().await.expect("Gather");
        for method in ["BuildBlock", "BlockVerify", "SetPreference", "BlockAccept"] {
            let histogram = find_series(
                &gathered.metric_families,
                GRPC_REQUEST_SECONDS,
                LABEL_METHOD,
                method,
            )
            .and_then(|series| series.histogram.as_ref());
            let Some((Some(count), Some(sum))) = histogram.map(|h| (h.sample_count, h.sample_sum))
            else {
                continue;
            };
            eprintln!(
                "grpc_block plugin-side {name} {method}: n={count} mean={:.1?}",
                Duration::from_secs_f64(sum / count.max(1) as f64)
            );
        }
    }

    /// `calls` sequential `vm.VM/Version` calls (no work behind them), each timed: the floor of
    /// one unary call on this connection, for comparing the round's five calls against.
    async fn unary_floor(&self, calls: usize) -> Vec<Duration> {
        let mut times = Vec::with_capacity(calls);
        for _ in 0..calls {
            let started = Instant::now();
            self.client().version().await.expect("Version");
            times.push(started.elapsed());
        }
        times
    }

    /// One block; returns its [`Sample`].
    async fn block(&self) -> Sample {
        let started = Instant::now();
        self.propose().await;
        let proposed = Instant::now();
        let cycle = self.round().await;
        Sample {
            propose: proposed - started,
            round: proposed.elapsed(),
            cycle,
        }
    }
}

/// A payload never proposed before in this process (each benchmark also has a fresh chain).
fn next_payload() -> [u8; 32] {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    Id::sha256(&NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes()).0
}

/// The `q`-quantile (nearest rank) of sorted `values`.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn report(name: &str, samples: &[Sample]) {
    if samples.is_empty() {
        return;
    }
    let columns: [(&str, Vec<Duration>); 4] = [
        (
            "propose (JSON-RPC via gateway)",
            samples.iter().map(|s| s.propose).collect(),
        ),
        (
            "round (WaitForEvent..BlockAccept)",
            samples.iter().map(|s| s.round).collect(),
        ),
        (
            "cycle (BuildBlock..BlockAccept)",
            samples.iter().map(|s| s.cycle).collect(),
        ),
        (
            "block (propose + round)",
            samples.iter().map(|s| s.propose + s.round).collect(),
        ),
    ];
    for (label, mut values) in columns {
        values.sort_unstable();
        eprintln!(
            "grpc_block latency {name} {label}: n={} p50={:.1?} p99={:.1?} max={:.1?}",
            values.len(),
            quantile(&values, 0.50),
            quantile(&values, 0.99),
            values[values.len() - 1],
        );
    }
}

/// The host side runs on one thread, as a node's engine loop does. On a multi-thread runtime
/// `block_on` polls the round on criterion's thread while the connection tasks run on workers, so
/// every call paid wakeups between them: that measured the harness, not the plugin (on the 2-core
/// machine an empty call's p50 went from 133–180 µs to 102–120 µs on one thread).
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn grpc_round(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("grpc_block");
    group.throughput(Throughput::Elements(1));
    for sync_writes in [true, false] {
        let node = rt.block_on(BenchNode::start(sync_writes));
        // A first block outside the figures: connections are set up, caches warm.
        rt.block_on(node.block());
        // `cargo bench` passes `--bench`; without it criterion runs each benchmark once (test
        // mode).
        let floor_calls = if std::env::args().any(|arg| arg == "--bench") {
            1000
        } else {
            3
        };
        let mut floor = rt.block_on(node.unary_floor(floor_calls));
        floor.sort_unstable();
        eprintln!(
            "grpc_block floor sync_writes/{sync_writes}: one vm.VM/Version unary call: \
             n={} p50={:.1?} p99={:.1?} (the round makes 5 unary calls, the propose 1 HTTP \
             request)",
            floor.len(),
            quantile(&floor, 0.50),
            quantile(&floor, 0.99),
        );
        let samples = Samples::default();
        let id = BenchmarkId::new("sync_writes", sync_writes);
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut mine = Vec::with_capacity(iters as usize);
                    let started = Instant::now();
                    for _ in 0..iters {
                        mine.push(node.block().await);
                    }
                    let elapsed = started.elapsed();
                    samples.lock().unwrap().extend(mine);
                    elapsed
                })
            })
        });
        let name = format!("grpc_block/sync_writes/{sync_writes}");
        report(&name, &samples.lock().unwrap());
        rt.block_on(node.plugin_side(&name));
        rt.block_on(node.stop());
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = grpc_round
}
/// `criterion_main!`, refusing `--version` first: a plugin that is not told its protocol runs its
/// parent with `--version` to learn the node's number, and criterion would take that for a test
/// run and launch a plugin of its own, which would probe its parent again, and so on: each probe
/// is killed after 2 s, but the plugin it started has already started the next probe.
fn main() {
    if std::env::args().skip(1).any(|arg| arg == "--version") {
        println!("stampvm grpc_round bench (not a node: no rpcchainvm protocol)");
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
