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
//! `stampvm dev` runs until Ctrl-C or SIGTERM, or until the chain cannot go on: its plugin exited
//! (a crash, the OOM killer, a stray `kill`), or the engine stopped the chain as the node does
//! after a failed BlockAccept. Then it stops what is left and fails, naming the cause, rather
//! than serving a chain that answers every call with an error or never finalises again.

use crate::api::data::{format_payload, Encoding};
use crate::chain::{Id, NodeId};
use crate::host::engine::EngineFailure;
use crate::host::gateway::{Gateway, GatewayError};
use crate::host::rpcdb::NodeDatabase;
use crate::host::{
    ChainParams, EngineHandle, EngineMode, HostError, LaunchOptions, Network, NodeChain,
    NodeCounters, NodeServices, NodeServicesHandle, PluginProcess, SoloEngine,
    StaticHandlerProcess, VmClient,
};
use crate::rpc::protocol::Profile;
use crate::shutdown::Shutdown;
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
}

/// The VM name whose ID (`stampvm vm-id stampvm`) the static API is mounted under.
const DEV_VM_NAME: &str = "stampvm";
/// After the engine failed, how long to watch for the plugin's exit, the likelier cause.
const PLUGIN_EXIT_GRACE: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error("genesis: {0}")]
    Genesis(#[from] crate::chain::GenesisError),
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("HTTP API on {addr}: {source}")]
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

/// The chain config the dev node hands the plugin: the user's, plus the metrics address unless
/// the user's config sets one.
fn dev_config(user: &[u8], metrics_addr: Option<SocketAddr>) -> Result<Vec<u8>, DevError> {
    let mut config: serde_json::Map<String, serde_json::Value> =
        if user.iter().all(u8::is_ascii_whitespace) {
            serde_json::Map::new()
        } else {
            serde_json::from_slice(user).map_err(|e| DevError::Config(e.to_string()))?
        };
    if let Some(addr) = metrics_addr {
        config
            .entry("metrics-addr")
            .or_insert_with(|| addr.to_string().into());
    }
    serde_json::to_vec(&config).map_err(|e| DevError::Config(e.to_string()))
}

/// The dev node's identity: fixed, so logs and peers look the same on every start.
fn dev_node_id() -> NodeId {
    let digest = Id::sha256(b"stampvm dev node");
    NodeId(digest.0[..20].try_into().expect("20 of 32 bytes"))
}

/// The chain ID a dev chain with these genesis bytes has.
pub fn dev_chain_id(genesis: &[u8]) -> Id {
    let mut seed = b"stampvm dev chain:".to_vec();
    seed.extend_from_slice(genesis);
    Id::sha256(&seed)
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
}

impl DevNode {
    /// Launches the plugin and starts the chain in the node's order, then the engine.
    pub async fn start(options: &DevOptions, extras: NodeExtras) -> Result<DevNode, DevError> {
        // The plugin would refuse it at Initialize; say why before launching anything.
        let genesis = crate::chain::parse_genesis(&options.genesis)?;
        tracing::info!(
            format = genesis.format.name(),
            max_payloads = genesis.format.max_payloads(),
            "dev chain genesis"
        );
        let shutdown = Shutdown::new();
        let node_id = dev_node_id();
        let chain_id = dev_chain_id(&options.genesis);
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
            let number = profile.announced().to_string();
            launch
                .extra_env
                .push(("GRPC_STAMPVM_PROTOCOL".into(), number.into()));
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
        params.config_bytes = dev_config(&options.config, options.metrics_addr)?;
        if let Some(database) = &database {
            params.db_server_addr = database.addr().to_string();
        }
        let started = client.start_chain(&params).await?;
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
    });
    if let Some(addr) = options.metrics_addr {
        println!("metrics: http://{addr}/metrics (unless the chain config moved them)");
    }
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
}

/// What a person needs to start using the chain, on stdout (logs stay on stderr).
fn print_banner(banner: &Banner<'_>) {
    let Banner {
        http,
        chain_id,
        chain_dir,
        height,
        profile,
        static_vm,
    } = banner;
    let url = format!("http://{http}/ext/bc/{chain_id}/rpc");
    let example = format_payload(&Id::sha256(b"my document").0, Encoding::Hex);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "stampvm dev chain {chain_id} is up at height {height} (data in {})",
        chain_dir.display()
    );
    let _ = writeln!(out, "node: {profile} (the plugin speaks it too)");
    if let Some(vm_id) = static_vm {
        let _ = writeln!(out, "static API: http://{http}/ext/vm/{vm_id}");
    }
    let _ = writeln!(out, "JSON-RPC: {url}");
    let _ = writeln!(
        out,
        "try: curl -s -H 'content-type: application/json' -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"timestampvm.proposeBlock\",\"params\":{{\"data\":\"{example}\"}}}}' {url}"
    );
    let _ = writeln!(
        out,
        "then: curl -s -H 'content-type: application/json' -d '{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"timestampvm.getBlock\",\"params\":{{}}}}' {url}"
    );
    let _ = writeln!(out, "Ctrl-C stops the chain; the next start resumes it.");
    let _ = out.flush();
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
