//! A whole node around one chain, started in the node's order and stopped in it: the sequence
//! `stampvm dev`, `stampvm bench`, the integration tests and the benches all need, written once.
//!
//! [`Node::builder`] (or [`Node::with_process`] for a plugin the caller launched and watches
//! itself) → [`NodeBuilder::start`]:
//! 1. the node's services ([`NodeServices::serve_as`]) and, on request, its `rpcdb` server;
//! 2. on request, the HTTP gateway, bound before anything is launched, so a taken port fails
//!    at once;
//! 3. up to 30, when the VM is named ([`NodeBuilder::vm_id`]), the static-handler process, its
//!    handlers mounted under `/ext/vm/<vmID>`;
//! 4. the plugin, handshaken ([`PluginProcess::launch`]) and dialled;
//! 5. the chain started ([`VmClient::start_chain`], [`ChainParams::with_profile`]), once more
//!    with the config [`NodeBuilder::config_fallback`] gives if the plugin refuses the first;
//! 6. the node on its network, the chain's handlers mounted and ready, on request the
//!    [`SoloEngine`], and the node's own APIs (`/ext/health`, `/ext/info`, `/ext/metrics`).
//!
//! [`RunningNode::stop`] is the node's stop (docs/spec/node-behaviour.md §10).

use crate::gateway::{Gateway, GatewayError};
use crate::rpcdb::NodeDatabase;
use crate::{
    ChainParams, ChainStart, EngineHandle, EngineMode, HostError, LaunchOptions, Network,
    NodeChain, NodeServices, PluginProcess, SoloEngine, StaticHandlerProcess, VmClient,
};
use rpcchainvm::ids::{Id, NodeId};
use rpcchainvm::protocol::Profile;
use rpcchainvm::shutdown::Shutdown;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

mod running;

pub use running::{NodeParts, RunningNode};

/// The name the static-handler process's output lines carry.
const STATIC_PROCESS_NAME: &str = "static";

/// What can stop a node from starting: the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("node services: {0}")]
    Services(#[source] std::io::Error),
    #[error("node database: {0}")]
    Database(#[source] std::io::Error),
    #[error("HTTP API on {addr}: {source}")]
    Gateway {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("mounting the chain's HTTP API: {0}")]
    Mount(#[from] GatewayError),
    #[error(transparent)]
    Host(#[from] HostError),
}

/// Where [`NodeBuilder::start`] gets its plugin.
#[derive(Debug)]
enum Plugin {
    Launch(LaunchOptions),
    Running(PluginProcess),
}

/// Picks the config to start the chain with again after the plugin refused the first (`None`:
/// the refusal stands).
type ConfigFallback<'a> = Box<dyn FnOnce(&HostError) -> Option<Vec<u8>> + Send + 'a>;

/// Changes the chain parameters just before the chain starts.
type ParamsTweak<'a> = Box<dyn FnOnce(&mut ChainParams) + Send + 'a>;

/// Entry point of the builder: `Node::builder(plugin, chain_data_dir)…start()`.
#[derive(Debug)]
pub struct Node;

impl Node {
    /// A node that launches `plugin` (as the newest node unless [`NodeBuilder::profile`] says
    /// otherwise) and keeps the chain's data in `chain_data_dir`.
    pub fn builder<'a>(
        plugin: impl Into<PathBuf>,
        chain_data_dir: impl Into<PathBuf>,
    ) -> NodeBuilder<'a> {
        NodeBuilder::new(Plugin::Launch(LaunchOptions::new(plugin)), chain_data_dir)
    }

    /// A node around a plugin already launched and handshaken (e.g. with its output captured);
    /// it plays that process's profile.
    pub fn with_process<'a>(
        process: PluginProcess,
        chain_data_dir: impl Into<PathBuf>,
    ) -> NodeBuilder<'a> {
        NodeBuilder::new(Plugin::Running(process), chain_data_dir)
    }
}

/// What a node runs; [`NodeBuilder::start`] starts it. Every part beyond the plugin and its
/// chain is off unless asked for.
pub struct NodeBuilder<'a> {
    plugin: Plugin,
    chain_data_dir: PathBuf,
    node_id: NodeId,
    genesis: Vec<u8>,
    config: Vec<u8>,
    chain_id: Option<Id>,
    config_fallback: Option<ConfigFallback<'a>>,
    tweak: Option<ParamsTweak<'a>>,
    network: Option<Network>,
    node_database: bool,
    gateway: Option<SocketAddr>,
    vm_id: Option<Id>,
    engine: bool,
    cycle_times: Option<mpsc::UnboundedSender<Duration>>,
}

impl std::fmt::Debug for NodeBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBuilder")
            .field("plugin", &self.plugin)
            .field("chain_data_dir", &self.chain_data_dir)
            .field("node_id", &self.node_id)
            .field("gateway", &self.gateway)
            .field("vm_id", &self.vm_id)
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl<'a> NodeBuilder<'a> {
    fn new(plugin: Plugin, chain_data_dir: impl Into<PathBuf>) -> NodeBuilder<'a> {
        NodeBuilder {
            plugin,
            chain_data_dir: chain_data_dir.into(),
            node_id: NodeId([1; 20]),
            genesis: Vec::new(),
            config: Vec::new(),
            chain_id: None,
            config_fallback: None,
            tweak: None,
            network: None,
            node_database: false,
            gateway: None,
            vm_id: None,
            engine: false,
            cycle_times: None,
        }
    }

    /// The node to play (launching only; a running process keeps the profile it was launched for).
    pub fn profile(mut self, profile: Profile) -> NodeBuilder<'a> {
        if let Plugin::Launch(options) = &mut self.plugin {
            options.profile = profile;
        }
        self
    }

    /// The prefix of the plugin's copied output lines (launching only).
    pub fn name(mut self, name: impl Into<String>) -> NodeBuilder<'a> {
        if let Plugin::Launch(options) = &mut self.plugin {
            options.name = name.into();
        }
        self
    }

    /// Relay the plugin's output as JSON lines, as this process logs (launching only; see
    /// [`LaunchOptions::log_json`]).
    pub fn log_json(mut self, json: bool) -> NodeBuilder<'a> {
        if let Plugin::Launch(options) = &mut self.plugin {
            options.log_json = json;
        }
        self
    }

    /// An extra variable in the environment of every process launched (not something the node
    /// does: operators set such variables for it, e.g. a plugin's protocol or log format).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> NodeBuilder<'a> {
        if let Plugin::Launch(options) = &mut self.plugin {
            options.extra_env.push((key.into(), value.into()));
        }
        self
    }

    /// This node's ID (default: twenty 1 bytes).
    pub fn node_id(mut self, node_id: NodeId) -> NodeBuilder<'a> {
        self.node_id = node_id;
        self
    }

    pub fn genesis(mut self, genesis: impl Into<Vec<u8>>) -> NodeBuilder<'a> {
        self.genesis = genesis.into();
        self
    }

    /// The chain config, as the node reads it from its config directory.
    pub fn config(mut self, config: impl Into<Vec<u8>>) -> NodeBuilder<'a> {
        self.config = config.into();
        self
    }

    /// The chain's ID (default: [`ChainParams::new`]'s fixed one).
    pub fn chain_id(mut self, chain_id: Id) -> NodeBuilder<'a> {
        self.chain_id = Some(chain_id);
        self
    }

    /// When the plugin refuses to start the chain, `fallback` may name another config to start it
    /// with, once, on the same process (a refused Initialize leaves nothing behind). Not something
    /// the node does: a convenience setting must not keep a local chain from running.
    pub fn config_fallback(
        mut self,
        fallback: impl FnOnce(&HostError) -> Option<Vec<u8>> + Send + 'a,
    ) -> NodeBuilder<'a> {
        self.config_fallback = Some(Box::new(fallback));
        self
    }

    /// Changes the chain parameters last, just before the chain starts (any field of
    /// `InitializeRequest`).
    pub fn chain_params(
        mut self,
        tweak: impl FnOnce(&mut ChainParams) + Send + 'a,
    ) -> NodeBuilder<'a> {
        self.tweak = Some(Box::new(tweak));
        self
    }

    /// Joins `network` once the chain runs, exchanging `Connected` with its nodes as peers do.
    /// Without one the node is alone on a network of its own, on it before the chain starts.
    pub fn network(mut self, network: Network) -> NodeBuilder<'a> {
        self.network = Some(network);
        self
    }

    /// Serves the node's `rpcdb.Database` and names it at Initialize, as a real node always does:
    /// plugins that keep their state in the node's database need it.
    pub fn node_database(mut self, serve: bool) -> NodeBuilder<'a> {
        self.node_database = serve;
        self
    }

    /// Serves the node's HTTP API on `addr` (port 0: one the OS picks).
    pub fn gateway(mut self, addr: SocketAddr) -> NodeBuilder<'a> {
        self.gateway = Some(addr);
        self
    }

    /// The VM's ID, for the gateway: its static API (a process of its own up to 30, launching
    /// only) at `/ext/vm/<vmID>`, and the node's own APIs reporting the chain under it.
    pub fn vm_id(mut self, vm_id: Id) -> NodeBuilder<'a> {
        self.vm_id = Some(vm_id);
        self
    }

    /// Drives the chain with a [`SoloEngine`] on the profile's build trigger.
    pub fn engine(mut self, run: bool) -> NodeBuilder<'a> {
        self.engine = run;
        self
    }

    /// With the engine: also sends it the time of every round that accepted a block
    /// ([`SoloEngine::report_cycles`]).
    pub fn report_cycles(mut self, cycles: mpsc::UnboundedSender<Duration>) -> NodeBuilder<'a> {
        self.cycle_times = Some(cycles);
        self
    }

    /// Starts everything in the node's order (the module doc lists it).
    pub async fn start(self) -> Result<RunningNode, NodeError> {
        let profile = match &self.plugin {
            Plugin::Launch(options) => options.profile,
            Plugin::Running(process) => process.profile(),
        };
        let shutdown = Shutdown::new();
        let node_id = self.node_id;
        let (network, joins) = match self.network {
            Some(network) => (network, true),
            None => (Network::new(), false),
        };
        let (services_addr, services) =
            NodeServices::serve_as(profile, node_id, network.clone(), shutdown.clone())
                .await
                .map_err(NodeError::Services)?;
        let database = match self.node_database {
            true => Some(
                NodeDatabase::serve(shutdown.clone())
                    .await
                    .map_err(NodeError::Database)?,
            ),
            false => None,
        };
        let gateway = match self.gateway {
            Some(addr) => {
                let gateway = Gateway::bind_as(addr, node_id, profile)
                    .await
                    .map_err(|source| NodeError::Gateway { addr, source })?;
                let task = gateway.spawn(shutdown.clone());
                Some((gateway, task))
            }
            None => None,
        };
        let (process, static_handlers) = match self.plugin {
            Plugin::Launch(options) => {
                let static_handlers = match (&gateway, self.vm_id) {
                    (Some((gateway, _)), Some(vm_id)) => {
                        let mut static_options = options.clone();
                        static_options.name = STATIC_PROCESS_NAME.into();
                        let launched = StaticHandlerProcess::launch(static_options).await?;
                        if let Some(process) = &launched {
                            gateway.register_vm(vm_id, process.routes())?;
                        }
                        launched
                    }
                    _ => None,
                };
                (PluginProcess::launch(options).await?, static_handlers)
            }
            Plugin::Running(process) => (process, None),
        };
        let client = process.vm_client().await?;
        if !joins {
            network.register(node_id, client.clone());
        }
        let mut params = ChainParams::new(
            node_id,
            self.chain_data_dir,
            self.genesis,
            services_addr.to_string(),
        )
        .with_profile(profile);
        params.config_bytes = self.config;
        if let Some(chain_id) = self.chain_id {
            params.chain_id = chain_id;
        }
        if let Some(database) = &database {
            params.db_server_addr = database.addr().to_string();
        }
        if let Some(tweak) = self.tweak {
            tweak(&mut params);
        }
        let started = start_chain(&client, &mut params, self.config_fallback).await?;
        if joins {
            network.join(node_id, client.clone(), &params.client).await;
        }
        if let Some((gateway, _)) = &gateway {
            let handlers = started
                .handlers
                .iter()
                .map(|h| (h.prefix.clone(), h.server_addr.clone()))
                .collect();
            gateway.register_chain(params.chain_id, handlers, started.http_handler_addr.clone())?;
            gateway.set_ready(params.chain_id, true);
        }
        let engine = self.engine.then(|| {
            let mode = EngineMode::for_node(&services);
            let mut engine = SoloEngine::new(client.clone(), mode, &started.last_accepted);
            if let Some(cycle_times) = self.cycle_times {
                engine = engine.report_cycles(cycle_times);
            }
            engine.spawn(shutdown.clone())
        });
        if let (Some((gateway, _)), Some(vm_id)) = (&gateway, self.vm_id) {
            // The node's /ext/health, /ext/info and /ext/metrics report the chain too.
            let node_chain = NodeChain {
                vm_id,
                vm_version: client.version().await?.version,
                client: client.clone(),
                tip: engine.as_ref().map(EngineHandle::subscribe),
            };
            gateway.set_network_id(params.network_id);
            gateway.register_node_chain(params.chain_id, node_chain);
        }
        let (gateway, gateway_task) = gateway.unzip();
        let parts = NodeParts {
            process,
            client,
            services,
            network,
            params,
            started,
            shutdown,
            gateway,
            engine,
            static_handlers,
            vm_id: self.vm_id,
            database,
        };
        Ok(RunningNode::new(parts, gateway_task))
    }
}

/// Starts the chain; when the plugin refuses and `fallback` names another config, starts it
/// again with that one.
async fn start_chain(
    client: &VmClient,
    params: &mut ChainParams,
    fallback: Option<ConfigFallback<'_>>,
) -> Result<ChainStart, HostError> {
    match (client.start_chain(params).await, fallback) {
        (Err(error), Some(fallback)) => {
            let Some(config) = fallback(&error) else {
                return Err(error);
            };
            params.config_bytes = config;
            client.start_chain(params).await
        }
        (started, _) => started,
    }
}
