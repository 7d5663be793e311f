//! Our clients of the node's services at `InitializeRequest.server_addr`: the app sender (gossip)
//! and, on profiles before 42, the messenger that tells the engine a block can be built.

use crate::pb::{appsender, messenger};
use crate::protocol::Profile;
use crate::transport;
use crate::wire::SendAppGossipMsg;
use tonic::transport::Channel;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the node gave no server address for its services")]
    NoServer,
    #[error("bad node server address {addr:?}: {source}")]
    Address {
        addr: String,
        source: tonic::transport::Error,
    },
    #[error("node call {call} failed: {status}")]
    Call {
        call: &'static str,
        status: tonic::Status,
    },
}

/// What a build notification achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notified {
    Delivered,
    /// The node's one-slot queue already held a notification ("full message queue").
    AlreadyPending,
}

/// Cheap to clone: tonic clients share one HTTP/2 connection.
#[derive(Clone)]
pub struct NodeClients {
    profile: Profile,
    app_sender: Option<appsender::app_sender_client::AppSenderClient<Channel>>,
    messenger: Option<messenger::messenger_client::MessengerClient<Channel>>,
}

impl NodeClients {
    /// Clients for the node's server; an empty address (a node that offers none) gives clients
    /// that answer `NoServer`. Connection happens on first use, so this never blocks.
    pub fn connect_lazy(server_addr: &str, profile: Profile) -> Result<NodeClients, EngineError> {
        if server_addr.is_empty() {
            return Ok(NodeClients {
                profile,
                app_sender: None,
                messenger: None,
            });
        }
        let channel =
            transport::connect_lazy(server_addr).map_err(|source| EngineError::Address {
                addr: server_addr.to_string(),
                source,
            })?;
        let app_sender = appsender::app_sender_client::AppSenderClient::new(channel.clone())
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        let messenger = (!profile.node_waits_for_events())
            .then(|| messenger::messenger_client::MessengerClient::new(channel));
        Ok(NodeClients {
            profile,
            app_sender: Some(app_sender),
            messenger,
        })
    }

    /// Gossips `msg` to `validators` sampled validators, in the layout the node decodes (up to
    /// 33 the node ignores the count and samples by its subnet's gossip settings).
    pub async fn send_gossip(&self, msg: Vec<u8>, validators: u64) -> Result<(), EngineError> {
        let mut client = self.app_sender.clone().ok_or(EngineError::NoServer)?;
        let layout = self.profile.gossip_layout();
        client
            .send_app_gossip(SendAppGossipMsg::to_validators(layout, msg, validators))
            .await
            .map_err(|status| EngineError::Call {
                call: "AppSender.SendAppGossip",
                status,
            })?;
        Ok(())
    }

    /// Tells the engine a block can be built, on profiles where the plugin must (Messenger.Notify).
    pub async fn notify_build_block(&self) -> Result<Notified, EngineError> {
        let mut client = self.messenger.clone().ok_or(EngineError::NoServer)?;
        let request = messenger::NotifyRequest {
            message: messenger::Message::BuildBlock as i32,
        };
        match client.notify(request).await {
            Ok(_) => Ok(Notified::Delivered),
            // The node's queue holds one message; a full one means a notification is pending.
            Err(status) if status.message().contains("full message queue") => {
                Ok(Notified::AlreadyPending)
            }
            Err(status) => Err(EngineError::Call {
                call: "Messenger.Notify",
                status,
            }),
        }
    }

    pub fn uses_messenger(&self) -> bool {
        self.messenger.is_some()
    }
}
