//! `vm.InitializeRequest`. Field 13 is `repeated VersionedDBServer db_servers` at 28-29 and
//! `string db_server_addr` from 30 (profiles.md 3.1); both use wire type 2, so only the profile
//! can tell them apart. The field is kept as raw entries and read with the profile's layout.

use super::WireError;
use crate::pb::vm::{NetworkUpgrades, VersionedDbServer};
use crate::protocol::DbServerLayout;
use prost::Message;

/// The node's first call on a chain process, in every profile's layout.
#[derive(Clone, PartialEq, Message)]
pub struct InitializeRequest {
    #[prost(uint32, tag = "1")]
    pub network_id: u32,
    #[prost(bytes = "vec", tag = "2")]
    pub subnet_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub chain_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    pub node_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "5")]
    pub public_key: Vec<u8>,
    #[prost(bytes = "vec", tag = "6")]
    pub x_chain_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "7")]
    pub c_chain_id: Vec<u8>,
    /// `avax_asset_id` (luxd: `lux_asset_id`, same number and type).
    #[prost(bytes = "vec", tag = "8")]
    pub avax_asset_id: Vec<u8>,
    #[prost(string, tag = "9")]
    pub chain_data_dir: String,
    #[prost(bytes = "vec", tag = "10")]
    pub genesis_bytes: Vec<u8>,
    #[prost(bytes = "vec", tag = "11")]
    pub upgrade_bytes: Vec<u8>,
    #[prost(bytes = "vec", tag = "12")]
    pub config_bytes: Vec<u8>,
    /// Field 13 entry by entry, undecoded: read it with [`InitializeRequest::db_server_addr`],
    /// write it with [`InitializeRequest::set_db_server`].
    #[prost(bytes = "vec", repeated, tag = "13")]
    pub db_server_field: Vec<Vec<u8>>,
    #[prost(string, tag = "14")]
    pub server_addr: String,
    /// Sent from 37; absent before.
    #[prost(message, optional, tag = "15")]
    pub network_upgrades: Option<NetworkUpgrades>,
}

/// The database version a node of profiles 28-29 serves today (profiles.md 3.1).
pub const CURRENT_DB_VERSION: &str = "v1.4.5";

impl InitializeRequest {
    /// The node's `rpcdb.Database` address, or `None` when it sent none. At 28-29 the entry with
    /// the highest version wins, as the Go plugin side chooses.
    pub fn db_server_addr(&self, layout: DbServerLayout) -> Result<Option<String>, WireError> {
        match layout {
            // A singular proto3 field seen twice keeps the last value.
            DbServerLayout::Address => self
                .db_server_field
                .last()
                .map(|raw| {
                    String::from_utf8(raw.clone()).map_err(|_| {
                        WireError::field("InitializeRequest", 13, "db_server_addr is not UTF-8")
                    })
                })
                .transpose(),
            DbServerLayout::VersionedList => {
                let mut servers = self
                    .db_server_field
                    .iter()
                    .map(|raw| {
                        VersionedDbServer::decode(raw.as_slice()).map_err(|e| {
                            WireError::field("InitializeRequest", 13, format!("db_servers: {e}"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                servers.sort_by_key(|server| version_key(&server.version));
                Ok(servers.pop().map(|server| server.server_addr))
            }
        }
    }

    /// Writes field 13 in `layout`; an empty address sends nothing, as the Go node does.
    pub fn set_db_server(&mut self, layout: DbServerLayout, addr: &str) {
        self.db_server_field.clear();
        if addr.is_empty() {
            return;
        }
        let entry = match layout {
            DbServerLayout::Address => addr.as_bytes().to_vec(),
            DbServerLayout::VersionedList => VersionedDbServer {
                version: CURRENT_DB_VERSION.into(),
                server_addr: addr.into(),
            }
            .encode_to_vec(),
        };
        self.db_server_field.push(entry);
    }
}

/// `v1.4.5` → (1, 4, 5); anything unparsable sorts first.
fn version_key(version: &str) -> (u64, u64, u64) {
    let mut parts = version
        .trim_start_matches('v')
        .split('.')
        .map(|part| part.parse::<u64>().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    // vectors.md section 4: field 13 alone, in each layout.
    const LIST_28: &str = "6a190a0676312e342e35120f3132372e302e302e313a3430303031";
    const ADDR_30: &str = "6a0f3132372e302e302e313a3430303031";

    #[test]
    fn field_13_encodes_per_layout() {
        let mut request = InitializeRequest::default();
        request.set_db_server(DbServerLayout::VersionedList, "127.0.0.1:40001");
        assert_eq!(hex(&request.encode_to_vec()), LIST_28);
        request.set_db_server(DbServerLayout::Address, "127.0.0.1:40001");
        assert_eq!(hex(&request.encode_to_vec()), ADDR_30);
        request.set_db_server(DbServerLayout::Address, "");
        assert!(request.encode_to_vec().is_empty());
    }

    #[test]
    fn field_13_decodes_only_with_the_right_layout() {
        let bytes = |text: &str| -> Vec<u8> {
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
                .collect()
        };
        let old = InitializeRequest::decode(bytes(LIST_28).as_slice()).unwrap();
        assert_eq!(
            old.db_server_addr(DbServerLayout::VersionedList).unwrap(),
            Some("127.0.0.1:40001".into())
        );
        // The decoding trap of profiles.md 3.1: read as a string it is garbage starting 0x0a.
        let garbage = old
            .db_server_addr(DbServerLayout::Address)
            .unwrap()
            .unwrap();
        assert!(garbage.starts_with('\n'), "{garbage:?}");
        let new = InitializeRequest::decode(bytes(ADDR_30).as_slice()).unwrap();
        assert_eq!(
            new.db_server_addr(DbServerLayout::Address).unwrap(),
            Some("127.0.0.1:40001".into())
        );
        assert!(new.db_server_addr(DbServerLayout::VersionedList).is_err());
    }

    #[test]
    fn the_newest_database_version_wins() {
        let mut request = InitializeRequest::default();
        for (version, addr) in [("v1.4.5", "new:1"), ("v1.0.0", "old:1")] {
            request.db_server_field.push(
                VersionedDbServer {
                    version: version.into(),
                    server_addr: addr.into(),
                }
                .encode_to_vec(),
            );
        }
        let chosen = request.db_server_addr(DbServerLayout::VersionedList);
        assert_eq!(chosen.unwrap(), Some("new:1".into()));
    }
}
