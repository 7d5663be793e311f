//! `stampvm dev`: a single-node local chain with no AvalancheGo installed. The host side
//! ([`crate::host`]) plays the node of one profile (the newest AvalancheGo unless told
//! otherwise): it launches this very binary as a plugin through the real handshake, telling it to
//! speak that profile, starts a chain in that node's order, drives it as a one-validator node
//! would (wait for the profile's build trigger, build, verify, prefer, accept) and serves the
//! node's HTTP paths on a local port, including the static API (`/ext/vm/<vmID>`) up to 30.
//!
//! [`DevNode`] is that node without the banner and the wait for Ctrl-C, for other commands that
//! need a running chain (`stampvm bench`).
//!
//! Before anything is bound or launched, the dev node locks its data directory
//! ([`stampvm::dir_lock`]): a second `stampvm dev` on it stops at once, naming the first. The
//! plugin logs in the dev process's format (`GRPC_STAMPVM_LOG_FORMAT`, [`DevOptions::log_format`]).
//! The Prometheus endpoint it asks the plugin for is a convenience: when its address is taken the
//! chain starts without it, with a warning.
//!
//! `stampvm dev` runs until Ctrl-C or SIGTERM, or until the chain cannot go on: its plugin exited
//! (a crash, the OOM killer, a stray `kill`), or the engine stopped the chain as the node does
//! after a failed BlockAccept. Then it stops what is left and fails, naming the cause, rather
//! than serving a chain that answers every call with an error or never finalises again.

use rpcchainvm::protocol::Profile;
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm_host::engine::EngineFailure;
use rpcchainvm_host::gateway::{Gateway, GatewayError};
use rpcchainvm_host::rpcdb::NodeDatabase;
use rpcchainvm_host::{
    ChainParams, EngineHandle, EngineMode, HostError, LaunchOptions, Network, NodeChain,
    NodeCounters, NodeServices, NodeServicesHandle, PluginProcess, SoloEngine,
    StaticHandlerProcess, VmClient,
};
use stampvm::api::data::{format_payload, Encoding};
use stampvm::chain::{ChainFormat, Id, NodeId};
use stampvm::config::LogFormat;
use stampvm::dir_lock::{DataDirLock, DirLockError};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What `stampvm dev` runs.
#[derive(Debug, Clone)]
pub struct DevOptions {
    /// Chain data lives in `<data_dir>/chainData/<chainID>`, as in a node's data directory.
    pub data_dir: PathBuf,
    pub http_addr: SocketAddr,
    /// Genesis bytes; the chain ID is derived from them, so the same genesis resumes the same chain.
    pub genesis: Vec<u8>,
    pub config: Vec<u8>,
    /// The plugin's Prometheus endpoint, unless the chain config names one itself.
    pub metrics_addr: Option<SocketAddr>,
    /// The plugin binary (this executable).
    pub plugin: PathBuf,
    /// The node the dev host plays; the plugin is launched with `GRPC_STAMPVM_PROTOCOL` set to
    /// its number, as an operator would configure it.
    pub profile: Profile,
    /// The format the plugin logs in from its first line, set in its `GRPC_STAMPVM_LOG_FORMAT`
    /// (`stampvm dev`: its own, so one format runs through its stderr); `None` leaves the
    /// variable as this process's environment has it.
    pub log_format: Option<LogFormat>,
}

/// The VM name whose ID (`stampvm vm-id stampvm`) the static API is mounted under.
const DEV_VM_NAME: &str = "stampvm";
/// After the engine failed, how long to watch for the plugin's exit, the likelier cause.
const PLUGIN_EXIT_GRACE: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error("genesis: {0}")]
    Genesis(#[from] stampvm::chain::GenesisError),
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(transparent)]
    DataDir(#[from] DirLockError),
    #[error("HTTP API on {addr}: {source}{}", http_hint(source))]
    Http {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("mounting the chain's HTTP API: {0}")]
    Mount(#[from] GatewayError),
    #[error("node services: {0}")]
    Services(std::io::Error),
    #[error("waiting for Ctrl-C: {0}")]
    Signal(std::io::Error),
    #[error("the chain config must be a JSON object: {0}")]
    Config(String),
    /// The chain's plugin process ended while the chain ran.
    #[error("the chain's plugin (pid {pid}) ended while the chain ran ({status}); the dev chain stops with it")]
    PluginExited { pid: u32, status: ExitStatus },
    #[error(transparent)]
    ChainStopped(#[from] EngineFailure),
}

/// The HTTP port is the node's: whoever holds it is most likely a node or another dev chain.
fn http_hint(error: &std::io::Error) -> &'static str {
    match error.kind() {
        std::io::ErrorKind::AddrInUse => {
            "; another node or another `stampvm dev` is probably using it: choose another with --http HOST:PORT"
        }
        _ => "",
    }
}

/// Who asked for the plugin's metrics address: what a warning must name when it is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MetricsOrigin {
    /// `--metrics` (or its default).
    Flag,
    /// `metrics-addr` in the user's chain config.
    ChainConfig,
}

/// The chain config the dev node hands the plugin: the user's, plus `metrics-addr` from
/// `--metrics` unless the user's config sets one.
#[derive(Debug)]
struct DevConfig {
    object: serde_json::Map<String, serde_json::Value>,
    metrics: Option<MetricsOrigin>,
}

impl DevConfig {
    fn new(user: &[u8], metrics_flag: Option<SocketAddr>) -> Result<DevConfig, DevError> {
        let mut object: serde_json::Map<String, serde_json::Value> =
            if user.iter().all(u8::is_ascii_whitespace) {
                serde_json::Map::new()
            } else {
                serde_json::from_slice(user).map_err(|e| DevError::Config(e.to_string()))?
            };
        let metrics = match (object.contains_key("metrics-addr"), metrics_flag) {
            (true, _) => Some(MetricsOrigin::ChainConfig),
            (false, Some(addr)) => {
                object.insert("metrics-addr".into(), addr.to_string().into());
                Some(MetricsOrigin::Flag)
            }
            (false, None) => None,
        };
        Ok(DevConfig { object, metrics })
    }

    fn bytes(&self) -> Result<Vec<u8>, DevError> {
        serde_json::to_vec(&self.object).map_err(|e| DevError::Config(e.to_string()))
    }

    /// The metrics address the plugin is asked to serve, as the config writes it.
    fn metrics_addr(&self) -> Option<&str> {
        self.object.get("metrics-addr")?.as_str()
    }

    /// After the plugin refused the metrics address (`cause`: `<addr>: <OS error>`): drops it,
    /// so the chain starts without the endpoint, and says so naming the knob that set it.
    fn drop_metrics(&mut self, cause: &str) {
        let origin = self.metrics.take();
        let port_9100 = self
            .metrics_addr()
            .and_then(|addr| addr.parse::<SocketAddr>().ok())
            .is_some_and(|addr| addr.port() == 9100);
        self.object.remove("metrics-addr");
        let remedy = match origin {
            Some(MetricsOrigin::ChainConfig) => {
                "change or remove `metrics-addr` in the chain config (--config)"
            }
            _ => "--metrics HOST:PORT serves them elsewhere, --no-metrics turns them off",
        };
        let exporter = match port_9100 {
            true => " (9100 is node_exporter's port)",
            false => "",
        };
        tracing::warn!(
            "the plugin cannot serve Prometheus metrics on {cause}{exporter}; the dev chain runs without them: {remedy}"
        );
    }
}

/// Starts the chain; when the plugin refuses the metrics address the dev node asked for, starts
/// it again without (a refused Initialize leaves nothing behind): a convenience endpoint must not
/// keep the chain from running.
async fn start_chain(
    client: &VmClient,
    params: &mut ChainParams,
    config: &mut DevConfig,
) -> Result<rpcchainvm_host::ChainStart, DevError> {
    params.config_bytes = config.bytes()?;
    match client.start_chain(params).await {
        Err(error) if config.metrics.is_some() => {
            let cause = error
                .status()
                .and_then(stampvm::rpc::lifecycle::metrics_refusal_cause);
            let Some(cause) = cause else {
                return Err(error.into());
            };
            config.drop_metrics(cause);
            params.config_bytes = config.bytes()?;
            Ok(client.start_chain(params).await?)
        }
        started => Ok(started?),
    }
}

/// The dev node's identity: fixed, so logs and peers look the same on every start.
fn dev_node_id() -> NodeId {
    let digest = Id::sha256(b"stampvm dev node");
    NodeId(digest.0[..20].try_into().expect("20 of 32 bytes"))
}

/// What a host embedding the dev node may add (`stampvm bench`); `stampvm dev` adds nothing.
#[derive(Debug, Default)]
pub struct NodeExtras {
    /// Serve the node's `rpcdb.Database` and name it at Initialize, as a real node always does:
    /// plugins that keep their state in the node's database (timestampvm-rs) need it; stampvm
    /// never dials it.
    pub node_database: bool,
    /// Receives the time of every engine round that accepted a block
    /// ([`SoloEngine::report_cycles`]).
    pub cycle_times: Option<mpsc::UnboundedSender<Duration>>,
}

/// A running dev node: the plugin handshaken, the chain started, the engine driving it and the
/// gateway serving its API. [`DevNode::stop`] stops it the node's way.
pub struct DevNode {
    /// Held until the node is dropped, after [`DevNode::stop`].
    _data_dir: DataDirLock,
    shutdown: Shutdown,
    gateway: Gateway,
    gateway_task: JoinHandle<Result<(), GatewayError>>,
    plugin: PluginProcess,
    client: VmClient,
    static_handlers: Option<StaticHandlerProcess>,
    vm_id: Id,
    engine: EngineHandle,
    services: NodeServicesHandle,
    chain_id: Id,
    chain_dir: PathBuf,
    height: u64,
    profile: Profile,
    format: ChainFormat,
    /// The Prometheus endpoint the plugin serves (as the chain config writes it), if any.
    metrics_addr: Option<String>,
}

impl DevNode {
    /// Launches the plugin and starts the chain in the node's order, then the engine.
    pub async fn start(options: &DevOptions, extras: NodeExtras) -> Result<DevNode, DevError> {
        // The plugin would refuse it at Initialize; say why before launching anything.
        let genesis = stampvm::chain::parse_genesis(&options.genesis)?;
        // Before anything is bound or launched: a second dev node on this directory stops here.
        let data_dir_lock = DataDirLock::acquire(&options.data_dir)?;
        tracing::info!(
            format = genesis.format.name(),
            max_payloads = genesis.format.max_payloads(),
            "dev chain genesis"
        );
        let mut config = DevConfig::new(&options.config, options.metrics_addr)?;
        let shutdown = Shutdown::new();
        let node_id = dev_node_id();
        let chain_id = rpcchainvm_host::dev_chain_id(&options.genesis);
        let chain_dir = options
            .data_dir
            .join("chainData")
            .join(chain_id.to_string());
        let profile = options.profile;
        let network = Network::new();
        let (services_addr, services) =
            NodeServices::serve_as(profile, node_id, network.clone(), shutdown.clone())
                .await
                .map_err(DevError::Services)?;
        let database = match extras.node_database {
            true => Some(
                NodeDatabase::serve(shutdown.clone())
                    .await
                    .map_err(DevError::Services)?,
            ),
            false => None,
        };
        let gateway = Gateway::bind_as(options.http_addr, node_id, profile)
            .await
            .map_err(|source| DevError::Http {
                addr: options.http_addr,
                source,
            })?;
        let gateway_task = gateway.spawn(shutdown.clone());

        let launch = |name: &str| {
            let mut launch = LaunchOptions::new(&options.plugin);
            launch.name = name.into();
            launch.profile = profile;
            launch.log_json = stampvm::logging::writes_json();
            let number = profile.announced().to_string();
            launch
                .extra_env
                .push(("GRPC_STAMPVM_PROTOCOL".into(), number.into()));
            if let Some(format) = options.log_format {
                let name = match format {
                    LogFormat::Text => "text",
                    LogFormat::Json => "json",
                };
                launch
                    .extra_env
                    .push((stampvm::logging::FORMAT_ENV_VAR.into(), name.into()));
            }
            launch
        };
        // Up to 30 the node registers the VM's static handlers from a process of their own.
        let static_handlers = StaticHandlerProcess::launch(launch("static")).await?;
        let vm_id = Id::from_name(DEV_VM_NAME).expect("a short name");
        if let Some(process) = &static_handlers {
            gateway.register_vm(vm_id, process.routes())?;
        }
        let plugin = PluginProcess::launch(launch("plugin")).await?;
        let client = plugin.vm_client().await?;
        network.register(node_id, client.clone());
        let mut params = ChainParams::new(
            node_id,
            &chain_dir,
            options.genesis.clone(),
            services_addr.to_string(),
        )
        .with_profile(profile);
        params.chain_id = chain_id;
        if let Some(database) = &database {
            params.db_server_addr = database.addr().to_string();
        }
        let started = start_chain(&client, &mut params, &mut config).await?;
        let handlers = started
            .handlers
            .iter()
            .map(|h| (h.prefix.clone(), h.server_addr.clone()))
            .collect();
        gateway.register_chain(chain_id, handlers, started.http_handler_addr.clone())?;
        gateway.set_ready(chain_id, true);
        let mut engine = SoloEngine::new(
            client.clone(),
            EngineMode::for_node(&services),
            &started.last_accepted,
        );
        if let Some(cycle_times) = extras.cycle_times {
            engine = engine.report_cycles(cycle_times);
        }
        let engine = engine.spawn(shutdown.clone());
        // The node's /ext/health, /ext/info and /ext/metrics report the chain too.
        let node_chain = NodeChain {
            vm_id,
            vm_version: client.version().await?.version,
            client: client.clone(),
            tip: Some(engine.subscribe()),
        };
        gateway.set_network_id(params.network_id);
        gateway.register_node_chain(chain_id, node_chain);
        Ok(DevNode {
            _data_dir: data_dir_lock,
            shutdown,
            gateway,
            gateway_task,
            plugin,
            client,
            static_handlers,
            vm_id,
            engine,
            services,
            chain_id,
            chain_dir,
            height: started.last_accepted.height,
            profile,
            format: genesis.format,
            metrics_addr: config.metrics_addr().map(str::to_string),
        })
    }

    /// Where the node's HTTP API listens.
    pub fn http_addr(&self) -> SocketAddr {
        self.gateway.local_addr()
    }

    pub fn chain_id(&self) -> Id {
        self.chain_id
    }

    /// The chain's JSON-RPC URL path (`/ext/bc/<chainID>/rpc`).
    pub fn rpc_path(&self) -> String {
        format!("/ext/bc/{}/rpc", self.chain_id)
    }

    /// The chain plugin's process ID (not the static-handler process's).
    pub fn plugin_pid(&self) -> u32 {
        self.plugin.pid()
    }

    /// The node's client of the chain plugin's `vm.VM` service.
    pub fn vm_client(&self) -> &VmClient {
        &self.client
    }

    /// The running engine: its tip and accepted-block count.
    pub fn engine(&self) -> &EngineHandle {
        &self.engine
    }

    /// Resolves when the chain can no longer run: the plugin exited, or the engine stopped the
    /// chain (a failed BlockAccept). Never while both are fine.
    pub async fn failed(&self) -> DevError {
        let pid = self.plugin.pid();
        tokio::select! {
            Some(status) = self.plugin.wait_exit(Duration::MAX) => {
                DevError::PluginExited { pid, status }
            }
            failure = self.engine.failed() => {
                // A plugin dying in the middle of BlockAccept fails the call first: name the
                // death, the cause, when it follows at once.
                match self.plugin.wait_exit(PLUGIN_EXIT_GRACE).await {
                    Some(status) => DevError::PluginExited { pid, status },
                    None => failure.into(),
                }
            }
        }
    }

    /// What the node's services handled so far (e.g. the plugin's `Messenger.Notify` calls).
    pub fn counters(&self) -> NodeCounters {
        self.services.counters()
    }

    /// The node's stop: unmount the chain, stop the engine, Shutdown the plugin (SIGTERM, then
    /// SIGKILL after 5 s), then the static-handler process and the gateway.
    pub async fn stop(self) -> Result<(), DevError> {
        tracing::info!("stopping: shutting the plugin down");
        self.gateway.set_ready(self.chain_id, false);
        self.shutdown.trigger();
        self.engine.join().await;
        let status = self
            .plugin
            .stop(&self.client, Duration::from_secs(5))
            .await?;
        tracing::info!(%status, "plugin stopped");
        if let Some(process) = self.static_handlers {
            // The node's exit: the static-handler process never gets Shutdown, only SIGTERM.
            self.gateway.remove_vm(self.vm_id);
            let status = process.stop().await?;
            tracing::info!(%status, "static-handler process stopped");
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), self.gateway_task).await;
        Ok(())
    }
}

/// Runs the dev chain until Ctrl-C or SIGTERM, then stops the plugin the node's way.
pub async fn run(options: DevOptions) -> Result<(), DevError> {
    let node = DevNode::start(&options, NodeExtras::default()).await?;
    // Listen for Ctrl-C/SIGTERM before announcing readiness: a signal sent the moment the banner
    // appears must stop the chain cleanly, not kill the process.
    let stop_signal = stop_signals()?;
    print_banner(&Banner {
        http: node.http_addr(),
        chain_id: node.chain_id,
        chain_dir: &node.chain_dir,
        height: node.height,
        profile: node.profile,
        static_vm: node.static_handlers.as_ref().map(|_| node.vm_id),
        format: node.format,
        metrics: node.metrics_addr.as_deref(),
        command: &options.plugin,
    });
    let failure = tokio::select! {
        signalled = stop_signal => {
            signalled?;
            None
        }
        failure = node.failed() => Some(failure),
    };
    let Some(failure) = failure else {
        return node.stop().await;
    };
    tracing::error!(error = %failure, "the dev chain cannot go on; stopping");
    if let Err(error) = node.stop().await {
        tracing::warn!(%error, "stopping the rest of the dev node");
    }
    Err(failure)
}

/// What the banner tells.
struct Banner<'a> {
    http: SocketAddr,
    chain_id: Id,
    chain_dir: &'a std::path::Path,
    height: u64,
    profile: Profile,
    /// The VM whose static API is mounted (profiles up to 30).
    static_vm: Option<Id>,
    /// Which calls to suggest: a batched chain's are proposeBatch, getProof and the proof check.
    format: ChainFormat,
    /// The plugin's Prometheus endpoint, as the chain config writes it.
    metrics: Option<&'a str>,
    /// This binary, for the `verify-proof` line: it need not be on PATH.
    command: &'a std::path::Path,
}

/// What a person needs to start using the chain, on stdout (logs stay on stderr).
fn print_banner(banner: &Banner<'_>) {
    let mut out = std::io::stdout().lock();
    for line in banner_lines(banner) {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

/// The banner's lines; the `try:`, `then…:` and `check it:` lines are ready to paste into a shell.
fn banner_lines(banner: &Banner<'_>) -> Vec<String> {
    let Banner {
        http,
        chain_id,
        chain_dir,
        height,
        profile,
        static_vm,
        format,
        metrics,
        command,
    } = banner;
    let url = format!("http://{http}/ext/bc/{chain_id}/rpc");
    let payload = |document: &[u8]| format_payload(&Id::sha256(document).0, Encoding::Hex);
    let curl = |id: u32, method: &str, params: &str| {
        format!(
            "curl -s -H 'content-type: application/json' -d '{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"timestampvm.{method}\",\"params\":{params}}}' {url}"
        )
    };
    let mut lines = vec![
        format!(
            "stampvm dev chain {chain_id} is up at height {height} (data in {})",
            chain_dir.display()
        ),
        format!("node: {profile} (the plugin speaks it too)"),
    ];
    if let Some(vm_id) = static_vm {
        lines.push(format!("static API: http://{http}/ext/vm/{vm_id}"));
    }
    lines.push(format!("JSON-RPC: {url}"));
    match format {
        ChainFormat::Single => {
            let data = payload(b"my document");
            let propose = curl(1, "proposeBlock", &format!("{{\"data\":\"{data}\"}}"));
            lines.push(format!("try: {propose}"));
            lines.push(format!("then: {}", curl(2, "getBlock", "{}")));
        }
        ChainFormat::Batched { max_batch } => {
            let (first, second) = (payload(b"my document"), payload(b"my other document"));
            let batch = format!("{{\"data\":[\"{first}\",\"{second}\"]}}");
            lines.push(format!(
                "try (up to {max_batch} payloads a block): {}",
                curl(1, "proposeBatch", &batch)
            ));
            let proof = curl(2, "getProof", &format!("{{\"data\":\"{first}\"}}"));
            lines.push(format!(
                "then (after the next block, about a second): {proof} > proof.json"
            ));
            lines.push(format!(
                "check it: {} verify-proof --proof proof.json --rpc {url}",
                shell_word(&command.display().to_string())
            ));
        }
    }
    match metrics {
        Some(addr) if addr.ends_with(":0") => lines.push(
            "metrics: on a port the plugin chose (its `serving Prometheus metrics` log line names it)"
                .into(),
        ),
        Some(addr) => lines.push(format!("metrics: http://{addr}/metrics")),
        None => {}
    }
    lines.push(format!(
        "node endpoints: http://{http}/ext/health (GET), /ext/info (info.getNodeVersion), /ext/metrics"
    ));
    lines.push("Ctrl-C stops the chain; the next start resumes it.".into());
    lines
}

/// `word` as one word for a POSIX shell: as it is when it has nothing the shell would read
/// otherwise, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._+-:=@%,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Installs the SIGINT and SIGTERM handlers now; the returned future resolves on either.
fn stop_signals() -> Result<impl std::future::Future<Output = Result<(), DevError>>, DevError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).map_err(DevError::Signal)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(DevError::Signal)?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_survive_a_shell() {
        assert_eq!(shell_word("/usr/bin/stampvm"), "/usr/bin/stampvm");
        assert_eq!(shell_word("/my dir/it's"), r"'/my dir/it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    fn banner(format: ChainFormat, metrics: Option<&str>) -> Vec<String> {
        banner_lines(&Banner {
            http: "127.0.0.1:9650".parse().unwrap(),
            chain_id: Id::sha256(b"chain"),
            chain_dir: std::path::Path::new("d"),
            height: 0,
            profile: Profile::latest(),
            static_vm: None,
            format,
            metrics,
            command: std::path::Path::new("/bin/stampvm"),
        })
    }

    #[test]
    fn each_format_gets_its_own_calls() {
        let single = banner(ChainFormat::Single, Some("127.0.0.1:9100")).join("\n");
        assert!(single.contains("timestampvm.proposeBlock"), "{single}");
        assert!(!single.contains("proposeBatch") && !single.contains("verify-proof"));
        assert!(single.contains("metrics: http://127.0.0.1:9100/metrics"));
        assert!(single.contains("node endpoints: http://127.0.0.1:9650/ext/health (GET)"));
        let batched = banner(ChainFormat::Batched { max_batch: 4096 }, None).join("\n");
        for call in [
            "timestampvm.proposeBatch",
            "timestampvm.getProof",
            "> proof.json",
        ] {
            assert!(batched.contains(call), "{call}: {batched}");
        }
        assert!(batched.contains("/bin/stampvm verify-proof --proof proof.json --rpc http://"));
        assert!(!batched.contains("proposeBlock") && !batched.contains("metrics:"));
    }

    #[test]
    fn the_dev_config_adds_the_flags_metrics_address_unless_the_user_set_one() {
        let flag = Some("127.0.0.1:9100".parse().unwrap());
        let config = DevConfig::new(br#"{"log-level":"debug"}"#, flag).unwrap();
        assert_eq!(config.metrics, Some(MetricsOrigin::Flag));
        assert_eq!(config.metrics_addr(), Some("127.0.0.1:9100"));
        let mut config = DevConfig::new(br#"{"metrics-addr":"127.0.0.1:9200"}"#, flag).unwrap();
        assert_eq!(config.metrics, Some(MetricsOrigin::ChainConfig));
        assert_eq!(config.metrics_addr(), Some("127.0.0.1:9200"));
        config.drop_metrics("127.0.0.1:9200: Address already in use");
        assert_eq!((config.metrics, config.metrics_addr()), (None, None));
        assert_eq!(config.bytes().unwrap(), b"{}");
        let config = DevConfig::new(b" ", None).unwrap();
        assert_eq!(
            (config.metrics, config.bytes().unwrap()),
            (None, b"{}".to_vec())
        );
        assert!(DevConfig::new(b"[1]", flag).is_err());
    }
}
