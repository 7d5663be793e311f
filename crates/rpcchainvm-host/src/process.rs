//! Launching and stopping a plugin process the way the node does (docs/spec/node-behaviour.md
//! sections 1, 2 and 10): argv without arguments, an empty environment plus the engine address
//! and the `GRPC_*`/`GODEBUG*` variables, null stdin, stdout/stderr copied into our log, a
//! parent-death signal, a 5 s handshake budget, and SIGTERM → grace → SIGKILL to stop.
//!
//! The `Child` itself belongs to a supervisor task (`supervisor.rs`) and its output to the
//! copying tasks (`output.rs`); this module starts them and holds the handles.

use super::output::copy_output;
use super::runtime::{HandshakeOutcome, RuntimeConfig, RuntimeEndpoint};
use super::supervisor::{send_signal, supervise, terminate, wait_exit, Control};
use super::vm_client::VmClient;
use super::HostError;
use rpcchainvm::protocol::Profile;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::process::Command;
use tokio::sync::{mpsc, watch};

/// The node's `DefaultHandshakeTimeout`.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// The node's `DefaultGracefulTimeout`: how long SIGTERM may take before SIGKILL.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);
/// How long [`PluginProcess::vm_client`] waits for the announced address to accept. The node's
/// wait-for-ready has no limit of its own; a host in tests needs one.
pub const READY_WAIT: Duration = Duration::from_secs(5);
/// How often it tries again meanwhile.
const READY_RETRY: Duration = Duration::from_millis(10);

/// How to start a plugin. [`LaunchOptions::new`] gives the node's defaults.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// The plugin file; run directly, as the node does.
    pub binary: PathBuf,
    /// The node passes none; for wrappers (e.g. `/bin/sh script`) only.
    pub args: Vec<OsString>,
    /// The node we play: the handshake must announce `profile.announced()` (its
    /// `RPCChainVMProtocol`), the engine address goes in `profile.flavour()`'s variable, and
    /// the [`PluginProcess`] (and its [`VmClient`]) speak this profile afterwards.
    pub profile: Profile,
    /// Not something the node does: accept this number at the handshake instead of
    /// `profile.announced()`, to play a node whose number this build has no profile for (a test
    /// that the plugin refuses it before announcing anything). `None` for every real node.
    pub expected_protocol: Option<u32>,
    /// Time from spawn until `Runtime.Initialize` must have arrived.
    pub handshake_timeout: Duration,
    /// Prefix of the copied output lines and of our log messages.
    pub name: String,
    /// The node version named in a mismatch refusal; `None` = the profile's release
    /// (e.g. `v1.10.15` for 30).
    pub node_version: Option<String>,
    /// Not something the node does: extra variables for tests and wrappers (e.g. `RUST_LOG`).
    pub extra_env: Vec<(OsString, OsString)>,
    /// Not something the node does: also send every line the plugin writes to stdout or stderr
    /// here, without the `[name] ` prefix and the newline (a line over 64 KiB arrives in pieces).
    /// Copying to our stderr goes on either way. The copying tasks drop their senders at EOF,
    /// so the channel closes after the plugin exits unless the caller kept a sender of its own.
    pub output: Option<mpsc::UnboundedSender<String>>,
    /// Whether this process logs JSON lines to stderr, so the copy of the plugin's output must
    /// keep stderr one JSON object a line: its JSON lines get a `"process"` member, its other
    /// lines become WARN events of ours. `false` (the default): lines are copied with the
    /// `[name] ` prefix. The host does not know how its caller logs; the caller says.
    pub log_json: bool,
}

impl LaunchOptions {
    /// The newest node's settings for `binary` (`Profile::latest`): 5 s handshake, no arguments.
    /// Set [`LaunchOptions::profile`] to play another node.
    pub fn new(binary: impl Into<PathBuf>) -> LaunchOptions {
        let binary = binary.into();
        let name = binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plugin".into());
        LaunchOptions {
            binary,
            args: Vec::new(),
            profile: Profile::latest(),
            expected_protocol: None,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            name,
            node_version: None,
            extra_env: Vec::new(),
            output: None,
            log_json: false,
        }
    }

    /// What the runtime server judges the handshake by.
    fn runtime_config(&self) -> RuntimeConfig {
        let release = self.profile.node_release();
        RuntimeConfig {
            expected_protocol: self.expected_protocol.unwrap_or(self.profile.announced()),
            flavour: self.profile.flavour(),
            node_version: self.node_version.clone().unwrap_or_else(|| {
                format!("v{}.{}.{}", release.major, release.minor, release.patch)
            }),
            plugin_path: self.binary.display().to_string(),
        }
    }
}

/// A running, handshaken plugin. Dropping it kills the process (SIGKILL) if it still runs.
#[derive(Debug)]
pub struct PluginProcess {
    name: String,
    pid: u32,
    profile: Profile,
    announcement: super::Announcement,
    control: mpsc::Sender<Control>,
    exit: watch::Receiver<Option<ExitStatus>>,
}

impl PluginProcess {
    /// Starts the runtime server, spawns the plugin and waits for its handshake. On timeout,
    /// refusal or early exit the process is stopped and the error says which of these happened.
    pub async fn launch(options: LaunchOptions) -> Result<PluginProcess, HostError> {
        let config = options.runtime_config();
        let expected = config.expected_protocol;
        let (runtime, outcome) =
            RuntimeEndpoint::start(config)
                .await
                .map_err(|source| HostError::Bind {
                    what: "runtime server",
                    source,
                })?;
        let mut child = command(&options, &runtime.addr().to_string())
            .spawn()
            .map_err(|source| HostError::Spawn {
                binary: options.binary.clone(),
                source,
            })?;
        let pid = child.id().unwrap_or(0);
        let (control, control_rx) = mpsc::channel(8);
        let (exit_tx, exit) = watch::channel(None);
        copy_output(&mut child, &options, &control, &exit);
        tokio::spawn(supervise(child, control_rx, exit_tx, options.name.clone()));
        tracing::debug!(name = %options.name, pid, "plugin started");

        let mut process = PluginProcess {
            name: options.name.clone(),
            pid,
            profile: options.profile,
            announcement: super::Announcement {
                protocol_version: 0,
                vm_addr: String::new(),
            },
            control,
            exit,
        };
        let handshake = async {
            match outcome.await {
                Ok(outcome) => outcome,
                // The runtime server went away without a verdict: let the timeout decide.
                Err(_) => std::future::pending().await,
            }
        };
        let early_exit = wait_exit(process.exit.clone(), Duration::MAX);
        let error = tokio::select! {
            outcome = tokio::time::timeout(options.handshake_timeout, handshake) => match outcome {
                Ok(HandshakeOutcome::Accepted(announcement)) => {
                    // The node stops its runtime server once the handshake is over.
                    runtime.stop().await;
                    process.announcement = announcement;
                    return Ok(process);
                }
                Ok(HandshakeOutcome::Refused { announcement, message }) => HostError::ProtocolMismatch {
                    expected,
                    got: announcement.protocol_version,
                    message,
                },
                Err(_) => HostError::HandshakeTimeout {
                    binary: options.binary.clone(),
                    timeout: options.handshake_timeout,
                },
            },
            Some(status) = early_exit => HostError::ExitedBeforeHandshake {
                binary: options.binary.clone(),
                status,
            },
        };
        tracing::error!(name = %options.name, %error, "plugin handshake failed");
        runtime.stop().await;
        if let Err(stop_error) = process.terminate(DEFAULT_GRACE).await {
            tracing::warn!(name = %options.name, %stop_error, "could not stop the plugin");
        }
        Err(error)
    }

    /// The plugin's `vm.VM` server address from the handshake.
    pub fn vm_addr(&self) -> &str {
        &self.announcement.vm_addr
    }

    /// The protocol number the plugin announced (equal to the expected one).
    pub fn protocol(&self) -> u32 {
        self.announcement.protocol_version
    }

    /// The profile the node plays towards this process ([`LaunchOptions::profile`]).
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The process ID (valid until the process is reaped).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The log prefix given at launch.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Dials the plugin's `vm.VM` server as the node does, wait-for-ready: a plugin may announce
    /// its address a moment before it listens there (avalanche-types based plugins do), so a
    /// refused connection is retried until [`READY_WAIT`] has passed or the process has exited.
    /// The client speaks this process's profile.
    pub async fn vm_client(&self) -> Result<VmClient, HostError> {
        let deadline = tokio::time::Instant::now() + READY_WAIT;
        loop {
            match VmClient::connect(self.vm_addr()).await {
                Ok(client) => return Ok(client.with_profile(self.profile)),
                Err(error) => {
                    let waiting = tokio::time::Instant::now() < deadline;
                    if !waiting || self.exit_status().is_some() {
                        return Err(error);
                    }
                    tokio::time::sleep(READY_RETRY).await;
                }
            }
        }
    }

    /// The exit status if the process has already exited, without waiting.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        *self.exit.borrow()
    }

    /// Waits up to `timeout` for the process to exit on its own.
    pub async fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        wait_exit(self.exit.clone(), timeout).await
    }

    /// Sends `signal` (e.g. `libc::SIGKILL`) to the process. `Ok(false)`: it was already reaped.
    pub async fn signal(&self, signal: i32) -> Result<bool, HostError> {
        send_signal(&self.control, signal)
            .await
            .map_err(|e| HostError::Process {
                pid: self.pid,
                reason: e.to_string(),
            })
    }

    /// Stops the process as the node does: SIGTERM, then SIGKILL once `grace` (the node: 5 s) has
    /// passed. Returns how it exited; immediately if it already had.
    pub async fn terminate(&self, grace: Duration) -> Result<ExitStatus, HostError> {
        terminate(&self.control, self.exit.clone(), grace, &self.name)
            .await
            .map_err(|reason| HostError::Process {
                pid: self.pid,
                reason,
            })
    }

    /// The node's per-chain stop: `vm.VM/Shutdown` (an error is only logged, as the node does),
    /// then [`PluginProcess::terminate`]. Stop the node's own servers in between if you have any.
    /// A process that has already exited just gives its status.
    pub async fn stop(&self, client: &VmClient, grace: Duration) -> Result<ExitStatus, HostError> {
        if let Some(status) = self.exit_status() {
            return Ok(status);
        }
        if let Err(error) = client.shutdown().await {
            tracing::warn!(name = %self.name, %error, "vm.VM/Shutdown failed");
        }
        self.terminate(grace).await
    }
}

/// The command line and environment of node-behaviour.md section 1.
fn command(options: &LaunchOptions, engine_addr: &str) -> Command {
    let mut command = Command::new(&options.binary);
    command
        .args(&options.args)
        .env_clear()
        .env(options.profile.flavour().engine_addr_var(), engine_addr)
        .envs(std::env::vars_os().filter(|(key, _)| {
            let key = key.as_bytes();
            key.starts_with(b"GRPC_") || key.starts_with(b"GODEBUG")
        }))
        .envs(options.extra_env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A backstop if the supervisor task never runs (runtime shutting down).
        .kill_on_drop(true);
    #[cfg(target_os = "linux")]
    {
        let parent = std::process::id();
        // SAFETY: the closure runs between fork and exec and only makes async-signal-safe calls
        // (prctl, getppid); it allocates nothing.
        unsafe {
            command.pre_exec(move || {
                // The plugin gets SIGTERM when the thread that spawned it dies, like Go's Pdeathsig.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before prctl took effect.
                if libc::getppid() as u32 != parent {
                    return Err(std::io::Error::other("parent exited during spawn"));
                }
                Ok(())
            });
        }
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(body: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugin.sh");
        std::fs::write(&path, body).unwrap();
        (dir, path)
    }

    fn sh_options(path: &std::path::Path) -> LaunchOptions {
        let mut options = LaunchOptions::new("/bin/sh");
        options.args = vec![path.as_os_str().to_owned()];
        options.name = "test-plugin".into();
        options.handshake_timeout = Duration::from_millis(500);
        options
    }

    fn alive(pid: u32) -> bool {
        // SAFETY: signal 0 only checks for existence.
        unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
    }

    // A plugin that never calls Runtime.Initialize must yield a timeout error, and must not be
    // left running. It writes its PID to a file so the test can check it is gone.
    #[tokio::test]
    async fn handshake_timeout_kills_the_plugin() {
        let (dir, path) =
            script("echo $$ > \"$(dirname \"$0\")/pid\"\necho starting\nexec sleep 30\n");
        let started = std::time::Instant::now();
        let error = PluginProcess::launch(sh_options(&path)).await.unwrap_err();
        assert!(
            matches!(error, HostError::HandshakeTimeout { .. }),
            "unexpected error: {error}"
        );
        assert!(error.to_string().contains("handshake failed"));
        assert!(started.elapsed() < Duration::from_secs(5), "took too long");
        let pid: u32 = std::fs::read_to_string(dir.path().join("pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(!alive(pid), "plugin {pid} still running");
    }

    // The environment must be the node's: the engine address and nothing of ours but GRPC_*.
    #[tokio::test]
    async fn environment_is_filtered_and_early_exit_is_reported() {
        let (dir, path) = script("env > \"$(dirname \"$0\")/env\"\nexit 3\n");
        let mut options = sh_options(&path);
        options.handshake_timeout = Duration::from_secs(5);
        options.extra_env = vec![("GRPC_TRACE".into(), "x".into())];
        let error = PluginProcess::launch(options).await.unwrap_err();
        match error {
            HostError::ExitedBeforeHandshake { status, .. } => assert_eq!(status.code(), Some(3)),
            other => panic!("unexpected error: {other}"),
        }
        let env = std::fs::read_to_string(dir.path().join("env")).unwrap();
        assert!(env.contains("AVALANCHE_VM_RUNTIME_ENGINE_ADDR=127.0.0.1:"));
        assert!(env.contains("GRPC_TRACE=x"));
        assert!(!env
            .lines()
            .any(|l| l.starts_with("HOME=") || l.starts_with("PATH=/")));
    }

    // luxd passes the engine address in its own variable, and only there.
    #[tokio::test]
    async fn luxd_profile_uses_luxds_variable() {
        use rpcchainvm::protocol::HostFlavour;
        let (dir, path) = script("env > \"$(dirname \"$0\")/env\"\nexit 3\n");
        let mut options = sh_options(&path);
        options.handshake_timeout = Duration::from_secs(5);
        options.profile = Profile::new(43, HostFlavour::Luxd).unwrap();
        let error = PluginProcess::launch(options).await.unwrap_err();
        assert!(
            matches!(error, HostError::ExitedBeforeHandshake { .. }),
            "{error}"
        );
        let env = std::fs::read_to_string(dir.path().join("env")).unwrap();
        assert!(
            env.contains("LUX_VM_RUNTIME_ENGINE_ADDR=127.0.0.1:"),
            "{env}"
        );
        assert!(!env.contains("AVALANCHE_VM_RUNTIME_ENGINE_ADDR"), "{env}");
    }

    // The handshake expects the profile's announced number; the refusal names the profile's
    // release unless told otherwise.
    #[test]
    fn runtime_config_follows_the_profile() {
        use rpcchainvm::protocol::HostFlavour;
        let mut options = LaunchOptions::new("/plugins/vm");
        options.profile = Profile::new(30, HostFlavour::AvalancheGo).unwrap();
        let config = options.runtime_config();
        assert_eq!(config.expected_protocol, 30);
        assert_eq!(config.node_version, "v1.10.15");
        options.expected_protocol = Some(46);
        options.node_version = Some("avalanchego/1.15.0".into());
        let config = options.runtime_config();
        assert_eq!(
            (config.expected_protocol, config.node_version.as_str()),
            (46, "avalanchego/1.15.0")
        );
    }

    #[tokio::test]
    async fn missing_binary_is_a_spawn_error() {
        let error = PluginProcess::launch(LaunchOptions::new("/nonexistent/plugin"))
            .await
            .unwrap_err();
        assert!(matches!(error, HostError::Spawn { .. }), "{error}");
    }

    // Every line the plugin writes, on either pipe, reaches the sink without the `[name] `
    // prefix, even when the plugin dies before the handshake; the channel then closes.
    #[tokio::test]
    async fn output_lines_reach_the_sink() {
        let (_dir, path) = script("echo hello\necho 'to stderr' >&2\nexit 3\n");
        let (sink, mut lines) = mpsc::unbounded_channel();
        let mut options = sh_options(&path);
        options.output = Some(sink);
        let error = PluginProcess::launch(options).await.unwrap_err();
        assert!(
            matches!(error, HostError::ExitedBeforeHandshake { .. }),
            "{error}"
        );
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_secs(5), lines.recv()).await {
                Ok(Some(line)) => seen.push(line),
                Ok(None) => break,
                Err(_) => panic!("the sink is still open after the plugin exited: {seen:?}"),
            }
        }
        seen.sort();
        assert_eq!(seen, ["hello", "to stderr"]);
    }
}
