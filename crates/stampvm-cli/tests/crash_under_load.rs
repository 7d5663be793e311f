//! Crash test under load (`scripts/crash-test.sh`; ignored in normal runs): one chain on one data
//! directory, the real plugin binary launched through [`rpcchainvm_host`], many concurrent
//! `timestampvm.proposeBlock` calls through the node's HTTP gateway, an engine building and
//! accepting blocks as fast as the plugin asks — and SIGKILL at random moments, N times, each
//! followed by a new process on the same directory and a full check of what survived.
//!
//! # What the host records
//! The engine here is the one-validator loop of [`rpcchainvm_host::SoloEngine`] (WaitForEvent or
//! the Messenger slot → BuildBlock → BlockVerify → SetPreference → BlockAccept), written out so
//! that it can record, under one lock: `in_flight`, the block whose `BlockAccept` has been sent
//! and not yet answered, and `accepted`, every block whose `BlockAccept` the host saw answered
//! OK (by height; height 0 is the genesis block from the first Initialize).
//!
//! # The rule after each restart
//! Let `H` be the height of the last block the host saw accepted and `F` the in-flight block, if
//! the kill came while a `BlockAccept` was outstanding (`F` is always at `H + 1`). The new
//! process's `Initialize` answer (id, height and bytes) must be exactly one of:
//! - `accepted[H]` — the kill came before the plugin committed `F` (or no accept was in flight);
//! - `F` — the plugin committed `F` (fsync) and was killed before its answer reached the host.
//!
//! Anything else fails: below `H` loses a block the node was told is accepted (the node's
//! proposer VM would be ahead of the VM), any other block or above `H + 1` is a block the node
//! never accepted. In the second case the host adopts `F` as accepted (as a node would learn it
//! from the VM's last accepted block); in the first, `F` is forgotten (the node never heard of
//! its acceptance, and its payload was never reported accepted — which the API check verifies).
//! `SetState`'s answers during the chain start must agree with `Initialize`'s.
//!
//! # The checks after each restart
//! - the rule above, and the `SetState` answers;
//! - every height `0..=tip`: `GetBlockIDAtHeight` gives the ID the host recorded;
//! - every recorded ID: `GetBlock` answers it (err 0) with the recorded bytes and height (and
//!   status ACCEPTED where the profile still sends a status, up to 35); `tip + 1` is NOT_FOUND;
//! - every block the API reported as the last accepted one during the load (a poller calls
//!   `timestampvm.getBlock` with no ID all along): it is in the host's record at its height, and
//!   `timestampvm.getBlock` by ID finds it with the same payload — so the API never reported an
//!   accept that did not survive; so does every block accepted since the previous restart;
//! - no payload is in two accepted blocks, and every accepted payload was proposed by the load;
//! - the chain continues: a block above the restart tip is built and accepted within 15 s.
//!
//! # Knobs (environment; the script maps its flags to these)
//! `CRASH_KILLS` (20), `CRASH_SEED` (from the clock; printed), `CRASH_TIMEOUT_SECS` (900, for the
//! whole run), `CRASH_PROPOSERS` (32 concurrent clients), `CRASH_MAX_DELAY_MS` (1500: a kill comes
//! 50..=max ms after the engine restarts), `CRASH_PROTOCOL` (45; e.g. 35 to run the Messenger
//! engine and check block statuses), `CRASH_SYNC_WRITES` (1; 0 runs the chain with
//! `rocksdb-sync-writes: false`, whose accepts must survive a SIGKILL just the same). The seed
//! fixes the delays, which kills are aligned to a `BlockAccept` and their offsets; the thread
//! interleaving is the OS's, so a repeated seed repeats the schedule, not necessarily the exact
//! outcome.
//!
//! Loopback only; every step is bounded and the whole run has a hard timeout.

/// The integration tests' shared setup (`tests/it/common`), this target using a part of it.
#[path = "it/common/mod.rs"]
mod common;

use common::*;
use rpcchainvm::pb::{messenger, vm as pb};
use rpcchainvm::protocol::{ExtraHandlerRpc, HostFlavour, Profile};
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm_host::gateway::Gateway;
use rpcchainvm_host::{
    BlockSummary, ChainParams, LaunchOptions, Network, NodeServices, NodeServicesHandle,
    PluginProcess, VmClient,
};
use serde_json::{json, Value};
use stampvm::api::data::{format_payload, Encoding};
use stampvm::chain::{genesis_block, Id};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The chain's log level: quiet, or the load would flood the output. The rest of the chain
/// config, `rocksdb-sync-writes`, comes from [`Settings::sync_writes`].
const LOG_LEVEL: &str = "warn";
/// Any single step (a chain start, one check pass, a wait) longer than this is a failure.
const STEP: Duration = Duration::from_secs(60);
/// A restarted chain must accept a new block within this.
const CONTINUE_WITHIN: Duration = Duration::from_secs(15);

// ---- Settings ---------------------------------------------------------------------------------

struct Settings {
    kills: u32,
    seed: u64,
    timeout: Duration,
    proposers: usize,
    max_delay_ms: u64,
    profile: Profile,
    /// The chain's `rocksdb-sync-writes`. A SIGKILL ends the process, not the kernel: what the
    /// plugin wrote without an fsync is in the page cache and must survive as well.
    sync_writes: bool,
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    Some(
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a number")),
    )
}

impl Settings {
    fn from_env() -> Settings {
        let clock_seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        let protocol = env_number("CRASH_PROTOCOL").unwrap_or(45) as u32;
        Settings {
            kills: env_number("CRASH_KILLS").unwrap_or(20) as u32,
            seed: env_number("CRASH_SEED").unwrap_or(clock_seed),
            timeout: Duration::from_secs(env_number("CRASH_TIMEOUT_SECS").unwrap_or(900)),
            proposers: env_number("CRASH_PROPOSERS").unwrap_or(32).max(1) as usize,
            max_delay_ms: env_number("CRASH_MAX_DELAY_MS").unwrap_or(1500).max(50),
            profile: Profile::new(protocol, HostFlavour::AvalancheGo)
                .unwrap_or_else(|e| panic!("CRASH_PROTOCOL: {e}")),
            sync_writes: env_number("CRASH_SYNC_WRITES").unwrap_or(1) != 0,
        }
    }
}

/// splitmix64: small, seedable, good enough to pick delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

// ---- What the host saw ------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
struct Recorded {
    id: Id,
    height: u64,
    bytes: Vec<u8>,
    data: [u8; 32],
}

impl Recorded {
    fn from_summary(summary: &BlockSummary) -> Recorded {
        let block =
            stampvm::chain::Block::decode(&summary.bytes, stampvm::chain::ChainFormat::Single)
                .expect("block bytes decode");
        Recorded {
            id: summary.id,
            height: summary.height,
            bytes: summary.bytes.clone(),
            data: block.payloads()[0],
        }
    }
}

#[derive(Default)]
struct Record {
    /// `accepted[h]`: the block at height `h` whose BlockAccept the host saw answered.
    accepted: Vec<Recorded>,
    /// BlockAccept sent, answer not (yet) seen.
    in_flight: Option<Recorded>,
    /// What `timestampvm.getBlock` (no ID) reported as the last accepted block: id → (height,
    /// payload as the API printed it).
    api_reported: HashMap<Id, (u64, String)>,
    /// Every payload the load proposed (whatever the answer).
    proposed: HashSet<[u8; 32]>,
}

#[derive(Default)]
struct Load {
    ok: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
}

#[derive(Default)]
struct Summary {
    kills: u32,
    aligned_kills: u32,
    in_flight_at_kill: u32,
    in_flight_adopted: u32,
    in_flight_dropped: u32,
    blocks_accepted: u64,
    checks: u64,
    failures: Vec<String>,
    warnings: Vec<String>,
}

impl Summary {
    fn fail(&mut self, round: u32, what: impl Into<String>) {
        let what = what.into();
        println!("  FAILURE (round {round}): {what}");
        self.failures.push(format!("round {round}: {what}"));
    }

    fn check(&mut self, round: u32, ok: bool, what: impl FnOnce() -> String) {
        self.checks += 1;
        if !ok {
            self.fail(round, what());
        }
    }

    fn print(&self, settings: &Settings, load: &Load, elapsed: Duration, tip: Option<u64>) {
        println!("==== crash test summary ====");
        println!(
            "seed {} | protocol {} | {:.1} s",
            settings.seed,
            settings.profile.announced(),
            elapsed.as_secs_f64()
        );
        println!(
            "kills: {} of {} ({} aligned to a BlockAccept; {} with a BlockAccept in flight: {} came back accepted, {} not)",
            self.kills,
            settings.kills,
            self.aligned_kills,
            self.in_flight_at_kill,
            self.in_flight_adopted,
            self.in_flight_dropped
        );
        println!(
            "blocks accepted in total: {} (tip height {})",
            self.blocks_accepted,
            tip.map_or("-".into(), |t| t.to_string())
        );
        println!(
            "proposals: {} taken, {} refused (full/duplicate), {} failed (plugin down or killed)",
            load.ok.load(Relaxed),
            load.refused.load(Relaxed),
            load.failed.load(Relaxed)
        );
        println!("checks run: {}", self.checks);
        for warning in &self.warnings {
            println!("warning: {warning}");
        }
        println!("failures: {}", self.failures.len());
        for failure in &self.failures {
            println!("  - {failure}");
        }
    }
}

// ---- The node's side --------------------------------------------------------------------------

fn payload_of(seed: u64, n: u64) -> [u8; 32] {
    Id::sha256(&[seed.to_be_bytes(), n.to_be_bytes()].concat()).0
}

fn hex(data: &[u8; 32]) -> String {
    format_payload(data, Encoding::Hex)
}

/// A JSON-RPC call through the gateway that reports failure instead of panicking.
async fn call(
    http: &reqwest::Client,
    url: &str,
    method: &str,
    params: Value,
) -> Result<Value, String> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let response = http
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("{method}: {e}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| format!("{method}: {e}"))?;
    if !status.is_success() {
        return Err(format!("{method}: HTTP {status}: {}", text.trim()));
    }
    let reply: Value = serde_json::from_str(&text).map_err(|e| format!("{method}: {e}: {text}"))?;
    match reply.get("result") {
        Some(result) => Ok(result.clone()),
        None => Err(format!("{method}: {reply}")),
    }
}

/// One plugin process with its chain started.
struct Running {
    process: PluginProcess,
    client: VmClient,
    services: NodeServicesHandle,
    shutdown: Shutdown,
    /// The last accepted block per Initialize.
    initialized: BlockSummary,
}

/// Launches a process and starts the chain in the node's order (chain_start.rs), calling each
/// step itself so that Initialize's own answer is kept.
async fn start(
    settings: &Settings,
    name: &str,
    dir: &Path,
    gateway: &Gateway,
    chain_id: &mut Option<Id>,
) -> Result<(Running, Vec<String>), String> {
    let profile = settings.profile;
    let mut options = LaunchOptions::new(plugin_binary());
    options.name = name.into();
    options.profile = profile;
    options.extra_env.push((
        "GRPC_STAMPVM_PROTOCOL".into(),
        profile.announced().to_string().into(),
    ));
    let process = PluginProcess::launch(options)
        .await
        .map_err(|e| format!("launch: {e}"))?;
    let shutdown = Shutdown::new();
    let (services_addr, services) =
        NodeServices::serve_as(profile, node_id(1), Network::new(), shutdown.clone())
            .await
            .map_err(|e| format!("node services: {e}"))?;
    let client = process
        .vm_client()
        .await
        .map_err(|e| format!("dial: {e}"))?;
    let mut params = ChainParams::new(node_id(1), dir, GENESIS.to_vec(), services_addr.to_string())
        .with_profile(profile);
    let config = json!({"log-level": LOG_LEVEL, "rocksdb-sync-writes": settings.sync_writes});
    params.config_bytes = config.to_string().into_bytes();
    *chain_id = Some(params.chain_id);

    let step = |what: &'static str| move |e: rpcchainvm_host::HostError| format!("{what}: {e}");
    let initialized = client
        .initialize(params.initialize_request())
        .await
        .map_err(step("Initialize"))?;
    let initialized = BlockSummary::from_initialize(initialized).map_err(step("Initialize"))?;
    if profile.answers_verify_height_index() {
        let answer = client
            .verify_height_index()
            .await
            .map_err(step("VerifyHeightIndex"))?;
        if answer.err != 0 {
            return Err(format!("VerifyHeightIndex: err {}", answer.err));
        }
    }
    let handlers = client
        .create_handlers()
        .await
        .map_err(step("CreateHandlers"))?
        .handlers;
    let extra = match profile.extra_handler_rpc() {
        ExtraHandlerRpc::None => None,
        ExtraHandlerRpc::CreateHttp2Handler => Some(
            client
                .create_http2_handler()
                .await
                .map_err(step("CreateHTTP2Handler"))?
                .server_addr,
        ),
        ExtraHandlerRpc::NewHttpHandler => Some(
            client
                .new_http_handler()
                .await
                .map_err(step("NewHTTPHandler"))?
                .server_addr,
        ),
    };
    client
        .state_sync_enabled()
        .await
        .map_err(step("StateSyncEnabled"))?;
    let bootstrapping = client
        .set_state(pb::SetStateRequest {
            state: pb::State::Bootstrapping.into(),
        })
        .await
        .map_err(step("SetState(BOOTSTRAPPING)"))?;
    let bootstrapping =
        BlockSummary::from_set_state(bootstrapping).map_err(step("SetState(BOOTSTRAPPING)"))?;
    client
        .connected(params.connected_self())
        .await
        .map_err(step("Connected"))?;
    client
        .set_preference(pb::SetPreferenceRequest {
            id: bootstrapping.id.0.to_vec(),
        })
        .await
        .map_err(step("SetPreference"))?;
    let normal = client
        .set_state(pb::SetStateRequest {
            state: pb::State::NormalOp.into(),
        })
        .await
        .map_err(step("SetState(NORMAL_OP)"))?;
    let normal = BlockSummary::from_set_state(normal).map_err(step("SetState(NORMAL_OP)"))?;

    let mut disagreements = Vec::new();
    for (what, answer) in [("BOOTSTRAPPING", &bootstrapping), ("NORMAL_OP", &normal)] {
        if (answer.id, answer.height, &answer.bytes)
            != (initialized.id, initialized.height, &initialized.bytes)
        {
            disagreements.push(format!(
                "SetState({what}) answered {} at {}, Initialize {} at {}",
                answer.id, answer.height, initialized.id, initialized.height
            ));
        }
    }
    let handlers = handlers
        .into_iter()
        .map(|h| (h.prefix, h.server_addr))
        .collect();
    gateway
        .register_chain(params.chain_id, handlers, extra)
        .map_err(|e| format!("mount handlers: {e}"))?;
    Ok((
        Running {
            process,
            client,
            services,
            shutdown,
            initialized,
        },
        disagreements,
    ))
}

/// Shared between the engine and the killer.
struct EngineShared {
    record: Arc<Mutex<Record>>,
    /// Set right before SIGKILL: errors after it are the kill's, not the plugin's.
    killed: AtomicBool,
    /// Bumped right before each BlockAccept is sent (the killer's cue for an aligned kill).
    accept_sent: watch::Sender<u64>,
    /// Height of the last block the host saw accepted.
    tip: watch::Sender<u64>,
}

/// The one-validator engine of `SoloEngine`, recording every accept. Returns when the plugin
/// stops answering (killed) or `stop` fires; an error before the kill is returned as a failure.
async fn engine(
    client: VmClient,
    services: NodeServicesHandle,
    shared: Arc<EngineShared>,
    stop: Shutdown,
) -> Vec<String> {
    let mut problems = Vec::new();
    let waits = client.profile().node_waits_for_events();
    let with_status_check = |e: String, problems: &mut Vec<String>| {
        if !shared.killed.load(Relaxed) {
            problems.push(e);
        }
    };
    loop {
        let event = async {
            if waits {
                let event = client
                    .wait_for_event()
                    .await
                    .map_err(|e| format!("WaitForEvent: {e}"))?;
                Ok::<bool, String>(event.message == pb::Message::BuildBlock as i32)
            } else {
                Ok(services.notify_slot().next().await == messenger::Message::BuildBlock as i32)
            }
        };
        let event = tokio::select! {
            _ = stop.wait() => return problems,
            event = event => event,
        };
        match event {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                with_status_check(e, &mut problems);
                return problems;
            }
        }
        let built = match client
            .build_block(pb::BuildBlockRequest {
                p_chain_height: Some(0),
            })
            .await
        {
            Ok(built) => built,
            Err(e) => {
                if shared.killed.load(Relaxed) || stop.is_triggered() {
                    return problems;
                }
                // The node retries a failed build; so do we, but say so.
                problems.push(format!("warning: BuildBlock: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let with_context = built.verify_with_context;
        let block = match BlockSummary::from_build(built) {
            Ok(block) => block,
            Err(e) => {
                with_status_check(format!("BuildBlock answer: {e}"), &mut problems);
                return problems;
            }
        };
        let tip = {
            let record = shared.record.lock().unwrap();
            record.accepted.last().cloned().expect("genesis recorded")
        };
        if block.parent_id != tip.id || block.height != tip.height + 1 {
            problems.push(format!(
                "BuildBlock gave {} at {} on {}, not on the tip {} at {}",
                block.id, block.height, block.parent_id, tip.id, tip.height
            ));
            return problems;
        }
        let verified = client
            .block_verify(pb::BlockVerifyRequest {
                bytes: block.bytes.clone(),
                p_chain_height: with_context.then_some(0),
            })
            .await;
        if let Err(e) = verified {
            with_status_check(format!("BlockVerify of its own block: {e}"), &mut problems);
            return problems;
        }
        let id = block.id.0.to_vec();
        if let Err(e) = client
            .set_preference(pb::SetPreferenceRequest { id: id.clone() })
            .await
        {
            with_status_check(format!("SetPreference: {e}"), &mut problems);
            return problems;
        }
        let recorded = Recorded::from_summary(&block);
        shared.record.lock().unwrap().in_flight = Some(recorded.clone());
        shared.accept_sent.send_modify(|n| *n += 1);
        match client.block_accept(pb::BlockAcceptRequest { id }).await {
            Ok(()) => {
                let mut record = shared.record.lock().unwrap();
                record.in_flight = None;
                record.accepted.push(recorded);
                drop(record);
                shared.tip.send_replace(block.height);
            }
            Err(e) => {
                with_status_check(format!("BlockAccept: {e}"), &mut problems);
                return problems;
            }
        }
    }
}

/// Proposes distinct payloads until `stop`, counting the answers.
fn spawn_proposers(
    settings: &Settings,
    url: String,
    record: Arc<Mutex<Record>>,
    load: Arc<Load>,
    stop: Arc<AtomicBool>,
) -> Vec<JoinHandle<()>> {
    let next = Arc::new(AtomicU64::new(1_000_000));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(settings.proposers)
        .build()
        .unwrap();
    let seed = settings.seed;
    (0..settings.proposers)
        .map(|_| {
            let (url, record, load, stop, next, http) = (
                url.clone(),
                record.clone(),
                load.clone(),
                stop.clone(),
                next.clone(),
                http.clone(),
            );
            tokio::spawn(async move {
                while !stop.load(Relaxed) {
                    let payload = payload_of(seed, next.fetch_add(1, Relaxed));
                    record.lock().unwrap().proposed.insert(payload);
                    let params = json!({"data": hex(&payload)});
                    match call(&http, &url, "timestampvm.proposeBlock", params).await {
                        Ok(result) if result["Success"] == true => {
                            load.ok.fetch_add(1, Relaxed);
                        }
                        Ok(_) => {
                            load.refused.fetch_add(1, Relaxed);
                            // A full mempool: give the builder a moment.
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Err(_) => {
                            load.failed.fetch_add(1, Relaxed);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            })
        })
        .collect()
}

/// Records what the API reports as the last accepted block, until `stop`.
fn spawn_api_poller(
    url: String,
    record: Arc<Mutex<Record>>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    tokio::spawn(async move {
        while !stop.load(Relaxed) {
            if let Ok(reply) = call(&http, &url, "timestampvm.getBlock", json!({})).await {
                let parsed = reply["id"]
                    .as_str()
                    .and_then(|id| id.parse::<Id>().ok())
                    .zip(reply["height"].as_str().and_then(|h| h.parse::<u64>().ok()))
                    .zip(reply["data"].as_str());
                if let Some(((id, height), data)) = parsed {
                    record
                        .lock()
                        .unwrap()
                        .api_reported
                        .insert(id, (height, data.to_string()));
                }
            }
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    })
}

async fn bounded<T>(what: &str, future: impl Future<Output = T>) -> Result<T, String> {
    tokio::time::timeout(STEP, future)
        .await
        .map_err(|_| format!("{what} took over {STEP:?}"))
}

// ---- The checks -------------------------------------------------------------------------------

/// Applies the restart rule to Initialize's answer; adopts or forgets the in-flight block.
fn check_restart_tip(
    summary: &mut Summary,
    round: u32,
    record: &mut Record,
    initialized: &BlockSummary,
) {
    let answer = Recorded::from_summary(initialized);
    let last = record.accepted.last().cloned().expect("genesis recorded");
    let in_flight = record.in_flight.take();
    summary.checks += 1;
    if answer == last {
        if let Some(dropped) = &in_flight {
            summary.in_flight_dropped += 1;
            println!(
                "  restart: last accepted {} at {} = the host's last accept; in-flight {} forgotten",
                answer.id, answer.height, dropped.height
            );
        } else {
            println!(
                "  restart: last accepted {} at {} = the host's last accept",
                answer.id, answer.height
            );
        }
    } else if in_flight.as_ref() == Some(&answer) {
        summary.in_flight_adopted += 1;
        println!(
            "  restart: last accepted {} at {} = the block in flight at the kill (committed, answer lost)",
            answer.id, answer.height
        );
        record.accepted.push(answer);
    } else {
        let known = record
            .accepted
            .get(answer.height as usize)
            .map(|b| b.id == answer.id)
            .unwrap_or(false);
        summary.fail(
            round,
            format!(
                "Initialize answered {} at height {} ({}); the host saw {} at {} accepted{}",
                answer.id,
                answer.height,
                if known {
                    "an older accepted block: accepted blocks were lost"
                } else {
                    "a block the host never accepted"
                },
                last.id,
                last.height,
                in_flight
                    .map(|b| format!(", and was accepting {} at {}", b.id, b.height))
                    .unwrap_or_default()
            ),
        );
        // Carry on from what the plugin has, so later rounds still check something.
        record.accepted.truncate(answer.height as usize);
        if record.accepted.len() == answer.height as usize {
            record.accepted.push(answer);
        }
    }
}

/// GetBlockIDAtHeight and GetBlock for every recorded height, in parallel; `tip + 1` is absent.
async fn check_blocks(summary: &mut Summary, round: u32, client: &VmClient, blocks: &[Recorded]) {
    let with_status = client.profile().sends_block_status();
    let chunks: Vec<Vec<Recorded>> = blocks
        .chunks(blocks.len().div_ceil(8).max(1))
        .map(<[_]>::to_vec)
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in chunks {
        let client = client.clone();
        tasks.spawn(async move {
            let mut results = Vec::new();
            for block in chunk {
                let at = client
                    .get_block_id_at_height(pb::GetBlockIdAtHeightRequest {
                        height: block.height,
                    })
                    .await;
                results.push(match at {
                    Ok(at) if at.err == 0 && at.blk_id == block.id.0 => Ok(()),
                    Ok(at) => Err(format!(
                        "GetBlockIDAtHeight({}) gave err {} id {}, recorded {}",
                        block.height,
                        at.err,
                        Id::from_slice(&at.blk_id).map_or("-".into(), |id| id.to_string()),
                        block.id
                    )),
                    Err(e) => Err(format!("GetBlockIDAtHeight({}): {e}", block.height)),
                });
                let got = client
                    .get_block(pb::GetBlockRequest {
                        id: block.id.0.to_vec(),
                    })
                    .await;
                results.push(match got {
                    Ok(got)
                        if got.err == 0
                            && got.bytes == block.bytes
                            && got.height == block.height
                            && (!with_status || got.status == pb::Status::Accepted as i32) =>
                    {
                        Ok(())
                    }
                    Ok(got) => Err(format!(
                        "GetBlock({}) at {}: err {}, status {}, height {}, bytes {}",
                        block.id,
                        block.height,
                        got.err,
                        got.status,
                        got.height,
                        if got.bytes == block.bytes {
                            "same"
                        } else {
                            "differ"
                        }
                    )),
                    Err(e) => Err(format!("GetBlock({}): {e}", block.id)),
                });
            }
            results
        });
    }
    while let Some(results) = tasks.join_next().await {
        for result in results.expect("check task") {
            summary.check(round, result.is_ok(), || result.clone().unwrap_err());
        }
    }
    let above = blocks.last().map_or(0, |b| b.height + 1);
    let answer = client
        .get_block_id_at_height(pb::GetBlockIdAtHeightRequest { height: above })
        .await;
    let not_found = client.profile().err_not_found();
    summary.check(
        round,
        matches!(&answer, Ok(a) if a.err == not_found),
        || format!("GetBlockIDAtHeight({above}) above the tip: {answer:?}"),
    );
}

/// `timestampvm.getBlock` by ID for `blocks`: the payload the host recorded.
async fn check_api(summary: &mut Summary, round: u32, url: &str, blocks: Vec<Recorded>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let chunk_len = blocks.len().div_ceil(8).max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in blocks.chunks(chunk_len).map(<[_]>::to_vec) {
        let (http, url) = (http.clone(), url.to_string());
        tasks.spawn(async move {
            let mut results = Vec::new();
            for block in chunk {
                let reply = call(
                    &http,
                    &url,
                    "timestampvm.getBlock",
                    json!({"id": block.id.to_string()}),
                )
                .await;
                let want_height = block.height.to_string();
                results.push(match reply {
                    Ok(r) if r["data"] == hex(&block.data) && r["height"] == want_height => Ok(()),
                    Ok(r) => Err(format!(
                        "timestampvm.getBlock({}) at {}: {r}, recorded payload {}",
                        block.id,
                        block.height,
                        hex(&block.data)
                    )),
                    Err(e) => Err(format!("timestampvm.getBlock({}): {e}", block.id)),
                });
            }
            results
        });
    }
    while let Some(results) = tasks.join_next().await {
        for result in results.expect("check task") {
            summary.check(round, result.is_ok(), || result.clone().unwrap_err());
        }
    }
}

/// Every block the API reported is one the host recorded at that height, with that payload.
fn check_api_reports(summary: &mut Summary, round: u32, record: &Record) -> Vec<Recorded> {
    let mut reported = Vec::new();
    let mut failures = Vec::new();
    for (id, (height, data)) in &record.api_reported {
        match record.accepted.get(*height as usize) {
            Some(block) if block.id == *id && hex(&block.data) == *data => {
                reported.push(block.clone())
            }
            other => failures.push(format!(
                "the API reported {id} at {height} (payload {data}) as accepted; after the restart \
                 height {height} holds {}",
                other.map_or("nothing".into(), |b| b.id.to_string())
            )),
        }
    }
    summary.checks += record.api_reported.len() as u64;
    for failure in failures {
        summary.fail(round, failure);
    }
    reported
}

/// No payload twice, and each one proposed by the load (or the genesis data).
fn check_payloads(summary: &mut Summary, round: u32, record: &Record) {
    let mut seen = HashMap::new();
    for block in record.accepted.iter().skip(1) {
        summary.checks += 1;
        if let Some(first) = seen.insert(block.data, block.height) {
            summary.fail(
                round,
                format!(
                    "payload {} accepted twice: heights {first} and {}",
                    hex(&block.data),
                    block.height
                ),
            );
        }
        summary.checks += 1;
        if !record.proposed.contains(&block.data) {
            summary.fail(
                round,
                format!(
                    "block {} at {} holds payload {} nobody proposed",
                    block.id,
                    block.height,
                    hex(&block.data)
                ),
            );
        }
    }
}

// ---- The run ----------------------------------------------------------------------------------

struct Run {
    settings: Settings,
    dir: PathBuf,
    gateway: Gateway,
    url: String,
    record: Arc<Mutex<Record>>,
    load: Arc<Load>,
    summary: Arc<Mutex<Summary>>,
}

impl Run {
    async fn go(&self) {
        let mut rng = Rng(self.settings.seed);
        let stop_load = Arc::new(AtomicBool::new(false));
        let mut load_tasks = spawn_proposers(
            &self.settings,
            self.url.clone(),
            self.record.clone(),
            self.load.clone(),
            stop_load.clone(),
        );
        load_tasks.push(spawn_api_poller(
            self.url.clone(),
            self.record.clone(),
            stop_load.clone(),
        ));
        let mut chain_id = None;
        let mut checked_api_up_to = 0usize;
        for round in 0..=self.settings.kills {
            let started = Instant::now();
            let name = format!("crash-{round}");
            let start = bounded(
                "chain start",
                start(
                    &self.settings,
                    &name,
                    &self.dir,
                    &self.gateway,
                    &mut chain_id,
                ),
            )
            .await;
            let (running, disagreements) = match start.and_then(|s| s) {
                Ok(started) => started,
                Err(e) => {
                    self.summary
                        .lock()
                        .unwrap()
                        .fail(round, format!("restart failed: {e}"));
                    break;
                }
            };
            let chain_id = chain_id.expect("set by start");

            // The rule, the SetState answers, then the block checks (no engine yet, gateway shut).
            let blocks = {
                let mut summary = self.summary.lock().unwrap();
                let mut record = self.record.lock().unwrap();
                if record.accepted.is_empty() {
                    let genesis = genesis_block(GENESIS).unwrap();
                    summary.check(round, running.initialized.id == genesis.id(), || {
                        format!(
                            "first Initialize answered {}, not the genesis",
                            running.initialized.id
                        )
                    });
                    record
                        .accepted
                        .push(Recorded::from_summary(&running.initialized));
                } else {
                    check_restart_tip(&mut summary, round, &mut record, &running.initialized);
                }
                summary.checks += 2;
                for disagreement in disagreements {
                    summary.fail(round, disagreement);
                }
                record.accepted.clone()
            };
            let restart_tip = blocks.last().expect("genesis").height;
            let mut local = Summary::default();
            if bounded(
                "block checks",
                check_blocks(&mut local, round, &running.client, &blocks),
            )
            .await
            .is_err()
            {
                local.fail(round, "block checks timed out");
            }
            self.gateway.set_ready(chain_id, true);
            let (api_blocks, reported) = {
                let record = self.record.lock().unwrap();
                let reported = check_api_reports(&mut local, round, &record);
                check_payloads(&mut local, round, &record);
                (
                    blocks[checked_api_up_to.min(blocks.len())..].to_vec(),
                    reported,
                )
            };
            let api_count = api_blocks.len() + reported.len();
            let mut api_blocks = api_blocks;
            api_blocks.extend(reported);
            if bounded(
                "API checks",
                check_api(&mut local, round, &self.url, api_blocks),
            )
            .await
            .is_err()
            {
                local.fail(round, "API checks timed out");
            }
            checked_api_up_to = blocks.len();
            self.record.lock().unwrap().api_reported.clear();

            // The chain continues: a marker payload, the engine, a block above the restart tip.
            let shared = Arc::new(EngineShared {
                record: self.record.clone(),
                killed: AtomicBool::new(false),
                accept_sent: watch::channel(0).0,
                tip: watch::channel(restart_tip).0,
            });
            let marker = payload_of(self.settings.seed ^ 0xc0ffee, u64::from(round));
            self.record.lock().unwrap().proposed.insert(marker);
            let http = reqwest::Client::new();
            let proposed = call(
                &http,
                &self.url,
                "timestampvm.proposeBlock",
                json!({"data": hex(&marker)}),
            )
            .await;
            // The load may have filled the mempool already; then there is work anyway.
            if let Err(e) = &proposed {
                local.fail(round, format!("proposing after the restart: {e}"));
            }
            let mut tip = shared.tip.subscribe();
            let engine_task = tokio::spawn(engine(
                running.client.clone(),
                running.services.clone(),
                shared.clone(),
                running.shutdown.clone(),
            ));
            // (`wait_for`'s guard must not outlive the statement: it blocks the engine's sends.)
            let continued =
                tokio::time::timeout(CONTINUE_WITHIN, tip.wait_for(|h| *h > restart_tip))
                    .await
                    .is_ok_and(|reached| reached.is_ok());
            local.check(round, continued, || {
                format!("no block accepted within {CONTINUE_WITHIN:?} after the restart at {restart_tip}")
            });

            if round == self.settings.kills {
                // The last round: a clean stop, which must succeed.
                running.shutdown.trigger();
                let _ = engine_task.await;
                self.gateway.set_ready(chain_id, false);
                let stopped = running
                    .process
                    .stop(&running.client, Duration::from_secs(10))
                    .await;
                local.check(round, matches!(&stopped, Ok(s) if s.success()), || {
                    format!("the final clean stop: {stopped:?}")
                });
                self.merge(local, round, started, restart_tip, api_count, None);
                break;
            }

            // Load for a random while, then SIGKILL — half the time right inside a BlockAccept.
            let delay = Duration::from_millis(rng.between(50, self.settings.max_delay_ms));
            let aligned = rng.next().is_multiple_of(2);
            let offset_us = rng.between(0, 1500);
            tokio::time::sleep(delay).await;
            let mut accept_sent = shared.accept_sent.subscribe();
            let aligned_now = aligned
                && tokio::time::timeout(Duration::from_secs(5), accept_sent.changed())
                    .await
                    .is_ok();
            if aligned_now {
                let until = Instant::now() + Duration::from_micros(offset_us);
                while Instant::now() < until {
                    std::hint::spin_loop();
                }
            }
            shared.killed.store(true, Relaxed);
            if let Err(e) = running.process.signal(libc::SIGKILL).await {
                local.fail(round, format!("SIGKILL: {e}"));
            }
            let exit = running.process.wait_exit(Duration::from_secs(10)).await;
            local.check(round, matches!(exit, Some(s) if !s.success()), || {
                format!("after SIGKILL the process exit was {exit:?}")
            });
            self.gateway.set_ready(chain_id, false);
            running.shutdown.trigger();
            match tokio::time::timeout(Duration::from_secs(10), engine_task).await {
                Ok(Ok(problems)) => {
                    for problem in problems {
                        match problem.strip_prefix("warning: ") {
                            Some(warning) => {
                                local.warnings.push(format!("round {round}: {warning}"))
                            }
                            None => {
                                local.fail(round, format!("engine, before the kill: {problem}"))
                            }
                        }
                    }
                }
                other => local.fail(round, format!("engine did not stop: {other:?}")),
            }
            let in_flight = self
                .record
                .lock()
                .unwrap()
                .in_flight
                .as_ref()
                .map(|b| b.height);
            let kill = KillNote {
                delay,
                aligned: aligned_now,
                offset_us,
                in_flight,
            };
            self.merge(local, round, started, restart_tip, api_count, Some(kill));
        }
        stop_load.store(true, Relaxed);
        for task in load_tasks {
            let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
        }
    }

    fn merge(
        &self,
        local: Summary,
        round: u32,
        started: Instant,
        restart_tip: u64,
        api_count: usize,
        kill: Option<KillNote>,
    ) {
        let tip = self
            .record
            .lock()
            .unwrap()
            .accepted
            .last()
            .map_or(0, |b| b.height);
        let mut summary = self.summary.lock().unwrap();
        let round_checks = local.checks;
        summary.checks += local.checks;
        summary.failures.extend(local.failures);
        summary.warnings.extend(local.warnings);
        let blocks = tip.saturating_sub(restart_tip);
        match kill {
            Some(kill) => {
                summary.kills += 1;
                summary.aligned_kills += u32::from(kill.aligned);
                summary.in_flight_at_kill += u32::from(kill.in_flight.is_some());
                println!(
                    "kill {}/{}: SIGKILL after {} ms of load{}; host tip {tip}{}; {blocks} blocks this round; \
                     {round_checks} checks ({api_count} through the API); {:.1} s; failures so far {}",
                    round + 1,
                    self.settings.kills,
                    kill.delay.as_millis(),
                    if kill.aligned {
                        format!(", {} µs after a BlockAccept was sent", kill.offset_us)
                    } else {
                        String::new()
                    },
                    kill.in_flight
                        .map(|h| format!(", BlockAccept of {h} in flight"))
                        .unwrap_or_default(),
                    started.elapsed().as_secs_f64(),
                    summary.failures.len()
                );
            }
            None => println!(
                "final round: restart checked, {blocks} blocks, clean stop; {round_checks} checks; failures {}",
                summary.failures.len()
            ),
        }
    }
}

struct KillNote {
    delay: Duration,
    aligned: bool,
    offset_us: u64,
    in_flight: Option<u64>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "minutes long; run by scripts/crash-test.sh"]
async fn crash_under_load() {
    let settings = Settings::from_env();
    println!(
        "crash test: {} kills, seed {} (repeat with CRASH_SEED={}), protocol {}, {} proposers, \
         kill delay 50..={} ms, timeout {:?}, rocksdb-sync-writes {}",
        settings.kills,
        settings.seed,
        settings.seed,
        settings.profile.announced(),
        settings.proposers,
        settings.max_delay_ms,
        settings.timeout,
        settings.sync_writes
    );
    let dir = tempfile::tempdir().unwrap();
    let gateway_shutdown = Shutdown::new();
    let gateway = Gateway::bind_as("127.0.0.1:0".parse().unwrap(), node_id(1), settings.profile)
        .await
        .expect("gateway binds");
    gateway.spawn(gateway_shutdown.clone());
    let chain_id = ChainParams::new(node_id(1), dir.path(), Vec::new(), String::new()).chain_id;
    let url = format!("http://{}/ext/bc/{chain_id}/rpc", gateway.local_addr());
    let timeout = settings.timeout;
    let run = Arc::new(Run {
        settings,
        dir: dir.path().join("chain"),
        gateway,
        url,
        record: Default::default(),
        load: Default::default(),
        summary: Default::default(),
    });
    let began = Instant::now();
    let finished = tokio::time::timeout(timeout, run.go()).await;
    gateway_shutdown.trigger();
    let mut summary = run.summary.lock().unwrap();
    if finished.is_err() {
        summary
            .failures
            .push(format!("the run hit its hard timeout of {timeout:?}"));
    }
    let tip = run.record.lock().unwrap().accepted.last().map(|b| b.height);
    // One chain from the genesis: every height above 0 is one accepted block.
    summary.blocks_accepted = tip.unwrap_or(0);
    summary.print(&run.settings, &run.load, began.elapsed(), tip);
    assert!(
        summary.failures.is_empty(),
        "{} failures (seed {}); see above",
        summary.failures.len(),
        run.settings.seed
    );
    assert_eq!(summary.kills, run.settings.kills, "not every kill was done");
}
