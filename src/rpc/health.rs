//! The JSON the node embeds in `/ext/health` for this chain, and the health verdict: an error
//! status (unhealthy) when an actor has died or the store cannot be written.

use crate::actors::ask;
use crate::actors::chain::ChainMsg;
use crate::actors::mempool::MempoolMsg;
use crate::rpc::lifecycle::Running;
use serde_json::json;
use std::time::Duration;
use tonic::Status;

/// Health answers fast or not at all: the node's call is fail-fast.
const HEALTH_CALL: Option<Duration> = Some(Duration::from_secs(2));

pub async fn report(running: Option<Running>) -> Result<String, Status> {
    let Some(running) = running else {
        return Ok(json!({"initialized": false}).to_string());
    };
    let handles = &running.handles;
    if !handles.actors_alive() {
        return Err(Status::unavailable("unhealthy: an actor has stopped"));
    }
    let last = ask(&handles.chain, ChainMsg::LastAccepted, HEALTH_CALL)
        .await
        .map_err(|e| Status::unavailable(format!("unhealthy: chain actor: {e}")))?
        .map_err(|e| Status::unavailable(format!("unhealthy: {e}")))?;
    let processing = ask(&handles.chain, ChainMsg::ProcessingCount, HEALTH_CALL)
        .await
        .map_err(|e| Status::unavailable(format!("unhealthy: chain actor: {e}")))?;
    let mempool = ask(&handles.mempool, MempoolMsg::Stats, HEALTH_CALL)
        .await
        .map_err(|e| Status::unavailable(format!("unhealthy: mempool actor: {e}")))?;
    let store = handles.store.clone();
    tokio::task::spawn_blocking(move || store.probe_write())
        .await
        .map_err(|e| Status::internal(e.to_string()))?
        .map_err(|e| Status::unavailable(format!("unhealthy: store cannot be written: {e}")))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Ok(json!({
        "database": {"writable": true},
        "health": {
            "lastAcceptedId": last.id.to_string(),
            "lastAcceptedHeight": last.block.height,
            "lastAcceptedAgeSeconds": now.saturating_sub(last.block.timestamp),
            "processingBlocks": processing,
            "mempool": {"size": mempool.size, "capacity": mempool.capacity},
            "actorsAlive": true,
        }
    })
    .to_string())
}
