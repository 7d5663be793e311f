//! Choosing the RPCChainVM protocol before the handshake (README "Protocol versions";
//! docs/spec/node-behaviour.md sections 2, 3 and 13): `--rpcchainvm-protocol N`, then
//! `GRPC_STAMPVM_PROTOCOL=N`, then the parent's `--version`, then the newest supported number.
//!
//! The plugin runs under `tests/fake_node.c` (compiled here with `cc`), a real executable that
//! prints a chosen `--version` line (or hangs) and otherwise starts the plugin as its child, so
//! it is the plugin's parent. Fails if the wrong source wins, if the log line does not say which
//! number was chosen and why, if an unsupported number gets as far as `Runtime.Initialize` (the
//! host expects that very number in those cases, so a handshake would succeed and be caught), or
//! if a hanging parent costs the handshake its 5 s budget.

use crate::common;

use common::dev::{children, running};
use common::{plugin_binary, run_cli};
use rpcchainvm::protocol::{self, HostFlavour};
use rpcchainvm_host::{HostError, LaunchOptions, PluginProcess};
use serde_json::Value;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const AVALANCHEGO_45: &str =
    "avalanchego/1.14.2 [database=v1.4.5, rpcchainvm=45, commit=0123456789abcdef0123456789abcdef01234567, go=1.23.9]";
const AVALANCHEGO_41: &str =
    "avalanchego/1.13.2 [database=v1.4.5, rpcchainvm=41, commit=0123456789abcdef0123456789abcdef01234567, go=1.22.8]";
/// AvalancheGo v1.15 (Helicon), the newest node this build knows.
const AVALANCHEGO_46: &str =
    "avalanchego/1.15.0 [database=v1.4.5, rpcchainvm=46, commit=0123456789abcdef0123456789abcdef01234567, go=1.24.1]";

/// The number of a node newer than this build, as text.
fn newer() -> String {
    (protocol::LATEST + 1).to_string()
}

/// The `--version` line of a node newer than this build: the "unsupported" example.
fn newer_node_line() -> String {
    format!(
        "avalanchego/1.16.0 [database=v1.4.5, rpcchainvm={}, commit=0123456789abcdef0123456789abcdef01234567, go=1.25.0]",
        newer()
    )
}
/// The oldest supported node's line, in AvalancheGo v1.10's `avalanche/` spelling.
const AVALANCHEGO_28: &str =
    "avalanche/1.10.9 [database=v1.4.5, rpcchainvm=28, commit=0123456789abcdef0123456789abcdef01234567, go=1.20.8]";
const LUXD_43: &str = "node/1.13.4 [database=v1.4.5, rpcchainvm=43, go=1.23.6]";

/// The fake node, compiled once per test run into a directory that lives as long as the process.
fn fake_node() -> PathBuf {
    static BUILT: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fake-node");
        let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/fake_node.c");
        let output = std::process::Command::new("cc")
            .arg("-o")
            .arg(&path)
            .arg(&source)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "these tests need a C compiler as `cc` to build {} (install gcc or clang): {e}",
                    source.display()
                )
            });
        assert!(
            output.status.success(),
            "cc failed on {}: {}",
            source.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        (dir, path)
    });
    path.clone()
}

/// The plugin launched as the fake node's child, the fake node printing `version_line` for
/// `--version`; the host expects `expected` at the handshake.
fn under_fake_node(
    name: &str,
    version_line: &str,
    plugin_args: &[&str],
    expected: u32,
) -> LaunchOptions {
    let mut options = LaunchOptions::new(fake_node());
    options.name = name.to_string();
    options.args = std::iter::once(plugin_binary().into_os_string())
        .chain(plugin_args.iter().map(OsString::from))
        .collect();
    options.extra_env = vec![("FAKE_NODE_VERSION".into(), version_line.into())];
    options.expected_protocol = Some(expected);
    options
}

/// What one launch did: the handshake result, and every line the plugin logged.
struct Launched {
    result: Result<PluginProcess, HostError>,
    lines: Vec<String>,
    took: Duration,
}

impl Launched {
    /// The one "protocol N chosen …" line; fails unless there is exactly one.
    fn choice_line(&self) -> &str {
        let chosen: Vec<&String> = self
            .lines
            .iter()
            .filter(|l| l.contains("RPCChainVM protocol") && l.contains(" chosen "))
            .collect();
        assert_eq!(
            chosen.len(),
            1,
            "one choice line expected: {:#?}",
            self.lines
        );
        chosen[0]
    }

    fn has_line(&self, needle: &str) -> bool {
        self.lines.iter().any(|l| l.contains(needle))
    }
}

/// Launches, stops the plugin again if it handshook (SIGTERM: it never got `vm.VM/Initialize`,
/// so it exits at once), and collects its log until both pipes close.
async fn launch(mut options: LaunchOptions) -> Launched {
    let (sink, mut receiver) = mpsc::unbounded_channel();
    options.output = Some(sink);
    let started = Instant::now();
    let result = PluginProcess::launch(options).await;
    let took = started.elapsed();
    if let Ok(process) = &result {
        let status = process
            .terminate(Duration::from_secs(5))
            .await
            .expect("plugin stops");
        assert!(status.success(), "exited with {status}");
    }
    let mut lines = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), receiver.recv()).await {
            Ok(Some(line)) => lines.push(line),
            Ok(None) => break,
            Err(_) => panic!("the plugin's output never closed: {lines:#?}"),
        }
    }
    Launched {
        result,
        lines,
        took,
    }
}

#[track_caller]
fn assert_handshook(launched: &Launched, protocol: u32) {
    match &launched.result {
        Ok(process) => assert_eq!(process.protocol(), protocol),
        Err(error) => panic!("no handshake: {error}\n{:#?}", launched.lines),
    }
}

/// The plugin must have exited non-zero before any handshake, saying which number it refused and
/// what this build supports.
#[track_caller]
fn assert_refused_before_handshake(launched: &Launched, number: &str, source: &str) {
    match &launched.result {
        Err(HostError::ExitedBeforeHandshake { status, .. }) => {
            assert!(!status.success(), "{status}")
        }
        Err(other) => panic!("unexpected error: {other}\n{:#?}", launched.lines),
        Ok(_) => panic!("an unsupported number handshook:\n{:#?}", launched.lines),
    }
    let supported = format!("supported: {}", protocol::supported_text());
    assert!(
        launched.lines.iter().any(|l| l.contains("stampvm: error")
            && l.contains(number)
            && l.contains("is not supported")
            && l.contains(&supported)
            && l.contains(source)),
        "no clear refusal naming {number}, {source:?} and {supported:?}: {:#?}",
        launched.lines
    );
}

// (c) An AvalancheGo-style `--version` line from the parent decides the number.
#[tokio::test]
async fn parent_version_decides() {
    let launched = launch(under_fake_node("parent-45", AVALANCHEGO_45, &[], 45)).await;
    assert_handshook(&launched, 45);
    let line = launched.choice_line();
    assert!(
        line.contains(&format!(
            "RPCChainVM protocol 45 chosen from the parent's --version ({AVALANCHEGO_45})"
        )),
        "{line}"
    );
}

// (c) The oldest node we speak, whose line starts `avalanche/` rather than `avalanchego/`.
#[tokio::test]
async fn parent_announcing_28_gets_28() {
    let launched = launch(under_fake_node("parent-28", AVALANCHEGO_28, &[], 28)).await;
    assert_handshook(&launched, 28);
    let line = launched.choice_line();
    assert!(
        line.contains("RPCChainVM protocol 28 chosen from the parent's --version"),
        "{line}"
    );
}

// (c) AvalancheGo v1.15 announces 46: played as itself (the wire of 45).
#[tokio::test]
async fn parent_announcing_46_gets_46() {
    let launched = launch(under_fake_node("parent-46", AVALANCHEGO_46, &[], 46)).await;
    assert_handshook(&launched, 46);
    let line = launched.choice_line();
    assert!(
        line.contains("RPCChainVM protocol 46 chosen from the parent's --version"),
        "{line}"
    );
    assert!(!launched.has_line("WARN"), "{:#?}", launched.lines);
}

// (c) A parent newer than this build: refused by default, before Runtime.Initialize, and the
// message says how to opt in.
#[tokio::test]
async fn newer_parent_is_refused_by_default() {
    let number = protocol::LATEST + 1;
    let launched = launch(under_fake_node(
        "parent-newer",
        &newer_node_line(),
        &[],
        number,
    ))
    .await;
    assert_refused_before_handshake(
        &launched,
        &format!("RPCChainVM protocol {number}"),
        "the parent's --version",
    );
    assert!(
        launched.has_line("--follow-newer-protocol or GRPC_STAMPVM_FOLLOW_NEWER=1"),
        "no opt-in advice: {:#?}",
        launched.lines
    );
}

// (c) The same parent with GRPC_STAMPVM_FOLLOW_NEWER=1: its number is announced, the newest wire
// spoken, and one WARN line names both numbers and the reason.
#[tokio::test]
async fn newer_parent_is_followed_with_the_opt_in() {
    let number = protocol::LATEST + 1;
    let mut options = under_fake_node("parent-followed", &newer_node_line(), &[], number);
    options
        .extra_env
        .push(("GRPC_STAMPVM_FOLLOW_NEWER".into(), "1".into()));
    let launched = launch(options).await;
    assert_handshook(&launched, number);
    let warnings: Vec<&String> = launched
        .lines
        .iter()
        .filter(|l| l.contains("WARN"))
        .collect();
    assert_eq!(warnings.len(), 1, "{:#?}", launched.lines);
    let expected = format!(
        "the node announces RPCChainVM protocol {number}, newer than this build's newest ({}): announcing {number} and speaking the wire of {} because GRPC_STAMPVM_FOLLOW_NEWER=1 was given",
        protocol::LATEST,
        protocol::LATEST
    );
    assert!(warnings[0].contains(&expected), "{}", warnings[0]);
}

// (c) luxd announces 43 but speaks profile 35; the flavour comes from LUX_VM_RUNTIME_ENGINE_ADDR.
#[tokio::test]
async fn luxd_number_is_judged_by_its_wire_profile() {
    let mut options = under_fake_node("luxd-43", LUXD_43, &[], 43);
    options.profile = protocol::Profile::new(43, HostFlavour::Luxd).unwrap();
    let launched = launch(options).await;
    let line = launched.choice_line();
    assert!(line.contains("LUX_VM_RUNTIME_ENGINE_ADDR"), "{line}");
    if protocol::SUPPORTED.contains(&35) {
        assert_handshook(&launched, 43);
    } else {
        assert_refused_before_handshake(
            &launched,
            "luxd's RPCChainVM protocol 43 (wire profile 35)",
            "the parent's --version",
        );
    }
}

// (c) → (d) A parent whose `--version` hangs is killed after ~2 s; the newest number is used and
// the handshake still fits the node's 5 s budget (LaunchOptions' default timeout).
#[tokio::test]
async fn hanging_parent_falls_back_to_the_newest_in_time() {
    let launched = launch(under_fake_node(
        "parent-hangs",
        "hang",
        &[],
        protocol::LATEST,
    ))
    .await;
    assert_handshook(&launched, protocol::LATEST);
    assert!(
        launched.took >= Duration::from_secs(2),
        "{:?}",
        launched.took
    );
    let line = launched.choice_line();
    assert!(
        line.contains(&format!(
            "RPCChainVM protocol {} chosen as the newest supported; could not learn the node's number: the parent's --version did not finish within 2s",
            protocol::LATEST
        )),
        "{line}"
    );
}

// (d) A parent that is not a node (here: this test binary, whose `--version` is an error).
#[tokio::test]
async fn ordinary_parent_means_the_newest() {
    let mut options = LaunchOptions::new(plugin_binary());
    options.name = "plain-parent".into();
    let launched = launch(options).await;
    assert_handshook(&launched, protocol::LATEST);
    let line = launched.choice_line();
    assert!(
        line.contains(&format!(
            "RPCChainVM protocol {} chosen as the newest supported; could not learn the node's number: the parent's --version printed no rpcchainvm=N",
            protocol::LATEST
        )),
        "{line}"
    );
}

// (a) The command line beats the environment, which beats the parent.
#[tokio::test]
async fn command_line_beats_environment_and_parent() {
    let mut options = under_fake_node(
        "flag-45",
        AVALANCHEGO_41,
        &["--rpcchainvm-protocol", "45"],
        45,
    );
    options
        .extra_env
        .push(("GRPC_STAMPVM_PROTOCOL".into(), "41".into()));
    let launched = launch(options).await;
    assert_handshook(&launched, 45);
    let line = launched.choice_line();
    assert!(
        line.contains("RPCChainVM protocol 45 chosen from --rpcchainvm-protocol"),
        "{line}"
    );
}

// (a) The README's operator recipe: a script named by the VM ID that execs the real binary with
// the flag. `exec` keeps the node as the plugin's parent; the script gets no PATH.
#[tokio::test]
async fn wrapper_script_sets_the_number() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir
        .path()
        .join("sr8ijvKKXxgbA1qvYYVChqBtVGrXq3vP7WTYLxsXUrt478CmF");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec {} --rpcchainvm-protocol 45 \"$@\"\n",
            plugin_binary().display()
        ),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&script, permissions).unwrap();
    for attempt in 0.. {
        let mut options = LaunchOptions::new(&script);
        options.name = "wrapper".into();
        // The node the script was written for: AvalancheGo v1.14.2.
        options.profile = protocol::Profile::new(45, HostFlavour::AvalancheGo).unwrap();
        let launched = launch(options).await;
        // Another test thread's fork may briefly hold the new script open for writing.
        if let Err(HostError::Spawn { source, .. }) = &launched.result {
            if source.raw_os_error() == Some(libc::ETXTBSY) && attempt < 50 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        }
        assert_handshook(&launched, 45);
        let line = launched.choice_line();
        assert!(
            line.contains("RPCChainVM protocol 45 chosen from --rpcchainvm-protocol"),
            "{line}"
        );
        break;
    }
}

// (a) An unsupported number on the command line is refused even if the parent says 45; with
// --follow-newer-protocol beside it, a newer number is announced.
#[tokio::test]
async fn command_line_with_unsupported_number_is_refused() {
    let number = protocol::LATEST + 1;
    let flag = ["--rpcchainvm-protocol", &newer()];
    let options = under_fake_node("flag-newer", AVALANCHEGO_45, &flag, number);
    let launched = launch(options).await;
    assert_refused_before_handshake(
        &launched,
        &format!("RPCChainVM protocol {number}"),
        "from --rpcchainvm-protocol",
    );
    let followed = [flag[0], flag[1], "--follow-newer-protocol"];
    let launched = launch(under_fake_node(
        "flag-followed",
        AVALANCHEGO_45,
        &followed,
        number,
    ))
    .await;
    assert_handshook(&launched, number);
    assert!(
        launched.has_line("because --follow-newer-protocol was given"),
        "{:#?}",
        launched.lines
    );
    // 32 was never released: the opt-in does not make it playable.
    let never = ["--rpcchainvm-protocol", "32", "--follow-newer-protocol"];
    let launched = launch(under_fake_node("flag-32", AVALANCHEGO_45, &never, 32)).await;
    assert_refused_before_handshake(
        &launched,
        "RPCChainVM protocol 32",
        "from --rpcchainvm-protocol",
    );
}

// (b) The node forwards GRPC_* variables; ours beats the parent's `--version`.
#[tokio::test]
async fn environment_beats_parent() {
    let mut options = under_fake_node("env-45", AVALANCHEGO_41, &[], 45);
    options
        .extra_env
        .push(("GRPC_STAMPVM_PROTOCOL".into(), "45".into()));
    let launched = launch(options).await;
    assert_handshook(&launched, 45);
    let line = launched.choice_line();
    assert!(
        line.contains("RPCChainVM protocol 45 chosen from GRPC_STAMPVM_PROTOCOL"),
        "{line}"
    );
}

// (b) An unsupported number in the environment is refused.
#[tokio::test]
async fn environment_with_unsupported_number_is_refused() {
    let number = protocol::LATEST + 1;
    let mut options = under_fake_node("env-newer", AVALANCHEGO_45, &[], number);
    options
        .extra_env
        .push(("GRPC_STAMPVM_PROTOCOL".into(), newer().into()));
    let launched = launch(options).await;
    assert_refused_before_handshake(
        &launched,
        &format!("RPCChainVM protocol {number}"),
        "from GRPC_STAMPVM_PROTOCOL",
    );
}

// (b) A value that is not a number is an operator error, not a silent fallback.
#[tokio::test]
async fn environment_garbage_is_refused() {
    let mut options = under_fake_node("env-garbage", AVALANCHEGO_45, &[], protocol::LATEST);
    options
        .extra_env
        .push(("GRPC_STAMPVM_PROTOCOL".into(), "latest".into()));
    let launched = launch(options).await;
    assert!(
        matches!(
            launched.result,
            Err(HostError::ExitedBeforeHandshake { .. })
        ),
        "{:#?}",
        launched.lines
    );
    assert!(
        launched.has_line("GRPC_STAMPVM_PROTOCOL=\"latest\" is not an RPCChainVM protocol number"),
        "{:#?}",
        launched.lines
    );
}

/// The `rpcchainvm` number of a `--version-json`-style output, read as tmpnet reads a VM
/// binary's `VersionArgs` output: everything before the first `{` is skipped, the rest must be
/// one JSON object whose `rpcchainvm` is an unsigned integer.
fn rpcchainvm_as_tmpnet_reads_it(output: &str) -> u64 {
    let start = output
        .find('{')
        .unwrap_or_else(|| panic!("no JSON object in {output:?}"));
    let object: serde_json::Map<String, Value> =
        serde_json::from_str(&output[start..]).unwrap_or_else(|e| panic!("{e}: {output:?}"));
    object["rpcchainvm"]
        .as_u64()
        .unwrap_or_else(|| panic!("rpcchainvm is not a u64: {output:?}"))
}

/// `stampvm <args>` with `env` as its only environment: (exit success, stdout, stderr).
fn run_version(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = std::process::Command::new(plugin_binary())
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (out.status.success(), text(out.stdout), text(out.stderr))
}

// `stampvm version` names the number it announces and every number it speaks; `--json` is the
// shape tmpnet parses, for the default, a pinned number (flag or environment) and a followed one.
#[test]
fn version_command_reports_the_announced_number() {
    let luxd = "luxd 30, 35, 43";
    let expected_line = |number: u32| {
        format!(
            "stampvm {} [rpcchainvm={number}] (speaks RPCChainVM {}; {luxd})",
            stampvm::VERSION,
            protocol::supported_text()
        )
    };
    assert_eq!(
        run_cli(&["version"]).trim(),
        expected_line(protocol::LATEST)
    );
    // clap's --version prints the same line, so `rpcchainvm=N` reads as in a node's.
    assert_eq!(
        run_cli(&["--version"]).trim(),
        expected_line(protocol::LATEST)
    );

    let json: Value = serde_json::from_str(&run_cli(&["version", "--json"])).unwrap();
    assert_eq!(json["application"], format!("stampvm/{}", stampvm::VERSION));
    assert_eq!(json["version"], stampvm::VERSION);
    assert_eq!(json["wire"], protocol::LATEST);
    let supported: Vec<u32> = serde_json::from_value(json["supported"].clone()).unwrap();
    assert_eq!(supported, protocol::SUPPORTED);
    assert_eq!(json["luxd"], serde_json::json!([30, 35, 43]));

    /// Arguments, environment, the number tmpnet must read.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], u64);
    let cases: &[Case] = &[
        (&["version", "--json"], &[], protocol::LATEST.into()),
        (
            &["version", "--json", "--rpcchainvm-protocol", "44"],
            &[],
            44,
        ),
        (
            &["version", "--json"],
            &[("GRPC_STAMPVM_PROTOCOL", "41")],
            41,
        ),
        // The flag beats the environment, as in plugin mode.
        (
            &["version", "--json", "--rpcchainvm-protocol", "45"],
            &[("GRPC_STAMPVM_PROTOCOL", "41")],
            45,
        ),
    ];
    for (args, env, number) in cases {
        let (ok, stdout, stderr) = run_version(args, env);
        assert!(ok, "{args:?} {env:?}: {stderr}");
        // tmpnet tolerates anything before the object: a banner line must not break it.
        let with_noise = format!("some log line\n{stdout}");
        assert_eq!(
            rpcchainvm_as_tmpnet_reads_it(&with_noise),
            *number,
            "{args:?} {env:?}"
        );
    }

    // A newer number: refused unless followed; then announced over the newest wire.
    let newer = newer();
    let (ok, _, stderr) = run_version(&["version", "--json", "--rpcchainvm-protocol", &newer], &[]);
    assert!(!ok);
    assert!(stderr.contains("is not supported"), "{stderr}");
    let (ok, stdout, stderr) = run_version(
        &["version", "--json", "--rpcchainvm-protocol", &newer],
        &[("GRPC_STAMPVM_FOLLOW_NEWER", "1")],
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        rpcchainvm_as_tmpnet_reads_it(&stdout),
        u64::from(protocol::LATEST + 1)
    );
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["wire"], protocol::LATEST);
}

/// The PIDs of running processes whose environment holds `marker` (`NAME=VALUE`): the plugin
/// and anything it started inherit it.
fn processes_marked(marker: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if running(pid) && environ.split(|&b| b == 0).any(|v| v == marker.as_bytes()) {
            found.push(pid as u32);
        }
    }
    found
}

/// Waits up to 10 s for no process to carry `marker`.
async fn none_left(marker: &str) -> Vec<u32> {
    for _ in 0..200 {
        let left = processes_marked(marker);
        if left.is_empty() {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    processes_marked(marker)
}

// avalanche-cli learns a custom VM's protocol by starting the binary under its own process (not
// a node: its `--version` prints no rpcchainvm=) with a runtime server, reading the number from
// Runtime.Initialize, then killing it. The plugin must announce the newest number within the
// node's 5 s budget, and whether the prober kills the plugin or dies itself, nothing of the
// plugin may stay behind.
#[tokio::test]
async fn non_node_prober_gets_the_newest_number_and_leaves_nothing() {
    for (case, kill_parent) in [("kill-plugin", false), ("kill-prober", true)] {
        let marker = format!("STAMPVM_TEST_PROBE={case}-{}", std::process::id());
        let mut options = under_fake_node(case, "avalanche version 1.9.2", &[], protocol::LATEST);
        let (name, value) = marker.split_once('=').unwrap();
        options.extra_env.push((name.into(), value.into()));
        let started = Instant::now();
        let process = PluginProcess::launch(options)
            .await
            .unwrap_or_else(|e| panic!("{case}: no handshake: {e}"));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{case}: {:?}",
            started.elapsed()
        );
        assert_eq!(process.protocol(), protocol::LATEST, "{case}");
        let plugins = children(process.pid() as i32);
        assert_eq!(
            plugins.len(),
            1,
            "{case}: the prober's children: {plugins:?}"
        );
        let plugin = plugins[0] as u32;
        let victim = if kill_parent { process.pid() } else { plugin };
        // SAFETY: kill(2) on a PID we just read as our own child's child (or our child).
        assert_eq!(
            unsafe { libc::kill(victim as libc::pid_t, libc::SIGKILL) },
            0
        );
        let status = process.wait_exit(Duration::from_secs(10)).await;
        assert!(status.is_some(), "{case}: the fake prober did not exit");
        let left = none_left(&marker).await;
        assert!(left.is_empty(), "{case}: processes left behind: {left:?}");
    }
}
