//! Every column family and key layout of the store, in one place (as xsvm's `state/keys.go`).

/// Block ID (32 bytes) → the block's 82 encoded bytes. Holds accepted blocks only.
pub const CF_BLOCKS: &str = "blocks";
/// Height (u64 big-endian, so keys sort by height) → accepted block ID.
pub const CF_HEIGHTS: &str = "heights";
/// Payload (32 bytes) → ID of the accepted block that first included it.
pub const CF_PAYLOADS: &str = "payloads";
/// Single keys below.
pub const CF_META: &str = "meta";

pub const ALL_CFS: [&str; 4] = [CF_BLOCKS, CF_HEIGHTS, CF_PAYLOADS, CF_META];

/// ID of the last accepted block.
pub const META_LAST_ACCEPTED: &[u8] = b"last_accepted";
/// ID of the genesis block: a store opened with other genesis bytes is a different chain.
pub const META_GENESIS: &[u8] = b"genesis";
/// Layout version of this store (u32 big-endian).
pub const META_SCHEMA_VERSION: &[u8] = b"schema_version";

/// The layout written by this build. Bump it with a migration when a layout above changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Subdirectory of the node's `chain_data_dir` that holds the RocksDB files.
pub const DB_DIR: &str = "rocksdb";

pub fn height_key(height: u64) -> [u8; 8] {
    height.to_be_bytes()
}
