//! `stampvm dev`'s flags, and the listening addresses they take.

use std::path::PathBuf;

#[derive(clap::Args)]
pub(crate) struct DevArgs {
    /// Directory for the chain's data; reused (and resumed) on the next start. One `stampvm
    /// dev` at a time uses it (it is locked).
    #[arg(long, default_value = "stampvm-dev")]
    pub(super) data_dir: PathBuf,
    /// Address of the HTTP API (the node's usual port): HOST:PORT, the host an IP address or a
    /// name such as localhost.
    #[arg(long, default_value = "127.0.0.1:9650", value_parser = listen_address)]
    pub(super) http: std::net::SocketAddr,
    /// Genesis of the chain: data of at most 32 bytes (a TimestampVM chain), or a batched chain's
    /// JSON, e.g. '{"format":"batched","data":"docs","maxBatch":4096}' (README, "Batched
    /// chains"). A different genesis is a different chain.
    #[arg(long, default_value = "stampvm dev chain")]
    pub(super) genesis: String,
    /// Chain config JSON passed to the plugin as the node would (see README); its `log-format`
    /// and `log-level` set this command's own log too.
    #[arg(long)]
    pub(super) config: Option<PathBuf>,
    /// Where the plugin serves Prometheus metrics (`GET /metrics`); a `metrics-addr` in the
    /// chain config wins. A taken port is warned about, and the chain runs without them.
    #[arg(long, default_value = "127.0.0.1:9100", value_parser = listen_address)]
    pub(super) metrics: std::net::SocketAddr,
    /// Serve no Prometheus endpoint.
    #[arg(long, conflicts_with = "metrics")]
    pub(super) no_metrics: bool,
    /// Play the node of this RPCChainVM protocol number, with its message layouts, call order,
    /// block-building trigger and HTTP rules; the plugin is launched with
    /// GRPC_STAMPVM_PROTOCOL=N so it speaks the same. Default: the newest supported
    /// (`stampvm version` lists them).
    #[arg(long, value_name = "N")]
    pub(super) protocol: Option<u32>,
    /// Play luxd (Lux's node) rather than AvalancheGo: the engine address goes in
    /// LUX_VM_RUNTIME_ENGINE_ADDR and --protocol is the number luxd announces (30, 35 or 43;
    /// luxd's 43 speaks profile 35).
    #[arg(long, requires = "protocol")]
    pub(super) luxd: bool,
}

/// A listening address as people write it: `127.0.0.1:9650`, `[::1]:9650` or `localhost:9650`.
/// A name is resolved once, here; of its addresses the first IPv4 one is taken (`localhost` is
/// often `::1` first, which IPv4-only clients such as many curl setups would not reach).
fn listen_address(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(address) = text.parse() {
        return Ok(address);
    }
    let addresses: Vec<std::net::SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("{text:?} is not HOST:PORT with a host that resolves ({e})"))?
        .collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| format!("{text:?} resolves to no address"))
}

#[cfg(test)]
mod tests {
    use super::listen_address;

    #[test]
    fn listen_addresses_take_names_and_literals() {
        assert_eq!(
            listen_address("localhost:9650").unwrap(),
            "127.0.0.1:9650".parse().unwrap()
        );
        assert_eq!(
            listen_address("[::1]:9100").unwrap(),
            "[::1]:9100".parse().unwrap()
        );
        for bad in ["localhost", "9650", "no-such-host.invalid:9650", ":"] {
            let error = listen_address(bad).unwrap_err();
            assert!(error.contains(bad), "{bad}: {error}");
        }
    }
}
