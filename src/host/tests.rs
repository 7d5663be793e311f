//! The host end to end against the in-process fake plugin (`fake_plugin.rs`): the
//! chain-start call order, the engine building on WaitForEvent and on Messenger.Notify, and the
//! gossip relay between two nodes.

use super::fake_plugin::fake_plugin;
use super::*;
use crate::chain::id::{Id, NodeId};
use crate::rpc::pb::{appsender, messenger};
use crate::rpc::transport;
use crate::shutdown::Shutdown;
use std::time::Duration;

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

// Gossip from node A reaches B's plugin tagged with A's ID; A's own plugin gets nothing.
// Notify fills the one slot; a second Notify is refused, and the engine drains the slot.
#[tokio::test]
async fn gossip_is_relayed_and_notify_has_one_slot() {
    let shutdown = Shutdown::new();
    let network = Network::new();
    let (a, b) = (NodeId([1; 20]), NodeId([2; 20]));
    let (fake_a, client_a) = fake_plugin(&shutdown).await;
    let (fake_b, client_b) = fake_plugin(&shutdown).await;
    network
        .join(a, client_a.clone(), &ClientVersion::default())
        .await;
    network.join(b, client_b, &ClientVersion::default()).await;
    assert_eq!(fake_a.0.lock().unwrap().calls, ["Connected(avalanchego)"]);
    let (addr, services) = NodeServices::serve(a, network, shutdown.clone())
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
        node_ids: vec![vec![1; 3]],
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
    let engine = SoloEngine::new(client_a, EngineMode::Messenger(services.clone()), &genesis)
        .spawn(shutdown.clone());
    assert!(engine
        .wait_for_height(1, Duration::from_secs(5))
        .await
        .is_some());
    assert_eq!(services.notify_slot().take(), None);
    shutdown.trigger();
    engine.join().await;
}
