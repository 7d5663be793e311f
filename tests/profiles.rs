//! The core lifecycle once per supported RPCChainVM profile, with the host playing that profile:
//! it expects exactly that number at the handshake (as the node does) and drives the chain in the
//! node's order. The operator picks the number the way the README says (`GRPC_STAMPVM_PROTOCOL`,
//! forwarded by the node). Fails if the plugin announces another number, or if any call of the
//! lifecycle errors or answers out of contract under that profile.

mod common;

use common::*;
use serde_json::{json, Value};
use stampvm::chain::Id;
use stampvm::host::Network;
use stampvm::rpc::pb::vm as pb;
use stampvm::rpc::protocol::SUPPORTED;

/// The AvalancheGo release a host playing `protocol` stands for (profiles.md section 1), used in
/// the handshake's refusal text.
fn node_version(protocol: u32) -> &'static str {
    match protocol {
        42 => "v1.13.3",
        43 => "v1.13.4",
        44 => "v1.14.0",
        _ => "avalanchego/1.14.2",
    }
}

async fn lifecycle_under(protocol: u32) {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("profile-{protocol}");
    let process = launch_with(&name, |options| {
        options.expected_protocol = protocol;
        options.node_version = node_version(protocol).into();
        options
            .extra_env
            .push(("GRPC_STAMPVM_PROTOCOL".into(), protocol.to_string().into()));
    })
    .await;
    assert_eq!(process.protocol(), protocol, "announced number");
    let node = start_chain_on(process, node_id(1), &Network::new(), dir.path(), "").await;

    let data = payload(u64::from(protocol));
    assert_eq!(node.propose(&data).await, json!({"Success": true}));
    wait_for_build_event(&node.client).await;
    let built = node.build_and_accept().await;
    let id = Id::from_slice(&built.id).unwrap();
    assert_eq!(built.height, 1);

    let reply = node
        .rpc("timestampvm.getBlock", json!({"id": id.to_string()}))
        .await;
    assert_eq!(reply["result"]["data"], payload_hex(&data), "{reply}");
    let at_one = node
        .client
        .get_block_id_at_height(pb::GetBlockIdAtHeightRequest { height: 1 })
        .await
        .unwrap();
    assert_eq!((at_one.blk_id, at_one.err), (built.id.clone(), 0));
    let parsed = node
        .client
        .parse_block(pb::ParseBlockRequest {
            bytes: built.bytes.clone(),
        })
        .await
        .unwrap();
    assert_eq!(parsed.id, built.id);
    let missing = node
        .client
        .get_block(pb::GetBlockRequest { id: vec![7; 32] })
        .await
        .unwrap();
    assert_eq!(missing.err, pb::Error::NotFound as i32);
    let sync = node.client.get_last_state_summary().await.unwrap();
    assert_eq!(sync.err, pb::Error::StateSyncNotImplemented as i32);
    let health = node.client.health().await.unwrap();
    let details: Value = serde_json::from_slice(&health.details).unwrap();
    assert_eq!(details["health"]["lastAcceptedHeight"], 1);
    assert!(!node
        .client
        .gather()
        .await
        .unwrap()
        .metric_families
        .is_empty());
    node.stop().await;
}

#[tokio::test]
async fn every_supported_profile_runs_the_lifecycle() {
    assert!(
        SUPPORTED.contains(&45),
        "the current node's protocol is supported"
    );
    for &protocol in SUPPORTED {
        lifecycle_under(protocol).await;
    }
}
