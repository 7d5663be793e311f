//! The processes the node starts when it registers a VM, before any chain (node-behaviour.md
//! section 4): the version probe (`Version`, then `Shutdown` without Initialize) and, at profiles
//! up to 30, a long-lived second process whose `CreateStaticHandlers` handlers the node mounts at
//! `/ext/vm/<vmID><prefix>` ([`StaticHandlerProcess`]).

use super::chain_start::valid_handlers;
use super::checks::handler_layout;
use super::process::DEFAULT_GRACE;
use super::{HostError, LaunchOptions, PluginProcess, VmClient};
use rpcchainvm::pb::vm as pb;
use std::process::ExitStatus;

impl VmClient {
    /// The registration-time sequence: `Version`, then `Shutdown` without Initialize. A Shutdown
    /// error is only logged, as the node does.
    pub async fn version_probe(&self) -> Result<String, HostError> {
        let version = self.version().await?.version;
        if let Err(error) = self.shutdown().await {
            tracing::warn!(%error, "Shutdown after Version failed");
        }
        Ok(version)
    }

    /// `CreateStaticHandlers` on a process that was never initialized, its handlers read in the
    /// profile's layout; invalid prefixes are dropped (logged), as the node drops them.
    pub async fn static_handlers(&self) -> Result<Vec<pb::Handler>, HostError> {
        let handlers = self.create_static_handlers().await?.handlers;
        handler_layout("vm.VM/CreateStaticHandlers", self.profile(), &handlers)?;
        Ok(valid_handlers(handlers))
    }
}

/// The static-handler process of profiles up to 30: started at VM registration, asked once for
/// its handlers, never initialized and never sent `Shutdown`; it lives until the node exits,
/// which stops it with SIGTERM (SIGKILL after 5 s).
#[derive(Debug)]
pub struct StaticHandlerProcess {
    process: PluginProcess,
    handlers: Vec<pb::Handler>,
}

impl StaticHandlerProcess {
    /// Launches the process for `options.profile` and asks for its handlers; `Ok(None)` when the
    /// profile has no such process (31+). If `CreateStaticHandlers` fails the node calls
    /// `Shutdown`, stops the process, and the VM's registration fails: so does this.
    pub async fn launch(options: LaunchOptions) -> Result<Option<StaticHandlerProcess>, HostError> {
        if !options.profile.serves_static_handlers() {
            return Ok(None);
        }
        let process = PluginProcess::launch(options).await?;
        let client = process.vm_client().await?;
        Self::register(process, &client).await.map(Some)
    }

    /// The second half of [`StaticHandlerProcess::launch`], for a caller that launched and
    /// dialled the process itself (to check it first): asks `process` for its handlers.
    pub async fn register(
        process: PluginProcess,
        client: &VmClient,
    ) -> Result<StaticHandlerProcess, HostError> {
        match client.static_handlers().await {
            Ok(handlers) => Ok(StaticHandlerProcess { process, handlers }),
            Err(error) => {
                if let Err(stop_error) = process.stop(client, DEFAULT_GRACE).await {
                    tracing::warn!(%stop_error, "could not stop the static-handler process");
                }
                Err(error)
            }
        }
    }

    /// The handlers to mount under `/ext/vm/<vmID>`.
    pub fn handlers(&self) -> &[pb::Handler] {
        &self.handlers
    }

    /// `(prefix, server_addr)` pairs, as [`super::gateway::Gateway::register_vm`] takes them.
    pub fn routes(&self) -> Vec<(String, String)> {
        self.handlers
            .iter()
            .map(|h| (h.prefix.clone(), h.server_addr.clone()))
            .collect()
    }

    pub fn process(&self) -> &PluginProcess {
        &self.process
    }

    /// The node's exit: SIGTERM without Shutdown, SIGKILL after 5 s.
    pub async fn stop(self) -> Result<ExitStatus, HostError> {
        self.process.terminate(DEFAULT_GRACE).await
    }
}
