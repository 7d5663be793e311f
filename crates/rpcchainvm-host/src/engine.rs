//! A one-validator consensus driver: with a single node every block it builds is decided at once,
//! so the node's engine reduces to "wait for an event, build, verify, prefer, accept"
//! (node-behaviour.md sections 6 and 7). `stampvm dev` and the tests run it; it speaks only the
//! wire contract, so it drives any plugin.
//!
//! Like the node, it stops the chain when the plugin fails `SetPreference` or `BlockAccept`
//! (node-behaviour.md section 11): building on after a failed accept would pile up blocks on one
//! that never becomes final, and answer proposals that never finalise. [`EngineHandle::failed`]
//! says why it stopped.

use super::node_services::NodeServicesHandle;
use super::vm_client::{valid_timestamp, BlockSummary, VmClient};
use super::HostError;
use rpcchainvm::ids::Id;
use rpcchainvm::pb::{messenger, vm as pb};
use rpcchainvm::shutdown::Shutdown;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// After a failed WaitForEvent the node waits this long and calls again.
const EVENT_RETRY: Duration = Duration::from_millis(100);
/// After a failed build, how long to wait before listening for the next event.
const BUILD_RETRY: Duration = Duration::from_millis(100);
/// The P-Chain height sent with BuildBlock (a one-node network has no P-Chain to follow).
const P_CHAIN_HEIGHT: u64 = 0;

/// Where block-building events come from.
#[derive(Debug, Clone)]
pub enum EngineMode {
    /// Protocol 42+: the node keeps one `vm.VM/WaitForEvent` call outstanding.
    WaitForEvent,
    /// Profiles ≤41 and luxd: the plugin calls `Messenger.Notify`; the engine drains that slot.
    Messenger(NodeServicesHandle),
}

impl EngineMode {
    /// The trigger of the node `services` play: WaitForEvent where it calls it (42+), else the
    /// Messenger slot those services fill. (luxd "43" is played like luxd 35, whose engine drains
    /// the slot; the real luxd "43" never does, so no block is built there: node-behaviour.md 13.)
    pub fn for_node(services: &NodeServicesHandle) -> EngineMode {
        match services.profile().node_waits_for_events() {
            true => EngineMode::WaitForEvent,
            false => EngineMode::Messenger(services.clone()),
        }
    }
}

/// The last block this engine accepted (or the chain's last accepted block before any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptedTip {
    pub id: Id,
    pub height: u64,
    /// Blocks accepted by this engine so far.
    pub accepted: u64,
}

/// The engine before it runs; [`SoloEngine::spawn`] starts it.
#[derive(Debug)]
pub struct SoloEngine {
    client: VmClient,
    mode: EngineMode,
    tip: watch::Sender<AcceptedTip>,
    /// Where [`SoloEngine::report_cycles`] sends round times; `None` for a plain node.
    cycles: Option<mpsc::UnboundedSender<Duration>>,
}

/// Why the engine stopped the chain by itself: the plugin failed a call after which the node
/// shuts a chain down (node-behaviour.md section 11).
#[derive(Debug, Clone, thiserror::Error)]
#[error("stopped the chain, as AvalancheGo does, because {method} of block {block} (height {height}) failed: {error}")]
pub struct EngineFailure {
    /// `vm.VM/SetPreference` or `vm.VM/BlockAccept`.
    pub method: &'static str,
    pub block: Id,
    pub height: u64,
    pub error: Arc<HostError>,
}

/// How a round ended without an accepted block.
enum RoundError {
    /// No block this round (BuildBlock failed, or its block does not extend the tip or fails
    /// verification): the node drops it and waits for the next event.
    Dropped(HostError),
    /// The chain must stop.
    Fatal(EngineFailure),
}

impl From<HostError> for RoundError {
    fn from(error: HostError) -> RoundError {
        RoundError::Dropped(error)
    }
}

/// A running engine: watch its tip, wait for heights, learn why it failed, join it after shutdown.
#[derive(Debug)]
pub struct EngineHandle {
    tip: watch::Receiver<AcceptedTip>,
    failure: watch::Receiver<Option<EngineFailure>>,
    task: JoinHandle<()>,
}

impl SoloEngine {
    /// An engine for a chain whose last accepted block is `last_accepted` (from `start_chain`).
    pub fn new(client: VmClient, mode: EngineMode, last_accepted: &BlockSummary) -> SoloEngine {
        let tip = AcceptedTip {
            id: last_accepted.id,
            height: last_accepted.height,
            accepted: 0,
        };
        SoloEngine {
            client,
            mode,
            tip: watch::channel(tip).0,
            cycles: None,
        }
    }

    /// Also send the time of every round that accepted a block (BuildBlock sent → BlockAccept
    /// answered) to `cycles`: benchmarks read consensus latency here, which the tip alone cannot
    /// give. Not something the node does.
    pub fn report_cycles(mut self, cycles: mpsc::UnboundedSender<Duration>) -> SoloEngine {
        self.cycles = Some(cycles);
        self
    }

    /// Runs the loop in a task until `shutdown` fires or the chain fails.
    pub fn spawn(self, shutdown: Shutdown) -> EngineHandle {
        let tip = self.tip.subscribe();
        let (failed, failure) = watch::channel(None);
        let task = tokio::spawn(async move {
            if let Err(failure) = self.run(shutdown).await {
                tracing::error!(%failure, "engine stopped");
                failed.send_replace(Some(failure));
            }
        });
        EngineHandle { tip, failure, task }
    }

    /// The loop itself: an outstanding wait is dropped (cancelled) when `shutdown` fires. Ends
    /// with an error, at once, when the plugin fails SetPreference or BlockAccept.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), EngineFailure> {
        let mut failing = false;
        loop {
            let event = tokio::select! {
                _ = shutdown.wait() => break,
                event = self.next_event() => event,
            };
            match event {
                Ok(true) => {
                    failing = false;
                    let round = Instant::now();
                    let result = self.build_and_accept().await;
                    if let (Ok(()), Some(cycles)) = (&result, &self.cycles) {
                        let _ = cycles.send(round.elapsed());
                    }
                    match result {
                        Ok(()) => {}
                        Err(RoundError::Fatal(failure)) => return Err(failure),
                        Err(RoundError::Dropped(error)) => {
                            tracing::debug!(%error, "no block this round");
                            tokio::select! {
                                _ = shutdown.wait() => break,
                                _ = tokio::time::sleep(BUILD_RETRY) => {}
                            }
                        }
                    }
                }
                Ok(false) => {}
                Err(error) => {
                    // The node retries silently every 100 ms; say it once per streak.
                    if !failing {
                        tracing::warn!(%error, "waiting for events failed; retrying");
                    }
                    failing = true;
                    tokio::select! {
                        _ = shutdown.wait() => break,
                        _ = tokio::time::sleep(EVENT_RETRY) => {}
                    }
                }
            }
        }
        tracing::debug!("engine stopped");
        Ok(())
    }

    /// Waits for the next event; `Ok(true)` means "build a block".
    async fn next_event(&self) -> Result<bool, HostError> {
        match &self.mode {
            EngineMode::WaitForEvent => {
                let event = self.client.wait_for_event().await?;
                if event.message == pb::Message::BuildBlock as i32 {
                    return Ok(true);
                }
                tracing::warn!(message = event.message, "unexpected WaitForEvent message");
                // A plugin answering at once with nothing must not make us spin.
                tokio::time::sleep(EVENT_RETRY).await;
                Ok(false)
            }
            EngineMode::Messenger(services) => {
                let message = services.notify_slot().next().await;
                if message == messenger::Message::BuildBlock as i32 {
                    return Ok(true);
                }
                tracing::warn!(message, "unexpected Notify message");
                Ok(false)
            }
        }
    }

    /// BuildBlock → BlockVerify(bytes) → SetPreference(id) → BlockAccept(id). A block that does not
    /// extend the tip, or fails verification, is dropped (neither accepted nor rejected); a failed
    /// SetPreference or BlockAccept is fatal.
    async fn build_and_accept(&self) -> Result<(), RoundError> {
        const BUILD: &str = "vm.VM/BuildBlock";
        let request = pb::BuildBlockRequest {
            p_chain_height: Some(P_CHAIN_HEIGHT),
        };
        let built = self.client.build_block(request).await?;
        let with_context = built.verify_with_context;
        let block = BlockSummary::from_build(built)?;
        let tip = *self.tip.borrow();
        if block.parent_id != tip.id || block.height != tip.height.wrapping_add(1) {
            return Err(HostError::InvalidResponse {
                method: BUILD,
                reason: format!(
                    "block {} (height {}, parent {}) does not extend the tip {} at height {}",
                    block.id, block.height, block.parent_id, tip.id, tip.height
                ),
            }
            .into());
        }
        let verify = pb::BlockVerifyRequest {
            bytes: block.bytes.clone(),
            p_chain_height: with_context.then_some(P_CHAIN_HEIGHT),
        };
        let verified = self.client.block_verify(verify).await?;
        valid_timestamp("vm.VM/BlockVerify", verified.timestamp)?;
        let id = block.id.0.to_vec();
        let fatal = |method: &'static str| {
            move |error: HostError| {
                RoundError::Fatal(EngineFailure {
                    method,
                    block: block.id,
                    height: block.height,
                    error: Arc::new(error),
                })
            }
        };
        self.client
            .set_preference(pb::SetPreferenceRequest { id: id.clone() })
            .await
            .map_err(fatal("vm.VM/SetPreference"))?;
        self.client
            .block_accept(pb::BlockAcceptRequest { id })
            .await
            .map_err(fatal("vm.VM/BlockAccept"))?;
        tracing::info!(id = %block.id, height = block.height, "accepted block");
        self.tip.send_modify(|tip| {
            tip.id = block.id;
            tip.height = block.height;
            tip.accepted += 1;
        });
        Ok(())
    }
}

impl EngineHandle {
    /// The current tip.
    pub fn tip(&self) -> AcceptedTip {
        *self.tip.borrow()
    }

    /// A receiver that sees every tip change.
    pub fn subscribe(&self) -> watch::Receiver<AcceptedTip> {
        self.tip.clone()
    }

    /// Waits until a block at `height` or above is accepted; `None` after `timeout` (or if the
    /// engine stopped first).
    pub async fn wait_for_height(&self, height: u64, timeout: Duration) -> Option<AcceptedTip> {
        let mut tip = self.tip.clone();
        let reached = tokio::time::timeout(timeout, tip.wait_for(|t| t.height >= height)).await;
        match reached {
            Ok(Ok(tip)) => Some(*tip),
            _ => None,
        }
    }

    /// Resolves when the engine has stopped the chain by itself, with why; never while it runs
    /// or after it stopped on shutdown.
    pub async fn failed(&self) -> EngineFailure {
        let mut failure = self.failure.clone();
        if let Ok(failure) = failure.wait_for(Option::is_some).await {
            if let Some(failure) = failure.clone() {
                return failure;
            }
        }
        std::future::pending().await
    }

    /// Why the engine stopped the chain, if it did (without waiting).
    pub fn failure(&self) -> Option<EngineFailure> {
        self.failure.borrow().clone()
    }

    /// Waits for the loop to end (trigger the shutdown first, unless it failed).
    pub async fn join(self) {
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "engine task failed");
        }
    }
}
