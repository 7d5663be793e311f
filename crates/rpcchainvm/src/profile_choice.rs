//! Which RPCChainVM protocol number to announce, decided before the handshake because the node
//! gives no second try (node-behaviour.md sections 2 and 3). First match wins:
//!
//! 1. `--rpcchainvm-protocol N` on our command line (a wrapper script installed as the plugin);
//! 2. `GRPC_STAMPVM_PROTOCOL=N` in the environment (the node forwards every `GRPC_*` variable);
//! 3. the node's own number: its binary, `/proc/<ppid>/exe`, run with `--version` under a short
//!    timeout, prints `…[…, rpcchainvm=N, …]`;
//! 4. the newest number this build speaks.
//!
//! The host flavour always comes from the engine-address variable that was set, never from the
//! `--version` text. A number this build does not speak is an error, so the caller can exit
//! before the handshake with a message that says what to install instead; the one exception is
//! an AvalancheGo newer than this build when the operator opted in (`--follow-newer-protocol` or
//! `GRPC_STAMPVM_FOLLOW_NEWER=1`): its number is announced and the newest known wire spoken,
//! because AvalancheGo bumps the number for network upgrades that change no message.

use crate::protocol::{
    self, HostFlavour, Profile, UnsupportedProtocol, FOLLOW_NEWER_ENV_VAR, FOLLOW_NEWER_FLAG,
};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The command-line flag of step 1 (for messages; clap owns the parsing).
pub const FLAG: &str = "--rpcchainvm-protocol";
/// The environment variable of step 2.
pub const ENV_VAR: &str = "GRPC_STAMPVM_PROTOCOL";

/// Set in the environment of the parent's `--version` run. A node prints its version and exits;
/// a parent that is not a node might instead start plugins, and a stampvm started from inside
/// such a run must not probe its own parent again, or the probes would recurse. The `GRPC_`
/// prefix lets it through a node-style host, which forwards only `GRPC_*` variables.
pub const PROBING_VAR: &str = "GRPC_STAMPVM_PROBING";
/// How long the node's `--version` may take: well inside the node's 5 s handshake budget.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// The most of the node's `--version` output we read (it prints one short line).
const PROBE_OUTPUT_LIMIT: u64 = 16 * 1024;
/// The longest `--version` line we quote in the log.
const QUOTE_LIMIT: usize = 200;

/// Where the chosen number came from; its `Display` completes "protocol N chosen …".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    CommandLine,
    Environment,
    /// The node's `--version` line, as printed.
    Parent {
        version_line: String,
    },
    /// Why the node's number could not be learned.
    Newest {
        why: String,
    },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::CommandLine => write!(f, "from {FLAG}"),
            Reason::Environment => write!(f, "from {ENV_VAR}"),
            Reason::Parent { version_line } => {
                write!(f, "from the parent's --version ({version_line})")
            }
            Reason::Newest { why } => write!(
                f,
                "as the newest supported; could not learn the node's number: {why}"
            ),
        }
    }
}

/// A decided number and why, before it is checked against what this build speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub number: u32,
    pub reason: Reason,
}

/// Why no profile can be played; the process should exit non-zero without handshaking.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChoiceError {
    #[error("{ENV_VAR}={value:?} is not an RPCChainVM protocol number (supported: {supported})", supported = protocol::supported_text())]
    BadEnvironment { value: String },
    #[error("{FOLLOW_NEWER_ENV_VAR}={value:?} is neither 1/true nor 0/false")]
    BadFollowEnvironment { value: String },
    #[error("{unsupported} (the number was taken {reason}). {}", advice(.unsupported, .reason))]
    Unsupported {
        unsupported: UnsupportedProtocol,
        reason: Reason,
    },
}

/// What the operator can do about an unsupported number, by where it came from, and for a node
/// newer than this build, how to opt in to following it.
fn advice(unsupported: &UnsupportedProtocol, reason: &Reason) -> String {
    let fix = match reason {
        Reason::CommandLine | Reason::Environment => {
            "Set the number the node announces (its `--version` shows rpcchainvm=N); it must be one this build speaks"
        }
        Reason::Parent { .. } | Reason::Newest { .. } => {
            "The node accepts only its own number: install a stampvm build that speaks it"
        }
    };
    match unsupported.is_newer_node() {
        true => format!(
            "{fix}, or, since AvalancheGo usually bumps the number without changing a message, opt in to announcing {} with the wire of {} ({FOLLOW_NEWER_FLAG} or {FOLLOW_NEWER_ENV_VAR}=1)",
            unsupported.announced,
            protocol::LATEST
        ),
        false => fix.to_string(),
    }
}

/// Why step 3 (asking the node) gave no number; becomes the text of [`Reason::Newest`].
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot run the parent's executable {exe}: {source}")]
    Spawn {
        exe: PathBuf,
        source: std::io::Error,
    },
    #[error("the parent's --version did not finish within {0:?}")]
    Timeout(Duration),
    #[error("reading the parent's --version output: {0}")]
    Read(std::io::Error),
    #[error("the parent's --version printed no rpcchainvm=N ({quoted})")]
    NoNumber { quoted: String },
    #[error("this process was started from inside another stampvm's parent probe ({PROBING_VAR} is set)")]
    Nested,
    #[error("no node launched this command")]
    NoNode,
}

/// Decides the profile for this process (steps 1-4 of the module doc), logs one line saying which
/// number was chosen and why, and checks it is one this build speaks (or, with `follow_newer`
/// from the command line or [`FOLLOW_NEWER_ENV_VAR`], one a newer node announces; then one WARN
/// line names both numbers).
pub fn choose(
    flag: Option<u32>,
    follow_newer_flag: bool,
    flavour: HostFlavour,
) -> Result<Profile, ChoiceError> {
    let environment = std::env::var_os(ENV_VAR).map(|v| v.to_string_lossy().into_owned());
    let follow_newer = follow_newer_flag || follow_newer_from_environment()?;
    let choice = decide(flag, environment.as_deref(), || {
        if std::env::var_os(PROBING_VAR).is_some() {
            return Err(ProbeError::Nested);
        }
        probe_parent(&parent_executable(), PROBE_TIMEOUT)
    })?;
    tracing::info!(
        engine_addr_var = flavour.engine_addr_var(),
        "RPCChainVM protocol {} chosen {}",
        choice.number,
        choice.reason
    );
    let profile = resolve(choice, flavour, follow_newer)?;
    if profile.follows_newer() {
        tracing::warn!(
            "the node announces RPCChainVM protocol {}, newer than this build's newest ({}): announcing {} and speaking the wire of {} because {} was given; AvalancheGo usually bumps the number only for a network upgrade, but if the node reports errors, install a stampvm that speaks {}",
            profile.announced(),
            protocol::LATEST,
            profile.announced(),
            profile.wire(),
            match follow_newer_flag {
                true => FOLLOW_NEWER_FLAG.to_string(),
                false => format!("{FOLLOW_NEWER_ENV_VAR}=1"),
            },
            profile.announced()
        );
    }
    Ok(profile)
}

/// The profile a plugin would play under no node, from the command line and the environment
/// only (steps 1, 2 and 4): what `stampvm version` reports, so that a tool checking the binary
/// before starting a network (tmpnet's `VersionArgs`) reads the number the plugin will announce.
pub fn choose_without_node(
    flag: Option<u32>,
    follow_newer_flag: bool,
) -> Result<Profile, ChoiceError> {
    let environment = std::env::var_os(ENV_VAR).map(|v| v.to_string_lossy().into_owned());
    let follow_newer = follow_newer_flag || follow_newer_from_environment()?;
    let choice = decide(flag, environment.as_deref(), || Err(ProbeError::NoNode))?;
    resolve(choice, HostFlavour::AvalancheGo, follow_newer)
}

/// Whether [`FOLLOW_NEWER_ENV_VAR`] opts in; unset or empty is no.
pub fn follow_newer_from_environment() -> Result<bool, ChoiceError> {
    let Some(value) = std::env::var_os(FOLLOW_NEWER_ENV_VAR) else {
        return Ok(false);
    };
    let value = value.to_string_lossy();
    parse_switch(&value).ok_or_else(|| ChoiceError::BadFollowEnvironment {
        value: value.into_owned(),
    })
}

/// An on/off value as operators write it: `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`/empty,
/// any case, surrounding blanks allowed.
fn parse_switch(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "" | "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The profile for a decided number: one this build speaks, or, when `follow_newer` and the
/// number belongs to an AvalancheGo newer than this build, that number over the newest wire.
pub fn resolve(
    choice: Choice,
    flavour: HostFlavour,
    follow_newer: bool,
) -> Result<Profile, ChoiceError> {
    Profile::new(choice.number, flavour).or_else(|unsupported| {
        match follow_newer && unsupported.is_newer_node() {
            true => Profile::following_newer(choice.number),
            false => Err(unsupported),
        }
        .map_err(|unsupported| ChoiceError::Unsupported {
            unsupported,
            reason: choice.reason,
        })
    })
}

/// Steps 1-4 with the node asked through `probe` (run only when steps 1 and 2 gave nothing); it
/// returns the node's number and its `--version` line.
pub fn decide(
    flag: Option<u32>,
    environment: Option<&str>,
    probe: impl FnOnce() -> Result<(u32, String), ProbeError>,
) -> Result<Choice, ChoiceError> {
    if let Some(number) = flag {
        return Ok(Choice {
            number,
            reason: Reason::CommandLine,
        });
    }
    if let Some(value) = environment {
        let number = parse_number(value).ok_or_else(|| ChoiceError::BadEnvironment {
            value: value.to_string(),
        })?;
        return Ok(Choice {
            number,
            reason: Reason::Environment,
        });
    }
    Ok(match probe() {
        Ok((number, version_line)) => Choice {
            number,
            reason: Reason::Parent { version_line },
        },
        Err(why) => Choice {
            number: protocol::LATEST,
            reason: Reason::Newest {
                why: why.to_string(),
            },
        },
    })
}

/// A protocol number as an operator writes it: decimal digits, surrounding blanks allowed.
pub fn parse_number(text: &str) -> Option<u32> {
    let text = text.trim();
    match !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        true => text.parse().ok(),
        false => None,
    }
}

/// The `N` of the first `rpcchainvm=N` in a node's `--version` output (node-behaviour.md
/// section 3; every AvalancheGo and luxd release prints it). `rpcchainvm` must start a word.
pub fn rpcchainvm_from_version(output: &str) -> Option<u32> {
    const KEY: &str = "rpcchainvm=";
    let mut from = 0;
    while let Some(found) = output[from..].find(KEY) {
        let start = from + found;
        from = start + KEY.len();
        let starts_word = output[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        let digits: &str = &output[from..];
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        if starts_word && end > 0 {
            if let Ok(number) = digits[..end].parse() {
                return Some(number);
            }
        }
    }
    None
}

/// The first non-blank line of `output`, shortened for a log line.
fn quote_first_line(output: &str) -> String {
    let line = output
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    match line.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None if line.is_empty() => "no output".to_string(),
        None => line.to_string(),
    }
}

/// Our parent's executable through procfs: still runnable if the file on disk was replaced.
pub fn parent_executable() -> PathBuf {
    PathBuf::from(format!("/proc/{}/exe", std::os::unix::process::parent_id()))
}

/// Runs `exe --version` (our environment, no stdin), waiting at most `timeout`; a run that
/// takes longer is killed. Returns the number and the quoted first line of its output (stdout
/// and stderr together, as a terminal would show them).
pub fn probe_parent(exe: &Path, timeout: Duration) -> Result<(u32, String), ProbeError> {
    let deadline = Instant::now() + timeout;
    let (reader, writer) = std::io::pipe().map_err(ProbeError::Read)?;
    let spawned = {
        let mut command = Command::new(exe);
        // Its own process group, so that whatever it starts dies with it (KillOnDrop).
        command
            .arg("--version")
            .stdin(Stdio::null())
            .env(PROBING_VAR, "1")
            .process_group(0);
        match writer.try_clone() {
            Ok(second) => command.stdout(writer).stderr(second),
            Err(e) => return Err(ProbeError::Read(e)),
        };
        command.spawn()
        // `command`, holding our copies of the pipe's write end, is dropped here, so the reader
        // sees EOF once the child (and anything it started) closes its copies.
    };
    let child = spawned.map_err(|source| ProbeError::Spawn {
        exe: exe.to_path_buf(),
        source,
    })?;
    let mut child = KillOnDrop(child);

    // A thread reads, so the deadline holds even if a grandchild keeps the pipe open.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut output = Vec::new();
        let result = reader
            .take(PROBE_OUTPUT_LIMIT)
            .read_to_end(&mut output)
            .map(|_| output);
        let _ = sender.send(result);
    });
    let output = match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(result) => result.map_err(ProbeError::Read)?,
        Err(_) => return Err(ProbeError::Timeout(timeout)),
    };
    // Reap it if it is done; otherwise KillOnDrop ends it.
    while Instant::now() < deadline {
        match child.0.try_wait() {
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&output);
    let quoted = quote_first_line(&text);
    match rpcchainvm_from_version(&text) {
        Some(number) => Ok((number, quoted)),
        None => Err(ProbeError::NoNumber { quoted }),
    }
}

/// Kills the `--version` child's whole process group (anything it started too) and reaps the
/// child unless it already exited.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.0.id()) {
            // SAFETY: kill(2) with a negative pid signals the group we created at spawn; it
            // touches no memory of ours.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The `--version` lines of node-behaviour.md section 3.
    #[test]
    fn number_is_read_from_every_node_version_line() {
        let lines = [
            ("avalanche/1.10.15 [database=v1.4.5, rpcchainvm=30, commit=0123456789abcdef0123456789abcdef01234567, go=1.20.10]\n", 30),
            ("avalanchego/1.11.3 [database=v1.4.5, rpcchainvm=35, commit=0123456789abcdef0123456789abcdef01234567, go=1.21.8]\n", 35),
            ("avalanchego/1.14.2 [database=v1.4.5, rpcchainvm=45, commit=0123456789abcdef0123456789abcdef01234567, go=1.23.9]\n", 45),
            ("lux/1.10.17 [database=v1.4.5, rpcchainvm=30, commit=abc, go=1.21.1]\n", 30),
            ("node/1.13.4 [database=v1.4.5, rpcchainvm=43, commit=abc, go=1.23.6]\n", 43),
            // Built without a commit id: `commit=…, ` is left out.
            ("avalanchego/1.14.2 [database=v1.4.5, rpcchainvm=45, go=1.23.9]\n", 45),
        ];
        for (line, number) in lines {
            assert_eq!(rpcchainvm_from_version(line), Some(number), "{line}");
        }
    }

    #[test]
    fn garbage_has_no_number() {
        for text in [
            "",
            "stampvm 0.1.0",
            "error: Unrecognized option: 'version'",
            "couldn't configure flags: unknown flag: --version-json",
            "avalanchego/1.14.2 [database=v1.4.5, rpcchainvm=, go=1.23.9]",
            "avalanchego/1.14.2 [rpcchainvm=x45]",
            "xrpcchainvm=45",
            "rpcchainvm=99999999999999999999",
        ] {
            assert_eq!(rpcchainvm_from_version(text), None, "{text:?}");
        }
        assert_eq!(
            rpcchainvm_from_version("not_rpcchainvm=1 rpcchainvm=44"),
            Some(44)
        );
    }

    #[test]
    fn operator_numbers_are_plain_decimal() {
        assert_eq!(parse_number("45"), Some(45));
        assert_eq!(parse_number(" 35\n"), Some(35));
        for bad in ["", "v45", "+45", "-1", "4 5", "forty-five"] {
            assert_eq!(parse_number(bad), None, "{bad:?}");
        }
    }

    fn unreachable_probe() -> Result<(u32, String), ProbeError> {
        panic!("the node must not be asked when a number was given")
    }

    #[test]
    fn flag_beats_environment_beats_parent() {
        let chosen = decide(Some(44), Some("43"), unreachable_probe).unwrap();
        assert_eq!((chosen.number, chosen.reason), (44, Reason::CommandLine));
        let chosen = decide(None, Some("43"), unreachable_probe).unwrap();
        assert_eq!((chosen.number, chosen.reason), (43, Reason::Environment));
        let chosen = decide(None, None, || Ok((42, "avalanchego/1.13.3 […]".into()))).unwrap();
        assert_eq!(chosen.number, 42);
        assert_eq!(
            format!("protocol 42 chosen {}", chosen.reason),
            "protocol 42 chosen from the parent's --version (avalanchego/1.13.3 […])"
        );
    }

    #[test]
    fn unknown_node_number_falls_back_to_the_newest() {
        let chosen = decide(None, None, || Err(ProbeError::Timeout(PROBE_TIMEOUT))).unwrap();
        assert_eq!(chosen.number, protocol::LATEST);
        assert_eq!(
            chosen.reason.to_string(),
            "as the newest supported; could not learn the node's number: the parent's --version did not finish within 2s"
        );
    }

    #[test]
    fn a_bad_environment_value_is_an_error() {
        let error = decide(None, Some("latest"), unreachable_probe).unwrap_err();
        assert_eq!(
            error,
            ChoiceError::BadEnvironment {
                value: "latest".into()
            }
        );
        assert!(error
            .to_string()
            .contains("GRPC_STAMPVM_PROTOCOL=\"latest\""));
    }

    #[test]
    fn a_newer_node_is_refused_unless_followed() {
        let newer = protocol::LATEST + 1;
        let from_parent = || Choice {
            number: newer,
            reason: Reason::Parent {
                version_line: "avalanchego/1.16.0 […]".into(),
            },
        };
        let refused = resolve(from_parent(), HostFlavour::AvalancheGo, false).unwrap_err();
        let text = refused.to_string();
        assert!(
            text.contains(&format!("RPCChainVM protocol {newer} is not supported"))
                && text.contains("install a stampvm build that speaks it")
                && text.contains("--follow-newer-protocol or GRPC_STAMPVM_FOLLOW_NEWER=1"),
            "{text}"
        );
        let followed = resolve(from_parent(), HostFlavour::AvalancheGo, true).unwrap();
        assert_eq!(
            (followed.announced(), followed.wire()),
            (newer, protocol::LATEST)
        );
        // Supported numbers are played as themselves whether or not the opt-in is on.
        let supported = Choice {
            number: 44,
            reason: Reason::Environment,
        };
        assert!(!resolve(supported, HostFlavour::AvalancheGo, true)
            .unwrap()
            .follows_newer());
    }

    #[test]
    fn old_unreleased_and_luxd_numbers_are_never_followed() {
        for (number, flavour) in [
            (27, HostFlavour::AvalancheGo),
            (32, HostFlavour::AvalancheGo),
            (0, HostFlavour::AvalancheGo),
            (protocol::LATEST + 1, HostFlavour::Luxd),
            (42, HostFlavour::Luxd),
        ] {
            let choice = Choice {
                number,
                reason: Reason::CommandLine,
            };
            let error = resolve(choice, flavour, true).unwrap_err();
            assert!(
                !error.to_string().contains("--follow-newer-protocol"),
                "{number} {flavour:?}: {error}"
            );
        }
    }

    #[test]
    fn follow_switch_reads_operator_spellings() {
        for on in ["1", "true", " TRUE ", "yes", "on"] {
            assert_eq!(parse_switch(on), Some(true), "{on:?}");
        }
        for off in ["", "0", "false", "No", "off"] {
            assert_eq!(parse_switch(off), Some(false), "{off:?}");
        }
        for bad in ["2", "enable", "y e s"] {
            assert_eq!(parse_switch(bad), None, "{bad:?}");
        }
    }

    /// [`probe_parent`], retried while another test thread's fork still holds the script we
    /// just wrote open for writing (ETXTBSY).
    fn probe(exe: &Path, timeout: Duration) -> Result<(u32, String), ProbeError> {
        for _ in 0..50 {
            match probe_parent(exe, timeout) {
                Err(ProbeError::Spawn { source, .. })
                    if source.raw_os_error() == Some(libc::ETXTBSY) =>
                {
                    std::thread::sleep(Duration::from_millis(20))
                }
                other => return other,
            }
        }
        panic!("{} stayed busy", exe.display())
    }

    // Real processes: a clean run, a run without a number, a hang (killed at the deadline).
    #[test]
    fn probe_runs_the_executable_with_a_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let script = |name: &str, body: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            let mut permissions = std::fs::metadata(&path).unwrap().permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
            std::fs::set_permissions(&path, permissions).unwrap();
            path
        };
        let node = script(
            "node",
            r#"[ "$1" = --version ] && echo "avalanchego/1.14.2 [database=v1.4.5, rpcchainvm=45, go=1.23.9]""#,
        );
        let (number, line) = probe(&node, PROBE_TIMEOUT).unwrap();
        assert_eq!(number, 45);
        assert_eq!(
            line,
            "avalanchego/1.14.2 [database=v1.4.5, rpcchainvm=45, go=1.23.9]"
        );

        let other = script("other", "echo 'usage: other' >&2; exit 1");
        let error = probe(&other, PROBE_TIMEOUT).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the parent's --version printed no rpcchainvm=N (usage: other)"
        );

        let hang = script("hang", "exec sleep 30");
        let started = Instant::now();
        let error = probe(&hang, Duration::from_millis(300)).unwrap_err();
        assert!(matches!(error, ProbeError::Timeout(_)), "{error}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not killed in time"
        );

        let missing = probe_parent(&dir.path().join("missing"), PROBE_TIMEOUT).unwrap_err();
        assert!(matches!(missing, ProbeError::Spawn { .. }), "{missing}");
    }
}
