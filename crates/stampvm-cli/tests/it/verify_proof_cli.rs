//! `stampvm verify-proof` as a user runs it, with no chain: proof files are built here from a
//! block and the Merkle code, `--rpc` talks to a scripted one-reply HTTP node. Checks the exit
//! codes (0 valid, 1 invalid, 2 could not check) and that each message says what failed; a
//! tampered proof that passed, or a broken file reported as "invalid", fails a test.

use stampvm::api::data::{hex_checksummed, Encoding};
use stampvm::api::proof_json::{format_hash, BlockFormat, ProofJson};
use stampvm::chain::{Block, Id, Proof};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;

/// 2026-11-21T10:53:53Z.
const TIME: i64 = 1_795_258_433;

/// Block 3 of a batched chain: five payloads, SHA-256 of a counter each.
fn block() -> Block {
    let payloads = (0u8..5).map(|i| Id::sha256(&[i]).0).collect();
    Block::batched(Id::sha256(b"parent"), 3, TIME, payloads).unwrap()
}

/// The proof of leaf 3 of [`block`].
fn proof() -> Proof {
    let block = block();
    Proof::in_block(&block, block.id(), 3).unwrap()
}

fn proof_json(proof: &Proof) -> String {
    serde_json::to_string(&ProofJson::from_proof(
        proof,
        BlockFormat::Batched,
        Encoding::Hex,
    ))
    .unwrap()
}

/// A file in a fresh directory (kept alive by the returned guard).
fn file(contents: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("proof.json");
    std::fs::write(&path, contents).unwrap();
    (dir, path)
}

/// Runs `stampvm verify-proof --proof <path> <extra…>`: exit code, stdout, stderr.
fn verify(path: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stampvm"))
        .arg("verify-proof")
        .arg("--proof")
        .arg(path)
        .args(extra)
        .env_clear()
        .output()
        .expect("stampvm runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

fn verify_text(contents: &str, extra: &[&str]) -> (i32, String, String) {
    let (_dir, path) = file(contents);
    verify(&path, extra)
}

#[test]
fn a_valid_proof_exits_0_and_says_what_it_proves() {
    let proof = proof();
    let id = proof.block_id.to_string();
    let bare = proof_json(&proof);
    let reply = format!(r#"{{"jsonrpc":"2.0","result":{bare},"id":7}}"#);
    for contents in [&bare, &reply] {
        let (code, stdout, stderr) = verify_text(contents, &["--block-id", &id]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        let expected = format!(
            "valid: payload {} existed at 2026-11-21T10:53:53Z (unix {TIME}), block {id} height 3, leaf 3 of 5\n",
            hex_checksummed(&proof.payload)
        );
        assert!(stdout.starts_with(&expected), "{stdout}");
        assert!(stdout.contains("against --block-id"), "{stdout}");
        // Without --rpc, the output says the root is not tied to the chain.
        assert!(stdout.contains("not checked: "), "{stdout}");
    }
}

#[test]
fn a_tampered_proof_exits_1_and_names_the_check() {
    let good = proof();
    let flip = |mut hash: [u8; 32]| {
        hash[31] ^= 1;
        hash
    };
    let mut path = good.path.clone();
    path[1] = flip(path[1]);
    let tampered = [
        Proof {
            payload: flip(good.payload),
            ..good.clone()
        },
        Proof {
            root: flip(good.root),
            ..good.clone()
        },
        Proof {
            path,
            ..good.clone()
        },
        Proof {
            index: good.index ^ 1,
            ..good.clone()
        },
        Proof {
            count: good.count ^ 8,
            ..good.clone()
        },
    ];
    for bad in &tampered {
        let (code, stdout, stderr) = verify_text(&proof_json(bad), &[]);
        assert_eq!(code, 1, "{bad:?}: {stdout}{stderr}");
        assert!(
            stdout
                .starts_with("invalid: the audit path does not lead from the payload to the root"),
            "{stdout}"
        );
    }
    // A digit of the root changed in the file itself: still a readable, and invalid, proof.
    let text = proof_json(&good);
    let root = format_hash(&good.root);
    let last = if root.ends_with('0') { "1" } else { "0" };
    let edited = text.replace(&root, &format!("{}{last}", &root[..65]));
    assert_eq!(verify_text(&edited, &[]).0, 1);

    let other = Id::sha256(b"another block").to_string();
    let (code, stdout, _) = verify_text(&text, &["--block-id", &other]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.starts_with(&format!(
            "invalid: the proof names block {}, not the trusted {other}",
            good.block_id
        )),
        "{stdout}"
    );
}

#[test]
fn an_unreadable_proof_exits_2_with_a_clear_error() {
    let text = proof_json(&proof());
    let cases = [
        ("{not json", "is not a proof: not JSON"),
        (r#"{"data":"0x00"}"#, "is not a proof: not a proof object"),
        (
            &text.replace(r#""root":"0x"#, r#""root":"0xzz"#),
            "root: expected 0x and 64 hex digits",
        ),
        // The payload's checksum catches an edited digit before any check runs.
        (
            &text.replacen(r#""data":"0x"#, r#""data":"0x0"#, 1),
            "data: ",
        ),
        (
            r#"{"jsonrpc":"2.0","error":{"code":-32001,"message":"payload 0x12 is not yet accepted","data":null},"id":1}"#,
            "holds an error, not a proof: payload 0x12 is not yet accepted",
        ),
    ];
    for (contents, message) in cases {
        let (code, stdout, stderr) = verify_text(contents, &[]);
        assert_eq!(code, 2, "{contents}: {stdout}{stderr}");
        assert!(stderr.contains(message), "{contents}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
    }
    let missing = Path::new("/nonexistent/proof.json");
    let (code, _, stderr) = verify(missing, &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("reading /nonexistent/proof.json"),
        "{stderr}"
    );
    // A malformed --block-id is a usage error (clap's exit code 2).
    let (code, _, stderr) = verify_text(&text, &["--block-id", "not-an-id"]);
    assert_eq!(code, 2, "{stderr}");
}

/// A node that answers one HTTP request with `status` and `body`; the thread returns the
/// request body it got.
fn scripted_node(status: &'static str, body: String) -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ext/bc/chain/rpc", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        let (head_end, length) = loop {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "the request ended early");
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .map_or(0, |value| value.trim().parse::<usize>().unwrap());
                break (end + 4, length);
            }
        };
        while request.len() < head_end + length {
            let n = stream.read(&mut buf).unwrap();
            request.extend_from_slice(&buf[..n]);
        }
        let reply = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(reply.as_bytes()).unwrap();
        String::from_utf8(request[head_end..].to_vec()).unwrap()
    });
    (url, handle)
}

/// getBlockByHeight's reply for `block`, as the node prints a batched block.
fn block_reply(block: &Block, root: [u8; 32]) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","result":{{"timestamp":"{}","data":"{}","height":"{}","id":"{}","parentID":"{}","root":"{}","count":{}}},"id":1}}"#,
        block.timestamp as u64,
        hex_checksummed(&root),
        block.height,
        block.id(),
        block.parent,
        format_hash(&root),
        block.payloads().len(),
    )
}

#[test]
fn rpc_binds_the_root_to_the_node_s_block() {
    let block = block();
    let text = proof_json(&proof());

    let (url, node) = scripted_node("200 OK", block_reply(&block, block.root()));
    let (code, stdout, stderr) = verify_text(&text, &["--rpc", &url]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("against the node at {url}")),
        "{stdout}"
    );
    assert!(!stdout.contains("not checked"), "{stdout}");
    let request: serde_json::Value = serde_json::from_str(&node.join().unwrap()).unwrap();
    assert_eq!(request["method"], "timestampvm.getBlockByHeight");
    assert_eq!(request["params"]["height"], 3);

    // Same ID but another root: the node disagrees with the proof.
    let (url, _node) = scripted_node("200 OK", block_reply(&block, [0xee; 32]));
    let (code, stdout, _) = verify_text(&text, &["--rpc", &url]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.starts_with("invalid: the node's block has root 0xeeee"),
        "{stdout}"
    );
}

#[test]
fn rpc_that_cannot_answer_exits_2() {
    let text = proof_json(&proof());
    let no_block = r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"no accepted block at height 3","data":null},"id":1}"#;
    let (url, _node) = scripted_node("200 OK", no_block.to_owned());
    let (code, _, stderr) = verify_text(&text, &["--rpc", &url]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the node answered: no accepted block at height 3"),
        "{stderr}"
    );

    let (url, _node) = scripted_node("404 Not Found", "404 page not found".to_owned());
    let (code, _, stderr) = verify_text(&text, &["--rpc", &url]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("HTTP 404"), "{stderr}");

    // Nothing listening.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _, stderr) = verify_text(&text, &["--rpc", &format!("http://127.0.0.1:{port}/rpc")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("connecting to 127.0.0.1"), "{stderr}");

    let (code, _, stderr) = verify_text(&text, &["--rpc", "https://example.com/rpc"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("https is not supported"), "{stderr}");
}
