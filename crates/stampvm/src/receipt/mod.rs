//! Validator-signed receipts, the pure core: a file holding everything needed to check, offline,
//! that a payload was in a block of this chain at the block's time, on the word of the chain's
//! validators rather than of one node.
//!
//! A proof ([`crate::api::proof_json`]) ties a payload to a block's Merkle root; a receipt adds
//! the validators' BLS signature (a Warp message, docs/spec/warp.md §2) over a statement that
//! ties that root to the block's height, ID and time, and the validator set that signed. Whoever
//! trusts that set (pinned from the P-chain) needs nothing else.
//!
//! No I/O here: collecting signatures, storing receipts and serving them live elsewhere; this is
//! what they and the CLI's checker agree on.
//!
//! # Layout
//! - [`statement`]: the Warp unsigned message validators sign for a block, byte for byte; its
//!   strict reader; the match an ACP-118 handler makes before signing.
//! - [`document`]: the receipt's JSON document (version 1).
//! - [`validator_set`]: a validator set in JSON: the receipt's member and the trusted set file.
//! - [`check`]: the offline checks, in a fixed order, and their verdict.

pub mod check;
pub mod document;
pub mod statement;
pub mod validator_set;

#[cfg(test)]
mod fixtures;

pub use check::{check_receipt, CannotCheckReason, Check, Outcome, Subject};
pub use document::{DocumentError, Receipt, RECEIPT_VERSION};
pub use statement::{statement_matches_block, Statement, StatementError};
pub use validator_set::{validator_set_from_json, validator_set_to_json};
