//! The JSON the node embeds in `/ext/health` for this chain, and the health verdict: an error
//! status (unhealthy) when an actor has died or the store cannot be written.
//!
//! Healthy details, in the Go reference's `{"database": …, "health": …}` shape:
//!
//! ```json
//! {"database": {"writable": true},
//!  "health": {"lastAcceptedHeight": 7, "lastAcceptedId": "2Vs7…", "lastAcceptedAgeSeconds": 3,
//!             "processingBlocks": 0, "mempool": {"size": 1, "capacity": 4096, "fill": 0.0002},
//!             "actorsAlive": true}}
//! ```
//!
//! The node keeps only the message of an error status (the details are dropped), so an unhealthy
//! answer's message names every failed check and why, e.g.
//! `unhealthy: store cannot be written: create /…/rocksdb/HEALTH-PROBE: Operation not permitted`.

use crate::actors::chain::ChainMsg;
use crate::actors::mempool::MempoolMsg;
use crate::actors::{ask, VmHandles};
use crate::rpc::lifecycle::Running;
use crate::storage::Store;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tonic::Status;

/// Health answers fast or not at all: the node's call is fail-fast.
const HEALTH_CALL: Duration = Duration::from_secs(2);

/// The Health RPC's answer: `Ok(details JSON)` when healthy (or not yet initialized),
/// `Err(unavailable)` naming the failed checks otherwise.
pub async fn report(running: Option<Running>) -> Result<String, Status> {
    match running {
        None => Ok(json!({"initialized": false}).to_string()),
        Some(running) => check(&running.handles).await,
    }
}

/// Every check on a running chain; the store is probed even when an actor is gone, so the
/// message holds every cause.
async fn check(handles: &VmHandles) -> Result<String, Status> {
    let mut problems = Vec::new();

    let stopped = handles.stopped_actors();
    if !stopped.is_empty() {
        problems.push(format!("actor stopped: {}", stopped.join(", ")));
    }
    let (database, chain) = tokio::join!(probe_store(handles.store.clone()), async {
        if stopped.is_empty() {
            chain_facts(handles).await
        } else {
            Ok(Value::Null)
        }
    });
    if let Err(e) = &database {
        problems.push(format!("store cannot be written: {e}"));
    }
    let chain = chain.unwrap_or_else(|e| {
        problems.push(e);
        Value::Null
    });
    if !problems.is_empty() {
        return Err(Status::unavailable(format!(
            "unhealthy: {}",
            problems.join("; ")
        )));
    }
    Ok(json!({"database": {"writable": true}, "health": chain}).to_string())
}

/// [`Store::probe_write`] off the runtime, bounded: a disk that stalls is as unhealthy as one
/// that refuses.
async fn probe_store(store: Arc<Store>) -> Result<(), String> {
    let probe = tokio::task::spawn_blocking(move || store.probe_write());
    match tokio::time::timeout(HEALTH_CALL, probe).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(e))) => Err(e.to_string()),
        Ok(Err(e)) => Err(format!("probe task failed: {e}")),
        Err(_) => Err(format!(
            "probe did not finish within {} s",
            HEALTH_CALL.as_secs()
        )),
    }
}

/// The `health` object: what the chain and mempool actors report right now.
async fn chain_facts(handles: &VmHandles) -> Result<Value, String> {
    let call = Some(HEALTH_CALL);
    let (last, processing, mempool) = tokio::join!(
        ask(&handles.chain, ChainMsg::LastAccepted, call),
        ask(&handles.chain, ChainMsg::ProcessingCount, call),
        ask(&handles.mempool, MempoolMsg::Stats, call),
    );
    let last = last
        .map_err(|e| format!("chain actor: {e}"))?
        .map_err(|e| format!("last accepted block: {e}"))?;
    let processing = processing.map_err(|e| format!("chain actor: {e}"))?;
    let mempool = mempool.map_err(|e| format!("mempool actor: {e}"))?;
    let now = crate::clock::unix_now();
    let fill = if mempool.capacity == 0 {
        1.0
    } else {
        mempool.size as f64 / mempool.capacity as f64
    };
    Ok(json!({
        "lastAcceptedHeight": last.block.height,
        "lastAcceptedId": last.id.to_string(),
        // Negative if the block's time is ahead of this machine's clock.
        "lastAcceptedAgeSeconds": now.saturating_sub(last.block.timestamp),
        "processingBlocks": processing,
        "mempool": {"size": mempool.size, "capacity": mempool.capacity, "fill": fill},
        "actorsAlive": true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::parse_genesis;
    use crate::config::ChainConfig;
    use crate::rpc::engine::NodeClients;
    use crate::rpc::protocol::Profile;
    use crate::storage::StoreOptions;

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
        let details: Value = serde_json::from_str(&check(&handles).await.unwrap()).unwrap();
        assert_eq!(details["database"], json!({"writable": true}));
        assert_eq!(details["health"]["lastAcceptedHeight"], 0);
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
        let status = check(&handles).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert_eq!(
            status.message(),
            "unhealthy: actor stopped: gossip (Stopped)"
        );
        handles.stop().await;
    }
}
