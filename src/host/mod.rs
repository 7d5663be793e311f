//! The node's side of the rpcchainvm protocol, in Rust: what AvalancheGo (or luxd) does to launch,
//! handshake with, drive and stop a VM plugin (shared/spec/node-behaviour.md). `stampvm dev`, the
//! integration tests and the benches use it; it talks only the wire contract, so it drives any
//! rpcchainvm plugin binary, not only ours.
//!
//! # Layout
//! - [`runtime`]: the `vm.runtime.Runtime` server at the engine address; judges the handshake.
//! - [`process`]: launches a plugin (empty environment, piped logs, parent-death signal), waits for
//!   the handshake, and stops it the node's way (SIGTERM, then SIGKILL after a grace period).
//! - [`vm_client`]: a typed `vm.VM` client; `start_chain` issues the node's chain-start sequence.
//! - [`node_services`]: the node's `server_addr` (AppSender + Messenger) and a [`Network`] that
//!   relays app messages between several hosts.
//! - [`engine`]: a one-validator consensus loop: wait for an event, build, verify, accept.
//! - [`gateway`]: the node's HTTP API server for chains (`/ext/bc/<chainID>…`).
//!
//! A typical host: [`NodeServices::serve`] → [`PluginProcess::launch`] →
//! [`PluginProcess::vm_client`] → [`Network::register`] → [`VmClient::start_chain`] →
//! [`SoloEngine::spawn`]; to stop: `vm.VM/Shutdown`, trigger the shutdown signal, then
//! [`PluginProcess::terminate`] (see [`PluginProcess::stop`]).

pub mod engine;
pub mod gateway;
pub mod http_callbacks;
pub mod node_services;
pub mod process;
pub mod runtime;
pub mod vm_client;

pub use engine::{AcceptedTip, EngineHandle, EngineMode, SoloEngine};
pub use node_services::{Network, NodeCounters, NodeServices, NodeServicesHandle};
pub use process::{LaunchOptions, PluginProcess};
pub use runtime::{Announcement, HandshakeOutcome, RuntimeConfig, RuntimeEndpoint};
pub use vm_client::{BlockSummary, ChainParams, ChainStart, ClientVersion, VmClient};

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
        method: &'static str,
        status: Box<tonic::Status>,
    },
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
    pub fn rpc(method: &'static str, status: tonic::Status) -> HostError {
        HostError::Rpc {
            method,
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

/// The host end to end against an in-process fake plugin that records what it is asked.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::id::{Id, NodeId};
    use crate::rpc::pb::vm::{self as pb, vm_server};
    use crate::rpc::pb::{appsender, messenger};
    use crate::rpc::transport;
    use crate::shutdown::Shutdown;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tonic::{Request, Response, Status};

    #[derive(Default)]
    struct FakeState {
        calls: Vec<String>,
        tip: (Id, u64),
        heights: HashMap<Id, u64>,
        pending: u32,
        gossip: Vec<(Vec<u8>, Vec<u8>)>,
    }

    /// A plugin that records its calls and builds 40-byte blocks (parent id, height) on demand.
    #[derive(Clone, Default)]
    struct FakeVm(Arc<Mutex<FakeState>>);

    type Answer<T> = Result<T, Status>;

    /// Implements `vm.VM`: `rpc(Req) -> Resp => handler` methods call `self.handler(request)`;
    /// the rest answer `Unimplemented`.
    macro_rules! fake_vm {
        ($($name:ident($req:ty) -> $resp:ty => $handler:ident;)* | $($none:ident($nreq:ty) -> $nresp:ty;)*) => {
            #[tonic::async_trait]
            impl vm_server::Vm for FakeVm {
                $(async fn $name(&self, r: Request<$req>) -> Answer<Response<$resp>> {
                    self.$handler(r.into_inner()).await.map(Response::new)
                })*
                $(async fn $none(&self, _: Request<$nreq>) -> Answer<Response<$nresp>> {
                    Err(Status::unimplemented(stringify!($none)))
                })*
            }
        };
    }

    fake_vm! {
        initialize(pb::InitializeRequest) -> pb::InitializeResponse => on_initialize;
        set_state(pb::SetStateRequest) -> pb::SetStateResponse => on_set_state;
        shutdown(()) -> () => on_shutdown;
        create_handlers(()) -> pb::CreateHandlersResponse => on_create_handlers;
        new_http_handler(()) -> pb::NewHttpHandlerResponse => on_new_http_handler;
        state_sync_enabled(()) -> pb::StateSyncEnabledResponse => on_state_sync_enabled;
        connected(pb::ConnectedRequest) -> () => on_connected;
        set_preference(pb::SetPreferenceRequest) -> () => on_set_preference;
        version(()) -> pb::VersionResponse => on_version;
        wait_for_event(()) -> pb::WaitForEventResponse => on_wait_for_event;
        build_block(pb::BuildBlockRequest) -> pb::BuildBlockResponse => on_build_block;
        block_verify(pb::BlockVerifyRequest) -> pb::BlockVerifyResponse => on_block_verify;
        block_accept(pb::BlockAcceptRequest) -> () => on_block_accept;
        app_gossip(pb::AppGossipMsg) -> () => on_app_gossip;
        |
        disconnected(pb::DisconnectedRequest) -> ();
        parse_block(pb::ParseBlockRequest) -> pb::ParseBlockResponse;
        get_block(pb::GetBlockRequest) -> pb::GetBlockResponse;
        health(()) -> pb::HealthResponse;
        app_request(pb::AppRequestMsg) -> ();
        app_request_failed(pb::AppRequestFailedMsg) -> ();
        app_response(pb::AppResponseMsg) -> ();
        gather(()) -> pb::GatherResponse;
        get_ancestors(pb::GetAncestorsRequest) -> pb::GetAncestorsResponse;
        batched_parse_block(pb::BatchedParseBlockRequest) -> pb::BatchedParseBlockResponse;
        get_block_id_at_height(pb::GetBlockIdAtHeightRequest) -> pb::GetBlockIdAtHeightResponse;
        get_ongoing_sync_state_summary(()) -> pb::GetOngoingSyncStateSummaryResponse;
        get_last_state_summary(()) -> pb::GetLastStateSummaryResponse;
        parse_state_summary(pb::ParseStateSummaryRequest) -> pb::ParseStateSummaryResponse;
        get_state_summary(pb::GetStateSummaryRequest) -> pb::GetStateSummaryResponse;
        block_reject(pb::BlockRejectRequest) -> ();
        state_summary_accept(pb::StateSummaryAcceptRequest) -> pb::StateSummaryAcceptResponse;
    }

    impl FakeVm {
        fn record(&self, call: impl Into<String>) -> Answer<()> {
            self.0.lock().unwrap().calls.push(call.into());
            Ok(())
        }
        fn tip(&self) -> pb::SetStateResponse {
            let tip = self.0.lock().unwrap().tip;
            pb::SetStateResponse {
                last_accepted_id: tip.0 .0.to_vec(),
                last_accepted_parent_id: vec![0; 32],
                height: tip.1,
                bytes: vec![],
                timestamp: Some(Default::default()),
            }
        }
        async fn on_initialize(&self, _: pb::InitializeRequest) -> Answer<pb::InitializeResponse> {
            self.record("Initialize")?;
            let tip = self.tip();
            Ok(pb::InitializeResponse {
                last_accepted_id: tip.last_accepted_id,
                last_accepted_parent_id: tip.last_accepted_parent_id,
                height: tip.height,
                bytes: tip.bytes,
                timestamp: tip.timestamp,
            })
        }
        async fn on_set_state(&self, r: pb::SetStateRequest) -> Answer<pb::SetStateResponse> {
            self.record(format!("SetState({})", r.state))?;
            Ok(self.tip())
        }
        async fn on_shutdown(&self, _: ()) -> Answer<()> {
            self.record("Shutdown")
        }
        async fn on_create_handlers(&self, _: ()) -> Answer<pb::CreateHandlersResponse> {
            self.record("CreateHandlers")?;
            let handler = |prefix: &str| pb::Handler {
                prefix: prefix.into(),
                server_addr: "127.0.0.1:1".into(),
            };
            let handlers = vec![handler(""), handler("bad")];
            Ok(pb::CreateHandlersResponse { handlers })
        }
        async fn on_new_http_handler(&self, _: ()) -> Answer<pb::NewHttpHandlerResponse> {
            self.record("NewHTTPHandler")?;
            Ok(Default::default())
        }
        async fn on_state_sync_enabled(&self, _: ()) -> Answer<pb::StateSyncEnabledResponse> {
            self.record("StateSyncEnabled")?;
            Ok(Default::default())
        }
        async fn on_connected(&self, r: pb::ConnectedRequest) -> Answer<()> {
            self.record(format!("Connected({})", r.name))
        }
        async fn on_set_preference(&self, _: pb::SetPreferenceRequest) -> Answer<()> {
            self.record("SetPreference")
        }
        async fn on_version(&self, _: ()) -> Answer<pb::VersionResponse> {
            self.record("Version")?;
            Ok(pb::VersionResponse {
                version: "fake/1.0".into(),
            })
        }
        async fn on_wait_for_event(&self, _: ()) -> Answer<pb::WaitForEventResponse> {
            while self.0.lock().unwrap().pending == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let message = pb::Message::BuildBlock.into();
            Ok(pb::WaitForEventResponse { message })
        }
        async fn on_build_block(&self, _: pb::BuildBlockRequest) -> Answer<pb::BuildBlockResponse> {
            let mut state = self.0.lock().unwrap();
            if state.pending == 0 {
                return Err(Status::unknown("nothing to build"));
            }
            state.pending -= 1;
            let (parent, height) = (state.tip.0, state.tip.1 + 1);
            let bytes = [&parent.0[..], &height.to_be_bytes()].concat();
            let id = Id::sha256(&bytes);
            state.heights.insert(id, height);
            Ok(pb::BuildBlockResponse {
                id: id.0.to_vec(),
                parent_id: parent.0.to_vec(),
                bytes,
                height,
                timestamp: Some(Default::default()),
                verify_with_context: false,
            })
        }
        async fn on_block_verify(
            &self,
            r: pb::BlockVerifyRequest,
        ) -> Answer<pb::BlockVerifyResponse> {
            if r.bytes.len() != 40 {
                return Err(Status::unknown("bad block"));
            }
            let timestamp = Some(Default::default());
            Ok(pb::BlockVerifyResponse { timestamp })
        }
        async fn on_block_accept(&self, r: pb::BlockAcceptRequest) -> Answer<()> {
            let id = Id::from_slice(&r.id).ok_or_else(|| Status::unknown("id"))?;
            let mut state = self.0.lock().unwrap();
            let height = *state
                .heights
                .get(&id)
                .ok_or_else(|| Status::unknown("id"))?;
            state.tip = (id, height);
            Ok(())
        }
        async fn on_app_gossip(&self, r: pb::AppGossipMsg) -> Answer<()> {
            self.0.lock().unwrap().gossip.push((r.node_id, r.msg));
            Ok(())
        }
    }

    /// Serves a fresh fake plugin; returns it and a connected client.
    async fn fake_plugin(shutdown: &Shutdown) -> (FakeVm, VmClient) {
        let fake = FakeVm::default();
        let (listener, addr) = transport::bind_loopback().await.unwrap();
        let server = vm_server::VmServer::new(fake.clone());
        let stop = shutdown.clone();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(server)
                .serve_with_incoming_shutdown(transport::incoming(listener), async move {
                    stop.wait().await
                }),
        );
        let client = VmClient::connect(&addr.to_string()).await.unwrap();
        (fake, client)
    }

    fn params(dir: &std::path::Path, node: NodeId, server: std::net::SocketAddr) -> ChainParams {
        ChainParams::new(
            node,
            dir.join("chain"),
            b"genesis".to_vec(),
            server.to_string(),
        )
    }

    // The chain-start calls must come in AvalancheGo's order (node-behaviour.md section 5), and a
    // handler with an invalid prefix must be dropped as the node drops it.
    #[tokio::test]
    async fn start_chain_calls_in_the_node_order_then_builds_blocks() {
        let shutdown = Shutdown::new();
        let dir = tempfile::tempdir().unwrap();
        let (fake, client) = fake_plugin(&shutdown).await;
        let node = NodeId([7; 20]);
        let (addr, _services) = NodeServices::serve(node, Network::new(), shutdown.clone())
            .await
            .unwrap();
        let start = client
            .start_chain(&params(dir.path(), node, addr))
            .await
            .unwrap();
        assert_eq!(
            fake.0.lock().unwrap().calls,
            [
                "Initialize",
                "CreateHandlers",
                "NewHTTPHandler",
                "StateSyncEnabled",
                "SetState(2)",
                "Connected(avalanchego)",
                "SetPreference",
                "SetState(3)"
            ]
        );
        assert!(dir.path().join("chain").is_dir());
        assert_eq!(start.handlers.len(), 1);
        assert_eq!(start.http_handler_addr, None);

        fake.0.lock().unwrap().pending = 3;
        let engine = SoloEngine::new(
            client.clone(),
            EngineMode::WaitForEvent,
            &start.last_accepted,
        )
        .spawn(shutdown.clone());
        let tip = engine.wait_for_height(3, Duration::from_secs(5)).await;
        assert_eq!(tip.map(|t| t.accepted), Some(3));
        assert_eq!(fake.0.lock().unwrap().tip.1, 3);
        assert_eq!(client.version_probe().await.unwrap(), "fake/1.0");
        shutdown.trigger();
        engine.join().await;
    }

    // Gossip from node A reaches B's plugin tagged with A's ID; A's own plugin gets nothing.
    // Notify fills the one slot; a second Notify is refused, and the engine drains the slot.
    #[tokio::test]
    async fn gossip_is_relayed_and_notify_has_one_slot() {
        let shutdown = Shutdown::new();
        let network = Network::new();
        let (a, b) = (NodeId([1; 20]), NodeId([2; 20]));
        let (fake_a, client_a) = fake_plugin(&shutdown).await;
        let (fake_b, client_b) = fake_plugin(&shutdown).await;
        network
            .join(a, client_a.clone(), &ClientVersion::default())
            .await;
        network.join(b, client_b, &ClientVersion::default()).await;
        assert_eq!(fake_a.0.lock().unwrap().calls, ["Connected(avalanchego)"]);
        let (addr, services) = NodeServices::serve(a, network, shutdown.clone())
            .await
            .unwrap();
        let channel = transport::connect(&addr.to_string()).await.unwrap();

        let mut sender = appsender::app_sender_client::AppSenderClient::new(channel.clone());
        let gossip = appsender::SendAppGossipMsg {
            peers: 5,
            msg: b"hi".to_vec(),
            ..Default::default()
        };
        sender.send_app_gossip(gossip).await.unwrap();
        sender
            .send_app_gossip(appsender::SendAppGossipMsg::default())
            .await
            .unwrap();
        let bad = appsender::SendAppGossipMsg {
            node_ids: vec![vec![1; 3]],
            ..Default::default()
        };
        assert!(sender.send_app_gossip(bad).await.is_err());
        for _ in 0..100 {
            if services.counters().gossip_delivered == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            fake_b.0.lock().unwrap().gossip,
            [(a.0.to_vec(), b"hi".to_vec())]
        );
        assert!(fake_a.0.lock().unwrap().gossip.is_empty());
        let counters = services.counters();
        assert_eq!((counters.gossip_calls, counters.gossip_bytes), (2, 2));

        let mut messenger = messenger::messenger_client::MessengerClient::new(channel);
        let build = messenger::NotifyRequest {
            message: messenger::Message::BuildBlock.into(),
        };
        messenger.notify(build).await.unwrap();
        let refused = messenger.notify(build).await.unwrap_err();
        assert_eq!(refused.message(), "full message queue");

        fake_a.0.lock().unwrap().pending = 1;
        let genesis = BlockSummary {
            id: Id::EMPTY,
            parent_id: Id::EMPTY,
            height: 0,
            timestamp: Default::default(),
            bytes: vec![],
        };
        let engine = SoloEngine::new(client_a, EngineMode::Messenger(services.clone()), &genesis)
            .spawn(shutdown.clone());
        assert!(engine
            .wait_for_height(1, Duration::from_secs(5))
            .await
            .is_some());
        assert_eq!(services.notify_slot().take(), None);
        shutdown.trigger();
        engine.join().await;
    }
}
