//! The handshake: one `vm.runtime.Runtime/Initialize` call announcing our protocol number and the
//! address of our `vm.VM` server. The node accepts only an exact match and gives no second try.

use crate::pb::vm::runtime::{runtime_client::RuntimeClient, InitializeRequest};
use crate::protocol::Profile;
use crate::transport;
use std::net::SocketAddr;
use std::time::Duration;

/// Our share of the node's 5 s budget (counted from process start) for the handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(4);

#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("cannot reach the node's runtime server at {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("the node did not answer the handshake within {0:?}")]
    Timeout(Duration),
    #[error("{}", refusal_advice(.announced, .node_protocol, .message))]
    Refused {
        announced: u32,
        node_protocol: Option<u32>,
        message: String,
    },
}

fn refusal_advice(announced: &u32, node: &Option<u32>, message: &str) -> String {
    match node {
        Some(node) => format!(
            "the node refused our handshake: it speaks RPCChainVM protocol {node}, we announced {announced}. \
             Run a stampvm build that supports protocol {node}. Node said: {message}"
        ),
        None => format!("the node refused our handshake (we announced {announced}): {message}"),
    }
}

/// The node's own protocol number, read from its refusal text (node-behaviour.md section 2).
pub fn node_protocol_from_error(text: &str) -> Option<u32> {
    for marker in ["implements RPCChainVM protocol version ", "avalanchego: "] {
        if let Some(start) = text.find(marker) {
            let digits: String = text[start + marker.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(number) = digits.parse() {
                return Some(number);
            }
        }
    }
    None
}

/// Announces `our_addr` to the node's runtime server at `engine_addr`.
pub async fn announce(
    engine_addr: &str,
    profile: Profile,
    our_addr: SocketAddr,
) -> Result<(), HandshakeError> {
    let call = async {
        let channel =
            transport::connect(engine_addr)
                .await
                .map_err(|e| HandshakeError::Connect {
                    addr: engine_addr.to_string(),
                    reason: e.to_string(),
                })?;
        RuntimeClient::new(channel)
            .initialize(InitializeRequest {
                protocol_version: profile.announced(),
                addr: our_addr.to_string(),
            })
            .await
            .map_err(|status| HandshakeError::Refused {
                announced: profile.announced(),
                node_protocol: node_protocol_from_error(status.message()),
                message: status.message().to_string(),
            })
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, call)
        .await
        .map_err(|_| HandshakeError::Timeout(HANDSHAKE_TIMEOUT))??;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn node_number_is_read_from_every_refusal_form() {
        let current = "RPCChainVM protocol version mismatch between AvalancheGo and Virtual Machine plugin. AvalancheGo version avalanchego/1.14.2 implements RPCChainVM protocol version 45. The VM located at /p implements RPCChainVM protocol version 44. Please make sure";
        assert_eq!(node_protocol_from_error(current), Some(45));
        assert_eq!(
            node_protocol_from_error("protocol version mismatch avalanchego: 28, vm: 45"),
            Some(28)
        );
        let lux = "RPCChainVM protocol version mismatch between Lux Node and Virtual Machine plugin. Lux Node version v1.13.4 implements RPCChainVM protocol version 43. The VM located at";
        assert_eq!(node_protocol_from_error(lux), Some(43));
        assert_eq!(node_protocol_from_error("connection reset"), None);
    }

    // docs/spec/vectors.md section 4: vm.runtime.InitializeRequest.
    #[test]
    fn handshake_request_matches_vector() {
        let request = InitializeRequest {
            protocol_version: 45,
            addr: "127.0.0.1:40000".into(),
        };
        assert_eq!(
            hex::encode(request.encode_to_vec()),
            "082d120f3132372e302e302e313a3430303030"
        );
    }
}
