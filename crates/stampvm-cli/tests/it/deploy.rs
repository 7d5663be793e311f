//! Deploying stampvm on real nodes (README "Installing the plugin into AvalancheGo" and "Replacing
//! the Go TimestampVM on a live subnet"), checked against the real binary:
//!
//! 1. `stampvm genesis` writes exactly the bytes of the chain asked for (no trailing newline) in
//!    both formats, refuses to replace a file without `--force` and refuses bad input (data over
//!    32 bytes, `--max-batch` 0, raw data that stampvm would read as a format declaration) with a
//!    clear error, writing nothing; the genesis block ID it prints is the one a real plugin
//!    started on the file's bytes reports at Initialize, SetState and GetBlockIDAtHeight(0).
//!    `--inspect` of a file written with `echo` (a trailing newline) warns, and prints the other
//!    ID that such a file really makes (again checked against a plugin started on it).
//! 2. `stampvm vm-id` prints the VM IDs the README names: `timestamp` (the Go TimestampVM's
//!    conventional name) and `stampvm`; and the README's deployment lines, pasted into `sh`, print
//!    what the README shows under them (`stampvm genesis`, `VM_ID=$(stampvm vm-id …)`, and the
//!    P-Chain API's hex-with-checksum `genesisData`).
//! 3. A stampvm node that starts with an empty data dir bootstraps a chain whose blocks were all
//!    built by another node, in the node's bootstrapper order: Initialize (genesis) →
//!    SetState(BOOTSTRAPPING) → Connected → the peer's GetAncestors from its accepted tip, in
//!    rounds bounded by `max_blocks_num` (TimestampVM chain) or `max_blocks_size` (batched chain),
//!    each reply BatchedParseBlock'd, until the height above the last accepted one → for each
//!    height upwards ParseBlock, BlockVerify(bytes), BlockAccept(id) → SetPreference →
//!    SetState(NORMAL_OP). `VmClient::start_chain` runs straight from BOOTSTRAPPING to NORMAL_OP,
//!    so this test drives the same calls itself. Afterwards the two nodes agree on every height:
//!    block ID, bytes, GetBlock fields, the JSON-RPC `getBlock`/`getBlockByHeight`/`lastAccepted`
//!    answers (and `getProof` on the batched chain); the new node refuses a payload of the
//!    bootstrapped history as already accepted, and builds the next block, which the old node
//!    verifies and accepts.
//!
//! 4. `scripts/ensure-system-deps.sh` on a machine that is not Debian (no `apt-get`, no `dpkg`):
//!    it finds libclang through `LIBCLANG_PATH` and passes, and without it fails with the other
//!    package managers' names rather than trying apt.
//!
//! Fails if the command writes other bytes, a newline, or anything on refused input; if a
//! printed ID differs from the plugin's genesis or the README's; if GetAncestors exceeds or underfills its
//! bounds or breaks the parent chain; if the bootstrapped node refuses a peer's block, differs
//! from the peer at any height or in any API answer, or cannot extend the chain.

use crate::common;

use common::*;
use rpcchainvm::pb::vm as pb;
use rpcchainvm::protocol::ExtraHandlerRpc;
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm_host::gateway::Gateway;
use rpcchainvm_host::{BlockSummary, ChainParams, ChainStart, Network, NodeServices, VmClient};
use serde_json::{json, Value};
use stampvm::chain::{genesis_block, parse_genesis, Block, ChainFormat, Id, Payload};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Every scenario, plugin launches included, must finish within this.
const BOUND: Duration = Duration::from_secs(90);

/// `stampvm <args>` with an empty environment, as a user's shell would run it; any exit status.
fn stampvm(args: &[&str]) -> Output {
    std::process::Command::new(plugin_binary())
        .args(args)
        .env_clear()
        .output()
        .expect("run stampvm")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("UTF-8 stderr")
}

/// A successful `stampvm genesis …`: asserts the two-line report and returns the ID it prints.
fn genesis_cmd(args: &[&str], path: &Path, len: usize, format: &str) -> String {
    let out = stampvm(args);
    assert!(out.status.success(), "{args:?}: {out:?}");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{args:?}: {text}");
    let head = format!(
        "{}: {len} bytes, a {format}; genesis block ID:",
        path.display()
    );
    assert_eq!(lines[0], head, "{args:?}");
    lines[1].to_string()
}

/// A refused `stampvm genesis …`: exit status 1 and an error naming `reason`; returns stderr.
fn genesis_refused(args: &[&str], reason: &str) -> String {
    let out = stampvm(args);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
    assert!(out.stdout.is_empty(), "{args:?} printed {:?}", stdout(&out));
    let text = stderr(&out);
    assert!(text.contains(reason), "{args:?}: {text:?} lacks {reason:?}");
    text
}

/// Starts a real plugin on `genesis` and returns the genesis block ID it reports, after checking
/// that Initialize/SetState (`started.last_accepted`) and GetBlockIDAtHeight(0) agree.
async fn plugin_genesis_id(name: &str, genesis: &[u8]) -> String {
    let network = Network::new();
    let dir = tempfile::tempdir().unwrap();
    let node = start_node_with_genesis(name, node_id(9), &network, dir.path(), genesis, "").await;
    let last = node.started.last_accepted.clone();
    assert_eq!((last.height, last.parent_id), (0, Id::EMPTY), "{name}");
    assert_eq!(id_at_height(&node, 0).await, Some(last.id), "{name}");
    assert_eq!(id_at_height(&node, 1).await, None, "{name}");
    node.stop().await;
    last.id.to_string()
}

#[tokio::test]
async fn genesis_command_writes_the_chain_the_plugin_starts() {
    bounded(BOUND, async {
        let dir = tempfile::tempdir().unwrap();
        let single = dir.path().join("genesis.bin");
        let batched = dir.path().join("genesis.json");
        let single_arg = single.to_str().unwrap();
        let batched_arg = batched.to_str().unwrap();

        // A TimestampVM chain: the data itself, no newline.
        let single_id = genesis_cmd(
            &["genesis", "--data", "stampvm chain", "--out", single_arg],
            &single,
            13,
            "TimestampVM chain (one payload per block)",
        );
        assert_eq!(std::fs::read(&single).unwrap(), b"stampvm chain");
        assert_eq!(
            single_id,
            plugin_genesis_id("genesis-single", b"stampvm chain").await
        );

        // A batched chain: the JSON declaration, compact, no newline.
        let batched_id = genesis_cmd(
            &[
                "genesis",
                "--data",
                "docs",
                "--batched",
                "--max-batch",
                "16",
                "--out",
                batched_arg,
            ],
            &batched,
            48,
            "batched chain (up to 16 payloads per block)",
        );
        let bytes = std::fs::read(&batched).unwrap();
        assert_eq!(
            bytes,
            br#"{"data":"docs","format":"batched","maxBatch":16}"#
        );
        assert_eq!(
            parse_genesis(&bytes).unwrap().format,
            ChainFormat::Batched { max_batch: 16 }
        );
        assert_eq!(
            batched_id,
            plugin_genesis_id("genesis-batched", &bytes).await
        );
        assert_ne!(batched_id, single_id);

        // An existing file is kept unless --force; then it is replaced.
        let again = ["genesis", "--data", "other", "--out", single_arg];
        let message = genesis_refused(&again, "an existing file is kept unless --force");
        assert!(message.contains(single_arg), "{message}");
        assert_eq!(std::fs::read(&single).unwrap(), b"stampvm chain");
        let forced = [&again[..], &["--force"]].concat();
        let other_id = genesis_cmd(
            &forced,
            &single,
            5,
            "TimestampVM chain (one payload per block)",
        );
        assert_eq!(std::fs::read(&single).unwrap(), b"other");
        assert_eq!(other_id, genesis_block(b"other").unwrap().id().to_string());

        // Bad input writes nothing, not even over a file --force would replace.
        let long = "x".repeat(33);
        let fresh = dir.path().join("fresh");
        let fresh_arg = fresh.to_str().unwrap();
        let too_long = "genesis data should be bytes (max length 32), got 33 bytes";
        genesis_refused(&["genesis", "--data", &long, "--out", fresh_arg], too_long);
        let batched_long = ["genesis", "--data", &long, "--batched", "--out", fresh_arg];
        genesis_refused(&batched_long, too_long);
        let zero = "genesis `maxBatch` must be 1 to 65536, got 0";
        let max_zero = ["--batched", "--max-batch", "0", "--out", fresh_arg];
        genesis_refused(&[&["genesis", "--data", "d"][..], &max_zero].concat(), zero);
        let over = "genesis `maxBatch` must be 1 to 65536, got 65537";
        let max_over = ["--batched", "--max-batch", "65537", "--out", fresh_arg];
        genesis_refused(&[&["genesis", "--data", "d"][..], &max_over].concat(), over);
        // Raw data that is a format declaration would start another chain than its bytes say.
        let declaration = r#"{"format":"batched","data":"d"}"#;
        genesis_refused(
            &["genesis", "--data", declaration, "--out", fresh_arg],
            "use --batched",
        );
        assert!(
            !fresh.exists(),
            "a refused genesis wrote {}",
            fresh.display()
        );
        let forced_bad = ["genesis", "--data", &long, "--out", single_arg, "--force"];
        genesis_refused(&forced_bad, too_long);
        assert_eq!(
            std::fs::read(&single).unwrap(),
            b"other",
            "kept on bad input"
        );

        // --inspect: a clean file gives the same ID and no note; `echo`'s newline is a warning
        // and another chain, the one a plugin really starts on those bytes.
        let out = stampvm(&["genesis", "--inspect", batched_arg]);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(stdout(&out).lines().last(), Some(batched_id.as_str()));
        assert_eq!(
            stderr(&out),
            "",
            "no note on a file without a trailing newline"
        );
        let echoed = dir.path().join("echoed.bin");
        std::fs::write(&echoed, b"stampvm chain\n").unwrap();
        let out = stampvm(&["genesis", "--inspect", echoed.to_str().unwrap()]);
        assert!(out.status.success(), "{out:?}");
        let text = stdout(&out);
        let head = format!(
            "{}: 14 bytes, a TimestampVM chain (one payload per block); genesis block ID:",
            echoed.display()
        );
        assert_eq!(text.lines().next(), Some(head.as_str()));
        let echoed_id = text.lines().last().unwrap().to_string();
        assert_ne!(echoed_id, single_id, "the newline makes another chain");
        let note = stderr(&out);
        assert!(
            note.contains("ends with a whitespace byte ('\\n')") && note.contains("`echo`"),
            "{note:?}"
        );
        assert_eq!(
            echoed_id,
            plugin_genesis_id("genesis-echoed", b"stampvm chain\n").await
        );
        let missing = dir.path().join("missing.bin");
        genesis_refused(
            &["genesis", "--inspect", missing.to_str().unwrap()],
            "reading genesis",
        );
    })
    .await;
}

#[test]
fn vm_ids_the_readme_names() {
    // The Go TimestampVM's conventional VM ID is that of `timestamp`, not `timestampvm`.
    assert_eq!(
        run_cli(&["vm-id", "timestamp"]).trim(),
        "tGas3T58KzdjLHhBDMnH2TvrddhqTji5iZAMZ3RXs2NLpSnhH"
    );
    assert_eq!(
        run_cli(&["vm-id", "stampvm"]).trim(),
        "sr8ijvKKXxgbA1qvYYVChqBtVGrXq3vP7WTYLxsXUrt478CmF"
    );
}

/// Runs `script` with `sh` in `dir`, the built binary first on `PATH`, as a user pastes a README
/// line into a shell; asserts success and returns stdout.
fn shell(script: &str, dir: &Path) -> String {
    let bin_dir = plugin_binary().parent().unwrap().display().to_string();
    let out = std::process::Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .env_clear()
        .env("PATH", format!("{bin_dir}:/usr/local/bin:/usr/bin:/bin"))
        .output()
        .expect("run sh");
    assert!(out.status.success(), "{script}: {out:?}");
    stdout(&out)
}

/// The README's deployment lines, pasted verbatim into a shell, print what the README shows under
/// them: `stampvm genesis` (its two output lines), the `VM_ID=$(stampvm vm-id …)  # ID` lines, and the
/// P-Chain API's `GENESIS_HEX=…` line (AvalancheGo's hex-with-checksum form of the genesis file).
#[test]
fn readme_deploy_lines_print_what_the_readme_shows() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let lines: Vec<&str> = readme.lines().map(str::trim).collect();
    let dir = tempfile::tempdir().unwrap();
    let mut genesis_lines = 0;
    for (at, line) in lines.iter().enumerate() {
        if !line.starts_with("stampvm genesis --data") {
            continue;
        }
        let shown: Vec<&str> = lines[at + 1..]
            .iter()
            .map_while(|l| l.strip_prefix("# "))
            .collect();
        assert_eq!(
            shell(line, dir.path()).lines().collect::<Vec<_>>(),
            shown,
            "{line}"
        );
        genesis_lines += 1;
    }
    assert_eq!(
        genesis_lines, 2,
        "the README's two `stampvm genesis` examples"
    );

    let mut vm_id_lines = 0;
    for line in lines
        .iter()
        .filter(|l| l.starts_with("VM_ID=$(stampvm vm-id "))
    {
        let (command, shown) = line.split_once('#').expect("the ID as a comment");
        let printed = shell(&format!("{command}; printf %s \"$VM_ID\""), dir.path());
        assert_eq!(printed, shown.trim(), "{line}");
        vm_id_lines += 1;
    }
    assert!(
        vm_id_lines >= 1,
        "the swap's `VM_ID=$(stampvm vm-id timestamp)`"
    );

    let hex_line = lines
        .iter()
        .find(|l| l.starts_with("GENESIS_HEX="))
        .expect("the P-Chain API's genesisData line");
    let printed = shell(
        &format!("{hex_line}; printf %s \"$GENESIS_HEX\""),
        dir.path(),
    );
    let bytes = std::fs::read(dir.path().join("genesis.bin")).unwrap();
    let checksum = &Id::sha256(&bytes).0[28..];
    let expected = format!("0x{}{}", hex::encode(&bytes), hex::encode(checksum));
    assert_eq!(printed, expected);
}

/// How the bootstrapping node bounds its GetAncestors requests (the node's defaults are 2000
/// blocks, 1,677,721 bytes and 50 ms; smaller bounds make the chain take several rounds). The
/// time bound is generous so a slow machine never cuts a reply short.
#[derive(Clone, Copy)]
struct Bounds {
    max_blocks: i32,
    max_bytes: i32,
}

const RETRIEVAL_TIME_NS: i64 = 10_000_000_000;

/// Blocks the old node builds and accepts before the new one bootstraps.
const BLOCKS: u64 = 30;

/// A block of the fetched chain as the bootstrapping node parsed it.
struct Fetched {
    id: Id,
    parent: Id,
    height: u64,
    bytes: Vec<u8>,
}

#[tokio::test]
async fn a_timestampvm_chain_bootstraps_from_a_peer() {
    let bounds = Bounds {
        max_blocks: 7,
        max_bytes: 1_677_721,
    };
    bounded(BOUND, bootstrap_scenario("boot-single", GENESIS, bounds)).await;
}

#[tokio::test]
async fn a_batched_chain_bootstraps_from_a_peer() {
    // Blocks of 1 to 5 payloads (122 to 250 bytes) under a 1000-byte budget: the size binds.
    let bounds = Bounds {
        max_blocks: 2000,
        max_bytes: 1000,
    };
    let genesis = br#"{"format":"batched","data":"bootstrap","maxBatch":8}"#;
    bounded(BOUND, bootstrap_scenario("boot-batched", genesis, bounds)).await;
}

async fn bootstrap_scenario(name: &str, genesis: &[u8], bounds: Bounds) {
    let format = parse_genesis(genesis).unwrap().format;
    let network = Network::new();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start_node_with_genesis(
        &format!("{name}-a"),
        node_id(1),
        &network,
        dir_a.path(),
        genesis,
        "",
    )
    .await;

    // Node A builds and accepts the whole history, every payload proposed through its HTTP API.
    let mut holder = Vec::new(); // (payload, height of the block that holds it)
    let mut next_payload = 0u64;
    for height in 1..=BLOCKS {
        let count = match format {
            ChainFormat::Single => 1,
            ChainFormat::Batched { .. } => 1 + (height % 5),
        };
        let payloads: Vec<Payload> = (0..count)
            .map(|_| {
                next_payload += 1;
                payload(next_payload)
            })
            .collect();
        propose_all(&a, &payloads).await;
        a.wait_mempool(count).await;
        let built = a.build_and_accept().await;
        assert_eq!(built.height, height);
        let block = Block::decode(&built.bytes, format).expect("A's block decodes");
        assert_eq!(block.payloads(), &payloads[..], "height {height}");
        holder.extend(payloads.into_iter().map(|p| (p, height)));
    }
    let tip = id_at_height(&a, BLOCKS).await.expect("A's tip");

    // Node B: a fresh plugin on an empty data dir, started in the node's order up to
    // BOOTSTRAPPING.
    let b = Bootstrapping::start(&format!("{name}-b"), &network, dir_b.path(), genesis).await;
    assert_eq!(b.genesis.id, a.started.last_accepted.id, "same genesis");
    assert_eq!(b.genesis.height, 0);

    // The tip is unknown to B (GetBlock NOT_FOUND), so the bootstrapper fetches it.
    let unknown = b
        .client
        .get_block(pb::GetBlockRequest { id: tip.0.to_vec() });
    assert_eq!(unknown.await.unwrap().err, pb::Error::NotFound as i32);
    let fetched = fetch_ancestors(&a.client, &b.client, tip, b.genesis.height, bounds).await;
    assert_eq!(
        fetched.len() as u64,
        BLOCKS,
        "every block above genesis fetched once"
    );
    assert_eq!(
        fetched.last().unwrap().parent,
        b.genesis.id,
        "the chain ends at genesis"
    );

    // Execution: heights upwards, each block parsed again, verified by bytes, accepted by ID.
    for block in fetched.iter().rev() {
        let parsed = b
            .client
            .parse_block(pb::ParseBlockRequest {
                bytes: block.bytes.clone(),
            })
            .await
            .expect("ParseBlock");
        assert_eq!(parsed.id, block.id.0.to_vec());
        let verified = b
            .client
            .block_verify(pb::BlockVerifyRequest {
                bytes: block.bytes.clone(),
                p_chain_height: None,
            })
            .await
            .unwrap_or_else(|e| panic!("B refuses A's block at {}: {e}", block.height));
        assert_eq!(
            verified.timestamp, parsed.timestamp,
            "height {}",
            block.height
        );
        b.client
            .block_accept(pb::BlockAcceptRequest {
                id: block.id.0.to_vec(),
            })
            .await
            .expect("BlockAccept");
    }
    let b = b.finish(tip).await;
    assert_eq!(b.started.last_accepted.height, BLOCKS);

    same_history(&a, &b, BLOCKS).await;
    if matches!(format, ChainFormat::Batched { .. }) {
        for (payload, _) in &holder {
            let params = json!({"data": payload_hex(payload)});
            let (proof_a, proof_b) = (
                a.rpc("timestampvm.getProof", params.clone()).await,
                b.rpc("timestampvm.getProof", params).await,
            );
            assert!(proof_a["error"].is_null(), "{proof_a}");
            assert_eq!(proof_a, proof_b, "getProof");
        }
    }
    // B's payload index covers the history it bootstrapped.
    let (old, height) = holder[0];
    let holder_id = id_at_height(&a, height).await.unwrap();
    assert_eq!(
        refused_reason(&b, &old).await,
        format!("payload is already in accepted block {holder_id}")
    );

    // B builds the next block; A (a peer receiving it in consensus) verifies and accepts it.
    let new = payload(10_000);
    assert_eq!(b.propose(&new).await, json!({"Success": true}));
    b.wait_mempool(1).await;
    let built = b
        .client
        .build_block(pb::BuildBlockRequest {
            p_chain_height: Some(0),
        })
        .await
        .expect("B builds");
    assert_eq!(
        (built.height, built.parent_id.clone()),
        (BLOCKS + 1, tip.0.to_vec())
    );
    for node in [&b, &a] {
        let parsed = node
            .client
            .parse_block(pb::ParseBlockRequest {
                bytes: built.bytes.clone(),
            })
            .await
            .expect("ParseBlock of B's block");
        assert_eq!(parsed.id, built.id);
        node.client
            .block_verify(pb::BlockVerifyRequest {
                bytes: built.bytes.clone(),
                p_chain_height: None,
            })
            .await
            .unwrap_or_else(|e| panic!("{} refuses B's block: {e}", node.node_id));
        let id = Id::from_slice(&built.id).unwrap();
        set_preference(node, id).await;
        node.client
            .block_accept(pb::BlockAcceptRequest {
                id: built.id.clone(),
            })
            .await
            .expect("BlockAccept of B's block");
    }
    same_history(&a, &b, BLOCKS + 1).await;
    assert_eq!(mempool_size(&b).await, 0);

    a.stop().await;
    b.stop().await;
}

/// Proposes `payloads` through the node's HTTP API: one `proposeBlock`, or one `proposeBatch`.
async fn propose_all(node: &TestNode, payloads: &[Payload]) {
    if let [one] = payloads {
        assert_eq!(node.propose(one).await, json!({"Success": true}));
        return;
    }
    let data: Vec<String> = payloads.iter().map(payload_hex).collect();
    let reply = node
        .rpc("timestampvm.proposeBatch", json!({"data": data}))
        .await;
    assert_eq!(reply["result"]["accepted"], payloads.len(), "{reply}");
}

/// The bootstrapper's fetch: GetAncestors on the peer from `tip`, then from the parent of the
/// oldest block received, until a block at `last_accepted_height + 1`; each reply parsed on the
/// bootstrapping node with BatchedParseBlock. Checks every reply against its bounds (and that
/// it stopped only at a bound or at genesis) and the parent links. Returns the blocks tip first.
async fn fetch_ancestors(
    peer: &VmClient,
    bootstrapping: &VmClient,
    tip: Id,
    last_accepted_height: u64,
    bounds: Bounds,
) -> Vec<Fetched> {
    let mut fetched: Vec<Fetched> = Vec::new();
    let mut want = tip;
    let mut reply_sizes = Vec::new();
    loop {
        let reply = peer
            .get_ancestors(pb::GetAncestorsRequest {
                blk_id: want.0.to_vec(),
                max_blocks_num: bounds.max_blocks,
                max_blocks_size: bounds.max_bytes,
                max_blocks_retrival_time: RETRIEVAL_TIME_NS,
            })
            .await
            .expect("GetAncestors")
            .blks_bytes;
        assert!(!reply.is_empty(), "the peer has {want}");
        assert!(reply.len() <= bounds.max_blocks as usize);
        let charged: usize = reply.iter().map(|b| b.len() + 4).sum();
        assert!(charged <= bounds.max_bytes as usize, "{charged} bytes");
        let parsed = bootstrapping
            .batched_parse_block(pb::BatchedParseBlockRequest {
                request: reply.clone(),
            })
            .await
            .expect("BatchedParseBlock")
            .response;
        assert_eq!(parsed.len(), reply.len(), "one answer per block");
        assert_eq!(
            parsed[0].id,
            want.0.to_vec(),
            "the reply starts at the block asked for"
        );
        reply_sizes.push((reply.len(), charged));
        for (answer, bytes) in parsed.into_iter().zip(reply) {
            let id = Id::from_slice(&answer.id).unwrap();
            if let Some(child) = fetched.last() {
                assert_eq!(child.parent, id, "height {}: parent link", child.height);
            }
            let block = Fetched {
                id,
                parent: Id::from_slice(&answer.parent_id).unwrap(),
                height: answer.height,
                bytes,
            };
            assert_eq!(
                block.id,
                Id::sha256(&block.bytes),
                "an ID is its bytes' hash"
            );
            // Heights at or below the last accepted one are already done (the genesis block,
            // which the peer sends when the budget leaves room for it).
            if block.height > last_accepted_height {
                fetched.push(block);
            }
        }
        let oldest = fetched.last().expect("blocks above genesis");
        if oldest.height == last_accepted_height + 1 {
            break;
        }
        want = oldest.parent;
    }
    // Every reply but the last stopped at a bound: it was full by count, or the next block
    // (the first of the next reply) would have gone over the byte budget.
    let heights: Vec<u64> = fetched.iter().map(|b| b.height).collect();
    let expected: Vec<u64> = (last_accepted_height + 1..=heights[0]).rev().collect();
    assert_eq!(heights, expected, "contiguous heights, tip first");
    let mut first_of_next = 0;
    for (round, &(count, charged)) in reply_sizes.iter().enumerate() {
        first_of_next += count;
        if round + 1 == reply_sizes.len() {
            break;
        }
        let next = fetched[first_of_next].bytes.len() + 4;
        let full =
            count == bounds.max_blocks as usize || charged + next > bounds.max_bytes as usize;
        assert!(
            full,
            "round {round}: {count} blocks, {charged} bytes, stopped early"
        );
    }
    assert!(reply_sizes.len() >= 4, "{reply_sizes:?}: several rounds");
    fetched
}

/// A node between SetState(BOOTSTRAPPING) and NORMAL_OP, started as `VmClient::start_chain`
/// does up to there.
struct Bootstrapping {
    process: rpcchainvm_host::PluginProcess,
    client: VmClient,
    services: rpcchainvm_host::NodeServicesHandle,
    params: ChainParams,
    shutdown: Shutdown,
    handlers: Vec<pb::Handler>,
    http_handler_addr: Option<String>,
    genesis: BlockSummary,
}

impl Bootstrapping {
    async fn start(name: &str, network: &Network, dir: &Path, genesis: &[u8]) -> Bootstrapping {
        let process = launch(name).await;
        let profile = process.profile();
        let shutdown = Shutdown::new();
        let node = node_id(2);
        let (services_addr, services) =
            NodeServices::serve_as(profile, node, network.clone(), shutdown.clone())
                .await
                .expect("node services bind");
        let client = process.vm_client().await.expect("dial the plugin");
        let params = ChainParams::new(node, dir, genesis.to_vec(), services_addr.to_string())
            .with_profile(profile);
        let initialized = client.initialize(params.initialize_request()).await;
        let genesis = BlockSummary::from_initialize(initialized.expect("Initialize")).unwrap();
        if profile.answers_verify_height_index() {
            let answer = client
                .verify_height_index()
                .await
                .expect("VerifyHeightIndex");
            assert_eq!(answer.err, 0);
        }
        let handlers = client
            .create_handlers()
            .await
            .expect("CreateHandlers")
            .handlers;
        let http_handler_addr = match profile.extra_handler_rpc() {
            ExtraHandlerRpc::None => None,
            ExtraHandlerRpc::CreateHttp2Handler => Some(
                client
                    .create_http2_handler()
                    .await
                    .expect("CreateHTTP2Handler")
                    .server_addr,
            ),
            ExtraHandlerRpc::NewHttpHandler => Some(
                client
                    .new_http_handler()
                    .await
                    .expect("NewHTTPHandler")
                    .server_addr,
            ),
        }
        .filter(|addr| !addr.is_empty());
        let sync = client.state_sync_enabled().await.expect("StateSyncEnabled");
        assert!(!sync.enabled);
        let state = pb::SetStateRequest {
            state: pb::State::Bootstrapping.into(),
        };
        let answer = client
            .set_state(state)
            .await
            .expect("SetState(BOOTSTRAPPING)");
        let bootstrapping = BlockSummary::from_set_state(answer).unwrap();
        assert_eq!(
            bootstrapping, genesis,
            "an empty data dir starts at genesis"
        );
        client
            .connected(params.connected_self())
            .await
            .expect("Connected(self)");
        // The peers it bootstraps from connect (Connected both ways).
        network.join(node, client.clone(), &params.client).await;
        Bootstrapping {
            process,
            client,
            services,
            params,
            shutdown,
            handlers,
            http_handler_addr,
            genesis,
        }
    }

    /// SetPreference(last accepted) and SetState(NORMAL_OP), then the HTTP API opens.
    async fn finish(self, last_accepted: Id) -> TestNode {
        let client = &self.client;
        set_preference_on(client, last_accepted).await;
        let state = pb::SetStateRequest {
            state: pb::State::NormalOp.into(),
        };
        let answer = client.set_state(state).await.expect("SetState(NORMAL_OP)");
        let last = BlockSummary::from_set_state(answer).unwrap();
        assert_eq!(last.id, last_accepted, "NORMAL_OP at the bootstrapped tip");
        let node = self.params.node_id;
        let profile = self.process.profile();
        let gateway = Gateway::bind_as("127.0.0.1:0".parse().unwrap(), node, profile)
            .await
            .expect("gateway binds");
        let routes = self
            .handlers
            .iter()
            .map(|h| (h.prefix.clone(), h.server_addr.clone()))
            .collect();
        gateway
            .register_chain(self.params.chain_id, routes, self.http_handler_addr.clone())
            .expect("handlers mount");
        gateway.set_ready(self.params.chain_id, true);
        gateway.spawn(self.shutdown.clone());
        TestNode {
            started: ChainStart {
                last_accepted: last,
                handlers: self.handlers,
                http_handler_addr: self.http_handler_addr,
                state_sync_enabled: false,
            },
            process: self.process,
            client: self.client,
            services: self.services,
            node_id: node,
            params: self.params,
            gateway,
            shutdown: self.shutdown,
        }
    }
}

async fn set_preference_on(client: &VmClient, id: Id) {
    client
        .set_preference(pb::SetPreferenceRequest { id: id.0.to_vec() })
        .await
        .expect("SetPreference");
}

/// Both nodes hold the same accepted chain up to `tip_height` and nothing above it, block for
/// block and answer for answer.
async fn same_history(a: &TestNode, b: &TestNode, tip_height: u64) {
    for height in 0..=tip_height {
        let id = id_at_height(a, height).await.expect("A's block");
        assert_eq!(id_at_height(b, height).await, Some(id), "height {height}");
        let (got_a, got_b) = (get_block(a, id).await, get_block(b, id).await);
        assert_eq!(got_a, got_b, "GetBlock at {height}");
        assert_eq!(Id::sha256(&got_b.bytes), id);
        let by_height = json!({"height": height});
        let (json_a, json_b) = (
            a.rpc("timestampvm.getBlockByHeight", by_height.clone())
                .await,
            b.rpc("timestampvm.getBlockByHeight", by_height).await,
        );
        assert!(json_a["error"].is_null(), "{json_a}");
        assert_eq!(json_a, json_b, "getBlockByHeight {height}");
        let by_id = json!({"id": id.to_string()});
        let json_b_by_id = b.rpc("timestampvm.getBlock", by_id).await;
        assert_eq!(json_b_by_id["result"], json_a["result"], "getBlock {id}");
    }
    assert_eq!(id_at_height(b, tip_height + 1).await, None);
    for method in ["timestampvm.getBlock", "timestampvm.lastAccepted"] {
        let (json_a, json_b): (Value, Value) = (
            a.rpc(method, json!({})).await,
            b.rpc(method, json!({})).await,
        );
        assert!(json_a["error"].is_null(), "{json_a}");
        assert_eq!(json_a, json_b, "{method}");
    }
}

async fn get_block(node: &TestNode, id: Id) -> pb::GetBlockResponse {
    let got = node
        .client
        .get_block(pb::GetBlockRequest { id: id.0.to_vec() })
        .await
        .expect("GetBlock");
    assert_eq!(got.err, 0, "{}: {id}", node.node_id);
    got
}

/// A folder of links to the few commands `scripts/ensure-system-deps.sh` runs, without `apt-get`,
/// `dpkg` or `llvm-config`: a machine that is not Debian, as far as the script can tell.
fn non_debian_path(dir: &std::path::Path) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in [
        "bash", "ls", "id", "cargo", "c++", "make", "cat", "env", "dirname",
    ] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .chain([
                std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default())
                    .join(".cargo/bin"),
            ])
            .map(|dir| dir.join(tool))
            .find(|path| path.is_file())
            .unwrap_or_else(|| panic!("{tool} not found on PATH"));
        std::os::unix::fs::symlink(&found, bin.join(tool)).unwrap();
    }
    bin
}

// (4) The script on a machine without apt: libclang through LIBCLANG_PATH is enough; without it
// the error names other package managers and LIBCLANG_PATH, and nothing tries apt-get.
#[test]
fn system_deps_script_works_without_apt() {
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/ensure-system-deps.sh");
    let libclang_dir = std::fs::read_dir("/usr/lib")
        .unwrap()
        .flatten()
        .map(|entry| entry.path().join("lib"))
        .find(|lib| lib.join("libclang.so").exists())
        .expect("this machine's libclang (the build needs it)");
    let dir = tempfile::tempdir().unwrap();
    let bin = non_debian_path(dir.path());
    let run = |libclang: Option<&std::path::Path>| {
        let mut command = std::process::Command::new(bin.join("bash"));
        command
            .arg(&script)
            .env_clear()
            .env("PATH", &bin)
            .env("HOME", std::env::var_os("HOME").unwrap_or_default());
        if let Some(path) = libclang {
            command.env("LIBCLANG_PATH", path);
        }
        command.output().unwrap()
    };
    let found = run(Some(&libclang_dir));
    assert!(
        found.status.success(),
        "{}",
        String::from_utf8_lossy(&found.stderr)
    );
    let missing = run(None);
    let said = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(1), "{said}");
    assert!(
        said.contains("apt-get is not here")
            && said.contains("dnf install clang-devel")
            && said.contains("LIBCLANG_PATH"),
        "{said}"
    );
}
