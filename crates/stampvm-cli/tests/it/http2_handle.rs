//! HTTP/2 requests reach the plugin through `/http.HTTP/Handle` (docs/spec/node-behaviour.md
//! sections 8.2 and 8.4), HTTP/1.1 ones through `HandleSimple`, and a client cannot tell the two
//! apart: against the real plugin behind the host's gateway, JSON-RPC `proposeBlock` and
//! `getBlock` sent over h2c (prior knowledge) get the same status, headers and body as over
//! HTTP/1.1, and the HTTP-level refusals match too (> 2 MiB body → 413, GET → 405).
//!
//! The gateway's own debug log (captured in-process) shows which RPC carried each request, so a
//! gateway that sent HTTP/2 through `HandleSimple` fails here even if the answers happen to agree;
//! a plugin whose `Handle` path differs from `HandleSimple` fails on the first unequal reply.

use crate::common;

use common::*;
use reqwest::header::HeaderMap;
use reqwest::{Client, StatusCode, Version};
use rpcchainvm_host::gateway::{GatewayLimits, GATEWAY_LIMITS};
use rpcchainvm_host::Network;
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing::subscriber::DefaultGuard;

/// What a client sees of one reply. `date` is dropped: it is the clock, not the answer.
#[derive(Debug, PartialEq)]
struct Reply {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: String,
}

/// Sends one request and returns the reply, checking it came back on the expected version.
async fn send(request: reqwest::RequestBuilder, version: Version) -> Reply {
    let response = request.send().await.expect("HTTP request");
    assert_eq!(
        response.version(),
        version,
        "protocol of {}",
        response.url()
    );
    let status = response.status();
    let headers = header_list(response.headers());
    let body = response.text().await.expect("reply body");
    Reply {
        status,
        headers,
        body,
    }
}

fn header_list(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| *name != "date")
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    list.sort();
    list
}

fn clients() -> (Client, Client) {
    let h1 = Client::builder().http1_only().build().unwrap();
    let h2 = Client::builder().http2_prior_knowledge().build().unwrap();
    (h1, h2)
}

fn call(method: &str, params: Value) -> Vec<u8> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    serde_json::to_vec(&body).unwrap()
}

/// A JSON POST of `body` to `url` over HTTP/1.1 or HTTP/2.
async fn post(url: &str, body: Vec<u8>, version: Version) -> Reply {
    let (h1, h2) = clients();
    let client = if version == Version::HTTP_2 { h2 } else { h1 };
    let request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    send(request, version).await
}

/// Sends the same body over HTTP/1.1 and HTTP/2; returns both replies.
async fn both(url: &str, body: Vec<u8>) -> (Reply, Reply) {
    let one = post(url, body.clone(), Version::HTTP_11).await;
    let two = post(url, body, Version::HTTP_2).await;
    (one, two)
}

/// Collects the gateway's debug events for this test's thread. `#[tokio::test]` runs every task
/// (the gateway's included) on the test's own thread, so tests do not see each other's events.
fn capture_gateway_log() -> (DefaultGuard, Arc<Mutex<Vec<u8>>>) {
    #[derive(Clone)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let sink = Sink(buffer.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("rpcchainvm_host::gateway=debug")
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    (tracing::subscriber::set_default(subscriber), buffer)
}

/// How many requests the gateway forwarded with `Handle` and with `HandleSimple`.
fn rpcs_used(log: &Mutex<Vec<u8>>) -> (usize, usize) {
    let text = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    let forwarded = text.lines().filter(|l| l.contains("forwarding"));
    let (mut handle, mut simple) = (0, 0);
    for line in forwarded {
        if line.contains("rpc=\"Handle\"") {
            handle += 1;
        } else if line.contains("rpc=\"HandleSimple\"") {
            simple += 1;
        }
    }
    (handle, simple)
}

#[tokio::test]
async fn json_rpc_over_http2_answers_like_http1() {
    let (_guard, log) = capture_gateway_log();
    let dir = tempfile::tempdir().unwrap();
    let node = start_node("h2-rpc", node_id(1), &Network::new(), dir.path(), "").await;
    let url = node.rpc_url();
    let propose = |n: u64| {
        call(
            "timestampvm.proposeBlock",
            json!({"data": payload_hex(&payload(n))}),
        )
    };

    // Two fresh payloads, one per protocol: both accepted, with identical replies.
    let h1 = post(&url, propose(1), Version::HTTP_11).await;
    let h2 = post(&url, propose(2), Version::HTTP_2).await;
    assert_eq!(h1.status, StatusCode::OK);
    let result: Value = serde_json::from_str(&h1.body).unwrap();
    assert_eq!(result["result"], json!({"Success": true}), "{}", h1.body);
    assert_eq!(h2, h1, "a fresh proposal over HTTP/2 vs HTTP/1.1");

    // The same payload again (a duplicate either way), and malformed data: same answers.
    let (h1, h2) = both(&url, propose(1)).await;
    assert_eq!(h2, h1, "a duplicate proposal");
    let bad = call("timestampvm.proposeBlock", json!({"data": "0xnot-hex"}));
    let (h1, h2) = both(&url, bad).await;
    assert!(h1.body.contains("\"error\""), "{}", h1.body);
    assert_eq!(h2, h1, "a refused proposal");

    // Accept a block, then read it back by ID, as the latest block, and an unknown ID.
    wait_for_build_event(&node.client).await;
    let built = node.build_and_accept().await;
    let id = stampvm::chain::Id::from_slice(&built.id).unwrap();
    let by_id = call("timestampvm.getBlock", json!({"id": id.to_string()}));
    let (h1, h2) = both(&url, by_id).await;
    let block: Value = serde_json::from_str(&h1.body).unwrap();
    assert_eq!(block["result"]["height"], "1", "{}", h1.body);
    assert_eq!(h2, h1, "getBlock by ID");
    let (h1, h2) = both(&url, call("timestampvm.getBlock", json!({}))).await;
    assert!(h1.body.contains(&id.to_string()), "{}", h1.body);
    assert_eq!(h2, h1, "getBlock of the latest block");
    let unknown = stampvm::chain::Id([9; 32]).to_string();
    let missing = call("timestampvm.getBlock", json!({"id": unknown}));
    let (h1, h2) = both(&url, missing).await;
    assert!(h1.body.contains("\"error\""), "{}", h1.body);
    assert_eq!(h2, h1, "getBlock of an unknown ID");

    // 6 requests per protocol: every HTTP/2 one went through Handle, every HTTP/1.1 one not.
    assert_eq!(rpcs_used(&log), (6, 6), "(Handle, HandleSimple) calls");
    node.stop().await;
}

#[tokio::test]
async fn http2_refusals_match_http1() {
    let (_guard, log) = capture_gateway_log();
    let dir = tempfile::tempdir().unwrap();
    let node = start_node("h2-refusals", node_id(2), &Network::new(), dir.path(), "").await;
    let url = node.rpc_url();

    // One byte over the plugin's 2 MiB limit (rpcchainvm::jsonrpc::over_http::MAX_BODY_BYTES), through a
    // gateway that forwards it (as AvalancheGo does, with no limit of its own) rather than
    // refusing it first as the dev gateway does, so the plugin's own refusal is what answers.
    let limit = rpcchainvm::jsonrpc::over_http::MAX_BODY_BYTES;
    let permissive = node
        .gateway_with(GatewayLimits {
            max_body_bytes: 2 * limit,
            ..GATEWAY_LIMITS
        })
        .await;
    let permissive_url = url.replace(
        &node.gateway.local_addr().to_string(),
        &permissive.local_addr().to_string(),
    );
    let oversized = vec![b' '; limit + 1];
    let (h1, h2) = both(&permissive_url, oversized).await;
    assert_eq!(h2.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", h2.body);
    assert!(
        h2.body.starts_with("rpc: request body larger"),
        "{}",
        h2.body
    );
    assert_eq!(h2, h1, "an oversized body");
    // The dev gateway refuses it itself, with the same limit, forwarding nothing (the RPC
    // counts below stay those of the permissive gateway's calls).
    let (h1, h2) = both(&url, vec![b' '; limit + 1]).await;
    assert_eq!(h2.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", h2.body);
    assert!(h2.body.contains(&limit.to_string()), "{}", h2.body);
    assert_eq!(h2, h1, "an oversized body refused by the gateway");

    let (h1, h2) = clients();
    let h1 = send(h1.get(&url), Version::HTTP_11).await;
    let h2 = send(h2.get(&url), Version::HTTP_2).await;
    assert_eq!(h2.status, StatusCode::METHOD_NOT_ALLOWED, "{}", h2.body);
    assert_eq!(h2, h1, "a GET");

    assert_eq!(rpcs_used(&log), (2, 2), "(Handle, HandleSimple) calls");
    node.stop().await;
}
