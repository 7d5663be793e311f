//! Plugin mode, end to end: serve `vm.VM` on loopback, announce it to the node, then live by the
//! node's rules until Shutdown (node-behaviour.md sections 2 and 10).
//!
//! Signals: SIGINT is always ignored (a Ctrl-C in the node's terminal reaches us too; the node
//! stops us itself). SIGTERM ends the process when no Initialize was ever received (registration
//! and static-handler processes), after Shutdown, or when the parent is gone; otherwise it is
//! ignored, so a chain is never torn down behind the node's back. The parent is also polled, so
//! we exit when the node dies without a signal reaching us. SIGXFSZ is ignored: a write past a
//! file-size limit (`ulimit -f`, a container's RLIMIT_FSIZE) then fails with EFBIG, which the
//! VM's storage reports and the node sees as a failed call, instead of killing the process in
//! mid-write.
//!
//! Stopping is one tree: the process's [`Shutdown`] is the root, the chain's HTTP servers hang
//! off a child that the node's Shutdown fires, and every long-running task (the gRPC servers,
//! the signal and parent watchers) is registered in one [`TaskTracker`] and awaited before
//! [`serve`] returns.

use crate::handshake::{self, HandshakeError};
use crate::observe::CallObserver;
use crate::protocol::{HostFlavour, Profile};
use crate::service::{Lifecycle, VmService};
use crate::shutdown::Shutdown;
use crate::tasks::TaskTracker;
use crate::transport;
use crate::vm::Vm;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};

/// How long in-flight calls and tracked tasks may take to finish once we decided to stop.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// How the plugin is served: the choice made before anything is served, and what the VM adds.
pub struct ServeOptions {
    /// The node's runtime server (its `*_VM_RUNTIME_ENGINE_ADDR`).
    pub engine_addr: String,
    /// The profile chosen for this node ([`crate::profile_choice`]); announced at the handshake.
    pub profile: Profile,
    /// Told about every gRPC call the node makes to the plugin's servers.
    pub observer: Option<Arc<dyn CallObserver>>,
    /// The VM's version, for the start-up log line.
    pub version: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("binding the gRPC server: {0}")]
    Bind(std::io::Error),
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    #[error("installing signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("gRPC server failed: {0}")]
    Serve(tonic::transport::Error),
}

/// Serves `vm` to the node until the node shuts it down (or goes away).
pub async fn serve<V: Vm>(vm: V, options: ServeOptions) -> Result<(), ServeError> {
    let ServeOptions {
        engine_addr,
        profile,
        observer,
        version,
    } = options;
    let lifecycle = Arc::new(Lifecycle::default());
    let tasks = TaskTracker::new();
    let (listener, addr) = transport::bind_loopback().await.map_err(ServeError::Bind)?;
    let service = VmService::new(
        vm,
        profile,
        lifecycle.clone(),
        observer.clone(),
        tasks.clone(),
    );
    let stop = lifecycle.stop.clone();
    let (served_tx, served_rx) = tokio::sync::oneshot::channel();
    tasks.spawn("vm.VM server", async move {
        let served = tonic::transport::Server::builder()
            .add_service(service.into_server(observer))
            .serve_with_incoming_shutdown(transport::incoming(listener), stop.wait())
            .await;
        let _ = served_tx.send(served);
    });
    ignore_file_size_signal().map_err(ServeError::Signals)?;
    watch_signals(&tasks, lifecycle.clone()).map_err(ServeError::Signals)?;
    watch_parent(&tasks, lifecycle.clone());

    tracing::info!(%addr, %profile, engine = engine_addr, version, "serving vm.VM; handshaking");
    if let Err(e) = handshake::announce(&engine_addr, profile, addr).await {
        lifecycle.stop.trigger();
        drain(&tasks).await;
        return Err(e.into());
    }
    tracing::info!("handshake accepted");

    lifecycle.stop.wait().await;
    let late = drain(&tasks).await;
    if !late.contains(&"vm.VM server") {
        if let Ok(Err(e)) = served_rx.await {
            return Err(ServeError::Serve(e));
        }
    }
    tracing::info!("plugin exiting");
    Ok(())
}

/// The node's runtime address and which node set it, when a node launched this process (the
/// engine-address variable of AvalancheGo or luxd is set and not empty).
pub fn engine_address() -> Option<(String, HostFlavour)> {
    [HostFlavour::AvalancheGo, HostFlavour::Luxd]
        .into_iter()
        .find_map(|flavour| {
            std::env::var(flavour.engine_addr_var())
                .ok()
                .filter(|addr| !addr.is_empty())
                .map(|addr| (addr, flavour))
        })
}

/// Waits for every tracked task; names the ones that did not stop in time.
async fn drain(tasks: &TaskTracker) -> Vec<&'static str> {
    let late = tasks.wait(DRAIN_TIMEOUT).await;
    if !late.is_empty() {
        tracing::warn!(
            tasks = ?late,
            "in-flight calls did not finish in {DRAIN_TIMEOUT:?}; exiting anyway"
        );
    }
    late
}

/// SIGXFSZ's default action ends the process (with a core dump) at the first write past the
/// file-size limit. Ignored, the write fails with EFBIG and the failure takes the way of any
/// storage error: the call that wrote fails with the cause, and the node decides.
fn ignore_file_size_signal() -> std::io::Result<()> {
    // SAFETY: setting a signal's disposition to SIG_IGN runs no code in signal context.
    if unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) } == libc::SIG_ERR {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn watch_signals(tasks: &TaskTracker, lifecycle: Arc<Lifecycle>) -> std::io::Result<()> {
    let mut interrupts = signal(SignalKind::interrupt())?;
    let mut terminations = signal(SignalKind::terminate())?;
    let parent_at_start = parent_pid();
    let stop: Shutdown = lifecycle.stop.clone();
    tasks.spawn("signal watcher", async move {
        loop {
            tokio::select! {
                () = stop.wait() => return,
                Some(()) = interrupts.recv() => tracing::debug!("SIGINT ignored: the node stops plugins itself"),
                Some(()) = terminations.recv() => {
                    let parent_gone = parent_pid() != parent_at_start;
                    if !lifecycle.was_initialized() || lifecycle.shutdown_called() || parent_gone {
                        // Stop first: with the parent gone, the log line below may go nowhere.
                        lifecycle.stop.trigger();
                        tracing::info!(parent_gone, "SIGTERM: exiting");
                        return;
                    }
                    tracing::warn!("SIGTERM before Shutdown ignored: the chain is still running");
                }
                else => return,
            }
        }
    });
    Ok(())
}

fn watch_parent(tasks: &TaskTracker, lifecycle: Arc<Lifecycle>) {
    let parent_at_start = parent_pid();
    tasks.spawn("parent watcher", async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                () = lifecycle.stop.wait() => return,
                _ = tick.tick() => {}
            }
            if parent_pid() != parent_at_start {
                lifecycle.stop.trigger();
                tracing::warn!("the node (our parent process) is gone: exiting");
                return;
            }
        }
    });
}

fn parent_pid() -> u32 {
    std::os::unix::process::parent_id()
}
