//! The node's call sequence (docs/spec/node-behaviour.md sections 4-5, 7, 9-10) against the built
//! binary: the registration-time version probe, then a whole chain lifecycle. Fails if any call
//! errors, answers out of contract, or the process does not exit after Shutdown.

use crate::common;

use common::*;
use rpcchainvm::pb::vm as pb;
use rpcchainvm_host::Network;
use serde_json::{json, Value};
use stampvm::chain::{Block, ChainFormat, Id};
use std::process::Stdio;
use std::time::Duration;

#[tokio::test]
async fn registration_probe_then_exit() {
    let process = launch("probe").await;
    assert_eq!(
        process.protocol(),
        rpcchainvm::protocol::LATEST,
        "announced the current protocol"
    );
    let client = process.vm_client().await.unwrap();
    let version = client.version().await.unwrap().version;
    assert_eq!(version, format!("v{}", stampvm::VERSION));
    // Shutdown without Initialize must succeed, and the process then exits by itself.
    client
        .shutdown()
        .await
        .expect("Shutdown without Initialize");
    let status = process
        .wait_exit(Duration::from_secs(5))
        .await
        .expect("exits after Shutdown");
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn chain_lifecycle_in_node_order() {
    let dir = tempfile::tempdir().unwrap();
    let network = Network::new();
    let node = start_node("lifecycle", node_id(1), &network, dir.path(), "").await;
    let genesis = &node.started.last_accepted;
    assert_eq!(genesis.height, 0);
    assert_eq!(
        genesis.id,
        stampvm::chain::genesis_block(GENESIS).unwrap().id()
    );
    let prefixes: Vec<&str> = node
        .started
        .handlers
        .iter()
        .map(|h| h.prefix.as_str())
        .collect();
    assert_eq!(prefixes, ["", "/rpc"]);
    assert!(node.started.http_handler_addr.is_some());

    // A user proposes over HTTP; the plugin asks for a block.
    let data = payload(1);
    assert_eq!(node.propose(&data).await, json!({"Success": true}));
    wait_for_build_event(&node.client).await;

    let built = node.build_and_accept().await;
    assert_eq!(built.height, 1);
    assert_eq!(built.parent_id, genesis.id.0.to_vec());
    let block = Block::decode(&built.bytes, ChainFormat::Single).unwrap();
    assert_eq!(block.payloads(), &[data]);
    let id = Id::from_slice(&built.id).unwrap();
    assert_eq!(id, block.id());

    // The block over HTTP, in the Go reference's shape, at both mounted paths.
    let reply = node
        .rpc("timestampvm.getBlock", json!({"id": id.to_string()}))
        .await;
    let result = &reply["result"];
    assert_eq!(result["data"], payload_hex(&data));
    assert_eq!(result["height"], "1");
    assert_eq!(result["parentID"], genesis.id.to_string());
    let legacy_url = node.rpc_url().trim_end_matches("/rpc").to_string();
    let latest = json_rpc(&legacy_url, "timestampvm.getBlock", json!({})).await;
    assert_eq!(latest["result"]["id"], id.to_string(), "empty-prefix route");

    // Height index, ancestors, batched parse.
    let at_one = node
        .client
        .get_block_id_at_height(pb::GetBlockIdAtHeightRequest { height: 1 })
        .await
        .unwrap();
    assert_eq!((at_one.blk_id.as_slice(), at_one.err), (id.0.as_slice(), 0));
    let above = node
        .client
        .get_block_id_at_height(pb::GetBlockIdAtHeightRequest { height: 2 })
        .await
        .unwrap();
    assert_eq!(above.err, pb::Error::NotFound as i32);
    let ancestors = node
        .client
        .get_ancestors(pb::GetAncestorsRequest {
            blk_id: id.0.to_vec(),
            max_blocks_num: 2000,
            max_blocks_size: 1_677_721,
            max_blocks_retrival_time: 50_000_000,
        })
        .await
        .unwrap();
    assert_eq!(
        ancestors.blks_bytes,
        vec![built.bytes.clone(), genesis.bytes.clone()]
    );
    let batch = node
        .client
        .batched_parse_block(pb::BatchedParseBlockRequest {
            request: vec![built.bytes.clone(), genesis.bytes.clone()],
        })
        .await
        .unwrap();
    assert_eq!(batch.response.len(), 2);
    assert_eq!(batch.response[0].id, built.id);
    assert_eq!(batch.response[1].height, 0);
    assert!(
        batch.response[1].timestamp.is_some(),
        "timestamp 0 still present"
    );

    // GetBlock: found, and unknown → NOT_FOUND inside an OK answer.
    let found = node
        .client
        .get_block(pb::GetBlockRequest { id: id.0.to_vec() })
        .await
        .unwrap();
    assert_eq!((found.err, found.height), (0, 1));
    let missing = node
        .client
        .get_block(pb::GetBlockRequest { id: vec![9; 32] })
        .await
        .unwrap();
    assert_eq!(missing.err, pb::Error::NotFound as i32);

    // State sync is off, with the expected "not implemented" answers.
    let summary = node.client.get_last_state_summary().await.unwrap();
    assert_eq!(summary.err, pb::Error::StateSyncNotImplemented as i32);

    // App messages are accepted without harming the chain.
    node.client
        .app_request(pb::AppRequestMsg {
            node_id: vec![2; 20],
            request_id: 7,
            deadline: None,
            request: b"hi".to_vec(),
        })
        .await
        .unwrap();

    // Health: valid JSON that tells the truth.
    let health = node.client.health().await.unwrap();
    let details: Value = serde_json::from_slice(&health.details).expect("health is JSON");
    assert_eq!(details["health"]["lastAcceptedHeight"], 1);
    assert_eq!(details["health"]["processingBlocks"], 0);

    // Gather: well-formed families, the accepted counter moved, and no `chain` label.
    let families = node.client.gather().await.unwrap().metric_families;
    let accepted = families
        .iter()
        .find(|f| f.name() == "stampvm_blocks_accepted_total")
        .expect("accepted-blocks family");
    assert_eq!(accepted.metric[0].counter.as_ref().unwrap().value(), 1.0);
    // The binary publishes its allocator's figures: live bytes, within the pages that hold them.
    let allocator = |kind: &str| {
        stampvm::metrics::find_series(&families, "stampvm_allocator_bytes", "kind", kind)
            .unwrap_or_else(|| panic!("allocator {kind} gauge"))
            .gauge
            .as_ref()
            .unwrap()
            .value()
    };
    let (allocated, active) = (allocator("allocated"), allocator("active"));
    assert!(
        allocated > 0.0 && allocated <= active,
        "{allocated} {active}"
    );
    assert!(allocator("resident") > 0.0);
    for family in &families {
        for metric in &family.metric {
            assert!(
                metric.label.iter().all(|l| l.name() != "chain"),
                "{}",
                family.name()
            );
        }
    }

    node.stop().await;
}

#[tokio::test]
async fn signals_follow_the_node_policy() {
    let dir = tempfile::tempdir().unwrap();
    let network = Network::new();
    let node = start_node("signals", node_id(3), &network, dir.path(), "").await;
    // SIGINT is always ignored; SIGTERM is ignored while the chain runs (no Shutdown yet).
    node.process.signal(libc::SIGINT).await.unwrap();
    node.process.signal(libc::SIGTERM).await.unwrap();
    assert!(
        node.process
            .wait_exit(Duration::from_millis(1500))
            .await
            .is_none(),
        "plugin must survive SIGINT and an early SIGTERM"
    );
    assert!(node.client.version().await.is_ok(), "still serving");
    node.stop().await;

    // A process that never got Initialize (registration time) exits on SIGTERM.
    let probe = launch("probe-term").await;
    probe.signal(libc::SIGTERM).await.unwrap();
    let status = probe
        .wait_exit(Duration::from_secs(5))
        .await
        .expect("exits");
    assert!(status.success(), "{status}");
}

#[test]
fn without_the_node_it_explains_itself_and_fails() {
    let output = std::process::Command::new(plugin_binary())
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("rpcchainvm plugin"), "{text}");
    assert!(text.contains("stampvm dev"), "{text}");
    assert!(text.lines().count() < 25, "fits one screen");
}

#[test]
fn vm_id_and_version_commands() {
    // docs/spec/vectors.md section 1: the tutorials' "timestampvm" VM ID encodes `timestamp`.
    assert_eq!(
        run_cli(&["vm-id", "timestamp"]).trim(),
        "tGas3T58KzdjLHhBDMnH2TvrddhqTji5iZAMZ3RXs2NLpSnhH"
    );
    let json: Value = serde_json::from_str(&run_cli(&["version", "--json"])).unwrap();
    assert_eq!(json["version"], stampvm::VERSION);
    assert_eq!(json["rpcchainvm"], json!(rpcchainvm::protocol::LATEST));
    assert!(json["supported"].as_array().unwrap().contains(&json!(45)));
}
