//! `stampvm dev` as a person uses it (README, src/dev.rs): started on a clean directory it prints
//! its JSON-RPC URL, accepts a curl-style proposeBlock, builds and accepts the block by itself,
//! stops cleanly (exit status 0) on Ctrl-C, and the next start on the same directory resumes at the
//! same height with the same block. Fails if the banner never comes, the proposal is refused, no
//! block with the payload is accepted within 10 s, SIGINT does not end the process cleanly within
//! 10 s, or the second start comes back at another height or tip.
//!
//! `killed_node_leaves_no_plugin_behind` SIGKILLs the dev process, the node in this picture: its plugin must exit on its own
//! (node-behaviour.md section 10: parent-death signal, parent polling) and release the chain's
//! RocksDB, so the next start works. Fails if the plugin outlives its parent by 5 s.

mod common;

use common::{payload, payload_hex, post_raw};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A running `stampvm dev`: SIGKILLed on drop unless it already exited, and its plugin with it
/// (the plugin cannot be trusted to follow its parent: see `killed_node_leaves_no_plugin_behind`),
/// so a failing assertion leaves no process behind.
struct DevProcess {
    child: Child,
    stdout: mpsc::UnboundedReceiver<String>,
    /// Everything it logged, shown when a test fails.
    stderr: Arc<Mutex<String>>,
}

impl DevProcess {
    fn spawn(data_dir: &Path) -> DevProcess {
        let mut child = Command::new(common::plugin_binary())
            .arg("dev")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--http", "127.0.0.1:0", "--metrics", "127.0.0.1:0"])
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("stampvm dev starts");
        let (lines, stdout) = mpsc::unbounded_channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        DevProcess {
            child,
            stdout,
            stderr,
        }
    }

    /// Reads stdout until the `JSON-RPC: <url>` line (at most 30 s); returns all lines read so
    /// far and the URL.
    async fn banner(&mut self) -> (Vec<String>, String) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        loop {
            let line = tokio::time::timeout_at(deadline, self.stdout.recv())
                .await
                .unwrap_or_else(|_| panic!("no `JSON-RPC:` line within 30 s; stdout: {seen:?}"))
                .unwrap_or_else(|| panic!("stdout closed before `JSON-RPC:`; stdout: {seen:?}"));
            if let Some(url) = line.strip_prefix("JSON-RPC: ") {
                let url = url.trim().to_string();
                seen.push(line);
                return (seen, url);
            }
            seen.push(line);
        }
    }

    fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    fn signal(&self, signal: i32) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill has no memory-safety preconditions; the child is not reaped yet.
        assert_eq!(
            unsafe { libc::kill(pid, signal) },
            0,
            "kill({pid}, {signal})"
        );
    }

    /// Polls for the exit status for at most `timeout`.
    async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Ctrl-C, then a clean exit within 10 s.
    async fn interrupt(&mut self) {
        self.signal(libc::SIGINT);
        let status = self.wait_exit(Duration::from_secs(10)).await;
        let status = status.expect("stampvm dev exits within 10 s of SIGINT");
        assert!(status.success(), "stampvm dev exited with {status}");
    }
}

impl Drop for DevProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let plugins: Vec<Orphan> = children(self.pid()).into_iter().map(Orphan).collect();
            let _ = self.child.kill(); // SIGKILL
            let _ = self.child.wait();
            drop(plugins);
        }
        if std::thread::panicking() {
            eprintln!(
                "--- stampvm dev stderr ---\n{}",
                self.stderr.lock().unwrap()
            );
        }
    }
}

/// The last accepted block as `timestampvm.getBlock` with empty params reports it.
async fn last_block(url: &str) -> Value {
    let reply = common::json_rpc(url, "timestampvm.getBlock", json!({})).await;
    reply["result"].clone()
}

#[tokio::test]
async fn dev_chain_from_a_clean_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("dev");
    let data = payload(42);
    let hex = payload_hex(&data);

    let mut dev = DevProcess::spawn(&data_dir);
    let (lines, url) = dev.banner().await;
    assert!(
        lines[0].contains("is up at height 0"),
        "a clean directory starts at genesis: {lines:?}"
    );

    // What the banner's curl line sends.
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "timestampvm.proposeBlock", "params": {"data": hex}});
    let (status, reply) = post_raw(&url, "application/json", body.to_string().into_bytes()).await;
    assert_eq!(status, 200, "{reply}");
    let reply: Value = serde_json::from_str(&reply).expect("JSON reply");
    assert_eq!(reply["result"], json!({"Success": true}), "{reply}");

    // The dev engine builds and accepts it by itself.
    let deadline = Instant::now() + Duration::from_secs(10);
    let accepted = loop {
        let block = last_block(&url).await;
        if block["data"] == json!(hex) {
            break block;
        }
        assert!(
            Instant::now() < deadline,
            "payload not in the last accepted block within 10 s; last: {block}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let height = accepted["height"].as_str().expect("height").to_string();
    assert_eq!(height, "1", "the first block on a clean chain");
    dev.interrupt().await;
    drop(dev);

    // The next start resumes the chain.
    let mut dev = DevProcess::spawn(&data_dir);
    let (lines, url) = dev.banner().await;
    assert!(
        lines[0].contains(&format!("is up at height {height} ")),
        "resumes at height {height}: {lines:?}"
    );
    let block = last_block(&url).await;
    assert_eq!(block["id"], accepted["id"], "same tip after restart");
    assert_eq!(block["data"], json!(hex));
    dev.interrupt().await;
}

/// The children of `pid` (every thread's), from /proc.
fn children(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

/// Running (not gone, not a zombie).
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| Some(stat.rsplit_once(") ")?.1.starts_with('Z')))
        .is_some_and(|zombie| !zombie)
}

/// A plugin we found under a dev process: SIGKILLed on drop if it is still running.
struct Orphan(i32);

impl Drop for Orphan {
    fn drop(&mut self) {
        if running(self.0) {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(self.0, libc::SIGKILL) };
        }
    }
}

#[tokio::test]
async fn killed_node_leaves_no_plugin_behind() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("dev");
    let mut dev = DevProcess::spawn(&data_dir);
    dev.banner().await;
    let plugins = children(dev.pid());
    assert_eq!(plugins.len(), 1, "one plugin process: {plugins:?}");
    let plugin = Orphan(plugins[0]);

    dev.signal(libc::SIGKILL);
    dev.wait_exit(Duration::from_secs(5))
        .await
        .expect("reaped after SIGKILL");
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(plugin.0) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !running(plugin.0),
        "plugin {} still runs 5 s after its parent was killed",
        plugin.0
    );

    // The chain's store was released: the next start resumes it.
    let mut dev = DevProcess::spawn(&data_dir);
    let (lines, _) = dev.banner().await;
    assert!(lines[0].contains("is up at height 0"), "{lines:?}");
    dev.interrupt().await;
}
