//! Three plugin processes as three nodes of one *batched* chain (genesis
//! `{"format":"batched",...,"maxBatch":8}`): payloads proposed on different nodes spread by
//! gossip; the three nodes build competing batched blocks at height 1 whose payload sets overlap
//! (A ⊂ B ⊂ C); every node verifies all three, accepts A and rejects B and C in the node's order;
//! the payloads of B and C that A does not hold come back to every mempool, once each, and end up
//! in the height-2 block D; a height-3 block E built on D while D is still processing leaves out
//! D's payloads. Afterwards all three nodes agree on every height, and no payload is in two
//! accepted blocks.
//!
//! Fails if gossip does not arrive (bounded wait), if a node refuses a valid competing block,
//! if the decided chain or a block's JSON differs between nodes, if a rejected block's payload is
//! lost, comes back twice, or comes back although an accepted block holds it, if the builder puts
//! a payload of a processing parent in the child, or if any payload is accepted twice.
//!
//! Determinism: the three blocks differ by payload set, not by timing. Node 3 runs with
//! `gossip-validators: 0` and holds R1, R2 that only it knows. P1, P2, proposed on node 1, reach
//! every node; node 1 builds A = {P1, P2} before Q1 (proposed on node 2) exists; then node 2
//! builds B = {P1, P2, Q1} and node 3 C = {R1, R2, P1, P2, Q1}. Accepting A and rejecting B and C
//! leaves {R1, R2, Q1} pending on every node.

use crate::common;

use common::*;
use rpcchainvm::pb::vm as pb;
use rpcchainvm_host::Network;
use serde_json::{json, Value};
use stampvm::chain::{parse_genesis, Block, ChainFormat, Id, Payload};
use std::collections::HashSet;
use std::time::Duration;

/// The chain of this test: batched blocks of at most 8 payloads.
const GENESIS_JSON: &[u8] = br#"{"format":"batched","data":"three","maxBatch":8}"#;
const FORMAT: ChainFormat = ChainFormat::Batched { max_batch: 8 };

/// The whole scenario, three plugin launches included, must finish within this.
const BOUND: Duration = Duration::from_secs(20);

/// A block some node built, as the other nodes receive it: bytes, plus what they decode to.
struct Built {
    id: Id,
    bytes: Vec<u8>,
    block: Block,
}

impl Built {
    fn payload_set(&self) -> HashSet<Payload> {
        self.block.payloads().iter().copied().collect()
    }
}

fn set(payloads: &[Payload]) -> HashSet<Payload> {
    payloads.iter().copied().collect()
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
    let block = Block::decode(&reply.bytes, FORMAT).expect("built bytes decode as batched");
    let id = Id::from_slice(&reply.id).expect("32-byte ID");
    assert_eq!(
        id,
        block.id(),
        "{}: announced ID is the bytes' hash",
        node.node_id
    );
    assert_eq!(reply.height, block.height);
    assert_eq!(reply.parent_id, block.parent.0.to_vec());
    let built = Built {
        id,
        bytes: reply.bytes,
        block,
    };
    verify(node, &built).await;
    set_preference(node, built.id).await;
    built
}

/// ParseBlock (answer must match the block), then BlockVerify: what a node does with a block it
/// receives. Verifying a block again is idempotent.
async fn verify(node: &TestNode, built: &Built) {
    let who = node.node_id;
    let parsed = node
        .client
        .parse_block(pb::ParseBlockRequest {
            bytes: built.bytes.clone(),
        })
        .await
        .unwrap_or_else(|e| panic!("{who}: ParseBlock({}) failed: {e}", built.id));
    assert_eq!(parsed.id, built.id.0.to_vec(), "{who}: parsed ID");
    assert_eq!(parsed.parent_id, built.block.parent.0.to_vec(), "{who}");
    assert_eq!(parsed.height, built.block.height, "{who}");
    let verified = node
        .client
        .block_verify(pb::BlockVerifyRequest {
            bytes: built.bytes.clone(),
            p_chain_height: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{who}: BlockVerify({}) failed: {e}", built.id));
    let seconds = verified.timestamp.expect("verify timestamp").seconds;
    assert_eq!(seconds, built.block.timestamp, "{who}");
}

async fn accept(node: &TestNode, id: Id) {
    node.client
        .block_accept(pb::BlockAcceptRequest { id: id.0.to_vec() })
        .await
        .unwrap_or_else(|e| panic!("{}: BlockAccept({id}) failed: {e}", node.node_id));
}

async fn reject(node: &TestNode, id: Id) {
    node.client
        .block_reject(pb::BlockRejectRequest { id: id.0.to_vec() })
        .await
        .unwrap_or_else(|e| panic!("{}: BlockReject({id}) failed: {e}", node.node_id));
}

/// The block `id` as the node stores it (GetBlock), decoded.
async fn stored_block(node: &TestNode, id: Id) -> Block {
    let reply = node
        .client
        .get_block(pb::GetBlockRequest { id: id.0.to_vec() })
        .await
        .expect("GetBlock");
    assert_eq!(reply.err, 0, "{}: GetBlock({id})", node.node_id);
    let block = Block::decode(&reply.bytes, FORMAT).expect("stored bytes decode");
    assert_eq!(
        block.id(),
        id,
        "{}: stored bytes hash to the ID",
        node.node_id
    );
    block
}

/// JSON-RPC `timestampvm.getBlockByHeight`: the `result` object.
async fn block_json_at(node: &TestNode, height: u64) -> Value {
    let reply = node
        .rpc("timestampvm.getBlockByHeight", json!({"height": height}))
        .await;
    assert!(reply["error"].is_null(), "{}: {reply}", node.node_id);
    reply["result"].clone()
}

#[tokio::test]
async fn three_nodes_build_competing_batches_and_agree() {
    bounded(BOUND, scenario()).await;
}

async fn scenario() {
    let network = Network::new();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let start = |name: &'static str, n: u8, config: &'static str| {
        let (network, dir) = (&network, dirs[usize::from(n) - 1].path());
        async move {
            start_node_with_genesis(name, node_id(n), network, dir, GENESIS_JSON, config).await
        }
    };
    let (n1, n2, n3) = tokio::join!(
        start("batched-1", 1, ""),
        start("batched-2", 2, ""),
        start("batched-3", 3, r#"{"gossip-validators": 0}"#),
    );
    let nodes = [&n1, &n2, &n3];
    let genesis = parse_genesis(GENESIS_JSON).unwrap().block();
    assert_eq!(
        genesis.payloads().len(),
        1,
        "a batched genesis is a batch of one"
    );
    for node in nodes {
        assert_eq!(node.started.last_accepted.id, genesis.id(), "same genesis");
    }

    let (p1, p2, q1, r1, r2, s) = (
        payload(1),
        payload(2),
        payload(3),
        payload(4),
        payload(5),
        payload(6),
    );
    let ok = json!({"Success": true});

    // Node 3's own payloads first: it does not gossip, so only node 3 holds R1 and R2.
    assert_eq!(n3.propose(&r1).await, ok);
    assert_eq!(n3.propose(&r2).await, ok);
    n3.wait_mempool(2).await;

    // P1, P2 proposed over HTTP on node 1 reach nodes 2 and 3 through the AppSender relay.
    assert_eq!(n1.propose(&p1).await, ok);
    assert_eq!(n1.propose(&p2).await, ok);
    n1.wait_mempool(2).await;
    n2.wait_mempool(2).await;
    n3.wait_mempool(4).await;
    let relayed = || n1.services.counters().gossip_delivered >= 2;
    wait_until("node 1's gossip delivered to both peers", relayed).await;

    // Node 1 builds A from what it holds now: P1 and P2.
    let a = build(&n1).await;
    assert_eq!(
        a.block.payloads(),
        &[p1, p2],
        "node 1's batch, oldest first"
    );
    n1.wait_mempool(0).await;

    // Q1, proposed on node 2 after A was built, reaches nodes 1 and 3 by gossip.
    assert_eq!(n2.propose(&q1).await, ok);
    n1.wait_mempool(1).await;
    n2.wait_mempool(3).await;
    n3.wait_mempool(5).await;

    let b = build(&n2).await;
    let c = build(&n3).await;
    assert_eq!(b.payload_set(), set(&[p1, p2, q1]));
    assert_eq!(c.payload_set(), set(&[r1, r2, p1, p2, q1]));
    for built in [&a, &b, &c] {
        assert_eq!((built.block.parent, built.block.height), (genesis.id(), 1));
        let root = stampvm::chain::merkle::root(built.block.payloads()).unwrap();
        assert_eq!(
            built.block.root(),
            root,
            "the builder's root is the payloads'"
        );
    }
    assert!(
        a.id != b.id && b.id != c.id && a.id != c.id,
        "three distinct blocks"
    );
    // Everything taken is in flight; node 1 still holds Q1, which came after it built A.
    for (node, pending) in [(&n1, 1), (&n2, 0), (&n3, 0)] {
        assert_eq!(mempool_size(node).await, pending, "{}", node.node_id);
    }

    // Every node verifies all three competing blocks (its own a second time: idempotent),
    // although they share payloads: only a block's ancestors constrain it, not its siblings.
    for node in nodes {
        for built in [&a, &b, &c] {
            verify(node, built).await;
        }
    }

    // Consensus picks node 1's block A: preference, accept, then the siblings are rejected.
    for node in nodes {
        set_preference(node, a.id).await;
        accept(node, a.id).await;
        reject(node, b.id).await;
        reject(node, c.id).await;
    }
    for node in nodes {
        assert_eq!(id_at_height(node, 1).await, Some(a.id), "{}", node.node_id);
        assert_eq!(id_at_height(node, 2).await, None, "{}", node.node_id);
    }

    // Mempools: P1, P2 are in A, so rejecting B and C must not bring them back; Q1 (in B and C)
    // comes back once, R1 and R2 (in C) come back too, on every node, including nodes 1 and 2,
    // which knew R1 and R2 only from C.
    let in_a = format!("payload is already in accepted block {}", a.id);
    for node in nodes {
        node.wait_mempool(3).await;
        for accepted in [p1, p2] {
            assert_eq!(
                refused_reason(node, &accepted).await,
                in_a,
                "{}",
                node.node_id
            );
        }
        for pending in [q1, r1, r2] {
            assert_eq!(
                refused_reason(node, &pending).await,
                "payload is already pending in the mempool",
                "{}",
                node.node_id
            );
        }
    }

    // Height 2: node 2 builds D on A from the requeued payloads; every node verifies it.
    let d = build(&n2).await;
    assert_eq!((d.block.parent, d.block.height), (a.id, 2));
    assert_eq!(d.payload_set(), set(&[q1, r1, r2]));
    for node in nodes {
        verify(node, &d).await;
        set_preference(node, d.id).await;
    }

    // Height 3 while D is still processing: S is new on node 1, which also still holds D's
    // payloads in its mempool. The builder must leave those out (D, a processing ancestor, has
    // them) and build E = {S} on D.
    assert_eq!(n1.propose(&s).await, ok);
    n1.wait_mempool(4).await;
    n2.wait_mempool(1).await;
    n3.wait_mempool(4).await;
    let e = build(&n1).await;
    assert_eq!((e.block.parent, e.block.height), (d.id, 3));
    assert_eq!(
        e.block.payloads(),
        &[s],
        "D's payloads left out of its child"
    );
    n1.wait_mempool(0).await;
    for node in nodes {
        verify(node, &e).await;
        set_preference(node, e.id).await;
    }
    for node in nodes {
        accept(node, d.id).await;
        accept(node, e.id).await;
    }

    // Every height agrees on every node, by gRPC and by JSON-RPC, and nothing is left pending.
    let chain = [&genesis, &a.block, &d.block, &e.block];
    for node in nodes {
        let who = node.node_id;
        for (height, block) in (0u64..).zip(chain) {
            assert_eq!(id_at_height(node, height).await, Some(block.id()), "{who}");
            assert_eq!(&stored_block(node, block.id()).await, block, "{who}");
            let reply = block_json_at(node, height).await;
            assert_eq!(reply["id"], block.id().to_string(), "{who} at {height}");
            assert_eq!(reply["height"], height.to_string(), "{who} at {height}");
            assert_eq!(
                reply["parentID"],
                block.parent.to_string(),
                "{who} at {height}"
            );
            assert_eq!(
                reply["data"],
                payload_hex(&block.root()),
                "{who} at {height}"
            );
            assert_eq!(reply["count"], block.payloads().len(), "{who} at {height}");
        }
        assert_eq!(id_at_height(node, 4).await, None, "{who}");
        let last = node.rpc("timestampvm.getBlock", json!({})).await;
        assert_eq!(last["result"]["id"], e.id.to_string(), "{who}: {last}");
        node.wait_mempool(0).await;
    }

    // No payload is in two accepted blocks, and every proposed payload is in exactly one.
    let mut seen = HashSet::new();
    for block in chain {
        for payload in block.payloads() {
            assert!(
                seen.insert(*payload),
                "payload {} accepted twice",
                Id(*payload)
            );
        }
    }
    let proposed = set(&[p1, p2, q1, r1, r2, s]);
    assert_eq!(
        seen.len(),
        proposed.len() + 1,
        "the proposals and the genesis payload"
    );
    assert!(seen.is_superset(&proposed));
    let in_d = format!("payload is already in accepted block {}", d.id);
    assert_eq!(refused_reason(&n3, &q1).await, in_d);

    // Node 3's quiet config held: R1 and R2 travelled only inside blocks.
    assert_eq!(n3.services.counters().gossip_delivered, 0);

    n1.stop().await;
    n2.stop().await;
    n3.stop().await;
}
