//! The node-facing gRPC services over any [`Vm`]: `vm.VM` ([`VmService`]) and the `http.HTTP`
//! servers of its handlers ([`http`]). The [`crate::protocol::Profile`] chosen at start decides
//! every layout and which RPCs exist; the VM never sees a protobuf message.

mod convert;
mod handlers;
pub(crate) mod http;
mod vm_rpc;

use crate::block::BlockInfo;
use crate::observe::{observed, Observed, SharedObserver};
use crate::pb::vm;
use crate::protocol::Profile;
use crate::shutdown::Shutdown;
use crate::tasks::TaskTracker;
use crate::transport;
use crate::vm::{Vm, VmError};
use handlers::HandlerServers;
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

fn failed(e: VmError) -> Status {
    e.into_status()
}
