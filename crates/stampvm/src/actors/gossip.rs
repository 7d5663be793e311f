//! The gossip actor: batches the payloads the mempool took from this node's API and sends them
//! to peers through the [`GossipOut`] port (the node's AppSender). Peers' gossip does not pass
//! here: `VmHandles::gossip_in` decodes it and the mempool rate-limits and admits it, so the
//! actors form no cycle (gossip <- mempool <- builder, chain).

use crate::actors::ports::GossipOut;
use crate::actors::tasks::Tasks;
use crate::chain::gossip::{encode_gossip, MAX_GOSSIP_PAYLOADS};
use crate::chain::Payload;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::time::Duration;

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
}

pub struct GossipArgs<G> {
    pub out: G,
    pub batch_size: usize,
    pub flush_every: Duration,
    pub validators: u64,
    /// Where the flush timer runs (stopped with the VM).
    pub tasks: Tasks,
}

pub struct GossipState<G> {
    args: GossipArgs<G>,
    outgoing: VecDeque<Payload>,
}

/// The actor, for gossip sent through `G`.
pub struct GossipActor<G>(PhantomData<fn() -> G>);

impl<G> Default for GossipActor<G> {
    fn default() -> Self {
        GossipActor(PhantomData)
    }
}

impl<G: GossipOut> GossipState<G> {
    async fn flush(&mut self) {
        while !self.outgoing.is_empty() {
            let take = self
                .outgoing
                .len()
                .min(self.args.batch_size)
                .min(MAX_GOSSIP_PAYLOADS);
            let batch: Vec<Payload> = self.outgoing.drain(..take).collect();
            let msg = encode_gossip(&batch);
            match self.args.out.send_gossip(msg, self.args.validators).await {
                Ok(()) => {
                    metrics::counter!(crate::metrics::PAYLOADS_GOSSIPED_OUT_TOTAL)
                        .increment(batch.len() as u64);
                }
                // Gossip is an optimisation: peers still learn payloads from our blocks.
                Err(e) => tracing::debug!(error = %e, payloads = batch.len(), "gossip not sent"),
            }
        }
    }
}

impl<G: GossipOut> Actor for GossipActor<G> {
    type Msg = GossipMsg;
    type State = GossipState<G>;
    type Arguments = GossipArgs<G>;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: GossipArgs<G>,
    ) -> Result<Self::State, ActorProcessingErr> {
        args.tasks
            .every(args.flush_every, myself, || GossipMsg::Flush);
        Ok(GossipState {
            args,
            outgoing: VecDeque::new(),
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
