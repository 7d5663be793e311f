//! The actors' ports ([`super::ports`]) over the node's clients: the one place in `actors` that
//! knows `rpcchainvm::node_client`.

use super::ports::{BuildNotifier, GossipOut};
use rpcchainvm::node_client::{EngineError, NodeClients};
use std::future::Future;

impl BuildNotifier for NodeClients {
    type Error = EngineError;

    fn must_notify(&self) -> bool {
        self.uses_messenger()
    }

    async fn notify_build(&self) -> Result<(), EngineError> {
        // Delivered or already pending: either way the node will build.
        self.notify_build_block().await.map(|_| ())
    }
}

impl GossipOut for NodeClients {
    type Error = EngineError;

    fn send_gossip(
        &self,
        msg: Vec<u8>,
        validators: u64,
    ) -> impl Future<Output = Result<(), EngineError>> + Send {
        NodeClients::send_gossip(self, msg, validators)
    }
}
