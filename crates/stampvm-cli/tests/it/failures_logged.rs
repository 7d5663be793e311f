//! Failed work is logged and counted (`src/failures.rs`), read from the node's side: the real
//! plugin's stderr (which the node copies into the chain's log) and its `Gather` answer.
//!
//! A BlockAccept the chain cannot do (an ID that is not processing, which the node treats as fatal
//! for the chain) is logged at ERROR with its cause, once, however often it is repeated within the
//! log interval, and each one is counted in `stampvm_failures_total{operation="accept"}`. A build
//! on a preference that cannot be built on is logged at WARN with its cause and counted. Fails if
//! a failure passes without a line, if repeats flood the log, or if the counter misses one.

use crate::common;

use common::*;
use rpcchainvm::pb::vm as pb;
use rpcchainvm_host::Network;
use stampvm::chain::Id;
use stampvm::metrics::{counter_sum, FAILURES_TOTAL, LABEL_OPERATION};
use std::time::Duration;
use tokio::sync::mpsc;

/// `stampvm_failures_total` of `operation`, summed over its causes (each is registered at zero,
/// so every operation has one series per cause).
async fn failures(node: &TestNode, operation: &str) -> f64 {
    let families = node.client.gather().await.expect("Gather").metric_families;
    counter_sum(&families, FAILURES_TOTAL, LABEL_OPERATION, operation)
}

/// Every line that has arrived, waiting (bounded) until one contains `needle`.
async fn lines_until(log: &mut mpsc::UnboundedReceiver<String>, needle: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !lines.iter().any(|line: &String| line.contains(needle)) {
        match tokio::time::timeout_at(deadline, log.recv()).await {
            Ok(Some(line)) => lines.push(line),
            _ => panic!("no line with {needle:?}: {lines:#?}"),
        }
    }
    // And whatever follows right behind it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    while let Ok(line) = log.try_recv() {
        lines.push(line);
    }
    lines
}

#[tokio::test]
async fn failed_accepts_and_builds_are_logged_once_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, mut log) = mpsc::unbounded_channel();
    let process = launch_with("failures", |options| options.output = Some(sink)).await;
    let node = start_chain_on(process, node_id(1), &Network::new(), dir.path(), "").await;
    assert_eq!(failures(&node, "accept").await, 0.0);

    let unknown = Id([9; 32]);
    for _ in 0..5 {
        let refused = node
            .client
            .block_accept(pb::BlockAcceptRequest {
                id: unknown.0.to_vec(),
            })
            .await;
        assert!(refused.is_err(), "accept of a block never verified");
    }
    let lines = lines_until(&mut log, "accept failed").await;
    let logged: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("accept failed"))
        .collect();
    assert_eq!(logged.len(), 1, "five failures within 10 s: {logged:#?}");
    assert!(logged[0].contains(" ERROR "), "{}", logged[0]);
    assert!(
        logged[0].contains(&format!("block {unknown} is not processing")),
        "the cause: {}",
        logged[0]
    );
    assert_eq!(failures(&node, "accept").await, 5.0);

    // One block accepted, then the preference moved back to genesis, below the tip: a block on
    // it can never be accepted, so the build fails.
    assert_eq!(
        node.propose(&payload(1)).await,
        serde_json::json!({"Success": true})
    );
    wait_for_build_event(&node.client).await;
    node.build_and_accept().await;
    set_preference(&node, node.started.last_accepted.id).await;
    assert_eq!(
        node.propose(&payload(2)).await,
        serde_json::json!({"Success": true})
    );
    wait_for_build_event(&node.client).await;
    let refused = node
        .client
        .build_block(pb::BuildBlockRequest {
            p_chain_height: Some(0),
        })
        .await;
    assert!(refused.is_err(), "a build on genesis below the tip");
    let lines = lines_until(&mut log, "build failed").await;
    let logged = lines
        .iter()
        .find(|line| line.contains("build failed"))
        .unwrap();
    assert!(logged.contains(" WARN "), "{logged}");
    assert!(logged.contains("cannot be built on"), "the cause: {logged}");
    assert_eq!(failures(&node, "build").await, 1.0);
    node.stop().await;
}
