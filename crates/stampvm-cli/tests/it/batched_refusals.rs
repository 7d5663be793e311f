//! Batched blocks that break a rule are refused by every node and change nothing. Three plugin
//! processes of one batched chain (`maxBatch` 4) receive hand-built blocks exactly as the node
//! passes a peer's block on: ParseBlock, then BlockVerify. The rules (src/chain/batched.rs,
//! src/actors/chain.rs): the root is the payloads' Merkle root; no payload twice in a block;
//! 1 to `maxBatch` payloads; no payload already in an accepted block or in a processing ancestor;
//! only codec-version-1 blocks on a batched chain, and none on a single-payload chain.
//!
//! Fails if any node verifies (or, for the other format, parses) a bad block, if the refusal does
//! not name the rule, if a refused block leaves a trace (known to GetBlock, acceptable, a
//! different last accepted block or processing count), or if a block that obeys the rules (the
//! bad one, corrected) is then refused. Every test is bounded by [`BOUND`].

use crate::common;

use common::*;
use rpcchainvm::pb::vm as pb;
use rpcchainvm_host::{HostError, Network};
use serde_json::{json, Value};
use stampvm::chain::{genesis_block, parse_genesis, Batch, Block, Body, ChainFormat, Id, Payload};
use stampvm::clock::unix_now;
use std::time::Duration;
use tonic::Code;

const GENESIS_JSON: &[u8] = br#"{"format":"batched","data":"refusals","maxBatch":4}"#;
const FORMAT: ChainFormat = ChainFormat::Batched { max_batch: 4 };

/// No engine runs here, and a long build interval keeps the builder quiet: only the test
/// touches the chain.
const QUIET: &str = r#"{"build-interval-ms": 60000}"#;

/// No test here may take longer than this, whatever the plugin does.
const BOUND: Duration = Duration::from_secs(20);

/// Three nodes of the `maxBatch` 4 chain, started concurrently.
async fn three_batched_nodes(test: &str, dirs: &[tempfile::TempDir; 3]) -> [TestNode; 3] {
    let network = Network::new();
    let start = |n: u8| {
        let (network, dir) = (&network, dirs[usize::from(n) - 1].path());
        let name = format!("{test}-{n}");
        async move {
            start_node_with_genesis(&name, node_id(n), network, dir, GENESIS_JSON, QUIET).await
        }
    };
    let (a, b, c) = tokio::join!(start(1), start(2), start(3));
    let genesis = parse_genesis(GENESIS_JSON).unwrap().block();
    for node in [&a, &b, &c] {
        assert_eq!(
            node.started.last_accepted.id,
            genesis.id(),
            "batched genesis"
        );
    }
    [a, b, c]
}

fn batched(parent: Id, height: u64, timestamp: i64, payloads: &[Payload]) -> Block {
    Block::batched(parent, height, timestamp, payloads.to_vec()).expect("at least one payload")
}

/// `block` with its root replaced.
fn with_root(block: &Block, root: [u8; 32]) -> Block {
    Block {
        body: Body::Batched(Batch {
            root,
            payloads: block.payloads().into(),
        }),
        ..block.clone()
    }
}

async fn parse(node: &TestNode, bytes: Vec<u8>) -> Result<pb::ParseBlockResponse, HostError> {
    node.client
        .parse_block(pb::ParseBlockRequest { bytes })
        .await
}

async fn verify(node: &TestNode, block: &Block) -> Result<pb::BlockVerifyResponse, HostError> {
    node.client
        .block_verify(pb::BlockVerifyRequest {
            bytes: block.encode(),
            p_chain_height: None,
        })
        .await
}

/// A block that obeys the rules verifies on every node.
async fn verifies_everywhere(nodes: &[TestNode], what: &str, block: &Block) {
    for node in nodes {
        let verified = verify(node, block)
            .await
            .unwrap_or_else(|e| panic!("{}: {what} should verify: {e}", node.node_id));
        assert_eq!(verified.timestamp.map(|t| t.seconds), Some(block.timestamp));
    }
}

/// The node's decision on a block every node verified: preference, accept, on every node.
async fn accept_everywhere(nodes: &[TestNode], block: &Block) {
    for node in nodes {
        let id = block.id().0.to_vec();
        node.client
            .set_preference(pb::SetPreferenceRequest { id: id.clone() })
            .await
            .expect("SetPreference");
        node.client
            .block_accept(pb::BlockAcceptRequest { id })
            .await
            .unwrap_or_else(|e| panic!("{}: BlockAccept failed: {e}", node.node_id));
    }
}

async fn reject_everywhere(nodes: &[TestNode], block: &Block) {
    for node in nodes {
        node.client
            .block_reject(pb::BlockRejectRequest {
                id: block.id().0.to_vec(),
            })
            .await
            .unwrap_or_else(|e| panic!("{}: BlockReject failed: {e}", node.node_id));
    }
}

/// What a refused block must leave unchanged: the last accepted block and the number of
/// processing blocks.
#[derive(Debug, PartialEq)]
struct Snapshot {
    last_accepted: String,
    height: u64,
    processing: u64,
}

async fn snapshot(node: &TestNode) -> Snapshot {
    let reply = node.rpc("timestampvm.getBlock", json!({})).await;
    let last_accepted = reply["result"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: getBlock answered {reply}", node.node_id))
        .to_string();
    let health = node.client.health().await.expect("Health OK");
    let details: Value = serde_json::from_slice(&health.details).expect("health is JSON");
    let health = &details["health"];
    assert_eq!(health["actorsAlive"], true, "{details}");
    Snapshot {
        last_accepted,
        height: health["lastAcceptedHeight"].as_u64().expect("height"),
        processing: health["processingBlocks"].as_u64().expect("processing"),
    }
}

/// The node's path for a peer's block that breaks a verification rule, on every node: it
/// parses (the layout is fine), BlockVerify refuses it with a message containing `says`, and it
/// leaves no trace.
async fn refused_by_verify_everywhere(nodes: &[TestNode], name: &str, bad: &Block, says: &str) {
    let id = bad.id();
    let decoded = Block::decode(&bad.encode(), FORMAT);
    assert_eq!(
        decoded.as_ref(),
        Ok(bad),
        "{name}: a well-formed batched block"
    );
    for node in nodes {
        let who = node.node_id;
        let before = snapshot(node).await;
        let parsed = parse(node, bad.encode())
            .await
            .unwrap_or_else(|e| panic!("{who}: {name}: the layout is valid, ParseBlock: {e}"));
        assert_eq!(parsed.id, id.0.to_vec(), "{who}: {name}");
        let (code, message) = refused(&format!("{who}: {name}"), verify(node, bad).await);
        assert_eq!(code, Code::Unknown, "{who}: {name}: {message}");
        assert!(
            message.contains(says),
            "{who}: {name}: {message:?} should say {says:?}"
        );
        assert_no_trace(node, name, id, &before).await;
    }
}

/// A refused block is not known, cannot be accepted, and changed nothing.
async fn assert_no_trace(node: &TestNode, name: &str, id: Id, before: &Snapshot) {
    let who = node.node_id;
    assert_eq!(
        get_block_err(node, id).await,
        pb::Error::NotFound as i32,
        "{who}: {name}: a refused block is not remembered"
    );
    let accepted = node
        .client
        .block_accept(pb::BlockAcceptRequest { id: id.0.to_vec() })
        .await;
    let (_, message) = refused(&format!("{who}: accept {name}"), accepted);
    assert!(
        message.contains("not processing"),
        "{who}: {name}: {message}"
    );
    assert_eq!(
        &snapshot(node).await,
        before,
        "{who}: {name} changed nothing"
    );
}

#[tokio::test]
async fn batch_rules_are_refused_on_every_node() {
    bounded(BOUND, async {
        let dirs = [(); 3].map(|_| tempfile::tempdir().unwrap());
        let nodes = three_batched_nodes("rules", &dirs).await;
        let genesis = parse_genesis(GENESIS_JSON).unwrap().block().id();
        let now = unix_now();
        let p: Vec<Payload> = (0..16).map(payload).collect();

        // Each bad block next to the same block corrected, a sibling on genesis that verifies.
        let two = batched(genesis, 1, now, &[p[0], p[1]]);
        let reordered_root = batched(genesis, 1, now, &[p[1], p[0]]).root();
        let empty_root = Id::sha256(b"").0; // RFC 6962: the hash of an empty tree
        let cases = [
            (
                "wrong root (the root of the payloads in another order)",
                with_root(&two, reordered_root),
                "the Merkle root does not match the payloads".to_string(),
                two.clone(),
            ),
            (
                "wrong root (all zeros)",
                with_root(&two, [0; 32]),
                "the Merkle root does not match the payloads".to_string(),
                two.clone(),
            ),
            (
                "a payload twice in the block",
                batched(genesis, 1, now, &[p[2], p[3], p[2]]),
                format!("payload {} appears more than once in the block", Id(p[2])),
                batched(genesis, 1, now, &[p[2], p[3]]),
            ),
            (
                "5 payloads on a maxBatch 4 chain",
                batched(genesis, 1, now, &p[4..9]),
                "5 payloads, more than this chain's maximum of 4".to_string(),
                batched(genesis, 1, now, &p[4..8]),
            ),
            (
                "an empty batch (count 0)",
                Block {
                    parent: genesis,
                    height: 1,
                    timestamp: now,
                    body: Body::Batched(Batch {
                        root: empty_root,
                        payloads: Vec::new().into(),
                    }),
                },
                "a batched block carries at least one payload".to_string(),
                batched(genesis, 1, now, &[p[9]]),
            ),
        ];
        let mut corrected = Vec::new();
        for (name, bad, says, good) in &cases {
            assert_eq!(bad.height, 1, "{name}: only the batch rule is broken");
            refused_by_verify_everywhere(&nodes, name, bad, says).await;
            verifies_everywhere(&nodes, &format!("{name}, corrected"), good).await;
            if !corrected.contains(good) {
                corrected.push(good.clone());
            }
        }
        let empty = cases[4].1.encode();
        assert_eq!(empty.len(), 86, "header only");
        assert_eq!(&empty[82..86], &[0, 0, 0, 0], "count 0");

        // A single-payload (codec 0) block on this batched chain is not a block of the chain:
        // ParseBlock refuses it (so does BlockVerify, and a BatchedParseBlock holding it).
        let single = Block::single(genesis, 1, now, p[10]);
        let says = "a single-payload block (codec version 0) on a batched chain";
        let good = batched(genesis, 1, now, &[p[10]]);
        for node in &nodes {
            let who = node.node_id;
            let before = snapshot(node).await;
            let (code, message) = refused("codec 0 ParseBlock", parse(node, single.encode()).await);
            assert_eq!(code, Code::InvalidArgument, "{who}: {message}");
            assert!(
                message.contains(says),
                "{who}: {message:?} should say {says:?}"
            );
            let (code, message) = refused("codec 0 BlockVerify", verify(node, &single).await);
            assert_eq!(code, Code::InvalidArgument, "{who}: {message}");
            assert!(
                message.contains(says),
                "{who}: {message:?} should say {says:?}"
            );
            let batch = node
                .client
                .batched_parse_block(pb::BatchedParseBlockRequest {
                    request: vec![good.encode(), single.encode()],
                })
                .await;
            let (code, message) = refused("codec 0 in BatchedParseBlock", batch);
            assert_eq!(code, Code::InvalidArgument, "{who}: {message}");
            assert_no_trace(node, "codec 0 block", single.id(), &before).await;
        }
        verifies_everywhere(&nodes, "the codec 0 block's payload, batched", &good).await;
        corrected.push(good);

        // The chain still moves: one corrected block is accepted, its siblings rejected.
        let (winner, losers) = corrected.split_first().unwrap();
        accept_everywhere(&nodes, winner).await;
        for loser in losers {
            reject_everywhere(&nodes, loser).await;
        }
        for node in &nodes {
            let now = snapshot(node).await;
            assert_eq!(
                now.last_accepted,
                winner.id().to_string(),
                "{}",
                node.node_id
            );
            assert_eq!((now.height, now.processing), (1, 0), "{}", node.node_id);
        }
        for node in nodes {
            node.stop().await;
        }
    })
    .await;
}

#[tokio::test]
async fn payloads_already_included_are_refused_on_every_node() {
    bounded(BOUND, async {
        let dirs = [(); 3].map(|_| tempfile::tempdir().unwrap());
        let nodes = three_batched_nodes("included", &dirs).await;
        let genesis = parse_genesis(GENESIS_JSON).unwrap().block();
        let now = unix_now();
        let p: Vec<Payload> = (100..120).map(payload).collect();
        let included = |payload: &Payload| {
            format!(
                "payload {} is already in an accepted block or in a block this one builds on",
                Id(*payload)
            )
        };

        // Height 1 = {p0, p1}, accepted everywhere.
        let one = batched(genesis.id(), 1, now, &[p[0], p[1]]);
        verifies_everywhere(&nodes, "height 1", &one).await;
        accept_everywhere(&nodes, &one).await;

        // A child repeating a payload of the accepted block; one repeating the genesis payload.
        let genesis_payload = genesis.payloads()[0];
        for (name, repeated) in [
            ("a payload of the accepted tip", p[1]),
            ("the genesis payload", genesis_payload),
        ] {
            let bad = batched(one.id(), 2, now, &[p[2], repeated]);
            refused_by_verify_everywhere(&nodes, name, &bad, &included(&repeated)).await;
        }

        // Height 2 = {p2, p3}, verified, not decided: its payloads bind its descendants.
        let two = batched(one.id(), 2, now, &[p[2], p[3]]);
        verifies_everywhere(&nodes, "height 2 (processing)", &two).await;
        // A sibling may share payloads with it: only ancestors count.
        let sibling = batched(one.id(), 2, now, &[p[3], p[2], p[4]]);
        verifies_everywhere(&nodes, "a sibling sharing payloads", &sibling).await;

        let in_parent = batched(two.id(), 3, now, &[p[5], p[3]]);
        let name = "a payload of the processing parent";
        refused_by_verify_everywhere(&nodes, name, &in_parent, &included(&p[3])).await;
        let three = batched(two.id(), 3, now, &[p[5]]);
        verifies_everywhere(&nodes, "height 3, corrected", &three).await;

        // Further down: the processing grandparent, and the accepted block under both.
        for (name, repeated) in [
            ("a payload of the processing grandparent", p[2]),
            (
                "a payload of the accepted block under processing ones",
                p[0],
            ),
        ] {
            let bad = batched(three.id(), 4, now, &[p[6], repeated]);
            refused_by_verify_everywhere(&nodes, name, &bad, &included(&repeated)).await;
        }
        let four = batched(three.id(), 4, now, &[p[6], p[4]]);
        verifies_everywhere(
            &nodes,
            "height 4 (p4 is only in a sibling of height 2)",
            &four,
        )
        .await;

        // Decide: 2 accepted (its sibling rejected), then 3 and 4. The payloads are accepted now,
        // and a child of the new tip repeating one is refused by the accepted-block rule.
        accept_everywhere(&nodes, &two).await;
        reject_everywhere(&nodes, &sibling).await;
        accept_everywhere(&nodes, &three).await;
        accept_everywhere(&nodes, &four).await;
        for node in &nodes {
            let now = snapshot(node).await;
            assert_eq!(now.last_accepted, four.id().to_string(), "{}", node.node_id);
            assert_eq!((now.height, now.processing), (4, 0), "{}", node.node_id);
        }
        let bad = batched(four.id(), 5, now, &[p[7], p[3]]);
        let name = "a payload accepted at height 2, on the tip at 4";
        refused_by_verify_everywhere(&nodes, name, &bad, &included(&p[3])).await;
        let five = batched(four.id(), 5, now, &[p[7]]);
        verifies_everywhere(&nodes, "height 5", &five).await;
        accept_everywhere(&nodes, &five).await;

        for node in nodes {
            node.stop().await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_batched_block_is_refused_on_a_single_payload_chain() {
    bounded(BOUND, async {
        let dirs = [(); 3].map(|_| tempfile::tempdir().unwrap());
        let network = Network::new();
        let start = |n: u8| {
            let (network, dir) = (&network, dirs[usize::from(n) - 1].path());
            let name = format!("single-{n}");
            async move { start_node(&name, node_id(40 + n), network, dir, QUIET).await }
        };
        let (a, b, c) = tokio::join!(start(1), start(2), start(3));
        let genesis = genesis_block(GENESIS).unwrap();
        let now = unix_now();
        let says = "a batched block (codec version 1) on a single-payload chain";
        let good = Block::single(genesis.id(), 1, now, payload(200));
        for node in [&a, &b, &c] {
            let who = node.node_id;
            assert_eq!(node.started.last_accepted.id, genesis.id(), "raw genesis");
            // A batch of several, and a batch of one: neither is a block of this chain.
            for payloads in [vec![payload(200), payload(201)], vec![payload(200)]] {
                let bad = batched(genesis.id(), 1, now, &payloads);
                let name = format!("a batch of {} on a single-payload chain", payloads.len());
                let before = snapshot(node).await;
                let (code, message) = refused(&name, parse(node, bad.encode()).await);
                assert_eq!(code, Code::InvalidArgument, "{who}: {name}: {message}");
                assert!(
                    message.contains(says),
                    "{who}: {message:?} should say {says:?}"
                );
                let (code, message) = refused(&name, verify(node, &bad).await);
                assert_eq!(code, Code::InvalidArgument, "{who}: {name}: {message}");
                assert!(
                    message.contains(says),
                    "{who}: {message:?} should say {says:?}"
                );
                assert_no_trace(node, &name, bad.id(), &before).await;
            }
            verify(node, &good)
                .await
                .unwrap_or_else(|e| panic!("{who}: a single-payload block verifies: {e}"));
        }
        for node in [a, b, c] {
            node.stop().await;
        }
    })
    .await;
}
