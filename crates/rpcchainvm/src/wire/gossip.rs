//! `appsender.SendAppGossipMsg`, which the plugin sends and the node decodes (profiles.md 3.8):
//! 28-33 `msg` 1; 34 `msg` 1 + `num_validators` 2, `num_non_validators` 3, `num_peers` 4;
//! 35+ `node_ids` 1 (repeated), `validators` 2, `non_validators` 3, `peers` 4, `msg` 5.
//! Field 1 is length-delimited in all three, so it is kept as raw entries and read per layout.

use super::WireError;
use crate::protocol::GossipLayout;
use prost::Message;

/// Every layout's fields; build one with [`SendAppGossipMsg::to_validators`].
#[derive(Clone, PartialEq, Message)]
pub struct SendAppGossipMsg {
    /// The body up to 34 (one entry); the target NodeIDs from 35.
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub field_1: Vec<Vec<u8>>,
    /// `num_validators` at 34, `validators` from 35: how many validators to sample.
    #[prost(uint64, tag = "2")]
    pub validators: u64,
    #[prost(uint64, tag = "3")]
    pub non_validators: u64,
    #[prost(uint64, tag = "4")]
    pub peers: u64,
    /// The body from 35.
    #[prost(bytes = "vec", tag = "5")]
    pub msg: Vec<u8>,
}

/// A gossip send as the node understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GossipTargets {
    pub body: Vec<u8>,
    /// Explicit 20-byte NodeIDs (35+ only).
    pub node_ids: Vec<Vec<u8>>,
    /// Sample sizes; all zero up to 33, where the node uses the subnet's gossip settings.
    pub validators: u64,
    pub non_validators: u64,
    pub peers: u64,
}

const NODE_ID_LEN: usize = 20;

impl SendAppGossipMsg {
    /// Gossip `body` to `validators` sampled validators. Up to 33 the layout has no counts and
    /// the node samples by its subnet settings (10 validators by default).
    pub fn to_validators(layout: GossipLayout, body: Vec<u8>, validators: u64) -> Self {
        let mut message = SendAppGossipMsg::default();
        match layout {
            GossipLayout::MsgOnly => message.field_1 = vec![body],
            GossipLayout::MsgWithCounts => {
                message.field_1 = vec![body];
                message.validators = validators;
            }
            GossipLayout::Targeted => {
                message.msg = body;
                message.validators = validators;
            }
        }
        message.field_1.retain(|entry| !entry.is_empty());
        message
    }

    /// What a node of `layout` reads from these bytes; refuses fields its layout lacks and
    /// NodeIDs of the wrong length, as the node's own decoding would.
    pub fn read(&self, layout: GossipLayout) -> Result<GossipTargets, WireError> {
        let refuse =
            |field, problem: &str| Err(WireError::field("SendAppGossipMsg", field, problem));
        match layout {
            GossipLayout::MsgOnly | GossipLayout::MsgWithCounts => {
                if !self.msg.is_empty() {
                    return refuse(5, "no such field before profile 35");
                }
                if layout == GossipLayout::MsgOnly
                    && (self.validators, self.non_validators, self.peers) != (0, 0, 0)
                {
                    return refuse(2, "sample counts do not exist before profile 34");
                }
                if self.field_1.len() > 1 {
                    return refuse(1, "msg given more than once");
                }
                Ok(GossipTargets {
                    body: self.field_1.first().cloned().unwrap_or_default(),
                    node_ids: Vec::new(),
                    validators: self.validators,
                    non_validators: self.non_validators,
                    peers: self.peers,
                })
            }
            GossipLayout::Targeted => {
                if let Some(bad) = self.field_1.iter().find(|id| id.len() != NODE_ID_LEN) {
                    let problem = format!("node ID of {} bytes, want {NODE_ID_LEN}", bad.len());
                    return refuse(1, &problem);
                }
                Ok(GossipTargets {
                    body: self.msg.clone(),
                    node_ids: self.field_1.clone(),
                    validators: self.validators,
                    non_validators: self.non_validators,
                    peers: self.peers,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    // vectors.md section 4: `appsender.SendAppGossipMsg` in its three layouts.
    #[test]
    fn each_layout_matches_its_vector() {
        let cases = [
            (GossipLayout::MsgOnly, "0a026869"),
            (GossipLayout::MsgWithCounts, "0a026869100a"),
            (GossipLayout::Targeted, "100a2a026869"),
        ];
        for (layout, expected) in cases {
            let message = SendAppGossipMsg::to_validators(layout, b"hi".to_vec(), 10);
            assert_eq!(hex(&message.encode_to_vec()), expected, "{layout:?}");
            let read = message.read(layout).unwrap();
            assert_eq!(read.body, b"hi");
        }
    }

    // The failure profiles.md 3.8 warns of: old bytes at a new node, and the reverse.
    #[test]
    fn a_layout_mismatch_is_refused() {
        let old = SendAppGossipMsg::to_validators(GossipLayout::MsgOnly, b"hi".to_vec(), 10);
        assert!(old.read(GossipLayout::Targeted).is_err(), "2-byte node ID");
        let new = SendAppGossipMsg::to_validators(GossipLayout::Targeted, b"hi".to_vec(), 10);
        assert!(new.read(GossipLayout::MsgOnly).is_err());
        assert!(new.read(GossipLayout::MsgWithCounts).is_err());
    }
}
