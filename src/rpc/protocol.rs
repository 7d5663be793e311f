//! Which RPCChainVM protocol numbers we speak and what each implies. The rest of the code asks the
//! [`Profile`] questions instead of comparing version numbers itself.

use std::fmt;

/// The protocol of AvalancheGo v1.14.2, the newest node.
pub const LATEST: u32 = 45;

/// Every wire profile this build implements, ascending (profiles.md section 1 lists the numbers
/// that exist). [`Profile::new`], `stampvm version` and every "not supported" message read this
/// list, so teaching the plugin another profile means implementing it and adding its number here.
///
/// 42-45 (AvalancheGo v1.13.3 - v1.14.2) share one column of profiles.md's switch table: the node
/// waits with WaitForEvent, every message this plugin writes or reads has the same layout, and
/// the error numbering is the same; only the announced number differs.
pub const SUPPORTED: &[u32] = &[42, 43, 44, LATEST];

/// luxd's announced number whose wire is an older AvalancheGo profile: luxd v1.11.14 and later
/// announce 43 but speak profile 35's messages (profiles.md section 1, node-behaviour.md 13).
const LUXD_REMAPPED: &[(u32, u32)] = &[(43, 35)];

/// The wire profile a node with `flavour` speaks when it announces `announced`. Equal to
/// `announced` except on luxd, whose number was bumped without changing its messages.
pub fn wire_profile(announced: u32, flavour: HostFlavour) -> u32 {
    match flavour {
        HostFlavour::AvalancheGo => announced,
        HostFlavour::Luxd => LUXD_REMAPPED
            .iter()
            .find(|(from, _)| *from == announced)
            .map_or(announced, |(_, to)| *to),
    }
}

/// [`SUPPORTED`] for people: runs collapsed, e.g. `45` or `28-31, 33-45`.
pub fn supported_text() -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &number in SUPPORTED {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == number => *end = number,
            _ => runs.push((number, number)),
        }
    }
    runs.iter()
        .map(|&(start, end)| match start == end {
            true => start.to_string(),
            false => format!("{start}-{end}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

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

/// Why a protocol number cannot be played: the message names the number, the wire profile it
/// stands for when that differs (luxd), and what this build speaks instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", unsupported_text(*.announced, *.flavour))]
pub struct UnsupportedProtocol {
    pub announced: u32,
    pub flavour: HostFlavour,
}

fn unsupported_text(announced: u32, flavour: HostFlavour) -> String {
    let wire = wire_profile(announced, flavour);
    let number = match wire == announced {
        true => format!("RPCChainVM protocol {announced}"),
        false => format!("luxd's RPCChainVM protocol {announced} (wire profile {wire})"),
    };
    format!(
        "{number} is not supported by this build; supported: {}",
        supported_text()
    )
}

impl Profile {
    /// The profile for an announced number on a given host; refused unless the wire it implies
    /// ([`wire_profile`]) is in [`SUPPORTED`].
    pub fn new(announced: u32, flavour: HostFlavour) -> Result<Profile, UnsupportedProtocol> {
        if !SUPPORTED.contains(&wire_profile(announced, flavour)) {
            return Err(UnsupportedProtocol { announced, flavour });
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

    /// The wire profile whose message layouts we use (differs from [`Profile::announced`] on luxd).
    pub fn wire(&self) -> u32 {
        wire_profile(self.announced, self.flavour)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_supported_wires_make_a_profile() {
        for &number in SUPPORTED {
            let profile = Profile::new(number, HostFlavour::AvalancheGo).unwrap();
            assert_eq!((profile.announced(), profile.wire()), (number, number));
        }
        let error = Profile::new(41, HostFlavour::AvalancheGo).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "RPCChainVM protocol 41 is not supported by this build; supported: {}",
                supported_text()
            )
        );
        assert_eq!(supported_text(), "42-45");
        assert!(
            Profile::new(32, HostFlavour::AvalancheGo).is_err(),
            "never released"
        );
    }

    // luxd "43" speaks profile 35 (profiles.md section 1): accepted only if 35 is supported.
    #[test]
    fn luxd_43_is_judged_as_profile_35() {
        assert_eq!(wire_profile(43, HostFlavour::Luxd), 35);
        assert_eq!(wire_profile(43, HostFlavour::AvalancheGo), 43);
        assert_eq!(wire_profile(35, HostFlavour::Luxd), 35);
        let luxd = Profile::new(43, HostFlavour::Luxd);
        assert_eq!(luxd.is_ok(), SUPPORTED.contains(&35));
        if let Err(error) = luxd {
            assert!(
                error.to_string().contains("protocol 43 (wire profile 35)"),
                "{error}"
            );
        }
    }

    #[test]
    fn supported_text_lists_the_build() {
        let text = supported_text();
        for &number in SUPPORTED {
            let listed = text.split(", ").any(|run| match run.split_once('-') {
                Some((a, b)) => (a.parse().unwrap()..=b.parse().unwrap()).contains(&number),
                None => run.parse() == Ok(number),
            });
            assert!(listed, "{number} missing from {text}");
        }
    }
}
