//! Abuse from outside, against the real plugin with an engine running (every test a few seconds):
//!
//! - a peer flooding `vm.VM/AppGossip` (called the way the node calls it for each message a peer
//!   sends, by 8 concurrent callers: ~9,000 messages/s in a release build, a few hundred in a
//!   debug one; valid 128-payload batches, duplicates and garbage) is held to its per-peer
//!   rate (the gossip actor's token bucket, `gossip-peer-rate`; counted by
//!   `stampvm_payloads_gossiped_in_total`), every call still answers OK, and meanwhile
//!   `timestampvm.proposeBlock` through the node's gateway keeps succeeding with bounded latency
//!   and blocks keep being accepted;
//! - slow HTTP clients: from protocol 40 the node streams a request body to the plugin through its
//!   `io.reader.Reader` as the client sends it, so a slow client's body is read by the *plugin*.
//!   Hundreds of `http.HTTP/Handle` calls whose bodies trickle in (a few bytes per 100 ms, over
//!   the one connection the node keeps to the handler, as AvalancheGo does) must not stall the
//!   chain: proposals on that same connection are answered promptly and blocks keep being
//!   accepted; slow bodies that do end are answered correctly. (The host's gateway buffers a body
//!   before calling the plugin, so slow clients of the gateway never reach the plugin; that case
//!   is here too, but it exercises the host's HTTP server only.)
//!
//! `a_peer_within_its_default_gossip_rate_…` guards a fixed problem: one peer's gossip within
//! its default rate used to fill the mempool the API shares, so every proposal was refused.
//!
//! A test fails if a proposal is refused or slow, if the chain stops growing, if the flood gets
//! more payloads in than its rate allows (or the flood was too weak to tell), if an AppGossip call
//! errs (the node would shut the chain down), or if the plugin is unhealthy afterwards.

use crate::common;

use common::*;
use rpcchainvm::pb::http::http_client::HttpClient;
use rpcchainvm::pb::http::responsewriter::writer_server::{Writer, WriterServer};
use rpcchainvm::pb::http::responsewriter::{
    HijackResponse, WriteHeaderRequest, WriteRequest, WriteResponse,
};
use rpcchainvm::pb::http::{
    Element, HandleSimpleHttpRequest, HttpRequest, Request as GoRequest, ResponseWriter,
};
use rpcchainvm::pb::io::reader::reader_server::{Reader, ReaderServer};
use rpcchainvm::pb::io::reader::{ReadRequest, ReadResponse};
use rpcchainvm::pb::vm as pb;
use rpcchainvm::protocol::ReadErrorLayout;
use rpcchainvm::transport;
use rpcchainvm_host::{EngineHandle, EngineMode, Network, SoloEngine};
use serde_json::{json, Value};
use stampvm::chain::gossip::encode_gossip;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

/// No test here may take longer than this, whatever the plugin does.
const BOUND: Duration = Duration::from_secs(40);
/// How long each abuse lasts while the chain is watched.
const ABUSE: Duration = Duration::from_secs(2);
/// A proposal answered later than this during the abuse counts as stalled. Generous: CI runs
/// debug builds on shared cores; an unprotected plugin stalls for the whole abuse, not this long.
const SLOW_PROPOSAL: Duration = Duration::from_millis(1500);
/// Blocks the engine must accept during the abuse (it builds whenever payloads are pending).
const MIN_BLOCKS: u64 = 3;

/// A node with the node's engine running (WaitForEvent at 45): blocks are built and accepted as
/// soon as payloads are pending.
async fn node_with_engine(
    name: &str,
    n: u8,
    dir: &std::path::Path,
    config: &str,
) -> (TestNode, EngineHandle) {
    let node = start_node(name, node_id(n), &Network::new(), dir, config).await;
    let engine = SoloEngine::new(
        node.client.clone(),
        EngineMode::for_node(&node.services),
        &node.started.last_accepted,
    )
    .spawn(node.shutdown.clone());
    (node, engine)
}

/// What a stream of proposals saw.
#[derive(Debug, Default)]
struct Proposals {
    sent: u64,
    worst: Duration,
    problems: Vec<String>,
}

impl Proposals {
    fn assert_all_good(&self, during: &str) {
        assert!(
            self.sent >= 20,
            "only {} proposals during {during}",
            self.sent
        );
        assert!(
            self.problems.is_empty(),
            "proposals during {during}: {} of {} failed or were slow: {:#?}",
            self.problems.len(),
            self.sent,
            self.problems
        );
    }
}

/// Starts a proposal of a fresh payload every 50 ms until `stop`, through `propose` (gateway or
/// direct), each on its own task, so a slow answer does not lower the offered load; then waits
/// for every answer (at most 10 s each).
async fn propose_steadily<F, Fut>(first: u64, stop: Arc<AtomicBool>, propose: F) -> Proposals
where
    F: Fn([u8; 32]) -> Fut,
    Fut: Future<Output = Result<Value, String>> + Send + 'static,
{
    let mut calls = tokio::task::JoinSet::new();
    let mut n = first;
    while !stop.load(Relaxed) {
        n += 1;
        let call = propose(payload(n));
        calls.spawn(async move {
            let started = Instant::now();
            let answer = tokio::time::timeout(Duration::from_secs(10), call).await;
            (n, started.elapsed(), answer)
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut seen = Proposals::default();
    while let Some(done) = calls.join_next().await {
        let (n, took, answer) = done.expect("proposal task");
        seen.sent += 1;
        seen.worst = seen.worst.max(took);
        match answer {
            Ok(Ok(result)) if result == json!({"Success": true}) => {
                if took > SLOW_PROPOSAL {
                    seen.problems.push(format!("proposal {n} took {took:?}"));
                }
            }
            Ok(Ok(result)) => seen
                .problems
                .push(format!("proposal {n} refused: {result}")),
            Ok(Err(error)) => seen.problems.push(format!("proposal {n} failed: {error}")),
            Err(_) => seen
                .problems
                .push(format!("proposal {n} unanswered after 10 s")),
        }
    }
    seen
}

/// A proposal's answer on its way: the JSON-RPC `result`, or why there is none.
type Answer = std::pin::Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>;

/// `proposeBlock` through the node's gateway, over a fresh HTTP/1.1 connection pool.
fn via_gateway(url: String) -> impl Fn([u8; 32]) -> Answer {
    let http = reqwest::Client::new();
    move |payload| {
        let (http, url) = (http.clone(), url.clone());
        Box::pin(async move {
            let body = json!({"jsonrpc": "2.0", "id": 1, "method": "timestampvm.proposeBlock",
                "params": {"data": payload_hex(&payload)}});
            let reply: Value = http
                .post(&url)
                .json(&body)
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            Ok(reply["result"].clone())
        })
    }
}

/// A counter from `vm.VM/Gather` (0 when the series does not exist yet).
async fn counter(node: &TestNode, name: &str) -> f64 {
    let families = node.client.gather().await.expect("Gather").metric_families;
    families
        .iter()
        .filter(|f| f.name() == name)
        .flat_map(|f| f.metric.iter())
        .filter_map(|m| m.counter.as_ref())
        .map(|c| c.value())
        .sum()
}

/// The chain grew by at least [`MIN_BLOCKS`] between `before` and now, and the plugin is healthy.
async fn assert_chain_grew(node: &TestNode, engine: &EngineHandle, before: u64, during: &str) {
    let now = engine.tip().height;
    assert!(
        now >= before + MIN_BLOCKS,
        "only {} blocks accepted during {during} (tip {before} → {now})",
        now - before
    );
    node.client.health().await.expect("healthy after the abuse");
}

// ---- (a) AppGossip flood ------------------------------------------------------------------

/// The payload rate the flooding peer is allowed; far below the mempool's 4096 over the test.
const PEER_RATE: u64 = 500;

/// One flooding peer: `tasks` concurrent callers of `vm.VM/AppGossip` for [`ABUSE`], cycling
/// through valid 128-payload batches (fresh payloads), exact duplicates, and malformed bodies.
/// Returns (messages sent, fresh payloads offered).
async fn flood_gossip(node: &TestNode, peer: Vec<u8>, tasks: u64, seed: u64) -> (u64, u64) {
    let messages = Arc::new(AtomicU64::new(0));
    let offered = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + ABUSE;
    let mut handles = Vec::new();
    for task in 0..tasks {
        let (client, peer) = (node.client.clone(), peer.clone());
        let (messages, offered) = (messages.clone(), offered.clone());
        handles.push(tokio::spawn(async move {
            let mut n = 0u64;
            let repeated = encode_gossip(&[payload(seed ^ 0xdead)]);
            while Instant::now() < until {
                n += 1;
                let (msg, fresh) = match n % 4 {
                    0 | 1 => {
                        let base = seed + (task << 40) + (n << 8);
                        let batch: Vec<[u8; 32]> = (0..128).map(|i| payload(base + i)).collect();
                        (encode_gossip(&batch), 128)
                    }
                    2 => (repeated.clone(), 0),
                    _ => match n % 3 {
                        0 => (vec![1, 0xff, 0xff], 0),
                        1 => (vec![2; 35], 0),
                        _ => ((0..(n % 200) as u8).collect(), 0),
                    },
                };
                client
                    .app_gossip(pb::AppGossipMsg {
                        node_id: peer.clone(),
                        msg,
                    })
                    .await
                    .unwrap_or_else(|e| panic!("AppGossip must answer OK under a flood: {e}"));
                messages.fetch_add(1, Relaxed);
                offered.fetch_add(fresh, Relaxed);
            }
        }));
    }
    for handle in handles {
        handle.await.expect("flood task");
    }
    (messages.load(Relaxed), offered.load(Relaxed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_app_gossip_flood_is_rate_limited_and_does_not_starve_api_proposals() {
    bounded(BOUND, async {
        let dir = tempfile::tempdir().unwrap();
        let config = json!({"gossip-peer-rate": PEER_RATE}).to_string();
        let (node, engine) = node_with_engine("gossip-flood", 40, dir.path(), &config).await;
        let before = engine.tip().height;
        let in_before = counter(&node, "stampvm_payloads_gossiped_in_total").await;

        let stop = Arc::new(AtomicBool::new(false));
        let proposals = tokio::spawn(propose_steadily(0, stop.clone(), via_gateway(node.rpc_url())));
        let started = Instant::now();
        let (messages, offered) = flood_gossip(&node, vec![66; 20], 8, 1 << 50).await;
        stop.store(true, Relaxed);
        let proposals = proposals.await.expect("proposer");
        // Whatever the actor still has queued may land after this; the bound below allows for it.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let elapsed = started.elapsed();
        let taken = counter(&node, "stampvm_payloads_gossiped_in_total").await - in_before;
        println!(
            "flood: {messages} AppGossip calls in {:?} ({:.0}/s), {offered} fresh payloads offered, \
             {taken} taken (rate {PEER_RATE}/s); {} proposals, worst {:?}; tip {} → {}",
            ABUSE,
            messages as f64 / ABUSE.as_secs_f64(),
            proposals.sent,
            proposals.worst,
            before,
            engine.tip().height
        );

        // The bucket starts full (one second's allowance) and refills at the rate.
        let allowed = PEER_RATE as f64 * (1.0 + elapsed.as_secs_f64());
        assert!(
            offered as f64 > 4.0 * allowed,
            "the flood offered only {offered} payloads; too weak to test a limit of {allowed:.0}"
        );
        assert!(taken > 0.0, "nothing from the peer was taken at all");
        assert!(
            taken <= allowed,
            "the peer got {taken} payloads in within {elapsed:?}; its rate allows {allowed:.0}"
        );
        proposals.assert_all_good("an AppGossip flood");
        assert_chain_grew(&node, &engine, before, "an AppGossip flood").await;
        node.stop().await;
        engine.join().await;
    })
    .await;
}

/// With the default settings a single peer may gossip 20,000 payloads/s (`gossip-peer-rate`)
/// into a mempool of 4096 (`mempool-capacity`), shared with the API and drained by one payload
/// per block: a peer that stays within its rate fills the mempool in a fraction of a second, and
/// every `proposeBlock` was then refused "mempool full" for as long as it kept going. Peers may
/// now fill only three quarters of the mempool, so the API's proposals still get in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peer_within_its_default_gossip_rate_does_not_crowd_out_api_proposals() {
    bounded(BOUND, async {
        let dir = tempfile::tempdir().unwrap();
        let (node, engine) = node_with_engine("gossip-default", 41, dir.path(), "").await;
        let stop = Arc::new(AtomicBool::new(false));
        let proposals = tokio::spawn(propose_steadily(0, stop.clone(), via_gateway(node.rpc_url())));
        let (messages, offered) = flood_gossip(&node, vec![67; 20], 8, 2 << 50).await;
        stop.store(true, Relaxed);
        let proposals = proposals.await.expect("proposer");
        let taken = counter(&node, "stampvm_payloads_gossiped_in_total").await;
        println!(
            "default config: {messages} AppGossip calls, {offered} payloads offered, {taken} taken; \
             {} proposals, {} refused or failed",
            proposals.sent,
            proposals.problems.len()
        );
        proposals.assert_all_good("gossip within the default per-peer rate");
        node.stop().await;
        engine.join().await;
    })
    .await;
}

// ---- (b) slow clients ---------------------------------------------------------------------

/// The node's `http.responsewriter.Writer` for one request: records what the plugin wrote.
#[derive(Clone, Default)]
struct RecordingWriter {
    status: Arc<Mutex<Option<i32>>>,
    body: Arc<Mutex<Vec<u8>>>,
}

#[tonic::async_trait]
impl Writer for RecordingWriter {
    async fn write(
        &self,
        request: Request<WriteRequest>,
    ) -> Result<Response<WriteResponse>, Status> {
        let payload = request.into_inner().payload;
        self.status.lock().unwrap().get_or_insert(200);
        self.body.lock().unwrap().extend_from_slice(&payload);
        Ok(Response::new(WriteResponse {
            written: payload.len() as i32,
        }))
    }

    async fn write_header(
        &self,
        request: Request<WriteHeaderRequest>,
    ) -> Result<Response<()>, Status> {
        let code = request.into_inner().status_code;
        self.status.lock().unwrap().get_or_insert(code);
        Ok(Response::new(()))
    }

    async fn flush(&self, _: Request<()>) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }

    async fn hijack(&self, _: Request<()>) -> Result<Response<HijackResponse>, Status> {
        Err(Status::unimplemented("no hijack"))
    }
}

/// The node's `io.reader.Reader` for a slow client: each read waits 100 ms and gets `drip`
/// bytes; `body: None` never ends (a client that keeps sending whitespace, forever).
struct DrippingReader {
    body: Mutex<Option<Vec<u8>>>,
    drip: usize,
    reads: Arc<AtomicU64>,
}

#[tonic::async_trait]
impl Reader for DrippingReader {
    async fn read(&self, _: Request<ReadRequest>) -> Result<Response<ReadResponse>, Status> {
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.reads.fetch_add(1, Relaxed);
        let mut body = self.body.lock().unwrap();
        let Some(rest) = body.as_mut() else {
            return Ok(Response::new(ReadResponse::data(vec![b' '; self.drip])));
        };
        let chunk: Vec<u8> = rest.drain(..self.drip.min(rest.len())).collect();
        Ok(Response::new(match rest.is_empty() {
            true => ReadResponse::eof(ReadErrorLayout::Coded, chunk),
            false => ReadResponse::data(chunk),
        }))
    }
}

/// A per-request callback server (Writer + Reader) on a fresh loopback port, as the node runs.
async fn callback_server(reader: DrippingReader, writer: RecordingWriter) -> SocketAddr {
    let (listener, addr) = transport::bind_loopback().await.unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(WriterServer::new(writer))
            .add_service(ReaderServer::new(reader))
            .serve_with_incoming(transport::incoming(listener)),
    );
    addr
}

fn element(key: &str, value: &str) -> Element {
    Element {
        key: key.into(),
        values: vec![value.into()],
    }
}

/// `http.HTTP/Handle` as the node sends it for a POST whose body the plugin must read.
fn handle_request(path: &str, writer_addr: SocketAddr, content_length: i64) -> HttpRequest {
    HttpRequest {
        response_writer: Some(ResponseWriter {
            header: Vec::new(),
            server_addr: writer_addr.to_string(),
        }),
        request: Some(GoRequest {
            method: "POST".into(),
            proto: "HTTP/2.0".into(),
            proto_major: 2,
            header: vec![element("Content-Type", "application/json")],
            content_length,
            host: "127.0.0.1".into(),
            remote_addr: "127.0.0.1:40000".into(),
            request_uri: path.into(),
            ..Default::default()
        }),
    }
}

/// The plugin's `http.HTTP` server for `/rpc` and the request path the node would use.
fn rpc_handler(node: &TestNode) -> (String, String) {
    let handler = node
        .started
        .handlers
        .iter()
        .find(|h| h.prefix == "/rpc")
        .expect("the chain serves /rpc");
    let path = format!("/ext/bc/{}/rpc", node.params.chain_id);
    (handler.server_addr.clone(), path)
}

/// `proposeBlock` with `HandleSimple` on `channel`: what the node sends for an HTTP/1.1 client.
fn via_handle_simple(channel: Channel, path: String) -> impl Fn([u8; 32]) -> Answer {
    move |payload| {
        let mut client = HttpClient::new(channel.clone());
        let path = path.clone();
        Box::pin(async move {
            let body = json!({"jsonrpc": "2.0", "id": 1, "method": "timestampvm.proposeBlock",
                "params": {"data": payload_hex(&payload)}});
            let reply = client
                .handle_simple(HandleSimpleHttpRequest {
                    method: "POST".into(),
                    url: path,
                    request_headers: vec![element("Content-Type", "application/json")],
                    body: body.to_string().into_bytes(),
                    response_headers: Vec::new(),
                })
                .await
                .map_err(|e| e.to_string())?
                .into_inner();
            if reply.code != 200 {
                return Err(format!("HTTP {}", reply.code));
            }
            let reply: Value = serde_json::from_slice(&reply.body).map_err(|e| e.to_string())?;
            Ok(reply["result"].clone())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundreds_of_slow_streamed_bodies_do_not_stall_the_chain() {
    bounded(BOUND, async {
        const STUCK: usize = 200;
        const FINISHING: usize = 10;
        let dir = tempfile::tempdir().unwrap();
        let (node, engine) = node_with_engine("slow-bodies", 42, dir.path(), "").await;
        let (handler_addr, path) = rpc_handler(&node);
        // The node keeps one connection per handler; every request for the chain shares it.
        let channel = transport::connect(&handler_addr)
            .await
            .expect("dial the handler");

        // STUCK requests whose bodies never end (4 bytes per 100 ms), all on one callback server.
        let reads = Arc::new(AtomicU64::new(0));
        let stuck_server = callback_server(
            DrippingReader {
                body: Mutex::new(None),
                drip: 4,
                reads: reads.clone(),
            },
            RecordingWriter::default(),
        )
        .await;
        let mut stuck = Vec::new();
        for _ in 0..STUCK {
            let mut client = HttpClient::new(channel.clone());
            let request = handle_request(&path, stuck_server, 1 << 20);
            stuck.push(tokio::spawn(async move { client.handle(request).await }));
        }
        // FINISHING requests whose small bodies trickle in 8 bytes per 100 ms, then end.
        let call =
            json!({"jsonrpc": "2.0", "id": 7, "method": "timestampvm.lastAccepted"}).to_string();
        let mut finishing = Vec::new();
        for _ in 0..FINISHING {
            let writer = RecordingWriter::default();
            let server = callback_server(
                DrippingReader {
                    body: Mutex::new(Some(call.clone().into_bytes())),
                    drip: 8,
                    reads: reads.clone(),
                },
                writer.clone(),
            )
            .await;
            let mut client = HttpClient::new(channel.clone());
            let request = handle_request(&path, server, call.len() as i64);
            finishing.push(tokio::spawn(async move {
                (client.handle(request).await, writer)
            }));
        }

        // Meanwhile: proposals on the same connection, and the engine.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = engine.tip().height;
        let stop = Arc::new(AtomicBool::new(false));
        let proposer = tokio::spawn(propose_steadily(
            1000,
            stop.clone(),
            via_handle_simple(channel.clone(), path.clone()),
        ));
        tokio::time::sleep(ABUSE).await;
        stop.store(true, Relaxed);
        let proposals = proposer.await.expect("proposer");
        let reads_seen = reads.load(Relaxed);
        println!(
            "{STUCK} endless + {FINISHING} slow bodies: {reads_seen} body reads by the plugin; \
             {} proposals, worst {:?}; tip {before} → {}",
            proposals.sent,
            proposals.worst,
            engine.tip().height
        );
        // The plugin really was reading the slow bodies (not refusing them up front).
        assert!(
            reads_seen as usize >= STUCK,
            "the plugin read only {reads_seen} times from {STUCK} slow bodies"
        );
        proposals.assert_all_good("hundreds of slow streamed bodies");
        assert_chain_grew(&node, &engine, before, "hundreds of slow streamed bodies").await;

        for task in finishing {
            let (answer, writer) = task.await.expect("finishing request");
            answer.expect("Handle of a slow but complete body");
            assert_eq!(*writer.status.lock().unwrap(), Some(200));
            let reply: Value =
                serde_json::from_slice(&writer.body.lock().unwrap()).expect("JSON reply");
            assert_eq!(reply["id"], 7, "{reply}");
            assert!(reply["result"]["id"].is_string(), "{reply}");
        }
        // The clients of the stuck requests go away (the node cancels their Handle calls).
        let answered = stuck.iter().filter(|task| task.is_finished()).count();
        println!("{answered} of the {STUCK} endless bodies were answered (cut off) by the plugin");
        for task in &stuck {
            task.abort();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let after = via_handle_simple(channel, path)(payload(5000)).await;
        assert_eq!(
            after,
            Ok(json!({"Success": true})),
            "a proposal after the slow clients left"
        );
        node.stop().await;
        engine.join().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundreds_of_idle_and_slow_gateway_connections_do_not_stall_the_chain() {
    bounded(BOUND, async {
        const IDLE: usize = 150;
        const SLOW: usize = 150;
        let dir = tempfile::tempdir().unwrap();
        let (node, engine) = node_with_engine("slow-gateway", 43, dir.path(), "").await;
        let addr = node.gateway.local_addr();
        let path = format!("/ext/bc/{}/rpc", node.params.chain_id);

        let mut idle = Vec::new();
        for _ in 0..IDLE {
            idle.push(tokio::net::TcpStream::connect(addr).await.expect("connect"));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let dripped = Arc::new(AtomicU64::new(0));
        let mut slow = Vec::new();
        for _ in 0..SLOW {
            let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                 Content-Length: 100000\r\n\r\n"
            );
            let (stop, dripped) = (stop.clone(), dripped.clone());
            slow.push(tokio::spawn(async move {
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                while !stop.load(Relaxed) {
                    if stream.write_all(b"   ").await.is_err() {
                        return;
                    }
                    dripped.fetch_add(3, Relaxed);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }));
        }

        let before = engine.tip().height;
        let proposals = propose_steadily_for(ABUSE, via_gateway(node.rpc_url())).await;
        println!(
            "{IDLE} idle + {SLOW} slow gateway connections ({} bytes dripped): {} proposals, \
             worst {:?}; tip {before} → {}",
            dripped.load(Relaxed),
            proposals.sent,
            proposals.worst,
            engine.tip().height
        );
        proposals.assert_all_good("hundreds of idle and slow gateway connections");
        assert_chain_grew(
            &node,
            &engine,
            before,
            "hundreds of idle and slow gateway connections",
        )
        .await;
        stop.store(true, Relaxed);
        for task in slow {
            task.abort();
        }
        drop(idle);
        node.stop().await;
        engine.join().await;
    })
    .await;
}

/// [`propose_steadily`] for a fixed time.
async fn propose_steadily_for<F, Fut>(time: Duration, propose: F) -> Proposals
where
    F: Fn([u8; 32]) -> Fut,
    Fut: Future<Output = Result<Value, String>> + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let timer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(time).await;
            stop.store(true, Relaxed);
        })
    };
    let seen = propose_steadily(2000, stop, propose).await;
    let _ = timer.await;
    seen
}
