//! Which RPCChainVM protocol numbers we speak and what each implies. The rest of the code asks the
//! [`Profile`] questions instead of comparing version numbers itself.

use std::fmt;

/// The protocol of AvalancheGo v1.14.2, the newest node.
pub const LATEST: u32 = 45;

/// Which node launched us; told apart by the engine-address variable that was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostFlavour {
    AvalancheGo,
    Luxd,
}

impl HostFlavour {
    /// The environment variable through which this node passes its runtime address.
    pub fn engine_addr_var(self) -> &'static str {
        match self {
            HostFlavour::AvalancheGo => "AVALANCHE_VM_RUNTIME_ENGINE_ADDR",
            HostFlavour::Luxd => "LUX_VM_RUNTIME_ENGINE_ADDR",
        }
    }
}

/// A wire profile: the number we announce at the handshake and the behaviour that goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    announced: u32,
    flavour: HostFlavour,
}

/// Why a protocol number cannot be played.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("RPCChainVM protocol {0} is not supported; this build speaks {LATEST}")]
pub struct UnsupportedProtocol(pub u32);

impl Profile {
    /// The profile for an announced number on a given host.
    pub fn new(announced: u32, flavour: HostFlavour) -> Result<Profile, UnsupportedProtocol> {
        if announced != LATEST {
            return Err(UnsupportedProtocol(announced));
        }
        Ok(Profile { announced, flavour })
    }

    pub fn latest() -> Profile {
        Profile {
            announced: LATEST,
            flavour: HostFlavour::AvalancheGo,
        }
    }

    /// The number sent in Runtime.Initialize.
    pub fn announced(&self) -> u32 {
        self.announced
    }

    pub fn flavour(&self) -> HostFlavour {
        self.flavour
    }

    /// True when the node asks for block-building events with `vm.VM/WaitForEvent` (42 and later);
    /// false when the plugin must call `Messenger.Notify` instead.
    pub fn node_waits_for_events(&self) -> bool {
        self.flavour == HostFlavour::AvalancheGo && self.announced >= 42
    }

    /// The `vm.Error` value meaning "not found" in this profile's numbering.
    pub fn err_not_found(&self) -> i32 {
        2
    }

    /// The `vm.Error` value meaning "state sync not implemented" in this profile's numbering.
    pub fn err_state_sync_not_implemented(&self) -> i32 {
        3
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = match self.flavour {
            HostFlavour::AvalancheGo => "avalanchego",
            HostFlavour::Luxd => "luxd",
        };
        write!(f, "{host} protocol {}", self.announced)
    }
}
