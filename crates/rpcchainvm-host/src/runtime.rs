//! The node's `vm.runtime.Runtime` server: the engine address a plugin dials to announce itself
//! (docs/spec/node-behaviour.md section 2). It is bound before the plugin starts, judges the one
//! `Initialize` call like AvalancheGo does (exact protocol match, decided once per process), hands
//! the outcome to the launcher, and is stopped once the launcher has it.

use rpcchainvm::pb::vm::runtime::{runtime_server, InitializeRequest};
use rpcchainvm::protocol::HostFlavour;
use rpcchainvm::transport;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::{Request, Response, Status};

/// What a plugin announced at the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// The RPCChainVM protocol number it speaks.
    pub protocol_version: u32,
    /// Its `vm.VM` server, `host:port`.
    pub vm_addr: String,
}

/// How the node judged the handshake; delivered to the launcher exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeOutcome {
    Accepted(Announcement),
    /// The numbers differ; `message` is the status text the plugin received.
    Refused {
        announcement: Announcement,
        message: String,
    },
}

/// What the runtime server needs to judge a handshake and word a refusal.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// The node's own `RPCChainVMProtocol`; only this exact number is accepted.
    pub expected_protocol: u32,
    /// Which node we play; it names itself differently in the mismatch text.
    pub flavour: HostFlavour,
    /// The node version in the mismatch text, e.g. `v1.14.2`.
    pub node_version: String,
    /// The plugin's path, as the mismatch text shows it.
    pub plugin_path: String,
}

/// AvalancheGo's (or luxd's) refusal text for a protocol mismatch, as the plugin receives it in the
/// status message (node-behaviour.md section 2). Plugins parse the node's number out of it.
pub fn mismatch_message(
    flavour: HostFlavour,
    node_version: &str,
    expected: u32,
    plugin_path: &str,
    got: u32,
) -> String {
    let node = match flavour {
        HostFlavour::AvalancheGo => "AvalancheGo",
        HostFlavour::Luxd => "Lux Node",
    };
    format!(
        "RPCChainVM protocol version mismatch between {node} and Virtual Machine plugin. \
         {node} version {node_version} implements RPCChainVM protocol version {expected}. \
         The VM located at {plugin_path} implements RPCChainVM protocol version {got}. \
         Please make sure that there is an exact match of the protocol versions. \
         This can be achieved by updating your VM or running an older/newer version of {node}. \
         Please be advised that some virtual machines may not yet support the latest RPCChainVM \
         protocol version"
    )
}

/// The `Runtime` service. The verdict is computed once (the node's `sync.Once`): later calls get
/// the same answer, and only the first one reaches the launcher.
pub struct RuntimeService {
    config: RuntimeConfig,
    verdict: OnceLock<Result<(), String>>,
    report: Mutex<Option<oneshot::Sender<HandshakeOutcome>>>,
}

impl RuntimeService {
    /// A service that reports the first handshake on the returned receiver.
    pub fn new(config: RuntimeConfig) -> (RuntimeService, oneshot::Receiver<HandshakeOutcome>) {
        let (sender, receiver) = oneshot::channel();
        let service = RuntimeService {
            config,
            verdict: OnceLock::new(),
            report: Mutex::new(Some(sender)),
        };
        (service, receiver)
    }

    /// Judges one announcement; the gRPC method is a thin wrapper around this.
    pub fn judge(&self, protocol_version: u32, vm_addr: String) -> Result<(), String> {
        self.verdict
            .get_or_init(|| {
                let announcement = Announcement {
                    protocol_version,
                    vm_addr,
                };
                let (verdict, outcome) = if protocol_version == self.config.expected_protocol {
                    (Ok(()), HandshakeOutcome::Accepted(announcement))
                } else {
                    let message = mismatch_message(
                        self.config.flavour,
                        &self.config.node_version,
                        self.config.expected_protocol,
                        &self.config.plugin_path,
                        protocol_version,
                    );
                    let outcome = HandshakeOutcome::Refused {
                        announcement,
                        message: message.clone(),
                    };
                    (Err(message), outcome)
                };
                let sender = self
                    .report
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                if let Some(sender) = sender {
                    // The launcher may have given up already (timeout); nothing to do then.
                    let _ = sender.send(outcome);
                }
                verdict
            })
            .clone()
    }
}

#[tonic::async_trait]
impl runtime_server::Runtime for RuntimeService {
    async fn initialize(
        &self,
        request: Request<InitializeRequest>,
    ) -> Result<Response<()>, Status> {
        let request = request.into_inner();
        tracing::debug!(
            protocol = request.protocol_version,
            addr = %request.addr,
            "Runtime.Initialize"
        );
        // Go returns a plain error, which gRPC sends as code Unknown with the error text.
        self.judge(request.protocol_version, request.addr)
            .map(Response::new)
            .map_err(Status::unknown)
    }
}

/// A running runtime server. Dropping it (or calling [`RuntimeEndpoint::stop`]) stops serving
/// after in-flight calls finish, like the node's `GracefulStop` once the handshake is over.
pub struct RuntimeEndpoint {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RuntimeEndpoint {
    /// Binds loopback and starts serving; returns the endpoint and where the outcome will arrive.
    pub async fn start(
        config: RuntimeConfig,
    ) -> std::io::Result<(RuntimeEndpoint, oneshot::Receiver<HandshakeOutcome>)> {
        let (listener, addr) = transport::bind_loopback().await?;
        let (service, outcome) = RuntimeService::new(config);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = runtime_server::RuntimeServer::new(service)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        let task = tokio::spawn(async move {
            let result = tonic::transport::Server::builder()
                .add_service(server)
                .serve_with_incoming_shutdown(transport::incoming(listener), async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = result {
                tracing::warn!(%error, "runtime server failed");
            }
        });
        let endpoint = RuntimeEndpoint {
            addr,
            stop: Some(stop),
            task: Some(task),
        };
        Ok((endpoint, outcome))
    }

    /// The engine address to hand to the plugin.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving and waits (up to 5 s, then aborts) until the server is down.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for RuntimeEndpoint {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rpcchainvm::pb::vm::runtime::runtime_client::RuntimeClient;

    fn config() -> RuntimeConfig {
        RuntimeConfig {
            expected_protocol: 45,
            flavour: HostFlavour::AvalancheGo,
            node_version: "v1.14.2".into(),
            plugin_path: "/plugins/vm".into(),
        }
    }

    // The refusal must read exactly like AvalancheGo's, or plugins cannot parse the node's number.
    #[test]
    fn mismatch_text_is_avalanchegos() {
        let text = mismatch_message(HostFlavour::AvalancheGo, "v1.14.2", 45, "/plugins/vm", 44);
        assert_eq!(
            text,
            "RPCChainVM protocol version mismatch between AvalancheGo and Virtual Machine plugin. \
             AvalancheGo version v1.14.2 implements RPCChainVM protocol version 45. The VM located at \
             /plugins/vm implements RPCChainVM protocol version 44. Please make sure that there is an \
             exact match of the protocol versions. This can be achieved by updating your VM or running \
             an older/newer version of AvalancheGo. Please be advised that some virtual machines may not \
             yet support the latest RPCChainVM protocol version"
        );
        let lux = mismatch_message(HostFlavour::Luxd, "v1.13.4", 43, "/p", 45);
        assert!(lux.starts_with(
            "RPCChainVM protocol version mismatch between Lux Node and Virtual Machine plugin. \
             Lux Node version v1.13.4 implements RPCChainVM protocol version 43."
        ));
    }

    // sync.Once: the first verdict sticks, even if a second call would have matched.
    #[test]
    fn verdict_is_decided_once() {
        let (service, mut outcome) = RuntimeService::new(config());
        let first = service.judge(44, "127.0.0.1:1".into());
        assert!(first.is_err());
        assert_eq!(service.judge(45, "127.0.0.1:2".into()), first);
        match outcome.try_recv().unwrap() {
            HandshakeOutcome::Refused { announcement, .. } => {
                assert_eq!(announcement.protocol_version, 44);
                assert_eq!(announcement.vm_addr, "127.0.0.1:1");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn grpc_handshake_accepts_and_refuses() {
        let (endpoint, outcome) = RuntimeEndpoint::start(config()).await.unwrap();
        let channel = transport::connect(&endpoint.addr().to_string())
            .await
            .unwrap();
        let mut client = RuntimeClient::new(channel);
        let request = InitializeRequest {
            protocol_version: 45,
            addr: "127.0.0.1:9".into(),
        };
        client.initialize(request.clone()).await.unwrap();
        assert_eq!(
            outcome.await.unwrap(),
            HandshakeOutcome::Accepted(Announcement {
                protocol_version: 45,
                vm_addr: "127.0.0.1:9".into()
            })
        );

        let (endpoint2, _outcome) = RuntimeEndpoint::start(config()).await.unwrap();
        let channel = transport::connect(&endpoint2.addr().to_string())
            .await
            .unwrap();
        let status = RuntimeClient::new(channel)
            .initialize(InitializeRequest {
                protocol_version: 44,
                ..request
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unknown);
        assert!(status
            .message()
            .contains("implements RPCChainVM protocol version 45"));
        endpoint.stop().await;
        endpoint2.stop().await;
    }
}
