//! Every column family and key layout of the store, in one place (as xsvm's `state/keys.go`).

/// Block ID (32 bytes) → the block's encoded bytes. Holds accepted blocks only.
pub const CF_BLOCKS: &str = "blocks";
/// Height (u64 big-endian, so keys sort by height) → accepted block ID.
pub const CF_HEIGHTS: &str = "heights";
/// Payload (32 bytes) → where the accepted block that first included it holds it
/// ([`PayloadLocation`]). Schema 1 stored the block ID alone (32 bytes); both are read.
pub const CF_PAYLOADS: &str = "payloads";
/// Merkle nodes of an accepted batched block, every level from the leaf hashes to the root, in
/// pages of [`MERKLE_PAGE`] neighbours ([`merkle_key`] → their hashes, 32 bytes each): a proof is
/// one point read per level, and an accept writes a sixteenth as many keys as one per node would.
/// Blocks of one payload have none (their root is their leaf hash).
pub const CF_MERKLE: &str = "merkle";
/// Single keys below.
pub const CF_META: &str = "meta";

pub const ALL_CFS: [&str; 5] = [CF_BLOCKS, CF_HEIGHTS, CF_PAYLOADS, CF_MERKLE, CF_META];

/// ID of the last accepted block.
pub const META_LAST_ACCEPTED: &[u8] = b"last_accepted";
/// ID of the genesis block: a store opened with other genesis bytes is a different chain.
pub const META_GENESIS: &[u8] = b"genesis";
/// Layout version of this store (u32 big-endian).
pub const META_SCHEMA_VERSION: &[u8] = b"schema_version";

/// The layout written by this build. Bump it with a migration when a layout above changes.
/// 2: payload locations (height, time, position, count) instead of bare block IDs, and the
/// Merkle column family.
pub const SCHEMA_VERSION: u32 = 2;
/// Layouts this build opens: a schema 1 store is read as it is (its payload values are block
/// IDs, [`PayloadLocation::decode`]) and marked 2, so an older build refuses it rather than
/// misreading the new values.
pub const READABLE_SCHEMAS: [u32; 2] = [1, SCHEMA_VERSION];

/// Subdirectory of the node's `chain_data_dir` that holds the RocksDB files.
pub const DB_DIR: &str = "rocksdb";

pub fn height_key(height: u64) -> [u8; 8] {
    height.to_be_bytes()
}

/// Merkle nodes per stored page.
pub const MERKLE_PAGE: usize = 16;

/// `height (8) | level (1) | page (4)`, big-endian, so a block's pages sort together; page `p`
/// of a level holds its nodes `16p` to `16p + 15` (fewer at the level's end).
pub fn merkle_key(height: u64, level: u8, page: u32) -> [u8; 13] {
    let mut key = [0u8; 13];
    key[..8].copy_from_slice(&height.to_be_bytes());
    key[8] = level;
    key[9..].copy_from_slice(&page.to_be_bytes());
    key
}

/// Where an accepted payload lies: enough to answer a proof without reading its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadLocation {
    pub block_id: crate::chain::Id,
    pub height: u64,
    pub timestamp: i64,
    /// Leaf index in the block.
    pub position: u32,
    /// Payloads in the block.
    pub count: u32,
}

/// The stored form of a payload's location: which of the two layouts a value is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredLocation {
    /// Schema 2: the whole location.
    Full(PayloadLocation),
    /// Schema 1: the block ID alone (a single-payload block; its header is in the block).
    BlockOnly(crate::chain::Id),
}

impl PayloadLocation {
    pub const LEN: usize = 32 + 8 + 8 + 4 + 4;

    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[..32].copy_from_slice(self.block_id.as_bytes());
        out[32..40].copy_from_slice(&self.height.to_be_bytes());
        out[40..48].copy_from_slice(&self.timestamp.to_be_bytes());
        out[48..52].copy_from_slice(&self.position.to_be_bytes());
        out[52..56].copy_from_slice(&self.count.to_be_bytes());
        out
    }

    /// `None` for a value of neither layout (corruption).
    pub fn decode(raw: &[u8]) -> Option<StoredLocation> {
        let id = crate::chain::Id::from_slice(raw.get(..32)?)?;
        match raw.len() {
            32 => Some(StoredLocation::BlockOnly(id)),
            Self::LEN => Some(StoredLocation::Full(PayloadLocation {
                block_id: id,
                height: u64::from_be_bytes(raw[32..40].try_into().ok()?),
                timestamp: i64::from_be_bytes(raw[40..48].try_into().ok()?),
                position: u32::from_be_bytes(raw[48..52].try_into().ok()?),
                count: u32::from_be_bytes(raw[52..56].try_into().ok()?),
            })),
            _ => None,
        }
    }
}

impl StoredLocation {
    pub fn block_id(&self) -> crate::chain::Id {
        match self {
            StoredLocation::Full(location) => location.block_id,
            StoredLocation::BlockOnly(id) => *id,
        }
    }
}
