//! `Initialize` (opcode 1), the one message whose layout grew and shrank across luxd builds
//! (docs/spec/luxd-zap.md §2.8): fields 1–13 are always there; after them comes nothing, the
//! per-chain service addresses 14–16 (API ≥ v1.1.3/v1.1.7), or, from luxd built with API ≤ v1.0.11
//! (before 2026-05-18), a block of network-upgrade times. The plugin must accept all three.

use super::body::{BodyError, BodyReader, BodyWriter};
use crate::ids::{Id, NodeId};

/// luxd's `InitializeRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitializeRequest {
    pub network_id: u32,
    pub chain_id: Id,
    pub node_id: NodeId,
    /// Empty from today's luxd (BLS key serialisation "not yet wired", docs/spec/luxd-zap.md §2.8).
    pub public_key: Vec<u8>,
    /// All zero when the network has no X-chain.
    pub x_chain_id: Id,
    pub c_chain_id: Id,
    /// Called LuxAssetID before 2026-06-06; same slot.
    pub utxo_asset_id: Id,
    /// `<data-dir>/chainData/<chainID>`, created by luxd.
    pub chain_data_dir: String,
    pub genesis: Vec<u8>,
    pub upgrade: Vec<u8>,
    pub config: Vec<u8>,
    /// A ZAP rpcdb server over the chain DB, "" when none (⚠ older ZAP luxd always "",
    /// docs/spec/luxd-zap.md §2.8).
    pub db_server_addr: String,
    /// Always "" (no p2p sender is wired, docs/spec/luxd-zap.md §2.11).
    pub server_addr: String,
    /// What follows field 13.
    pub tail: InitializeTail,
}

/// What follows field 13 of `InitializeRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitializeTail {
    /// Nothing: the 13-field form.
    None,
    /// Fields 14–16 (each appended by a later API version and read only if bytes remain).
    Services(ChainServices),
    /// The pre-2026-05-18 form: network-upgrade times.
    LegacyNetworkUpgrades(LegacyNetworkUpgrades),
    /// Bytes that fit neither layout, kept but not interpreted: a robust plugin decodes fields
    /// 1–13 and ignores the rest (docs/spec/luxd-zap.md §2.8). Covers fields a luxd built with API
    /// v1.1.10–v1.1.13 may add, which no stored source shows (⚠ docs/spec/luxd-zap.md §6).
    Unrecognized(Vec<u8>),
}

/// Fields 14–16: servers luxd offers the chain. Absent fields read as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainServices {
    /// 14, API ≥ v1.1.3: shared-memory server address or "".
    pub atomic_server_addr: String,
    /// 15: the D-chain ID, 0 or 32 bytes on the wire.
    pub d_chain_id: Option<Id>,
    /// 16, API ≥ v1.1.7: validator-state server address or "".
    pub validator_server_addr: String,
}

/// The network-upgrade block of luxd built with API ≤ v1.0.11, 124 bytes plus the stop vertex.
/// ⚠ The unit of the times (seconds or nanoseconds) is not known (docs/spec/luxd-zap.md §2.8, §6);
/// they are kept as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegacyNetworkUpgrades {
    pub apricot_phase_1: i64,
    pub apricot_phase_2: i64,
    pub apricot_phase_3: i64,
    pub apricot_phase_4: i64,
    pub apricot_phase_4_min_p_chain_height: u64,
    pub apricot_phase_5: i64,
    pub apricot_phase_pre_6: i64,
    pub apricot_phase_6: i64,
    pub apricot_phase_post_6: i64,
    pub banff: i64,
    pub cortina: i64,
    pub cortina_x_chain_stop_vertex: Vec<u8>,
    pub durango: i64,
    pub etna: i64,
    pub fortuna: i64,
    pub granite: i64,
}

/// Bytes of the legacy block before the stop vertex's length: 4 times, a height, 6 times.
const LEGACY_STOP_VERTEX_OFFSET: usize = 4 * 8 + 8 + 6 * 8;
/// The legacy block without the stop vertex's bytes.
const LEGACY_FIXED_LEN: usize = LEGACY_STOP_VERTEX_OFFSET + 4 + 4 * 8;

impl LegacyNetworkUpgrades {
    /// Reads the block only when it is exactly the rest of the body: the layout has no other
    /// marker, and an exact length match is what tells it from fields 14–16.
    fn decode_exact(rest: &[u8]) -> Option<LegacyNetworkUpgrades> {
        let len_bytes = rest.get(LEGACY_STOP_VERTEX_OFFSET..LEGACY_STOP_VERTEX_OFFSET + 4)?;
        let vertex_len = u32::from_be_bytes(len_bytes.try_into().ok()?) as usize;
        if rest.len() != LEGACY_FIXED_LEN.checked_add(vertex_len)? {
            return None;
        }
        let mut r = BodyReader::new(rest);
        let upgrades = LegacyNetworkUpgrades {
            apricot_phase_1: r.i64("ApricotPhase1Time").ok()?,
            apricot_phase_2: r.i64("ApricotPhase2Time").ok()?,
            apricot_phase_3: r.i64("ApricotPhase3Time").ok()?,
            apricot_phase_4: r.i64("ApricotPhase4Time").ok()?,
            apricot_phase_4_min_p_chain_height: r.u64("ApricotPhase4MinPChainHeight").ok()?,
            apricot_phase_5: r.i64("ApricotPhase5Time").ok()?,
            apricot_phase_pre_6: r.i64("ApricotPhasePre6Time").ok()?,
            apricot_phase_6: r.i64("ApricotPhase6Time").ok()?,
            apricot_phase_post_6: r.i64("ApricotPhasePost6Time").ok()?,
            banff: r.i64("BanffTime").ok()?,
            cortina: r.i64("CortinaTime").ok()?,
            cortina_x_chain_stop_vertex: r.bytes("CortinaXChainStopVertexID").ok()?,
            durango: r.i64("DurangoTime").ok()?,
            etna: r.i64("EtnaTime").ok()?,
            fortuna: r.i64("FortunaTime").ok()?,
            granite: r.i64("GraniteTime").ok()?,
        };
        r.finish().ok()?;
        Some(upgrades)
    }

    fn encode(&self, w: &mut BodyWriter) {
        w.i64(self.apricot_phase_1)
            .i64(self.apricot_phase_2)
            .i64(self.apricot_phase_3)
            .i64(self.apricot_phase_4)
            .u64(self.apricot_phase_4_min_p_chain_height)
            .i64(self.apricot_phase_5)
            .i64(self.apricot_phase_pre_6)
            .i64(self.apricot_phase_6)
            .i64(self.apricot_phase_post_6)
            .i64(self.banff)
            .i64(self.cortina)
            .bytes(&self.cortina_x_chain_stop_vertex)
            .i64(self.durango)
            .i64(self.etna)
            .i64(self.fortuna)
            .i64(self.granite);
    }
}

impl ChainServices {
    /// Fields 14–16, each read only if enough bytes remain (≥ 4 for a length-prefixed field),
    /// anything after them ignored (docs/spec/luxd-zap.md §2.6). `None` if a present field is
    /// malformed (a length past the end, a D-chain ID neither empty nor 32 bytes, not UTF-8).
    fn decode_lenient(rest: &[u8]) -> Option<ChainServices> {
        let mut r = BodyReader::new(rest);
        let mut services = ChainServices::default();
        if r.remaining() >= 4 {
            services.atomic_server_addr = r.string("AtomicServerAddr").ok()?;
        }
        if r.remaining() >= 4 {
            services.d_chain_id = match r.bytes_ref("DChainID").ok()? {
                [] => None,
                raw => Some(Id::from_slice(raw)?),
            };
        }
        if r.remaining() >= 4 {
            services.validator_server_addr = r.string("ValidatorServerAddr").ok()?;
        }
        r.finish_lenient();
        Some(services)
    }

    fn encode(&self, w: &mut BodyWriter) {
        w.string(&self.atomic_server_addr);
        match &self.d_chain_id {
            Some(id) => w.id(id),
            None => w.bytes(&[]),
        };
        w.string(&self.validator_server_addr);
    }
}

impl InitializeTail {
    /// Which layout the bytes after field 13 have: none; the legacy block when they match its
    /// length exactly; else fields 14–16; else left uninterpreted.
    fn decode(rest: &[u8]) -> InitializeTail {
        if rest.is_empty() {
            return InitializeTail::None;
        }
        if let Some(upgrades) = LegacyNetworkUpgrades::decode_exact(rest) {
            return InitializeTail::LegacyNetworkUpgrades(upgrades);
        }
        match ChainServices::decode_lenient(rest) {
            Some(services) => InitializeTail::Services(services),
            None => InitializeTail::Unrecognized(rest.to_vec()),
        }
    }

    fn encode(&self, w: &mut BodyWriter) {
        match self {
            InitializeTail::None => {}
            InitializeTail::Services(services) => services.encode(w),
            InitializeTail::LegacyNetworkUpgrades(upgrades) => upgrades.encode(w),
            InitializeTail::Unrecognized(raw) => {
                w.raw(raw);
            }
        }
    }
}

impl InitializeRequest {
    /// Fields 1–13 strictly (IDs 32 bytes, the node ID 20), the tail leniently.
    pub fn decode(body: &[u8]) -> Result<InitializeRequest, BodyError> {
        let mut r = BodyReader::new(body);
        let request = InitializeRequest {
            network_id: r.u32("NetworkID")?,
            chain_id: r.id("ChainID")?,
            node_id: r.node_id("NodeID")?,
            public_key: r.bytes("PublicKey")?,
            x_chain_id: r.id("XChainID")?,
            c_chain_id: r.id("CChainID")?,
            utxo_asset_id: r.id("UTXOAssetID")?,
            chain_data_dir: r.string("ChainDataDir")?,
            genesis: r.bytes("Genesis")?,
            upgrade: r.bytes("Upgrade")?,
            config: r.bytes("Config")?,
            db_server_addr: r.string("DBServerAddr")?,
            server_addr: r.string("ServerAddr")?,
            tail: InitializeTail::None,
        };
        let consumed = body.len() - r.remaining();
        Ok(InitializeRequest {
            tail: InitializeTail::decode(&body[consumed..]),
            ..request
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = BodyWriter::new();
        w.u32(self.network_id)
            .id(&self.chain_id)
            .node_id(&self.node_id)
            .bytes(&self.public_key)
            .id(&self.x_chain_id)
            .id(&self.c_chain_id)
            .id(&self.utxo_asset_id)
            .string(&self.chain_data_dir)
            .bytes(&self.genesis)
            .bytes(&self.upgrade)
            .bytes(&self.config)
            .string(&self.db_server_addr)
            .string(&self.server_addr);
        self.tail.encode(&mut w);
        w.into_vec()
    }
}

/// The plugin's answer to `Initialize`. There is no LastAccepted message: luxd caches
/// `last_accepted_id` and updates it on each successful BlockAccept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitializeResponse {
    /// Must be 32 bytes, else luxd fails Initialize.
    pub last_accepted_id: Id,
    /// Sent as `bytes`; luxd does not check its length, we require 32 (our strictness).
    pub parent_id: Id,
    pub height: u64,
    pub block_bytes: Vec<u8>,
    /// Nanoseconds since the Unix epoch.
    pub timestamp_ns: i64,
    /// Appended in API v1.0.16; absent reads as 0. Bit 0 [`CAP_QUASAR_EXPORT`], bit 1
    /// [`CAP_STATE_SYNC`]; a plugin without them sends 0.
    pub capabilities: u64,
}

/// Capability bit: luxd may call SetQuasarFinalized (60) and QuasarHeight (61).
pub const CAP_QUASAR_EXPORT: u64 = 1;
/// Capability bit: luxd may call the state-sync opcodes (23–27, 31).
pub const CAP_STATE_SYNC: u64 = 1 << 1;

impl InitializeResponse {
    /// Reads `capabilities` only if 8 bytes remain and ignores anything after it: the response
    /// grew before and the decoders are length-tolerant (docs/spec/luxd-zap.md §1.1, §2.6).
    pub fn decode(body: &[u8]) -> Result<InitializeResponse, BodyError> {
        let mut r = BodyReader::new(body);
        let last_accepted_id = r.id("lastAcceptedID")?;
        let parent_id = r.id("parentID")?;
        let height = r.u64("height")?;
        let block_bytes = r.bytes("blockBytes")?;
        let timestamp_ns = r.i64("timestamp")?;
        let capabilities = if r.remaining() >= 8 {
            r.u64("capabilities")?
        } else {
            0
        };
        r.finish_lenient();
        Ok(InitializeResponse {
            last_accepted_id,
            parent_id,
            height,
            block_bytes,
            timestamp_ns,
            capabilities,
        })
    }

    /// Always with `capabilities` (luxd ≥ API v1.0.16 reads it; older ones ignore it).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = BodyWriter::new();
        w.id(&self.last_accepted_id)
            .id(&self.parent_id)
            .u64(self.height)
            .bytes(&self.block_bytes)
            .i64(self.timestamp_ns)
            .u64(self.capabilities);
        w.into_vec()
    }
}
