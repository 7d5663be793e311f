//! What the node knows about a chain before it starts it: the contents of `vm.InitializeRequest`
//! ([`ChainParams`], node-behaviour.md section 5.1), the node's own name and version as sent in
//! `vm.VM/Connected` ([`ClientVersion`]), and the network-upgrade schedule Go plugins require.

use crate::chain::id::{Id, NodeId};
use crate::rpc::pb::vm as pb;
use prost_types::Timestamp;
use std::path::PathBuf;

/// How this node introduces itself in `vm.VM/Connected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientVersion {
    pub name: String,
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Default for ClientVersion {
    /// AvalancheGo v1.14.2.
    fn default() -> Self {
        ClientVersion {
            name: "avalanchego".into(),
            major: 1,
            minor: 14,
            patch: 2,
        }
    }
}

impl ClientVersion {
    /// The Connected call announcing `node_id` running this client.
    pub fn connected_request(&self, node_id: NodeId) -> pb::ConnectedRequest {
        pb::ConnectedRequest {
            node_id: node_id.0.to_vec(),
            name: self.name.clone(),
            major: self.major,
            minor: self.minor,
            patch: self.patch,
        }
    }
}

/// What the node knows about a chain before starting it: the contents of `vm.InitializeRequest`
/// (node-behaviour.md section 5.1). [`ChainParams::new`] fills in a local network's values.
#[derive(Debug, Clone)]
pub struct ChainParams {
    pub network_id: u32,
    pub subnet_id: Id,
    pub chain_id: Id,
    pub node_id: NodeId,
    /// 48-byte compressed BLS key; Go plugins parse it, so the default is a valid point.
    pub public_key: Vec<u8>,
    pub x_chain_id: Id,
    pub c_chain_id: Id,
    pub avax_asset_id: Id,
    pub chain_data_dir: PathBuf,
    pub genesis_bytes: Vec<u8>,
    pub upgrade_bytes: Vec<u8>,
    pub config_bytes: Vec<u8>,
    /// This host serves no `rpcdb.Database`; empty unless you run one.
    pub db_server_addr: String,
    /// The node's AppSender/Messenger server ([`super::NodeServices::serve`]).
    pub server_addr: String,
    pub network_upgrades: pb::NetworkUpgrades,
    /// Sent in `Connected` for this node itself.
    pub client: ClientVersion,
}

/// The BLS12-381 G1 generator in compressed form: a valid public key for a host that signs nothing.
const PLACEHOLDER_BLS_KEY: &str = "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb";

impl ChainParams {
    /// A chain on the local network (12345) with fixed, recognisable IDs; override fields as needed.
    pub fn new(
        node_id: NodeId,
        chain_data_dir: impl Into<PathBuf>,
        genesis_bytes: Vec<u8>,
        server_addr: String,
    ) -> ChainParams {
        ChainParams {
            network_id: 12345,
            subnet_id: Id::sha256(b"stampvm host: subnet"),
            chain_id: Id::sha256(b"stampvm host: chain"),
            node_id,
            public_key: hex::decode(PLACEHOLDER_BLS_KEY).unwrap_or_default(),
            x_chain_id: Id::sha256(b"stampvm host: X-Chain"),
            c_chain_id: Id::sha256(b"stampvm host: C-Chain"),
            avax_asset_id: Id::sha256(b"stampvm host: AVAX"),
            chain_data_dir: chain_data_dir.into(),
            genesis_bytes,
            upgrade_bytes: Vec::new(),
            config_bytes: Vec::new(),
            db_server_addr: String::new(),
            server_addr,
            network_upgrades: default_network_upgrades(),
            client: ClientVersion::default(),
        }
    }

    /// The `vm.InitializeRequest` these parameters describe.
    pub fn initialize_request(&self) -> pb::InitializeRequest {
        pb::InitializeRequest {
            network_id: self.network_id,
            subnet_id: self.subnet_id.0.to_vec(),
            chain_id: self.chain_id.0.to_vec(),
            node_id: self.node_id.0.to_vec(),
            public_key: self.public_key.clone(),
            x_chain_id: self.x_chain_id.0.to_vec(),
            c_chain_id: self.c_chain_id.0.to_vec(),
            avax_asset_id: self.avax_asset_id.0.to_vec(),
            chain_data_dir: self.chain_data_dir.display().to_string(),
            genesis_bytes: self.genesis_bytes.clone(),
            upgrade_bytes: self.upgrade_bytes.clone(),
            config_bytes: self.config_bytes.clone(),
            db_server_addr: self.db_server_addr.clone(),
            server_addr: self.server_addr.clone(),
            network_upgrades: Some(self.network_upgrades.clone()),
        }
    }
}

/// Every upgrade active since the local network's start (2020-12-05 05:00 UTC, the node's
/// `InitiallyActiveTime`) except Helicon, left unscheduled (9999-12-01). Go plugins refuse an
/// Initialize without these, so they are always sent.
pub fn default_network_upgrades() -> pb::NetworkUpgrades {
    let active = || {
        Some(Timestamp {
            seconds: 1_607_144_400,
            nanos: 0,
        })
    };
    pb::NetworkUpgrades {
        apricot_phase_1_time: active(),
        apricot_phase_2_time: active(),
        apricot_phase_3_time: active(),
        apricot_phase_4_time: active(),
        apricot_phase_4_min_p_chain_height: 0,
        apricot_phase_5_time: active(),
        apricot_phase_pre_6_time: active(),
        apricot_phase_6_time: active(),
        apricot_phase_post_6_time: active(),
        banff_time: active(),
        cortina_time: active(),
        cortina_x_chain_stop_vertex_id: Id::EMPTY.0.to_vec(),
        durango_time: active(),
        etna_time: active(),
        fortuna_time: active(),
        granite_time: active(),
        granite_epoch_duration: Some(prost_types::Duration {
            seconds: 30,
            nanos: 0,
        }),
        helicon_time: Some(Timestamp {
            seconds: 253_399_622_400,
            nanos: 0,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_bls_key_has_48_bytes() {
        let params = ChainParams::new(NodeId([1; 20]), "/tmp/x", vec![], String::new());
        assert_eq!(params.public_key.len(), 48);
        let request = params.initialize_request();
        assert_eq!(request.chain_id.len(), 32);
        assert!(request.network_upgrades.is_some());
    }
}
