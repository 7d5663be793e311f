//! The whole lifecycle once per profile the plugin speaks (every number in `SUPPORTED`, and
//! luxd's 30, 35 and "43"), with the host playing that profile's node throughout: the handshake
//! expects that number, the chain is started in that node's call order with its message layouts
//! (field 13 of Initialize, `Handler`, `Connected`), blocks are built through its trigger
//! (Messenger.Notify up to 41 and on luxd, WaitForEvent from 42), and HTTP follows its rules
//! (which RPC carries which request, inline or streamed `Handle` bodies, header merge or
//! replace, header routes at 41 and 42+). Up to 30 the static-handler process runs too and its
//! API answers at `/ext/vm/<vmID>`.
//!
//! Fails if the plugin announces another number, if any call errors or answers out of contract
//! for that profile (the host checks what the node checks: block status up to 35, handler
//! layouts, IDs, timestamps), or if an answer differs from what that node's clients would get.
//! One plugin per profile (plus the static one up to 30); each profile is its own test.
//!
//! A node newer than this build (the newest number + 1, speaking the newest wire) runs the same
//! lifecycle when the operator opted in with `GRPC_STAMPVM_FOLLOW_NEWER=1`; without the opt-in it
//! is refused before the handshake (tests/profile_choice.rs).
//!
//! `stampvm dev --protocol N` is checked here too: it plays the chosen node the same way.

use crate::common;

use common::*;
use reqwest::{Client, Version};
use rpcchainvm::pb::vm as pb;
use rpcchainvm::protocol::{
    ExtraHandlerRpc, HandlerLayout, HostFlavour, Profile, FOLLOW_NEWER_ENV_VAR, LATEST, SUPPORTED,
};
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm_host::gateway::{HTTP2_CHAIN_HEADER, ROUTE_HEADER};
use rpcchainvm_host::rpcdb::NodeDatabase;
use rpcchainvm_host::vm_client::NO_LOCK;
use rpcchainvm_host::{EngineMode, LaunchOptions, Network, SoloEngine, StaticHandlerProcess};
use serde_json::{json, Value};
use stampvm::chain::Id;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One test per profile, and the list they cover.
macro_rules! profile_tests {
    ($($name:ident: $flavour:ident $number:literal;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let profile = Profile::new($number, HostFlavour::$flavour).unwrap();
                lifecycle(profile).await;
            }
        )*
        const COVERED: &[(HostFlavour, u32)] = &[$((HostFlavour::$flavour, $number)),*];
    };
}

profile_tests! {
    avalanchego_28: AvalancheGo 28;
    avalanchego_29: AvalancheGo 29;
    avalanchego_30: AvalancheGo 30;
    avalanchego_31: AvalancheGo 31;
    avalanchego_33: AvalancheGo 33;
    avalanchego_34: AvalancheGo 34;
    avalanchego_35: AvalancheGo 35;
    avalanchego_36: AvalancheGo 36;
    avalanchego_37: AvalancheGo 37;
    avalanchego_38: AvalancheGo 38;
    avalanchego_39: AvalancheGo 39;
    avalanchego_40: AvalancheGo 40;
    avalanchego_41: AvalancheGo 41;
    avalanchego_42: AvalancheGo 42;
    avalanchego_43: AvalancheGo 43;
    avalanchego_44: AvalancheGo 44;
    avalanchego_45: AvalancheGo 45;
    avalanchego_46: AvalancheGo 46;
    luxd_30: Luxd 30;
    luxd_35: Luxd 35;
    luxd_43: Luxd 43;
}

// The next AvalancheGo, announcing LATEST + 1 over LATEST's wire, played with the opt-in.
#[tokio::test]
async fn newer_node_followed_with_the_opt_in() {
    let profile = Profile::following_newer(LATEST + 1).unwrap();
    assert_eq!(profile.wire(), LATEST);
    lifecycle(profile).await;
}

// A number added to SUPPORTED without a test here would go unchecked.
#[test]
fn every_supported_profile_has_a_test() {
    for &number in SUPPORTED {
        assert!(
            COVERED.contains(&(HostFlavour::AvalancheGo, number)),
            "no lifecycle test for protocol {number}"
        );
    }
    for number in [30, 35, 43] {
        assert!(
            COVERED.contains(&(HostFlavour::Luxd, number)),
            "luxd {number}"
        );
    }
}

/// The VM ID the static handlers are mounted under (`stampvm vm-id stampvm`).
fn vm_id() -> Id {
    Id::from_name("stampvm").unwrap()
}

/// What a client sees of one HTTP reply.
#[derive(Debug, PartialEq)]
struct Reply<B = Value> {
    status: u16,
    node_id: Option<String>,
    body: B,
}

/// POSTs a JSON-RPC call over HTTP/1.1 or HTTP/2 (prior knowledge) with extra `headers`; the
/// reply must be JSON.
async fn post(url: &str, version: Version, headers: &[(&str, String)], call: &Value) -> Reply {
    let reply = send(url, version, headers, call).await;
    let body = serde_json::from_str(&reply.body)
        .unwrap_or_else(|e| panic!("{e}: {} {}", reply.status, reply.body));
    Reply {
        status: reply.status,
        node_id: reply.node_id,
        body,
    }
}

/// [`post`] without expecting JSON back.
async fn send(
    url: &str,
    version: Version,
    headers: &[(&str, String)],
    call: &Value,
) -> Reply<String> {
    let client = match version {
        Version::HTTP_2 => Client::builder().http2_prior_knowledge().build(),
        _ => Client::builder().http1_only().build(),
    };
    let mut request = client
        .unwrap()
        .post(url)
        .header("content-type", "application/json")
        .body(call.to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("HTTP request");
    assert_eq!(response.version(), version, "protocol of {url}");
    let status = response.status().as_u16();
    let node_id = response
        .headers()
        .get("node-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.text().await.expect("reply body");
    Reply {
        status,
        node_id,
        body,
    }
}

/// Everything the plugin logs, kept for assertions.
fn capture_output(options: &mut LaunchOptions) -> Arc<Mutex<Vec<String>>> {
    let (sink, mut lines) = tokio::sync::mpsc::unbounded_channel();
    options.output = Some(sink);
    let kept = Arc::new(Mutex::new(Vec::new()));
    let copy = kept.clone();
    tokio::spawn(async move {
        while let Some(line) = lines.recv().await {
            copy.lock().unwrap().push(line);
        }
    });
    kept
}

async fn lifecycle(profile: Profile) {
    let dir = tempfile::tempdir().unwrap();
    let database_stop = Shutdown::new();
    let database = NodeDatabase::serve(database_stop.clone()).await.unwrap();
    let mut output = None;
    let process = launch_as(&format!("{profile}"), profile, |options| {
        output = Some(capture_output(options));
        if profile.follows_newer() {
            options
                .extra_env
                .push((FOLLOW_NEWER_ENV_VAR.into(), "1".into()));
        }
    })
    .await;
    let output = output.unwrap();
    assert_eq!(process.protocol(), profile.announced(), "announced number");
    let node = start_chain_with(process, node_id(1), &Network::new(), dir.path(), |params| {
        params.db_server_addr = database.addr().to_string();
    })
    .await;

    // Field 13 was read in this profile's layout (a list at 28-29, a string after): the plugin
    // reports the address it found.
    let initialized = output
        .lock()
        .unwrap()
        .iter()
        .find(|line| line.contains("chain initialized"))
        .cloned()
        .unwrap_or_default();
    let expected = format!("db_server={}", database.addr());
    assert!(initialized.contains(&expected), "{profile}: {initialized}");
    // At 28 the handlers carry lock_options, and it must be NoLock: with anything else the node
    // would hold the chain's lock for every API request.
    let lock = match profile.handler_layout() {
        HandlerLayout::WithLockOptions => Some(NO_LOCK),
        HandlerLayout::Plain => None,
    };
    for handler in &node.started.handlers {
        assert_eq!(handler.lock_options, lock, "{profile}: {handler:?}");
    }
    let extra = profile.extra_handler_rpc();
    assert_eq!(
        node.started.http_handler_addr.is_some(),
        extra != ExtraHandlerRpc::None,
        "{profile}: the extra handler RPC"
    );

    // Proposed through HandleSimple, built through the profile's trigger, accepted.
    let engine = SoloEngine::new(
        node.client.clone(),
        EngineMode::for_node(&node.services),
        &node.started.last_accepted,
    )
    .spawn(node.shutdown.clone());
    let data = payload(u64::from(profile.announced()));
    assert_eq!(node.propose(&data).await, json!({"Success": true}));
    let tip = engine.wait_for_height(1, Duration::from_secs(10)).await;
    let tip = tip.unwrap_or_else(|| panic!("{profile}: no block within 10 s"));
    let notified = node.services.counters().notifies;
    match profile.node_waits_for_events() {
        true => assert_eq!(notified, 0, "{profile}: no Messenger at this profile"),
        false => assert!(notified >= 1, "{profile}: the block came without Notify"),
    }

    // The proposal was gossiped in a layout this profile's node reads (msg-only up to 33,
    // with counts at 34, targeted from 35); the host refuses and counts any other.
    let mut counters = node.services.counters();
    for _ in 0..500 {
        if counters.gossip_calls + counters.gossip_refused > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        counters = node.services.counters();
    }
    assert_eq!(
        (counters.gossip_calls > 0, counters.gossip_refused),
        (true, 0),
        "{profile}: SendAppGossip in this profile's layout"
    );

    check_blocks(&node, tip.id, &data).await;
    check_http(&node, tip.id, &data).await;
    if profile.serves_static_handlers() {
        check_static_api(profile, &node).await;
    }

    node.shutdown.trigger();
    engine.join().await;
    node.stop().await;
    database_stop.trigger();
}

/// The node-side block calls: every answer in contract for the profile (the host's client checks
/// the `status` where the node reads it).
async fn check_blocks(node: &TestNode, id: Id, data: &[u8; 32]) {
    let profile = node.profile();
    let reply = node
        .rpc("timestampvm.getBlock", json!({"id": id.to_string()}))
        .await;
    assert_eq!(reply["result"]["data"], payload_hex(data), "{reply}");
    let at_one = node
        .client
        .get_block_id_at_height(pb::GetBlockIdAtHeightRequest { height: 1 })
        .await
        .unwrap();
    assert_eq!((at_one.blk_id, at_one.err), (id.0.to_vec(), 0));

    let got = node
        .client
        .get_block(pb::GetBlockRequest { id: id.0.to_vec() })
        .await
        .unwrap();
    let accepted = match profile.sends_block_status() {
        true => pb::Status::Accepted as i32,
        false => pb::Status::Unspecified as i32,
    };
    assert_eq!((got.height, got.status), (1, accepted), "{profile}");
    let parsed = node
        .client
        .parse_block(pb::ParseBlockRequest {
            bytes: got.bytes.clone(),
        })
        .await
        .unwrap();
    assert_eq!((parsed.id, parsed.status), (id.0.to_vec(), accepted));
    let batch = node
        .client
        .batched_parse_block(pb::BatchedParseBlockRequest {
            request: vec![got.bytes],
        })
        .await
        .unwrap();
    assert_eq!(batch.response.len(), 1);

    let missing = node
        .client
        .get_block(pb::GetBlockRequest { id: vec![7; 32] })
        .await
        .unwrap();
    assert_eq!(missing.err, pb::Error::NotFound as i32);
    let sync = node.client.get_last_state_summary().await.unwrap();
    assert_eq!(
        sync.err,
        profile.err_state_sync_not_implemented(),
        "{profile}"
    );
    let health = node.client.health().await.unwrap();
    let details: Value = serde_json::from_slice(&health.details).unwrap();
    assert_eq!(details["health"]["lastAcceptedHeight"], 1);
    let gathered = node.client.gather().await.unwrap();
    assert!(!gathered.metric_families.is_empty());
}

/// The same getBlock through every path the profile's node has: HandleSimple, Handle for an
/// `Upgrade` request (body inline up to 39, streamed after), Handle for HTTP/2 from 41 (routed
/// by `chain-id` at 41), and the `Avalanche-Api-Route` header from 42. All answer alike; the
/// gateway's counters show which RPC carried each.
async fn check_http(node: &TestNode, id: Id, data: &[u8; 32]) {
    let profile = node.profile();
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "timestampvm.getBlock",
        "params": {"id": id.to_string()}});
    let url = node.rpc_url();
    let before = node.gateway.forwarded();
    let simple = post(&url, Version::HTTP_11, &[], &call).await;
    assert_eq!(simple.status, 200, "{profile}: {:?}", simple.body);
    assert_eq!(simple.body["result"]["data"], payload_hex(data));
    // HandleSimple keeps the node's preset `node-id` where the node merges (up to 39) or sends
    // it for the plugin to echo (42+); at 40-41 it is lost, as on the real node.
    let keeps_preset = profile.node_merges_response_headers() || profile.echoes_response_headers();
    let node_id = node.node_id.to_string();
    assert_eq!(
        simple.node_id.as_deref(),
        keeps_preset.then_some(node_id.as_str()),
        "{profile}: node-id after HandleSimple"
    );

    let upgrade = [("upgrade", "stampvm-test".to_owned())];
    let handled = post(&url, Version::HTTP_11, &upgrade, &call).await;
    // Handle always gets the preset headers in ResponseWriter.header, which the plugin copies.
    assert_eq!(
        handled.node_id.as_deref(),
        Some(node_id.as_str()),
        "{profile}"
    );
    assert_eq!(
        (handled.status, &handled.body),
        (200, &simple.body),
        "{profile}"
    );
    let (mut simple_calls, mut handle_calls) = (1, 1);

    let chain = node.params.chain_id.to_string();
    match profile.extra_handler_rpc() {
        ExtraHandlerRpc::None => {}
        ExtraHandlerRpc::CreateHttp2Handler => {
            // Any path: at 41 the header, not the path, picks the chain of an HTTP/2 request.
            let base = format!("http://{}/anything", node.gateway.local_addr());
            let header = [(HTTP2_CHAIN_HEADER, chain)];
            let routed = post(&base, Version::HTTP_2, &header, &call).await;
            assert_eq!((routed.status, &routed.body), (200, &simple.body));
            handle_calls += 1;
            // And without the header an HTTP/2 request reaches nothing, not even a path route.
            let unrouted = send(&url, Version::HTTP_2, &[], &call).await;
            assert_eq!(unrouted.status, 404, "{profile}: {}", unrouted.body);
        }
        ExtraHandlerRpc::NewHttpHandler => {
            let by_path = post(&url, Version::HTTP_2, &[], &call).await;
            assert_eq!((by_path.status, &by_path.body), (200, &simple.body));
            let base = format!("http://{}/anything", node.gateway.local_addr());
            let header = [(ROUTE_HEADER, chain)];
            let routed = post(&base, Version::HTTP_11, &header, &call).await;
            assert_eq!((routed.status, &routed.body), (200, &simple.body));
            handle_calls += 1;
            simple_calls += 1;
        }
    }
    if !profile.routes_http2_through_handle() {
        // Before 41 an HTTP/2 request without Upgrade is a plain one: HandleSimple.
        let h2 = post(&url, Version::HTTP_2, &[], &call).await;
        assert_eq!((h2.status, &h2.body), (200, &simple.body));
        simple_calls += 1;
    }
    let after = node.gateway.forwarded();
    assert_eq!(
        (
            after.handle_simple - before.handle_simple,
            after.handle - before.handle
        ),
        (simple_calls, handle_calls),
        "{profile}: (HandleSimple, Handle) calls"
    );
}

/// Up to 30: the node's second registration-time process, asked for its static handlers without
/// Initialize; they answer at `/ext/vm/<vmID>` like the Go TimestampVM's static service.
async fn check_static_api(profile: Profile, node: &TestNode) {
    let mut options = LaunchOptions::new(plugin_binary());
    options.name = format!("static {profile}");
    options.profile = profile;
    options.extra_env.push((
        "GRPC_STAMPVM_PROTOCOL".into(),
        profile.announced().to_string().into(),
    ));
    let process = StaticHandlerProcess::launch(options)
        .await
        .expect("static handlers")
        .expect("a static-handler process up to 30");
    let lock = match profile.handler_layout() {
        HandlerLayout::WithLockOptions => Some(NO_LOCK),
        HandlerLayout::Plain => None,
    };
    for handler in process.handlers() {
        assert_eq!(handler.lock_options, lock, "{profile}: {handler:?}");
    }
    node.gateway
        .register_vm(vm_id(), process.routes())
        .expect("static handlers mount");
    let url = format!("http://{}/ext/vm/{}", node.gateway.local_addr(), vm_id());
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "timestampvm.encode",
        "params": {"data": "hello"}});
    let reply = post(&url, Version::HTTP_11, &[], &call).await;
    // `hello` in AvalancheGo's hex encoding: 0x, the bytes, the last 4 bytes of their SHA-256.
    let expected = json!({"jsonrpc": "2.0",
        "result": {"bytes": "0x68656c6c6f938b9824", "encoding": "hex"}, "id": 1});
    assert_eq!((reply.status, &reply.body), (200, &expected), "{profile}");
    node.gateway.remove_vm(vm_id());
    let status = process.stop().await.expect("static process stops");
    assert!(
        status.success(),
        "{profile}: static process exited with {status}"
    );
}

// `stampvm dev --protocol 30` plays that node end to end: its banner names the profile and the
// static API, a proposal becomes a block through Messenger.Notify (dev's engine has no other
// trigger at 30), and the static API answers under `/ext/vm/<vmID>`.
#[tokio::test]
async fn dev_plays_the_chosen_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--metrics", "127.0.0.1:0", "--protocol", "30"];
    let mut dev = common::dev::DevProcess::spawn(&dir.path().join("dev"), &flags);
    let (lines, url) = dev.banner().await;
    assert!(
        lines
            .iter()
            .any(|l| l == "node: avalanchego protocol 30 (the plugin speaks it too)"),
        "{lines:?}"
    );
    let static_url = lines
        .iter()
        .find_map(|l| l.strip_prefix("static API: "))
        .unwrap_or_else(|| panic!("no static API line: {lines:?}"))
        .to_owned();
    assert!(
        static_url.ends_with(&format!("/ext/vm/{}", vm_id())),
        "{static_url}"
    );

    let data = payload(30);
    let propose = json!({"jsonrpc": "2.0", "id": 1, "method": "timestampvm.proposeBlock",
        "params": {"data": payload_hex(&data)}});
    let reply = post(&url, Version::HTTP_11, &[], &propose).await;
    assert_eq!(
        reply.body["result"],
        json!({"Success": true}),
        "{:?}",
        reply.body
    );
    let last = json!({"jsonrpc": "2.0", "id": 2, "method": "timestampvm.getBlock", "params": {}});
    let mut block = Value::Null;
    for _ in 0..100 {
        block = post(&url, Version::HTTP_11, &[], &last).await.body;
        if block["result"]["data"] == payload_hex(&data) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        block["result"]["height"], "1",
        "no block within 10 s: {block}"
    );

    let encode = json!({"jsonrpc": "2.0", "id": 1, "method": "timestampvm.encode",
        "params": {"data": "hello"}});
    let reply = post(&static_url, Version::HTTP_11, &[], &encode).await;
    assert_eq!(
        reply.body["result"]["bytes"], "0x68656c6c6f938b9824",
        "{:?}",
        reply.body
    );
    dev.interrupt().await;
}

// A number no node of the chosen flavour has is refused before anything starts, naming it.
#[test]
fn dev_refuses_an_unsupported_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(plugin_binary())
        .args([
            "dev",
            "--http",
            "127.0.0.1:0",
            "--no-metrics",
            "--protocol",
            "32",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env_clear()
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("RPCChainVM protocol 32 is not supported"),
        "{stderr}"
    );
}
