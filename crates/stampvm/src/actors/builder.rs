//! The builder actor decides *when* and *what* to build; verification stays with the chain actor.
//!
//! When: every `build_interval` and whenever the mempool goes from empty to not empty, if there
//! is work, it tells the node — by answering the outstanding `WaitForEvent` calls (protocol 42+)
//! or by calling `Messenger.Notify` (older protocols). The answer is derived from the mempool's
//! published size, never from a one-shot flag, so a call the node cancels loses nothing.
//! What: on BuildBlock, the oldest pending payloads (one on a TimestampVM chain, up to the
//! genesis maximum on a batched chain), which the chain actor makes into a block on top of the
//! preferred block and verifies, in one message.
//!
//! A build is two calls (the mempool's Take, then the chain's Build). They run in a task of their
//! own, so this actor's mailbox keeps moving meanwhile; builds still run one at a time, in order,
//! and what a build would have delayed (answering `WaitForEvent`, a `Check`) waits for its end,
//! as it did when the calls were awaited here: a waiter is never told "build" on payloads a
//! build in flight is about to take.

use crate::actors::chain::{ChainError, ChainMsg};
use crate::actors::mempool::MempoolMsg;
use crate::actors::ports::BuildNotifier;
use crate::actors::tasks::Tasks;
use crate::actors::{ask, BLOCKING_CALL};
use crate::chain::view::{BackendError, BlockView};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::collections::VecDeque;
use std::marker::PhantomData;
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

type BuildReply = RpcReplyPort<Result<BlockView, BuildError>>;

pub enum BuilderMsg {
    /// Answered (with `()`, meaning "build a block") as soon as the mempool holds work.
    WaitForEvent(RpcReplyPort<()>),
    Build(BuildReply),
    /// The mempool's size changed, or the build interval passed.
    Check,
    /// The build in flight has answered its caller.
    Built,
}

pub struct BuilderArgs<N> {
    pub chain: ActorRef<ChainMsg>,
    pub mempool: ActorRef<MempoolMsg>,
    pub pending: watch::Receiver<usize>,
    pub notifier: N,
    pub build_interval: Duration,
    /// Payloads per block: 1, or a batched chain's `maxBatch`.
    pub max_payloads: usize,
    /// Where the timer, the mempool watcher, builds and notifications run (stopped with the VM).
    pub tasks: Tasks,
}

pub struct BuilderState<N> {
    args: BuilderArgs<N>,
    waiters: Vec<RpcReplyPort<()>>,
    notifications: Notifications,
    /// Build requests not yet started, oldest first.
    queued: VecDeque<BuildReply>,
    /// Whether a build's task is running (its `Built` not yet handled).
    building: bool,
}

/// Calls `Messenger.Notify` (profiles up to 41) off the builder's path: a Notify is a gRPC round
/// trip, and the node refuses most of them ("full message queue") while its one-message slot is
/// taken. Awaiting each one inside the actor queued BuildBlock behind thousands of them under
/// load. At most one call is in flight; a request made meanwhile is sent when it returns.
#[derive(Clone, Default)]
struct Notifications {
    in_flight: Arc<AtomicBool>,
    wanted: Arc<AtomicBool>,
}

impl Notifications {
    fn request<N: BuildNotifier>(&self, notifier: &N, tasks: &Tasks) {
        self.wanted.store(true, Ordering::Release);
        if self.in_flight.swap(true, Ordering::AcqRel) {
            return;
        }
        let (notifications, notifier) = (self.clone(), notifier.clone());
        tasks.spawn(async move {
            loop {
                while notifications.wanted.swap(false, Ordering::AcqRel) {
                    if let Err(e) = notifier.notify_build().await {
                        tracing::warn!(error = %e, "could not tell the node a block can be built");
                    }
                }
                notifications.in_flight.store(false, Ordering::Release);
                // A request that came after the last swap but before the store above would
                // otherwise wait for the next tick.
                let again = notifications.wanted.load(Ordering::Acquire)
                    && !notifications.in_flight.swap(true, Ordering::AcqRel);
                if !again {
                    break;
                }
            }
        });
    }
}

/// The actor, telling the node through `N`.
pub struct BuilderActor<N>(PhantomData<fn() -> N>);

impl<N> Default for BuilderActor<N> {
    fn default() -> Self {
        BuilderActor(PhantomData)
    }
}

impl<N: BuildNotifier> BuilderState<N> {
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
        if self.args.notifier.must_notify() {
            self.notifications
                .request(&self.args.notifier, &self.args.tasks);
        }
    }

    /// Starts the oldest queued build unless one is in flight. Its task answers the caller,
    /// then tells this actor with `Built`.
    fn start_next(&mut self, myself: &ActorRef<BuilderMsg>) {
        if self.building {
            return;
        }
        let Some(reply) = self.queued.pop_front() else {
            return;
        };
        self.building = true;
        let (mempool, chain) = (self.args.mempool.clone(), self.args.chain.clone());
        let max = self.args.max_payloads;
        let myself = myself.clone();
        self.args.tasks.spawn(async move {
            let _ = reply.send(build(&mempool, &chain, max).await);
            let _ = myself.cast(BuilderMsg::Built);
        });
    }
}

/// Takes up to `max` payloads from the mempool and has the chain make them a block; payloads
/// of a block not built go back, those a block already holds leave.
async fn build(
    mempool: &ActorRef<MempoolMsg>,
    chain: &ActorRef<ChainMsg>,
    max: usize,
) -> Result<BlockView, BuildError> {
    let taken = ask(mempool, |r| MempoolMsg::Take(max, r), BLOCKING_CALL).await?;
    if taken.is_empty() {
        return Err(BuildError::NothingToBuild);
    }
    let requeue = taken.clone();
    let outcome = ask(chain, |r| ChainMsg::Build(taken, r), BLOCKING_CALL).await;
    match outcome {
        Ok(Ok(built)) => {
            if !built.left_out.is_empty() {
                // Already in a block: pending no more (a rejected block requeues its own).
                let _ = mempool.cast(MempoolMsg::Included(built.left_out));
            }
            metrics::counter!(crate::metrics::BLOCKS_BUILT_TOTAL).increment(1);
            let block = &built.view.block;
            tracing::debug!(id = %built.view.id, height = block.height, payloads = block.payloads().len(), "block built");
            Ok(built.view)
        }
        failed => {
            // Nothing was built: the payloads must not be lost.
            let _ = mempool.cast(MempoolMsg::Requeue(requeue));
            Err(match failed {
                Ok(Err(ChainError::NothingNew)) => BuildError::NothingToBuild,
                Ok(Err(e)) => e.into(),
                Err(e) => e.into(),
                Ok(Ok(_)) => unreachable!("matched above"),
            })
        }
    }
}

impl<N: BuildNotifier> Actor for BuilderActor<N> {
    type Msg = BuilderMsg;
    type State = BuilderState<N>;
    type Arguments = BuilderArgs<N>;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: BuilderArgs<N>,
    ) -> Result<Self::State, ActorProcessingErr> {
        args.tasks
            .every(args.build_interval, myself.clone(), || BuilderMsg::Check);
        // Wake when the mempool goes from empty to non-empty. Not on every change: under load
        // that is one Check per proposal, flooding this actor's mailbox ahead of BuildBlock.
        let mut pending = args.pending.clone();
        let me = myself.clone();
        args.tasks.spawn(async move {
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
            notifications: Notifications::default(),
            queued: VecDeque::new(),
            building: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            BuilderMsg::WaitForEvent(reply) => {
                // During a build, the answer waits for its end (`Built` checks again).
                if state.has_work() && !state.building {
                    let _ = reply.send(());
                } else {
                    state.waiters.push(reply);
                }
            }
            BuilderMsg::Build(reply) => {
                state.queued.push_back(reply);
                state.start_next(&myself);
            }
            BuilderMsg::Check if state.building => {}
            BuilderMsg::Check => state.check(),
            BuilderMsg::Built => {
                state.building = false;
                // More work left: on old protocols the node needs to be told again (its engine
                // may build once for several notifications, node-behaviour.md 6.1).
                state.check();
                state.start_next(&myself);
            }
        }
        Ok(())
    }
}
