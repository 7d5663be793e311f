//! [`DevNode`]: the dev chain's node, for `stampvm dev` and for other commands that need a running
//! chain (`stampvm bench`). The host's [`Node`] builder does the node's start and stop; this adds
//! what is the dev command's own: the data directory's lock (taken before anything is bound or
//! launched, so a second dev node on it stops at once, naming the first), the fixed node and
//! chain identities, the plugin told its protocol and log format as an operator would tell it,
//! and the Prometheus endpoint that is dropped, with a warning, when its address is taken.

use super::config::DevConfig;
use super::error::DevError;
use rpcchainvm::protocol::Profile;
use rpcchainvm_host::node::{Node, RunningNode};
use rpcchainvm_host::{EngineHandle, NodeCounters, VmClient};
use stampvm::chain::{ChainFormat, Id, NodeId};
use stampvm::config::LogFormat;
use stampvm::dir_lock::DataDirLock;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

/// What `stampvm dev` runs.
#[derive(Debug, Clone)]
pub(crate) struct DevOptions {
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

/// The dev node's identity: fixed, so logs and peers look the same on every start.
fn dev_node_id() -> NodeId {
    let digest = Id::sha256(b"stampvm dev node");
    NodeId(digest.0[..20].try_into().expect("20 of 32 bytes"))
}

/// What a host embedding the dev node may add (`stampvm bench`); `stampvm dev` adds nothing.
#[derive(Debug, Default)]
pub(crate) struct NodeExtras {
    /// Serve the node's `rpcdb.Database` and name it at Initialize, as a real node always does:
    /// plugins that keep their state in the node's database (timestampvm-rs) need it; stampvm
    /// never dials it.
    pub node_database: bool,
    /// Receives the time of every engine round that accepted a block
    /// ([`rpcchainvm_host::SoloEngine::report_cycles`]).
    pub cycle_times: Option<mpsc::UnboundedSender<Duration>>,
}

/// A running dev node: the plugin handshaken, the chain started, the engine driving it and the
/// gateway serving its API. [`DevNode::stop`] stops it the node's way.
pub(crate) struct DevNode {
    node: RunningNode,
    /// Held until the node is dropped, after [`DevNode::stop`].
    _data_dir: DataDirLock,
    chain_dir: PathBuf,
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
        let chain_id = rpcchainvm_host::dev_chain_id(&options.genesis);
        let chain_dir = options
            .data_dir
            .join("chainData")
            .join(chain_id.to_string());
        let profile = options.profile;
        let mut node = Node::builder(&options.plugin, &chain_dir)
            .name("plugin")
            .log_json(stampvm::logging::writes_json())
            .profile(profile)
            .env("GRPC_STAMPVM_PROTOCOL", profile.announced().to_string())
            .node_id(dev_node_id())
            .chain_id(chain_id)
            .genesis(options.genesis.clone())
            .config(config.bytes()?)
            .node_database(extras.node_database)
            .gateway(options.http_addr)
            .vm_id(Id::from_name(DEV_VM_NAME).expect("a short name"))
            .engine(true);
        if let Some(format) = options.log_format {
            let name = match format {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            };
            node = node.env(stampvm::logging::FORMAT_ENV_VAR, name);
        }
        if let Some(cycle_times) = extras.cycle_times {
            node = node.report_cycles(cycle_times);
        }
        if config.metrics.is_some() {
            // A convenience endpoint must not keep the chain from running: when the plugin
            // refuses its address, start the chain again without it.
            node = node.config_fallback(move |error| {
                let cause = error
                    .status()
                    .and_then(stampvm::vm::metrics_refusal_cause)?;
                config.drop_metrics(cause);
                config.bytes().ok()
            });
        }
        let node = node.start().await?;
        let metrics_addr = DevConfig::metrics_addr_in(&node.params().config_bytes);
        Ok(DevNode {
            node,
            _data_dir: data_dir_lock,
            chain_dir,
            format: genesis.format,
            metrics_addr,
        })
    }

    /// Where the node's HTTP API listens.
    pub fn http_addr(&self) -> SocketAddr {
        self.node
            .http_addr()
            .expect("a dev node serves its HTTP API")
    }

    pub fn chain_id(&self) -> Id {
        self.node.chain_id()
    }

    /// Where the chain keeps its data.
    pub fn chain_dir(&self) -> &Path {
        &self.chain_dir
    }

    /// The chain's last accepted height when it started.
    pub fn start_height(&self) -> u64 {
        self.node.started().last_accepted.height
    }

    pub fn profile(&self) -> Profile {
        self.node.profile()
    }

    /// The VM whose static API is mounted (profiles up to 30).
    pub fn static_vm(&self) -> Option<Id> {
        self.node.static_handlers().and(self.node.vm_id())
    }

    pub fn format(&self) -> ChainFormat {
        self.format
    }

    /// The Prometheus endpoint the plugin serves, as the chain config writes it.
    pub fn metrics_addr(&self) -> Option<&str> {
        self.metrics_addr.as_deref()
    }

    /// The chain's JSON-RPC URL path (`/ext/bc/<chainID>/rpc`).
    pub fn rpc_path(&self) -> String {
        format!("/ext/bc/{}/rpc", self.chain_id())
    }

    /// The chain plugin's process ID (not the static-handler process's).
    pub fn plugin_pid(&self) -> u32 {
        self.node.process().pid()
    }

    /// The node's client of the chain plugin's `vm.VM` service.
    pub fn vm_client(&self) -> &VmClient {
        self.node.client()
    }

    /// The running engine: its tip and accepted-block count.
    pub fn engine(&self) -> &EngineHandle {
        self.node.engine().expect("a dev node runs its engine")
    }

    /// Resolves when the chain can no longer run: the plugin exited, or the engine stopped the
    /// chain (a failed BlockAccept). Never while both are fine.
    pub async fn failed(&self) -> DevError {
        let plugin = self.node.process();
        let pid = plugin.pid();
        tokio::select! {
            Some(status) = plugin.wait_exit(Duration::MAX) => {
                DevError::PluginExited { pid, status }
            }
            failure = self.node.engine_failed() => {
                // A plugin dying in the middle of BlockAccept fails the call first: name the
                // death, the cause, when it follows at once.
                match plugin.wait_exit(PLUGIN_EXIT_GRACE).await {
                    Some(status) => DevError::PluginExited { pid, status },
                    None => failure.into(),
                }
            }
        }
    }

    /// What the node's services handled so far (e.g. the plugin's `Messenger.Notify` calls).
    pub fn counters(&self) -> NodeCounters {
        self.node.services().counters()
    }

    /// The node's stop ([`RunningNode::stop`]); the data directory is unlocked after it.
    pub async fn stop(self) -> Result<(), DevError> {
        self.node.stop().await?;
        Ok(())
    }
}
