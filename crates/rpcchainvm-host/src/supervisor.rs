//! The supervisor task of a plugin process: the one owner of the `Child`. It alone reaps the
//! process and delivers signals to it, so a signal can never hit a recycled PID; everyone else
//! talks to it through a [`Control`] channel and learns the exit status from a watch channel.

use std::process::ExitStatus;
use std::time::Duration;
use tokio::process::Child;
use tokio::sync::{mpsc, oneshot, watch};

/// Requests to the supervisor task.
pub(super) enum Control {
    /// Send `signal`; the reply says whether the process was still there to receive it.
    Signal {
        signal: i32,
        reply: oneshot::Sender<std::io::Result<bool>>,
    },
}

/// Owns the child: reaps it, publishes its exit status, delivers signals, and kills it when the
/// [`super::PluginProcess`] is dropped (every control sender gone).
pub(super) async fn supervise(
    mut child: Child,
    mut control: mpsc::Receiver<Control>,
    exit: watch::Sender<Option<ExitStatus>>,
    name: String,
) {
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            request = control.recv() => match request {
                Some(Control::Signal { signal, reply }) => {
                    let _ = reply.send(deliver(&child, signal));
                }
                None => {
                    let _ = child.start_kill();
                    break child.wait().await;
                }
            },
        }
    };
    match status {
        Ok(status) => {
            tracing::debug!(%name, %status, "plugin exited");
            exit.send_replace(Some(status));
        }
        Err(error) => tracing::warn!(%name, %error, "cannot reap the plugin"),
    }
}

/// `kill(2)` on a child that has not been reaped yet (so its PID cannot have been reused).
fn deliver(child: &Child, signal: i32) -> std::io::Result<bool> {
    let Some(pid) = child.id() else {
        return Ok(false);
    };
    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(pid, signal) } == 0 {
        Ok(true)
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Asks the supervisor to send `signal`; `Ok(false)` once the process has been reaped.
pub(super) async fn send_signal(
    control: &mpsc::Sender<Control>,
    signal: i32,
) -> std::io::Result<bool> {
    let (reply, answer) = oneshot::channel();
    if control
        .send(Control::Signal { signal, reply })
        .await
        .is_err()
    {
        return Ok(false); // supervisor finished: the process is reaped
    }
    answer.await.unwrap_or(Ok(false))
}

/// The exit status once published, or `None` if `timeout` passes first.
pub(super) async fn wait_exit(
    mut exit: watch::Receiver<Option<ExitStatus>>,
    timeout: Duration,
) -> Option<ExitStatus> {
    let waited = tokio::time::timeout(timeout, exit.wait_for(Option::is_some)).await;
    match waited {
        Ok(Ok(status)) => *status,
        _ => None,
    }
}

/// The node's stop: SIGTERM, then SIGKILL once `grace` has passed; at once if already exited.
pub(super) async fn terminate(
    control: &mpsc::Sender<Control>,
    exit: watch::Receiver<Option<ExitStatus>>,
    grace: Duration,
    name: &str,
) -> Result<ExitStatus, String> {
    if let Some(status) = *exit.borrow() {
        return Ok(status);
    }
    send_signal(control, libc::SIGTERM)
        .await
        .map_err(|e| format!("SIGTERM: {e}"))?;
    if let Some(status) = wait_exit(exit.clone(), grace).await {
        return Ok(status);
    }
    tracing::warn!(%name, ?grace, "plugin ignored SIGTERM; sending SIGKILL");
    send_signal(control, libc::SIGKILL)
        .await
        .map_err(|e| format!("SIGKILL: {e}"))?;
    wait_exit(exit, Duration::from_secs(5))
        .await
        .ok_or_else(|| "no exit status after SIGKILL".to_string())
}
