//! The actors that own the VM's mutable state, one writer each (ractor, on tokio):
//! - [`mempool`]: pending payloads, duplicates refused, a hard capacity;
//! - [`builder`]: when and what to build, and telling the node so;
//! - [`chain`]: the store, processing blocks, preference, accept and reject;
//! - [`gossip`]: payloads to and from peers through the node's AppSender.
//!
//! `clock_watch` (the chain actor's) publishes how far the tip's time is ahead of the local clock.
//!
//! [`VmHandles`] spawns them wired together and is what the gRPC and JSON-RPC handlers hold:
//! handlers decode, send a message, await the reply, encode.

pub mod builder;
pub mod chain;
mod clock_watch;
pub mod gossip;
pub mod mempool;

use crate::api::Backend;
use crate::chain::view::{BackendError, BlockView, MempoolStats, ProofLookup, ProposeError};
use crate::chain::{ChainFormat, Id, NodeId, Payload};
use crate::clock::Clock;
use crate::config::ChainConfig;
use crate::storage::Store;
use builder::{BuilderActor, BuilderArgs, BuilderMsg};
use chain::{ChainActor, ChainArgs, ChainMsg};
use gossip::{GossipActor, GossipArgs, GossipMsg};
use mempool::{MempoolActor, MempoolArgs, MempoolMsg};
use ractor::rpc::CallResult;
use ractor::{Actor, ActorRef, RpcReplyPort};
use rpcchainvm::node_client::NodeClients;
use std::sync::Arc;
use std::time::Duration;

/// Runs blocking work (RocksDB reads and writes, fsyncs) on tokio's blocking pool, so it never
/// holds an async worker that the gRPC servers and the other actors need. An actor awaits it
/// inside its handler, so its messages still run one at a time, in order.
pub(crate) async fn off_worker<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, OffWorkerError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| OffWorkerError(e.to_string()))
}

/// Blocking work that did not return (it panicked, or the runtime is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("blocking work did not complete: {0}")]
pub struct OffWorkerError(String);

/// Timeout for calls that only wait on our own actors (no network behind them).
pub const BLOCKING_CALL: Option<Duration> = Some(Duration::from_secs(30));

/// Sends `build(reply_port)` to `actor` and awaits the reply, mapping ractor's failures (actor
/// gone, timeout) to the API's error type.
pub async fn ask<M, T>(
    actor: &ActorRef<M>,
    build: impl FnOnce(RpcReplyPort<T>) -> M,
    timeout: Option<Duration>,
) -> Result<T, BackendError>
where
    M: ractor::Message,
    T: Send + 'static,
{
    match actor.call(build, timeout).await {
        Ok(CallResult::Success(value)) => Ok(value),
        Ok(CallResult::Timeout) => Err(BackendError::Internal(format!(
            "actor {} did not answer in time",
            actor.get_id()
        ))),
        Ok(CallResult::SenderError) | Err(_) => Err(BackendError::ShuttingDown),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("could not start the {actor} actor: {reason}")]
pub struct ActorStartError {
    actor: &'static str,
    reason: String,
}

/// The running actors of one chain. Cheap to clone.
#[derive(Clone)]
pub struct VmHandles {
    pub chain: ActorRef<ChainMsg>,
    pub mempool: ActorRef<MempoolMsg>,
    pub builder: ActorRef<BuilderMsg>,
    pub gossip: ActorRef<GossipMsg>,
    pub store: Arc<Store>,
}

fn start_error(actor: &'static str) -> impl FnOnce(ractor::SpawnErr) -> ActorStartError {
    move |e| ActorStartError {
        actor,
        reason: e.to_string(),
    }
}

impl VmHandles {
    /// Spawns the four actors over an opened store, wired to each other and to the node.
    pub async fn start(
        store: Arc<Store>,
        config: &ChainConfig,
        clients: NodeClients,
    ) -> Result<VmHandles, ActorStartError> {
        VmHandles::start_with_clock(store, config, clients, Clock::System).await
    }

    /// [`VmHandles::start`] with the chain reading the time from `clock` (tests play clock
    /// jumps through a [`Clock::Manual`]).
    pub async fn start_with_clock(
        store: Arc<Store>,
        config: &ChainConfig,
        clients: NodeClients,
        clock: Clock,
    ) -> Result<VmHandles, ActorStartError> {
        let (gossip, _) = Actor::spawn(
            None,
            GossipActor,
            GossipArgs {
                clients: clients.clone(),
                batch_size: config.gossip_batch_size,
                flush_every: config.gossip_flush(),
                validators: config.gossip_validators,
                peer_payloads_per_sec: config.gossip_peer_rate,
            },
        )
        .await
        .map_err(start_error("gossip"))?;
        let (pending_tx, pending_rx) = tokio::sync::watch::channel(0usize);
        let (mempool, _) = Actor::spawn(
            None,
            MempoolActor,
            MempoolArgs {
                capacity: config.mempool_capacity_for(store.format()),
                store: store.clone(),
                gossip: gossip.clone(),
                pending: pending_tx,
            },
        )
        .await
        .map_err(start_error("mempool"))?;
        let _ = gossip.cast(GossipMsg::Attach(mempool.clone()));
        let (chain, _) = Actor::spawn(
            None,
            ChainActor,
            ChainArgs {
                store: store.clone(),
                mempool: mempool.clone(),
                clock,
            },
        )
        .await
        .map_err(start_error("chain"))?;
        let (builder, _) = Actor::spawn(
            None,
            BuilderActor,
            BuilderArgs {
                chain: chain.clone(),
                mempool: mempool.clone(),
                pending: pending_rx,
                clients,
                build_interval: config.build_interval(),
                max_payloads: store.format().max_payloads(),
            },
        )
        .await
        .map_err(start_error("builder"))?;
        Ok(VmHandles {
            chain,
            mempool,
            builder,
            gossip,
            store,
        })
    }

    /// Stops the actors, producers first, and waits for each to finish its current message.
    pub async fn stop(&self) {
        let wait = Some(Duration::from_secs(5));
        let _ = self.builder.stop_and_wait(None, wait).await;
        let _ = self.gossip.stop_and_wait(None, wait).await;
        let _ = self.mempool.stop_and_wait(None, wait).await;
        let _ = self.chain.stop_and_wait(None, wait).await;
    }

    /// Hands a peer's gossip bytes to the gossip actor (fire and forget: never fails the node).
    pub fn gossip_in(&self, peer: NodeId, bytes: Vec<u8>) {
        let _ = self.gossip.cast(GossipMsg::Incoming(peer, bytes));
    }

    /// The actors that have stopped or are stopping, each with its status (empty while all are
    /// alive). ractor's `ACTIVE_STATES` counts `Starting` too: an actor is in it until its task
    /// first runs, just after spawn.
    pub fn stopped_actors(&self) -> Vec<String> {
        [
            ("chain", self.chain.get_status()),
            ("mempool", self.mempool.get_status()),
            ("builder", self.builder.get_status()),
            ("gossip", self.gossip.get_status()),
        ]
        .into_iter()
        .filter(|(_, status)| !ractor::ACTIVE_STATES.contains(status))
        .map(|(name, status)| format!("{name} ({status:?})"))
        .collect()
    }
}

fn flatten<T>(
    reply: Result<Result<T, chain::ChainError>, BackendError>,
) -> Result<T, BackendError> {
    reply?.map_err(|e| BackendError::Internal(e.to_string()))
}

impl Backend for VmHandles {
    async fn propose(&self, payload: [u8; 32]) -> Result<(), ProposeError> {
        ask(
            &self.mempool,
            |r| MempoolMsg::Propose(payload, r),
            BLOCKING_CALL,
        )
        .await?
    }

    async fn block(&self, id: Id) -> Result<Option<BlockView>, BackendError> {
        flatten(ask(&self.chain, |r| ChainMsg::Get(id, r), BLOCKING_CALL).await)
    }

    async fn last_accepted(&self) -> Result<BlockView, BackendError> {
        flatten(ask(&self.chain, ChainMsg::LastAccepted, BLOCKING_CALL).await)
    }

    async fn block_at_height(&self, height: u64) -> Result<Option<BlockView>, BackendError> {
        flatten(
            ask(
                &self.chain,
                |r| ChainMsg::BlockAtHeight(height, r),
                BLOCKING_CALL,
            )
            .await,
        )
    }

    async fn propose_batch(
        &self,
        payloads: Vec<Payload>,
    ) -> Result<Vec<Result<(), ProposeError>>, BackendError> {
        ask(
            &self.mempool,
            |r| MempoolMsg::ProposeMany(payloads, r),
            BLOCKING_CALL,
        )
        .await
    }

    async fn proof(&self, payload: Payload) -> Result<ProofLookup, BackendError> {
        // Accepted blocks are read straight from the store (safe beside the chain actor's
        // writes: an accept is one atomic batch); only the "not yet" cases ask the actors.
        let store = self.store.clone();
        let proven = tokio::task::spawn_blocking(move || store.proof(&payload))
            .await
            .map_err(|e| BackendError::Internal(e.to_string()))?
            .map_err(|e| {
                use crate::failures::{report, Cause, Operation};
                report(Operation::Read, Cause::Storage, &e);
                BackendError::Internal(e.to_string())
            })?;
        if let Some(proof) = proven {
            return Ok(ProofLookup::Proven(proof));
        }
        let pending = ask(
            &self.mempool,
            |r| MempoolMsg::Holds(payload, r),
            BLOCKING_CALL,
        )
        .await?
            || ask(
                &self.chain,
                |r| ChainMsg::ProcessingHolds(payload, r),
                BLOCKING_CALL,
            )
            .await?;
        Ok(match pending {
            true => ProofLookup::NotYetAccepted,
            false => ProofLookup::Unknown,
        })
    }

    fn chain_format(&self) -> ChainFormat {
        self.store.format()
    }

    async fn mempool_stats(&self) -> Result<MempoolStats, BackendError> {
        ask(&self.mempool, MempoolMsg::Stats, BLOCKING_CALL).await
    }
}
