//! `stampvm dev` as a child of the test: spawned on a data directory with the caller's extra
//! flags, its stdout read line by line (the banner, the `JSON-RPC: <url>` line), its stderr kept
//! for a failing test, and it and its plugin SIGKILLed on drop.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A running `stampvm dev`: SIGKILLed on drop unless it already exited, and its plugin with it
/// (the plugin cannot be trusted to follow its parent: see dev_chain's
/// `killed_node_leaves_no_plugin_behind`), so a failing assertion leaves no process behind.
pub struct DevProcess {
    child: Child,
    stdout: mpsc::UnboundedReceiver<String>,
    /// Everything it logged, shown when a test fails.
    stderr: Arc<Mutex<String>>,
}

impl DevProcess {
    /// `stampvm dev --data-dir <data_dir> --http 127.0.0.1:0 <extra>`, e.g. `extra` =
    /// `["--metrics", "127.0.0.1:0"]`, in an empty environment; `--http` only when `extra` has
    /// none.
    pub fn spawn(data_dir: &Path, extra: &[&str]) -> DevProcess {
        let http: &[&str] = match extra.contains(&"--http") {
            true => &[],
            false => &["--http", "127.0.0.1:0"],
        };
        let mut child = Command::new(super::plugin_binary())
            .arg("dev")
            .arg("--data-dir")
            .arg(data_dir)
            .args(http)
            .args(extra)
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
        super::collect(child.stderr.take().unwrap(), stderr.clone());
        DevProcess {
            child,
            stdout,
            stderr,
        }
    }

    /// Reads stdout until the `JSON-RPC: <url>` line (at most 30 s); returns all lines read so
    /// far and the URL.
    pub async fn banner(&mut self) -> (Vec<String>, String) {
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

    /// [`DevProcess::banner`], then the rest of the banner through its last line (`Ctrl-C
    /// stops…`): all its lines and the URL.
    pub async fn whole_banner(&mut self) -> (Vec<String>, String) {
        let (mut lines, url) = self.banner().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !lines.last().is_some_and(|l| l.starts_with("Ctrl-C stops")) {
            let line = tokio::time::timeout_at(deadline, self.stdout.recv())
                .await
                .unwrap_or_else(|_| panic!("the banner did not end within 30 s: {lines:?}"))
                .unwrap_or_else(|| panic!("stdout closed inside the banner: {lines:?}"));
            lines.push(line);
        }
        (lines, url)
    }

    /// Waits (at most 30 s) for the banner's `JSON-RPC: <url>` line; returns the URL.
    pub async fn rpc_url(&mut self) -> String {
        self.banner().await.1
    }

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    pub fn signal(&self, signal: i32) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill has no memory-safety preconditions; the child is not reaped yet.
        assert_eq!(
            unsafe { libc::kill(pid, signal) },
            0,
            "kill({pid}, {signal})"
        );
    }

    /// Polls for the exit status for at most `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Waits (at most `timeout`) until its stderr contains `needle`; returns all of it either
    /// way (the reader thread may still be copying the last lines when the process has exited).
    pub async fn stderr_with(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let said = self.stderr.lock().unwrap().clone();
            if said.contains(needle) || Instant::now() >= deadline {
                return said;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Ctrl-C, then a clean exit within 10 s.
    pub async fn interrupt(&mut self) {
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

/// The children of `pid` (every thread's), from /proc.
pub fn children(pid: i32) -> Vec<i32> {
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
pub fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| Some(stat.rsplit_once(") ")?.1.starts_with('Z')))
        .is_some_and(|zombie| !zombie)
}

/// The one plugin process under the dev process `dev_pid`, its file-size limit set to 0 so that its
/// next write to a file (RocksDB's log, at the next accept) fails with EFBIG, as on a disk that
/// stops taking writes; stampvm ignores SIGXFSZ, so the write fails rather than killing it.
pub fn plugin_with_failing_writes(dev_pid: i32) -> Orphan {
    let plugins = children(dev_pid);
    assert_eq!(plugins.len(), 1, "one plugin process: {plugins:?}");
    let plugin = Orphan(plugins[0]);
    let no_file_growth = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: prlimit reads the limit given and writes nothing (no old-limit pointer).
    let set = unsafe {
        libc::prlimit(
            plugin.0,
            libc::RLIMIT_FSIZE,
            &no_file_growth,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(set, 0, "prlimit: {}", std::io::Error::last_os_error());
    plugin
}

/// A plugin we found under a dev process: SIGKILLed on drop if it is still running.
pub struct Orphan(pub i32);

impl Drop for Orphan {
    fn drop(&mut self) {
        if running(self.0) {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(self.0, libc::SIGKILL) };
        }
    }
}
