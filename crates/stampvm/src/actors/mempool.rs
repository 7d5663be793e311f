//! The mempool actor: owns the payloads waiting for a block, in arrival order, with a set for
//! duplicates and a hard capacity. A full mempool answers "full"; it never drops silently.
//! Payloads handed to the builder stay known ("in flight") until their block is accepted or
//! they come back, so a payload is never pending twice.

use crate::actors::gossip::GossipMsg;
use crate::chain::view::{BackendError, MempoolStats, ProposeError};
use crate::chain::{Id, NodeId, Payload};
use crate::storage::{StorageError, Store};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use tokio::sync::watch;

pub enum MempoolMsg {
    /// A payload proposed on this node (JSON-RPC): answered, and gossiped to peers if taken.
    Propose(Payload, RpcReplyPort<Result<(), ProposeError>>),
    /// Many payloads proposed on this node in one request: one answer each, in order.
    ProposeMany(Vec<Payload>, RpcReplyPort<Vec<Result<(), ProposeError>>>),
    /// Whether a payload is waiting here or in a block being built from here.
    Holds(Payload, RpcReplyPort<bool>),
    /// Payloads a peer gossiped: best effort, refusals are only counted.
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
}

pub struct MempoolState {
    queue: VecDeque<Payload>,
    /// What `queue` holds, for duplicate checks.
    members: HashSet<Payload>,
    /// Taken for a block not yet accepted.
    in_flight: HashSet<Payload>,
    args: MempoolArgs,
}

pub struct MempoolActor;

/// How full peers' gossip may make the mempool: three quarters of it (at least one payload).
fn peer_limit(capacity: usize) -> usize {
    (capacity - capacity / 4).max(1)
}

impl MempoolState {
    fn publish(&self) {
        let size = self.queue.len();
        self.args.pending.send_if_modified(|current| {
            let changed = *current != size;
            *current = size;
            changed
        });
        metrics::gauge!(crate::metrics::MEMPOOL_PAYLOADS).set(size as f64);
    }

    /// The admission rules shared by local and peer payloads. Peers may fill the mempool only
    /// up to [`peer_limit`]: the rest is kept for this node's own API, so a peer gossiping
    /// faster than blocks drain cannot get every local proposal refused.
    ///
    /// `accepted_in` says which accepted block holds the payload; it is asked last, only for a
    /// payload that passed the other rules (a caller with many payloads reads them in one batch).
    fn admit(
        &mut self,
        payload: Payload,
        from_peer: bool,
        accepted_in: impl FnOnce() -> Result<Option<Id>, StorageError>,
    ) -> Result<(), ProposeError> {
        if self.holds(&payload) {
            return Err(ProposeError::Duplicate);
        }
        let limit = match from_peer {
            true => peer_limit(self.args.capacity),
            false => self.args.capacity,
        };
        if self.queue.len() >= limit {
            return Err(ProposeError::MempoolFull {
                capacity: self.args.capacity,
            });
        }
        match accepted_in() {
            Ok(Some(block)) => return Err(ProposeError::AlreadyAccepted(block)),
            Ok(None) => {}
            Err(e) => return Err(ProposeError::Backend(BackendError::Internal(e.to_string()))),
        }
        self.members.insert(payload);
        self.queue.push_back(payload);
        Ok(())
    }

    fn holds(&self, payload: &Payload) -> bool {
        self.members.contains(payload) || self.in_flight.contains(payload)
    }

    /// A local proposal: admitted and gossiped, or refused and counted.
    fn propose(&mut self, payload: Payload) -> Result<(), ProposeError> {
        let store = self.args.store.clone();
        let outcome = self.admit(payload, false, || store.payload_block(&payload));
        count_local(&outcome);
        if outcome.is_ok() {
            self.gossip(vec![payload]);
        }
        outcome
    }

    /// Many local proposals, in order; the store is read once for all of them, and those taken
    /// go to gossip in one message.
    fn propose_many(&mut self, payloads: Vec<Payload>) -> Vec<Result<(), ProposeError>> {
        let mut taken = Vec::with_capacity(payloads.len());
        let outcomes = self
            .admit_many(payloads, false)
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

    /// [`MempoolState::admit`] for many payloads in order, with one batched store read for all
    /// of them (a proposeBatch, or a peer's gossip message).
    fn admit_many(
        &mut self,
        payloads: Vec<Payload>,
        from_peer: bool,
    ) -> Vec<(Payload, Result<(), ProposeError>)> {
        let accepted = self.args.store.payload_blocks(&payloads);
        payloads
            .into_iter()
            .enumerate()
            .map(|(i, payload)| {
                let known = match &accepted {
                    Ok(blocks) => Ok(blocks[i]),
                    Err(e) => Err(e.clone()),
                };
                (payload, self.admit(payload, from_peer, || known))
            })
            .collect()
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
        // Sized once for a full mempool, so its memory never steps up under load. The set gets
        // twice the room: a full set that keeps churning (payloads in, payloads out to blocks)
        // fills its table with tombstones, and hashbrown then rebuilds it in place only while at
        // most half its capacity is in use; above that it doubles. Seen as a one-time jump of
        // ~70 MiB, ~2 minutes into a batched load with a 1,000,000-payload mempool.
        let state = MempoolState {
            queue: VecDeque::with_capacity(args.capacity),
            members: HashSet::with_capacity(2 * args.capacity),
            in_flight: HashSet::new(),
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
                let _ = reply.send(state.propose(payload));
            }
            MempoolMsg::ProposeMany(payloads, reply) => {
                let _ = reply.send(state.propose_many(payloads));
            }
            MempoolMsg::Holds(payload, reply) => {
                let _ = reply.send(state.holds(&payload));
            }
            MempoolMsg::FromPeer(peer, payloads) => {
                let mut taken = 0usize;
                for (_, outcome) in state.admit_many(payloads, true) {
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
                let count = max.min(state.queue.len());
                let taken: Vec<Payload> = state.queue.drain(..count).collect();
                for payload in &taken {
                    state.members.remove(payload);
                    state.in_flight.insert(*payload);
                }
                let _ = reply.send(taken);
            }
            MempoolMsg::Requeue(payloads) => {
                // Front of the queue, original order: they waited longest. Capacity may be
                // exceeded briefly here; these payloads were already admitted once.
                for payload in payloads.into_iter().rev() {
                    state.in_flight.remove(&payload);
                    if state.members.insert(payload) {
                        state.queue.push_front(payload);
                    }
                }
            }
            MempoolMsg::Included(payloads) => {
                let mut removed = 0usize;
                for payload in &payloads {
                    state.in_flight.remove(payload);
                    if state.members.remove(payload) {
                        removed += 1;
                    }
                }
                if removed > 0 {
                    state.queue.retain(|p| state.members.contains(p));
                }
            }
            MempoolMsg::Stats(reply) => {
                let _ = reply.send(MempoolStats {
                    size: state.queue.len(),
                    capacity: state.args.capacity,
                });
            }
        }
        state.publish();
        Ok(())
    }
}
