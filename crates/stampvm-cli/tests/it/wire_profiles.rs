//! One test per switch of profiles.md section 4: the plugin is launched announcing a profile, the
//! test plays that profile's node over real gRPC, and the plugin's bytes are decoded with that
//! profile's *own* message layout. The layouts below are transcribed from profiles.md section 3
//! on purpose, not taken from the crate, so a wrong field number in the crate cannot hide here.
//! Each switch is checked on both sides of its boundary (e.g. 28 and 29 for `Handler`).

use crate::common;

use common::*;
use prost::Message;
use rpcchainvm::pb::appsender::{self, app_sender_server};
use rpcchainvm::pb::http::responsewriter::{self, writer_server};
use rpcchainvm::pb::io::reader::{reader_server, ReadRequest};
use rpcchainvm::pb::messenger::{self, messenger_server};
use rpcchainvm::pb::{http as pb_http, vm as pb};
use rpcchainvm::protocol::{HostFlavour, ReadErrorLayout};
use rpcchainvm::transport;
use rpcchainvm::wire::{InitializeRequest, ReadResponse, SendAppGossipMsg};
use rpcchainvm_host::{PluginProcess, VmClient};
use stampvm::chain::gossip::decode_gossip;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::{Request, Response, Status};

/// Message layouts as each profile's node has them (profiles.md section 3).
mod layouts {
    use prost::Message;

    /// `vm.Handler` at 28 (3.2).
    #[derive(Clone, PartialEq, Message)]
    pub struct Handler28 {
        #[prost(string, tag = "1")]
        pub prefix: String,
        #[prost(uint32, tag = "2")]
        pub lock_options: u32,
        #[prost(string, tag = "3")]
        pub server_addr: String,
    }
    #[derive(Clone, PartialEq, Message)]
    pub struct Handlers28 {
        #[prost(message, repeated, tag = "1")]
        pub handlers: Vec<Handler28>,
    }

    /// `vm.Handler` from 29 (wire-45).
    #[derive(Clone, PartialEq, Message)]
    pub struct Handler29 {
        #[prost(string, tag = "1")]
        pub prefix: String,
        #[prost(string, tag = "2")]
        pub server_addr: String,
    }
    #[derive(Clone, PartialEq, Message)]
    pub struct Handlers29 {
        #[prost(message, repeated, tag = "1")]
        pub handlers: Vec<Handler29>,
    }

    /// `appsender.SendAppGossipMsg` at 28-33 (3.8).
    #[derive(Clone, PartialEq, Message)]
    pub struct Gossip28 {
        #[prost(bytes = "vec", tag = "1")]
        pub msg: Vec<u8>,
    }
    /// At 34.
    #[derive(Clone, PartialEq, Message)]
    pub struct Gossip34 {
        #[prost(bytes = "vec", tag = "1")]
        pub msg: Vec<u8>,
        #[prost(uint64, tag = "2")]
        pub num_validators: u64,
        #[prost(uint64, tag = "3")]
        pub num_non_validators: u64,
        #[prost(uint64, tag = "4")]
        pub num_peers: u64,
    }
    /// From 35.
    #[derive(Clone, PartialEq, Message)]
    pub struct Gossip35 {
        #[prost(bytes = "vec", repeated, tag = "1")]
        pub node_ids: Vec<Vec<u8>>,
        #[prost(uint64, tag = "2")]
        pub validators: u64,
        #[prost(uint64, tag = "3")]
        pub non_validators: u64,
        #[prost(uint64, tag = "4")]
        pub peers: u64,
        #[prost(bytes = "vec", tag = "5")]
        pub msg: Vec<u8>,
    }

    /// `vm.GetLastStateSummaryResponse` (same numbers in every profile; the enum values differ).
    #[derive(Clone, PartialEq, Message)]
    pub struct LastSummary {
        #[prost(bytes = "vec", tag = "1")]
        pub id: Vec<u8>,
        #[prost(uint64, tag = "2")]
        pub height: u64,
        #[prost(bytes = "vec", tag = "3")]
        pub bytes: Vec<u8>,
        #[prost(int32, tag = "4")]
        pub err: i32,
    }

    /// `vm.CreateHTTP2HandlerResponse` (41) and `vm.NewHTTPHandlerResponse` (42+).
    #[derive(Clone, PartialEq, Message)]
    pub struct ServerAddr {
        #[prost(string, tag = "1")]
        pub server_addr: String,
    }

    /// `http.HTTPResponse` (40+); up to 39 the reply is `google.protobuf.Empty`.
    #[derive(Clone, PartialEq, Message)]
    pub struct HttpResponse {
        #[prost(message, repeated, tag = "1")]
        pub header: Vec<Element>,
    }
    #[derive(Clone, PartialEq, Message)]
    pub struct Element {
        #[prost(string, tag = "1")]
        pub key: String,
        #[prost(string, repeated, tag = "2")]
        pub values: Vec<String>,
    }
}

/// A node of one profile: which number it announces and which node it is.
#[derive(Debug, Clone, Copy)]
struct Case {
    announced: u32,
    flavour: HostFlavour,
}

fn avalanchego(announced: u32) -> Case {
    Case {
        announced,
        flavour: HostFlavour::AvalancheGo,
    }
}

fn luxd(announced: u32) -> Case {
    Case {
        announced,
        flavour: HostFlavour::Luxd,
    }
}

/// What the plugin sends to the node's `server_addr`, as bytes (each request re-encoded from
/// the crate's all-layouts type, which keeps every field, so the bytes are the plugin's own).
#[derive(Default)]
struct Recorded {
    gossip: Mutex<Vec<Vec<u8>>>,
    notify: Mutex<Vec<Vec<u8>>>,
}

#[derive(Clone, Default)]
struct NodeStandIn(Arc<Recorded>);

#[tonic::async_trait]
impl app_sender_server::AppSender for NodeStandIn {
    async fn send_app_request(
        &self,
        _: Request<appsender::SendAppRequestMsg>,
    ) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }
    async fn send_app_response(
        &self,
        _: Request<appsender::SendAppResponseMsg>,
    ) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }
    async fn send_app_error(
        &self,
        _: Request<appsender::SendAppErrorMsg>,
    ) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }
    async fn send_app_gossip(
        &self,
        request: Request<SendAppGossipMsg>,
    ) -> Result<Response<()>, Status> {
        let bytes = request.into_inner().encode_to_vec();
        self.0.gossip.lock().unwrap().push(bytes);
        Ok(Response::new(()))
    }
}

#[tonic::async_trait]
impl messenger_server::Messenger for NodeStandIn {
    async fn notify(
        &self,
        request: Request<messenger::NotifyRequest>,
    ) -> Result<Response<messenger::NotifyResponse>, Status> {
        let bytes = request.into_inner().encode_to_vec();
        self.0.notify.lock().unwrap().push(bytes);
        Ok(Response::new(messenger::NotifyResponse {}))
    }
}

/// The node's per-request Handle callbacks: a Writer that keeps what was written and a Reader
/// serving `body`, ending it the way `eof` says.
#[derive(Clone)]
struct HandleCallbacks {
    body: Arc<Mutex<Vec<u8>>>,
    eof: ReadErrorLayout,
    written: Arc<Mutex<(i32, Vec<u8>)>>,
}

#[tonic::async_trait]
impl writer_server::Writer for HandleCallbacks {
    async fn write(
        &self,
        request: Request<responsewriter::WriteRequest>,
    ) -> Result<Response<responsewriter::WriteResponse>, Status> {
        let payload = request.into_inner().payload;
        let written = payload.len() as i32;
        self.written.lock().unwrap().1.extend(payload);
        Ok(Response::new(responsewriter::WriteResponse { written }))
    }
    async fn write_header(
        &self,
        request: Request<responsewriter::WriteHeaderRequest>,
    ) -> Result<Response<()>, Status> {
        self.written.lock().unwrap().0 = request.into_inner().status_code;
        Ok(Response::new(()))
    }
    async fn flush(&self, _: Request<()>) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }
    async fn hijack(
        &self,
        _: Request<()>,
    ) -> Result<Response<responsewriter::HijackResponse>, Status> {
        Err(Status::unimplemented("hijack"))
    }
}

#[tonic::async_trait]
impl reader_server::Reader for HandleCallbacks {
    async fn read(&self, request: Request<ReadRequest>) -> Result<Response<ReadResponse>, Status> {
        let length = request.into_inner().length.max(0) as usize;
        let mut body = self.body.lock().unwrap();
        let end = length.min(body.len());
        let chunk: Vec<u8> = body.drain(..end).collect();
        Ok(Response::new(match body.is_empty() {
            true => ReadResponse::eof(self.eof, chunk),
            false => ReadResponse::data(chunk),
        }))
    }
}

/// Serves `router`'s services on a fresh loopback port until the test ends.
async fn serve(router: tonic::transport::server::Router) -> String {
    let (listener, addr) = transport::bind_loopback().await.unwrap();
    tokio::spawn(router.serve_with_incoming(transport::incoming(listener)));
    addr.to_string()
}

/// A launched plugin playing `case`, with the stand-in node it reports to.
struct Plugin {
    process: PluginProcess,
    client: VmClient,
    node: NodeStandIn,
    node_addr: String,
    output: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

const DB_SERVER: &str = "127.0.0.1:40001";

async fn launch_case(case: Case) -> Plugin {
    let (sink, mut lines) = tokio::sync::mpsc::unbounded_channel();
    let process = launch_with(&format!("wire-{}", case.announced), |options| {
        options.profile = rpcchainvm::protocol::Profile::new(case.announced, case.flavour).unwrap();
        options.output = Some(sink);
        options.extra_env.push((
            "GRPC_STAMPVM_PROTOCOL".into(),
            case.announced.to_string().into(),
        ));
    })
    .await;
    let output = Arc::new(Mutex::new(String::new()));
    let copy = output.clone();
    tokio::spawn(async move {
        while let Some(line) = lines.recv().await {
            let mut text = copy.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
    let node = NodeStandIn::default();
    let node_addr = serve(
        tonic::transport::Server::builder()
            .add_service(app_sender_server::AppSenderServer::new(node.clone()))
            .add_service(messenger_server::MessengerServer::new(node.clone())),
    )
    .await;
    let client = process.vm_client().await.unwrap();
    Plugin {
        process,
        client,
        node,
        node_addr,
        output,
        _dir: tempfile::tempdir().unwrap(),
    }
}

impl Plugin {
    async fn call(&self, path: &str, request: Vec<u8>) -> Result<Vec<u8>, String> {
        self.client
            .call_raw(path, request)
            .await
            .map_err(|e| e.to_string())
    }

    /// `/vm.VM/Initialize` with field 13 in `db_layout_28` (true: the 28-29 list) and the
    /// genesis `hello` of vectors.md 2.1.
    async fn initialize(&self, db_list: bool) {
        let mut request = InitializeRequest {
            network_id: 12345,
            chain_id: vec![7; 32],
            node_id: vec![1; 20],
            chain_data_dir: self._dir.path().join("chain").display().to_string(),
            genesis_bytes: b"hello".to_vec(),
            server_addr: self.node_addr.clone(),
            ..Default::default()
        };
        let layout = match db_list {
            true => rpcchainvm::protocol::DbServerLayout::VersionedList,
            false => rpcchainvm::protocol::DbServerLayout::Address,
        };
        request.set_db_server(layout, DB_SERVER);
        self.call("/vm.VM/Initialize", request.encode_to_vec())
            .await
            .expect("Initialize");
    }

    /// The chain's `http.HTTP` server, from CreateHandlers read in the 29+ layout.
    async fn http_server(&self) -> String {
        let bytes = self
            .call("/vm.VM/CreateHandlers", Vec::new())
            .await
            .unwrap();
        let handlers = layouts::Handlers29::decode(bytes.as_slice()).unwrap();
        handlers.handlers[0].server_addr.clone()
    }

    /// Proposes `payload` through HandleSimple on the chain's HTTP server.
    async fn propose(&self, payload: &[u8; 32]) {
        let server = VmClient::connect(&self.http_server().await).await.unwrap();
        let body = serde_json::json!({
            "jsonrpc": "2.0", "id": 1, "method": "timestampvm.proposeBlock",
            "params": {"data": payload_hex(payload)},
        });
        let request = pb_http::HandleSimpleHttpRequest {
            method: "POST".into(),
            url: "/ext/bc/x".into(),
            request_headers: vec![json_header()],
            body: body.to_string().into_bytes(),
            response_headers: Vec::new(),
        };
        let reply = server
            .call_raw("/http.HTTP/HandleSimple", request.encode_to_vec())
            .await
            .unwrap();
        let reply = pb_http::HandleSimpleHttpResponse::decode(reply.as_slice()).unwrap();
        assert_eq!(reply.code, 200, "{}", String::from_utf8_lossy(&reply.body));
    }

    /// The first gossip the plugin sent, waiting up to 5 s.
    async fn first_gossip(&self) -> Vec<u8> {
        for _ in 0..500 {
            if let Some(bytes) = self.node.0.gossip.lock().unwrap().first() {
                return bytes.clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no SendAppGossip within 5 s")
    }

    async fn stop(self) {
        let _ = self.client.shutdown().await;
        let _ = self.process.terminate(Duration::from_secs(5)).await;
    }
}

fn json_header() -> pb_http::Element {
    pb_http::Element {
        key: "Content-Type".into(),
        values: vec!["application/json".into()],
    }
}

fn unimplemented(result: Result<Vec<u8>, String>) -> bool {
    matches!(result, Err(text) if text.contains("Unimplemented") || text.contains("does not exist"))
}

// Switch: encode `Handler` as prefix 1, lock_options 2 (= NoLock), server_addr 3 at 28; as
// prefix 1, server_addr 2 from 29.
#[tokio::test]
async fn handler_layout_switches_at_29() {
    let at_28 = launch_case(avalanchego(28)).await;
    at_28.initialize(true).await;
    let bytes = at_28.call("/vm.VM/CreateHandlers", vec![]).await.unwrap();
    let handlers = layouts::Handlers28::decode(bytes.as_slice())
        .unwrap()
        .handlers;
    assert!(!handlers.is_empty());
    for handler in &handlers {
        assert_eq!(handler.lock_options, 2, "NoLock");
        assert!(handler.server_addr.starts_with("127.0.0.1:"), "{handler:?}");
    }
    at_28.stop().await;

    let at_29 = launch_case(avalanchego(29)).await;
    at_29.initialize(true).await;
    let bytes = at_29.call("/vm.VM/CreateHandlers", vec![]).await.unwrap();
    let handlers = layouts::Handlers29::decode(bytes.as_slice())
        .unwrap()
        .handlers;
    assert!(handlers
        .iter()
        .all(|h| h.server_addr.starts_with("127.0.0.1:")));
    // Read as profile 28, field 2 has the wrong wire type: a 28 node could not decode it.
    assert!(layouts::Handlers28::decode(bytes.as_slice()).is_err());
    at_29.stop().await;
}

// Switch: InitializeRequest field 13 is a VersionedDBServer list at 28-29, a string from 30.
// The plugin reports the address it read in its "chain initialized" line.
#[tokio::test]
async fn initialize_field_13_is_read_per_profile() {
    for (case, list) in [(avalanchego(29), true), (avalanchego(30), false)] {
        let plugin = launch_case(case).await;
        plugin.initialize(list).await;
        let expected = format!("db_server={DB_SERVER}");
        for _ in 0..200 {
            if plugin.output.lock().unwrap().contains(&expected) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let output = plugin.output.lock().unwrap().clone();
        assert!(output.contains(&expected), "{case:?}: {output}");
        plugin.stop().await;
    }
}

// Switch: CreateStaticHandlers is served (without Initialize) at 28-30 and luxd 30, not from 31.
#[tokio::test]
async fn static_handlers_exist_up_to_30() {
    for (case, exists) in [
        (avalanchego(30), true),
        (luxd(30), true),
        (avalanchego(31), false),
    ] {
        let plugin = launch_case(case).await;
        let answer = plugin.call("/vm.VM/CreateStaticHandlers", vec![]).await;
        match exists {
            true => {
                let bytes = answer.unwrap_or_else(|e| panic!("{case:?}: {e}"));
                let handlers = layouts::Handlers29::decode(bytes.as_slice()).unwrap();
                assert_eq!(handlers.handlers.len(), 1, "{case:?}");
                assert!(handlers.handlers[0].server_addr.starts_with("127.0.0.1:"));
            }
            false => assert!(unimplemented(answer), "{case:?}"),
        }
        plugin.stop().await;
    }
}

// Switches: VerifyHeightIndex answered with err 0 up to 34 (and luxd 30); the state-sync error
// number is 4 up to 34 (luxd 30) and 3 from 35 (luxd 35/"43").
#[tokio::test]
async fn height_index_and_error_numbering() {
    let cases = [
        (avalanchego(34), true, 4),
        (luxd(30), true, 4),
        (avalanchego(35), false, 3),
        (luxd(43), false, 3),
    ];
    for (case, height_index, state_sync_error) in cases {
        let plugin = launch_case(case).await;
        plugin.initialize(false).await;
        let answer = plugin.call("/vm.VM/VerifyHeightIndex", vec![]).await;
        match height_index {
            // err 0 is the default: the whole message is zero bytes.
            true => assert_eq!(answer, Ok(Vec::new()), "{case:?}"),
            false => assert!(unimplemented(answer), "{case:?}"),
        }
        let bytes = plugin.call("/vm.VM/GetLastStateSummary", vec![]).await;
        let summary = layouts::LastSummary::decode(bytes.unwrap().as_slice()).unwrap();
        assert_eq!(summary.err, state_sync_error, "{case:?}");
        plugin.stop().await;
    }
}

// Switch: block `status` (field 3) sent up to 35 and by luxd; the bytes are vectors.md
// section 4's ParseBlockResponse rows for the section 2.2 child of the `hello` genesis.
#[tokio::test]
async fn block_status_up_to_35() {
    const CHILD: &str = "0000904cbd92a440ae4a18fec29f08b5bbbe40108ec5f5de82f245145e0c8626aedf0000000000000001000000006553f1008f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941";
    const WITH_STATUS: &str = "0a209cf0e37e4abc934ad49832fa3e481283a768b6d952b8512fbba5aecbbe5204621220904cbd92a440ae4a18fec29f08b5bbbe40108ec5f5de82f245145e0c8626aedf180120012a060880e2cfaa06";
    const WITHOUT: &str = "0a209cf0e37e4abc934ad49832fa3e481283a768b6d952b8512fbba5aecbbe5204621220904cbd92a440ae4a18fec29f08b5bbbe40108ec5f5de82f245145e0c8626aedf20012a060880e2cfaa06";
    for (case, expected) in [
        (avalanchego(35), WITH_STATUS),
        (luxd(43), WITH_STATUS),
        (avalanchego(36), WITHOUT),
    ] {
        let plugin = launch_case(case).await;
        plugin.initialize(false).await;
        let request = pb::ParseBlockRequest {
            bytes: hex::decode(CHILD).unwrap(),
        };
        let bytes = plugin
            .call("/vm.VM/ParseBlock", request.encode_to_vec())
            .await;
        assert_eq!(hex::encode(bytes.unwrap()), expected, "{case:?}");
        plugin.stop().await;
    }
}

// Switch: SendAppGossipMsg is `msg` 1 up to 33, `msg` 1 + counts at 34, targeted from 35.
#[tokio::test]
async fn gossip_layout_per_profile() {
    for case in [avalanchego(33), avalanchego(34), avalanchego(35), luxd(43)] {
        let plugin = launch_case(case).await;
        plugin.initialize(false).await;
        let data = payload(u64::from(case.announced));
        plugin.propose(&data).await;
        let bytes = plugin.first_gossip().await;
        let body = match case.announced {
            33 => {
                let gossip = layouts::Gossip28::decode(bytes.as_slice()).unwrap();
                // Nothing but field 1: the 33 node has no other field.
                assert_eq!(gossip.encode_to_vec(), bytes);
                gossip.msg
            }
            34 => {
                let gossip = layouts::Gossip34::decode(bytes.as_slice()).unwrap();
                assert_eq!(gossip.num_validators, 10, "the chain config's default");
                assert_eq!(gossip.encode_to_vec(), bytes);
                gossip.msg
            }
            _ => {
                let gossip = layouts::Gossip35::decode(bytes.as_slice()).unwrap();
                assert!(gossip.node_ids.is_empty());
                assert_eq!(gossip.validators, 10);
                gossip.msg
            }
        };
        assert_eq!(decode_gossip(&body).unwrap(), vec![data], "{case:?}");
        plugin.stop().await;
    }
}

// Switch: the block-building trigger. Up to 41 (and luxd) the plugin calls Messenger.Notify
// with BUILD_BLOCK (`0801`) and WaitForEvent does not exist; from 42 the node's WaitForEvent
// is answered `0801` and Notify is never called.
#[tokio::test]
async fn build_trigger_per_profile() {
    for case in [avalanchego(41), luxd(35), avalanchego(42)] {
        let plugin = launch_case(case).await;
        plugin.initialize(false).await;
        plugin.propose(&payload(7)).await;
        let waits = case.announced >= 42 && case.flavour == HostFlavour::AvalancheGo;
        let event = tokio::time::timeout(
            Duration::from_secs(5),
            plugin.call("/vm.VM/WaitForEvent", vec![]),
        )
        .await
        .expect("WaitForEvent answers");
        match waits {
            true => assert_eq!(hex::encode(event.unwrap()), "0801", "{case:?}"),
            false => assert!(unimplemented(event), "{case:?}"),
        }
        let mut notified = Vec::new();
        for _ in 0..300 {
            notified = plugin.node.0.notify.lock().unwrap().clone();
            if !notified.is_empty() || waits {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if waits {
            // Give a stray Notify (the builder ticks every second) time to show.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            assert!(plugin.node.0.notify.lock().unwrap().is_empty(), "{case:?}");
        } else {
            assert_eq!(hex::encode(&notified[0]), "0801", "{case:?}");
        }
        plugin.stop().await;
    }
}

// Switches: the extra handler RPC (CreateHTTP2Handler at 41, NewHTTPHandler from 42, neither
// before) and the cross-chain RPCs (up to 36, all luxd).
#[tokio::test]
async fn handler_rpcs_and_cross_chain() {
    let cases = [
        (avalanchego(36), None, true),
        (avalanchego(40), None, false),
        (avalanchego(41), Some("/vm.VM/CreateHTTP2Handler"), false),
        (avalanchego(42), Some("/vm.VM/NewHTTPHandler"), false),
        (luxd(43), None, true),
    ];
    for (case, extra, cross_chain) in cases {
        let plugin = launch_case(case).await;
        plugin.initialize(false).await;
        for path in ["/vm.VM/CreateHTTP2Handler", "/vm.VM/NewHTTPHandler"] {
            let answer = plugin.call(path, vec![]).await;
            if Some(path) == extra {
                let addr = layouts::ServerAddr::decode(answer.unwrap().as_slice()).unwrap();
                assert!(addr.server_addr.starts_with("127.0.0.1:"), "{case:?}");
            } else {
                assert!(unimplemented(answer), "{case:?} {path}");
            }
        }
        let request = pb::CrossChainAppRequestMsg {
            chain_id: vec![9; 32],
            request_id: 1,
            deadline: None,
            request: b"hi".to_vec(),
        };
        let answer = plugin
            .call("/vm.VM/CrossChainAppRequest", request.encode_to_vec())
            .await;
        match cross_chain {
            true => assert_eq!(answer, Ok(Vec::new()), "{case:?}"),
            false => assert!(unimplemented(answer), "{case:?}"),
        }
        plugin.stop().await;
    }
}

// Switches: Handle takes its body inline (Request.body, 7) and returns Empty up to 39; from 40
// it streams the body from the node's reader (EOF as text at 40-41, as a code from 42) and
// returns HTTPResponse{header}. The other body source always holds something that would fail.
#[tokio::test]
async fn handle_body_and_reply_per_profile() {
    let call = r#"{"jsonrpc":"2.0","id":3,"method":"timestampvm.mempoolSize","params":{}}"#;
    let cases = [
        (avalanchego(39), true, ReadErrorLayout::Text),
        (avalanchego(40), false, ReadErrorLayout::Text),
        (avalanchego(42), false, ReadErrorLayout::Coded),
    ];
    for (case, inline, eof) in cases {
        let plugin = launch_case(case).await;
        plugin.initialize(false).await;
        let (inline_body, streamed_body) = match inline {
            true => (call.as_bytes().to_vec(), b"not json".to_vec()),
            false => (Vec::new(), call.as_bytes().to_vec()),
        };
        let callbacks = HandleCallbacks {
            body: Arc::new(Mutex::new(streamed_body)),
            eof,
            written: Arc::default(),
        };
        let writer_addr = serve(
            tonic::transport::Server::builder()
                .add_service(writer_server::WriterServer::new(callbacks.clone()))
                .add_service(reader_server::ReaderServer::new(callbacks.clone())),
        )
        .await;
        let request = pb_http::HttpRequest {
            response_writer: Some(pb_http::ResponseWriter {
                header: Vec::new(),
                server_addr: writer_addr,
            }),
            request: Some(pb_http::Request {
                method: "POST".into(),
                proto: "HTTP/2.0".into(),
                proto_major: 2,
                header: vec![json_header()],
                body: inline_body.clone(),
                content_length: call.len() as i64,
                ..Default::default()
            }),
        };
        let server = VmClient::connect(&plugin.http_server().await)
            .await
            .unwrap();
        let reply = server
            .call_raw("/http.HTTP/Handle", request.encode_to_vec())
            .await
            .unwrap();
        let (status, body) = callbacks.written.lock().unwrap().clone();
        let body = String::from_utf8_lossy(&body).into_owned();
        assert_eq!(status, 200, "{case:?}: {body}");
        assert!(
            body.contains(r#""id":3"#) && body.contains("result"),
            "{case:?}: {body}"
        );
        match inline {
            true => assert!(reply.is_empty(), "{case:?}: Empty is zero bytes"),
            false => {
                let reply = layouts::HttpResponse::decode(reply.as_slice()).unwrap();
                assert!(
                    reply.header.iter().any(|h| h.key == "Content-Type"),
                    "{case:?}: {reply:?}"
                );
            }
        }
        plugin.stop().await;
    }
}

// Switch: from 42 HandleSimple's reply starts from the node's preset headers
// (`response_headers`, field 5), since the node replaces its header map with the reply's.
#[tokio::test]
async fn handle_simple_echoes_preset_headers_from_42() {
    let plugin = launch_case(avalanchego(42)).await;
    plugin.initialize(false).await;
    let server = VmClient::connect(&plugin.http_server().await)
        .await
        .unwrap();
    let request = pb_http::HandleSimpleHttpRequest {
        method: "POST".into(),
        url: "/ext/bc/x".into(),
        request_headers: vec![json_header()],
        body: br#"{"jsonrpc":"2.0","id":1,"method":"timestampvm.mempoolSize","params":{}}"#
            .to_vec(),
        response_headers: vec![pb_http::Element {
            key: "Node-Id".into(),
            values: vec!["NodeID-test".into()],
        }],
    };
    let reply = server
        .call_raw("/http.HTTP/HandleSimple", request.encode_to_vec())
        .await
        .unwrap();
    let reply = pb_http::HandleSimpleHttpResponse::decode(reply.as_slice()).unwrap();
    assert_eq!(reply.code, 200);
    assert!(
        reply.headers.iter().any(|h| h.key == "Node-Id"),
        "{:?}",
        reply.headers
    );
    plugin.stop().await;
}
