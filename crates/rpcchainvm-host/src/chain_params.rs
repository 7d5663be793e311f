//! What the node knows about a chain before it starts it: the contents of `vm.InitializeRequest`
//! ([`ChainParams`], node-behaviour.md section 5.1) laid out for the profile the node plays, the
//! node's own name and version as sent in `vm.VM/Connected` ([`ClientVersion`]), and the
//! network-upgrade schedule Go plugins require.

use prost_types::Timestamp;
use rpcchainvm::ids::{Id, NodeId};
use rpcchainvm::pb::vm as pb;
use rpcchainvm::protocol::{NodeRelease, PeerVersionLayout, Profile};
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
    /// The newest node this build knows (`Profile::latest`).
    fn default() -> Self {
        ClientVersion::from(Profile::latest().node_release())
    }
}

impl From<NodeRelease> for ClientVersion {
    fn from(release: NodeRelease) -> Self {
        ClientVersion {
            name: release.client.into(),
            major: release.major,
            minor: release.minor,
            patch: release.patch,
        }
    }
}

impl ClientVersion {
    /// The release a node playing `profile` runs (e.g. `avalanche/1.10.15` for 30).
    pub fn of(profile: Profile) -> ClientVersion {
        ClientVersion::from(profile.node_release())
    }

    /// The Connected call announcing `node_id` running this client, in `layout`: up to 30
    /// field 2 is the whole version text (`avalanche/1.10.15`) and 3-5 do not exist; from 31 it
    /// is the name, with the numbers in 3-5 (profiles.md 3.6).
    pub fn connected_request(
        &self,
        node_id: NodeId,
        layout: PeerVersionLayout,
    ) -> pb::ConnectedRequest {
        let node_id = node_id.0.to_vec();
        match layout {
            PeerVersionLayout::VersionText => pb::ConnectedRequest {
                node_id,
                name: format!("{}/{}.{}.{}", self.name, self.major, self.minor, self.patch),
                ..Default::default()
            },
            PeerVersionLayout::NameAndNumbers => pb::ConnectedRequest {
                node_id,
                name: self.name.clone(),
                major: self.major,
                minor: self.minor,
                patch: self.patch,
            },
        }
    }
}

/// What the node knows about a chain before starting it: the contents of `vm.InitializeRequest`
/// (node-behaviour.md section 5.1). [`ChainParams::new`] fills in a local network's values for
/// the newest node; [`ChainParams::with_profile`] makes them another node's.
#[derive(Debug, Clone)]
pub struct ChainParams {
    /// The node that starts the chain: decides the message layouts and the call order. Change
    /// it with [`ChainParams::with_profile`], which keeps [`ChainParams::client`] in step.
    pub profile: Profile,
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
    /// The node's `rpcdb.Database` ([`super::rpcdb::NodeDatabase::serve`]); empty when none is
    /// served (stampvm keeps its own RocksDB and never dials it). Written in the
    /// profile's field-13 layout (a `VersionedDBServer` list at 28-29).
    pub db_server_addr: String,
    /// The node's AppSender/Messenger server ([`super::NodeServices::serve`]).
    pub server_addr: String,
    /// Sent only where the profile has field 15 (37+, never by luxd).
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
            profile: Profile::latest(),
            network_id: super::node_api::LOCAL_NETWORK_ID,
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

    /// The same chain started by a node playing `profile`, which also names itself as that
    /// profile's release in `Connected`.
    pub fn with_profile(mut self, profile: Profile) -> ChainParams {
        self.profile = profile;
        self.client = ClientVersion::of(profile);
        self
    }

    /// The `vm.InitializeRequest` these parameters describe, as the profile's node writes it.
    pub fn initialize_request(&self) -> pb::InitializeRequest {
        let mut request = pb::InitializeRequest {
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
            db_server_field: Vec::new(),
            server_addr: self.server_addr.clone(),
            network_upgrades: self
                .profile
                .sends_network_upgrades()
                .then(|| self.network_upgrades.clone()),
        };
        request.set_db_server(self.profile.db_server_layout(), &self.db_server_addr);
        request
    }

    /// `Connected` for this node itself, in the profile's layout.
    pub fn connected_self(&self) -> pb::ConnectedRequest {
        self.client
            .connected_request(self.node_id, self.profile.peer_version_layout())
    }
}

/// Every upgrade active since the local network's start (2020-12-05 05:00 UTC, the node's
/// `InitiallyActiveTime`) except Helicon, left unscheduled (9999-12-01). Go plugins of 37+ refuse
/// an Initialize without these, so every profile that has the field gets them.
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

/// The chain ID of a local chain with these genesis bytes (`stampvm dev`, the bench): derived from
/// the genesis, so a restart on the same data finds the same chain and a different genesis gets a
/// chain of its own.
pub fn dev_chain_id(genesis: &[u8]) -> Id {
    let mut seed = b"stampvm dev chain:".to_vec();
    seed.extend_from_slice(genesis);
    Id::sha256(&seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use rpcchainvm::protocol::{DbServerLayout, HostFlavour};

    fn params(profile: Profile) -> ChainParams {
        let params = ChainParams::new(NodeId([1; 20]), "/tmp/x", vec![], String::new());
        params.with_profile(profile)
    }

    fn avalanchego(number: u32) -> Profile {
        Profile::new(number, HostFlavour::AvalancheGo).unwrap()
    }

    #[test]
    fn placeholder_bls_key_has_48_bytes() {
        let params = ChainParams::new(NodeId([1; 20]), "/tmp/x", vec![], String::new());
        assert_eq!(params.public_key.len(), 48);
        let request = params.initialize_request();
        assert_eq!(request.chain_id.len(), 32);
        assert!(request.network_upgrades.is_some());
    }

    // Field 13 is a VersionedDBServer list at 28-29 and a string from 30; field 15 exists from
    // 37 only. Each request is read back with its own profile's layout, and 28's not with 30's.
    #[test]
    fn initialize_request_follows_the_profile() {
        let with_db = |number| {
            let mut params = params(avalanchego(number));
            params.db_server_addr = "127.0.0.1:40001".into();
            let bytes = params.initialize_request().encode_to_vec();
            pb::InitializeRequest::decode(bytes.as_slice()).unwrap()
        };
        let at_28 = with_db(28);
        let list = at_28.db_server_addr(DbServerLayout::VersionedList).unwrap();
        assert_eq!(list.as_deref(), Some("127.0.0.1:40001"));
        let misread = at_28.db_server_addr(DbServerLayout::Address).unwrap();
        assert_ne!(misread.as_deref(), Some("127.0.0.1:40001"));
        let at_30 = with_db(30);
        let addr = at_30.db_server_addr(DbServerLayout::Address).unwrap();
        assert_eq!(addr.as_deref(), Some("127.0.0.1:40001"));
        assert!(at_30.network_upgrades.is_none());
        assert!(with_db(36).network_upgrades.is_none());
        assert!(with_db(37).network_upgrades.is_some());
        let luxd_43 = Profile::new(43, HostFlavour::Luxd).unwrap();
        assert!(params(luxd_43)
            .initialize_request()
            .network_upgrades
            .is_none());
    }

    // Up to 30 Connected carries the version as one text (`avalanche/1.10.15`, luxd `lux/…`);
    // from 31 the name and three numbers.
    #[test]
    fn connected_follows_the_profile() {
        let at_30 = params(avalanchego(30)).connected_self();
        assert_eq!(
            (at_30.name.as_str(), at_30.major, at_30.minor, at_30.patch),
            ("avalanche/1.10.15", 0, 0, 0)
        );
        let luxd_30 = Profile::new(30, HostFlavour::Luxd).unwrap();
        assert_eq!(params(luxd_30).connected_self().name, "lux/1.10.17");
        let at_31 = params(avalanchego(31)).connected_self();
        assert_eq!(
            (at_31.name.as_str(), at_31.major, at_31.minor, at_31.patch),
            ("avalanchego", 1, 10, 18)
        );
        assert_eq!(at_31.node_id, vec![1; 20]);
    }
}
