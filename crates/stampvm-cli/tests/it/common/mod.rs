//! Shared setup for the integration tests: every test launches the real `stampvm` binary as a
//! plugin through [`rpcchainvm_host`] (the node's side), over loopback sockets, and talks to its
//! JSON-RPC API through the host's HTTP gateway exactly as a client of a node would.
#![allow(dead_code)] // tests/crash_under_load.rs uses only a part of this module

pub mod dev;

use rpcchainvm::pb::vm as pb;
use rpcchainvm::protocol::Profile;
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm_host::gateway::{Gateway, GatewayLimits};
use rpcchainvm_host::node::{Node, RunningNode};
use rpcchainvm_host::{
    ChainParams, ChainStart, LaunchOptions, Network, NodeServicesHandle, PluginProcess, VmClient,
};
use serde_json::{json, Value};
use stampvm::api::data::{format_payload, Encoding};
use stampvm::chain::{Id, NodeId};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The binary under test, built by cargo for this test run.
pub fn plugin_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stampvm"))
}

/// Runs the binary as a command-line tool (`stampvm <args>`) with an empty environment; asserts it
/// succeeded and returns its stdout.
pub fn run_cli(args: &[&str]) -> String {
    let out = std::process::Command::new(plugin_binary())
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// A distinct, recognisable NodeID per test node.
pub fn node_id(n: u8) -> NodeId {
    NodeId([n; 20])
}

/// A distinct payload per `n` (what users propose: 32-byte hashes).
pub fn payload(n: u64) -> [u8; 32] {
    Id::sha256(&n.to_be_bytes()).0
}

pub fn payload_hex(payload: &[u8; 32]) -> String {
    format_payload(payload, Encoding::Hex)
}

/// Launches the plugin as the node does (empty environment, engine address, 5 s handshake).
pub async fn launch(name: &str) -> PluginProcess {
    launch_with(name, |_| {}).await
}

/// [`launch`] with `tweak` applied to the options first (e.g. an [`LaunchOptions::output`] sink).
pub async fn launch_with(name: &str, tweak: impl FnOnce(&mut LaunchOptions)) -> PluginProcess {
    let mut options = LaunchOptions::new(plugin_binary());
    options.name = name.to_string();
    tweak(&mut options);
    PluginProcess::launch(options)
        .await
        .expect("plugin launches and handshakes")
}

/// [`launch_with`] with the host playing `profile`, and the plugin told to speak it the way an
/// operator does (`GRPC_STAMPVM_PROTOCOL`, which the node forwards).
pub async fn launch_as(
    name: &str,
    profile: Profile,
    tweak: impl FnOnce(&mut LaunchOptions),
) -> PluginProcess {
    launch_with(name, |options| {
        options.profile = profile;
        options.extra_env.push((
            "GRPC_STAMPVM_PROTOCOL".into(),
            profile.announced().to_string().into(),
        ));
        tweak(options);
    })
    .await
}

/// One node of a test network: its plugin process, the node-side services and HTTP gateway,
/// all playing the profile the process was launched for.
pub struct TestNode {
    pub process: PluginProcess,
    pub client: VmClient,
    pub services: NodeServicesHandle,
    pub node_id: NodeId,
    pub params: ChainParams,
    pub started: ChainStart,
    pub gateway: Gateway,
    pub shutdown: Shutdown,
}

/// The chain every test node runs unless a test says otherwise.
pub const GENESIS: &[u8] = b"stampvm test chain";

/// Launches a plugin and starts a chain on it in the node's order, with its own NodeServices
/// (gossip relayed through `network`) and an HTTP gateway on an ephemeral loopback port.
pub async fn start_node(
    name: &str,
    node: NodeId,
    network: &Network,
    chain_data_dir: &Path,
    config: &str,
) -> TestNode {
    let process = launch(name).await;
    start_chain_on(process, node, network, chain_data_dir, config).await
}

/// [`start_node`] on a chain of its own: `genesis` instead of [`GENESIS`] (e.g. a batched
/// chain's JSON genesis, `{"format": "batched", ...}`), and `config` as the chain config.
pub async fn start_node_with_genesis(
    name: &str,
    node: NodeId,
    network: &Network,
    chain_data_dir: &Path,
    genesis: &[u8],
    config: &str,
) -> TestNode {
    let process = launch(name).await;
    start_chain_with(process, node, network, chain_data_dir, |params| {
        params.genesis_bytes = genesis.to_vec();
        params.config_bytes = config.as_bytes().to_vec();
    })
    .await
}

/// [`start_node`] on a plugin the test launched itself (e.g. with [`LaunchOptions::output`] set):
/// its own NodeServices, StartChain, joining `network`, and the HTTP gateway, all playing the
/// process's profile.
pub async fn start_chain_on(
    process: PluginProcess,
    node: NodeId,
    network: &Network,
    chain_data_dir: &Path,
    config: &str,
) -> TestNode {
    start_chain_with(process, node, network, chain_data_dir, |params| {
        params.config_bytes = config.as_bytes().to_vec();
    })
    .await
}

/// [`start_chain_on`] with `tweak` applied to the chain parameters before the start. The start is
/// the host's ([`Node::with_process`]): its own NodeServices, StartChain in the node's order,
/// joining `network`, and an HTTP gateway on an ephemeral loopback port.
pub async fn start_chain_with(
    process: PluginProcess,
    node: NodeId,
    network: &Network,
    chain_data_dir: &Path,
    tweak: impl FnOnce(&mut ChainParams) + Send,
) -> TestNode {
    let running = Node::with_process(process, chain_data_dir)
        .node_id(node)
        .genesis(GENESIS)
        .network(network.clone())
        .gateway("127.0.0.1:0".parse().unwrap())
        .chain_params(tweak)
        .start()
        .await
        .expect("node starts");
    TestNode::from(running)
}

impl From<RunningNode> for TestNode {
    fn from(running: RunningNode) -> TestNode {
        let parts = running.into_parts();
        TestNode {
            node_id: parts.params.node_id,
            process: parts.process,
            client: parts.client,
            services: parts.services,
            params: parts.params,
            started: parts.started,
            gateway: parts.gateway.expect("the test node serves HTTP"),
            shutdown: parts.shutdown,
        }
    }
}

impl TestNode {
    /// The profile this node plays.
    pub fn profile(&self) -> Profile {
        self.process.profile()
    }

    /// The node's JSON-RPC URL for this chain (`/ext/bc/<chainID>/rpc`).
    pub fn rpc_url(&self) -> String {
        format!(
            "http://{}/ext/bc/{}/rpc",
            self.gateway.local_addr(),
            self.params.chain_id
        )
    }

    /// A second HTTP gateway of this node, on its own port, serving the same chain within
    /// `limits` (e.g. short timeouts, or a body limit above the plugin's to reach its own).
    pub async fn gateway_with(&self, limits: GatewayLimits) -> Gateway {
        let gateway = Gateway::bind_with(
            "127.0.0.1:0".parse().unwrap(),
            self.node_id,
            self.profile(),
            limits,
        )
        .await
        .expect("gateway binds");
        let handlers = self
            .started
            .handlers
            .iter()
            .map(|h| (h.prefix.clone(), h.server_addr.clone()))
            .collect();
        gateway
            .register_chain(
                self.params.chain_id,
                handlers,
                self.started.http_handler_addr.clone(),
            )
            .expect("handlers mount");
        gateway.set_ready(self.params.chain_id, true);
        gateway.spawn(self.shutdown.clone());
        gateway
    }

    /// One JSON-RPC call through the node's HTTP API; returns the whole reply object.
    pub async fn rpc(&self, method: &str, params: Value) -> Value {
        json_rpc(&self.rpc_url(), method, params).await
    }

    /// Proposes `payload` and returns the `result` object.
    pub async fn propose(&self, payload: &[u8; 32]) -> Value {
        let reply = self
            .rpc(
                "timestampvm.proposeBlock",
                json!({"data": payload_hex(payload)}),
            )
            .await;
        reply["result"].clone()
    }

    /// The node's engine step for one block this node builds: BuildBlock, then BlockVerify,
    /// SetPreference and BlockAccept, as a one-validator network decides it.
    pub async fn build_and_accept(&self) -> pb::BuildBlockResponse {
        let built = self
            .client
            .build_block(pb::BuildBlockRequest {
                p_chain_height: Some(0),
            })
            .await
            .expect("BuildBlock");
        self.client
            .block_verify(pb::BlockVerifyRequest {
                bytes: built.bytes.clone(),
                p_chain_height: None,
            })
            .await
            .expect("BlockVerify of our own block");
        self.client
            .set_preference(pb::SetPreferenceRequest {
                id: built.id.clone(),
            })
            .await
            .expect("SetPreference");
        self.client
            .block_accept(pb::BlockAcceptRequest {
                id: built.id.clone(),
            })
            .await
            .expect("BlockAccept");
        built
    }

    /// Waits (bounded) until the mempool holds `size` payloads.
    pub async fn wait_mempool(&self, size: u64) {
        for _ in 0..100 {
            let reply = self.rpc("timestampvm.mempoolSize", json!({})).await;
            if reply["result"]["size"].as_u64() == Some(size) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("mempool of {} never reached {size}", self.node_id);
    }

    /// The node's stop: Shutdown, then SIGTERM (SIGKILL after 5 s); asserts a clean exit.
    pub async fn stop(self) {
        self.gateway.set_ready(self.params.chain_id, false);
        stop_plugin(&self.process, &self.client, &self.shutdown).await;
    }
}

/// The node's stop of a plugin: Shutdown, then SIGTERM (SIGKILL after 5 s); asserts a clean exit.
pub async fn stop_plugin(process: &PluginProcess, client: &VmClient, shutdown: &Shutdown) {
    shutdown.trigger();
    let status = process
        .stop(client, Duration::from_secs(5))
        .await
        .expect("plugin stops");
    assert!(status.success(), "plugin exited with {status}");
}

/// A JSON-RPC 2.0 request over real HTTP.
pub async fn json_rpc(url: &str, method: &str, params: Value) -> Value {
    post_json(
        url,
        &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}),
    )
    .await
}

/// POSTs a JSON body (one JSON-RPC request, or a batch of them) and reads the JSON reply.
pub async fn post_json(url: &str, body: &Value) -> Value {
    reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .expect("HTTP request")
        .json()
        .await
        .expect("JSON reply")
}

/// The accepted block ID at `height` on `node`, or `None` (NOT_FOUND).
pub async fn id_at_height(node: &TestNode, height: u64) -> Option<Id> {
    let reply = node
        .client
        .get_block_id_at_height(pb::GetBlockIdAtHeightRequest { height })
        .await
        .expect("GetBlockIDAtHeight");
    if reply.err == pb::Error::NotFound as i32 {
        return None;
    }
    assert_eq!(reply.err, 0, "{}: height {height}", node.node_id);
    Some(Id::from_slice(&reply.blk_id).expect("32-byte ID"))
}

/// GetBlock's `err` for `id` (the call itself must succeed).
pub async fn get_block_err(node: &TestNode, id: Id) -> i32 {
    node.client
        .get_block(pb::GetBlockRequest { id: id.0.to_vec() })
        .await
        .expect("GetBlock answers with an OK status")
        .err
}

/// Runs a test body, failing it if it takes longer than `limit`: no test may hang CI.
pub async fn bounded(limit: Duration, test: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(limit, test)
        .await
        .expect("test finished within its bound");
}

/// SetPreference, as the engine sends it; must succeed.
pub async fn set_preference(node: &TestNode, id: Id) {
    node.client
        .set_preference(pb::SetPreferenceRequest { id: id.0.to_vec() })
        .await
        .expect("SetPreference");
}

/// The node's mempool size as `timestampvm.mempoolSize` reports it.
pub async fn mempool_size(node: &TestNode) -> u64 {
    let reply = node.rpc("timestampvm.mempoolSize", json!({})).await;
    reply["result"]["size"]
        .as_u64()
        .unwrap_or_else(|| panic!("{}: mempoolSize answered {reply}", node.node_id))
}

/// Proposes `data` expecting a refusal (`Success: false`); returns the refusal's reason.
pub async fn refused_reason(node: &TestNode, data: &[u8; 32]) -> String {
    let result = node.propose(data).await;
    assert_eq!(result["Success"], false, "{}: {result}", node.node_id);
    result["reason"].as_str().expect("a reason").to_string()
}

/// Waits (at most ~2 s) until `check` holds.
pub async fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..100 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The gRPC status of a call that must fail.
pub fn refused<T: std::fmt::Debug>(
    what: &str,
    result: Result<T, rpcchainvm_host::HostError>,
) -> (tonic::Code, String) {
    match result {
        Ok(answer) => panic!("{what}: expected an error status, got {answer:?}"),
        Err(error) => {
            let status = error
                .status()
                .unwrap_or_else(|| panic!("{what}: expected a gRPC status, got {error}"));
            (status.code(), status.message().to_string())
        }
    }
}

/// Raw HTTP POST with a given content type; returns (status, body).
pub async fn post_raw(url: &str, content_type: &str, body: Vec<u8>) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("HTTP request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// Waits for the next WaitForEvent answer, bounded.
pub async fn wait_for_build_event(client: &VmClient) {
    let event = tokio::time::timeout(Duration::from_secs(10), client.wait_for_event())
        .await
        .expect("WaitForEvent answered within 10 s")
        .expect("WaitForEvent succeeded");
    assert_eq!(event.message, pb::Message::BuildBlock as i32);
}

/// Appends everything `reader` produces to `sink`, on a thread of its own.
pub fn collect(
    mut reader: impl Read + Send + 'static,
    sink: Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
}
