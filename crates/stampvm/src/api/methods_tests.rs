//! Every row of docs/spec/vectors.md section 3, byte for byte, through `handle_body` over an
//! in-memory backend; then what we add to Go: batches, encodings, the extra methods. A failure
//! shows the body we sent and the reply we got.

use super::*;
use crate::api::data::DataError;
use crate::api::memory_backend::{MemoryBackend, MANUSCRIPT};
use crate::api::proof_json::ProofJson;
/// [`MANUSCRIPT`] in the Go reference's hex form: the child block's data (vectors.md 3.1).
const MANUSCRIPT_HEX: &str =
    "0x8f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941cc82d1c2";
const GENESIS_ID: &str = "26YwkG2RtzBa9pP5pj9qDvjYbw19PtF7ajT75hDZ3FTs4Waurp";
const CHILD_ID: &str = "2C7r6YFmQbZpRNEbqk9Mspqx9hGdZYSTWWg8RwHY4rt3x79rxM";
/// A valid CB58 ID that no test chain holds (vectors.md 1: `timestampvm` zero-padded).
const UNKNOWN_ID: &str = "tGas3T58KzdjcJ2iKSyiYsWiqYctRXaPTqBCA11BqEkNg8kPc";
const GENESIS_RESULT: &str = r#"{"timestamp":"0","data":"0x68656c6c6f000000000000000000000000000000000000000000000000000000f0fcde20","height":"0","id":"26YwkG2RtzBa9pP5pj9qDvjYbw19PtF7ajT75hDZ3FTs4Waurp","parentID":"11111111111111111111111111111111LpoYY"}"#;
const CHILD_RESULT: &str = r#"{"timestamp":"1700000000","data":"0x8f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941cc82d1c2","height":"1","id":"2C7r6YFmQbZpRNEbqk9Mspqx9hGdZYSTWWg8RwHY4rt3x79rxM","parentID":"26YwkG2RtzBa9pP5pj9qDvjYbw19PtF7ajT75hDZ3FTs4Waurp"}"#;
const BAD_PARAMS: &str = "couldn't unmarshal an argument. Ensure arguments are valid and properly formatted. See documentation for example calls";

#[test]
fn the_manuscript_vector_is_the_test_chains_payload() {
    assert_eq!(
        crate::api::data::parse_payload(MANUSCRIPT_HEX).unwrap(),
        MANUSCRIPT
    );
}

/// The reply body as text, `None` when nothing is owed.
async fn call(backend: &MemoryBackend, body: &str) -> Option<String> {
    let reply = handle_body(backend, body.as_bytes()).await?;
    let text = String::from_utf8(reply).expect("replies are UTF-8");
    assert!(
        text.ends_with('\n'),
        "no trailing newline after {body}: {text}"
    );
    Some(text.trim_end_matches('\n').to_owned())
}

fn request(method: &str, params: &str, id: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","method":"{method}","params":{params},"id":{id}}}"#)
}

fn error_reply(code: i64, message: &str, id: &str) -> String {
    let message = serde_json::to_string(message).unwrap();
    format!(
        r#"{{"jsonrpc":"2.0","error":{{"code":{code},"message":{message},"data":null}},"id":{id}}}"#
    )
}

/// The answer to unreadable `data`: Go's code and message word for word, and why in `data`.
fn bad_data_reply(why: DataError, id: &str) -> String {
    let data = serde_json::to_string(&why.to_string()).unwrap();
    format!(
        r#"{{"jsonrpc":"2.0","error":{{"code":-32000,"message":"data must be hex representation of 32 bytes","data":{data}}},"id":{id}}}"#
    )
}

async fn check(backend: &MemoryBackend, body: &str, expected: &str) {
    assert_eq!(
        call(backend, body).await.as_deref(),
        Some(expected),
        "for {body}"
    );
}

// vectors.md 3.1
#[tokio::test]
async fn propose_block_vector() {
    let backend = MemoryBackend::genesis_only();
    check(
        &backend,
        &format!(r#"{{"jsonrpc":"2.0","method":"timestampvm.proposeBlock","params":{{"data":"{MANUSCRIPT_HEX}"}},"id":1}}"#),
        r#"{"jsonrpc":"2.0","result":{"Success":true},"id":1}"#,
    )
    .await;
    assert_eq!(
        backend.mempool(),
        vec![parse_payload(MANUSCRIPT_HEX).unwrap()]
    );
}

/// Beyond Go: a plain digest (what `sha256sum` prints), with or without `0x`, proposes the same
/// 32 bytes as Go's checksummed form; a second proposal of them is the duplicate it is.
#[tokio::test]
async fn plain_hex_digest_proposes_the_same_payload() {
    let digest = &MANUSCRIPT_HEX[2..66];
    for data in [digest.to_owned(), format!("0x{digest}")] {
        let backend = MemoryBackend::genesis_only();
        let params = format!(r#"{{"data":"{data}"}}"#);
        check(
            &backend,
            &request("timestampvm.proposeBlock", &params, "1"),
            r#"{"jsonrpc":"2.0","result":{"Success":true},"id":1}"#,
        )
        .await;
        assert_eq!(backend.mempool(), vec![MANUSCRIPT], "{data}");
        let again = format!(r#"{{"data":"{MANUSCRIPT_HEX}"}}"#);
        let reply = call(&backend, &request("timestampvm.proposeBlock", &again, "2")).await;
        assert!(reply.unwrap().contains(r#""Success":false"#), "{data}");
    }
}

// vectors.md 3.2
#[tokio::test]
async fn get_block_vectors() {
    let backend = MemoryBackend::single();
    let by_id = format!(r#"{{"id":"{CHILD_ID}"}}"#);
    let expected = format!(r#"{{"jsonrpc":"2.0","result":{CHILD_RESULT},"id":2}}"#);
    check(
        &backend,
        &request("timestampvm.getBlock", &by_id, "2"),
        &expected,
    )
    .await;
    // params as a one-element array holding the object
    let wrapped = format!("[{by_id}]");
    check(
        &backend,
        &request("timestampvm.getBlock", &wrapped, "2"),
        &expected,
    )
    .await;

    let genesis_only = MemoryBackend::genesis_only();
    let expected = format!(r#"{{"jsonrpc":"2.0","result":{GENESIS_RESULT},"id":4}}"#);
    for params in ["{}", r#"{"id":null}"#, "[]", "[{}]", "null"] {
        check(
            &genesis_only,
            &request("timestampvm.getBlock", params, "4"),
            &expected,
        )
        .await;
    }
    let no_params = r#"{"jsonrpc":"2.0","method":"timestampvm.getBlock","id":4}"#;
    check(&genesis_only, no_params, &expected).await;
    // By ID the genesis is found too.
    let by_genesis = format!(r#"{{"id":"{GENESIS_ID}"}}"#);
    check(
        &genesis_only,
        &request("timestampvm.getBlock", &by_genesis, "4"),
        &expected,
    )
    .await;
}

// vectors.md 3.3, one row after another
#[tokio::test]
async fn error_vectors() {
    let backend = MemoryBackend::single();
    let unknown = format!(r#"{{"id":"{UNKNOWN_ID}"}}"#);
    check(
        &backend,
        &request("timestampvm.getBlock", &unknown, "5"),
        r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"couldn't get block from database. Does it exist?","data":null},"id":5}"#,
    )
    .await;

    // Go's row, except that `data` says why (Go sends null there).
    let short = MANUSCRIPT_HEX[..64].to_owned();
    let bad_sum = format!("{}00000000", &MANUSCRIPT_HEX[..66]);
    let no_prefix = MANUSCRIPT_HEX[2..].to_owned();
    let refusals = [
        (short, DataError::HexLength { found: 62 }),
        (bad_sum, DataError::Checksum),
        (no_prefix, DataError::MissingPrefix),
        (String::new(), DataError::Empty),
        ("0x".into(), DataError::HexLength { found: 0 }),
    ];
    for (data, why) in refusals {
        let params = format!(r#"{{"data":"{data}"}}"#);
        check(
            &backend,
            &request("timestampvm.proposeBlock", &params, "6"),
            &bad_data_reply(why, "6"),
        )
        .await;
    }
    for params in ["{}", r#"{"data":null}"#] {
        check(
            &backend,
            &request("timestampvm.proposeBlock", params, "6"),
            &bad_data_reply(DataError::Empty, "6"),
        )
        .await;
    }

    let bad_params = error_reply(-32000, BAD_PARAMS, "7");
    for params in [
        r#"{"id":"not-cb58"}"#,
        r#"{"id":""}"#,
        r#"{"id":"1c7hwa"}"#,
        r#"{"id":5}"#,
        r#""x""#,
        "[5]",
        r#"[["x"]]"#,
        r#"{"id":null,"encoding":"base64"}"#,
    ] {
        check(
            &backend,
            &request("timestampvm.getBlock", params, "7"),
            &bad_params,
        )
        .await;
    }
    for params in [r#"{"data":5}"#, r#"["0x00"]"#] {
        check(
            &backend,
            &request("timestampvm.proposeBlock", params, "7"),
            &bad_params,
        )
        .await;
    }

    let cases = [
        (
            "timestampvm.GetBlock",
            "method must start with a non-uppercase letter",
        ),
        (
            "timestampvm.fooBar",
            r#"rpc: can't find method "timestampvm.FooBar""#,
        ),
        ("foo.bar", r#"rpc: can't find service "foo.Bar""#),
        (
            "getBlock",
            r#"rpc: service/method request ill-formed: "getBlock""#,
        ),
    ];
    for (method, message) in cases {
        let expected = error_reply(-32000, message, r#""s""#);
        check(&backend, &request(method, "{}", r#""s""#), &expected).await;
    }

    let parse = call(&backend, "{not json").await.unwrap();
    assert!(
        parse.starts_with(r#"{"jsonrpc":"2.0","error":{"code":-32700,"message":""#)
            && parse.ends_with(
                r#"","data":{"jsonrpc":"","method":"","params":null,"id":null}},"id":null}"#
            ),
        "{parse}"
    );
    check(
        &backend,
        r#"{"jsonrpc":"1.0","method":"timestampvm.getBlock","id":9}"#,
        r#"{"jsonrpc":"2.0","error":{"code":-32600,"message":"jsonrpc must be 2.0","data":{"jsonrpc":"1.0","method":"timestampvm.getBlock","params":null,"id":9}},"id":9}"#,
    )
    .await;
}

/// An ID longer than any CB58 ID (50 characters) is refused by its length, with an error saying
/// so; at 50 characters and below, IDs are decoded as before (Go's error for a malformed one).
#[tokio::test]
async fn over_long_ids_are_refused_unread() {
    let backend = MemoryBackend::single();
    let long = format!(r#"{{"id":"{}"}}"#, "2".repeat(300_000));
    check(
        &backend,
        &request("timestampvm.getBlock", &long, "1"),
        &error_reply(
            -32000,
            "id is 300000 bytes long, longer than any CB58 block ID (50 characters)",
            "1",
        ),
    )
    .await;
    let fifty = format!(r#"{{"id":"{}"}}"#, "1".repeat(50));
    check(
        &backend,
        &request("timestampvm.getBlock", &fifty, "2"),
        &error_reply(-32000, BAD_PARAMS, "2"),
    )
    .await;
    // Over-long payload text (either form) is bad data, as any other.
    let too_long = crate::chain::Cb58Error::TooLong {
        expected: 32,
        max: 50,
        found: 300_000,
    };
    let long = [
        ("2".repeat(300_000), DataError::Cb58(too_long)),
        (
            format!("0x{}", "0".repeat(300_000)),
            DataError::HexLength { found: 300_000 },
        ),
    ];
    for (data, why) in long {
        let params = format!(r#"{{"data":"{data}"}}"#);
        check(
            &backend,
            &request("timestampvm.proposeBlock", &params, "3"),
            &bad_data_reply(why, "3"),
        )
        .await;
    }
}

/// Once a batch's replies pass [`jsonrpc::MAX_BATCH_REPLY_BYTES`], the remaining entries are not
/// run: each gets the -32003 "send again" error, and their proposals do not happen.
#[tokio::test]
async fn a_full_batch_reply_stops_running_entries() {
    let backend = MemoryBackend::genesis_only();
    // 16,384 empty items: ~50 KB of request, ~1.5 MB of item refusals in the reply.
    let junk = format!(
        r#"{{"data":[{}]}}"#,
        vec![r#""""#; MAX_PROPOSE_BATCH].join(",")
    );
    let junk = request("timestampvm.proposeBatch", &junk, "0");
    let late = format!(r#"{{"data":"{MANUSCRIPT_HEX}"}}"#);
    let late = request("timestampvm.proposeBlock", &late, r#""late""#);
    let body = format!("[{junk},{junk},{junk},{junk},{late}]");
    let reply = handle_body(&backend, body.as_bytes()).await.unwrap();
    assert!(
        reply.len() < jsonrpc::MAX_BATCH_REPLY_BYTES + 2_000_000,
        "{} bytes",
        reply.len()
    );
    let replies: Vec<serde_json::Value> = serde_json::from_slice(&reply).unwrap();
    assert_eq!(replies.len(), 5);
    let ran = replies.iter().filter(|r| r.get("result").is_some()).count();
    assert_eq!(ran, 3, "three junk entries fill the reply past 4 MiB");
    let full = serde_json::json!({"code": -32003, "message": EnvelopeError::BatchReplyFull.to_string(), "data": null});
    assert_eq!(replies[3]["error"], full);
    assert_eq!(
        (&replies[4]["error"], &replies[4]["id"]),
        (&full, &serde_json::json!("late"))
    );
    assert_eq!(
        backend.mempool().len(),
        0,
        "an entry not run proposed nothing"
    );
}

#[tokio::test]
async fn notifications_run_but_get_no_reply() {
    let backend = MemoryBackend::genesis_only();
    let body = format!(
        r#"{{"jsonrpc":"2.0","method":"timestampvm.proposeBlock","params":{{"data":"{MANUSCRIPT_HEX}"}}}}"#
    );
    assert_eq!(call(&backend, &body).await, None);
    assert_eq!(
        backend.mempool().len(),
        1,
        "the notification's proposal was dropped"
    );
    // A failing notification stays silent too (gorilla writes nothing without an id).
    let failing = r#"{"jsonrpc":"2.0","method":"timestampvm.nope"}"#;
    assert_eq!(call(&backend, failing).await, None);
    assert_eq!(call(&backend, &format!("[{body},{failing}]")).await, None);
}

#[tokio::test]
async fn batches_answer_in_order_and_skip_notifications() {
    let backend = MemoryBackend::single();
    let body = format!(
        r#"[{},{{"jsonrpc":"2.0","method":"timestampvm.lastAccepted"}},{},7]"#,
        request("timestampvm.lastAccepted", "{}", "\"a\""),
        request("timestampvm.mempoolSize", "[]", "null"),
    );
    let expected = format!(
        r#"[{{"jsonrpc":"2.0","result":{{"id":"{CHILD_ID}","height":"1"}},"id":"a"}},{{"jsonrpc":"2.0","result":{{"size":0,"capacity":2}},"id":null}},{}]"#,
        r#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"json: cannot unmarshal number into Go value of type json2.serverRequest","data":{"jsonrpc":"","method":"","params":null,"id":null}},"id":null}"#
    );
    check(&backend, &body, &expected).await;
    check(
        &backend,
        "[]",
        &error_reply(-32600, "invalid request: empty batch", "null"),
    )
    .await;
}

#[tokio::test]
async fn encodings_in_and_out() {
    let backend = MemoryBackend::single();
    let payload = parse_payload(MANUSCRIPT_HEX).unwrap();
    let cb58 = rpcchainvm::ids::cb58_encode(&payload);
    let params = format!(r#"{{"id":"{CHILD_ID}","encoding":"cb58"}}"#);
    let reply = call(&backend, &request("timestampvm.getBlock", &params, "1"))
        .await
        .unwrap();
    assert!(reply.contains(&format!(r#""data":"{cb58}""#)), "{reply}");
    let params = format!(r#"{{"id":"{CHILD_ID}","encoding":"hex"}}"#);
    let expected = format!(r#"{{"jsonrpc":"2.0","result":{CHILD_RESULT},"id":1}}"#);
    check(
        &backend,
        &request("timestampvm.getBlock", &params, "1"),
        &expected,
    )
    .await;

    // CB58 input: a payload that is already accepted is refused as an answer, not an error.
    let params = format!(r#"{{"data":"{cb58}"}}"#);
    let expected = format!(
        r#"{{"jsonrpc":"2.0","result":{{"Success":false,"reason":"payload is already in accepted block {CHILD_ID}"}},"id":1}}"#
    );
    check(
        &backend,
        &request("timestampvm.proposeBlock", &params, "1"),
        &expected,
    )
    .await;
}

#[tokio::test]
async fn mempool_refusals_are_answers_and_a_down_vm_is_an_error() {
    let backend = MemoryBackend::genesis_only();
    let mut payloads = (1u8..=3).map(|n| crate::api::data::hex_checksummed(&[n; 32]));
    let propose = |data: String| {
        request(
            "timestampvm.proposeBlock",
            &format!(r#"{{"data":"{data}"}}"#),
            "1",
        )
    };
    let first = propose(payloads.next().unwrap());
    let ok = r#"{"jsonrpc":"2.0","result":{"Success":true},"id":1}"#;
    check(&backend, &first, ok).await;
    check(
        &backend,
        &first,
        r#"{"jsonrpc":"2.0","result":{"Success":false,"reason":"payload is already pending in the mempool"},"id":1}"#,
    )
    .await;
    check(&backend, &propose(payloads.next().unwrap()), ok).await;
    let third = propose(payloads.next().unwrap());
    check(
        &backend,
        &third,
        r#"{"jsonrpc":"2.0","result":{"Success":false,"reason":"mempool full (2 pending payloads)"},"id":1}"#,
    )
    .await;
    check(
        &backend,
        &request("timestampvm.mempoolSize", "{}", "3"),
        r#"{"jsonrpc":"2.0","result":{"size":2,"capacity":2},"id":3}"#,
    )
    .await;
    backend.set_down(true);
    check(
        &backend,
        &third,
        &error_reply(-32000, "the VM is shutting down", "1"),
    )
    .await;
}

#[tokio::test]
async fn get_block_by_height() {
    let backend = MemoryBackend::single();
    let child = format!(r#"{{"jsonrpc":"2.0","result":{CHILD_RESULT},"id":1}}"#);
    for params in [r#"{"height":1}"#, r#"{"height":"1"}"#, r#"[{"height":1}]"#] {
        check(
            &backend,
            &request("timestampvm.getBlockByHeight", params, "1"),
            &child,
        )
        .await;
    }
    check(
        &backend,
        &request("timestampvm.getBlockByHeight", r#"{"height":"2"}"#, "1"),
        &error_reply(-32000, "no accepted block at height 2", "1"),
    )
    .await;
    let bad_params = error_reply(-32000, BAD_PARAMS, "1");
    for params in [
        "{}",
        r#"{"height":-1}"#,
        r#"{"height":1.5}"#,
        r#"{"height":"+1"}"#,
        r#"{"height":""}"#,
        r#"{"height":"18446744073709551616"}"#,
        r#"{"height":null}"#,
    ] {
        check(
            &backend,
            &request("timestampvm.getBlockByHeight", params, "1"),
            &bad_params,
        )
        .await;
    }
}

/// `0x` and the plain hex of a hash, as `root` and `path` print.
fn hash_text(hash: &[u8; 32]) -> String {
    format!("0x{}", hex::encode(hash))
}

// proposeBatch answers per item, in order: a bad item is refused here without stopping the
// rest, and each mempool refusal (duplicate within the request, full, accepted) is that item's.
#[tokio::test]
async fn propose_batch_answers_each_item_in_order() {
    let backend = MemoryBackend::genesis_only();
    let (one, two, three) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    let hex = |payload: &[u8; 32]| crate::api::data::hex_checksummed(payload);
    let bad_sum = format!("{}00000000", &hex(&one)[..66]);
    let genesis_data = "0x68656c6c6f000000000000000000000000000000000000000000000000000000f0fcde20";
    let cb58_two = rpcchainvm::ids::cb58_encode(&two);
    // The chain is asked only while the mempool has room (the real mempool's order), so the
    // accepted payload comes before the mempool fills.
    let items = [
        hex(&one),
        bad_sum,
        hex(&one),
        genesis_data.to_owned(),
        cb58_two,
        hex(&three),
    ];
    let params = serde_json::json!({ "data": items }).to_string();
    let checksum = DataError::Checksum;
    let expected = format!(
        r#"{{"jsonrpc":"2.0","result":{{"accepted":2,"results":[{{"success":true}},{{"success":false,"reason":"data must be hex representation of 32 bytes: {checksum}"}},{{"success":false,"reason":"payload is already pending in the mempool"}},{{"success":false,"reason":"payload is already in accepted block {GENESIS_ID}"}},{{"success":true}},{{"success":false,"reason":"mempool full (2 pending payloads)"}}]}},"id":1}}"#
    );
    check(
        &backend,
        &request("timestampvm.proposeBatch", &params, "1"),
        &expected,
    )
    .await;
    assert_eq!(backend.mempool(), vec![one, two]);
}

#[tokio::test]
async fn propose_batch_refuses_empty_oversized_and_malformed_params() {
    let backend = MemoryBackend::genesis_only();
    let size_error = |found: usize| {
        let message = format!("data must hold 1 to {MAX_PROPOSE_BATCH} payloads, found {found}");
        error_reply(-32000, &message, "1")
    };
    let propose_batch = |params: &str| request("timestampvm.proposeBatch", params, "1");
    check(&backend, &propose_batch(r#"{"data":[]}"#), &size_error(0)).await;
    let too_many = vec![MANUSCRIPT_HEX; MAX_PROPOSE_BATCH + 1];
    let params = serde_json::json!({ "data": too_many }).to_string();
    check(
        &backend,
        &propose_batch(&params),
        &size_error(MAX_PROPOSE_BATCH + 1),
    )
    .await;
    let bad_params = error_reply(-32000, BAD_PARAMS, "1");
    for params in [
        "{}",
        r#"{"data":null}"#,
        &format!(r#"{{"data":"{MANUSCRIPT_HEX}"}}"#),
        r#"{"data":[5]}"#,
        &format!(r#"{{"data":["{MANUSCRIPT_HEX}"],"encoding":"base64"}}"#),
    ] {
        check(&backend, &propose_batch(params), &bad_params).await;
    }
    assert!(backend.mempool().is_empty());

    // A VM that cannot answer fails the request, unless no item needed to ask it.
    backend.set_down(true);
    let params = format!(r#"{{"data":["{MANUSCRIPT_HEX}"]}}"#);
    let down = error_reply(-32000, "the VM is shutting down", "1");
    check(&backend, &propose_batch(&params), &down).await;
    let why = DataError::HexLength { found: 0 };
    check(
        &backend,
        &propose_batch(r#"{"data":["0x"]}"#),
        &format!(
            r#"{{"jsonrpc":"2.0","result":{{"accepted":0,"results":[{{"success":false,"reason":"data must be hex representation of 32 bytes: {why}"}}]}},"id":1}}"#
        ),
    )
    .await;
}

// A single-payload block's proof is the trivial one: no path, the root is the payload's leaf
// hash. The reply reads back as a proof that verifies.
#[tokio::test]
async fn get_proof_of_a_single_payload_block() {
    let backend = MemoryBackend::single();
    let payload = parse_payload(MANUSCRIPT_HEX).unwrap();
    let root = hash_text(&crate::chain::merkle::leaf_hash(&payload));
    let params = format!(r#"{{"data":"{MANUSCRIPT_HEX}"}}"#);
    let result = format!(
        r#"{{"data":"{MANUSCRIPT_HEX}","blockID":"{CHILD_ID}","height":"1","timestamp":"1700000000","root":"{root}","index":0,"count":1,"path":[],"format":"single"}}"#
    );
    let expected = format!(r#"{{"jsonrpc":"2.0","result":{result},"id":1}}"#);
    check(
        &backend,
        &request("timestampvm.getProof", &params, "1"),
        &expected,
    )
    .await;

    let proof = ProofJson::read(expected.as_bytes())
        .unwrap()
        .to_proof()
        .unwrap();
    assert!(proof.path_is_valid());
    assert_eq!(proof.block_id.to_string(), CHILD_ID);
}

#[tokio::test]
async fn get_proof_says_not_yet_unknown_or_bad_data() {
    let backend = MemoryBackend::genesis_only();
    let get_proof = |params: String| request("timestampvm.getProof", &params, "1");
    let pending = crate::api::data::hex_checksummed(&[4; 32]);
    check(
        &backend,
        &request(
            "timestampvm.proposeBlock",
            &format!(r#"{{"data":"{pending}"}}"#),
            "1",
        ),
        r#"{"jsonrpc":"2.0","result":{"Success":true},"id":1}"#,
    )
    .await;
    let message = format!(
        "payload {pending} is not yet accepted (pending in the mempool or a block being decided)"
    );
    check(
        &backend,
        &get_proof(format!(r#"{{"data":"{pending}"}}"#)),
        &error_reply(-32001, &message, "1"),
    )
    .await;
    // The message prints the payload in the encoding asked for.
    let message = format!(
        "payload {} is unknown to this node",
        rpcchainvm::ids::cb58_encode(&parse_payload(MANUSCRIPT_HEX).unwrap())
    );
    check(
        &backend,
        &get_proof(format!(
            r#"{{"data":"{MANUSCRIPT_HEX}","encoding":"cb58"}}"#
        )),
        &error_reply(-32002, &message, "1"),
    )
    .await;
    let refusals = [
        ("{}", DataError::Empty),
        (r#"{"data":"0x00"}"#, DataError::HexLength { found: 2 }),
        (r#"{"data":""}"#, DataError::Empty),
    ];
    for (params, why) in refusals {
        check(
            &backend,
            &get_proof(params.into()),
            &bad_data_reply(why, "1"),
        )
        .await;
    }
    let bad_params = error_reply(-32000, BAD_PARAMS, "1");
    check(&backend, &get_proof(r#"{"data":5}"#.into()), &bad_params).await;
    backend.set_down(true);
    check(
        &backend,
        &get_proof(format!(r#"{{"data":"{pending}"}}"#)),
        &error_reply(-32000, "the VM is shutting down", "1"),
    )
    .await;
}

// A batched block: `data` is the root in a payload's form (old clients still read 32 bytes),
// then `root` and `count`; its payloads' proofs name the block and verify.
#[tokio::test]
async fn batched_blocks_and_their_proofs() {
    use crate::api::memory_backend::BATCH;
    let backend = MemoryBackend::batched();
    let view = backend.block_at_height(1).await.unwrap().unwrap();
    let root = crate::chain::merkle::root(&BATCH).unwrap();
    let result = format!(
        r#"{{"timestamp":"1700000000","data":"{}","height":"1","id":"{}","parentID":"{}","root":"{}","count":3}}"#,
        crate::api::data::hex_checksummed(&root),
        view.id,
        view.block.parent,
        hash_text(&root),
    );
    let expected = format!(r#"{{"jsonrpc":"2.0","result":{result},"id":1}}"#);
    let by_height = request("timestampvm.getBlockByHeight", r#"{"height":1}"#, "1");
    check(&backend, &by_height, &expected).await;
    let by_id = format!(r#"{{"id":"{}"}}"#, view.id);
    check(
        &backend,
        &request("timestampvm.getBlock", &by_id, "1"),
        &expected,
    )
    .await;
    // The batched genesis is a batch of one.
    let genesis = call(
        &backend,
        &request("timestampvm.getBlockByHeight", r#"{"height":0}"#, "1"),
    )
    .await
    .unwrap();
    assert!(genesis.contains(r#""count":1}"#), "{genesis}");

    for (index, payload) in BATCH.iter().enumerate() {
        let data = crate::api::data::hex_checksummed(payload);
        let params = format!(r#"{{"data":"{data}"}}"#);
        let reply = call(&backend, &request("timestampvm.getProof", &params, "1"))
            .await
            .unwrap();
        let json = ProofJson::read(reply.as_bytes()).unwrap();
        assert_eq!(json.format, crate::api::proof_json::BlockFormat::Batched);
        let proof = json.to_proof().unwrap();
        assert!(proof.path_is_valid(), "{reply}");
        assert_eq!((proof.index, proof.count), (index as u64, 3));
        assert_eq!(
            (proof.block_id, proof.root, proof.height),
            (view.id, root, 1)
        );
        // Leaf 2 of 3 is carried up a level without a sibling: one hash fewer.
        assert_eq!(proof.path.len(), if index == 2 { 1 } else { 2 });
    }
}

#[test]
fn every_method_has_a_label() {
    for (method, label) in METHODS {
        assert_eq!(
            label,
            format!("{SERVICE}.{}{}", method[..1].to_lowercase(), &method[1..])
        );
    }
    assert!(METHODS.iter().any(|(m, _)| *m == "ProposeBatch"));
    assert!(METHODS.iter().any(|(m, _)| *m == "GetProof"));
}
