//! The host end to end against the in-process fake plugin (`fake_plugin.rs`): the
//! chain-start call order of each profile, the engine building on WaitForEvent and on
//! Messenger.Notify, the node's checks of layouts and block status, raw calls, and the gossip
//! relay between two nodes in each gossip layout.

use super::fake_plugin::fake_plugin;
use super::*;
use prost::Message;
use rpcchainvm::ids::{Id, NodeId};
use rpcchainvm::pb::{appsender, messenger, vm as pb};
use rpcchainvm::protocol::{GossipLayout, HostFlavour, Profile};
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm::transport;
use std::time::Duration;

fn avalanchego(number: u32) -> Profile {
    Profile::new(number, HostFlavour::AvalancheGo).unwrap()
}

fn params(dir: &std::path::Path, node: NodeId, server: std::net::SocketAddr) -> ChainParams {
    ChainParams::new(
        node,
        dir.join("chain"),
        b"genesis".to_vec(),
        server.to_string(),
    )
}

// The chain-start calls must come in AvalancheGo's order (node-behaviour.md section 5), and a
// handler with an invalid prefix must be dropped as the node drops it.
#[tokio::test]
async fn start_chain_calls_in_the_node_order_then_builds_blocks() {
    let shutdown = Shutdown::new();
    let dir = tempfile::tempdir().unwrap();
    let (fake, client) = fake_plugin(&shutdown).await;
    let node = NodeId([7; 20]);
    let (addr, _services) = NodeServices::serve(node, Network::new(), shutdown.clone())
        .await
        .unwrap();
    let start = client
        .start_chain(&params(dir.path(), node, addr))
        .await
        .unwrap();
    assert_eq!(
        fake.0.lock().unwrap().calls,
        [
            "Initialize",
            "CreateHandlers",
            "NewHTTPHandler",
            "StateSyncEnabled",
            "SetState(2)",
            "Connected(avalanchego)",
            "SetPreference",
            "SetState(3)"
        ]
    );
    assert!(dir.path().join("chain").is_dir());
    assert_eq!(start.handlers.len(), 1);
    assert_eq!(start.http_handler_addr, None);

    fake.0.lock().unwrap().pending = 3;
    let engine = SoloEngine::new(
        client.clone(),
        EngineMode::WaitForEvent,
        &start.last_accepted,
    )
    .spawn(shutdown.clone());
    let tip = engine.wait_for_height(3, Duration::from_secs(5)).await;
    assert_eq!(tip.map(|t| t.accepted), Some(3));
    assert_eq!(fake.0.lock().unwrap().tip.1, 3);
    assert_eq!(client.version_probe().await.unwrap(), "fake/1.0");
    shutdown.trigger();
    engine.join().await;
}

// A failed BlockAccept stops the chain, as the node stops it (node-behaviour.md section 11): the
// engine builds nothing more and says which call failed on which block, and why. Fails if it
// keeps building on the unaccepted block (the fake's pending blocks run out) or never reports.
#[tokio::test]
async fn a_failed_accept_stops_the_engine() {
    let shutdown = Shutdown::new();
    let dir = tempfile::tempdir().unwrap();
    let (fake, client) = fake_plugin(&shutdown).await;
    let node = NodeId([7; 20]);
    let start = client
        .start_chain(&params(dir.path(), node, "127.0.0.1:1".parse().unwrap()))
        .await
        .unwrap();
    {
        let mut state = fake.0.lock().unwrap();
        state.pending = 3;
        state.fail_accept = Some("IO error: No space left on device".into());
    }
    let engine = SoloEngine::new(client, EngineMode::WaitForEvent, &start.last_accepted)
        .spawn(shutdown.clone());
    let failure = tokio::time::timeout(Duration::from_secs(5), engine.failed())
        .await
        .expect("the engine stops within 5 s");
    assert_eq!((failure.method, failure.height), ("vm.VM/BlockAccept", 1));
    let text = failure.to_string();
    assert!(text.contains("No space left on device"), "{text}");
    assert_eq!(engine.failure().map(|f| f.block), Some(failure.block));
    // One block built, none after it; the tip did not move.
    assert_eq!(fake.0.lock().unwrap().pending, 2);
    assert_eq!(engine.tip().accepted, 0);
    engine.join().await;
}

// Each profile's node calls in its own order (node-behaviour.md section 5): VerifyHeightIndex up
// to 34, CreateHTTP2Handler at 41, the version as one text in Connected up to 30.
#[tokio::test]
async fn start_chain_follows_each_profile() {
    let luxd_30 = Profile::new(30, HostFlavour::Luxd).unwrap();
    let cases = [
        (
            avalanchego(28),
            Some(2),
            vec!["VerifyHeightIndex"],
            "avalanche/1.10.9",
        ),
        (luxd_30, None, vec!["VerifyHeightIndex"], "lux/1.10.17"),
        (
            avalanchego(34),
            None,
            vec!["VerifyHeightIndex"],
            "avalanchego",
        ),
        (avalanchego(35), None, vec![], "avalanchego"),
        (
            avalanchego(41),
            None,
            vec!["CreateHTTP2Handler"],
            "avalanchego",
        ),
    ];
    for (profile, lock, extra, client_name) in cases {
        let shutdown = Shutdown::new();
        let dir = tempfile::tempdir().unwrap();
        let (fake, client) = fake_plugin(&shutdown).await;
        fake.0.lock().unwrap().handler_lock = lock;
        let client = client.with_profile(profile);
        let node = NodeId([7; 20]);
        let chain = params(dir.path(), node, "127.0.0.1:1".parse().unwrap()).with_profile(profile);
        let start = client.start_chain(&chain).await.unwrap();
        let (height_index, http2) = match extra.first() {
            Some(&"VerifyHeightIndex") => (extra.clone(), vec![]),
            _ => (vec![], extra.clone()),
        };
        let expected: Vec<String> = [
            vec!["Initialize"],
            height_index,
            vec!["CreateHandlers"],
            http2,
        ]
        .concat()
        .into_iter()
        .map(str::to_owned)
        .chain([
            "StateSyncEnabled".to_owned(),
            "SetState(2)".to_owned(),
            format!("Connected({client_name})"),
            "SetPreference".to_owned(),
            "SetState(3)".to_owned(),
        ])
        .collect();
        assert_eq!(fake.0.lock().unwrap().calls, expected, "{profile}");
        assert_eq!(start.handlers.len(), 1, "{profile}");
        shutdown.trigger();
    }
}

// A handler in the other profile's layout is the plugin speaking another protocol: the start
// fails and says which profile was expected. So do parameters for another profile.
#[tokio::test]
async fn start_chain_refuses_other_profiles() {
    let shutdown = Shutdown::new();
    let dir = tempfile::tempdir().unwrap();
    let server = "127.0.0.1:1".parse().unwrap();
    for (number, lock) in [(28, None), (28, Some(7)), (29, Some(2))] {
        let (fake, client) = fake_plugin(&shutdown).await;
        fake.0.lock().unwrap().handler_lock = lock;
        let profile = avalanchego(number);
        let chain = params(dir.path(), NodeId([7; 20]), server).with_profile(profile);
        let error = client.with_profile(profile).start_chain(&chain).await;
        let error = error.unwrap_err().to_string();
        assert!(error.contains("vm.VM/CreateHandlers"), "{error}");
        assert!(error.contains(&profile.to_string()), "{error}");
    }
    let (_, client) = fake_plugin(&shutdown).await;
    let chain = params(dir.path(), NodeId([7; 20]), server).with_profile(avalanchego(30));
    let error = client.start_chain(&chain).await.unwrap_err();
    assert!(
        matches!(error, HostError::ProfileConflict { .. }),
        "{error}"
    );
    shutdown.trigger();
}

// Up to 35 a parsed block must say PROCESSING, REJECTED or ACCEPTED; 0 is refused there and
// ignored later. The static handlers of 28-30 come without Initialize, in the profile's layout.
#[tokio::test]
async fn block_status_and_static_handlers_are_checked() {
    let shutdown = Shutdown::new();
    let (fake, client) = fake_plugin(&shutdown).await;
    let parse = |client: VmClient| async move {
        let request = pb::ParseBlockRequest { bytes: vec![1; 40] };
        client.parse_block(request).await
    };
    assert!(parse(client.clone().with_profile(avalanchego(35)))
        .await
        .is_err());
    assert!(parse(client.clone().with_profile(avalanchego(36)))
        .await
        .is_ok());
    fake.0.lock().unwrap().parse_status = pb::Status::Accepted as i32;
    let parsed = parse(client.clone().with_profile(avalanchego(35))).await;
    assert_eq!(parsed.unwrap().status, 3);

    let at_30 = client.clone().with_profile(avalanchego(30));
    assert_eq!(at_30.static_handlers().await.unwrap()[0].prefix, "/static");
    assert!(client
        .with_profile(avalanchego(28))
        .static_handlers()
        .await
        .is_err());
    assert_eq!(fake.0.lock().unwrap().calls, ["CreateStaticHandlers"; 2]);
    shutdown.trigger();
}

// call_raw sends the given bytes and returns the answer's bytes undecoded.
#[tokio::test]
async fn raw_calls_carry_bytes() {
    let shutdown = Shutdown::new();
    let (_fake, client) = fake_plugin(&shutdown).await;
    let bytes = client.call_raw("/vm.VM/Version", Vec::new()).await.unwrap();
    assert_eq!(hex::encode(&bytes), hex::encode(b"\x0a\x08fake/1.0"));
    let version = pb::VersionResponse::decode(bytes.as_slice()).unwrap();
    assert_eq!(version.version, "fake/1.0");
    let error = client.call_raw("/vm.VM/Nonexistent", Vec::new()).await;
    let error = error.unwrap_err();
    assert_eq!(
        error.status().map(|s| s.code()),
        Some(tonic::Code::Unimplemented)
    );
    assert!(error.to_string().contains("/vm.VM/Nonexistent"), "{error}");
    shutdown.trigger();
}

// A 42+ node has no Messenger: Notify is not a method there.
#[tokio::test]
async fn messenger_exists_only_where_the_node_has_it() {
    let shutdown = Shutdown::new();
    for (profile, served) in [(avalanchego(41), true), (avalanchego(42), false)] {
        let (addr, _services) =
            NodeServices::serve_as(profile, NodeId([1; 20]), Network::new(), shutdown.clone())
                .await
                .unwrap();
        let channel = transport::connect(&addr.to_string()).await.unwrap();
        let build = messenger::NotifyRequest {
            message: messenger::Message::BuildBlock.into(),
        };
        let answer = messenger::messenger_client::MessengerClient::new(channel)
            .notify(build)
            .await;
        match served {
            true => assert!(answer.is_ok(), "{profile}: {answer:?}"),
            false => assert_eq!(answer.unwrap_err().code(), tonic::Code::Unimplemented),
        }
    }
    shutdown.trigger();
}

/// Waits (bounded) until `done` holds.
async fn eventually(mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not met within 2 s");
}

// Up to 33 SendAppGossip has no counts: the node sends to 10 validators of its own choosing
// (here: every other node, since there are fewer). Bytes in another profile's layout are refused
// and counted, and nothing is relayed for them.
#[tokio::test]
async fn gossip_is_read_in_the_profile_layout() {
    let shutdown = Shutdown::new();
    let network = Network::new();
    let profile = avalanchego(33);
    let (a, b) = (NodeId([1; 20]), NodeId([2; 20]));
    let (_fake_a, client_a) = fake_plugin(&shutdown).await;
    let (fake_b, client_b) = fake_plugin(&shutdown).await;
    network.register(a, client_a.with_profile(profile));
    network.register(b, client_b.with_profile(profile));
    let (addr, services) = NodeServices::serve_as(profile, a, network, shutdown.clone())
        .await
        .unwrap();
    let channel = transport::connect(&addr.to_string()).await.unwrap();
    let mut sender = appsender::app_sender_client::AppSenderClient::new(channel);
    let old = appsender::SendAppGossipMsg::to_validators(GossipLayout::MsgOnly, b"hi".to_vec(), 0);
    sender.send_app_gossip(old).await.unwrap();
    eventually(|| fake_b.0.lock().unwrap().gossip.len() == 1).await;
    assert_eq!(
        fake_b.0.lock().unwrap().gossip[0],
        (a.0.to_vec(), b"hi".to_vec())
    );

    let new = appsender::SendAppGossipMsg::to_validators(GossipLayout::Targeted, b"x".to_vec(), 5);
    let refused = sender.send_app_gossip(new).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("avalanchego protocol 33"),
        "{refused:?}"
    );
    let counters = services.counters();
    assert_eq!((counters.gossip_calls, counters.gossip_refused), (1, 1));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(fake_b.0.lock().unwrap().gossip.len(), 1);
    shutdown.trigger();
}

// Gossip from node A reaches B's plugin tagged with A's ID; A's own plugin gets nothing.
// Notify fills the one slot; a second Notify is refused, and the engine drains the slot.
#[tokio::test]
async fn gossip_is_relayed_and_notify_has_one_slot() {
    let shutdown = Shutdown::new();
    let network = Network::new();
    let profile = avalanchego(41);
    let version = ClientVersion::of(profile);
    let (a, b) = (NodeId([1; 20]), NodeId([2; 20]));
    let (fake_a, client_a) = fake_plugin(&shutdown).await;
    let (fake_b, client_b) = fake_plugin(&shutdown).await;
    let client_a = client_a.with_profile(profile);
    network.join(a, client_a.clone(), &version).await;
    network
        .join(b, client_b.with_profile(profile), &version)
        .await;
    assert_eq!(fake_a.0.lock().unwrap().calls, ["Connected(avalanchego)"]);
    let (addr, services) = NodeServices::serve_as(profile, a, network, shutdown.clone())
        .await
        .unwrap();
    let channel = transport::connect(&addr.to_string()).await.unwrap();

    let mut sender = appsender::app_sender_client::AppSenderClient::new(channel.clone());
    let gossip = appsender::SendAppGossipMsg {
        peers: 5,
        msg: b"hi".to_vec(),
        ..Default::default()
    };
    sender.send_app_gossip(gossip).await.unwrap();
    sender
        .send_app_gossip(appsender::SendAppGossipMsg::default())
        .await
        .unwrap();
    let bad = appsender::SendAppGossipMsg {
        field_1: vec![vec![1; 3]],
        ..Default::default()
    };
    assert!(sender.send_app_gossip(bad).await.is_err());
    for _ in 0..100 {
        if services.counters().gossip_delivered == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        fake_b.0.lock().unwrap().gossip,
        [(a.0.to_vec(), b"hi".to_vec())]
    );
    assert!(fake_a.0.lock().unwrap().gossip.is_empty());
    let counters = services.counters();
    assert_eq!((counters.gossip_calls, counters.gossip_bytes), (2, 2));

    let mut messenger = messenger::messenger_client::MessengerClient::new(channel);
    let build = messenger::NotifyRequest {
        message: messenger::Message::BuildBlock.into(),
    };
    messenger.notify(build).await.unwrap();
    let refused = messenger.notify(build).await.unwrap_err();
    assert_eq!(refused.message(), "full message queue");

    fake_a.0.lock().unwrap().pending = 1;
    let genesis = BlockSummary {
        id: Id::EMPTY,
        parent_id: Id::EMPTY,
        height: 0,
        timestamp: Default::default(),
        bytes: vec![],
    };
    let mode = EngineMode::for_node(&services);
    assert!(matches!(mode, EngineMode::Messenger(_)));
    let engine = SoloEngine::new(client_a, mode, &genesis).spawn(shutdown.clone());
    assert!(engine
        .wait_for_height(1, Duration::from_secs(5))
        .await
        .is_some());
    assert_eq!(services.notify_slot().take(), None);
    shutdown.trigger();
    engine.join().await;
}

// The node's own endpoints when the plugin fails them (node-behaviour.md sections 9 and 11): a
// Health error status makes the chain's check fail with Go's wording and `/ext/health` answer
// 503, a Gather error makes `/ext/metrics` a 500, and `info` still answers with the version
// the VM gave. The fake answers Health and Gather with Unimplemented. Fails on any other status
// or text, or if a node endpoint is not served at all (404).
#[tokio::test]
async fn node_endpoints_report_a_failing_plugin() {
    let shutdown = Shutdown::new();
    let (_fake, client) = fake_plugin(&shutdown).await;
    let node = NodeId([7; 20]);
    let addr = "127.0.0.1:0".parse().unwrap();
    let gateway = gateway::Gateway::bind(addr, node).await.unwrap();
    let chain_id = Id::sha256(b"node endpoints");
    let vm_id = Id::from_name("fake").unwrap();
    let version = client.version().await.unwrap().version;
    let chain = NodeChain {
        vm_id,
        vm_version: version,
        client,
        tip: None,
    };
    gateway.register_node_chain(chain_id, chain);
    gateway.set_network_id(5);
    let _serving = gateway.spawn(shutdown.clone());
    let base = format!("http://{}", gateway.local_addr());
    let http = reqwest::Client::new();

    let health = http.get(format!("{base}/ext/health")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    let health: serde_json::Value = health.json().await.unwrap();
    let check = &health["checks"][chain_id.to_string()];
    assert_eq!(
        check["error"],
        "health check failed: rpc error: code = Unimplemented desc = health"
    );
    assert_eq!(
        (&health["healthy"], &check["contiguousFailures"]),
        (&false.into(), &1.into())
    );
    assert_eq!(
        check["message"]["engine"],
        serde_json::json!({"consensus": null, "vm": null})
    );

    let metrics = http
        .get(format!("{base}/ext/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 500);
    let text = metrics.text().await.unwrap();
    assert!(
        text.starts_with("An error has occurred while serving metrics"),
        "{text}"
    );

    let call = |method: &str| {
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}"}}"#);
        http.post(format!("{base}/ext/info"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let reply: serde_json::Value = call("info.getNodeVersion")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let versions = &reply["result"]["vmVersions"];
    assert_eq!(
        *versions,
        serde_json::json!({ vm_id.to_string(): "fake/1.0" })
    );
    let reply: serde_json::Value = call("info.getNetworkID")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["result"], serde_json::json!({"networkID": "5"}));
    let reply: serde_json::Value = call("info.nope").await.unwrap().json().await.unwrap();
    assert_eq!(
        reply["error"]["message"],
        "rpc: can't find method \"info.Nope\""
    );

    // Once the chain is removed, the node reports nothing of it.
    gateway.remove_chain(chain_id);
    let health = http.get(format!("{base}/ext/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let health: serde_json::Value = health.json().await.unwrap();
    assert_eq!(health, serde_json::json!({"checks": {}, "healthy": true}));
    shutdown.trigger();
}
