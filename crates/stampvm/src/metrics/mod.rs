//! Metrics: every metric name in one place, the process-wide Prometheus recorder, and the
//! conversion of its output into the node's `Gather` answer.
//!
//! Code records through the `metrics` facade (`metrics::counter!(BLOCKS_ACCEPTED_TOTAL)`), using
//! only the constants below so names, units and label keys cannot drift apart. [`install`] puts one
//! `metrics-exporter-prometheus` recorder behind the facade. Its text rendering is the single
//! source of truth: `/metrics` serves it as is and [`Metrics::gather`] parses it into protobuf.
//!
//! Names carry the `stampvm_` prefix and their unit; the node prefixes them again on scrape
//! (`avalanche_<vmID>_stampvm_...`) and adds the `chain` label, which we therefore never emit.

mod exposition;
pub mod process;

use std::io;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use metrics::Unit;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

use rpcchainvm::http_server::{self, ServerLimits};
use rpcchainvm::pb::io::prometheus::client::{Metric, MetricFamily};
use rpcchainvm::shutdown::Shutdown;

/// Blocks this node built (BuildBlock that returned a block).
pub const BLOCKS_BUILT_TOTAL: &str = "stampvm_blocks_built_total";
/// Blocks that passed verification.
pub const BLOCKS_VERIFIED_TOTAL: &str = "stampvm_blocks_verified_total";
/// Blocks accepted (made final).
pub const BLOCKS_ACCEPTED_TOTAL: &str = "stampvm_blocks_accepted_total";
/// Blocks rejected by consensus.
pub const BLOCKS_REJECTED_TOTAL: &str = "stampvm_blocks_rejected_total";
/// Histogram: time to verify one block.
pub const BLOCK_VERIFY_SECONDS: &str = "stampvm_block_verify_seconds";
/// Histogram: time to accept one block, including its database write.
pub const BLOCK_ACCEPT_SECONDS: &str = "stampvm_block_accept_seconds";
/// Payloads submitted through `timestampvm.proposeBlock` and taken into the mempool.
pub const PAYLOADS_PROPOSED_TOTAL: &str = "stampvm_payloads_proposed_total";
/// Payloads refused; label [`LABEL_REASON`].
pub const PAYLOADS_REFUSED_TOTAL: &str = "stampvm_payloads_refused_total";
/// Payloads this node sent to peers as app gossip.
pub const PAYLOADS_GOSSIPED_OUT_TOTAL: &str = "stampvm_payloads_gossiped_out_total";
/// Local payloads dropped before gossip because the node's AppSender fell behind (they still
/// reach peers inside our blocks).
pub const PAYLOADS_GOSSIP_DROPPED_TOTAL: &str = "stampvm_payloads_gossip_dropped_total";
/// Payloads received from peers as app gossip.
pub const PAYLOADS_GOSSIPED_IN_TOTAL: &str = "stampvm_payloads_gossiped_in_total";
/// Gauge: payloads waiting in the mempool.
pub const MEMPOOL_PAYLOADS: &str = "stampvm_mempool_payloads";
/// Gauge: height of the last accepted block.
pub const LAST_ACCEPTED_HEIGHT: &str = "stampvm_last_accepted_height";
/// Gauge: verified blocks neither accepted nor rejected yet.
pub const PROCESSING_BLOCKS: &str = "stampvm_processing_blocks";
/// Gauge: seconds the last accepted block's time is ahead of the local clock (0 when it is not):
/// blocks built meanwhile take their parent's time; from 3600 on the chain cannot grow here.
pub const TIP_AHEAD_OF_CLOCK_SECONDS: &str = "stampvm_tip_ahead_of_clock_seconds";
/// Gauge: bytes in RocksDB's memory budget; label [`LABEL_PART`] (`memtables`, `block_cache`).
pub const ROCKSDB_MEMORY_BYTES: &str = "stampvm_rocksdb_memory_bytes";
/// Gauge: the process allocator's figures (jemalloc's `stats.*`), label [`LABEL_KIND`]:
/// `allocated` (live allocations), `active` (pages holding them), `resident` (the allocator's
/// pages in RAM: active, dirty pages not yet returned, and its metadata). Published by the binary,
/// which owns the allocator ([`AllocatorBytes::publish`]).
pub const ALLOCATOR_BYTES: &str = "stampvm_allocator_bytes";
/// Histogram: time of one RocksDB write batch.
pub const ROCKSDB_WRITE_SECONDS: &str = "stampvm_rocksdb_write_seconds";
/// JSON-RPC requests served; labels [`LABEL_METHOD`], [`LABEL_OUTCOME`].
pub const JSONRPC_REQUESTS_TOTAL: &str = "stampvm_jsonrpc_requests_total";
/// gRPC requests the node made to the plugin; labels [`LABEL_METHOD`], [`LABEL_OUTCOME`].
pub const GRPC_REQUESTS_TOTAL: &str = "stampvm_grpc_requests_total";
/// Histogram: time to serve one gRPC request; label [`LABEL_METHOD`].
pub const GRPC_REQUEST_SECONDS: &str = "stampvm_grpc_request_seconds";
/// Failures of our own work or of the store, each also logged (rate-limited) by
/// [`crate::failures::report`]; labels [`LABEL_OPERATION`], [`LABEL_CAUSE`].
pub const FAILURES_TOTAL: &str = "stampvm_failures_total";

/// Label key: why a payload was refused (keep the values a small fixed set).
pub const LABEL_REASON: &str = "reason";
/// Every value of [`LABEL_REASON`] (the mempool's refusals), registered at zero.
pub const REFUSED_REASONS: [&str; 4] =
    ["mempool_full", "duplicate", "already_accepted", "internal"];
/// Label key: which part of a memory budget.
pub const LABEL_PART: &str = "part";
/// Label key: which of the allocator's figures.
pub const LABEL_KIND: &str = "kind";
/// Label key: the RPC method name.
pub const LABEL_METHOD: &str = "method";
/// Label key: how a request ended, e.g. `ok` or `error`.
pub const LABEL_OUTCOME: &str = "outcome";
/// Label key: what failed (`build`, `accept`, `health_probe`, …: [`crate::failures::Operation`]).
pub const LABEL_OPERATION: &str = "operation";
/// Label key: why it failed (`storage`, `invalid`, `other`: [`crate::failures::Cause`]).
pub const LABEL_CAUSE: &str = "cause";

/// Buckets for the sub-millisecond work: verifying a block, one RocksDB batch.
const FAST_BUCKETS: [f64; 13] = [
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1,
    1.0,
];
/// Buckets for everything else measured in seconds (accept, gRPC calls). They start at 50 µs:
/// most of the node's calls take 10–250 µs inside the plugin (`cargo bench --bench grpc_round`
/// prints the means), and a synced accept about 200 µs.
const LATENCY_BUCKETS: [f64; 17] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
];
/// How often histogram samples are folded in when nobody scrapes (the exporter's own default).
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Registers help text and unit of every metric, so each family renders with `# HELP`. Safe to
/// call more than once; the first description wins. [`install`] calls it.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(BLOCKS_BUILT_TOTAL, Unit::Count, "Blocks built by this node");
    describe_counter!(
        BLOCKS_VERIFIED_TOTAL,
        Unit::Count,
        "Blocks that passed verification"
    );
    describe_counter!(BLOCKS_ACCEPTED_TOTAL, Unit::Count, "Blocks accepted");
    describe_counter!(BLOCKS_REJECTED_TOTAL, Unit::Count, "Blocks rejected");
    describe_histogram!(
        BLOCK_VERIFY_SECONDS,
        Unit::Seconds,
        "Time to verify a block"
    );
    describe_histogram!(
        BLOCK_ACCEPT_SECONDS,
        Unit::Seconds,
        "Time to accept a block"
    );
    describe_counter!(
        PAYLOADS_PROPOSED_TOTAL,
        Unit::Count,
        "Payloads taken into the mempool"
    );
    describe_counter!(
        PAYLOADS_REFUSED_TOTAL,
        Unit::Count,
        "Payloads refused, by reason"
    );
    describe_counter!(
        PAYLOADS_GOSSIPED_OUT_TOTAL,
        Unit::Count,
        "Payloads gossiped to peers"
    );
    describe_counter!(
        PAYLOADS_GOSSIP_DROPPED_TOTAL,
        Unit::Count,
        "Local payloads dropped before gossip (AppSender behind)"
    );
    describe_counter!(
        PAYLOADS_GOSSIPED_IN_TOTAL,
        Unit::Count,
        "Payloads received by gossip"
    );
    describe_gauge!(
        MEMPOOL_PAYLOADS,
        Unit::Count,
        "Payloads waiting in the mempool"
    );
    describe_gauge!(
        LAST_ACCEPTED_HEIGHT,
        Unit::Count,
        "Height of the last accepted block"
    );
    describe_gauge!(
        PROCESSING_BLOCKS,
        Unit::Count,
        "Verified blocks not yet decided"
    );
    describe_gauge!(
        TIP_AHEAD_OF_CLOCK_SECONDS,
        Unit::Seconds,
        "Seconds the last accepted block's time is ahead of the local clock"
    );
    describe_gauge!(
        ROCKSDB_MEMORY_BYTES,
        Unit::Bytes,
        "RocksDB memory: memtables, and the block cache's whole use (memtables charged to it)"
    );
    describe_gauge!(
        ALLOCATOR_BYTES,
        Unit::Bytes,
        "The process allocator: live allocations, pages holding them, its pages in RAM"
    );
    describe_histogram!(
        ROCKSDB_WRITE_SECONDS,
        Unit::Seconds,
        "Time of a RocksDB write batch"
    );
    describe_counter!(
        JSONRPC_REQUESTS_TOTAL,
        Unit::Count,
        "JSON-RPC requests, by method and outcome"
    );
    describe_counter!(
        GRPC_REQUESTS_TOTAL,
        Unit::Count,
        "gRPC requests served, by method and outcome"
    );
    describe_histogram!(
        GRPC_REQUEST_SECONDS,
        Unit::Seconds,
        "Time to serve a gRPC request"
    );
    describe_counter!(
        FAILURES_TOTAL,
        Unit::Count,
        "Failed builds, verifications, accepts and store operations, by operation and cause"
    );
    describe_gauge!(
        process::RESIDENT_MEMORY_BYTES,
        Unit::Bytes,
        "Resident memory size"
    );
    describe_gauge!(
        process::VIRTUAL_MEMORY_BYTES,
        Unit::Bytes,
        "Virtual memory size"
    );
    describe_counter!(
        process::CPU_SECONDS_TOTAL,
        Unit::Seconds,
        "User and system CPU time, whole seconds"
    );
    describe_gauge!(process::OPEN_FDS, Unit::Count, "Open file descriptors");
    describe_gauge!(
        process::MAX_FDS,
        Unit::Count,
        "Limit on open file descriptors"
    );
}

/// The series `name{label_key="label"}` among gathered `families` (a `Gather` answer), if there.
pub fn find_series<'a>(
    families: &'a [MetricFamily],
    name: &str,
    label_key: &str,
    label: &str,
) -> Option<&'a Metric> {
    families
        .iter()
        .find(|family| family.name.as_deref() == Some(name))?
        .metric
        .iter()
        .find(|metric| {
            metric.label.iter().any(|pair| {
                pair.name.as_deref() == Some(label_key) && pair.value.as_deref() == Some(label)
            })
        })
}

/// The sum of the counters `name{label_key="label", …}` among gathered `families`, whatever their
/// other labels (e.g. every cause of one failed operation); 0 when there is none.
pub fn counter_sum(families: &[MetricFamily], name: &str, label_key: &str, label: &str) -> f64 {
    let Some(family) = families
        .iter()
        .find(|family| family.name.as_deref() == Some(name))
    else {
        return 0.0;
    };
    family
        .metric
        .iter()
        .filter(|metric| {
            metric.label.iter().any(|pair| {
                pair.name.as_deref() == Some(label_key) && pair.value.as_deref() == Some(label)
            })
        })
        .filter_map(|metric| metric.counter.as_ref()?.value)
        .sum()
}

/// One reading of the process allocator, in bytes ([`ALLOCATOR_BYTES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocatorBytes {
    pub allocated: u64,
    pub active: u64,
    pub resident: u64,
}

impl AllocatorBytes {
    /// Sets the [`ALLOCATOR_BYTES`] gauges.
    pub fn publish(self) {
        for (kind, bytes) in [
            ("allocated", self.allocated),
            ("active", self.active),
            ("resident", self.resident),
        ] {
            metrics::gauge!(ALLOCATOR_BYTES, LABEL_KIND => kind).set(bytes as f64);
        }
    }
}

/// The installed recorder's handle: renders the current values. Cheap to clone (one `Arc`).
#[derive(Clone, Debug)]
pub struct Metrics {
    handle: PrometheusHandle,
}

/// Installs the process-wide recorder on first call and returns its handle; later calls return the
/// same handle. Never fails: if another recorder already owns the facade, a warning is logged and
/// the handle renders only the (then empty) metrics of ours. Starts no listener.
pub fn install() -> Metrics {
    static INSTALLED: OnceLock<Metrics> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let builder = builder().unwrap_or_else(|err| {
                tracing::warn!(%err, "histogram buckets rejected; histograms render as summaries");
                PrometheusBuilder::new()
            });
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if let Err(err) = metrics::set_global_recorder(recorder) {
                tracing::warn!(%err, "another metrics recorder is installed; ours stays empty");
            }
            describe();
            register_every_family();
            start_upkeep(handle.clone());
            Metrics { handle }
        })
        .clone()
}

/// Registers every series whose labels are known in advance at zero, so a family is in the very
/// first scrape: an alert on `stampvm_blocks_rejected_total` or `stampvm_failures_total` reads 0,
/// not "no data", and `increase()` sees its first event. Only the per-method families
/// (`stampvm_jsonrpc_requests_total`, `stampvm_grpc_requests_total`, `stampvm_grpc_request_seconds`)
/// gain a series at each method's first call. Registering adds 0 and so never overwrites a value.
fn register_every_family() {
    for counter in [
        BLOCKS_BUILT_TOTAL,
        BLOCKS_VERIFIED_TOTAL,
        BLOCKS_ACCEPTED_TOTAL,
        BLOCKS_REJECTED_TOTAL,
        PAYLOADS_PROPOSED_TOTAL,
        PAYLOADS_GOSSIPED_OUT_TOTAL,
        PAYLOADS_GOSSIP_DROPPED_TOTAL,
        PAYLOADS_GOSSIPED_IN_TOTAL,
    ] {
        metrics::counter!(counter).increment(0);
    }
    for reason in REFUSED_REASONS {
        metrics::counter!(PAYLOADS_REFUSED_TOTAL, LABEL_REASON => reason).increment(0);
    }
    for operation in crate::failures::Operation::ALL {
        for cause in crate::failures::Cause::ALL {
            metrics::counter!(
                FAILURES_TOTAL,
                LABEL_OPERATION => operation.as_str(),
                LABEL_CAUSE => cause.as_str()
            )
            .increment(0);
        }
    }
    for gauge in [
        MEMPOOL_PAYLOADS,
        LAST_ACCEPTED_HEIGHT,
        PROCESSING_BLOCKS,
        TIP_AHEAD_OF_CLOCK_SECONDS,
    ] {
        metrics::gauge!(gauge).increment(0.0);
    }
    for histogram in [
        BLOCK_VERIFY_SECONDS,
        BLOCK_ACCEPT_SECONDS,
        ROCKSDB_WRITE_SECONDS,
    ] {
        // A handle registers the histogram; it renders with empty buckets until its first sample.
        let _ = metrics::histogram!(histogram);
    }
}

/// Buckets for every histogram: without them the exporter renders summaries, whose quantiles cannot
/// be aggregated across nodes.
fn builder() -> Result<PrometheusBuilder, BuildError> {
    PrometheusBuilder::new()
        .set_buckets(&LATENCY_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(BLOCK_VERIFY_SECONDS.into()), &FAST_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(ROCKSDB_WRITE_SECONDS.into()), &FAST_BUCKETS)
}

/// Without its HTTP listener the exporter runs no upkeep, and histogram samples pile up until the
/// next render. Rendering folds them in too, but a node that never scrapes would leak; a tiny
/// thread bounds that. It lives as long as the process, like the recorder.
fn start_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            handle.run_upkeep();
        });
    if let Err(err) = spawned {
        tracing::warn!(%err, "metrics upkeep thread not started; renders still fold samples in");
    }
}

impl Metrics {
    /// The Prometheus text exposition (format 0.0.4) of every metric recorded so far.
    pub fn render(&self) -> String {
        if let Some(figures) = process::ProcessFigures::read() {
            figures.publish();
        }
        self.handle.render()
    }

    /// The `Gather` answer: [`Self::render`] converted into protobuf families, sorted by name. The
    /// result always passes [`rpcchainvm::gather::check_families`]; it never fails and never
    /// blocks for long.
    pub fn gather(&self) -> Vec<MetricFamily> {
        exposition::parse(&self.render())
    }
}

/// What the scrape endpoint allows: a scrape is one small request answered at once, and a
/// Prometheus server keeps one connection per target, so a few connections and a short timeout
/// serve every real scraper. Without them, 200 half-sent requests held 200 descriptors, out of the
/// budget RocksDB shares.
pub const SCRAPE_LIMITS: ServerLimits = ServerLimits {
    max_connections: 16,
    idle_timeout: Duration::from_secs(5),
};

/// Serves `GET /metrics` (the text exposition) on `addr` until `shutdown` fires, for scraping the
/// plugin directly rather than through the node, within [`SCRAPE_LIMITS`]. Returns the bound
/// address (useful with port 0).
pub async fn serve_scrape(
    addr: SocketAddr,
    metrics: Metrics,
    shutdown: Shutdown,
) -> io::Result<SocketAddr> {
    use axum::http::header::CONTENT_TYPE;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || async move {
            (
                [(CONTENT_TYPE, "text/plain; version=0.0.4")],
                metrics.render(),
            )
        }),
    );
    tokio::spawn(http_server::serve(
        listener,
        router,
        SCRAPE_LIMITS,
        shutdown,
    ));
    Ok(bound)
}

#[cfg(test)]
mod tests;
