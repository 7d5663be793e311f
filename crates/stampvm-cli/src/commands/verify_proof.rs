//! `stampvm verify-proof`: checks a proof that `timestampvm.getProof` gave, without trusting
//! whoever handed it over.
//!
//! Always: the audit path leads from the payload to the root ([`Proof::path_is_valid`]).
//! With `--block-id`: the proof names that block, an ID the user trusts from elsewhere. With
//! `--rpc`: a node's accepted block at the proof's height has the proof's ID, time, root and
//! payload count, which ties the root to the chain. Exit codes: 0 valid, 1 invalid (the failed
//! check is printed), 2 could not check (usage, file, network, node errors).
//!
//! # Layout
//! - this file: the flags, the offline checks, the report.
//! - `node`: the `--rpc` fetch and comparison.

mod node;

use anyhow::Context;
use stampvm::api::data::{format_payload, Encoding};
use stampvm::api::proof_json::{format_hash, BlockFormat, ProofJson};
use stampvm::chain::{Id, Proof};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct VerifyProofArgs {
    /// The proof: a `timestampvm.getProof` result saved as JSON, alone or inside its whole
    /// JSON-RPC reply.
    #[arg(long, value_name = "FILE")]
    proof: PathBuf,
    /// Require the proof to name this block (CB58), an ID you trust from elsewhere.
    ///
    /// This checks the proof's claim of a block ID, not that the root is that block's: the root
    /// is bound to the ID only by the block's bytes (the ID is their hash), which a proof does
    /// not carry. For that binding, use --rpc.
    #[arg(long, value_name = "ID")]
    block_id: Option<Id>,
    /// Compare with a node: the chain's JSON-RPC URL (http only), e.g.
    /// http://127.0.0.1:9650/ext/bc/<chainID>/rpc.
    ///
    /// The node's accepted block at the proof's height must have the proof's block ID,
    /// timestamp, root and payload count (`timestampvm.getBlockByHeight`). A node without that
    /// height yet is an error (exit 2), not a verdict.
    #[arg(long, value_name = "URL")]
    rpc: Option<String>,
}

/// A check the proof failed: the verdict "invalid", and which part of the proof is wrong.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
enum Failure {
    #[error("the audit path does not lead from the payload to the root (leaf {index} of {count})")]
    Path { index: u64, count: u64 },
    #[error(
        "a single-payload block holds one payload, but the proof says leaf {index} of {count}"
    )]
    SingleCount { index: u64, count: u64 },
    #[error("the proof names block {proof}, not the trusted {trusted}")]
    BlockId { proof: Id, trusted: Id },
    #[error("the node's block at height {height} is {node}, not the proof's {proof}")]
    NodeBlockId { height: u64, node: Id, proof: Id },
    #[error("the node's block is {node}, the proof says {proof}")]
    NodeFormat {
        node: &'static str,
        proof: &'static str,
    },
    #[error("the node's block has timestamp {node}, the proof says {proof}")]
    NodeTimestamp { node: u64, proof: u64 },
    #[error("the node's block has root {node}, the proof says {proof}")]
    NodeRoot { node: String, proof: String },
    #[error("the node's block carries {node} payloads, the proof says {proof}")]
    NodeCount { node: u64, proof: u64 },
}

/// Runs the command and turns its outcome into the exit code (0, 1 or 2).
pub fn run(args: VerifyProofArgs) -> ExitCode {
    match verify(&args) {
        Ok(Ok(report)) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Ok(Err(failure)) => {
            println!("invalid: {failure}");
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!(
                "stampvm verify-proof: error: {}",
                crate::error_text::chain(&error)
            );
            ExitCode::from(2)
        }
    }
}

/// The report of a valid proof, or the check it failed; `Err` when it could not be checked.
fn verify(args: &VerifyProofArgs) -> anyhow::Result<Result<String, Failure>> {
    let path = args.proof.display();
    let bytes = std::fs::read(&args.proof).with_context(|| format!("reading {path}"))?;
    let json = ProofJson::read(&bytes).with_context(|| format!("{path} is not a proof"))?;
    let proof = json
        .to_proof()
        .with_context(|| format!("{path} is not a proof"))?;
    if let Err(failure) = check_offline(&proof, json.format, args.block_id) {
        return Ok(Err(failure));
    }
    if let Some(url) = &args.rpc {
        let block = node::fetch_block(url, proof.height)?;
        if let Err(failure) = block.matches(&proof, json.format) {
            return Ok(Err(failure));
        }
    }
    Ok(Ok(report(&proof, args)))
}

/// The checks that need nothing but the proof (and the trusted ID, if given).
fn check_offline(proof: &Proof, format: BlockFormat, trusted: Option<Id>) -> Result<(), Failure> {
    let (index, count) = (proof.index, proof.count);
    // The path check alone would let a "single" proof claim any count its path's shape allows.
    if format == BlockFormat::Single && (index, count) != (0, 1) {
        return Err(Failure::SingleCount { index, count });
    }
    if !proof.path_is_valid() {
        return Err(Failure::Path { index, count });
    }
    match trusted {
        Some(trusted) if trusted != proof.block_id => Err(Failure::BlockId {
            proof: proof.block_id,
            trusted,
        }),
        _ => Ok(()),
    }
}

/// What a valid proof says, then what was checked and what was not: without --rpc nothing
/// here ties the root to the chain, and the user should know it.
fn report(proof: &Proof, args: &VerifyProofArgs) -> String {
    let mut out = format!(
        "valid: payload {} existed at {} (unix {}), block {} height {}, leaf {} of {}\n\
         checked: the audit path to root {}",
        format_payload(&proof.payload, Encoding::Hex),
        rpcchainvm::utc::rfc3339(proof.timestamp),
        proof.timestamp,
        proof.block_id,
        proof.height,
        proof.index,
        proof.count,
        format_hash(&proof.root),
    );
    if args.block_id.is_some() {
        out.push_str("; the block ID, against --block-id");
    }
    match &args.rpc {
        Some(url) => out.push_str(&format!(
            "; the block's ID, time, root and count, against the node at {url}"
        )),
        None => out.push_str(
            "\nnot checked: that the root is the block's (only the block's bytes or a node can \
             tell; use --rpc URL)",
        ),
    }
    out
}

#[cfg(test)]
mod tests {
    //! The offline checks and the report's wording; the whole command, exit codes included, is
    //! driven in tests/verify_proof_cli.rs.

    use super::*;
    use stampvm::chain::Block;

    fn proof() -> Proof {
        let block = Block::batched(Id::EMPTY, 4, 1_700_000_000, vec![[1; 32], [2; 32]]).unwrap();
        Proof::in_block(&block, block.id(), 1).unwrap()
    }

    #[test]
    fn offline_checks_name_the_failure() {
        let good = proof();
        assert_eq!(check_offline(&good, BlockFormat::Batched, None), Ok(()));
        assert_eq!(
            check_offline(&good, BlockFormat::Batched, Some(good.block_id)),
            Ok(())
        );
        let trusted = Id([9; 32]);
        assert_eq!(
            check_offline(&good, BlockFormat::Batched, Some(trusted)),
            Err(Failure::BlockId {
                proof: good.block_id,
                trusted
            })
        );
        let bad_root = Proof {
            root: [0; 32],
            ..good.clone()
        };
        assert_eq!(
            check_offline(&bad_root, BlockFormat::Batched, None),
            Err(Failure::Path { index: 1, count: 2 })
        );
        // A two-payload proof cannot come from a single-payload chain.
        assert_eq!(
            check_offline(&good, BlockFormat::Single, None),
            Err(Failure::SingleCount { index: 1, count: 2 })
        );
    }

    #[test]
    fn the_report_says_what_was_not_checked() {
        let proof = proof();
        let args = |block_id, rpc| VerifyProofArgs {
            proof: PathBuf::from("p.json"),
            block_id,
            rpc,
        };
        let offline = report(&proof, &args(None, None));
        assert!(
            offline.starts_with(&format!(
                "valid: payload {} existed at 2023-11-14T22:13:20Z (unix 1700000000), block {} \
                 height 4, leaf 1 of 2\n",
                format_payload(&[2; 32], Encoding::Hex),
                proof.block_id
            )),
            "{offline}"
        );
        assert!(offline.contains("\nnot checked: "), "{offline}");
        let online = report(
            &proof,
            &args(Some(proof.block_id), Some("http://n/rpc".into())),
        );
        assert!(online.contains("against --block-id"), "{online}");
        assert!(
            online.ends_with("against the node at http://n/rpc"),
            "{online}"
        );
    }
}
