//! How a plugin learns, from its environment alone, that luxd wants ZAP and where to dial
//! (docs/spec/luxd-zap.md §2.1, §2.2). Pure functions over an environment map, so every
//! combination is testable without touching the process environment.
//!
//! Facts: luxd sets `VM_TRANSPORT=zap` (newest) or `LUX_VM_TRANSPORT=zap` (some hosts), and the
//! bootstrap address under `VM_RUNTIME_ENGINE_ADDR` and/or `LUX_VM_RUNTIME_ENGINE_ADDR` (the key was
//! renamed in 2026-05; the newest luxd sets both to the same value). Hosts that set no transport
//! variable (AvalancheGo, luxd before ZAP) speak gRPC.

use std::collections::HashMap;

/// The transport variable the newest luxd sets.
pub const TRANSPORT_KEY: &str = "VM_TRANSPORT";
/// The transport variable older ZAP hosts set (docs/spec/luxd-zap.md §1.1, factory F1/F2).
pub const LEGACY_TRANSPORT_KEY: &str = "LUX_VM_TRANSPORT";
/// The engine address key after the 2026-05-15 rename.
pub const ENGINE_ADDR_KEY: &str = "VM_RUNTIME_ENGINE_ADDR";
/// The engine address key before the rename (still set by the newest luxd).
pub const LEGACY_ENGINE_ADDR_KEY: &str = "LUX_VM_RUNTIME_ENGINE_ADDR";

/// An environment: variable name to value (`std::env::vars().collect()` in production).
pub type EnvMap = HashMap<String, String>;

/// The wire the node expects the plugin to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `vm.VM` over gRPC: no transport variable, or the value `grpc`.
    Grpc,
    /// ZAP framing (docs/spec/luxd-zap.md §2.3).
    Zap,
}

/// Where to connect, by the address rule of docs/spec/luxd-zap.md §2.2 (API ≥ v1.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZapAddress {
    /// `host:port`.
    Tcp(String),
    /// A unix socket path; a leading `@` names a Linux abstract socket.
    Unix(String),
}

/// Why the environment does not say how to reach the node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("{key}={value:?} names no transport this plugin knows (zap or grpc)")]
    UnknownTransport { key: &'static str, value: String },
    /// Our rule, the spec has no case of it: two hosts' conventions disagree, and guessing would
    /// dial the wrong wire.
    #[error("{TRANSPORT_KEY}={new:?} and {LEGACY_TRANSPORT_KEY}={legacy:?} disagree")]
    ConflictingTransport { new: String, legacy: String },
    #[error(
        "neither {ENGINE_ADDR_KEY} nor {LEGACY_ENGINE_ADDR_KEY} is set: not launched by a node"
    )]
    NoEngineAddress,
    /// Our rule, as above: luxd sets both keys to the same value.
    #[error("{ENGINE_ADDR_KEY}={new:?} and {LEGACY_ENGINE_ADDR_KEY}={legacy:?} disagree")]
    ConflictingEngineAddress { new: String, legacy: String },
    #[error("the engine address is empty")]
    EmptyAddress,
}

/// A variable's value, an empty value counting as unset (as Go's `os.Getenv` sees it).
fn non_empty<'a>(env: &'a EnvMap, key: &str) -> Option<&'a str> {
    env.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

fn parse_transport(key: &'static str, value: &str) -> Result<Transport, EnvError> {
    match value {
        "zap" => Ok(Transport::Zap),
        "grpc" => Ok(Transport::Grpc),
        _ => Err(EnvError::UnknownTransport {
            key,
            value: value.to_owned(),
        }),
    }
}

/// The transport the node asked for: `VM_TRANSPORT`, else `LUX_VM_TRANSPORT`, else gRPC. When
/// both are set they must agree. The value is compared exactly (⚠ docs/spec/luxd-zap.md §2.1
/// shows only `zap` being set; `grpc` is accepted as the obvious other value).
pub fn transport(env: &EnvMap) -> Result<Transport, EnvError> {
    let new = non_empty(env, TRANSPORT_KEY);
    let legacy = non_empty(env, LEGACY_TRANSPORT_KEY);
    match (new, legacy) {
        (Some(new), Some(legacy)) => {
            let chosen = parse_transport(TRANSPORT_KEY, new)?;
            if parse_transport(LEGACY_TRANSPORT_KEY, legacy)? != chosen {
                return Err(EnvError::ConflictingTransport {
                    new: new.to_owned(),
                    legacy: legacy.to_owned(),
                });
            }
            Ok(chosen)
        }
        (Some(new), None) => parse_transport(TRANSPORT_KEY, new),
        (None, Some(legacy)) => parse_transport(LEGACY_TRANSPORT_KEY, legacy),
        (None, None) => Ok(Transport::Grpc),
    }
}

/// The raw engine address: `VM_RUNTIME_ENGINE_ADDR`, else `LUX_VM_RUNTIME_ENGINE_ADDR`; both set
/// must agree. Either key alone is enough (docs/spec/luxd-zap.md §2.1).
pub fn engine_address(env: &EnvMap) -> Result<&str, EnvError> {
    match (
        non_empty(env, ENGINE_ADDR_KEY),
        non_empty(env, LEGACY_ENGINE_ADDR_KEY),
    ) {
        (Some(new), Some(legacy)) if new != legacy => Err(EnvError::ConflictingEngineAddress {
            new: new.to_owned(),
            legacy: legacy.to_owned(),
        }),
        (Some(addr), _) | (None, Some(addr)) => Ok(addr),
        (None, None) => Err(EnvError::NoEngineAddress),
    }
}

impl ZapAddress {
    /// The network of an address string: starts with `@` or `/` → unix; contains `:` and no `/`
    /// → TCP; contains `/` → unix; otherwise TCP (docs/spec/luxd-zap.md §2.2). The same rule
    /// decides how luxd dials the address the plugin reports.
    pub fn parse(address: &str) -> Result<ZapAddress, EnvError> {
        if address.is_empty() {
            return Err(EnvError::EmptyAddress);
        }
        let unix = address.starts_with('@') || address.starts_with('/') || address.contains('/');
        Ok(if unix {
            ZapAddress::Unix(address.to_owned())
        } else {
            ZapAddress::Tcp(address.to_owned())
        })
    }

    /// The address as written in the environment or the handshake.
    pub fn as_str(&self) -> &str {
        match self {
            ZapAddress::Tcp(a) | ZapAddress::Unix(a) => a,
        }
    }
}

/// The engine address, typed: where the plugin dials for the handshake.
pub fn engine_zap_address(env: &EnvMap) -> Result<ZapAddress, EnvError> {
    ZapAddress::parse(engine_address(env)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn either_transport_key_selects_zap() {
        assert_eq!(
            transport(&env(&[("VM_TRANSPORT", "zap")])),
            Ok(Transport::Zap)
        );
        assert_eq!(
            transport(&env(&[("LUX_VM_TRANSPORT", "zap")])),
            Ok(Transport::Zap)
        );
        assert_eq!(
            transport(&env(&[
                ("VM_TRANSPORT", "zap"),
                ("LUX_VM_TRANSPORT", "zap")
            ])),
            Ok(Transport::Zap)
        );
    }

    #[test]
    fn no_transport_key_means_grpc() {
        assert_eq!(transport(&env(&[])), Ok(Transport::Grpc));
        assert_eq!(
            transport(&env(&[("VM_TRANSPORT", "")])),
            Ok(Transport::Grpc)
        );
        assert_eq!(
            transport(&env(&[("LUX_VM_RUNTIME_ENGINE_ADDR", "127.0.0.1:1")])),
            Ok(Transport::Grpc)
        );
    }

    #[test]
    fn unknown_or_conflicting_transports_are_errors() {
        assert_eq!(
            transport(&env(&[("VM_TRANSPORT", "ZAP2")])),
            Err(EnvError::UnknownTransport {
                key: "VM_TRANSPORT",
                value: "ZAP2".into()
            })
        );
        assert_eq!(
            transport(&env(&[
                ("VM_TRANSPORT", "grpc"),
                ("LUX_VM_TRANSPORT", "zap")
            ])),
            Err(EnvError::ConflictingTransport {
                new: "grpc".into(),
                legacy: "zap".into()
            })
        );
    }

    #[test]
    fn either_engine_key_gives_the_address() {
        let both = env(&[
            ("VM_RUNTIME_ENGINE_ADDR", "127.0.0.1:9650"),
            ("LUX_VM_RUNTIME_ENGINE_ADDR", "127.0.0.1:9650"),
        ]);
        assert_eq!(engine_address(&both), Ok("127.0.0.1:9650"));
        assert_eq!(
            engine_address(&env(&[("VM_RUNTIME_ENGINE_ADDR", "127.0.0.1:1")])),
            Ok("127.0.0.1:1")
        );
        assert_eq!(
            engine_address(&env(&[("LUX_VM_RUNTIME_ENGINE_ADDR", "127.0.0.1:2")])),
            Ok("127.0.0.1:2")
        );
    }

    #[test]
    fn missing_or_conflicting_engine_addresses_are_errors() {
        assert_eq!(engine_address(&env(&[])), Err(EnvError::NoEngineAddress));
        assert_eq!(
            engine_address(&env(&[("VM_RUNTIME_ENGINE_ADDR", "")])),
            Err(EnvError::NoEngineAddress)
        );
        assert_eq!(
            engine_address(&env(&[
                ("VM_RUNTIME_ENGINE_ADDR", "127.0.0.1:1"),
                ("LUX_VM_RUNTIME_ENGINE_ADDR", "127.0.0.1:2"),
            ])),
            Err(EnvError::ConflictingEngineAddress {
                new: "127.0.0.1:1".into(),
                legacy: "127.0.0.1:2".into()
            })
        );
    }

    #[test]
    fn the_address_rule_picks_tcp_or_unix() {
        let tcp = |a: &str| ZapAddress::Tcp(a.into());
        let unix = |a: &str| ZapAddress::Unix(a.into());
        assert_eq!(
            ZapAddress::parse("127.0.0.1:40000"),
            Ok(tcp("127.0.0.1:40000"))
        );
        assert_eq!(ZapAddress::parse("[::1]:40000"), Ok(tcp("[::1]:40000")));
        assert_eq!(ZapAddress::parse("localhost"), Ok(tcp("localhost")));
        assert_eq!(
            ZapAddress::parse("/tmp/luxd-vm-1/vm.sock"),
            Ok(unix("/tmp/luxd-vm-1/vm.sock"))
        );
        assert_eq!(ZapAddress::parse("@luxd-vm"), Ok(unix("@luxd-vm")));
        assert_eq!(ZapAddress::parse("run/vm.sock"), Ok(unix("run/vm.sock")));
        assert_eq!(ZapAddress::parse("run/a:b"), Ok(unix("run/a:b")));
        assert_eq!(ZapAddress::parse(""), Err(EnvError::EmptyAddress));
        assert_eq!(tcp("h:1").as_str(), "h:1");
    }

    #[test]
    fn the_engine_address_comes_typed() {
        let e = env(&[("VM_RUNTIME_ENGINE_ADDR", "/tmp/x/vm.sock")]);
        assert_eq!(
            engine_zap_address(&e),
            Ok(ZapAddress::Unix("/tmp/x/vm.sock".into()))
        );
        assert_eq!(
            engine_zap_address(&env(&[])),
            Err(EnvError::NoEngineAddress)
        );
    }
}
