//! The node's server at `InitializeRequest.server_addr`: `appsender.AppSender`, and
//! `messenger.Messenger` where the profile has it (up to 41 and every luxd; from 42 the node has
//! no Messenger, so a plugin calling it gets `Unimplemented`), on one loopback port (wire-45.md
//! 2.4, node-behaviour.md 6.1). `SendAppGossip` is read in the profile's layout; bytes that do not
//! fit it are refused and counted.
//!
//! App messages travel through a [`Network`] (`network.rs`) shared by several hosts in one
//! process: gossip from node X reaches the other nodes' plugins as `vm.VM/AppGossip{node_id: X}`,
//! requests and replies as `AppRequest`/`AppResponse`/`AppRequestFailed`. Deliveries run in
//! spawned tasks, so the plugin's send call returns at once, as it does on the node.

use super::network::{sample, RequestKey};
use super::vm_client::VmClient;
use rpcchainvm::ids::NodeId;
use rpcchainvm::pb::appsender::{self, app_sender_server};
use rpcchainvm::pb::messenger::{self, messenger_server};
use rpcchainvm::pb::vm as pb;
use rpcchainvm::protocol::{GossipLayout, PeerVersionLayout, Profile};
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm::transport;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tonic::{Request, Response, Status};

/// How long a requester waits for `SendAppResponse`/`SendAppError` before it gets
/// `AppRequestFailed` with code -1 (timeout).
pub const APP_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The status text of a Notify while one message is already queued.
pub const FULL_MESSAGE_QUEUE: &str = "full message queue";

/// How many validators a node samples for a `SendAppGossip` that names no targets (up to 33,
/// where the message has no counts): AvalancheGo's default subnet gossip settings (10 validators,
/// 0 non-validators, 0 peers; profiles.md 3.8).
pub const SUBNET_GOSSIP_VALIDATORS: u64 = 10;

/// [`Network`] used to live here; the old path keeps working.
pub use super::network::Network;
/// [`NotifySlot`] used to live here; the old path keeps working.
pub use super::notify_slot::NotifySlot;

/// A snapshot of what one node's services have handled; tests compare these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeCounters {
    /// `SendAppGossip` calls received from the plugin and read in the profile's layout.
    pub gossip_calls: u64,
    /// `SendAppGossip` calls refused because their bytes do not fit the profile's layout.
    pub gossip_refused: u64,
    /// Bytes of `msg` in those calls.
    pub gossip_bytes: u64,
    /// `AppGossip` deliveries to other plugins that succeeded / failed.
    pub gossip_delivered: u64,
    pub gossip_failed: u64,
    pub app_requests: u64,
    pub app_responses: u64,
    pub app_errors: u64,
    /// `Notify` calls accepted into the slot / refused with `full message queue`.
    pub notifies: u64,
    pub notifies_refused: u64,
}

#[derive(Debug, Default)]
struct Counters {
    gossip_calls: AtomicU64,
    gossip_refused: AtomicU64,
    gossip_bytes: AtomicU64,
    gossip_delivered: AtomicU64,
    gossip_failed: AtomicU64,
    app_requests: AtomicU64,
    app_responses: AtomicU64,
    app_errors: AtomicU64,
    notifies: AtomicU64,
    notifies_refused: AtomicU64,
}

#[derive(Debug)]
struct Shared {
    node_id: NodeId,
    profile: Profile,
    network: Network,
    counters: Counters,
    slot: NotifySlot,
}

/// The node's services for one node; [`NodeServices::serve`] runs them.
#[derive(Debug, Clone)]
pub struct NodeServices {
    shared: Arc<Shared>,
}

/// Access to a running [`NodeServices`]: its address, counters and Messenger slot. Serving stops
/// when the `Shutdown` given to `serve` fires.
#[derive(Debug, Clone)]
pub struct NodeServicesHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl NodeServices {
    /// [`NodeServices::serve_as`] for the newest node (`Profile::latest`, no Messenger).
    pub async fn serve(
        node_id: NodeId,
        network: Network,
        shutdown: Shutdown,
    ) -> std::io::Result<(SocketAddr, NodeServicesHandle)> {
        NodeServices::serve_as(Profile::latest(), node_id, network, shutdown).await
    }

    /// Binds loopback and serves the services a node playing `profile` has, for `node_id`,
    /// until `shutdown`.
    pub async fn serve_as(
        profile: Profile,
        node_id: NodeId,
        network: Network,
        shutdown: Shutdown,
    ) -> std::io::Result<(SocketAddr, NodeServicesHandle)> {
        let (listener, addr) = transport::bind_loopback().await?;
        let shared = Arc::new(Shared {
            node_id,
            profile,
            network,
            counters: Counters::default(),
            slot: NotifySlot::default(),
        });
        let services = NodeServices {
            shared: shared.clone(),
        };
        let app_sender = app_sender_server::AppSenderServer::new(services.clone())
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        // The trigger is Messenger.Notify where the node does not call WaitForEvent.
        let messenger = (!profile.node_waits_for_events()).then(|| {
            messenger_server::MessengerServer::new(services)
                .max_decoding_message_size(usize::MAX)
                .max_encoding_message_size(usize::MAX)
        });
        tokio::spawn(async move {
            let result = tonic::transport::Server::builder()
                .add_service(app_sender)
                .add_optional_service(messenger)
                .serve_with_incoming_shutdown(transport::incoming(listener), shutdown.wait())
                .await;
            if let Err(error) = result {
                tracing::warn!(%error, "node services failed");
            }
        });
        Ok((addr, NodeServicesHandle { addr, shared }))
    }

    fn node_ids(bytes: &[Vec<u8>]) -> Result<Vec<NodeId>, Status> {
        bytes.iter().map(|b| node_id(b)).collect()
    }

    /// Calls `deliver` on `target`'s plugin in a task; a missing target or a failed call runs
    /// `failed` instead (on the caller's side).
    fn relay<F, Fut>(&self, target: NodeId, what: &'static str, deliver: F) -> bool
    where
        F: FnOnce(VmClient) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), super::HostError>> + Send,
    {
        let Some(client) = self.shared.network.client(&target) else {
            tracing::debug!(%target, what, "not on the network; dropped");
            return false;
        };
        tokio::spawn(async move {
            if let Err(error) = deliver(client).await {
                tracing::warn!(%target, what, %error, "delivery failed");
            }
        });
        true
    }
}

impl NodeServicesHandle {
    /// The address to put in `InitializeRequest.server_addr`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn node_id(&self) -> NodeId {
        self.shared.node_id
    }

    /// The profile these services play.
    pub fn profile(&self) -> Profile {
        self.shared.profile
    }

    pub fn counters(&self) -> NodeCounters {
        let c = &self.shared.counters;
        NodeCounters {
            gossip_calls: c.gossip_calls.load(Relaxed),
            gossip_refused: c.gossip_refused.load(Relaxed),
            gossip_bytes: c.gossip_bytes.load(Relaxed),
            gossip_delivered: c.gossip_delivered.load(Relaxed),
            gossip_failed: c.gossip_failed.load(Relaxed),
            app_requests: c.app_requests.load(Relaxed),
            app_responses: c.app_responses.load(Relaxed),
            app_errors: c.app_errors.load(Relaxed),
            notifies: c.notifies.load(Relaxed),
            notifies_refused: c.notifies_refused.load(Relaxed),
        }
    }

    /// The Messenger slot (profiles ≤41 and luxd): what the engine drains. Nothing fills it
    /// where the profile has no Messenger.
    pub fn notify_slot(&self) -> &NotifySlot {
        &self.shared.slot
    }
}

fn node_id(bytes: &[u8]) -> Result<NodeId, Status> {
    NodeId::from_slice(bytes).ok_or_else(|| {
        Status::unknown(format!(
            "expected 20-byte node ID, got {} bytes",
            bytes.len()
        ))
    })
}

#[tonic::async_trait]
impl app_sender_server::AppSender for NodeServices {
    async fn send_app_gossip(
        &self,
        request: Request<appsender::SendAppGossipMsg>,
    ) -> Result<Response<()>, Status> {
        let me = self.shared.node_id;
        let profile = self.shared.profile;
        let counters = &self.shared.counters;
        let layout = profile.gossip_layout();
        let read = request.into_inner().read(layout).map_err(|error| {
            counters.gossip_refused.fetch_add(1, Relaxed);
            Status::invalid_argument(format!("SendAppGossipMsg does not fit {profile}: {error}"))
        })?;
        let explicit = NodeServices::node_ids(&read.node_ids)?;
        counters.gossip_calls.fetch_add(1, Relaxed);
        counters
            .gossip_bytes
            .fetch_add(read.body.len() as u64, Relaxed);

        let count = match layout {
            // No counts in the message: the node samples by the subnet's gossip settings.
            GossipLayout::MsgOnly => SUBNET_GOSSIP_VALIDATORS,
            GossipLayout::MsgWithCounts | GossipLayout::Targeted => read
                .validators
                .saturating_add(read.non_validators)
                .saturating_add(read.peers),
        };
        let mut targets: HashSet<NodeId> = explicit.into_iter().filter(|n| *n != me).collect();
        let others = self.shared.network.node_ids();
        let others = others
            .into_iter()
            .filter(|n| *n != me && !targets.contains(n));
        targets.extend(sample(others.collect(), count));

        for target in targets {
            let shared = self.shared.clone();
            let gossip = pb::AppGossipMsg {
                node_id: me.0.to_vec(),
                msg: read.body.clone(),
            };
            let sent = self.relay(target, "AppGossip", move |client| async move {
                let result = client.app_gossip(gossip).await;
                let counter = match result {
                    Ok(()) => &shared.counters.gossip_delivered,
                    Err(_) => &shared.counters.gossip_failed,
                };
                counter.fetch_add(1, Relaxed);
                result
            });
            if !sent {
                counters.gossip_failed.fetch_add(1, Relaxed);
            }
        }
        Ok(Response::new(()))
    }

    async fn send_app_request(
        &self,
        request: Request<appsender::SendAppRequestMsg>,
    ) -> Result<Response<()>, Status> {
        let msg = request.into_inner();
        let me = self.shared.node_id;
        let targets = NodeServices::node_ids(&msg.node_ids)?;
        self.shared.counters.app_requests.fetch_add(1, Relaxed);
        let deadline = SystemTime::now() + APP_REQUEST_TIMEOUT;
        let started = tokio::time::Instant::now();
        for target in targets {
            let key = (me, target, msg.request_id);
            self.shared.network.expect_reply(key);
            let request = pb::AppRequestMsg {
                node_id: me.0.to_vec(),
                request_id: msg.request_id,
                deadline: Some(deadline.into()),
                request: msg.request.clone(),
            };
            // No answer in time (or no such node) → AppRequestFailed(-1), as the node does.
            let network = self.shared.network.clone();
            let layout = self.shared.profile.peer_version_layout();
            tokio::spawn(async move {
                match network.client(&target) {
                    Some(client) => {
                        if let Err(error) = client.app_request(request).await {
                            tracing::warn!(%target, %error, "AppRequest failed");
                        }
                        tokio::time::sleep_until(started + APP_REQUEST_TIMEOUT).await;
                    }
                    None => tracing::debug!(%target, "AppRequest to a node not on the network"),
                }
                if network.settle(&key) {
                    fail_request(&network, key, (-1, "timed out"), layout).await;
                }
            });
        }
        Ok(Response::new(()))
    }

    async fn send_app_response(
        &self,
        request: Request<appsender::SendAppResponseMsg>,
    ) -> Result<Response<()>, Status> {
        let msg = request.into_inner();
        let requester = node_id(&msg.node_id)?;
        let me = self.shared.node_id;
        self.shared.counters.app_responses.fetch_add(1, Relaxed);
        let key = (requester, me, msg.request_id);
        if !self.shared.network.settle(&key) {
            tracing::debug!(%requester, id = msg.request_id, "unexpected AppResponse dropped");
            return Ok(Response::new(()));
        }
        let response = pb::AppResponseMsg {
            node_id: me.0.to_vec(),
            request_id: msg.request_id,
            response: msg.response,
        };
        self.relay(requester, "AppResponse", move |c| async move {
            c.app_response(response).await
        });
        Ok(Response::new(()))
    }

    async fn send_app_error(
        &self,
        request: Request<appsender::SendAppErrorMsg>,
    ) -> Result<Response<()>, Status> {
        let msg = request.into_inner();
        let requester = node_id(&msg.node_id)?;
        let me = self.shared.node_id;
        self.shared.counters.app_errors.fetch_add(1, Relaxed);
        let key = (requester, me, msg.request_id);
        if self.shared.network.settle(&key) {
            let network = self.shared.network.clone();
            let layout = self.shared.profile.peer_version_layout();
            tokio::spawn(async move {
                let error = (msg.error_code, msg.error_message.as_str());
                fail_request(&network, key, error, layout).await;
            });
        }
        Ok(Response::new(()))
    }
}

/// Delivers `AppRequestFailed` to the requester of `(requester, responder, request_id)`. The
/// `(code, text)` travel only where the message has fields 3-4 (31+; profiles.md 3.6).
async fn fail_request(
    network: &Network,
    key: RequestKey,
    (code, text): (i32, &str),
    layout: PeerVersionLayout,
) {
    let (requester, responder, request_id) = key;
    let Some(client) = network.client(&requester) else {
        return;
    };
    let (error_code, error_message) = match layout {
        PeerVersionLayout::VersionText => (0, String::new()),
        PeerVersionLayout::NameAndNumbers => (code, text.to_string()),
    };
    let failed = pb::AppRequestFailedMsg {
        node_id: responder.0.to_vec(),
        request_id,
        error_code,
        error_message,
    };
    if let Err(error) = client.app_request_failed(failed).await {
        tracing::warn!(%requester, %error, "AppRequestFailed failed");
    }
}

#[tonic::async_trait]
impl messenger_server::Messenger for NodeServices {
    async fn notify(
        &self,
        request: Request<messenger::NotifyRequest>,
    ) -> Result<Response<messenger::NotifyResponse>, Status> {
        let message = request.into_inner().message;
        let counters = &self.shared.counters;
        if self.shared.slot.offer(message) {
            counters.notifies.fetch_add(1, Relaxed);
            Ok(Response::new(messenger::NotifyResponse {}))
        } else {
            counters.notifies_refused.fetch_add(1, Relaxed);
            Err(Status::unknown(FULL_MESSAGE_QUEUE))
        }
    }
}
