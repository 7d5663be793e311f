//! The SDK's example VM (`crates/rpcchainvm/examples/counter_vm.rs`) as a real plugin process,
//! driven by the host as a node would: handshake, chain start, a block built, verified and
//! accepted, then Shutdown, after which the plugin exits by itself. Played as a node of protocol
//! 46 (the plugin waits for `WaitForEvent`) and of 35 (the plugin must call `Messenger.Notify`,
//! and block answers carry a status).
//!
//! The example is built by this test with the cargo that runs it (`cargo build --example
//! counter_vm -p rpcchainvm --message-format=json`), and its path read from cargo's own
//! `executable` report: no guess about target directories or profiles, and a stale binary
//! cannot be tested, since cargo rebuilds it when the SDK changed.

use rpcchainvm::ids::{Id, NodeId};
use rpcchainvm::pb::http::http_client::HttpClient;
use rpcchainvm::pb::http::{Element, HandleSimpleHttpRequest};
use rpcchainvm::pb::vm as pb;
use rpcchainvm::protocol::{HostFlavour, Profile};
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm_host::{BlockSummary, ChainParams, LaunchOptions, NodeServices, PluginProcess};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

const BOUND: Duration = Duration::from_secs(60);

/// Builds the example once per test process and returns its path.
fn counter_vm() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
            let output = std::process::Command::new(env!("CARGO"))
                .current_dir(workspace)
                .args(["build", "--example", "counter_vm", "-p", "rpcchainvm"])
                .arg("--message-format=json")
                .stderr(std::process::Stdio::inherit())
                .output()
                .expect("run cargo");
            assert!(output.status.success(), "building the example failed");
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .filter(|message| message["target"]["name"] == "counter_vm")
                .find_map(|message| message["executable"].as_str().map(PathBuf::from))
                .expect("cargo reported the example's executable")
        })
        .clone()
}

/// One JSON call to the chain's endpoint through `http.HTTP/HandleSimple`, as the node forwards
/// an HTTP/1.1 request.
async fn post(server: &str, body: Value) -> Value {
    let channel = rpcchainvm::transport::connect(server).await.unwrap();
    let reply = HttpClient::new(channel)
        .handle_simple(HandleSimpleHttpRequest {
            method: "POST".into(),
            url: "/ext/bc/counter".into(),
            request_headers: vec![Element {
                key: "Content-Type".into(),
                values: vec!["application/json".into()],
            }],
            body: body.to_string().into_bytes(),
            response_headers: Vec::new(),
        })
        .await
        .expect("HandleSimple")
        .into_inner();
    assert_eq!(reply.code, 200, "{}", String::from_utf8_lossy(&reply.body));
    serde_json::from_slice(&reply.body).unwrap()
}

async fn a_block_through_the_host(binary: PathBuf, profile: Profile) {
    let node_id = NodeId([7; 20]);
    let shutdown = Shutdown::new();
    let (services_addr, services) = NodeServices::serve_as(
        profile,
        node_id,
        rpcchainvm_host::Network::new(),
        shutdown.clone(),
    )
    .await
    .expect("node services");
    let mut options = LaunchOptions::new(binary);
    options.profile = profile;
    let announced = profile.announced().to_string();
    options.extra_env = vec![("GRPC_STAMPVM_PROTOCOL".into(), announced.into())];
    let process = PluginProcess::launch(options).await.expect("handshake");
    let client = process.vm_client().await.expect("dial the plugin");

    let dir = tempfile::tempdir().unwrap();
    let params = ChainParams::new(
        node_id,
        dir.path().join("chain"),
        b"5".to_vec(),
        services_addr.to_string(),
    )
    .with_profile(profile);
    let start = client.start_chain(&params).await.expect("start the chain");
    assert_eq!(start.last_accepted.height, 0);
    let genesis = start.last_accepted.id;
    let server = start.handlers[0].server_addr.clone();
    let before = post(&server, json!({})).await;
    assert_eq!(before, json!({"value": 5, "height": 0, "pending": 0}));
    assert_eq!(post(&server, json!({"add": 3})).await["pending"], 3);

    // The plugin says a block can be built, in the profile's way.
    let told = async {
        match profile.node_waits_for_events() {
            true => {
                let event = client.wait_for_event().await.expect("WaitForEvent");
                assert_eq!(event.message, pb::Message::BuildBlock as i32);
            }
            false => {
                let message = services.notify_slot().next().await;
                assert_eq!(
                    message,
                    rpcchainvm::pb::messenger::Message::BuildBlock as i32
                );
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), told)
        .await
        .expect("told to build");

    let built = client
        .build_block(pb::BuildBlockRequest::default())
        .await
        .expect("BuildBlock");
    let built = BlockSummary::from_build(built).expect("a well-formed block");
    assert_eq!((built.height, built.parent_id), (1, genesis));
    let parsed = client
        .parse_block(pb::ParseBlockRequest {
            bytes: built.bytes.clone(),
        })
        .await
        .expect("ParseBlock checked by the host for this profile");
    assert_eq!(parsed.id, built.id.0.to_vec());
    let verified = client
        .block_verify(pb::BlockVerifyRequest {
            bytes: built.bytes.clone(),
            ..Default::default()
        })
        .await
        .expect("BlockVerify");
    assert_eq!(verified.timestamp, Some(built.timestamp));
    client
        .set_preference(pb::SetPreferenceRequest {
            id: built.id.0.to_vec(),
        })
        .await
        .unwrap();
    client
        .block_accept(pb::BlockAcceptRequest {
            id: built.id.0.to_vec(),
        })
        .await
        .expect("BlockAccept");

    let at_one = client
        .get_block_id_at_height(pb::GetBlockIdAtHeightRequest { height: 1 })
        .await
        .unwrap();
    assert_eq!(Id::from_slice(&at_one.blk_id), Some(built.id));
    assert_eq!(
        post(&server, json!({})).await,
        json!({"value": 8, "height": 1, "pending": 0})
    );

    // Shutdown stops the chain and the process: it exits by itself, successfully.
    client.shutdown().await.expect("Shutdown");
    let exit = process
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("the plugin exits");
    assert!(exit.success(), "{exit:?}");
    shutdown.trigger();
}

#[tokio::test]
async fn the_example_vm_builds_and_accepts_a_block_at_46() {
    // Built before the bound starts: a cold build of the example takes longer than a run.
    let binary = counter_vm();
    let run = a_block_through_the_host(binary, Profile::latest());
    tokio::time::timeout(BOUND, run).await.unwrap();
}

#[tokio::test]
async fn the_example_vm_builds_and_accepts_a_block_at_35() {
    let binary = counter_vm();
    let profile = Profile::new(35, HostFlavour::AvalancheGo).unwrap();
    let run = a_block_through_the_host(binary, profile);
    tokio::time::timeout(BOUND, run).await.unwrap();
}
