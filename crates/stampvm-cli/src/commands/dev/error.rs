//! [`DevError`]: why `stampvm dev` (or the bench's node) stopped, with a hint where the fix is the
//! operator's (the HTTP port).

use rpcchainvm_host::engine::EngineFailure;
use rpcchainvm_host::gateway::GatewayError;
use rpcchainvm_host::node::NodeError;
use rpcchainvm_host::HostError;
use stampvm::dir_lock::DirLockError;
use std::net::SocketAddr;
use std::process::ExitStatus;

#[derive(Debug, thiserror::Error)]
pub(crate) enum DevError {
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

impl From<NodeError> for DevError {
    fn from(error: NodeError) -> DevError {
        match error {
            NodeError::Services(source) | NodeError::Database(source) => DevError::Services(source),
            NodeError::Gateway { addr, source } => DevError::Http { addr, source },
            NodeError::Mount(error) => DevError::Mount(error),
            NodeError::Host(error) => DevError::Host(error),
        }
    }
}
