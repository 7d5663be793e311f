//! The builder actor decides *when* and *what* to build; verification stays with the chain actor.
//!
//! When: every `build_interval` and whenever the mempool goes from empty to not empty, if there
//! is work, it tells the node — by answering the outstanding `WaitForEvent` calls (protocol 42+)
//! or by calling `Messenger.Notify` (older protocols). The answer is derived from the mempool's
//! published size, never from a one-shot flag, so a call the node cancels loses nothing.
//! What: on BuildBlock, the oldest pending payloads (one on a TimestampVM chain, up to the
//! genesis maximum on a batched chain), which the chain actor makes into a block on top of the
//! preferred block and verifies, in one message.

use crate::actors::chain::{ChainError, ChainMsg};
use crate::actors::mempool::MempoolMsg;
use crate::actors::{ask, BLOCKING_CALL};
use crate::chain::view::{BackendError, BlockView};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use rpcchainvm::node_client::NodeClients;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("no pending payloads to build a block from")]
    NothingToBuild,
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Unavailable(#[from] BackendError),
}

pub enum BuilderMsg {
    /// Answered (with `()`, meaning "build a block") as soon as the mempool holds work.
    WaitForEvent(RpcReplyPort<()>),
    Build(RpcReplyPort<Result<BlockView, BuildError>>),
    /// The mempool's size changed, or the build interval passed.
    Check,
}

pub struct BuilderArgs {
    pub chain: ActorRef<ChainMsg>,
    pub mempool: ActorRef<MempoolMsg>,
    pub pending: watch::Receiver<usize>,
    pub clients: NodeClients,
    pub build_interval: Duration,
    /// Payloads per block: 1, or a batched chain's `maxBatch`.
    pub max_payloads: usize,
}

pub struct BuilderState {
    args: BuilderArgs,
    waiters: Vec<RpcReplyPort<()>>,
    notifier: Notifier,
}

/// Calls `Messenger.Notify` (profiles up to 41) off the builder's path: a Notify is a gRPC round
/// trip, and the node refuses most of them ("full message queue") while its one-message slot is
/// taken. Awaiting each one inside the actor queued BuildBlock behind thousands of them under
/// load. At most one call is in flight; a request made meanwhile is sent when it returns.
#[derive(Clone, Default)]
struct Notifier {
    in_flight: Arc<AtomicBool>,
    wanted: Arc<AtomicBool>,
}

impl Notifier {
    fn request(&self, clients: &NodeClients) {
        self.wanted.store(true, Ordering::Release);
        if self.in_flight.swap(true, Ordering::AcqRel) {
            return;
        }
        let (notifier, clients) = (self.clone(), clients.clone());
        tokio::spawn(async move {
            loop {
                while notifier.wanted.swap(false, Ordering::AcqRel) {
                    if let Err(e) = clients.notify_build_block().await {
                        tracing::warn!(error = %e, "could not tell the node a block can be built");
                    }
                }
                notifier.in_flight.store(false, Ordering::Release);
                // A request that came after the last swap but before the store above would
                // otherwise wait for the next tick.
                let again = notifier.wanted.load(Ordering::Acquire)
                    && !notifier.in_flight.swap(true, Ordering::AcqRel);
                if !again {
                    break;
                }
            }
        });
    }
}

pub struct BuilderActor;

impl BuilderState {
    fn has_work(&self) -> bool {
        *self.args.pending.borrow() > 0
    }

    fn check(&mut self) {
        // Calls the node gave up on leave closed ports behind; forget them.
        self.waiters.retain(|port| !port.is_closed());
        if !self.has_work() {
            return;
        }
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(());
        }
        if self.args.clients.uses_messenger() {
            self.notifier.request(&self.args.clients);
        }
    }

    async fn build(&mut self) -> Result<BlockView, BuildError> {
        let max = self.args.max_payloads;
        let taken = ask(
            &self.args.mempool,
            |r| MempoolMsg::Take(max, r),
            BLOCKING_CALL,
        )
        .await?;
        if taken.is_empty() {
            return Err(BuildError::NothingToBuild);
        }
        let requeue = taken.clone();
        let outcome = ask(
            &self.args.chain,
            |r| ChainMsg::Build(taken, r),
            BLOCKING_CALL,
        )
        .await;
        match outcome {
            Ok(Ok(built)) => {
                if !built.left_out.is_empty() {
                    // Already in a block: pending no more (a rejected block requeues its own).
                    let _ = self.args.mempool.cast(MempoolMsg::Included(built.left_out));
                }
                metrics::counter!(crate::metrics::BLOCKS_BUILT_TOTAL).increment(1);
                let block = &built.view.block;
                tracing::debug!(id = %built.view.id, height = block.height, payloads = block.payloads().len(), "block built");
                Ok(built.view)
            }
            failed => {
                // Nothing was built: the payloads must not be lost.
                let _ = self.args.mempool.cast(MempoolMsg::Requeue(requeue));
                Err(match failed {
                    Ok(Err(ChainError::NothingNew)) => BuildError::NothingToBuild,
                    Ok(Err(e)) => e.into(),
                    Err(e) => e.into(),
                    Ok(Ok(_)) => unreachable!("matched above"),
                })
            }
        }
    }
}

impl Actor for BuilderActor {
    type Msg = BuilderMsg;
    type State = BuilderState;
    type Arguments = BuilderArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: BuilderArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        myself.send_interval(args.build_interval, || BuilderMsg::Check);
        // Wake when the mempool goes from empty to non-empty. Not on every change: under load
        // that is one Check per proposal, flooding this actor's mailbox ahead of BuildBlock.
        let mut pending = args.pending.clone();
        let me = myself.clone();
        tokio::spawn(async move {
            let mut had_work = *pending.borrow_and_update() > 0;
            while pending.changed().await.is_ok() {
                let has_work = *pending.borrow_and_update() > 0;
                if has_work && !had_work && me.cast(BuilderMsg::Check).is_err() {
                    break;
                }
                had_work = has_work;
            }
        });
        Ok(BuilderState {
            args,
            waiters: Vec::new(),
            notifier: Notifier::default(),
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            BuilderMsg::WaitForEvent(reply) => {
                if state.has_work() {
                    let _ = reply.send(());
                } else {
                    state.waiters.push(reply);
                }
            }
            BuilderMsg::Build(reply) => {
                let outcome = state.build().await;
                let _ = reply.send(outcome);
                // More work left: on old protocols the node needs to be told again (its engine
                // may build once for several notifications, node-behaviour.md 6.1).
                state.check();
            }
            BuilderMsg::Check => state.check(),
        }
        Ok(())
    }
}
