//! Plugin mode, end to end: serve `vm.VM` on loopback, announce it to the node, then live by the
//! node's rules until Shutdown (node-behaviour.md sections 2 and 10).
//!
//! Signals: SIGINT is always ignored (a Ctrl-C in the node's terminal reaches us too; the node
//! stops us itself). SIGTERM ends the process when no Initialize was ever received (registration
//! and static-handler processes), after Shutdown, or when the parent is gone; otherwise it is
//! ignored, so a chain is never torn down behind the node's back. The parent is also polled, so
//! we exit when the node dies without a signal reaching us. SIGXFSZ is ignored: a write past a
//! file-size limit (`ulimit -f`, a container's RLIMIT_FSIZE) then fails with EFBIG, which RocksDB
//! reports and the node sees as a failed call, instead of killing the process in mid-write.

use crate::rpc::lifecycle::{Lifecycle, VmState};
use crate::rpc::vm_service::VmService;
use rpcchainvm::handshake::{self, HandshakeError};
use rpcchainvm::protocol::Profile;
use rpcchainvm::transport;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};

/// How long in-flight calls may take to finish once we decided to stop.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("binding the gRPC server: {0}")]
    Bind(std::io::Error),
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    #[error("installing signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("gRPC server failed: {0}")]
    Serve(tonic::transport::Error),
}

/// Runs the plugin until the node shuts it down (or goes away).
pub async fn run(engine_addr: &str, profile: Profile) -> Result<(), PluginError> {
    let lifecycle = Arc::new(Lifecycle::default());
    let state = Arc::new(VmState::new(profile, lifecycle.clone()));
    let (listener, addr) = transport::bind_loopback()
        .await
        .map_err(PluginError::Bind)?;
    let stop = lifecycle.stop.clone();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(crate::rpc::observe::observed(
                VmService::new(state).into_server(),
            ))
            .serve_with_incoming_shutdown(transport::incoming(listener), async move {
                stop.wait().await
            }),
    );
    ignore_file_size_signal().map_err(PluginError::Signals)?;
    watch_signals(lifecycle.clone()).map_err(PluginError::Signals)?;
    watch_parent(lifecycle.clone());

    tracing::info!(%addr, %profile, engine = engine_addr, version = crate::VERSION, "serving vm.VM; handshaking");
    if let Err(e) = handshake::announce(engine_addr, profile, addr).await {
        lifecycle.stop.trigger();
        return Err(e.into());
    }
    tracing::info!("handshake accepted");

    lifecycle.stop.wait().await;
    match tokio::time::timeout(DRAIN_TIMEOUT, server).await {
        Ok(Ok(Err(e))) => return Err(PluginError::Serve(e)),
        Ok(_) => {}
        Err(_) => {
            tracing::warn!("in-flight calls did not finish in {DRAIN_TIMEOUT:?}; exiting anyway")
        }
    }
    tracing::info!("plugin exiting");
    Ok(())
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

fn watch_signals(lifecycle: Arc<Lifecycle>) -> std::io::Result<()> {
    let mut interrupts = signal(SignalKind::interrupt())?;
    let mut terminations = signal(SignalKind::terminate())?;
    let parent_at_start = parent_pid();
    tokio::spawn(async move {
        loop {
            tokio::select! {
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

fn watch_parent(lifecycle: Arc<Lifecycle>) {
    let parent_at_start = parent_pid();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if lifecycle.stop.is_triggered() {
                return;
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
