//! Three plugin processes as three nodes of one network (docs/spec/node-behaviour.md sections
//! 5-7): a payload proposed on node 1 reaches nodes 2 and 3 only by gossip relayed through the
//! hosts' AppSender servers; the three build competing blocks at height 1; every node verifies all
//! three, accepts node 2's and rejects its siblings, in the node's order; afterwards all three
//! agree on every height, on the last accepted block, and on what is left in their mempools.
//! Fails if gossip does not arrive (bounded wait), if a node refuses a valid competing block,
//! if the decided chain differs between nodes, if a rejected block's payload is lost (or comes
//! back although the accepted block holds it), or if a child of a rejected block verifies.
//!
//! Determinism: competing blocks must differ. Nodes 1 and 2 build from the same gossiped payload
//! P, so node 2 builds only once the wall clock has passed node 1's block second (blocks carry
//! Unix seconds). Node 3 runs with `gossip-validators: 0` and gets its own payload R proposed
//! before P arrives, so its oldest payload, and thus its block, is R; R reaches the other nodes
//! only inside node 3's block. Rejecting that block must put R back in every mempool.

use crate::common;

use common::*;
use rpcchainvm::pb::vm as pb;
use rpcchainvm_host::{HostError, Network};
use serde_json::{json, Value};
use stampvm::chain::{genesis_block, Block, ChainFormat, Id};
use stampvm::clock::unix_now;
use std::time::Duration;

/// A block some node built, as the other nodes receive it: bytes, plus what they decode to.
struct Built {
    id: Id,
    bytes: Vec<u8>,
    block: Block,
}

/// Waits (at most ~1 s) until the wall clock is past `timestamp`, so a block built next gets a
/// later timestamp, hence different bytes and ID.
async fn wait_past_second(timestamp: i64) {
    for _ in 0..150 {
        if unix_now() > timestamp {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("wall clock did not pass {timestamp}");
}

/// BuildBlock on `node`, then what its engine does with its own block: BlockVerify by bytes
/// (must succeed again) and SetPreference to it.
async fn build(node: &TestNode) -> Built {
    let reply = node
        .client
        .build_block(pb::BuildBlockRequest {
            p_chain_height: Some(0),
        })
        .await
        .expect("BuildBlock");
    let block = Block::decode(&reply.bytes, ChainFormat::Single).expect("built bytes decode");
    let id = Id::from_slice(&reply.id).expect("32-byte ID");
    assert_eq!(
        id,
        block.id(),
        "{}: announced ID is the bytes' hash",
        node.node_id
    );
    assert_eq!(reply.height, block.height);
    let built = Built {
        id,
        bytes: reply.bytes,
        block,
    };
    verify(node, &built)
        .await
        .expect("BlockVerify of our own block");
    set_preference(node, built.id).await;
    built
}

async fn verify(node: &TestNode, built: &Built) -> Result<pb::BlockVerifyResponse, HostError> {
    verify_bytes(node, built.bytes.clone()).await
}

async fn verify_bytes(
    node: &TestNode,
    bytes: Vec<u8>,
) -> Result<pb::BlockVerifyResponse, HostError> {
    node.client
        .block_verify(pb::BlockVerifyRequest {
            bytes,
            p_chain_height: None,
        })
        .await
}

/// Parses `built` on `node` and checks the answer matches the block.
async fn parse(node: &TestNode, built: &Built) {
    let parsed = node
        .client
        .parse_block(pb::ParseBlockRequest {
            bytes: built.bytes.clone(),
        })
        .await
        .expect("ParseBlock");
    let who = node.node_id;
    assert_eq!(parsed.id, built.id.0.to_vec(), "{who}: parsed ID");
    assert_eq!(parsed.parent_id, built.block.parent.0.to_vec(), "{who}");
    assert_eq!(parsed.height, built.block.height, "{who}");
    let seconds = parsed.timestamp.expect("parsed timestamp").seconds;
    assert_eq!(seconds, built.block.timestamp, "{who}");
}

/// JSON-RPC `timestampvm.getBlock` without an ID: the node's last accepted block.
async fn last_accepted_json(node: &TestNode) -> Value {
    let reply = node.rpc("timestampvm.getBlock", json!({})).await;
    assert!(reply["error"].is_null(), "{}: {reply}", node.node_id);
    reply["result"].clone()
}

#[tokio::test]
async fn three_nodes_gossip_compete_and_agree() {
    let network = Network::new();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let n1 = start_node("three-1", node_id(1), &network, dirs[0].path(), "").await;
    let n2 = start_node("three-2", node_id(2), &network, dirs[1].path(), "").await;
    let quiet = r#"{"gossip-validators": 0}"#;
    let n3 = start_node("three-3", node_id(3), &network, dirs[2].path(), quiet).await;
    let nodes = [&n1, &n2, &n3];
    let genesis = genesis_block(GENESIS).unwrap().id();
    for node in nodes {
        assert_eq!(node.started.last_accepted.id, genesis, "same genesis");
    }

    // Node 3's own payload first: it does not gossip, so only node 3 holds R.
    let (p, r) = (payload(1), payload(2));
    assert_eq!(n3.propose(&r).await, json!({"Success": true}));
    n3.wait_mempool(1).await;

    // P proposed over HTTP on node 1 reaches nodes 2 and 3 through the AppSender relay.
    assert_eq!(n1.propose(&p).await, json!({"Success": true}));
    n1.wait_mempool(1).await;
    n2.wait_mempool(1).await;
    n3.wait_mempool(2).await;
    let relayed = || n1.services.counters().gossip_delivered >= 2;
    wait_until("node 1's gossip delivered to both peers", relayed).await;
    assert!(n1.services.counters().gossip_calls >= 1);
    assert_eq!(n1.services.counters().gossip_failed, 0);
    // What node 2 holds is P itself (a second proposal of it is a duplicate).
    assert_eq!(
        refused_reason(&n2, &p).await,
        "payload is already pending in the mempool"
    );

    // Competing blocks at height 1, each on its builder's own preference (genesis).
    let a = build(&n1).await;
    wait_past_second(a.block.timestamp).await;
    let b = build(&n2).await;
    let c = build(&n3).await;
    for (built, data) in [(&a, p), (&b, p), (&c, r)] {
        assert_eq!((built.block.parent, built.block.height), (genesis, 1));
        assert_eq!(built.block.payloads(), &[data]);
    }
    assert!(b.block.timestamp > a.block.timestamp);
    assert!(
        a.id != b.id && b.id != c.id && a.id != c.id,
        "three distinct blocks"
    );

    // Every node parses and verifies all three (its own a second time: idempotent).
    for node in nodes {
        for built in [&a, &b, &c] {
            parse(node, built).await;
            let verified = verify(node, built).await.unwrap_or_else(|e| {
                panic!("{}: BlockVerify({}) failed: {e}", node.node_id, built.id)
            });
            let seconds = verified.timestamp.expect("verify timestamp").seconds;
            assert_eq!(seconds, built.block.timestamp);
        }
    }

    // Consensus picks node 2's block: preference, accept, then the siblings are rejected.
    for node in nodes {
        set_preference(node, b.id).await;
        node.client
            .block_accept(pb::BlockAcceptRequest {
                id: b.id.0.to_vec(),
            })
            .await
            .expect("BlockAccept");
        for loser in [&a, &c] {
            node.client
                .block_reject(pb::BlockRejectRequest {
                    id: loser.id.0.to_vec(),
                })
                .await
                .expect("BlockReject");
        }
    }

    // All three agree on height 1 and on the last accepted block.
    let winner_json = json!({
        "timestamp": b.block.timestamp.to_string(),
        "data": payload_hex(&p),
        "height": "1",
        "id": b.id.to_string(),
        "parentID": genesis.to_string(),
    });
    for node in nodes {
        assert_eq!(id_at_height(node, 1).await, Some(b.id), "{}", node.node_id);
        assert_eq!(id_at_height(node, 2).await, None, "{}", node.node_id);
        assert_eq!(
            last_accepted_json(node).await,
            winner_json,
            "{}",
            node.node_id
        );
        // Rejected blocks stay parseable with the same values (section 7).
        parse(node, &a).await;
        parse(node, &c).await;
    }

    // Mempools: P is in the accepted block, so rejecting A must not bring it back; R is in no
    // accepted block, so rejecting C puts it in every node's mempool (nodes 1 and 2 only knew
    // it from C).
    let accepted_p = format!("payload is already in accepted block {}", b.id);
    for node in nodes {
        node.wait_mempool(1).await;
        assert_eq!(
            refused_reason(node, &p).await,
            accepted_p,
            "{}",
            node.node_id
        );
        let pending = refused_reason(node, &r).await;
        assert_eq!(
            pending, "payload is already pending in the mempool",
            "{}",
            node.node_id
        );
    }

    // A child of a rejected block fails verification everywhere, although it is otherwise valid.
    for loser in [&a, &c] {
        let orphan = Block::single(
            loser.id,
            2,
            unix_now().max(loser.block.timestamp),
            payload(3),
        );
        for node in nodes {
            let outcome = verify_bytes(node, orphan.encode().to_vec()).await;
            assert!(
                outcome.is_err(),
                "{}: child of rejected {} verified: {outcome:?}",
                node.node_id,
                loser.id
            );
        }
    }

    // Height 2, built by node 1 on the accepted block from the requeued payload R.
    let d = build(&n1).await;
    assert_eq!((d.block.parent, d.block.height), (b.id, 2));
    assert_eq!(d.block.payloads(), &[r]);
    for node in nodes {
        verify(node, &d).await.expect("BlockVerify at height 2");
        set_preference(node, d.id).await;
        node.client
            .block_accept(pb::BlockAcceptRequest {
                id: d.id.0.to_vec(),
            })
            .await
            .expect("BlockAccept at height 2");
    }

    // Every height agrees, and nothing is left pending anywhere.
    let chain = [Some(genesis), Some(b.id), Some(d.id), None];
    for node in nodes {
        for (height, expected) in chain.iter().enumerate() {
            let got = id_at_height(node, height as u64).await;
            assert_eq!(got, *expected, "{} at height {height}", node.node_id);
        }
        let last = last_accepted_json(node).await;
        assert_eq!(last["id"], d.id.to_string(), "{}", node.node_id);
        assert_eq!(last["data"], payload_hex(&r), "{}", node.node_id);
        node.wait_mempool(0).await;
    }
    // Node 3's quiet config held: R travelled only inside blocks.
    assert_eq!(n3.services.counters().gossip_delivered, 0);

    n1.stop().await;
    n2.stop().await;
    n3.stop().await;
}
