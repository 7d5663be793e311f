//! [`HostError`]: what can fail on the node's side of the protocol, one variant per step, so a
//! test or an operator can tell a refused handshake from a dead process from a bad answer.

use rpcchainvm::protocol::Profile;
use std::borrow::Cow;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Everything that can go wrong on the node's side of the protocol. Each variant says which step
/// failed and carries what a test or an operator needs to tell the cases apart.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The node could not open one of its own loopback servers.
    #[error("cannot bind a loopback port for the {what}: {source}")]
    Bind {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The plugin binary could not be started at all (missing, not executable, …).
    #[error("cannot start plugin {}: {source}", binary.display())]
    Spawn {
        binary: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The plugin never called `Runtime.Initialize`; it has been stopped.
    #[error(
        "handshake failed: vm process not found: {} did not call Runtime.Initialize within {timeout:?}; the process was stopped",
        binary.display()
    )]
    HandshakeTimeout { binary: PathBuf, timeout: Duration },
    /// The plugin exited before it called `Runtime.Initialize`.
    #[error("plugin {} exited ({status}) before the handshake", binary.display())]
    ExitedBeforeHandshake { binary: PathBuf, status: ExitStatus },
    /// The plugin announced another protocol number; `message` is the text it was sent.
    #[error("handshake refused: {message}")]
    ProtocolMismatch {
        expected: u32,
        got: u32,
        message: String,
    },
    /// Dialing a plugin's gRPC server failed.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: tonic::transport::Error,
    },
    /// A call returned a gRPC error status.
    #[error("{method} failed: {code:?}: {message}", code = .status.code(), message = .status.message())]
    Rpc {
        method: Cow<'static, str>,
        status: Box<tonic::Status>,
    },
    /// The plugin's answers and the host's parameters disagree on the profile (e.g. a client
    /// dialed for one node used to start a chain with another's parameters).
    #[error("the chain parameters are for {params} but the client speaks {client}")]
    ProfileConflict { client: Profile, params: Profile },
    /// A call succeeded but its answer breaks the wire contract (wrong ID length, no timestamp, …).
    #[error("{method} returned an invalid response: {reason}")]
    InvalidResponse {
        method: &'static str,
        reason: String,
    },
    /// The chain's data directory could not be created.
    #[error("cannot create the chain data directory {}: {source}", path.display())]
    ChainDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Signalling or reaping the plugin process failed.
    #[error("plugin process {pid}: {reason}")]
    Process { pid: u32, reason: String },
}

impl HostError {
    /// Wraps a gRPC status from `method` (e.g. `"vm.VM/BuildBlock"`).
    pub fn rpc(method: impl Into<Cow<'static, str>>, status: tonic::Status) -> HostError {
        HostError::Rpc {
            method: method.into(),
            status: Box::new(status),
        }
    }

    /// The gRPC status, when the error is one.
    pub fn status(&self) -> Option<&tonic::Status> {
        match self {
            HostError::Rpc { status, .. } => Some(status),
            _ => None,
        }
    }
}
