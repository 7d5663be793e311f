//! The actors that own the VM's mutable state, one writer each (ractor, on tokio):
//! - [`mempool`]: pending payloads, duplicates refused, a hard capacity;
//! - [`builder`]: when and what to build, and telling the node so;
//! - [`chain`]: the store, processing blocks, preference, accept and reject;
//! - [`gossip`]: this node's payloads to peers through the node's AppSender.
//!
//! `clock_watch` (the chain actor's) publishes how far the tip's time is ahead of the local clock.
//!
//! The actors reach the node only through the traits of [`ports`] (implemented over the node's
//! clients in `node_ports`). They form no cycle: gossip, then mempool (which hands gossip its
//! payloads and admits peers' ones), then chain, then builder. Every timer and task they start
//! runs under one stop signal ([`tasks`]), which [`VmHandles::stop`] fires and awaits.
//!
//! [`VmHandles`] spawns them wired together and is what the gRPC and JSON-RPC handlers hold:
//! handlers decode, send a message, await the reply, encode.

pub mod builder;
pub mod chain;
mod clock_watch;
pub mod gossip;
pub mod mempool;
mod node_ports;
pub mod ports;
pub mod tasks;
#[cfg(test)]
mod tests;

use crate::api::Backend;
use crate::chain::gossip::decode_gossip;
use crate::chain::view::{BackendError, BlockView, MempoolStats, ProofLookup, ProposeError};
use crate::chain::{ChainFormat, Id, NodeId, Payload};
use crate::clock::Clock;
use crate::config::ChainConfig;
use crate::storage::Store;
use builder::{BuilderActor, BuilderArgs, BuilderMsg};
use chain::{ChainActor, ChainArgs, ChainMsg};
use gossip::{GossipActor, GossipArgs, GossipMsg};
use mempool::{MempoolActor, MempoolArgs, MempoolMsg};
use ports::{BuildNotifier, GossipOut};
use ractor::rpc::CallResult;
use ractor::{Actor, ActorRef, RpcReplyPort};
use rpcchainvm::shutdown::Shutdown;
use std::sync::Arc;
use std::time::Duration;
use tasks::Tasks;

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
pub(crate) struct OffWorkerError(String);

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
    /// The one stop signal, and the tasks the actors started under it.
    tasks: Tasks,
    /// Fired once the actors have stopped after the stop signal.
    stopped: Shutdown,
}

fn start_error(actor: &'static str) -> impl FnOnce(ractor::SpawnErr) -> ActorStartError {
    move |e| ActorStartError {
        actor,
        reason: e.to_string(),
    }
}

/// How long [`VmHandles::stop`] waits for each actor to finish its current message.
const STOP_WAIT: Option<Duration> = Some(Duration::from_secs(5));

impl VmHandles {
    /// Spawns the four actors over an opened store, wired to each other and to the node
    /// (`node`: the node's clients, `rpcchainvm::node_client::NodeClients`, or any ports).
    pub async fn start<P: BuildNotifier + GossipOut>(
        store: Arc<Store>,
        config: &ChainConfig,
        node: P,
    ) -> Result<VmHandles, ActorStartError> {
        VmHandles::start_with_clock(store, config, node, Clock::System).await
    }

    /// [`VmHandles::start`] with the chain reading the time from `clock` (tests play clock
    /// jumps through a [`Clock::Manual`]).
    pub async fn start_with_clock<P: BuildNotifier + GossipOut>(
        store: Arc<Store>,
        config: &ChainConfig,
        node: P,
        clock: Clock,
    ) -> Result<VmHandles, ActorStartError> {
        VmHandles::start_under(store, config, node, clock, Shutdown::new()).await
    }

    /// [`VmHandles::start_with_clock`] under the caller's stop signal: when `stop` fires (here,
    /// through [`VmHandles::stop`], or anywhere else), every timer and task the actors started
    /// ends and is awaited, then the actors stop, producers first.
    pub async fn start_under<P: BuildNotifier + GossipOut>(
        store: Arc<Store>,
        config: &ChainConfig,
        node: P,
        clock: Clock,
        stop: Shutdown,
    ) -> Result<VmHandles, ActorStartError> {
        let tasks = Tasks::new(stop);
        let mut started = Vec::new();
        let spawned =
            VmHandles::spawn(store, config, node, clock, tasks.clone(), &mut started).await;
        if spawned.is_err() {
            // What spawned before the failure stops, timers first.
            tasks.stop_and_join().await;
            for actor in started.into_iter().rev() {
                actor.stop(None);
            }
        }
        let handles = spawned?;
        let (watcher, stopped) = (handles.clone(), handles.stopped.clone());
        tokio::spawn(async move {
            watcher.tasks.stop_signal().wait().await;
            watcher.stop_actors().await;
            // The store is closed once the last handle goes: this one goes before `stop` returns.
            drop(watcher);
            stopped.trigger();
        });
        Ok(handles)
    }

    /// The actors, in dependency order: gossip, mempool, chain, builder; each one spawned is
    /// added to `started`.
    async fn spawn<P: BuildNotifier + GossipOut>(
        store: Arc<Store>,
        config: &ChainConfig,
        node: P,
        clock: Clock,
        tasks: Tasks,
        started: &mut Vec<ractor::ActorCell>,
    ) -> Result<VmHandles, ActorStartError> {
        let (gossip, _) = Actor::spawn(
            None,
            GossipActor::default(),
            GossipArgs {
                out: node.clone(),
                batch_size: config.gossip_batch_size,
                flush_every: config.gossip_flush(),
                validators: config.gossip_validators,
                tasks: tasks.clone(),
            },
        )
        .await
        .map_err(start_error("gossip"))?;
        started.push(gossip.get_cell());
        let (pending_tx, pending_rx) = tokio::sync::watch::channel(0usize);
        let (mempool, _) = Actor::spawn(
            None,
            MempoolActor,
            MempoolArgs {
                capacity: config.mempool_capacity_for(store.format()),
                store: store.clone(),
                gossip: gossip.clone(),
                pending: pending_tx,
                peer_payloads_per_sec: config.gossip_peer_rate,
            },
        )
        .await
        .map_err(start_error("mempool"))?;
        started.push(mempool.get_cell());
        let (chain, _) = Actor::spawn(
            None,
            ChainActor,
            ChainArgs {
                store: store.clone(),
                mempool: mempool.clone(),
                clock,
                tasks: tasks.clone(),
            },
        )
        .await
        .map_err(start_error("chain"))?;
        started.push(chain.get_cell());
        let (builder, _) = Actor::spawn(
            None,
            BuilderActor::default(),
            BuilderArgs {
                chain: chain.clone(),
                mempool: mempool.clone(),
                pending: pending_rx,
                notifier: node,
                build_interval: config.build_interval(),
                max_payloads: store.format().max_payloads(),
                tasks: tasks.clone(),
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
            tasks,
            stopped: Shutdown::new(),
        })
    }

    /// The stop signal every actor and task watches.
    pub fn stop_signal(&self) -> Shutdown {
        self.tasks.stop_signal().clone()
    }

    /// Fires the stop signal and waits until the actors' tasks have ended and the actors have
    /// stopped, each after its current message. Idempotent; every caller waits for the end.
    pub async fn stop(&self) {
        self.tasks.stop_signal().trigger();
        self.stopped.wait().await;
    }

    /// The tasks first (timers, watchers, a build in flight), then the actors, producers first.
    async fn stop_actors(&self) {
        self.tasks.stop_and_join().await;
        let _ = self.builder.stop_and_wait(None, STOP_WAIT).await;
        let _ = self.gossip.stop_and_wait(None, STOP_WAIT).await;
        let _ = self.mempool.stop_and_wait(None, STOP_WAIT).await;
        let _ = self.chain.stop_and_wait(None, STOP_WAIT).await;
    }

    /// Decodes a peer's gossip bytes and hands the payloads to the mempool, which charges the
    /// peer's rate and admits them (fire and forget: never fails the node). The bytes are
    /// untrusted: anything malformed is dropped whole.
    pub fn gossip_in(&self, peer: NodeId, bytes: Vec<u8>) {
        match decode_gossip(&bytes) {
            Ok(payloads) => {
                let _ = self.mempool.cast(MempoolMsg::FromPeer(peer, payloads));
            }
            Err(e) => tracing::debug!(%peer, error = %e, "malformed gossip dropped"),
        }
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
