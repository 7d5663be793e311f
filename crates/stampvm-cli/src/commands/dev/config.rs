//! The chain config the dev node hands the plugin: the user's (`--config`), plus `metrics-addr`
//! from `--metrics` unless the user's config sets one; and what to do when the plugin cannot serve
//! that address (drop it and say which knob set it).

use super::error::DevError;
use std::net::SocketAddr;

/// Who asked for the plugin's metrics address: what a warning must name when it is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MetricsOrigin {
    /// `--metrics` (or its default).
    Flag,
    /// `metrics-addr` in the user's chain config.
    ChainConfig,
}

/// The chain config the dev node hands the plugin: the user's, plus `metrics-addr` from
/// `--metrics` unless the user's config sets one.
#[derive(Debug)]
pub(super) struct DevConfig {
    object: serde_json::Map<String, serde_json::Value>,
    pub(super) metrics: Option<MetricsOrigin>,
}

impl DevConfig {
    pub(super) fn new(
        user: &[u8],
        metrics_flag: Option<SocketAddr>,
    ) -> Result<DevConfig, DevError> {
        let mut object: serde_json::Map<String, serde_json::Value> =
            if user.iter().all(u8::is_ascii_whitespace) {
                serde_json::Map::new()
            } else {
                serde_json::from_slice(user).map_err(|e| DevError::Config(e.to_string()))?
            };
        let metrics = match (object.contains_key("metrics-addr"), metrics_flag) {
            (true, _) => Some(MetricsOrigin::ChainConfig),
            (false, Some(addr)) => {
                object.insert("metrics-addr".into(), addr.to_string().into());
                Some(MetricsOrigin::Flag)
            }
            (false, None) => None,
        };
        Ok(DevConfig { object, metrics })
    }

    pub(super) fn bytes(&self) -> Result<Vec<u8>, DevError> {
        serde_json::to_vec(&self.object).map_err(|e| DevError::Config(e.to_string()))
    }

    /// The metrics address the plugin is asked to serve, as the config writes it.
    pub(super) fn metrics_addr(&self) -> Option<&str> {
        self.object.get("metrics-addr")?.as_str()
    }

    /// The metrics address in config bytes the plugin accepted (after any [`DevConfig::drop_metrics`]).
    pub(super) fn metrics_addr_in(config: &[u8]) -> Option<String> {
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(config).ok()?;
        Some(object.get("metrics-addr")?.as_str()?.to_string())
    }

    /// After the plugin refused the metrics address (`cause`: `<addr>: <OS error>`): drops it,
    /// so the chain starts without the endpoint, and says so naming the knob that set it.
    pub(super) fn drop_metrics(&mut self, cause: &str) {
        let origin = self.metrics.take();
        let port_9100 = self
            .metrics_addr()
            .and_then(|addr| addr.parse::<SocketAddr>().ok())
            .is_some_and(|addr| addr.port() == 9100);
        self.object.remove("metrics-addr");
        let remedy = match origin {
            Some(MetricsOrigin::ChainConfig) => {
                "change or remove `metrics-addr` in the chain config (--config)"
            }
            _ => "--metrics HOST:PORT serves them elsewhere, --no-metrics turns them off",
        };
        let exporter = match port_9100 {
            true => " (9100 is node_exporter's port)",
            false => "",
        };
        tracing::warn!(
            "the plugin cannot serve Prometheus metrics on {cause}{exporter}; the dev chain runs without them: {remedy}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_config_adds_the_flags_metrics_address_unless_the_user_set_one() {
        let flag = Some("127.0.0.1:9100".parse().unwrap());
        let config = DevConfig::new(br#"{"log-level":"debug"}"#, flag).unwrap();
        assert_eq!(config.metrics, Some(MetricsOrigin::Flag));
        assert_eq!(config.metrics_addr(), Some("127.0.0.1:9100"));
        let mut config = DevConfig::new(br#"{"metrics-addr":"127.0.0.1:9200"}"#, flag).unwrap();
        assert_eq!(config.metrics, Some(MetricsOrigin::ChainConfig));
        assert_eq!(config.metrics_addr(), Some("127.0.0.1:9200"));
        config.drop_metrics("127.0.0.1:9200: Address already in use");
        assert_eq!((config.metrics, config.metrics_addr()), (None, None));
        assert_eq!(config.bytes().unwrap(), b"{}");
        let config = DevConfig::new(b" ", None).unwrap();
        assert_eq!(
            (config.metrics, config.bytes().unwrap()),
            (None, b"{}".to_vec())
        );
        assert!(DevConfig::new(b"[1]", flag).is_err());
        let config = DevConfig::new(b"{}", flag).unwrap();
        assert_eq!(
            DevConfig::metrics_addr_in(&config.bytes().unwrap()).as_deref(),
            Some("127.0.0.1:9100")
        );
        assert_eq!(DevConfig::metrics_addr_in(b"{}"), None);
    }
}
