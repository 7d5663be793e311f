//! [`VmHandles`] over a real store, with the node's clients pointed nowhere: peers' gossip reaches
//! the mempool decoded and rate-limited, and one stop signal ends every actor and task.

use super::*;
use crate::chain::gossip::encode_gossip;
use crate::chain::parse_genesis;
use crate::storage::StoreOptions;
use rpcchainvm::node_client::NodeClients;
use rpcchainvm::protocol::Profile;

async fn start(dir: &std::path::Path, config: &ChainConfig, stop: Shutdown) -> VmHandles {
    let genesis = parse_genesis(b"handles").unwrap();
    let store = Arc::new(Store::open(dir, &genesis, StoreOptions::default()).unwrap());
    let clients = NodeClients::connect_lazy("", Profile::latest()).unwrap();
    VmHandles::start_under(store, config, clients, Clock::System, stop)
        .await
        .unwrap()
}

/// The mempool's size once it has handled everything sent to it before (one mailbox, in order).
async fn pending(handles: &VmHandles) -> usize {
    handles.mempool_stats().await.unwrap().size
}

#[tokio::test]
async fn peer_gossip_is_decoded_rate_limited_and_admitted() {
    let dir = tempfile::tempdir().unwrap();
    let config = ChainConfig {
        gossip_peer_rate: 2,
        ..ChainConfig::default()
    };
    let handles = start(dir.path(), &config, Shutdown::new()).await;
    let (peer, other) = (NodeId([1; 20]), NodeId([2; 20]));

    // Three payloads against a budget of two a second: the third is dropped.
    handles.gossip_in(peer, encode_gossip(&[[1; 32], [2; 32], [3; 32]]));
    assert_eq!(pending(&handles).await, 2);
    // Malformed bytes are dropped whole; another peer has its own budget; a duplicate is refused.
    handles.gossip_in(other, vec![1, 0, 1, 7]);
    handles.gossip_in(other, encode_gossip(&[[1; 32], [4; 32]]));
    assert_eq!(pending(&handles).await, 3);
    for payload in [[1; 32], [2; 32], [4; 32]] {
        assert_eq!(handles.propose(payload).await, Err(ProposeError::Duplicate));
    }
    handles.propose([3; 32]).await.unwrap();
    handles.stop().await;
}

#[tokio::test]
async fn stop_ends_every_actor_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let handles = start(dir.path(), &ChainConfig::default(), Shutdown::new()).await;
    assert!(handles.stopped_actors().is_empty());
    handles.stop().await;
    assert!(handles.stop_signal().is_triggered());
    assert_eq!(
        handles.stopped_actors().len(),
        4,
        "{:?}",
        handles.stopped_actors()
    );
    handles.stop().await;
    assert_eq!(
        handles.propose([1; 32]).await,
        Err(ProposeError::Backend(BackendError::ShuttingDown))
    );
}

#[tokio::test]
async fn the_callers_signal_stops_the_vm() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Shutdown::new();
    let handles = start(dir.path(), &ChainConfig::default(), stop.clone()).await;
    stop.trigger();
    // `stop` finds the signal fired already and waits for the actors' end.
    tokio::time::timeout(Duration::from_secs(10), handles.stop())
        .await
        .expect("the VM stops on its caller's signal");
    assert_eq!(
        handles.stopped_actors().len(),
        4,
        "{:?}",
        handles.stopped_actors()
    );
}
