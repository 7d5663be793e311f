//! The host drives a plugin that is not ours: timestampvm 0.0.18 from crates.io (Rust, built on
//! avalanche-types 0.1.3, RPCChainVM protocol 28), with the host playing AvalancheGo at
//! protocol 28. Unlike stampvm it keeps its state in the node's database, so this is also the
//! end-to-end test of the host's `rpcdb.Database` server (`rpcchainvm_host::rpcdb`).
//!
//! The lifecycle, in the node's order (docs/spec/node-behaviour.md sections 4-10):
//! registration (a Version → Shutdown probe process, then the ≤30 static-handler process and its
//! `CreateStaticHandlers`), the chain process (Initialize with `db_servers` → VerifyHeightIndex →
//! CreateHandlers → StateSyncEnabled → SetState(BOOTSTRAPPING) → Connected → SetPreference →
//! SetState(NORMAL_OP)), one block (`timestampvm.proposeBlock` through the HTTP gateway → the
//! plugin's `Messenger.Notify` → BuildBlock → BlockVerify → SetPreference → BlockAccept), the
//! block read back through the API, the VM and the database, then Shutdown and the process exit.
//!
//! The binary: `$STAMPVM_FOREIGN_PLUGIN`, else `target/foreign/bin/timestampvm` (put there by
//! `scripts/install-foreign-plugin.sh`). Without it the test says SKIPPED on the terminal and
//! passes: it cannot build a crates.io package itself within a test's time.

use crate::common;

use common::json_rpc;
use rpcchainvm::pb::{messenger, vm as pb};
use rpcchainvm::protocol::{HostFlavour, Profile};
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm_host::gateway::Gateway;
use rpcchainvm_host::rpcdb::{NodeDatabase, NodeDatabaseHandle};
use rpcchainvm_host::{
    BlockSummary, ChainParams, ChainStart, LaunchOptions, Network, NodeServices,
    NodeServicesHandle, PluginProcess, StaticHandlerProcess, VmClient,
};
use serde_json::{json, Value};
use stampvm::chain::{Id, NodeId};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The protocol timestampvm 0.0.18 speaks (avalanche-types 0.1.3's `PROTOCOL_VERSION`).
const PROTOCOL: u32 = 28;
/// What its `vm.VM/Version` answers: the crate version.
const VERSION: &str = "0.0.18";
/// The whole test, processes included, must finish within this.
const TEST_BUDGET: Duration = Duration::from_secs(120);
/// Any single wait on the plugin (a Notify, a process exit).
const STEP_BUDGET: Duration = Duration::from_secs(10);
/// The key under which timestampvm keeps its last accepted block ID (its `state` module).
const LAST_ACCEPTED_KEY: &[u8] = b"last_accepted_block";
/// The genesis message and the proposed data.
const GENESIS_DATA: &str = "stampvm's host drives timestampvm";
const PROPOSED: &[u8] = b"a block proposed through the node's HTTP API";

#[tokio::test]
async fn timestampvm_0_0_18_runs_a_chain_under_protocol_28() {
    let Some(binary) = foreign_plugin() else {
        return;
    };
    tokio::time::timeout(TEST_BUDGET, lifecycle(&binary))
        .await
        .expect("the lifecycle finished within its budget");
}

/// The plugin binary, or `None` (after saying so) when it is not installed. An explicit
/// `STAMPVM_FOREIGN_PLUGIN` that names no file is a mistake, not a skip.
fn foreign_plugin() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("STAMPVM_FOREIGN_PLUGIN") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "STAMPVM_FOREIGN_PLUGIN={path:?} is not a file"
        );
        return Some(path);
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/foreign/bin/timestampvm");
    if path.is_file() {
        return Some(path);
    }
    // Straight to stderr, not `eprintln!`: the test harness hides a passing test's `eprintln!`.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: timestampvm 0.0.18 is not installed (run scripts/install-foreign-plugin.sh, or \
         set STAMPVM_FOREIGN_PLUGIN); tests/foreign_plugin.rs did not drive a foreign plugin. \
         Looked for {}",
        path.display()
    );
    None
}

fn profile() -> Profile {
    Profile::new(PROTOCOL, HostFlavour::AvalancheGo).expect("the host supports protocol 28")
}

/// The node's launch for `profile()` (empty environment plus the engine address, 5 s
/// handshake), then the dial, once the plugin listens where it said it would.
async fn launch(binary: &Path, name: &str) -> Result<(PluginProcess, VmClient), PortRace> {
    let mut options = LaunchOptions::new(binary);
    options.profile = profile();
    options.name = name.into();
    let process = PluginProcess::launch(options)
        .await
        .expect("timestampvm handshakes");
    assert_eq!(process.protocol(), PROTOCOL, "announced protocol");
    serving(&process, process.vm_addr()).await?;
    let client = process
        .vm_client()
        .await
        .unwrap_or_else(|error| panic!("dial {name}: {error}"));
    Ok((process, client))
}

/// timestampvm lost a port race: the server at `addr` never listened (see [`serving`]).
#[derive(Debug)]
struct PortRace {
    plugin: String,
    addr: String,
}

impl std::fmt::Display for PortRace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} never listened on {}", self.plugin, self.addr)
    }
}

/// Waits until `process` listens on `addr`, or says it lost the race for that port.
///
/// avalanche-types 0.1.3 picks every server's port by binding a *UDP* socket to port 0, closing
/// it, and binding TCP to that number later. A TCP socket already on that port (a listener, or
/// one of the suite's connections still in TIME_WAIT) makes the TCP bind fail: for the VM server
/// the process exits, for a handler server the error is dropped and the process lives on
/// without it. That is the plugin's race, not the host's, so the test starts over rather than
/// fail; anything else still fails it.
async fn serving(process: &PluginProcess, addr: &str) -> Result<(), PortRace> {
    let deadline = tokio::time::Instant::now() + STEP_BUDGET;
    while tokio::time::Instant::now() < deadline && process.exit_status().is_none() {
        if listens_on(process.pid(), addr) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(PortRace {
        plugin: process.name().to_owned(),
        addr: addr.to_owned(),
    })
}

/// Whether process `pid` owns a TCP socket listening on `addr`'s port, read from Linux's /proc:
/// the process's fds name their socket inodes, and its `net/tcp` tables list each socket's local
/// port, state (`0A` is LISTEN) and inode. Without /proc the answer is `true`, unchecked.
fn listens_on(pid: u32, addr: &str) -> bool {
    let port: u16 = addr
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("{addr:?} is not host:port"));
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return !Path::new("/proc/self/fd").exists();
    };
    let inodes: HashSet<String> = fds
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?;
            let inode = target.strip_prefix("socket:[")?.strip_suffix(']')?;
            Some(inode.to_owned())
        })
        .collect();
    ["tcp", "tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).ok())
        .any(|table| {
            table.lines().skip(1).any(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let local_port = fields
                    .get(1)
                    .and_then(|local| local.rsplit(':').next())
                    .and_then(|hex| u16::from_str_radix(hex, 16).ok());
                fields.len() > 9
                    && fields[3] == "0A"
                    && local_port == Some(port)
                    && inodes.contains(fields[9])
            })
        })
}

/// The whole lifecycle, started over (a few times at most) when timestampvm loses a port race.
async fn lifecycle(binary: &Path) {
    const ATTEMPTS: usize = 5;
    for attempt in 1..=ATTEMPTS {
        match lifecycle_once(binary).await {
            Ok(()) => return,
            Err(race) if attempt < ATTEMPTS => {
                eprintln!("attempt {attempt}: {race}; starting over with new processes");
            }
            Err(race) => panic!("{ATTEMPTS} attempts in a row lost a port race; the last: {race}"),
        }
    }
}

async fn lifecycle_once(binary: &Path) -> Result<(), PortRace> {
    let vm_id = vm_id("timestampvm");
    let static_handlers = register_vm(binary).await?;

    let node = NodeId([7; 20]);
    let shutdown = Shutdown::new();
    let database = NodeDatabase::serve(shutdown.clone())
        .await
        .expect("rpcdb binds");
    let (services_addr, services) =
        NodeServices::serve_as(profile(), node, Network::new(), shutdown.clone())
            .await
            .expect("node services bind");
    let (process, client) = launch(binary, "timestampvm").await?;
    assert_node_environment(process.pid());

    let dir = tempfile::tempdir().unwrap();
    let mut params = ChainParams::new(
        node,
        dir.path().join("chain"),
        json!({ "data": GENESIS_DATA }).to_string().into_bytes(),
        services_addr.to_string(),
    )
    .with_profile(profile());
    params.db_server_addr = database.addr().to_string();
    let started = client.start_chain(&params).await.expect("the chain starts");
    let genesis = check_genesis(&started, &database);
    for handler in &started.handlers {
        serving(&process, &handler.server_addr).await?;
    }

    let gateway = Gateway::bind_as("127.0.0.1:0".parse().unwrap(), node, profile())
        .await
        .expect("gateway binds");
    let routes = started
        .handlers
        .iter()
        .map(|h| (h.prefix.clone(), h.server_addr.clone()))
        .collect();
    gateway
        .register_chain(params.chain_id, routes, started.http_handler_addr.clone())
        .expect("chain handlers mount");
    gateway
        .register_vm(vm_id, static_handlers.routes())
        .expect("static handlers mount");
    gateway.set_ready(params.chain_id, true);
    gateway.spawn(shutdown.clone());
    let api = Api {
        chain: format!(
            "http://{}/ext/bc/{}/rpc",
            gateway.local_addr(),
            params.chain_id
        ),
        vm_static: format!("http://{}/ext/vm/{vm_id}/static", gateway.local_addr()),
    };
    let ping = api.call_static("timestampvm.ping", json!([])).await;
    assert_eq!(ping["result"], json!({"success": true}), "{ping}");

    let block = propose_and_accept(&api, &client, &services, &genesis).await;
    check_accepted(&api, &client, &database, &genesis, &block).await;
    assert!(
        gateway.forwarded().handle_simple >= 4,
        "the API calls went through HandleSimple: {:?}",
        gateway.forwarded()
    );

    // The node's stop: Shutdown, its own servers, then SIGTERM (SIGKILL after 5 s). timestampvm
    // ends its servers on Shutdown and exits on its own, cleanly, before any signal.
    gateway.set_ready(params.chain_id, false);
    client.shutdown().await.expect("Shutdown");
    let exit = process.wait_exit(STEP_BUDGET).await;
    assert!(
        exit.is_some_and(|s| s.success()),
        "exit after Shutdown: {exit:?}"
    );
    shutdown.trigger();
    process.terminate(Duration::from_secs(5)).await.unwrap();
    // What the chain stored outlives the chain process: it is the node's database.
    assert_eq!(database.get(LAST_ACCEPTED_KEY), Some(block.id.0.to_vec()));
    // The static-handler process lives until the node exits, which stops it with SIGTERM.
    static_handlers.stop().await.expect("static process stops");
    Ok(())
}

/// The VM ID the node derives from a VM name: its bytes, zero-padded to 32.
fn vm_id(name: &str) -> Id {
    let mut bytes = [0u8; 32];
    bytes[..name.len()].copy_from_slice(name.as_bytes());
    Id(bytes)
}

/// Registration (node-behaviour.md section 4): the probe process answers Version and exits after
/// Shutdown; at 28 a second process serves `CreateStaticHandlers` and stays up.
async fn register_vm(binary: &Path) -> Result<StaticHandlerProcess, PortRace> {
    let (probe, client) = launch(binary, "timestampvm-probe").await?;
    let version = client.version_probe().await.expect("Version");
    assert_eq!(version, VERSION);
    let exit = probe.wait_exit(STEP_BUDGET).await;
    assert!(exit.is_some_and(|s| s.success()), "probe exit: {exit:?}");
    probe.terminate(Duration::from_secs(5)).await.unwrap();

    let (process, client) = launch(binary, "timestampvm-static").await?;
    let static_handlers = StaticHandlerProcess::register(process, &client)
        .await
        .expect("CreateStaticHandlers");
    let handlers = static_handlers.handlers();
    assert_eq!(handlers.len(), 1, "{handlers:?}");
    assert_eq!(handlers[0].prefix, "/static");
    // Profile 28's Handler layout: timestampvm asks for the write lock (0), address in field 3.
    assert_eq!(handlers[0].lock_options, Some(0));
    serving(static_handlers.process(), &handlers[0].server_addr).await?;
    Ok(static_handlers)
}

/// The node's environment for a plugin: the engine address and nothing of ours (Linux only).
fn assert_node_environment(pid: u32) {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return;
    };
    let names: Vec<String> = environ
        .split(|b| *b == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            String::from_utf8_lossy(entry)
                .split('=')
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n == "AVALANCHE_VM_RUNTIME_ENGINE_ADDR"),
        "{names:?}"
    );
    assert!(
        names.iter().all(|n| n == "AVALANCHE_VM_RUNTIME_ENGINE_ADDR"
            || n.starts_with("GRPC_")
            || n.starts_with("GODEBUG")),
        "the plugin saw more than the node passes: {names:?}"
    );
}

/// timestampvm's genesis block: height 0, empty parent, timestamp 0, our genesis message as its
/// data, ID = SHA-256 of its JSON bytes; and it was written to the node's database.
fn check_genesis(started: &ChainStart, database: &NodeDatabaseHandle) -> BlockSummary {
    let genesis = started.last_accepted.clone();
    assert_eq!((genesis.height, genesis.parent_id), (0, Id::EMPTY));
    assert_eq!(genesis.timestamp.seconds, 0);
    assert_eq!(genesis.id, Id::sha256(&genesis.bytes));
    let block = block_json(&genesis.bytes);
    assert_eq!(block["data"], hex0x(GENESIS_DATA.as_bytes()), "{block}");
    assert!(!started.state_sync_enabled);
    assert_eq!(started.http_handler_addr, None, "no header route before 41");
    let prefixes: Vec<_> = started.handlers.iter().map(|h| h.prefix.as_str()).collect();
    assert_eq!(prefixes, ["/rpc"]);
    assert_eq!(database.get(LAST_ACCEPTED_KEY), Some(genesis.id.0.to_vec()));
    assert!(database.get(&block_key(&genesis.id)).is_some());
    genesis
}

/// One block, as the node's engine makes it at 28: the plugin asks with `Messenger.Notify`, the
/// node builds, verifies, prefers and accepts.
async fn propose_and_accept(
    api: &Api,
    client: &VmClient,
    services: &NodeServicesHandle,
    genesis: &BlockSummary,
) -> BlockSummary {
    let reply = api
        .call(
            "timestampvm.proposeBlock",
            json!([{ "data": base64(PROPOSED) }]),
        )
        .await;
    assert_eq!(reply["result"], json!({"success": true}), "{reply}");

    let notified = tokio::time::timeout(STEP_BUDGET, services.notify_slot().next())
        .await
        .expect("timestampvm sent Messenger.Notify");
    assert_eq!(notified, messenger::Message::BuildBlock as i32);
    assert!(services.counters().notifies >= 1);

    let request = pb::BuildBlockRequest {
        p_chain_height: Some(0),
    };
    let built = client.build_block(request).await.expect("BuildBlock");
    let block = BlockSummary::from_build(built).expect("a well-formed block");
    assert_eq!((block.height, block.parent_id), (1, genesis.id));
    assert_eq!(block.id, Id::sha256(&block.bytes));
    assert_eq!(block_json(&block.bytes)["data"], hex0x(PROPOSED));

    let verify = pb::BlockVerifyRequest {
        bytes: block.bytes.clone(),
        p_chain_height: None,
    };
    let verified = client.block_verify(verify).await.expect("BlockVerify");
    assert_eq!(verified.timestamp, Some(block.timestamp));
    let id = block.id.0.to_vec();
    let prefer = pb::SetPreferenceRequest { id: id.clone() };
    client.set_preference(prefer).await.expect("SetPreference");
    let accept = pb::BlockAcceptRequest { id };
    client.block_accept(accept).await.expect("BlockAccept");
    block
}

/// The accepted block, seen through the plugin's API, the VM and the node's database.
async fn check_accepted(
    api: &Api,
    client: &VmClient,
    database: &NodeDatabaseHandle,
    genesis: &BlockSummary,
    block: &BlockSummary,
) {
    let last = api.call("timestampvm.lastAccepted", json!([])).await;
    assert_eq!(last["result"]["id"], block.id.to_string(), "{last}");
    let got = api
        .call(
            "timestampvm.getBlock",
            json!([{ "id": block.id.to_string() }]),
        )
        .await;
    let api_block = &got["result"]["block"];
    assert_eq!(api_block["data"], hex0x(PROPOSED), "{got}");
    assert_eq!(api_block["height"], 1);
    assert_eq!(api_block["parent_id"], genesis.id.to_string());

    let request = pb::GetBlockRequest {
        id: block.id.0.to_vec(),
    };
    let stored = client.get_block(request).await.expect("GetBlock");
    assert_eq!((stored.err, stored.height), (0, 1));
    assert_eq!(stored.status, pb::Status::Accepted as i32);
    assert_eq!(stored.bytes, block.bytes);
    assert_eq!(database.get(LAST_ACCEPTED_KEY), Some(block.id.0.to_vec()));
    assert!(database.get(&block_key(&block.id)).is_some());
}

/// The chain's JSON-RPC endpoint and the VM's static one, through the node's HTTP gateway.
struct Api {
    chain: String,
    vm_static: String,
}

impl Api {
    async fn call(&self, method: &str, params: Value) -> Value {
        json_rpc(&self.chain, method, params).await
    }

    async fn call_static(&self, method: &str, params: Value) -> Value {
        json_rpc(&self.vm_static, method, params).await
    }
}

/// timestampvm's block encoding is JSON: `{parent_id, height, timestamp, data: "0x…"}`.
fn block_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("timestampvm blocks are JSON")
}

/// Where timestampvm stores a block: status prefix 0x00, `/`, the block ID.
fn block_key(id: &Id) -> Vec<u8> {
    [&[0x00, b'/'][..], &id.0].concat()
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Standard base64 with padding: how timestampvm's `proposeBlock` takes its data.
fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn base64_matches_the_standard_alphabet() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"1\n"), "MQo=");
    assert_eq!(base64(b"Man"), "TWFu");
    assert_eq!(base64(b"Ma"), "TWE=");
    assert_eq!(base64(b"M"), "TQ==");
}
