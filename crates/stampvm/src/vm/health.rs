//! The JSON the node embeds in `/ext/health` for this chain, and the health verdict: an error
//! status (unhealthy) when an actor has died, the store cannot be written, or the chain is
//! stalled (a block has been processing, verified but undecided, for longer than the chain
//! config's `health-max-processing-seconds`).
//!
//! Healthy details, in the Go reference's `{"database": …, "health": …}` shape:
//!
//! ```json
//! {"database": {"writable": true},
//!  "health": {"lastAcceptedHeight": 7, "lastAcceptedId": "2Vs7…", "lastAcceptedAgeSeconds": 3,
//!             "processingBlocks": 1, "oldestProcessingSeconds": 0,
//!             "mempool": {"size": 1, "capacity": 4096, "fill": 0.0002}, "actorsAlive": true}}
//! ```
//!
//! `lastAcceptedAgeSeconds` is `null` while the last accepted block is genesis: its timestamp is
//! 0 (1970), so an age would only say what time it is. `oldestProcessingSeconds` is `null` when no
//! block is processing. An idle chain's last accepted block ages without the chain being stalled
//! (nothing is built without proposals), so the age alone never makes the chain unhealthy.
//!
//! The node keeps only the message of an error status (the details are dropped), so an unhealthy
//! answer's message names every failed check and why, e.g.
//! `unhealthy: store cannot be written: create /…/rocksdb/HEALTH-PROBE: Operation not permitted`.
//!
//! The store's write probe costs three fsyncs, so its result answers every call for
//! [`PROBE_FRESH_FOR`]; concurrent callers share one probe.

use super::running::Running;
use crate::actors::chain::{ChainMsg, ProcessingFacts};
use crate::actors::mempool::MempoolMsg;
use crate::actors::{ask, VmHandles};
use crate::failures::{self, Cause, Operation};
use crate::storage::{ProbeError, Store};
use rpcchainvm::VmError;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Health answers fast or not at all: the node's call is fail-fast.
const HEALTH_CALL: Duration = Duration::from_secs(2);

/// How long one write probe's result stands. Eight callers polling Health in a loop cost the chain
/// 37% of its blocks when each call probed; the node itself calls every 30 s by default.
pub const PROBE_FRESH_FOR: Duration = Duration::from_secs(1);

/// What Health keeps between calls on one chain.
pub(crate) struct HealthCheck {
    /// Longest a block may stay processing before the chain is reported stalled.
    max_processing: Duration,
    probe: tokio::sync::Mutex<ProbeState>,
}

#[derive(Default)]
struct ProbeState {
    /// The last probe's end and result.
    last: Option<(Instant, Result<(), String>)>,
    /// A probe that outlived [`HEALTH_CALL`] (a stalled disk): awaited again rather than
    /// started anew, so a hung disk ties up one blocking thread, not one per call.
    pending: Option<JoinHandle<Result<(), ProbeError>>>,
}

impl HealthCheck {
    pub(crate) fn new(max_processing: Duration) -> HealthCheck {
        HealthCheck {
            max_processing,
            probe: tokio::sync::Mutex::new(ProbeState::default()),
        }
    }

    /// [`Store::probe_write`], or its result of less than [`PROBE_FRESH_FOR`] ago.
    async fn probe_store(&self, store: Arc<Store>) -> Result<(), String> {
        let mut state = self.probe.lock().await;
        if let Some((at, result)) = &state.last {
            if at.elapsed() < PROBE_FRESH_FOR {
                return result.clone();
            }
        }
        let mut task = match state.pending.take() {
            Some(task) => task,
            None => tokio::task::spawn_blocking(move || store.probe_write()),
        };
        let result = match tokio::time::timeout(HEALTH_CALL, &mut task).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(e.to_string()),
            Ok(Err(e)) => Err(format!("probe task failed: {e}")),
            Err(_) => {
                state.pending = Some(task);
                Err(format!(
                    "probe did not finish within {} s",
                    HEALTH_CALL.as_secs()
                ))
            }
        };
        if let Err(e) = &result {
            failures::report(Operation::HealthProbe, Cause::Storage, e);
        }
        state.last = Some((Instant::now(), result.clone()));
        result
    }
}

/// The Health RPC's answer: `Ok(details JSON)` when healthy (or not yet initialized),
/// `Err(Unavailable)` naming the failed checks otherwise.
pub(crate) async fn report(running: Option<Running>) -> Result<String, VmError> {
    match running {
        None => Ok(json!({"initialized": false}).to_string()),
        Some(running) => check(&running.handles, &running.health).await,
    }
}

/// Every check on a running chain; the store is probed even when an actor is gone, so the
/// message holds every cause.
async fn check(handles: &VmHandles, health: &HealthCheck) -> Result<String, VmError> {
    let mut problems = Vec::new();

    let stopped = handles.stopped_actors();
    if !stopped.is_empty() {
        problems.push(format!("actor stopped: {}", stopped.join(", ")));
    }
    let (database, chain) = tokio::join!(health.probe_store(handles.store.clone()), async {
        if stopped.is_empty() {
            chain_facts(handles).await
        } else {
            Ok((Value::Null, ProcessingFacts::default()))
        }
    });
    if let Err(e) = &database {
        problems.push(format!("store cannot be written: {e}"));
    }
    let chain = match chain {
        Ok((facts, processing)) => {
            if let Some(problem) = stalled(processing, health.max_processing) {
                problems.push(problem);
            }
            facts
        }
        Err(e) => {
            problems.push(e);
            Value::Null
        }
    };
    if !problems.is_empty() {
        return Err(VmError::Unavailable(format!(
            "unhealthy: {}",
            problems.join("; ")
        )));
    }
    Ok(json!({"database": {"writable": true}, "health": chain}).to_string())
}

/// The stall check: a block processing longer than `max` (consensus decides in seconds).
fn stalled(processing: ProcessingFacts, max: Duration) -> Option<String> {
    let oldest = processing.oldest?;
    (oldest > max).then(|| {
        format!(
            "chain stalled: {} block(s) processing, the oldest verified {} s ago and still \
             undecided (more than {} s)",
            processing.count,
            oldest.as_secs(),
            max.as_secs()
        )
    })
}

/// The `health` object: what the chain and mempool actors report right now, and the processing
/// blocks for the stall check.
async fn chain_facts(handles: &VmHandles) -> Result<(Value, ProcessingFacts), String> {
    let call = Some(HEALTH_CALL);
    let (last, processing, mempool) = tokio::join!(
        ask(&handles.chain, ChainMsg::LastAccepted, call),
        ask(&handles.chain, ChainMsg::Processing, call),
        ask(&handles.mempool, MempoolMsg::Stats, call),
    );
    let last = last
        .map_err(|e| format!("chain actor: {e}"))?
        .map_err(|e| format!("last accepted block: {e}"))?;
    let processing = processing.map_err(|e| format!("chain actor: {e}"))?;
    let mempool = mempool.map_err(|e| format!("mempool actor: {e}"))?;
    let fill = if mempool.capacity == 0 {
        1.0
    } else {
        mempool.size as f64 / mempool.capacity as f64
    };
    // Negative if the block's time is ahead of this machine's clock; none for genesis.
    let age = (last.block.height > 0)
        .then(|| crate::clock::unix_now().saturating_sub(last.block.timestamp));
    let facts = json!({
        "lastAcceptedHeight": last.block.height,
        "lastAcceptedId": last.id.to_string(),
        "lastAcceptedAgeSeconds": age,
        "processingBlocks": processing.count,
        "oldestProcessingSeconds": processing.oldest.map(|d| d.as_secs()),
        "mempool": {"size": mempool.size, "capacity": mempool.capacity, "fill": fill},
        "actorsAlive": true,
    });
    Ok((facts, processing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::parse_genesis;
    use crate::config::ChainConfig;
    use crate::storage::StoreOptions;
    use rpcchainvm::node_client::NodeClients;
    use rpcchainvm::protocol::Profile;

    async fn chain(dir: &std::path::Path) -> VmHandles {
        let genesis = parse_genesis(b"health").unwrap();
        let store = Arc::new(Store::open(dir, &genesis, StoreOptions::default()).unwrap());
        let clients = NodeClients::connect_lazy("", Profile::latest()).unwrap();
        VmHandles::start(store, &ChainConfig::default(), clients)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn healthy_details_are_the_chain_facts() {
        let dir = tempfile::tempdir().unwrap();
        let handles = chain(dir.path()).await;
        let health = HealthCheck::new(Duration::from_secs(30));
        let details: Value =
            serde_json::from_str(&check(&handles, &health).await.unwrap()).unwrap();
        assert_eq!(details["database"], json!({"writable": true}));
        assert_eq!(details["health"]["lastAcceptedHeight"], 0);
        // Genesis (timestamp 0) has no meaningful age; nothing is processing.
        assert_eq!(details["health"]["lastAcceptedAgeSeconds"], Value::Null);
        assert_eq!(details["health"]["processingBlocks"], 0);
        assert_eq!(details["health"]["oldestProcessingSeconds"], Value::Null);
        assert_eq!(
            details["health"]["mempool"],
            json!({"size": 0, "capacity": 4096, "fill": 0.0})
        );
        assert_eq!(details["health"]["actorsAlive"], true);
        handles.stop().await;
    }

    /// An actor that has stopped makes the chain unhealthy, and the message names it.
    #[tokio::test]
    async fn a_stopped_actor_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let handles = chain(dir.path()).await;
        handles
            .gossip
            .stop_and_wait(None, Some(Duration::from_secs(5)))
            .await
            .unwrap();
        let health = HealthCheck::new(Duration::from_secs(30));
        let error = check(&handles, &health).await.unwrap_err();
        assert_eq!(
            error,
            VmError::Unavailable("unhealthy: actor stopped: gossip (Stopped)".into())
        );
        handles.stop().await;
    }

    #[test]
    fn a_block_processing_too_long_is_a_stall() {
        let max = Duration::from_secs(30);
        let facts = |count, oldest: Option<u64>| ProcessingFacts {
            count,
            oldest: oldest.map(Duration::from_secs),
        };
        assert_eq!(stalled(facts(0, None), max), None);
        assert_eq!(stalled(facts(3, Some(30)), max), None);
        assert_eq!(
            stalled(facts(3, Some(31)), max).as_deref(),
            Some(
                "chain stalled: 3 block(s) processing, the oldest verified 31 s ago and still \
                 undecided (more than 30 s)"
            )
        );
    }
}
