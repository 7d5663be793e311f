//! Copying a plugin's stdout and stderr, as the node copies them into the chain's log: line by
//! line with a `[name] ` prefix onto our stderr, drained continuously so the plugin never blocks
//! on a full pipe. Optionally each line also goes, without the prefix, to a channel
//! ([`LaunchOptions::output`]), so a test can read what the plugin logged.
//!
//! When this process logs JSON ([`LaunchOptions::log_json`]), our stderr stays one JSON object
//! a line: a plugin's JSON object line is copied with `"process":"<name>"` added, and any other
//! line (a panic message, a foreign plugin's text) becomes a WARN event of ours carrying it.
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
    /// [`LaunchOptions::log_json`].
    log_json: bool,
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
                log_json: options.log_json,
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
    let Destination {
        name,
        stream,
        sink,
        log_json,
    } = destination;
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
                let out = match log_json {
                    false => Some(prefixed(&prefix, text)),
                    true => match with_process(text, &name) {
                        Some(out) => Some(out),
                        None => {
                            let text = String::from_utf8_lossy(text);
                            tracing::warn!(process = %name, stream, "{text}");
                            None
                        }
                    },
                };
                // A host whose stderr is gone still keeps draining the pipe.
                if let Some(out) = out {
                    let _ = std::io::stderr().lock().write_all(&out);
                }
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

/// `text` as a line of our text log: `[name] text`.
fn prefixed(prefix: &str, text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + text.len() + 1);
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(text);
    out.push(b'\n');
    out
}

/// A JSON object line as a line of our JSON log: the same object, its keys in their order, with
/// `"process":"<name>"` added last (left as it is if it has a `process` key already). `None`
/// when `text` is not a JSON object.
fn with_process(text: &[u8], name: &str) -> Option<Vec<u8>> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(text).ok()?;
    let mut out = text.trim_ascii_end().to_vec();
    if !object.contains_key("process") {
        // A valid object ends in `}`; splicing keeps the plugin's key order and number text.
        out.pop();
        if !object.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(b"\"process\":");
        out.extend_from_slice(serde_json::Value::from(name).to_string().as_bytes());
        out.push(b'}');
    }
    out.push(b'\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::with_process;
    use serde_json::{json, Value};

    fn parsed(out: Vec<u8>) -> Value {
        assert_eq!(out.last(), Some(&b'\n'));
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn json_lines_gain_the_process_and_keep_their_order() {
        let line = br#"{"timestamp":"t","level":"INFO","fields":{"message":"m"},"target":"x"} "#;
        let out = with_process(line, "plugin").unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "{\"timestamp\":\"t\",\"level\":\"INFO\",\"fields\":{\"message\":\"m\"},\"target\":\"x\",\"process\":\"plugin\"}\n"
        );
        assert_eq!(parsed(out)["process"], "plugin");
        assert_eq!(
            parsed(with_process(b"{}", "a\"b").unwrap()),
            json!({"process": "a\"b"})
        );
        let own = br#"{"process":"theirs"}"#;
        assert_eq!(
            parsed(with_process(own, "plugin").unwrap()),
            json!({"process": "theirs"})
        );
    }

    #[test]
    fn other_lines_are_not_json_objects() {
        for line in [
            &b"thread 'main' panicked at src/x.rs"[..],
            b"[1,2]",
            b"{\"a\":",
            b"\"s\"",
            b"",
        ] {
            assert!(with_process(line, "plugin").is_none(), "{line:?}");
        }
    }
}
