//! Bad input gets a clear error and changes nothing, and the plugin keeps serving. Against the
//! built binary over loopback sockets: malformed block bytes, IDs and blocks that break the
//! verification rules (docs/spec/vectors.md section 2, node-behaviour.md sections 7 and 11),
//! malformed JSON-RPC and HTTP requests (vectors.md section 3.3), a full mempool, malformed gossip
//! and a bad chain config. Fails if a bad call is accepted, answers with the wrong status or text,
//! leaves a trace in the chain or the mempool, answers an error where the node needs an OK status
//! (GetBlock NOT_FOUND, AppGossip), or if the plugin stops serving, turns unhealthy or does not exit
//! cleanly afterwards. Every test is bounded by [`BOUND`].

use crate::common;

use common::*;
use rpcchainvm::ids::checksum4;
use rpcchainvm::pb::vm as pb;
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm_host::{
    ChainParams, HostError, Network, NodeServices, NodeServicesHandle, PluginProcess, VmClient,
};
use serde_json::{json, Value};
use stampvm::chain::{genesis_block, Block, ChainFormat, Id, NodeId};
use stampvm::clock::unix_now;
use std::time::Duration;
use tonic::Code;

/// No test here may take longer than this, whatever the plugin does.
const BOUND: Duration = Duration::from_secs(30);

/// No engine runs in these tests, and a long build interval keeps the builder quiet, so nothing
/// but the test itself touches the mempool or the chain.
const QUIET: &str = r#"{"build-interval-ms": 60000}"#;

/// Deterministic "random" bytes (xorshift64), so a failure reproduces.
fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut seed = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

fn child(parent: Id, height: u64, timestamp: i64, data: [u8; 32]) -> Block {
    Block::single(parent, height, timestamp, data)
}

async fn verify(node: &TestNode, block: &Block) -> Result<pb::BlockVerifyResponse, HostError> {
    node.client
        .block_verify(pb::BlockVerifyRequest {
            bytes: block.encode().to_vec(),
            p_chain_height: None,
        })
        .await
}

async fn accept(node: &TestNode, id: &[u8]) -> Result<(), HostError> {
    node.client
        .block_accept(pb::BlockAcceptRequest { id: id.to_vec() })
        .await
}

/// The last accepted block's ID as JSON-RPC clients see it.
async fn last_accepted_over_http(node: &TestNode) -> String {
    let reply = node.rpc("timestampvm.getBlock", json!({})).await;
    reply["result"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("getBlock answered {reply}"))
        .to_string()
}

/// Health answers OK with the given last accepted height; returns its `health` object.
async fn assert_healthy(node: &TestNode, height: u64) -> Value {
    let health = node.client.health().await.expect("Health OK");
    let details: Value = serde_json::from_slice(&health.details).expect("health is JSON");
    assert_eq!(details["health"]["lastAcceptedHeight"], height, "{details}");
    assert_eq!(details["health"]["actorsAlive"], true, "{details}");
    details["health"].clone()
}

async fn height_one_is_not_found(node: &TestNode) {
    let at_one = node
        .client
        .get_block_id_at_height(pb::GetBlockIdAtHeightRequest { height: 1 })
        .await
        .expect("GetBlockIDAtHeight answers");
    assert_eq!(at_one.err, pb::Error::NotFound as i32, "nothing accepted");
}

#[tokio::test]
async fn malformed_block_bytes_are_refused_by_parse() {
    bounded(BOUND, async {
        let dir = tempfile::tempdir().unwrap();
        let node = start_node("parse", node_id(11), &Network::new(), dir.path(), QUIET).await;
        let genesis = genesis_block(GENESIS).unwrap();
        let good = child(genesis.id(), 1, 1_700_000_000, payload(1));
        let good_bytes = good.encode().to_vec();
        let parse_good = || async {
            let parsed = node
                .client
                .parse_block(pb::ParseBlockRequest {
                    bytes: good_bytes.clone(),
                })
                .await
                .expect("a good ParseBlock still works");
            assert_eq!(parsed.id, good.id().0.to_vec());
            assert_eq!(parsed.height, 1);
        };
        parse_good().await;

        let mut version_one = good_bytes.clone();
        version_one[1] = 1;
        let mut version_max = good_bytes.clone();
        version_max[..2].copy_from_slice(&[0xff, 0xff]);
        let random = garbage(82, 0x5eed);
        assert_ne!(&random[..2], &[0, 0], "the seed gives a non-zero version");
        let mut far_future = good.clone();
        far_future.timestamp = i64::MAX;
        // (name, bytes, what the message must say)
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "truncated (81 bytes)",
                good_bytes[..81].to_vec(),
                "block is 81 bytes, fewer than the 82",
            ),
            (
                "extra (83 bytes)",
                [good_bytes.as_slice(), &[0]].concat(),
                "1 trailing bytes",
            ),
            ("empty", Vec::new(), "block is 0 bytes, fewer than the 82"),
            ("random garbage", random, "unknown codec version"),
            ("short garbage", garbage(40, 7), "block is 40 bytes"),
            (
                "codec version 1 (a batched block on this single-payload chain)",
                version_one,
                "batched block (codec version 1) on a single-payload chain",
            ),
            (
                "codec version 0xffff",
                version_max,
                "unknown codec version 65535",
            ),
            (
                "timestamp beyond protobuf range",
                far_future.encode().to_vec(),
                "outside the range a protobuf Timestamp can carry",
            ),
        ];
        for (name, bytes, says) in &cases {
            let result = node
                .client
                .parse_block(pb::ParseBlockRequest {
                    bytes: bytes.clone(),
                })
                .await;
            let (code, message) = refused(name, result);
            assert_eq!(code, Code::InvalidArgument, "{name}: {message}");
            assert!(
                message.contains(says),
                "{name}: {message:?} should say {says:?}"
            );
            parse_good().await;
        }

        // BatchedParseBlock: one bad entry fails the whole call (the node needs one answer per
        // entry, so a partial answer would be worse), then a good batch still works.
        for (name, bad, _) in &cases {
            let result = node
                .client
                .batched_parse_block(pb::BatchedParseBlockRequest {
                    request: vec![good_bytes.clone(), bad.clone(), genesis.encode().to_vec()],
                })
                .await;
            let (code, message) = refused(&format!("batch with {name}"), result);
            assert_eq!(code, Code::InvalidArgument, "batch with {name}: {message}");
        }
        let batch = node
            .client
            .batched_parse_block(pb::BatchedParseBlockRequest {
                request: vec![good_bytes.clone(), genesis.encode().to_vec()],
            })
            .await
            .expect("a good batch still works");
        assert_eq!(batch.response.len(), 2);
        assert_eq!(batch.response[0].id, good.id().0.to_vec());
        assert_eq!(batch.response[1].id, genesis.id().0.to_vec());

        // Parsing is not verifying: nothing became known.
        assert_eq!(
            get_block_err(&node, good.id()).await,
            pb::Error::NotFound as i32
        );
        height_one_is_not_found(&node).await;
        let health = assert_healthy(&node, 0).await;
        assert_eq!(health["processingBlocks"], 0);
        node.stop().await;
    })
    .await;
}

#[tokio::test]
async fn blocks_that_break_the_rules_are_refused_and_change_nothing() {
    bounded(BOUND, async {
        let dir = tempfile::tempdir().unwrap();
        let node = start_node("verify", node_id(12), &Network::new(), dir.path(), QUIET).await;
        let genesis = genesis_block(GENESIS).unwrap();
        assert_eq!(node.started.last_accepted.id, genesis.id());
        let genesis_cb58 = genesis.id().to_string();
        let now = unix_now();

        // GetBlock: unknown 32-byte ID is NOT_FOUND inside an OK answer; a 5-byte ID is an
        // error status (the node's own bug), not a crash.
        let unknown = Id::sha256(b"bad_input: no such block");
        assert_eq!(
            get_block_err(&node, unknown).await,
            pb::Error::NotFound as i32
        );
        let result = node
            .client
            .get_block(pb::GetBlockRequest { id: vec![1; 5] })
            .await;
        let (code, message) = refused("GetBlock with a 5-byte id", result);
        assert_eq!(code, Code::InvalidArgument, "{message}");
        assert!(message.contains("32 bytes, got 5"), "{message}");
        assert_eq!(get_block_err(&node, genesis.id()).await, 0, "still serving");

        // Blocks that break a rule of vectors.md section 2 (end). Each must leave no trace.
        let cases = [
            (
                "unknown parent",
                child(Id::sha256(b"bad_input: no parent"), 1, now, payload(10)),
                "parent block is unknown",
            ),
            (
                "timestamp an hour ahead",
                // 30 s over the hour, so the plugin's clock being a little later cannot save it.
                child(genesis.id(), 1, now + 3600 + 30, payload(11)),
                "an hour or more ahead",
            ),
            (
                "height 2 on genesis",
                child(genesis.id(), 2, now, payload(12)),
                "height 2 is not parent height + 1 (1)",
            ),
            (
                "height 0 on genesis",
                child(genesis.id(), 0, now, payload(13)),
                "height 0 is not parent height + 1 (1)",
            ),
            (
                "timestamp before the parent's",
                child(genesis.id(), 1, -1, payload(14)),
                "before the parent's timestamp",
            ),
        ];
        for (name, block, says) in &cases {
            let (_, message) = refused(name, verify(&node, block).await);
            assert!(
                message.contains(says),
                "{name}: {message:?} should say {says:?}"
            );
            assert_eq!(
                get_block_err(&node, block.id()).await,
                pb::Error::NotFound as i32,
                "{name}: a refused block is not remembered"
            );
            let (_, message) = refused(
                &format!("accept {name}"),
                accept(&node, &block.id().0).await,
            );
            assert!(message.contains("not processing"), "{name}: {message}");
        }

        // A rejected parent: build one block, verify it, reject it, then verify a child of it.
        assert_eq!(node.propose(&payload(20)).await, json!({"Success": true}));
        let built = node
            .client
            .build_block(pb::BuildBlockRequest {
                p_chain_height: Some(0),
            })
            .await
            .expect("BuildBlock");
        let rejected = Block::decode(&built.bytes, ChainFormat::Single).unwrap();
        assert_eq!(rejected.parent, genesis.id());
        verify(&node, &rejected)
            .await
            .expect("our own block verifies");
        node.client
            .block_reject(pb::BlockRejectRequest {
                id: built.id.clone(),
            })
            .await
            .expect("BlockReject of a processing block");
        let orphan = child(rejected.id(), 2, rejected.timestamp, payload(21));
        let (_, message) = refused("child of a rejected block", verify(&node, &orphan).await);
        assert!(message.contains("parent block was rejected"), "{message}");
        let (_, message) = refused("re-verify a rejected block", verify(&node, &rejected).await);
        assert!(message.contains("was rejected"), "{message}");
        let (_, message) = refused("accept a rejected block", accept(&node, &built.id).await);
        assert!(message.contains("not processing"), "{message}");

        // BlockAccept of an unknown ID, of a parsed-but-unverified block, of a 5-byte ID.
        let (_, message) = refused("accept unknown", accept(&node, &unknown.0).await);
        assert!(message.contains("not processing"), "{message}");
        let unverified = child(genesis.id(), 1, now, payload(22));
        node.client
            .parse_block(pb::ParseBlockRequest {
                bytes: unverified.encode().to_vec(),
            })
            .await
            .expect("parses");
        let (_, message) = refused("accept unverified", accept(&node, &unverified.id().0).await);
        assert!(message.contains("not processing"), "{message}");
        let (code, message) = refused("accept 5-byte id", accept(&node, &[7; 5]).await);
        assert_eq!(code, Code::InvalidArgument, "{message}");

        // Nothing changed: no height 1, genesis still last accepted, nothing processing.
        height_one_is_not_found(&node).await;
        assert_eq!(last_accepted_over_http(&node).await, genesis_cb58);
        let health = assert_healthy(&node, 0).await;
        assert_eq!(health["processingBlocks"], 0, "{health}");

        // And the chain still moves: a good block verifies and is accepted.
        let good = child(genesis.id(), 1, now, payload(23));
        let verified = verify(&node, &good).await.expect("a good block verifies");
        assert_eq!(verified.timestamp.map(|t| t.seconds), Some(now));
        accept(&node, &good.id().0).await.expect("and is accepted");
        let at_one = node
            .client
            .get_block_id_at_height(pb::GetBlockIdAtHeightRequest { height: 1 })
            .await
            .unwrap();
        assert_eq!((at_one.blk_id, at_one.err), (good.id().0.to_vec(), 0));
        assert_eq!(last_accepted_over_http(&node).await, good.id().to_string());

        // A sibling of the accepted block now conflicts with the decided chain.
        let sibling = child(genesis.id(), 1, now, payload(24));
        let (_, message) = refused(
            "sibling of the accepted block",
            verify(&node, &sibling).await,
        );
        assert!(
            message.contains("conflicts with the decided chain"),
            "{message}"
        );
        assert_eq!(last_accepted_over_http(&node).await, good.id().to_string());

        assert_healthy(&node, 1).await;
        node.stop().await;
    })
    .await;
}

/// One HTTP exchange with the node: (status, Content-Type, body).
async fn http(
    method: reqwest::Method,
    url: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, String, String) {
    let mut request = reqwest::Client::new().request(method, url).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.expect("HTTP request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, response.text().await.expect("body"))
}

/// A JSON body posted as `application/json`: the reply must be a 200 JSON answer; returns its text.
async fn post_json(url: &str, body: &str) -> String {
    let (status, content_type, text) = http(
        reqwest::Method::POST,
        url,
        Some("application/json"),
        body.into(),
    )
    .await;
    assert_eq!(status, 200, "{body} -> {text}");
    assert_eq!(content_type, "application/json; charset=utf-8", "{body}");
    assert!(
        text.ends_with('\n'),
        "Go's encoder ends with a newline: {text:?}"
    );
    text
}

/// The `error` object of the reply to `body`.
async fn rpc_error(url: &str, body: &str) -> Value {
    let reply: Value = serde_json::from_str(&post_json(url, body).await).unwrap();
    assert!(reply.get("result").is_none(), "{body} -> {reply}");
    let error = reply["error"].clone();
    assert!(
        error.get("data").is_some(),
        "data is always present: {reply}"
    );
    error
}

fn call(method: &str, params: Value, id: Value) -> String {
    json!({"jsonrpc": "2.0", "method": method, "params": params, "id": id}).to_string()
}

/// A 32-byte-style `data` argument for arbitrary bytes: `0x` + hex + the 4-byte checksum.
fn hex_with_checksum(bytes: &[u8]) -> String {
    format!("0x{}{}", hex::encode(bytes), hex::encode(checksum4(bytes)))
}

#[tokio::test]
async fn bad_json_rpc_gets_go_shaped_errors_and_changes_nothing() {
    bounded(BOUND, async {
        let dir = tempfile::tempdir().unwrap();
        let node = start_node("jsonrpc", node_id(13), &Network::new(), dir.path(), QUIET).await;
        let url = node.rpc_url();
        let genesis_cb58 = node.started.last_accepted.id.to_string();

        // Not JSON at all, empty, truncated: -32700 with the decoder's text, answered with id null.
        // vectors.md 3.3: `data` is the request as far as Go decoded it (nothing, for these
        // bodies). `message` is Go's decoder text there; ours is serde_json's except for `EOF` and
        // `unexpected EOF`, a documented difference (clients match on the code, not the text).
        for (body, message) in [
            ("this is not json", None),
            ("", Some("EOF")),
            (
                r#"{"jsonrpc":"2.0","method":"timestampvm.getBlock""#,
                Some("unexpected EOF"),
            ),
        ] {
            let reply: Value = serde_json::from_str(&post_json(&url, body).await).unwrap();
            assert_eq!(reply["error"]["code"], -32700, "{body:?} -> {reply}");
            assert_eq!(reply["id"], Value::Null, "{reply}");
            assert_eq!(
                reply["error"]["data"],
                json!({"jsonrpc": "", "method": "", "params": null, "id": null}),
                "{reply}"
            );
            let text = reply["error"]["message"].as_str().unwrap();
            assert!(!text.is_empty(), "{reply}");
            if let Some(message) = message {
                assert_eq!(text, message, "{body:?}");
            }
        }

        // An empty batch is not a request either.
        let error = rpc_error(&url, "[]").await;
        assert_eq!(error["code"], -32600, "{error}");

        // jsonrpc 1.0: -32600, the request echoed in `data`.
        let old = r#"{"jsonrpc":"1.0","method":"timestampvm.getBlock","params":{},"id":1}"#;
        let error = rpc_error(&url, old).await;
        assert_eq!(error["code"], -32600);
        assert_eq!(error["message"], "jsonrpc must be 2.0");
        assert_eq!(
            error["data"],
            json!({"jsonrpc":"1.0","method":"timestampvm.getBlock","params":{},"id":1})
        );

        // Method lookup, vectors.md 3.3 word for word.
        let body = call("timestampvm.fooBar", json!({}), json!(1));
        assert_eq!(
            post_json(&url, &body).await,
            "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000,\"message\":\"rpc: can't find method \\\"timestampvm.FooBar\\\"\",\"data\":null},\"id\":1}\n"
        );
        let error = rpc_error(&url, &call("timestampvm.GetBlock", json!({}), json!(1))).await;
        assert_eq!(error["code"], -32000);
        assert_eq!(error["message"], "method must start with a non-uppercase letter");
        let error = rpc_error(&url, &call("foo.bar", json!({}), json!(1))).await;
        assert_eq!(error["message"], "rpc: can't find service \"foo.Bar\"");

        // Bad `data`: vectors.md 3.3's code and message word for word each time (clients match
        // them), `data` saying why in words (Go sends null there), and nothing enters the mempool.
        // A plain 64-digit digest, with or without 0x, is not bad data: src/api/data.rs.
        let good = payload_hex(&payload(30));
        let mut bad_checksum = good.clone();
        let last = if good.ends_with('0') { "1" } else { "0" };
        bad_checksum.replace_range(good.len() - 1.., last);
        let not_hex = format!("0x{}", "zz".repeat(36));
        let bad_data = [
            ("not hex", not_hex, "not a hex digit"),
            ("bad checksum", bad_checksum, "checksum mismatch"),
            ("31 bytes", hex_with_checksum(&[5; 31]), "got 70"),
            ("33 bytes", hex_with_checksum(&[5; 33]), "got 74"),
            ("no 0x prefix", good[2..].to_string(), "without 0x"),
            ("63 hex digits", format!("0x{}", &hex::encode(payload(30))[1..]), "got 63"),
            ("empty", String::new(), "empty"),
        ];
        for (name, data, why) in &bad_data {
            let body = call("timestampvm.proposeBlock", json!({"data": data}), json!(6));
            let reply: Value = serde_json::from_str(&post_json(&url, &body).await).unwrap();
            assert_eq!(reply["id"], 6, "{name}: {reply}");
            let error = &reply["error"];
            assert_eq!(error["code"], -32000, "{name}: {reply}");
            assert_eq!(error["message"], "data must be hex representation of 32 bytes", "{name}");
            let said = error["data"].as_str().unwrap_or_else(|| panic!("{name}: {reply}"));
            assert!(said.contains(why), "{name}: {said:?} does not say {why:?}");
        }
        let error = rpc_error(
            &url,
            &call("timestampvm.proposeBlock", json!({"data": 5}), json!(6)),
        )
        .await;
        assert_eq!(error["code"], -32000);
        assert!(error["message"].as_str().unwrap().starts_with("couldn't unmarshal"));
        assert_eq!(mempool_size(&node).await, 0, "no bad proposal was taken");

        // getBlock: malformed ids are the unmarshal error, an unknown id the database row.
        let unmarshal = "couldn't unmarshal an argument. Ensure arguments are valid and properly formatted. See documentation for example calls";
        let mut bad_cb58 = genesis_cb58.clone();
        let swapped = if bad_cb58.ends_with('2') { "3" } else { "2" };
        bad_cb58.replace_range(bad_cb58.len() - 1.., swapped);
        for id in [json!("not-an-id!"), json!(bad_cb58), json!(""), json!(42)] {
            let error = rpc_error(&url, &call("timestampvm.getBlock", json!({"id": id}), json!(2))).await;
            assert_eq!((error["code"].clone(), error["message"].clone()), (json!(-32000), json!(unmarshal)), "id {id}");
        }
        let unknown = Id::sha256(b"bad_input: unknown block").to_string();
        let body = call("timestampvm.getBlock", json!({"id": unknown}), json!(5));
        assert_eq!(
            post_json(&url, &body).await,
            "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000,\"message\":\"couldn't get block from database. Does it exist?\",\"data\":null},\"id\":5}\n"
        );

        // HTTP level: GET, wrong or missing Content-Type, a body over the limit.
        let get = http(reqwest::Method::GET, &url, None, Vec::new()).await;
        assert_eq!(
            (get.0, get.2.as_str()),
            (405, "rpc: POST method required, received GET")
        );
        let request = call("timestampvm.getBlock", json!({}), json!(1)).into_bytes();
        let text = http(reqwest::Method::POST, &url, Some("text/plain"), request.clone()).await;
        assert_eq!(
            (text.0, text.2.as_str()),
            (415, "rpc: unrecognized Content-Type: text/plain")
        );
        let missing = http(reqwest::Method::POST, &url, None, request.clone()).await;
        assert_eq!(
            (missing.0, missing.2.as_str()),
            (415, "rpc: unrecognized Content-Type: ")
        );
        // Exactly the limit is served (a request padded with whitespace); one byte more is 413.
        let limit = rpcchainvm::jsonrpc::over_http::MAX_BODY_BYTES;
        let mut padded = request.clone();
        padded.resize(limit, b' ');
        let (status, body) = post_raw(&url, "application/json", padded.clone()).await;
        assert_eq!(status, 200);
        let reply: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(reply["result"]["id"], genesis_cb58);
        padded.push(b' ');
        let (status, body) = post_raw(&url, "application/json", padded).await;
        assert_eq!(status, 413, "{body}");
        assert!(body.contains(&limit.to_string()), "{body}");

        // After all that: nothing changed, and a good call still works.
        assert_eq!(mempool_size(&node).await, 0);
        assert_eq!(last_accepted_over_http(&node).await, genesis_cb58);

        // A batch mixing good and bad entries: one answer per entry that is owed one, in order;
        // the good proposal lands, the bad ones do not, the notification gets no answer.
        let batch = format!(
            "[{},{},{},42,{},{}]",
            call("timestampvm.proposeBlock", json!({"data": good}), json!("a")),
            call("timestampvm.proposeBlock", json!({"data": "0x1234"}), json!("b")),
            r#"{"jsonrpc":"1.0","method":"timestampvm.getBlock","id":"c"}"#,
            r#"{"jsonrpc":"2.0","method":"timestampvm.fooBar","params":{}}"#,
            call("timestampvm.getBlock", json!({}), json!("d")),
        );
        let replies: Value = serde_json::from_str(&post_json(&url, &batch).await).unwrap();
        let replies = replies.as_array().expect("a batch answer is an array");
        assert_eq!(replies.len(), 5, "{replies:?}");
        assert_eq!(replies[0], json!({"jsonrpc":"2.0","result":{"Success":true},"id":"a"}));
        assert_eq!(
            replies[1]["error"]["message"],
            "data must be hex representation of 32 bytes"
        );
        assert_eq!(replies[1]["id"], "b");
        assert_eq!((replies[2]["error"]["code"].clone(), replies[2]["id"].clone()), (json!(-32600), json!("c")));
        assert_eq!((replies[3]["error"]["code"].clone(), replies[3]["id"].clone()), (json!(-32700), Value::Null));
        assert_eq!(replies[4]["result"]["id"], genesis_cb58);
        assert_eq!(replies[4]["id"], "d");
        assert_eq!(mempool_size(&node).await, 1, "only the good proposal landed");

        assert_healthy(&node, 0).await;
        node.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_full_mempool_says_so() {
    bounded(BOUND, async {
        let dir = tempfile::tempdir().unwrap();
        let config = r#"{"mempool-capacity": 3, "build-interval-ms": 60000}"#;
        let node = start_node("full", node_id(14), &Network::new(), dir.path(), config).await;

        assert_eq!(node.propose(&payload(40)).await, json!({"Success": true}));
        let duplicate = node.propose(&payload(40)).await;
        assert_eq!(duplicate["Success"], false, "{duplicate}");
        let reason = duplicate["reason"].as_str().expect("a reason");
        assert!(reason.contains("already pending"), "{reason}");
        assert_eq!(node.propose(&payload(41)).await, json!({"Success": true}));
        assert_eq!(node.propose(&payload(42)).await, json!({"Success": true}));

        let full = node.propose(&payload(43)).await;
        assert_eq!(full["Success"], false, "{full}");
        let reason = full["reason"].as_str().expect("a reason");
        assert!(reason.contains("mempool full"), "{reason}");

        let stats = node.rpc("timestampvm.mempoolSize", json!({})).await;
        assert_eq!(stats["result"], json!({"size": 3, "capacity": 3}));
        // Still serving, and the refusal is an answer, not a broken API.
        let health = assert_healthy(&node, 0).await;
        assert_eq!(health["mempool"]["size"], 3, "{health}");
        assert_eq!(health["mempool"]["capacity"], 3, "{health}");
        node.stop().await;
    })
    .await;
}

#[tokio::test]
async fn malformed_gossip_and_peer_messages_are_dropped_without_an_error() {
    bounded(BOUND, async {
        let dir = tempfile::tempdir().unwrap();
        let node = start_node("gossip", node_id(15), &Network::new(), dir.path(), QUIET).await;
        let peer = vec![77u8; 20];
        let gossip = |node_id: Vec<u8>, msg: Vec<u8>| {
            node.client.app_gossip(pb::AppGossipMsg { node_id, msg })
        };
        let mut truncated = stampvm::chain::gossip::encode_gossip(&[payload(50)]);
        truncated.pop();
        let mut bad_version = stampvm::chain::gossip::encode_gossip(&[payload(51)]);
        bad_version[0] = 2;
        let malformed: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
            ("garbage", peer.clone(), garbage(200, 0xbad)),
            ("empty message", peer.clone(), Vec::new()),
            ("zero count", peer.clone(), vec![1, 0, 0]),
            (
                "count 65535, no payloads",
                peer.clone(),
                vec![1, 0xff, 0xff],
            ),
            ("truncated payload", peer.clone(), truncated),
            ("unknown version", peer.clone(), bad_version),
            (
                "5-byte node id, good message",
                vec![9; 5],
                stampvm::chain::gossip::encode_gossip(&[payload(52)]),
            ),
            (
                "empty node id, good message",
                Vec::new(),
                stampvm::chain::gossip::encode_gossip(&[payload(53)]),
            ),
        ];
        for (name, node_id, msg) in malformed {
            // An error status here would make the node shut the chain down (section 11).
            gossip(node_id, msg)
                .await
                .unwrap_or_else(|e| panic!("{name}: AppGossip must answer OK, got {e}"));
        }
        // The other peer messages whose error status would also shut the chain down.
        let client = &node.client;
        for node_id in [vec![9u8; 5], Vec::new(), peer.clone()] {
            let what = format!("node id of {} bytes", node_id.len());
            client
                .app_request(pb::AppRequestMsg {
                    node_id: node_id.clone(),
                    request_id: 1,
                    deadline: None,
                    request: garbage(64, 3),
                })
                .await
                .unwrap_or_else(|e| panic!("AppRequest, {what}: {e}"));
            client
                .app_response(pb::AppResponseMsg {
                    node_id: node_id.clone(),
                    request_id: 999,
                    response: garbage(64, 4),
                })
                .await
                .unwrap_or_else(|e| panic!("AppResponse to nothing, {what}: {e}"));
            client
                .app_request_failed(pb::AppRequestFailedMsg {
                    node_id: node_id.clone(),
                    request_id: 999,
                    error_code: -1,
                    error_message: "\u{fffd}".into(),
                })
                .await
                .unwrap_or_else(|e| panic!("AppRequestFailed for nothing, {what}: {e}"));
            client
                .connected(pb::ConnectedRequest {
                    node_id: node_id.clone(),
                    name: String::new(),
                    major: 0,
                    minor: 0,
                    patch: 0,
                })
                .await
                .unwrap_or_else(|e| panic!("Connected, {what}: {e}"));
            client
                .disconnected(pb::DisconnectedRequest { node_id })
                .await
                .unwrap_or_else(|e| panic!("Disconnected, {what}: {e}"));
        }
        assert_eq!(mempool_size(&node).await, 0);

        // A well-formed message from a peer lands. The gossip actor handles messages in order,
        // so once these two arrive the malformed ones before them are known to have added nothing.
        let good = [payload(54), payload(55)];
        gossip(peer.clone(), stampvm::chain::gossip::encode_gossip(&good))
            .await
            .expect("AppGossip OK");
        node.wait_mempool(2).await;
        for (n, payload) in good.iter().enumerate() {
            let again = node.propose(payload).await;
            assert_eq!(
                again["Success"], false,
                "gossiped payload {n} is pending: {again}"
            );
        }
        assert_eq!(mempool_size(&node).await, 2);

        assert_healthy(&node, 0).await;
        node.stop().await;
    })
    .await;
}

/// A plugin launched and dialled but not initialized, as the node has it before Initialize: its
/// node services serving, and chain parameters on a chain directory under `dir`, for a test that
/// sends Initialize itself (and may send it again after a refusal).
async fn uninitialized_plugin(
    name: &str,
    node: NodeId,
    dir: &std::path::Path,
) -> (
    PluginProcess,
    VmClient,
    ChainParams,
    Shutdown,
    NodeServicesHandle,
) {
    let shutdown = Shutdown::new();
    let (services_addr, services) = NodeServices::serve(node, Network::new(), shutdown.clone())
        .await
        .expect("node services bind");
    let process = launch(name).await;
    let client = process.vm_client().await.expect("dial the plugin");
    let params = ChainParams::new(
        node,
        dir.join("chain"),
        GENESIS.to_vec(),
        services_addr.to_string(),
    );
    (process, client, params, shutdown, services)
}

// On a real node an operator's explicit `metrics-addr` that is taken fails Initialize (argued at
// `metrics_refusal` in crates/stampvm/src/vm/running.rs: a scrape would read whatever answers there), naming
// the key, the address and what to do, and leaves nothing behind: the same process then
// initializes the chain without the key (a store left open would refuse that with RocksDB's
// lock). `stampvm dev` relies on that to start without its metrics endpoint.
#[tokio::test]
async fn a_taken_metrics_addr_fails_initialize_and_leaves_nothing_behind() {
    bounded(BOUND, async {
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = held.local_addr().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (process, client, mut params, shutdown, _services) =
            uninitialized_plugin("metrics-taken", node_id(17), dir.path()).await;
        params.config_bytes = json!({"metrics-addr": taken}).to_string().into_bytes();
        let result = client.initialize(params.initialize_request()).await;
        let (code, message) = refused("a taken metrics-addr", result);
        assert_eq!(code, Code::FailedPrecondition, "{message}");
        assert!(
            message.starts_with(&format!(
                "chain config key `metrics-addr`: cannot serve metrics on {taken}: "
            )) && message.contains("another process listens there"),
            "{message}"
        );

        params.config_bytes = Vec::new();
        client
            .initialize(params.initialize_request())
            .await
            .expect("Initialize without the key, on the same store");
        stop_plugin(&process, &client, &shutdown).await;
        drop(held);
    })
    .await;
}

#[tokio::test]
async fn a_bad_chain_config_fails_initialize_and_a_good_one_then_works() {
    bounded(BOUND, async {
        let dir = tempfile::tempdir().unwrap();
        let (process, client, mut params, shutdown, _services) =
            uninitialized_plugin("config", node_id(16), dir.path()).await;

        // (config, what the error must name)
        for (config, names) in [
            (r#"{"mempool-capacty": 1}"#, "mempool-capacty"),
            (r#"{"mempool-capacity": 0}"#, "mempool-capacity"),
            (r#"{"build-interval-ms": "fast"}"#, "invalid type"),
            ("not json", "not valid JSON"),
        ] {
            params.config_bytes = config.as_bytes().to_vec();
            let result = client.initialize(params.initialize_request()).await;
            let (code, message) = refused(config, result);
            assert_eq!(code, Code::InvalidArgument, "{config}: {message}");
            assert!(
                message.contains(names),
                "{config}: {message:?} should name {names:?}"
            );
        }

        // The same process then accepts a correct Initialize, with that config in force.
        params.config_bytes = br#"{"mempool-capacity": 1}"#.to_vec();
        let initialized = client
            .initialize(params.initialize_request())
            .await
            .expect("a correct Initialize after the refused ones");
        assert_eq!(
            initialized.last_accepted_id,
            genesis_block(GENESIS).unwrap().id().0.to_vec()
        );
        let health = client.health().await.expect("Health OK");
        let details: Value = serde_json::from_slice(&health.details).unwrap();
        assert_eq!(
            details["health"]["mempool"]["capacity"], 1,
            "the corrected config is in force: {details}"
        );

        stop_plugin(&process, &client, &shutdown).await;
    })
    .await;
}
