//! The JSON-RPC 2.0 envelope as AvalancheGo's APIs speak it: gorilla/rpc v2 `json2` behind
//! AvalancheGo's method-name codec (docs/spec/vectors.md §3.3). The node's own APIs (`info`,
//! `health`) and every chain API served through the node use it, so a Rust VM that answers in
//! it is read by Go clients with the code they already use.
//!
//! The details matter to those clients: error objects always carry `code`, `message` and
//! `data`; the first letter after the dot is upper-cased before lookup (and an upper-case one is
//! refused); `id` comes back as sent; replies are compact JSON with Go's HTML escaping and one
//! trailing `\n`. Beyond Go, a body may be a batch (array), as JSON-RPC 2.0 allows, within two
//! limits that keep a request's cost a constant rather than a multiple of its size: at most
//! [`MAX_BATCH_ENTRIES`] entries, and entries stop being run once the replies reach
//! [`MAX_BATCH_REPLY_BYTES`].
//!
//! This module knows nothing of any service's methods. A server parses the body
//! ([`parse_body`]), runs each [`Entry`]'s [`Call`] (reading its arguments with [`params`],
//! shaping results with [`to_raw`]), and writes each outcome with [`encode_reply`] into
//! [`Replies`]. A method fails with any error that implements [`ReplyError`] (the envelope's
//! own [`EnvelopeError`] does; [`ErrorObject`] carries free text).
//!
//! # Layout
//! - `request`: bodies, batches and their entry limit, method-name resolution.
//! - `reply`: reply objects, the batch's reply limit, Go's escaping and compaction.
//! - `error`: the envelope's errors and the [`ReplyError`] contract for a service's own.
//! - `params`: arguments as gorilla reads them, results as raw JSON.
//! - [`over_http`]: the HTTP around it: gorilla's checks, the body limit, the reply's headers,
//!   and a [`crate::HttpHandler`] for any [`over_http::JsonRpcApi`].
//! - `go_text`: strings as Go writes them (`%q`, and `encoding/json`'s `string` from bytes).

mod error;
mod go_text;
pub mod over_http;
mod params;
mod reply;
mod request;

#[cfg(test)]
mod tests;

pub use error::{EnvelopeError, ErrorObject, ReplyError};
pub use go_text::go_json_string;
pub use params::{params, to_raw};
pub use reply::{encode_reply, not_run, Replies};
pub use request::{parse_body, Body, Call, Entry};

/// gorilla `E_PARSE`: the body (or a batch element) is not a request object.
pub const PARSE_ERROR: i64 = -32700;
/// gorilla `E_INVALID_REQ`: `jsonrpc` is not `"2.0"`, or the batch is empty.
pub const INVALID_REQUEST: i64 = -32600;
/// gorilla `E_SERVER`: every error a method or the method lookup returns, as Go sends them.
pub const SERVER_ERROR: i64 = -32000;
/// A batch entry that was not run because the batch's replies already reached
/// [`MAX_BATCH_REPLY_BYTES`]: nothing happened, send it again. A code of its own, from the range
/// JSON-RPC leaves to servers (-32000 to -32099), so a client can tell "resend" from a failure
/// of the call itself.
pub const BATCH_REPLY_FULL: i64 = -32003;

/// Most entries in one batch; a larger batch is refused whole with [`INVALID_REQUEST`], before any
/// entry runs. A 2 MiB body holds a million tiny entries (`[1,1,…]`), each owed a ~200-byte error:
/// answering them all took 31 s and ~1 GB. A thousand is more than clients batch (a thousand
/// `getBlock` calls fetch a thousand blocks).
pub const MAX_BATCH_ENTRIES: usize = 1000;

/// Reply bytes after which a batch's remaining entries are not run but answered with
/// [`BATCH_REPLY_FULL`]. The entry that crosses the line is answered in full, so a batch's reply
/// stays under this plus one reply. Twice a 2 MiB request body limit: a thousand block replies
/// take ~350 KB, a thousand proofs ~1 MB.
pub const MAX_BATCH_REPLY_BYTES: usize = 4 * 1024 * 1024;
