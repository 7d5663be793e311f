//! The node-facing gRPC services over any [`Vm`]: `vm.VM` ([`VmService`]) and the `http.HTTP`
//! servers of its handlers ([`http`]). The [`crate::protocol::Profile`] chosen at start decides
//! every layout and which RPCs exist; the VM never sees a protobuf message.

mod convert;
mod handlers;
pub(crate) mod http;
mod vm_rpc;

use crate::block::BlockInfo;
use crate::http::SharedHandler;
use crate::ids::Id;
use crate::node_client::NodeClients;
use crate::observe::{observed, Observed, SharedObserver};
use crate::pb::vm;
use crate::protocol::Profile;
use crate::shutdown::Shutdown;
use crate::tasks::TaskTracker;
use crate::transport;
use crate::vm::{EngineState, InitParams};
use crate::vm::{Vm, VmError};
use handlers::HandlerServers;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tonic::Status;

/// What the signal policy reads (node-behaviour.md section 10), plus the process's stop signal,
/// the root of the shutdown tree.
#[derive(Debug, Default)]
pub(crate) struct Lifecycle {
    initialized: AtomicBool,
    shutdown_called: AtomicBool,
    pub(crate) stop: Shutdown,
}

impl Lifecycle {
    pub(crate) fn was_initialized(&self) -> bool {
        self.initialized.load(Ordering::SeqCst)
    }
    pub(crate) fn shutdown_called(&self) -> bool {
        self.shutdown_called.load(Ordering::SeqCst)
    }
}

/// The `vm.VM` service over `V`. Cheap to clone; clones share one state.
pub(crate) struct VmService<V: Vm> {
    inner: Arc<Inner<V>>,
}

impl<V: Vm> Clone for VmService<V> {
    fn clone(&self) -> Self {
        VmService {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<V> {
    vm: V,
    profile: Profile,
    lifecycle: Arc<Lifecycle>,
    /// True between a successful Initialize and Shutdown.
    running: AtomicBool,
    /// Serializes Initialize and Shutdown against each other.
    transition: tokio::sync::Mutex<()>,
    /// The chain's handler servers, stopped at Shutdown.
    chain_servers: HandlerServers,
    /// The static handler servers of profiles 28-30, on a process that is never initialized;
    /// they live until the process stops.
    static_servers: HandlerServers,
}

impl<V: Vm> VmService<V> {
    pub(crate) fn new(
        vm: V,
        profile: Profile,
        lifecycle: Arc<Lifecycle>,
        observer: SharedObserver,
        tasks: TaskTracker,
    ) -> VmService<V> {
        let root = lifecycle.stop.clone();
        VmService {
            inner: Arc::new(Inner {
                vm,
                profile,
                running: AtomicBool::new(false),
                transition: tokio::sync::Mutex::new(()),
                chain_servers: HandlerServers::new(
                    profile,
                    observer.clone(),
                    tasks.clone(),
                    root.child(),
                ),
                static_servers: HandlerServers::new(profile, observer, tasks, root),
                lifecycle,
            }),
        }
    }

    /// The tonic server for this service, observed: replies as large as they come (the node reads
    /// them without a limit), requests within [`transport::MAX_DECODING_MESSAGE_BYTES`].
    pub(crate) fn into_server(
        self,
        observer: SharedObserver,
    ) -> Observed<vm::vm_server::VmServer<VmService<V>>> {
        let server = vm::vm_server::VmServer::new(self)
            .max_decoding_message_size(transport::MAX_DECODING_MESSAGE_BYTES)
            .max_encoding_message_size(usize::MAX);
        observed(server, observer)
    }

    fn vm(&self) -> &V {
        &self.inner.vm
    }

    fn profile(&self) -> Profile {
        self.inner.profile
    }

    /// Refuses an RPC that the node of our profile does not have: a node calling it speaks
    /// another protocol than the one we announced, which should show, not be papered over.
    fn only_if(&self, exists: bool, rpc: &str) -> Result<(), Status> {
        match exists {
            true => Ok(()),
            false => Err(Status::unimplemented(format!(
                "{rpc} does not exist at {}",
                self.profile()
            ))),
        }
    }

    /// Starts the chain; a refused Initialize leaves nothing behind.
    async fn initialize(&self, params: crate::vm::InitParams) -> Result<BlockInfo, Status> {
        let _guard = self.inner.transition.lock().await;
        if self.inner.running.load(Ordering::SeqCst) {
            return Err(VmError::AlreadyInitialized.into_status());
        }
        let last = self
            .vm()
            .initialize(params)
            .await
            .map_err(VmError::into_status)?;
        self.inner.running.store(true, Ordering::SeqCst);
        self.inner
            .lifecycle
            .initialized
            .store(true, Ordering::SeqCst);
        Ok(last)
    }

    /// Stops the chain's servers and the chain (if any), then asks the process to stop. Succeeds
    /// without Initialize: the node's registration-time process calls it that way.
    async fn shutdown(&self) {
        let _guard = self.inner.transition.lock().await;
        self.inner
            .lifecycle
            .shutdown_called
            .store(true, Ordering::SeqCst);
        self.inner.chain_servers.stop();
        self.vm().shutdown().await;
        self.inner.running.store(false, Ordering::SeqCst);
        self.inner.lifecycle.stop.trigger();
    }
}

impl<V: Vm> VmService<V> {
    /// The node's Initialize in SDK types; IDs the chain cannot run without are checked here.
    pub(super) fn init_params(&self, request: vm::InitializeRequest) -> Result<InitParams, Status> {
        let profile = self.profile();
        let node = NodeClients::connect_lazy(&request.server_addr, profile)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        Ok(InitParams {
            profile,
            network_id: request.network_id,
            subnet_id: Id::from_slice(&request.subnet_id),
            chain_id: convert::id(&request.chain_id, "chain id")?,
            node_id: convert::node_id(&request.node_id)?,
            x_chain_id: Id::from_slice(&request.x_chain_id),
            c_chain_id: Id::from_slice(&request.c_chain_id),
            avax_asset_id: Id::from_slice(&request.avax_asset_id),
            db_server_addr: request.db_server_addr(profile.db_server_layout()),
            public_key: request.public_key,
            chain_data_dir: PathBuf::from(request.chain_data_dir),
            genesis_bytes: request.genesis_bytes,
            upgrade_bytes: request.upgrade_bytes,
            config_bytes: request.config_bytes,
            node,
        })
    }

    /// The status the node is told for a block, where its profile requires one (up to 35).
    pub(super) fn status_if_sent(&self, block: &BlockInfo) -> vm::Status {
        match self.profile().sends_block_status() {
            true => convert::status(block.status),
            false => vm::Status::Unspecified,
        }
    }

    pub(super) async fn parse_one(&self, bytes: &[u8]) -> Result<vm::ParseBlockResponse, Status> {
        let block = self.vm().parse_block(bytes).await.map_err(failed)?;
        let status = match self.profile().sends_block_status() {
            true => convert::status(
                self.vm()
                    .parsed_block_status(&block)
                    .await
                    .map_err(failed)?,
            ),
            false => vm::Status::Unspecified,
        };
        Ok(convert::parse_response(&block, status))
    }

    /// The `vm.Handler` list for `handlers`, each served by its handler's server.
    pub(super) async fn handler_list(
        &self,
        handlers: Vec<(String, SharedHandler)>,
        servers: &HandlerServers,
        what: &str,
    ) -> Result<Vec<vm::Handler>, Status> {
        let layout = self.profile().handler_layout();
        let mut list = Vec::with_capacity(handlers.len());
        for (prefix, handler) in handlers {
            let addr = servers
                .addr_of(&handler)
                .await
                .map_err(|e| Status::internal(format!("starting the {what}: {e}")))?;
            list.push(vm::Handler::new(layout, &prefix, &addr.to_string()));
        }
        Ok(list)
    }

    /// The header-routed handler's server address (`""` when the VM has none).
    pub(super) async fn http_handler_addr(&self) -> Result<String, Status> {
        match self.vm().http_handler().await.map_err(failed)? {
            None => Ok(String::new()),
            Some(handler) => {
                let addr = self
                    .inner
                    .chain_servers
                    .addr_of(&handler)
                    .await
                    .map_err(|e| Status::internal(format!("starting the HTTP server: {e}")))?;
                Ok(addr.to_string())
            }
        }
    }
}

pub(super) fn engine_state(state: i32) -> EngineState {
    match vm::State::try_from(state) {
        Ok(vm::State::StateSyncing) => EngineState::StateSyncing,
        Ok(vm::State::Bootstrapping) => EngineState::Bootstrapping,
        Ok(vm::State::NormalOp) => EngineState::NormalOp,
        _ => EngineState::Other(state),
    }
}

fn failed(e: VmError) -> Status {
    e.into_status()
}
