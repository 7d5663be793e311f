//! What differs between the plugins the bench drives: the genesis they accept, how a payload is
//! written in `timestampvm.proposeBlock`, and how the reply says yes.
//!
//! stampvm (and Go TimestampVM) take `params: {"data": "0x<hex><checksum>"}` and answer
//! `{"Success": true}`; timestampvm-rs 0.0.18 (ava-labs' Rust TimestampVM on crates.io) takes
//! `params: [{"data": "<base64>"}]` and answers `{"success": true}`.

use stampvm::api::data::{format_payload, Encoding};
use std::path::Path;

/// The JSON-RPC dialect of the plugin under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApiKind {
    /// stampvm and Go TimestampVM: hex with a checksum, `Success`.
    Stampvm,
    /// timestampvm-rs 0.0.18: base64 in a one-element array, `success`.
    #[value(name = "timestampvm-rs")]
    TimestampvmRs,
}

/// What one proposal's reply said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `Success: true`: the payload is in the mempool.
    Accepted,
    /// `Success: false` (stampvm's back-pressure: mempool full or payload pending).
    Refused,
    /// A JSON-RPC error, or a reply that is not JSON-RPC.
    Error,
}

impl ApiKind {
    pub fn name(self) -> &'static str {
        match self {
            ApiKind::Stampvm => "stampvm",
            ApiKind::TimestampvmRs => "timestampvm-rs",
        }
    }

    /// The dialect of `plugin` when `--api` is not given: timestampvm-rs for a file named
    /// `timestampvm*` (what `cargo install timestampvm` installs), stampvm otherwise (this
    /// binary included).
    pub fn detect(plugin: &Path) -> ApiKind {
        let name = plugin.file_name().map(|n| n.to_string_lossy().into_owned());
        match name {
            Some(name) if name.starts_with("timestampvm") => ApiKind::TimestampvmRs,
            _ => ApiKind::Stampvm,
        }
    }

    /// Genesis bytes the plugin accepts: stampvm takes up to 32 raw bytes (a TimestampVM chain)
    /// or, with `batched`, a batched chain's JSON genesis (default `maxBatch`, 4096);
    /// timestampvm-rs a JSON object with a `data` string.
    pub fn genesis(self, batched: bool) -> Vec<u8> {
        match (self, batched) {
            (ApiKind::Stampvm, false) => b"stampvm bench".to_vec(),
            (ApiKind::Stampvm, true) => br#"{"format":"batched","data":"stampvm bench"}"#.to_vec(),
            (ApiKind::TimestampvmRs, _) => br#"{"data":"stampvm bench"}"#.to_vec(),
        }
    }

    /// The request body proposing all of `payloads` at once (stampvm's
    /// `timestampvm.proposeBatch`).
    pub fn propose_batch_body(id: u64, payloads: &[[u8; 32]]) -> String {
        let items: Vec<String> = payloads
            .iter()
            .map(|payload| format!(r#""{}""#, format_payload(payload, Encoding::Hex)))
            .collect();
        format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"timestampvm.proposeBatch","params":{{"data":[{}]}}}}"#,
            items.join(",")
        )
    }

    /// Reads a proposeBatch reply: payloads taken and refused, `None` if it is not one.
    pub fn batch_outcome(body: &[u8], sent: usize) -> Option<(u64, u64)> {
        let reply = serde_json::from_slice::<serde_json::Value>(body).ok()?;
        let accepted = reply.get("result")?.get("accepted")?.as_u64()?;
        Some((accepted, (sent as u64).saturating_sub(accepted)))
    }

    /// The chain config used when `--config` is absent: stampvm's mempool is raised to its
    /// maximum so the bench measures the API and consensus, not the default 4096-payload
    /// back-pressure (timestampvm-rs's mempool is unbounded and reads no config).
    pub fn default_config(self) -> Vec<u8> {
        match self {
            ApiKind::Stampvm => br#"{"mempool-capacity": 1000000}"#.to_vec(),
            ApiKind::TimestampvmRs => Vec::new(),
        }
    }

    /// The request body proposing `payload`. Written by hand: this runs once per request on the
    /// cores the plugin needs too.
    pub fn propose_body(self, id: u64, payload: &[u8; 32]) -> String {
        let params = match self {
            ApiKind::Stampvm => {
                format!(r#"{{"data":"{}"}}"#, format_payload(payload, Encoding::Hex))
            }
            ApiKind::TimestampvmRs => format!(r#"[{{"data":"{}"}}]"#, base64(payload)),
        };
        format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"timestampvm.proposeBlock","params":{params}}}"#
        )
    }

    /// Reads a proposeBlock reply.
    pub fn outcome(self, body: &[u8]) -> Outcome {
        let Ok(reply) = serde_json::from_slice::<serde_json::Value>(body) else {
            return Outcome::Error;
        };
        let key = match self {
            ApiKind::Stampvm => "Success",
            ApiKind::TimestampvmRs => "success",
        };
        match reply.get("result").and_then(|r| r.get(key)) {
            Some(serde_json::Value::Bool(true)) => Outcome::Accepted,
            Some(serde_json::Value::Bool(false)) => Outcome::Refused,
            _ => Outcome::Error,
        }
    }
}

/// Standard base64 with padding (what timestampvm-rs's `base64_bytes` decodes).
fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(base64(&[0xff; 32]).len(), 44);
    }

    #[test]
    fn bodies_are_json_rpc_in_each_dialect() {
        let payload = [7u8; 32];
        let body: serde_json::Value =
            serde_json::from_str(&ApiKind::Stampvm.propose_body(3, &payload)).unwrap();
        assert_eq!(body["id"], 3);
        assert_eq!(
            body["params"]["data"],
            format_payload(&payload, Encoding::Hex)
        );
        let body: serde_json::Value =
            serde_json::from_str(&ApiKind::TimestampvmRs.propose_body(4, &payload)).unwrap();
        assert_eq!(body["params"][0]["data"], base64(&payload));
    }

    #[test]
    fn batch_bodies_and_replies() {
        let body: serde_json::Value =
            serde_json::from_str(&ApiKind::propose_batch_body(5, &[[1; 32], [2; 32]])).unwrap();
        assert_eq!(body["method"], "timestampvm.proposeBatch");
        assert_eq!(
            body["params"]["data"][1],
            format_payload(&[2; 32], Encoding::Hex)
        );
        let reply = br#"{"jsonrpc":"2.0","result":{"accepted":3,"results":[]},"id":5}"#;
        assert_eq!(ApiKind::batch_outcome(reply, 4), Some((3, 1)));
        assert_eq!(ApiKind::batch_outcome(b"{}", 4), None);
    }

    #[test]
    fn replies_are_read_per_dialect() {
        let yes = br#"{"jsonrpc":"2.0","result":{"Success":true},"id":1}"#;
        let no = br#"{"jsonrpc":"2.0","result":{"Success":false,"reason":"full"},"id":1}"#;
        assert_eq!(ApiKind::Stampvm.outcome(yes), Outcome::Accepted);
        assert_eq!(ApiKind::Stampvm.outcome(no), Outcome::Refused);
        let rs = br#"{"jsonrpc":"2.0","result":{"success":true},"id":1}"#;
        assert_eq!(ApiKind::TimestampvmRs.outcome(rs), Outcome::Accepted);
        assert_eq!(ApiKind::Stampvm.outcome(rs), Outcome::Error);
        let error = br#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"x"},"id":1}"#;
        assert_eq!(ApiKind::Stampvm.outcome(error), Outcome::Error);
        assert_eq!(ApiKind::Stampvm.outcome(b"<html>"), Outcome::Error);
    }

    #[test]
    fn detection_goes_by_the_file_name() {
        let rs = Path::new("target/foreign/bin/timestampvm");
        assert_eq!(ApiKind::detect(rs), ApiKind::TimestampvmRs);
        assert_eq!(
            ApiKind::detect(Path::new("/usr/bin/stampvm")),
            ApiKind::Stampvm
        );
    }
}
