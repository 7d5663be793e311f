//! Batched blocks end to end, as a user of `stampvm dev` meets them: a dev chain with a batched
//! genesis takes 10,000 payloads in one `timestampvm.proposeBatch`, builds and accepts them by
//! itself (maxBatch 4096: at least three blocks), and then every one of the 10,000 has a proof
//! from `timestampvm.getProof` whose path leads to its block's root, whose block is the node's
//! accepted block at that height (same ID, time, root, count), and which `stampvm verify-proof
//! --rpc` accepts (run on the first and last payload of every block; the other proofs are checked
//! in-process by the same library code the command uses). A proof with one hex digit changed is
//! refused by the command with exit code 1.
//!
//! Fails if any payload is refused or lost, if a proof is missing, wrong or fails its path, if
//! two blocks claim one payload, or if the command disagrees. Bounded: 60 s for the chain to take
//! everything in.
//!
//! `the_banners_lines_work_pasted_into_a_shell`: a batched dev chain's banner names
//! `proposeBatch`, `getProof` and `verify-proof` (not `proposeBlock`), and its three command
//! lines, run by `sh` in an empty directory as a user pastes them, propose two payloads, save a
//! proof of the first into proof.json (retried until a block took it, at most 10 s) and have
//! `verify-proof --rpc` find it valid (exit 0). Fails on any other banner, or if a line fails.

use crate::common;

use common::dev::DevProcess;
use common::payload;
use serde_json::{json, Value};
use stampvm::api::proof_json::ProofJson;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashSet};
use std::process::Command;
use std::time::{Duration, Instant};

const PAYLOADS: u64 = 10_000;
const GENESIS: &str = r#"{"format":"batched","data":"e2e","maxBatch":4096}"#;
/// getProof calls per JSON-RPC batch request (well inside the 2 MiB body limit both ways).
const PROOFS_PER_REQUEST: usize = 500;

fn hex(n: u64) -> String {
    common::payload_hex(&payload(n))
}

/// `stampvm verify-proof --proof <file> --rpc <url>`: exit code and stdout.
fn verify_proof_cli(dir: &std::path::Path, name: &str, proof: &Value, url: &str) -> (i32, String) {
    let file = dir.join(name);
    std::fs::write(&file, proof.to_string()).unwrap();
    let out = Command::new(common::plugin_binary())
        .args(["verify-proof", "--proof"])
        .arg(&file)
        .args(["--rpc", url])
        .env_clear()
        .output()
        .expect("verify-proof runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn ten_thousand_payloads_each_get_a_proof_the_command_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = DevProcess::spawn(
        &dir.path().join("dev"),
        &["--metrics", "127.0.0.1:0", "--genesis", GENESIS],
    );
    let url = dev.rpc_url().await;

    // One request, 10,000 payloads, each taken.
    let data: Vec<String> = (0..PAYLOADS).map(hex).collect();
    let reply = common::post_json(
        &url,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "timestampvm.proposeBatch", "params": {"data": data}}),
    )
    .await;
    assert_eq!(
        reply["result"]["accepted"],
        json!(PAYLOADS),
        "{}",
        reply["error"]
    );

    // The dev engine builds and accepts them by itself: wait until the last one has a proof.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let last = common::json_rpc(
            &url,
            "timestampvm.getProof",
            json!({"data": hex(PAYLOADS - 1)}),
        )
        .await;
        if last.get("result").is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "payloads not all accepted within 60 s: {last}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Every proof, in JSON-RPC batches.
    let mut proofs = Vec::with_capacity(PAYLOADS as usize);
    for chunk in (0..PAYLOADS).collect::<Vec<_>>().chunks(PROOFS_PER_REQUEST) {
        let calls: Vec<Value> = chunk
            .iter()
            .map(|&n| json!({"jsonrpc": "2.0", "id": n, "method": "timestampvm.getProof", "params": {"data": hex(n)}}))
            .collect();
        let replies = common::post_json(&url, &Value::Array(calls)).await;
        let replies = replies.as_array().expect("a batch reply");
        assert_eq!(replies.len(), chunk.len());
        for (n, reply) in chunk.iter().zip(replies) {
            assert_eq!(reply["id"], json!(n));
            let result = reply
                .get("result")
                .unwrap_or_else(|| panic!("no proof for payload {n}: {reply}"));
            proofs.push((*n, result.clone()));
        }
    }

    // Each path leads to its root; the blocks are the node's accepted blocks; no payload twice.
    let mut blocks: BTreeMap<u64, (Value, HashSet<u64>)> = BTreeMap::new();
    for (n, json) in &proofs {
        let proof = ProofJson::read(json.to_string().as_bytes())
            .and_then(|p| p.to_proof())
            .unwrap_or_else(|e| panic!("proof of {n} does not read: {e}: {json}"));
        assert_eq!(proof.payload, payload(*n));
        assert!(
            proof.path_is_valid(),
            "proof of payload {n} fails its path: {json}"
        );
        assert!(
            proof.path.len() <= 12,
            "a 4096-leaf tree needs at most 12 hashes"
        );
        let height = proof.height;
        if let Entry::Vacant(slot) = blocks.entry(height) {
            let block = common::json_rpc(
                &url,
                "timestampvm.getBlockByHeight",
                json!({"height": height}),
            )
            .await;
            slot.insert((block["result"].clone(), HashSet::new()));
        }
        let (block, indices) = blocks.get_mut(&height).unwrap();
        assert_eq!(block["id"], json["blockID"], "payload {n}");
        assert_eq!(block["timestamp"], json["timestamp"], "payload {n}");
        assert_eq!(block["root"], json["root"], "payload {n}");
        assert_eq!(block["count"], json["count"], "payload {n}");
        assert!(
            indices.insert(proof.index),
            "two payloads at leaf {} of height {height}",
            proof.index
        );
    }
    let total: u64 = blocks
        .values()
        .map(|(b, _)| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        total, PAYLOADS,
        "the blocks hold exactly the proposed payloads"
    );
    assert!(
        blocks.len() >= 3,
        "4096 per block at most: {} blocks",
        blocks.len()
    );

    // The command, on the first and last payload of every block.
    for (height, (_, _)) in &blocks {
        let in_block: Vec<&(u64, Value)> = proofs
            .iter()
            .filter(|(_, p)| p["height"] == json!(height.to_string()))
            .collect();
        for (n, proof) in [in_block[0], in_block[in_block.len() - 1]] {
            let (code, out) = verify_proof_cli(dir.path(), &format!("proof-{n}.json"), proof, &url);
            assert_eq!(code, 0, "verify-proof refused payload {n}: {out}");
            assert!(out.starts_with("valid: payload"), "{out}");
        }
    }

    // One changed digit in the root: refused (exit 1), not an error.
    let (_, mut forged) = proofs[0].clone();
    let root = forged["root"].as_str().unwrap().to_string();
    let flipped = if root.ends_with('0') { "1" } else { "0" };
    forged["root"] = json!(format!("{}{flipped}", &root[..root.len() - 1]));
    let (code, out) = verify_proof_cli(dir.path(), "forged.json", &forged, &url);
    assert_eq!(code, 1, "a forged proof must be invalid: {out}");
}

/// Runs `line` with `sh -c` in `dir` (curl from the system PATH); returns exit code and output.
fn pasted(line: &str, dir: &std::path::Path) -> (i32, String) {
    let out = Command::new("sh")
        .args(["-c", line])
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .output()
        .expect("sh runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn the_banners_lines_work_pasted_into_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = DevProcess::spawn(
        &dir.path().join("dev"),
        &["--metrics", "127.0.0.1:0", "--genesis", GENESIS],
    );
    let (lines, _) = dev.whole_banner().await;
    let banner = lines.join("\n");
    assert!(!banner.contains("proposeBlock"), "{banner}");
    // The command after the line's label (`try …: `, `then …: `, `check it: `).
    let command = |label: &str, call: &str| -> String {
        let line = lines
            .iter()
            .find(|line| line.starts_with(label) && line.contains(call))
            .unwrap_or_else(|| panic!("no `{label}` line with {call}: {banner}"));
        line.split_once(": ").unwrap().1.to_string()
    };
    let propose = command("try", "timestampvm.proposeBatch");
    let save_proof = command("then", "timestampvm.getProof");
    let check = command("check it", "verify-proof");

    let shell = tempfile::tempdir().unwrap();
    let (code, out) = pasted(&propose, shell.path());
    assert_eq!(code, 0, "{propose}: {out}");
    let reply: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{propose}: {out}"));
    assert_eq!(reply["result"]["accepted"], 2, "{reply}");

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (code, out) = pasted(&save_proof, shell.path());
        assert_eq!(code, 0, "{save_proof}: {out}");
        let saved = std::fs::read_to_string(shell.path().join("proof.json")).unwrap();
        let saved: Value = serde_json::from_str(&saved).expect("a JSON-RPC reply");
        if saved["result"].is_object() {
            break;
        }
        assert!(Instant::now() < deadline, "no proof within 10 s: {saved}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (code, out) = pasted(&check, shell.path());
    assert_eq!(code, 0, "{check}: {out}");
    assert!(out.starts_with("valid: payload"), "{out}");
    dev.interrupt().await;
}
