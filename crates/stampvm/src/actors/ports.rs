//! What the actors need from the node, as traits: the actors depend on these only, and
//! `node_ports` implements them over the node's clients (`rpcchainvm::node_client`). Tests and
//! benches can drive the actors with the real clients pointed nowhere, or with their own ports.

use std::fmt::Display;
use std::future::Future;

/// Tells the node a block can be built (the builder's way out).
pub trait BuildNotifier: Clone + Send + Sync + 'static {
    type Error: Display + Send;
    /// Whether the node must be told at all: nodes that wait for events (protocol 42+) ask
    /// through `WaitForEvent` instead, and are answered there.
    fn must_notify(&self) -> bool;
    /// Tells the node once (`Messenger.Notify` on older protocols). A notification the node
    /// already holds counts as delivered.
    fn notify_build(&self) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// Sends encoded gossip to peers (the gossip actor's way out).
pub trait GossipOut: Send + Sync + 'static {
    type Error: Display + Send;
    /// Gossips `msg` to `validators` sampled validators.
    fn send_gossip(
        &self,
        msg: Vec<u8>,
        validators: u64,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}
