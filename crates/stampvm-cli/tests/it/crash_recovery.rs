//! What survives a plugin restart (docs/spec/node-behaviour.md section 5 step 1, section 7
//! "Durability", section 10): a new plugin process on the same chain_data_dir answers Initialize
//! with the last accepted block and serves every accepted block byte for byte, even after SIGKILL
//! right after BlockAccept; a different genesis on that directory is refused without killing the
//! process. Fails if a restart comes back at another height or tip (the node's proposer VM would
//! then be ahead of or behind the plugin), if an accepted block changes or disappears, if the chain
//! cannot grow after a restart, or if the wrong genesis is accepted, crashes the plugin, or leaves
//! the store locked.

use crate::common;

use common::*;
use rpcchainvm::pb::vm as pb;
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm_host::{BlockSummary, ChainParams, Network, NodeServices, PluginProcess, VmClient};
use stampvm::chain::{genesis_block, Id};
use std::path::Path;
use std::time::Duration;

/// Proposes `n`'s payload, waits for the plugin to ask for a block, and has it built and accepted.
async fn accept_one(node: &TestNode, n: u64) -> pb::BuildBlockResponse {
    assert_eq!(
        node.propose(&payload(n)).await,
        serde_json::json!({"Success": true})
    );
    wait_for_build_event(&node.client).await;
    node.build_and_accept().await
}

/// A plugin process that has only been sent Initialize (the node's first per-chain call) for the
/// chain `genesis` in `chain_data_dir`, with real node services behind `server_addr`.
struct Initialized {
    process: PluginProcess,
    client: VmClient,
    params: ChainParams,
    answer: Result<pb::InitializeResponse, rpcchainvm_host::HostError>,
    shutdown: Shutdown,
}

async fn initialize_only(name: &str, chain_data_dir: &Path, genesis: &[u8]) -> Initialized {
    let shutdown = Shutdown::new();
    let (services_addr, _services) =
        NodeServices::serve(node_id(9), Network::new(), shutdown.clone())
            .await
            .expect("node services bind");
    let process = launch(name).await;
    let client = process.vm_client().await.expect("dial the plugin");
    let params = ChainParams::new(
        node_id(9),
        chain_data_dir,
        genesis.to_vec(),
        services_addr.to_string(),
    );
    let answer = client.initialize(params.initialize_request()).await;
    Initialized {
        process,
        client,
        params,
        answer,
        shutdown,
    }
}

impl Initialized {
    /// Shutdown, then SIGTERM; asserts a clean exit.
    async fn stop(self) {
        stop_plugin(&self.process, &self.client, &self.shutdown).await;
    }
}

/// The accepted block at `height` as GetBlockIDAtHeight and GetBlock report it: (id, bytes).
async fn accepted_at(client: &VmClient, height: u64) -> (Vec<u8>, Vec<u8>) {
    let at = client
        .get_block_id_at_height(pb::GetBlockIdAtHeightRequest { height })
        .await
        .expect("GetBlockIDAtHeight");
    assert_eq!(at.err, 0, "no accepted block at height {height}");
    let block = client
        .get_block(pb::GetBlockRequest {
            id: at.blk_id.clone(),
        })
        .await
        .expect("GetBlock");
    assert_eq!(block.err, 0, "GetBlock of the block at height {height}");
    assert_eq!(block.height, height);
    (at.blk_id, block.bytes)
}

#[tokio::test]
async fn restart_resumes_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_node("first", node_id(1), &Network::new(), dir.path(), "").await;
    let mut before = Vec::new();
    for n in 1..=3 {
        let built = accept_one(&node, n).await;
        assert_eq!(built.height, n);
        before.push((built.id, built.bytes));
    }
    let tip = Id::from_slice(&before[2].0).unwrap();
    node.stop().await;

    // The node's first call to the new process: Initialize answers the last accepted block.
    let probe = initialize_only("initialize-only", dir.path(), GENESIS).await;
    let answer = BlockSummary::from_initialize(probe.answer.as_ref().expect("Initialize").clone())
        .expect("a well-formed Initialize answer");
    assert_eq!(
        (answer.height, answer.id),
        (3, tip),
        "Initialize after restart"
    );
    assert_eq!(
        answer.bytes, before[2].1,
        "last accepted bytes after restart"
    );
    probe.stop().await;

    // A full chain start on the same directory: same tip, same blocks, and the chain grows.
    let node = start_node("restarted", node_id(1), &Network::new(), dir.path(), "").await;
    let last = &node.started.last_accepted;
    assert_eq!(
        (last.height, last.id),
        (3, tip),
        "SetState(NORMAL_OP) answer"
    );
    for (height, (id, bytes)) in (1..=3).zip(&before) {
        assert_eq!(
            accepted_at(&node.client, height).await,
            (id.clone(), bytes.clone()),
            "block at height {height} after restart"
        );
    }
    let above = node
        .client
        .get_block_id_at_height(pb::GetBlockIdAtHeightRequest { height: 4 })
        .await
        .unwrap();
    assert_eq!(
        above.err,
        pb::Error::NotFound as i32,
        "nothing above the tip"
    );

    let fourth = accept_one(&node, 4).await;
    assert_eq!(fourth.height, 4);
    assert_eq!(fourth.parent_id, tip.0.to_vec(), "built on the resumed tip");
    assert_eq!(accepted_at(&node.client, 4).await.0, fourth.id);
    node.stop().await;
}

#[tokio::test]
async fn kill_9_loses_nothing_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_node("doomed", node_id(2), &Network::new(), dir.path(), "").await;
    let first = accept_one(&node, 1).await;
    let second = accept_one(&node, 2).await;
    // No Shutdown, no SIGTERM, no delay: whatever BlockAccept promised must already be on disk.
    node.process.signal(libc::SIGKILL).await.expect("SIGKILL");
    let status = node
        .process
        .wait_exit(Duration::from_secs(5))
        .await
        .expect("reaped after SIGKILL");
    assert!(!status.success(), "{status}");
    node.gateway.set_ready(node.params.chain_id, false);
    node.shutdown.trigger();
    drop(node);

    let node = start_node("after-kill", node_id(2), &Network::new(), dir.path(), "").await;
    let last = &node.started.last_accepted;
    assert_eq!(last.height, 2, "last accepted after SIGKILL");
    assert_eq!(last.id.0.to_vec(), second.id);
    assert_eq!(last.bytes, second.bytes);
    assert_eq!(
        accepted_at(&node.client, 1).await,
        (first.id.clone(), first.bytes.clone())
    );

    let third = accept_one(&node, 3).await;
    assert_eq!(third.height, 3);
    assert_eq!(
        third.parent_id, second.id,
        "the chain continues from height 2"
    );
    node.stop().await;
}

#[tokio::test]
async fn another_genesis_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_node("original", node_id(3), &Network::new(), dir.path(), "").await;
    let original = node.started.last_accepted.id;
    assert_eq!(original, genesis_block(GENESIS).unwrap().id());
    accept_one(&node, 1).await;
    node.stop().await;

    // The node would only do this with a misconfigured chain_data_dir.
    let other = b"some other chain";
    let refused = initialize_only("other-genesis", dir.path(), other).await;
    let error = refused
        .answer
        .as_ref()
        .expect_err("Initialize with another genesis must fail");
    let message = error.status().expect("a gRPC error status").message();
    assert!(
        message.contains("chain_data_dir") && message.contains(&original.to_string()),
        "the error should name the chain the directory holds and point at chain_data_dir: {message}"
    );
    assert!(
        refused.client.version().await.is_ok(),
        "the plugin still serves after a refused Initialize"
    );
    assert!(refused.process.exit_status().is_none(), "still running");

    // A refused Initialize leaves nothing behind (in particular no RocksDB lock): the same
    // process accepts the right genesis next, and the chain is intact.
    let mut params = refused.params.clone();
    params.genesis_bytes = GENESIS.to_vec();
    let answer = refused
        .client
        .initialize(params.initialize_request())
        .await
        .expect("Initialize with the right genesis after a refusal");
    assert_eq!(answer.height, 1, "the original chain is untouched");
    refused.stop().await;
}
