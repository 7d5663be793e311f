//! A simulated network of nodes in one process: which node runs which plugin, the `Connected`
//! and `Disconnected` calls peers exchange when they come and go, and the app requests still
//! waiting for an answer. Each host's [`super::NodeServices`] relays its plugin's app messages
//! through it.

use super::vm_client::VmClient;
use dashmap::DashMap;
use rpcchainvm::ids::NodeId;
use rpcchainvm::pb::vm as pb;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

/// An outstanding app request: (requester, responder, request_id).
pub(super) type RequestKey = (NodeId, NodeId, u32);

/// The nodes of a simulated network: who runs which plugin. Clone it into each host.
#[derive(Debug, Clone, Default)]
pub struct Network {
    inner: Arc<NetworkInner>,
}

#[derive(Debug, Default)]
struct NetworkInner {
    nodes: DashMap<NodeId, VmClient>,
    /// Outstanding app requests.
    pending: DashMap<RequestKey, ()>,
}

impl Network {
    pub fn new() -> Network {
        Network::default()
    }

    /// Makes `node_id`'s plugin reachable for app messages (replaces an earlier registration).
    pub fn register(&self, node_id: NodeId, client: VmClient) {
        self.inner.nodes.insert(node_id, client);
    }

    /// Takes a node off the network (it crashed or stopped); returns whether it was there.
    pub fn unregister(&self, node_id: &NodeId) -> bool {
        self.inner.nodes.remove(node_id).is_some()
    }

    /// Registers `node_id` and tells it and every other node about each other with
    /// `vm.VM/Connected`, as peers connecting do. Failed calls are logged. Call it after the
    /// node's `start_chain`: the node sends peers' Connected after SetState(BOOTSTRAPPING).
    pub async fn join(&self, node_id: NodeId, client: VmClient, version: &super::ClientVersion) {
        for (peer, peer_client) in self.peers_of(node_id) {
            announce(&client, peer, version).await;
            announce(&peer_client, node_id, version).await;
        }
        self.register(node_id, client);
    }

    /// Unregisters `node_id` and sends `vm.VM/Disconnected` about it to every other node.
    pub async fn leave(&self, node_id: NodeId) {
        self.unregister(&node_id);
        for (peer, client) in self.peers_of(node_id) {
            let request = pb::DisconnectedRequest {
                node_id: node_id.0.to_vec(),
            };
            if let Err(error) = client.disconnected(request).await {
                tracing::warn!(%peer, %error, "Disconnected failed");
            }
        }
    }

    /// Every registered node.
    pub fn node_ids(&self) -> Vec<NodeId> {
        self.inner.nodes.iter().map(|e| *e.key()).collect()
    }

    /// The client of `node_id`'s plugin, if registered.
    pub fn client(&self, node_id: &NodeId) -> Option<VmClient> {
        self.inner.nodes.get(node_id).map(|e| e.value().clone())
    }

    /// Records an app request that now waits for a response, an error or its timeout.
    pub(super) fn expect_reply(&self, key: RequestKey) {
        self.inner.pending.insert(key, ());
    }

    /// Settles an outstanding request: `true` for the first of response, error and timeout
    /// only, so the requester hears exactly one outcome.
    pub(super) fn settle(&self, key: &RequestKey) -> bool {
        self.inner.pending.remove(key).is_some()
    }

    fn peers_of(&self, node_id: NodeId) -> Vec<(NodeId, VmClient)> {
        let entries = self.inner.nodes.iter();
        entries
            .filter(|e| *e.key() != node_id)
            .map(|e| (*e.key(), e.value().clone()))
            .collect()
    }
}

/// `Connected` about `peer`, in the layout of the profile `client` speaks.
async fn announce(client: &VmClient, peer: NodeId, version: &super::ClientVersion) {
    let layout = client.profile().peer_version_layout();
    if let Err(error) = client
        .connected(version.connected_request(peer, layout))
        .await
    {
        tracing::warn!(%peer, %error, "Connected failed");
    }
}

/// `count` nodes drawn at random from `candidates` (all of them if there are fewer).
pub(super) fn sample(mut candidates: Vec<NodeId>, count: u64) -> Vec<NodeId> {
    let seed = RandomState::new();
    for i in (1..candidates.len()).rev() {
        let j = (seed.hash_one(i) % (i as u64 + 1)) as usize;
        candidates.swap(i, j);
    }
    candidates.truncate(usize::try_from(count).unwrap_or(usize::MAX));
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn sampling_takes_at_most_count_distinct_nodes() {
        let nodes: Vec<NodeId> = (0..10u8).map(|i| NodeId([i; 20])).collect();
        let picked = sample(nodes.clone(), 3);
        assert_eq!(picked.len(), 3);
        assert_eq!(picked.iter().collect::<HashSet<_>>().len(), 3);
        assert_eq!(sample(nodes, u64::MAX).len(), 10);
        assert!(sample(Vec::new(), 5).is_empty());
    }
}
