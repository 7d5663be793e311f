//! Which RPCChainVM protocol numbers we speak and what each implies. The rest of the code asks the
//! [`Profile`] questions instead of comparing version numbers itself.

use std::fmt;

/// The protocol of AvalancheGo v1.15.0 - v1.15.1, the newest node this build knows.
pub const LATEST: u32 = 46;

/// Every wire profile this build implements, ascending: each AvalancheGo RPCChainVM number that
/// was released (profiles.md section 1; 32 never was). [`Profile::new`], `stampvm version` and
/// every "not supported" message read this list. 46 (v1.15) changed no message of 45: the number
/// was bumped for a network upgrade only (profiles.md section 1), so every predicate below that
/// holds from 42 or 45 holds for it too.
pub const SUPPORTED: &[u32] = &[
    28, 29, 30, 31, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, LATEST,
];

/// The opt-in that lets a node newer than this build load it (README, "A node newer than this
/// build"): AvalancheGo bumps the number for each network upgrade, usually without changing a
/// message, and refuses any plugin that does not announce its exact number.
pub const FOLLOW_NEWER_FLAG: &str = "--follow-newer-protocol";
/// The same opt-in as an environment variable; `GRPC_`-prefixed so the node forwards it.
pub const FOLLOW_NEWER_ENV_VAR: &str = "GRPC_STAMPVM_FOLLOW_NEWER";

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
    /// The profile whose layouts we use: [`wire_profile`] of the number, or [`LATEST`] when a
    /// newer node is followed ([`Profile::following_newer`]).
    wire: u32,
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

impl UnsupportedProtocol {
    /// True when the number belongs to an AvalancheGo newer than this build, the one case the
    /// follow-newer opt-in may serve. Numbers below the oldest supported, the never-released 32
    /// and luxd numbers we do not know are never followed: their wire is not ours.
    pub fn is_newer_node(&self) -> bool {
        self.flavour == HostFlavour::AvalancheGo && self.announced > LATEST
    }
}

fn unsupported_text(announced: u32, flavour: HostFlavour) -> String {
    let wire = wire_profile(announced, flavour);
    let number = match (flavour, wire == announced) {
        (HostFlavour::AvalancheGo, _) => format!("RPCChainVM protocol {announced}"),
        (HostFlavour::Luxd, true) => format!("luxd's RPCChainVM protocol {announced}"),
        (HostFlavour::Luxd, false) => {
            format!("luxd's RPCChainVM protocol {announced} (wire profile {wire})")
        }
    };
    let supported = match flavour {
        HostFlavour::AvalancheGo => supported_text(),
        HostFlavour::Luxd => format!("luxd {}", luxd_supported_text()),
    };
    format!("{number} is not supported by this build; supported: {supported}")
}

/// The numbers luxd's gRPC builds announce (profiles.md section 1); no other luxd exists to
/// speak to, so a luxd claiming another number is refused like an unknown AvalancheGo one.
pub const LUXD_ANNOUNCED: &[u32] = &[30, 35, 43];

fn luxd_supported_text() -> String {
    LUXD_ANNOUNCED
        .iter()
        .filter(|&&n| SUPPORTED.contains(&wire_profile(n, HostFlavour::Luxd)))
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Profile {
    /// The profile for an announced number on a given host; refused unless the wire it implies
    /// ([`wire_profile`]) is in [`SUPPORTED`].
    pub fn new(announced: u32, flavour: HostFlavour) -> Result<Profile, UnsupportedProtocol> {
        let known = flavour == HostFlavour::AvalancheGo || LUXD_ANNOUNCED.contains(&announced);
        let wire = wire_profile(announced, flavour);
        if !known || !SUPPORTED.contains(&wire) {
            return Err(UnsupportedProtocol { announced, flavour });
        }
        Ok(Profile {
            announced,
            wire,
            flavour,
        })
    }

    /// A profile that announces an AvalancheGo number newer than [`LATEST`] and speaks
    /// [`LATEST`]'s wire: what the follow-newer opt-in plays. Refused for every number
    /// [`UnsupportedProtocol::is_newer_node`] refuses, and for numbers this build supports (those
    /// take [`Profile::new`]).
    pub fn following_newer(announced: u32) -> Result<Profile, UnsupportedProtocol> {
        let unsupported = UnsupportedProtocol {
            announced,
            flavour: HostFlavour::AvalancheGo,
        };
        match unsupported.is_newer_node() {
            true => Ok(Profile {
                announced,
                wire: LATEST,
                flavour: HostFlavour::AvalancheGo,
            }),
            false => Err(unsupported),
        }
    }

    pub fn latest() -> Profile {
        Profile {
            announced: LATEST,
            wire: LATEST,
            flavour: HostFlavour::AvalancheGo,
        }
    }

    /// True when this profile announces a number newer than this build and speaks the newest
    /// wire it knows ([`Profile::following_newer`]).
    pub fn follows_newer(&self) -> bool {
        self.announced != self.wire && self.flavour == HostFlavour::AvalancheGo
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
        self.wire
    }

    /// True when the node asks for block-building events with `vm.VM/WaitForEvent` (42 and later);
    /// false when the plugin must call `Messenger.Notify` instead (all luxd profiles included).
    pub fn node_waits_for_events(&self) -> bool {
        self.wire() >= 42
    }

    /// The `vm.Error` value meaning "not found": 2 in every numbering.
    pub fn err_not_found(&self) -> i32 {
        2
    }

    /// The `vm.Error` value meaning "state sync not implemented": 4 up to 34 (where 3 meant
    /// "height index incomplete"), 3 from 35 (profiles.md 3.3).
    pub fn err_state_sync_not_implemented(&self) -> i32 {
        match self.wire() {
            ..=34 => 4,
            _ => 3,
        }
    }

    /// How `InitializeRequest` field 13 names the node's database server.
    pub fn db_server_layout(&self) -> DbServerLayout {
        match self.wire() {
            ..=29 => DbServerLayout::VersionedList,
            _ => DbServerLayout::Address,
        }
    }

    /// How a `vm.Handler` is laid out: profile 28 still carries `lock_options`.
    pub fn handler_layout(&self) -> HandlerLayout {
        match self.wire() {
            ..=28 => HandlerLayout::WithLockOptions,
            _ => HandlerLayout::Plain,
        }
    }

    /// The node starts a second, uninitialized process at registration and calls
    /// `CreateStaticHandlers` on it (28-30).
    pub fn serves_static_handlers(&self) -> bool {
        self.wire() <= 30
    }

    /// The node calls `VerifyHeightIndex` during chain creation (28-34).
    pub fn answers_verify_height_index(&self) -> bool {
        self.wire() <= 34
    }

    /// Block responses must carry `status` (field 3): the node refuses 0 up to 35.
    pub fn sends_block_status(&self) -> bool {
        self.wire() <= 35
    }

    /// `CrossChainAppRequest`, `…Failed` and `…Response` exist (28-36 and every luxd profile).
    pub fn has_cross_chain_app(&self) -> bool {
        self.wire() <= 36
    }

    /// What `ConnectedRequest` field 2 holds, and whether `AppRequestFailedMsg` has 3-4.
    pub fn peer_version_layout(&self) -> PeerVersionLayout {
        match self.wire() {
            ..=30 => PeerVersionLayout::VersionText,
            _ => PeerVersionLayout::NameAndNumbers,
        }
    }

    /// The `appsender.SendAppGossipMsg` layout the node decodes.
    pub fn gossip_layout(&self) -> GossipLayout {
        match self.wire() {
            ..=33 => GossipLayout::MsgOnly,
            34 => GossipLayout::MsgWithCounts,
            _ => GossipLayout::Targeted,
        }
    }

    /// The extra handler RPC the node calls after `CreateHandlers`, if any.
    pub fn extra_handler_rpc(&self) -> ExtraHandlerRpc {
        match self.wire() {
            ..=40 => ExtraHandlerRpc::None,
            41 => ExtraHandlerRpc::CreateHttp2Handler,
            _ => ExtraHandlerRpc::NewHttpHandler,
        }
    }

    /// Where `http.HTTP/Handle` finds the request body, and how the end of a streamed one is said.
    pub fn handle_body(&self) -> HandleBody {
        match self.wire() {
            ..=39 => HandleBody::Inline,
            40 | 41 => HandleBody::Streamed(ReadErrorLayout::Text),
            _ => HandleBody::Streamed(ReadErrorLayout::Coded),
        }
    }

    /// `http.HTTP/Handle` answers `HTTPResponse{header}` (40+) rather than `Empty`.
    pub fn handle_returns_headers(&self) -> bool {
        self.wire() >= 40
    }

    /// `HandleSimpleHTTPRequest.response_headers` (5) is sent and must be echoed (42+).
    pub fn echoes_response_headers(&self) -> bool {
        self.wire() >= 42
    }

    /// `InitializeRequest.network_upgrades` (15) is sent (37+; never by luxd).
    pub fn sends_network_upgrades(&self) -> bool {
        self.wire() >= 37
    }

    /// The node merges plugin response headers into its own (≤39) rather than replacing them.
    pub fn node_merges_response_headers(&self) -> bool {
        self.wire() <= 39
    }

    /// The node sends every HTTP/2 request through `http.HTTP/Handle` (41+); before, only
    /// `Upgrade` requests go there and HTTP/2 ones without it take `HandleSimple` like HTTP/1.x
    /// (node-behaviour.md 8.2).
    pub fn routes_http2_through_handle(&self) -> bool {
        self.wire() >= 41
    }

    /// The first node release of this profile (profiles.md section 1): how a host playing it
    /// names itself to peers (`ConnectedRequest`) and in its handshake refusal.
    pub fn node_release(&self) -> NodeRelease {
        let release = |client, minor, patch| NodeRelease {
            client,
            major: 1,
            minor,
            patch,
        };
        match (self.flavour, self.announced) {
            // luxd v1.10.17 calls itself `lux`; from v1.11.10 (which reports 1.11.9) `node`.
            (HostFlavour::Luxd, 30) => release("lux", 10, 17),
            (HostFlavour::Luxd, 35) => release("node", 11, 9),
            (HostFlavour::Luxd, _) => release("node", 13, 4),
            // AvalancheGo called itself `avalanche` up to v1.10.17 (profile 30).
            (HostFlavour::AvalancheGo, 28) => release("avalanche", 10, 9),
            (HostFlavour::AvalancheGo, 29) => release("avalanche", 10, 13),
            (HostFlavour::AvalancheGo, 30) => release("avalanche", 10, 15),
            (HostFlavour::AvalancheGo, 31) => release("avalanchego", 10, 18),
            (HostFlavour::AvalancheGo, 33) => release("avalanchego", 11, 0),
            (HostFlavour::AvalancheGo, 34) => release("avalanchego", 11, 2),
            (HostFlavour::AvalancheGo, 35) => release("avalanchego", 11, 3),
            (HostFlavour::AvalancheGo, 36) => release("avalanchego", 11, 10),
            (HostFlavour::AvalancheGo, 37) => release("avalanchego", 11, 11),
            (HostFlavour::AvalancheGo, 38) => release("avalanchego", 11, 13),
            (HostFlavour::AvalancheGo, 39) => release("avalanchego", 12, 2),
            (HostFlavour::AvalancheGo, 40) => release("avalanchego", 13, 1),
            (HostFlavour::AvalancheGo, 41) => release("avalanchego", 13, 2),
            (HostFlavour::AvalancheGo, 42) => release("avalanchego", 13, 3),
            (HostFlavour::AvalancheGo, 43) => release("avalanchego", 13, 4),
            (HostFlavour::AvalancheGo, 44) => release("avalanchego", 14, 0),
            (HostFlavour::AvalancheGo, 45) => release("avalanchego", 14, 2),
            // 46, and a newer node followed with 46's wire: the newest release this build knows.
            (HostFlavour::AvalancheGo, _) => release("avalanchego", 15, 0),
        }
    }
}

/// A node release: its client name as peers see it, and its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRelease {
    /// `avalanche` (AvalancheGo up to v1.10.17), `avalanchego`, `lux` or `node` (luxd).
    pub client: &'static str,
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl fmt::Display for NodeRelease {
    /// `avalanche/1.10.15`: the form of the node's `--version` and of `ConnectedRequest.version`
    /// up to 30.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let NodeRelease {
            client,
            major,
            minor,
            patch,
        } = self;
        write!(f, "{client}/{major}.{minor}.{patch}")
    }
}

/// `InitializeRequest` field 13 (profiles.md 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbServerLayout {
    /// 28-29: `repeated VersionedDBServer db_servers`.
    VersionedList,
    /// 30+: `string db_server_addr`.
    Address,
}

/// `vm.Handler` (profiles.md 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandlerLayout {
    /// 28: prefix 1, lock_options 2, server_addr 3.
    WithLockOptions,
    /// 29+: prefix 1, server_addr 2.
    Plain,
}

/// `ConnectedRequest` field 2 and the size of `AppRequestFailedMsg` (profiles.md 3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerVersionLayout {
    /// 28-30: field 2 is `avalanche/1.10.15`; AppRequestFailedMsg has fields 1-2.
    VersionText,
    /// 31+: `name` 2, `major` 3, `minor` 4, `patch` 5; AppRequestFailedMsg has 1-4.
    NameAndNumbers,
}

/// `appsender.SendAppGossipMsg` (profiles.md 3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GossipLayout {
    /// 28-33: `msg` 1; the node samples targets from the subnet's gossip settings.
    MsgOnly,
    /// 34: `msg` 1, `num_validators` 2, `num_non_validators` 3, `num_peers` 4.
    MsgWithCounts,
    /// 35+: `node_ids` 1, `validators` 2, `non_validators` 3, `peers` 4, `msg` 5.
    Targeted,
}

/// The handler RPC that follows `CreateHandlers` (profiles.md 3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraHandlerRpc {
    None,
    /// 41: every HTTP/2 request with a `chain-id` header goes to that server.
    CreateHttp2Handler,
    /// 42+: requests with `Avalanche-Api-Route` go to that server.
    NewHttpHandler,
}

/// Where `Handle` gets the request body (profiles.md 3.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleBody {
    /// ≤39: whole body in `Request.body` (7); no reader is served.
    Inline,
    /// 40+: read from the node's `io.reader.Reader` until EOF.
    Streamed(ReadErrorLayout),
}

/// `io.reader.ReadResponse.error` (field 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadErrorLayout {
    /// ≤41: `optional string`; end of body is the text `EOF`.
    Text,
    /// 42+: message `Error{error_code, message}`; end of body is `ERROR_CODE_EOF`.
    Coded,
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = match self.flavour {
            HostFlavour::AvalancheGo => "avalanchego",
            HostFlavour::Luxd => "luxd",
        };
        write!(f, "{host} protocol {}", self.announced)?;
        match self.follows_newer() {
            true => write!(f, " (followed with the wire of {})", self.wire),
            false => Ok(()),
        }
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
        let error = Profile::new(47, HostFlavour::AvalancheGo).unwrap_err();
        assert_eq!(
            error.to_string(),
            "RPCChainVM protocol 47 is not supported by this build; supported: 28-31, 33-46"
        );
        for unreleased in [27, 32, 47] {
            assert!(Profile::new(unreleased, HostFlavour::AvalancheGo).is_err());
        }
        for luxd in [30, 35, 43] {
            assert!(Profile::new(luxd, HostFlavour::Luxd).is_ok(), "luxd {luxd}");
        }
        let luxd_45 = Profile::new(45, HostFlavour::Luxd).unwrap_err();
        assert_eq!(
            luxd_45.to_string(),
            "luxd's RPCChainVM protocol 45 is not supported by this build; supported: luxd 30, 35, 43"
        );
    }

    /// profiles.md section 4, one row per line: the columns 28, 29, 30, 31-34, 35, 36-39, 40-41,
    /// 42-45 (and 46, the wire of 45) expanded to every number, then luxd 30, 35 and "43".
    #[test]
    fn answers_follow_the_switch_table() {
        let avalanchego = |n| Profile::new(n, HostFlavour::AvalancheGo).unwrap();
        let luxd = |n| Profile::new(n, HostFlavour::Luxd).unwrap();
        let mut profiles: Vec<Profile> = SUPPORTED.iter().map(|&n| avalanchego(n)).collect();
        profiles.extend([luxd(30), luxd(35), luxd(43)]);
        // One letter per profile, in the order of `profiles`; a space before the luxd columns.
        type Row = (&'static str, fn(&Profile) -> char, &'static str);
        let rows: &[Row] = &[
            (
                "field 13",
                |p| match p.db_server_layout() {
                    DbServerLayout::VersionedList => 'V',
                    DbServerLayout::Address => 'A',
                },
                "VVAAAAAAAAAAAAAAAA AAA",
            ),
            (
                "handler",
                |p| match p.handler_layout() {
                    HandlerLayout::WithLockOptions => 'W',
                    HandlerLayout::Plain => 'P',
                },
                "WPPPPPPPPPPPPPPPPP PPP",
            ),
            (
                "static handlers",
                |p| flag(p.serves_static_handlers()),
                "yyynnnnnnnnnnnnnnn ynn",
            ),
            (
                "height index",
                |p| flag(p.answers_verify_height_index()),
                "yyyyyynnnnnnnnnnnn ynn",
            ),
            (
                "state sync error",
                |p| match p.err_state_sync_not_implemented() {
                    4 => '4',
                    3 => '3',
                    _ => '?',
                },
                "444444333333333333 433",
            ),
            (
                "block status",
                |p| flag(p.sends_block_status()),
                "yyyyyyynnnnnnnnnnn yyy",
            ),
            (
                "peer version",
                |p| match p.peer_version_layout() {
                    PeerVersionLayout::VersionText => 'V',
                    PeerVersionLayout::NameAndNumbers => 'N',
                },
                "VVVNNNNNNNNNNNNNNN VNN",
            ),
            (
                "gossip",
                |p| match p.gossip_layout() {
                    GossipLayout::MsgOnly => '1',
                    GossipLayout::MsgWithCounts => '4',
                    GossipLayout::Targeted => '5',
                },
                "111114555555555555 155",
            ),
            (
                "cross chain",
                |p| flag(p.has_cross_chain_app()),
                "yyyyyyyynnnnnnnnnn yyy",
            ),
            (
                "wait for event",
                |p| flag(p.node_waits_for_events()),
                "nnnnnnnnnnnnnyyyyy nnn",
            ),
            (
                "handle body",
                |p| match p.handle_body() {
                    HandleBody::Inline => 'i',
                    HandleBody::Streamed(ReadErrorLayout::Text) => 't',
                    HandleBody::Streamed(ReadErrorLayout::Coded) => 'c',
                },
                "iiiiiiiiiiittccccc iii",
            ),
            (
                "echo headers",
                |p| flag(p.echoes_response_headers()),
                "nnnnnnnnnnnnnyyyyy nnn",
            ),
            (
                "extra handler",
                |p| match p.extra_handler_rpc() {
                    ExtraHandlerRpc::None => '-',
                    ExtraHandlerRpc::CreateHttp2Handler => '2',
                    ExtraHandlerRpc::NewHttpHandler => 'N',
                },
                "------------2NNNNN ---",
            ),
            (
                "network upgrades",
                |p| flag(p.sends_network_upgrades()),
                "nnnnnnnnyyyyyyyyyy nnn",
            ),
            (
                "http/2 via handle",
                |p| flag(p.routes_http2_through_handle()),
                "nnnnnnnnnnnnyyyyyy nnn",
            ),
            (
                "node client",
                |p| match p.node_release().client {
                    "avalanche" => 'a',
                    "avalanchego" => 'g',
                    "lux" => 'l',
                    "node" => 'n',
                    _ => '?',
                },
                "aaaggggggggggggggg lnn",
            ),
            (
                // The release's minor version in hex: 1.10 = 'a' ... 1.14 = 'e'.
                "node minor",
                |p| char::from_digit(p.node_release().minor, 16).unwrap_or('?'),
                "aaaabbbbbbcddddeef abd",
            ),
        ];
        for (name, answer, expected) in rows {
            let got: String = profiles.iter().map(answer).collect();
            assert_eq!(got, expected.replace(' ', ""), "{name}");
        }
    }

    fn flag(value: bool) -> char {
        if value {
            'y'
        } else {
            'n'
        }
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

    // A newer AvalancheGo is followed with the newest wire; nothing else ever is.
    #[test]
    fn only_newer_avalanchego_numbers_are_followed() {
        let followed = Profile::following_newer(LATEST + 1).unwrap();
        assert_eq!(
            (
                followed.announced(),
                followed.wire(),
                followed.follows_newer()
            ),
            (LATEST + 1, LATEST, true)
        );
        assert_eq!(
            followed.node_waits_for_events(),
            Profile::latest().node_waits_for_events()
        );
        assert_eq!(
            followed.to_string(),
            format!(
                "avalanchego protocol {} (followed with the wire of {LATEST})",
                LATEST + 1
            )
        );
        for never in [0, 27, 32, LATEST, 28] {
            assert!(Profile::following_newer(never).is_err(), "{never}");
        }
        assert!(!Profile::latest().follows_newer());
        assert!(!Profile::new(43, HostFlavour::Luxd).unwrap().follows_newer());
        let luxd_unknown = UnsupportedProtocol {
            announced: 99,
            flavour: HostFlavour::Luxd,
        };
        assert!(!luxd_unknown.is_newer_node());
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
