//! Copying a plugin's stdout and stderr, as the node copies them into the chain's log: line by
//! line with a `[name] ` prefix onto our stderr, drained continuously so the plugin never blocks
//! on a full pipe. Optionally each line also goes, without the prefix, to a channel
//! ([`LaunchOptions::output`]), so a test can read what the plugin logged.
//!
//! A pipe reaching EOF means the plugin closed its output: the node takes that as the end of the
//! process and stops it.

use super::process::{LaunchOptions, DEFAULT_GRACE};
use super::supervisor::{terminate, Control};
use std::process::ExitStatus;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::Child;
use tokio::sync::{mpsc, watch};

/// Longest piece of plugin output copied as one log line; longer lines are split, never buffered
/// without bound.
const MAX_LINE: u64 = 64 * 1024;

/// Where one pipe's lines go.
struct Destination {
    /// The `[name] ` prefix on our stderr, and the name in our own log messages.
    name: String,
    stream: &'static str,
    /// [`LaunchOptions::output`], if set.
    sink: Option<mpsc::UnboundedSender<String>>,
}

/// Starts one copying task per pipe the child still has (taking them out of `child`). `control`
/// and `exit` reach the supervisor, to stop the plugin when it closes a pipe.
pub(super) fn copy_output(
    child: &mut Child,
    options: &LaunchOptions,
    control: &mpsc::Sender<Control>,
    exit: &watch::Receiver<Option<ExitStatus>>,
) {
    for (stream, reader) in [
        ("stdout", child.stdout.take().map(boxed)),
        ("stderr", child.stderr.take().map(boxed)),
    ] {
        if let Some(reader) = reader {
            let destination = Destination {
                name: options.name.clone(),
                stream,
                sink: options.output.clone(),
            };
            let (weak, exit) = (control.downgrade(), exit.clone());
            tokio::spawn(pump(reader, destination, weak, exit));
        }
    }
}

fn boxed<R: AsyncRead + Send + Unpin + 'static>(reader: R) -> Box<dyn AsyncRead + Send + Unpin> {
    Box::new(reader)
}

/// Copies one pipe until EOF (see the module doc), then stops the plugin unless it has exited.
async fn pump(
    reader: Box<dyn AsyncRead + Send + Unpin>,
    destination: Destination,
    control: mpsc::WeakSender<Control>,
    exit: watch::Receiver<Option<ExitStatus>>,
) {
    use std::io::Write;
    let Destination { name, stream, sink } = destination;
    let mut reader = BufReader::new(reader);
    let prefix = format!("[{name}] ");
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(0) => break,
            Ok(_) => {
                let text = line.strip_suffix(b"\n").unwrap_or(&line);
                let mut out = Vec::with_capacity(prefix.len() + text.len() + 1);
                out.extend_from_slice(prefix.as_bytes());
                out.extend_from_slice(text);
                out.push(b'\n');
                // A host whose stderr is gone still keeps draining the pipe.
                let _ = std::io::stderr().lock().write_all(&out);
                if let Some(sink) = &sink {
                    // A reader that went away only stops the copy to the channel.
                    let _ = sink.send(String::from_utf8_lossy(text).into_owned());
                }
            }
            Err(error) => {
                tracing::warn!(%name, stream, %error, "cannot read plugin output");
                break;
            }
        }
    }
    drop(sink);
    if exit.borrow().is_some() {
        return;
    }
    if let Some(control) = control.upgrade() {
        tracing::debug!(%name, stream, "plugin closed its {stream}; stopping it");
        if let Err(error) = terminate(&control, exit, DEFAULT_GRACE, &name).await {
            tracing::warn!(%name, %error, "could not stop the plugin");
        }
    }
}
