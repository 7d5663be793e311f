//! The chain config: the node's `config_bytes` (the file `config.json` in the chain's config
//! directory), JSON with every key optional. Unknown keys and out-of-range values are refused at
//! Initialize with a message naming the key, so a typo never silently falls back to a default.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;

/// How verbose the plugin's log is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// Log line format: human-readable text, or one JSON object per line for log shippers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Full blocks' worth of payloads the mempool holds at least ([`ChainConfig::mempool_capacity_for`]).
pub const MEMPOOL_BLOCKS: usize = 16;

/// Default memtable budget (MiB) of a TimestampVM-format chain ([`ChainConfig::memtable_mb_for`]).
pub const SINGLE_MEMTABLE_MB: u64 = 8;
/// Default memtable budget (MiB) of a batched chain.
pub const BATCHED_MEMTABLE_MB: u64 = 128;

/// Every tunable of a running chain. `Default` gives the documented defaults. It serializes to
/// the chain config's own JSON ([`ChainConfig::to_json`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ChainConfig {
    /// How often the builder re-checks the mempool and tells the node a block can be built.
    pub build_interval_ms: u64,
    /// Pending payloads the mempool holds before it answers "mempool full".
    pub mempool_capacity: usize,
    /// Most payloads one gossip message carries.
    pub gossip_batch_size: usize,
    /// How long the gossip actor collects payloads before sending a partial batch.
    pub gossip_flush_ms: u64,
    /// Validators the node samples for each gossip message.
    pub gossip_validators: u64,
    /// Payloads one peer may gossip to us per second; the excess is dropped, not obeyed.
    pub gossip_peer_rate: u32,
    pub log_level: LogLevel,
    /// Absent: the format the process started with (`GRPC_STAMPVM_LOG_FORMAT`, else text).
    pub log_format: Option<LogFormat>,
    /// Where to serve the Prometheus scrape endpoint (`GET /metrics`); none by default.
    pub metrics_addr: Option<SocketAddr>,
    /// The scrape endpoint binds only loopback addresses unless this is true.
    pub metrics_allow_remote: bool,
    /// RocksDB block cache, in MiB, besides the memtables' budget charged to it.
    pub rocksdb_cache_mb: u64,
    /// All RocksDB memtables together, in MiB; default by chain format
    /// ([`ChainConfig::memtable_mb_for`]).
    pub rocksdb_memtable_mb: Option<u64>,
    /// fsync every accept before answering the node. Turning it off trades crash safety for
    /// speed: a power loss can lose the most recently accepted blocks.
    pub rocksdb_sync_writes: bool,
    /// Health reports the chain stalled once a block has been processing (verified, neither
    /// accepted nor rejected) for longer than this.
    pub health_max_processing_seconds: u64,
}

impl Default for ChainConfig {
    fn default() -> Self {
        ChainConfig {
            build_interval_ms: 1000,
            mempool_capacity: 4096,
            gossip_batch_size: 256,
            gossip_flush_ms: 50,
            gossip_validators: 10,
            gossip_peer_rate: 20_000,
            log_level: LogLevel::Info,
            log_format: None,
            metrics_addr: None,
            metrics_allow_remote: false,
            rocksdb_cache_mb: 64,
            rocksdb_memtable_mb: None,
            rocksdb_sync_writes: true,
            health_max_processing_seconds: 30,
        }
    }
}

/// Why a chain config was refused; the text names the offending key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("chain config is not valid JSON for stampvm: {0}")]
    Json(String),
    #[error("chain config key `{key}`: {problem}")]
    Value { key: &'static str, problem: String },
}

impl ChainConfig {
    /// Parses the node's `config_bytes`; empty or whitespace-only bytes mean "all defaults".
    pub fn from_bytes(bytes: &[u8]) -> Result<ChainConfig, ConfigError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(ChainConfig::default());
        }
        let config: ChainConfig =
            serde_json::from_slice(bytes).map_err(|e| ConfigError::Json(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// The config in force as chain config JSON, every key written out (`null`: the default
    /// that depends on something else). For the log: a file with these bytes is the same config.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain fields and string keys always serialize")
    }

    /// The mempool's capacity on a chain of `format`: the configured one, but on a batched
    /// chain at least [`MEMPOOL_BLOCKS`] full blocks, so the builder finds whole batches while
    /// clients keep proposing.
    pub fn mempool_capacity_for(&self, format: crate::chain::ChainFormat) -> usize {
        match format {
            crate::chain::ChainFormat::Single => self.mempool_capacity,
            crate::chain::ChainFormat::Batched { max_batch } => {
                self.mempool_capacity.max(MEMPOOL_BLOCKS * max_batch)
            }
        }
    }

    /// The memtable budget in MiB on a chain of `format`: the configured one, else sized to the
    /// format's write rate. A TimestampVM chain writes about 400 bytes a block, at most a few
    /// hundred blocks a second, so 8 MiB fill within a minute or two and the memory then swings
    /// by 8 MiB, not by the 128 MiB a batched chain (megabytes a second) needs to flush rarely.
    pub fn memtable_mb_for(&self, format: crate::chain::ChainFormat) -> u64 {
        self.rocksdb_memtable_mb.unwrap_or(match format {
            crate::chain::ChainFormat::Single => SINGLE_MEMTABLE_MB,
            crate::chain::ChainFormat::Batched { .. } => BATCHED_MEMTABLE_MB,
        })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        check_range("build-interval-ms", self.build_interval_ms, 10, 60_000)?;
        check_range(
            "mempool-capacity",
            self.mempool_capacity as u64,
            1,
            1_000_000,
        )?;
        check_range("gossip-batch-size", self.gossip_batch_size as u64, 1, 4096)?;
        check_range("gossip-flush-ms", self.gossip_flush_ms, 1, 10_000)?;
        check_range("gossip-validators", self.gossip_validators, 0, 1000)?;
        check_range(
            "gossip-peer-rate",
            u64::from(self.gossip_peer_rate),
            1,
            1_000_000,
        )?;
        check_range("rocksdb-cache-mb", self.rocksdb_cache_mb, 0, 65_536)?;
        check_range(
            "health-max-processing-seconds",
            self.health_max_processing_seconds,
            1,
            86_400,
        )?;
        if let Some(mb) = self.rocksdb_memtable_mb {
            check_range("rocksdb-memtable-mb", mb, 1, 65_536)?;
        }
        if let Some(addr) = self.metrics_addr {
            if !addr.ip().is_loopback() && !self.metrics_allow_remote {
                return Err(ConfigError::Value {
                    key: "metrics-addr",
                    problem: format!(
                        "{addr} is not a loopback address; set \"metrics-allow-remote\": true to expose metrics beyond this machine"
                    ),
                });
            }
        }
        Ok(())
    }

    pub fn build_interval(&self) -> Duration {
        Duration::from_millis(self.build_interval_ms)
    }

    pub fn gossip_flush(&self) -> Duration {
        Duration::from_millis(self.gossip_flush_ms)
    }

    pub fn health_max_processing(&self) -> Duration {
        Duration::from_secs(self.health_max_processing_seconds)
    }
}

fn check_range(key: &'static str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::Value {
            key,
            problem: format!("{value} is outside {min}..={max}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_defaults() {
        assert_eq!(
            ChainConfig::from_bytes(b"").unwrap(),
            ChainConfig::default()
        );
        assert_eq!(
            ChainConfig::from_bytes(b" \n").unwrap(),
            ChainConfig::default()
        );
        assert_eq!(
            ChainConfig::from_bytes(b"{}").unwrap(),
            ChainConfig::default()
        );
    }

    #[test]
    fn keys_are_read() {
        let config =
            ChainConfig::from_bytes(br#"{"build-interval-ms": 250, "mempool-capacity": 10}"#)
                .unwrap();
        assert_eq!(config.build_interval(), Duration::from_millis(250));
        assert_eq!(config.mempool_capacity, 10);
    }

    #[test]
    fn operability_keys() {
        let config = ChainConfig::from_bytes(
            br#"{"log-level": "debug", "log-format": "json", "metrics-addr": "127.0.0.1:9100",
                 "rocksdb-cache-mb": 8, "rocksdb-sync-writes": false}"#,
        )
        .unwrap();
        assert_eq!(config.log_level, LogLevel::Debug);
        assert_eq!(config.log_format, Some(LogFormat::Json));
        assert_eq!(config.metrics_addr, Some("127.0.0.1:9100".parse().unwrap()));
        assert!(!config.rocksdb_sync_writes);
        let err = ChainConfig::from_bytes(br#"{"metrics-addr": "0.0.0.0:9100"}"#).unwrap_err();
        assert!(err.to_string().contains("metrics-addr"), "{err}");
        assert!(ChainConfig::from_bytes(
            br#"{"metrics-addr": "0.0.0.0:9100", "metrics-allow-remote": true}"#
        )
        .is_ok());
        let err = ChainConfig::from_bytes(br#"{"log-level": "loud"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant"), "{err}");
    }

    #[test]
    fn the_logged_json_reads_back_as_the_same_config() {
        let set = ChainConfig::from_bytes(
            br#"{"log-format": "json", "log-level": "debug", "metrics-addr": "127.0.0.1:9100",
                 "rocksdb-memtable-mb": 32, "rocksdb-sync-writes": false}"#,
        )
        .unwrap();
        for config in [ChainConfig::default(), set] {
            let json = config.to_json();
            let object: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(object["build-interval-ms"], 1000, "kebab-case keys: {json}");
            assert_eq!(ChainConfig::from_bytes(json.as_bytes()).unwrap(), config);
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let err = ChainConfig::from_bytes(br#"{"mempool-capacty": 10}"#).unwrap_err();
        assert!(err.to_string().contains("mempool-capacty"), "{err}");
        let err = ChainConfig::from_bytes(br#"{"mempool-capacity": 0}"#).unwrap_err();
        assert!(err.to_string().contains("mempool-capacity"), "{err}");
        let err = ChainConfig::from_bytes(br#"{"build-interval-ms": "fast"}"#).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
        assert!(ChainConfig::from_bytes(b"[1,2]").is_err());
        let err = ChainConfig::from_bytes(br#"{"rocksdb-memtable-mb": 0}"#).unwrap_err();
        assert!(err.to_string().contains("rocksdb-memtable-mb"), "{err}");
        let err = ChainConfig::from_bytes(br#"{"health-max-processing-seconds": 0}"#).unwrap_err();
        assert!(
            err.to_string().contains("health-max-processing-seconds"),
            "{err}"
        );
    }

    #[test]
    fn memtable_budget_follows_the_format_unless_set() {
        use crate::chain::ChainFormat;
        let batched = ChainFormat::Batched { max_batch: 4096 };
        let defaults = ChainConfig::default();
        assert_eq!(
            defaults.memtable_mb_for(ChainFormat::Single),
            SINGLE_MEMTABLE_MB
        );
        assert_eq!(defaults.memtable_mb_for(batched), BATCHED_MEMTABLE_MB);
        let set = ChainConfig::from_bytes(br#"{"rocksdb-memtable-mb": 32}"#).unwrap();
        assert_eq!(set.memtable_mb_for(ChainFormat::Single), 32);
        assert_eq!(set.memtable_mb_for(batched), 32);
    }
}
