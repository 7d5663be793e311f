//! The mempool actor: owns the VM's [`Mempool`] (the rules, in `chain::mempool`) and serializes
//! access to it; reads the accepted index from the store for admission, publishes the pending
//! count for the builder, counts every refusal, and hands local payloads it took to gossip.

use crate::actors::gossip::GossipMsg;
use crate::actors::off_worker;
use crate::chain::mempool::{Mempool, Origin};
use crate::chain::peer_rate::PeerRates;
use crate::chain::view::{BackendError, MempoolStats, ProposeError};
use crate::chain::{NodeId, Payload};
use crate::storage::{StorageError, Store};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

pub enum MempoolMsg {
    /// A payload proposed on this node (JSON-RPC): answered, and gossiped to peers if taken.
    Propose(Payload, RpcReplyPort<Result<(), ProposeError>>),
    /// Many payloads proposed on this node in one request: one answer each, in order.
    ProposeMany(Vec<Payload>, RpcReplyPort<Vec<Result<(), ProposeError>>>),
    /// Whether a payload is waiting here or in a block being built from here.
    Holds(Payload, RpcReplyPort<bool>),
    /// Payloads a peer gossiped (decoded, untrusted): the peer's rate is charged, then best
    /// effort, refusals are only counted.
    FromPeer(NodeId, Vec<Payload>),
    /// Up to `max` payloads for a new block, oldest first. They leave the queue now (in flight);
    /// a rejected block brings them back with `Requeue`, an accepted one ends them with
    /// `Included`.
    Take(usize, RpcReplyPort<Vec<Payload>>),
    /// Payloads of a rejected (or unbuilt) block that no accepted block holds: back to the front.
    Requeue(Vec<Payload>),
    /// Payloads an accepted block included (ours or a peer's), or that the builder left out
    /// because a block already holds them: they leave.
    Included(Vec<Payload>),
    Stats(RpcReplyPort<MempoolStats>),
}

pub struct MempoolArgs {
    pub capacity: usize,
    pub store: Arc<Store>,
    pub gossip: ActorRef<GossipMsg>,
    /// Published pending count: the builder watches it to know when there is work.
    pub pending: watch::Sender<usize>,
    /// Payloads one peer may gossip to us per second; more are dropped, not obeyed.
    pub peer_payloads_per_sec: u32,
}

pub struct MempoolState {
    pool: Mempool,
    peer_rates: PeerRates,
    args: MempoolArgs,
}

pub struct MempoolActor;

/// A store read, run off the async workers; a failure as the mempool's callers see it.
async fn read<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, BackendError> {
    match off_worker(work).await {
        Ok(read) => read.map_err(|e| BackendError::Internal(e.to_string())),
        Err(e) => Err(BackendError::Internal(e.to_string())),
    }
}

impl MempoolState {
    fn publish(&self) {
        let size = self.pool.len();
        self.args.pending.send_if_modified(|current| {
            let changed = *current != size;
            *current = size;
            changed
        });
        metrics::gauge!(crate::metrics::MEMPOOL_PAYLOADS).set(size as f64);
    }

    /// A local proposal: admitted and gossiped, or refused and counted. The store is read only
    /// for a payload that passed the rules that need no chain. One payload-index lookup is a few
    /// microseconds (RocksDB's cache), less than a trip to the blocking pool (~45 us on 2 cores,
    /// `grpc_round`'s propose), so it runs here; batches read theirs off the workers.
    async fn propose(&mut self, payload: Payload) -> Result<(), ProposeError> {
        let outcome = match self.pool.check(&payload, Origin::Local) {
            Err(refusal) => Err(refusal),
            Ok(()) => {
                let accepted = self
                    .args
                    .store
                    .payload_block(&payload)
                    .map_err(|e| BackendError::Internal(e.to_string()));
                self.pool.admit(payload, Origin::Local, || accepted)
            }
        };
        count_local(&outcome);
        if outcome.is_ok() {
            self.gossip(vec![payload]);
        }
        outcome
    }

    /// Many local proposals, in order; the store is read once for all of them, and those taken
    /// go to gossip in one message.
    async fn propose_many(&mut self, payloads: Vec<Payload>) -> Vec<Result<(), ProposeError>> {
        let mut taken = Vec::with_capacity(payloads.len());
        let outcomes = self
            .admit_many(payloads, Origin::Local)
            .await
            .into_iter()
            .map(|(payload, outcome)| {
                count_local(&outcome);
                if outcome.is_ok() {
                    taken.push(payload);
                }
                outcome
            })
            .collect();
        self.gossip(taken);
        outcomes
    }

    /// [`Mempool::admit_many`] with one batched store read for all of them (a proposeBatch, or
    /// a peer's gossip message), off the async workers.
    async fn admit_many(
        &mut self,
        payloads: Vec<Payload>,
        origin: Origin,
    ) -> Vec<(Payload, Result<(), ProposeError>)> {
        let store = self.args.store.clone();
        let keys = payloads.clone();
        let accepted = read(move || store.payload_blocks(&keys)).await;
        self.pool.admit_many(payloads, origin, accepted)
    }

    /// Gossip is best effort: a dead gossip actor must not refuse proposals.
    fn gossip(&self, payloads: Vec<Payload>) {
        if !payloads.is_empty() {
            let _ = self.args.gossip.cast(GossipMsg::Outgoing(payloads));
        }
    }
}

/// Counts a local proposal's outcome: proposed, or refused with its reason.
fn count_local(outcome: &Result<(), ProposeError>) {
    match outcome {
        Ok(()) => metrics::counter!(crate::metrics::PAYLOADS_PROPOSED_TOTAL).increment(1),
        Err(reason) => refused(reason),
    }
}

fn refused(reason: &ProposeError) {
    let reason = match reason {
        // Keep in step with `metrics::REFUSED_REASONS`, which registers each at zero.
        ProposeError::MempoolFull { .. } => "mempool_full",
        ProposeError::Duplicate => "duplicate",
        ProposeError::AlreadyAccepted(_) => "already_accepted",
        ProposeError::Backend(_) => "internal",
    };
    metrics::counter!(crate::metrics::PAYLOADS_REFUSED_TOTAL, crate::metrics::LABEL_REASON => reason).increment(1);
}

impl Actor for MempoolActor {
    type Msg = MempoolMsg;
    type State = MempoolState;
    type Arguments = MempoolArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: MempoolArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        let state = MempoolState {
            pool: Mempool::with_capacity(args.capacity),
            peer_rates: PeerRates::new(args.peer_payloads_per_sec),
            args,
        };
        state.publish();
        Ok(state)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            MempoolMsg::Propose(payload, reply) => {
                let _ = reply.send(state.propose(payload).await);
            }
            MempoolMsg::ProposeMany(payloads, reply) => {
                let _ = reply.send(state.propose_many(payloads).await);
            }
            MempoolMsg::Holds(payload, reply) => {
                let _ = reply.send(state.pool.holds(&payload));
            }
            MempoolMsg::FromPeer(peer, mut payloads) => {
                let allowed = state.peer_rates.allow(peer, payloads.len(), Instant::now());
                if allowed < payloads.len() {
                    tracing::debug!(%peer, dropped = payloads.len() - allowed, "peer over its gossip rate");
                    payloads.truncate(allowed);
                }
                if payloads.is_empty() {
                    return Ok(());
                }
                let mut taken = 0usize;
                for (_, outcome) in state.admit_many(payloads, Origin::Peer).await {
                    match outcome {
                        Ok(()) => taken += 1,
                        Err(reason) => refused(&reason),
                    }
                }
                metrics::counter!(crate::metrics::PAYLOADS_GOSSIPED_IN_TOTAL)
                    .increment(taken as u64);
                tracing::debug!(%peer, taken, "payloads from peer gossip");
            }
            MempoolMsg::Take(max, reply) => {
                let _ = reply.send(state.pool.take(max));
            }
            MempoolMsg::Requeue(payloads) => state.pool.requeue(payloads),
            MempoolMsg::Included(payloads) => state.pool.forget(&payloads),
            MempoolMsg::Stats(reply) => {
                let _ = reply.send(state.pool.stats());
            }
        }
        state.publish();
        Ok(())
    }
}
