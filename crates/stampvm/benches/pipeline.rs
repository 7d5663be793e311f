//! The actor pipeline in-process, without gRPC: the four actors the plugin starts at Initialize
//! ([`VmHandles::start`]) on a real RocksDB store in a temporary directory, driven with the same
//! actor messages the `vm.VM` handlers send.
//!
//! - `pipeline_block/sync_writes/{true,false}`: one block per iteration — propose a payload (the
//!   JSON-RPC handler's `MempoolMsg::Propose`), then the node's round as the gRPC handlers run
//!   it: BuildBlock (`BuilderMsg::Build`: take from the mempool, build on the preference,
//!   verify), BlockVerify (the bytes decoded, `ChainMsg::Verify`), SetPreference, BlockAccept
//!   (one RocksDB write batch). Throughput in blocks/s.
//! - `pipeline_batch64/sync_writes/{true,false}`: 64 payloads proposed first, then built and
//!   accepted one block each. Throughput in payloads/s.
//!
//! - `pipeline_batched{4096}/sync_writes/{true,false}`: a batched chain (genesis
//!   `{"format": "batched"}`, maxBatch 4096): 4096 payloads proposed in one `propose_batch`,
//!   then one round builds, verifies and accepts them as one block (Merkle tree, payload index
//!   and proof nodes in the accept batch). Throughput in payloads/s.
//!
//! Each runs with `rocksdb-sync-writes` true (the default: fsync before BlockAccept is answered)
//! and false, so the fsync cost shows. The Prometheus recorder is installed as in the plugin; no
//! log subscriber is (the plugin's per-accept info line is not part of these figures).
//!
//! Run: `cargo bench --bench pipeline`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rpcchainvm::node_client::NodeClients;
use rpcchainvm::protocol::Profile;
use stampvm::actors::builder::BuilderMsg;
use stampvm::actors::chain::ChainMsg;
use stampvm::actors::{ask, VmHandles, BLOCKING_CALL};
use stampvm::api::Backend;
use stampvm::chain::{parse_genesis, Block, Id, Payload};
use stampvm::config::ChainConfig;
use stampvm::storage::{Store, StoreOptions};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Payloads per iteration of the batch variant.
const BATCH: u64 = 64;
/// Payloads per block on the batched chain (the default `maxBatch`).
const MAX_BATCH: u64 = 4096;
const SINGLE_GENESIS: &[u8] = b"stampvm bench";
const BATCHED_GENESIS: &[u8] = br#"{"format": "batched", "data": "stampvm bench"}"#;

/// A chain of actors over its own store; the directory goes when this is dropped.
struct Pipeline {
    handles: VmHandles,
    dir: tempfile::TempDir,
}

impl Pipeline {
    /// What Initialize does (crates/stampvm/src/vm/running.rs) with a default chain config but for
    /// `rocksdb-sync-writes`, and no node behind the clients (gossip goes nowhere).
    async fn start(sync_writes: bool, genesis: &[u8]) -> Pipeline {
        let dir = tempfile::Builder::new()
            .prefix("stampvm-bench-pipeline-")
            .tempdir()
            .expect("temp dir");
        let config = ChainConfig {
            rocksdb_sync_writes: sync_writes,
            ..ChainConfig::default()
        };
        let genesis = parse_genesis(genesis).expect("valid genesis");
        let options = StoreOptions::for_chain(&config, genesis.format);
        let store = Store::open(dir.path(), &genesis, options).expect("store opens");
        let clients = NodeClients::connect_lazy("", Profile::latest()).expect("no-node clients");
        let handles = VmHandles::start(Arc::new(store), &config, clients)
            .await
            .expect("actors start");
        Pipeline { handles, dir }
    }

    async fn stop(self) {
        self.handles.stop().await;
        // The actors (and with them the last `Arc<Store>`) are gone: RocksDB is closed.
        drop(self.handles);
        self.dir.close().expect("temp dir removed");
    }

    async fn propose(&self) {
        self.handles
            .propose(next_payload())
            .await
            .expect("payload taken");
    }

    async fn propose_batch(&self, count: u64) {
        let payloads: Vec<Payload> = (0..count).map(|_| next_payload()).collect();
        let outcomes = self
            .handles
            .propose_batch(payloads)
            .await
            .expect("mempool answers");
        assert!(outcomes.iter().all(Result::is_ok), "every payload taken");
    }

    /// BuildBlock → BlockVerify → SetPreference → BlockAccept, as the gRPC handlers run them.
    async fn round(&self) {
        let h = &self.handles;
        let built = ask(&h.builder, BuilderMsg::Build, BLOCKING_CALL)
            .await
            .expect("builder answers")
            .expect("block built");
        // The node sends the bytes back; the handler decodes them.
        let bytes = built.block.encode();
        let format = h.store.format();
        let block = Block::decode(&bytes, format).expect("own block decodes");
        let verified = ask(&h.chain, |r| ChainMsg::Verify(block, r), BLOCKING_CALL)
            .await
            .expect("chain answers")
            .expect("own block verifies");
        let id = verified.id;
        ask(&h.chain, |r| ChainMsg::SetPreference(id, r), BLOCKING_CALL)
            .await
            .expect("chain answers")
            .expect("preference set");
        ask(&h.chain, |r| ChainMsg::Accept(id, r), BLOCKING_CALL)
            .await
            .expect("chain answers")
            .expect("block accepted");
    }
}

/// A payload never proposed before in this process (each benchmark also has a fresh store).
fn next_payload() -> [u8; 32] {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    Id::sha256(&NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes()).0
}

fn runtime() -> Runtime {
    // The plugin's runtime (crates/stampvm-cli/src/main.rs).
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn pipeline(c: &mut Criterion) {
    let rt = runtime();
    rt.block_on(async {
        stampvm::metrics::install();
    });

    let mut group = c.benchmark_group("pipeline_block");
    group.throughput(Throughput::Elements(1));
    for sync_writes in [true, false] {
        let pipeline = rt.block_on(Pipeline::start(sync_writes, SINGLE_GENESIS));
        group.bench_function(BenchmarkId::new("sync_writes", sync_writes), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let started = Instant::now();
                    for _ in 0..iters {
                        pipeline.propose().await;
                        pipeline.round().await;
                    }
                    started.elapsed()
                })
            })
        });
        rt.block_on(pipeline.stop());
    }
    group.finish();

    let mut group = c.benchmark_group(format!("pipeline_batch{BATCH}"));
    group.throughput(Throughput::Elements(BATCH));
    for sync_writes in [true, false] {
        let pipeline = rt.block_on(Pipeline::start(sync_writes, SINGLE_GENESIS));
        group.bench_function(BenchmarkId::new("sync_writes", sync_writes), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let started = Instant::now();
                    for _ in 0..iters {
                        for _ in 0..BATCH {
                            pipeline.propose().await;
                        }
                        for _ in 0..BATCH {
                            pipeline.round().await;
                        }
                    }
                    started.elapsed()
                })
            })
        });
        rt.block_on(pipeline.stop());
    }
    group.finish();

    let mut group = c.benchmark_group(format!("pipeline_batched{MAX_BATCH}"));
    group.throughput(Throughput::Elements(MAX_BATCH));
    for sync_writes in [true, false] {
        let pipeline = rt.block_on(Pipeline::start(sync_writes, BATCHED_GENESIS));
        group.bench_function(BenchmarkId::new("sync_writes", sync_writes), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let started = Instant::now();
                    for _ in 0..iters {
                        pipeline.propose_batch(MAX_BATCH).await;
                        pipeline.round().await;
                    }
                    started.elapsed()
                })
            })
        });
        rt.block_on(pipeline.stop());
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = pipeline
}
criterion_main!(benches);
