//! The gossip actor: batches the payloads proposed on this node and sends them to peers through
//! the node's AppSender; decodes, checks and rate-limits peers' gossip before the mempool sees it.

use crate::actors::mempool::MempoolMsg;
use crate::chain::gossip::{decode_gossip, encode_gossip, MAX_GOSSIP_PAYLOADS};
use crate::chain::NodeId;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use rpcchainvm::node_client::NodeClients;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

type Payload = [u8; 32];

/// Local payloads waiting to be gossiped, at most. Gossip is best effort (peers also learn
/// payloads from our blocks): when the node's AppSender cannot keep up with the API, the oldest
/// are dropped and counted, rather than queueing without bound.
pub const MAX_OUTGOING: usize = 65_536;

pub enum GossipMsg {
    /// The mempool accepted these local payloads: send them to peers with the next batches.
    /// One message per request, not per payload, so a proposeBatch of thousands costs one.
    Outgoing(Vec<Payload>),
    /// Timer: send what has been collected.
    Flush,
    /// A peer's AppGossip bytes, untrusted.
    Incoming(NodeId, Vec<u8>),
    /// Connects the mempool, which is spawned after this actor (it needs our reference).
    Attach(ActorRef<MempoolMsg>),
}

pub struct GossipArgs {
    pub clients: NodeClients,
    pub batch_size: usize,
    pub flush_every: Duration,
    pub validators: u64,
    /// Payloads one peer may gossip to us per second; more are dropped, not obeyed.
    pub peer_payloads_per_sec: u32,
}

/// A token bucket per peer: capacity one second's allowance, refilled continuously.
struct PeerBudget {
    tokens: f64,
    updated: Instant,
}

pub struct GossipState {
    args: GossipArgs,
    outgoing: VecDeque<Payload>,
    mempool: Option<ActorRef<MempoolMsg>>,
    budgets: HashMap<NodeId, PeerBudget>,
}

pub struct GossipActor;

impl GossipState {
    async fn flush(&mut self) {
        while !self.outgoing.is_empty() {
            let take = self
                .outgoing
                .len()
                .min(self.args.batch_size)
                .min(MAX_GOSSIP_PAYLOADS);
            let batch: Vec<Payload> = self.outgoing.drain(..take).collect();
            let msg = encode_gossip(&batch);
            match self
                .args
                .clients
                .send_gossip(msg, self.args.validators)
                .await
            {
                Ok(()) => {
                    metrics::counter!(crate::metrics::PAYLOADS_GOSSIPED_OUT_TOTAL)
                        .increment(batch.len() as u64);
                }
                // Gossip is an optimisation: peers still learn payloads from our blocks.
                Err(e) => tracing::debug!(error = %e, payloads = batch.len(), "gossip not sent"),
            }
        }
    }

    /// Charges `count` payloads to `peer`'s budget; returns how many may pass.
    fn allow(&mut self, peer: NodeId, count: usize) -> usize {
        let rate = f64::from(self.args.peer_payloads_per_sec);
        let now = Instant::now();
        let budget = self.budgets.entry(peer).or_insert(PeerBudget {
            tokens: rate,
            updated: now,
        });
        let refill = now.duration_since(budget.updated).as_secs_f64() * rate;
        budget.tokens = (budget.tokens + refill).min(rate);
        budget.updated = now;
        let allowed = (budget.tokens.floor() as usize).min(count);
        budget.tokens -= allowed as f64;
        allowed
    }
}

impl Actor for GossipActor {
    type Msg = GossipMsg;
    type State = GossipState;
    type Arguments = GossipArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: GossipArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        myself.send_interval(args.flush_every, || GossipMsg::Flush);
        Ok(GossipState {
            args,
            outgoing: VecDeque::new(),
            mempool: None,
            budgets: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            GossipMsg::Outgoing(payloads) => {
                state.outgoing.extend(payloads);
                let excess = state.outgoing.len().saturating_sub(MAX_OUTGOING);
                if excess > 0 {
                    state.outgoing.drain(..excess);
                    metrics::counter!(crate::metrics::PAYLOADS_GOSSIP_DROPPED_TOTAL)
                        .increment(excess as u64);
                }
                if state.outgoing.len() >= state.args.batch_size {
                    state.flush().await;
                }
            }
            GossipMsg::Flush => state.flush().await,
            GossipMsg::Incoming(peer, bytes) => match decode_gossip(&bytes) {
                Ok(mut payloads) => {
                    let allowed = state.allow(peer, payloads.len());
                    if allowed < payloads.len() {
                        tracing::debug!(%peer, dropped = payloads.len() - allowed, "peer over its gossip rate");
                        payloads.truncate(allowed);
                    }
                    if let (Some(mempool), false) = (&state.mempool, payloads.is_empty()) {
                        let _ = mempool.cast(MempoolMsg::FromPeer(peer, payloads));
                    }
                }
                Err(e) => tracing::debug!(%peer, error = %e, "malformed gossip dropped"),
            },
            GossipMsg::Attach(mempool) => state.mempool = Some(mempool),
        }
        Ok(())
    }

    /// Sends what is still collected, so a clean shutdown does not swallow the last proposals.
    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        state.flush().await;
        Ok(())
    }
}
