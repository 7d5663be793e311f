//! The JSON-RPC 2.0 envelope as the Go reference's server speaks it: gorilla/rpc v2 `json2`
//! behind AvalancheGo's method-name codec (docs/spec/vectors.md section 3.3).
//!
//! Go clients of TimestampVM parse our replies with the same code they use against the Go VM,
//! so the details matter: error objects always carry `code`, `message` and `data`; the first
//! letter after the dot is upper-cased before lookup (and an upper-case one is refused); `id`
//! comes back as sent; replies are compact JSON with Go's HTML escaping and one trailing `\n`.
//! Beyond Go, a body may be a batch (array), as JSON-RPC 2.0 allows, within two limits that keep
//! a request's cost a constant rather than a multiple of its size: at most
//! [`MAX_BATCH_ENTRIES`] entries, and entries stop being run once the replies reach
//! [`MAX_BATCH_REPLY_BYTES`] (README "JSON-RPC reference").
//!
//! This module knows nothing of the methods themselves: [`crate::api::methods`] dispatches.

use crate::api::backend::BackendError;
use crate::api::data::DataError;
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// gorilla `E_PARSE`: the body (or a batch element) is not a request object.
pub const PARSE_ERROR: i64 = -32700;
/// gorilla `E_INVALID_REQ`: `jsonrpc` is not `"2.0"`, or the batch is empty.
pub const INVALID_REQUEST: i64 = -32600;
/// gorilla `E_SERVER`: every error a method or the method lookup returns, as Go sends them.
pub const SERVER_ERROR: i64 = -32000;
/// `getProof`: the payload is pending; ask again later. Ours, like [`UNKNOWN_PAYLOAD`], from
/// the range JSON-RPC leaves to servers (-32000 to -32099): the methods that use them are not
/// Go's, so no client expects -32000 there, and a client can tell "wait" from "give up" by code.
pub const NOT_YET_ACCEPTED: i64 = -32001;
/// `getProof`: this node has never taken the payload (or refused it).
pub const UNKNOWN_PAYLOAD: i64 = -32002;
/// A batch entry that was not run because the batch's replies already reached
/// [`MAX_BATCH_REPLY_BYTES`]: nothing happened, send it again. A code of its own, from the same
/// server range, so a client can tell "resend" from a failure of the call itself.
pub const BATCH_REPLY_FULL: i64 = -32003;

/// Most entries in one batch; a larger batch is refused whole with [`INVALID_REQUEST`], before any
/// entry runs. A 2 MiB body holds a million tiny entries (`[1,1,…]`), each owed a ~200-byte error:
/// answering them all took 31 s and ~1 GB. A thousand is more than clients batch (a thousand
/// `getBlockByHeight` calls fetch a thousand blocks); `proposeBatch` takes many payloads in one
/// entry.
pub const MAX_BATCH_ENTRIES: usize = 1000;

/// Reply bytes after which a batch's remaining entries are not run but answered with
/// [`BATCH_REPLY_FULL`]. The entry that crosses the line is answered in full, so a batch's reply
/// stays under this plus one reply (the largest, a static `encode` padded to 2 MiB, is ~4 MiB).
/// Twice the request body limit: a thousand `getBlock` replies take ~350 KB, a thousand proofs
/// on a batched chain ~1 MB.
pub const MAX_BATCH_REPLY_BYTES: usize = 4 * 1024 * 1024;

/// The Go reference's answer to a payload it cannot read (vectors.md 3.3).
pub const BAD_DATA: &str = "data must be hex representation of 32 bytes";

/// Every JSON-RPC error we send. Where Go has the error, the text is the Go reference's, word
/// for word, because clients match on them (docs/spec/vectors.md 3.3); the errors of methods
/// Go does not have are ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// The body is not JSON, or an element is not an object. Holds the decoder's text.
    #[error("{0}")]
    Parse(String),
    /// `jsonrpc` is missing or not `"2.0"`; `request` is the request object as Go echoes it.
    #[error("jsonrpc must be 2.0")]
    InvalidVersion { request: String },
    #[error("invalid request: empty batch")]
    EmptyBatch,
    #[error("invalid request: batch of {found} entries, over the limit of {MAX_BATCH_ENTRIES}")]
    BatchTooLarge { found: usize },
    /// Not run: the batch's replies already reached [`MAX_BATCH_REPLY_BYTES`].
    #[error("not run: the batch's replies reached the limit of {MAX_BATCH_REPLY_BYTES} bytes; send this request again")]
    BatchReplyFull,
    #[error("method must start with a non-uppercase letter")]
    UppercaseMethod,
    /// The name (after upper-casing) is not `service.Method`.
    #[error("rpc: service/method request ill-formed: {}", go_quote(.0))]
    IllFormed(String),
    #[error("rpc: can't find service {}", go_quote(.0))]
    UnknownService(String),
    #[error("rpc: can't find method {}", go_quote(.0))]
    UnknownMethod(String),
    #[error("couldn't unmarshal an argument. Ensure arguments are valid and properly formatted. See documentation for example calls")]
    BadParams,
    #[error("couldn't get block from database. Does it exist?")]
    UnknownBlock,
    /// A block ID longer than any CB58 ID, refused before decoding (base58 decoding is quadratic
    /// in the length). Ours: Go says [`RpcError::BadParams`] for every malformed ID, after
    /// decoding it, which took seconds for a 100,000-character one.
    #[error("id is {found} bytes long, longer than any CB58 block ID ({max} characters)")]
    IdTooLong { found: usize, max: usize },
    /// Go's text word for word (clients match it); why, for people, goes in the error's `data`.
    #[error("{BAD_DATA}")]
    BadData(DataError),
    #[error("no accepted block at height {0}")]
    NoBlockAtHeight(u64),
    /// `proposeBatch` with no payloads or more than it takes in one request.
    #[error("data must hold 1 to {max} payloads, found {found}")]
    BatchSize { found: usize, max: usize },
    /// Holds the payload as the reply prints payloads.
    #[error("payload {0} is not yet accepted (pending in the mempool or a block being decided)")]
    NotYetAccepted(String),
    #[error("payload {0} is unknown to this node")]
    UnknownPayload(String),
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// An error of the node's own APIs (`info.*`, `health.*`) that `stampvm dev` serves, in
    /// AvalancheGo's words (`crate::host::node_api`).
    #[error("{0}")]
    Node(String),
}

impl RpcError {
    /// The JSON-RPC `code`: gorilla's, so -32000 for everything past the envelope, except the
    /// two `getProof` answers a client acts on by code.
    pub fn code(&self) -> i64 {
        match self {
            RpcError::Parse(_) => PARSE_ERROR,
            RpcError::InvalidVersion { .. }
            | RpcError::EmptyBatch
            | RpcError::BatchTooLarge { .. } => INVALID_REQUEST,
            RpcError::BatchReplyFull => BATCH_REPLY_FULL,
            RpcError::NotYetAccepted(_) => NOT_YET_ACCEPTED,
            RpcError::UnknownPayload(_) => UNKNOWN_PAYLOAD,
            _ => SERVER_ERROR,
        }
    }

    /// Errors about the body itself are answered even without an `id`: the sender may not have
    /// meant a notification, and we cannot tell. Everything else follows the notification rule.
    fn replied_without_id(&self) -> bool {
        matches!(
            self,
            RpcError::Parse(_) | RpcError::EmptyBatch | RpcError::BatchTooLarge { .. }
        )
    }

    /// The `data` member as raw JSON; `None` is sent as `null`.
    fn data(&self) -> Option<Cow<'_, str>> {
        match self {
            RpcError::InvalidVersion { request } => Some(Cow::Borrowed(request)),
            // Go answers with the request struct as far as it decoded; we report none of it
            // decoded, which is Go's answer for a body that is not JSON at all.
            RpcError::Parse(_) => Some(Cow::Borrowed(UNDECODED_REQUEST)),
            // Go sends null here; a string is as easy for its json2 client to decode (`Data` is
            // an `interface{}`), and the message alone cannot tell a missing checksum from a typo.
            RpcError::BadData(why) => serde_json::to_string(&why.to_string()).ok().map(Cow::Owned),
            _ => None,
        }
    }
}

/// A body as the envelope sees it: one request or a batch of them.
pub enum Body<'a> {
    Single(Entry<'a>),
    Batch(Vec<Entry<'a>>),
}

/// One request, decoded as far as the envelope goes. It borrows from the request body.
pub struct Entry<'a> {
    /// The `id` as sent; `None` means it was absent, which makes the request a notification.
    pub id: Option<&'a RawValue>,
    /// The call to make, or why the envelope already refused it.
    pub call: Result<Call<'a>, RpcError>,
}

/// A well-formed request whose method name has been resolved to `service.Method`.
pub struct Call<'a> {
    /// The name after AvalancheGo's upper-casing, e.g. `timestampvm.GetBlock`.
    pub name: String,
    /// The raw `params`; `None` when absent or null (methods then take their defaults).
    pub params: Option<&'a RawValue>,
}

impl Call<'_> {
    pub fn service(&self) -> &str {
        self.name.split_once('.').map_or("", |(service, _)| service)
    }

    pub fn method(&self) -> &str {
        self.name.split_once('.').map_or("", |(_, method)| method)
    }
}

/// Decodes a body. Never fails: an undecodable body becomes a single entry carrying the error.
pub fn parse_body(body: &[u8]) -> Body<'_> {
    let top: &RawValue = match serde_json::from_slice(body) {
        Ok(top) => top,
        Err(error) => return Body::Single(refused(decoder_error(body, &error))),
    };
    if !top.get().starts_with('[') {
        return Body::Single(parse_entry(top));
    }
    match serde_json::from_str::<BatchItems<'_>>(top.get()) {
        Ok(batch) if batch.total == 0 => Body::Single(refused(RpcError::EmptyBatch)),
        Ok(batch) if batch.total > MAX_BATCH_ENTRIES => {
            Body::Single(refused(RpcError::BatchTooLarge { found: batch.total }))
        }
        Ok(batch) => Body::Batch(batch.items.into_iter().map(parse_entry).collect()),
        Err(error) => Body::Single(refused(RpcError::Parse(error.to_string()))),
    }
}

/// A batch's elements: the first [`MAX_BATCH_ENTRIES`] kept (borrowed from the body), the rest
/// only counted, so a million-entry body costs no memory before it is refused.
struct BatchItems<'a> {
    items: Vec<&'a RawValue>,
    total: usize,
}

impl<'de> Deserialize<'de> for BatchItems<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Items;
        impl<'de> Visitor<'de> for Items {
            type Value = BatchItems<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON-RPC batch (an array)")
            }

            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
                let mut batch = BatchItems {
                    items: Vec::new(),
                    total: 0,
                };
                while let Some(item) = seq.next_element::<&'de RawValue>()? {
                    batch.total += 1;
                    if batch.items.len() < MAX_BATCH_ENTRIES {
                        batch.items.push(item);
                    }
                }
                Ok(batch)
            }
        }
        deserializer.deserialize_seq(Items)
    }
}

fn refused<'a>(error: RpcError) -> Entry<'a> {
    Entry {
        id: None,
        call: Err(error),
    }
}

/// Go's `json.Decoder` says `EOF` for an empty body and `unexpected EOF` for a truncated one;
/// clients that log these see the same words. Other syntax errors keep serde_json's text.
fn decoder_error(body: &[u8], error: &serde_json::Error) -> RpcError {
    let text = if body.iter().all(u8::is_ascii_whitespace) {
        "EOF".to_owned()
    } else if error.is_eof() {
        "unexpected EOF".to_owned()
    } else {
        error.to_string()
    };
    RpcError::Parse(text)
}

/// The request object's members. `id` keeps an explicit `null` (a request to be answered with
/// `"id":null`) apart from an absent `id` (a notification).
#[derive(Deserialize)]
struct WireRequest<'a> {
    #[serde(default, borrow)]
    jsonrpc: Option<&'a RawValue>,
    #[serde(default, borrow)]
    method: Option<&'a RawValue>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
}

fn present<'de, D: Deserializer<'de>>(de: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(de).map(Some)
}

/// Go's `json2` request struct with nothing decoded into it (vectors.md 3.3, parse errors).
const UNDECODED_REQUEST: &str = r#"{"jsonrpc":"","method":"","params":null,"id":null}"#;

/// How Go's `json2` request struct serializes, for the `data` of an invalid-version error.
#[derive(Serialize)]
struct EchoRequest<'a> {
    jsonrpc: &'a str,
    method: &'a str,
    params: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
}

fn parse_entry(raw: &RawValue) -> Entry<'_> {
    let text = raw.get();
    if !text.starts_with('{') {
        return refused(RpcError::Parse(format!(
            "json: cannot unmarshal {} into Go value of type json2.serverRequest",
            json_kind(text)
        )));
    }
    let wire: WireRequest<'_> = match serde_json::from_str(text) {
        Ok(wire) => wire,
        Err(error) => return refused(RpcError::Parse(error.to_string())),
    };
    Entry {
        id: wire.id,
        call: resolve_call(&wire),
    }
}

fn resolve_call<'a>(wire: &WireRequest<'a>) -> Result<Call<'a>, RpcError> {
    let version = string_member(wire.jsonrpc, "jsonrpc")?;
    let method = string_member(wire.method, "method")?;
    if version != "2.0" {
        let echo = EchoRequest {
            jsonrpc: &version,
            method: &method,
            params: wire.params,
            id: wire.id,
        };
        let request = serde_json::to_string(&echo).map_or_else(|_| "null".into(), |s| compact(&s));
        return Err(RpcError::InvalidVersion { request });
    }
    Ok(Call {
        name: resolve_method(&method)?,
        params: wire.params,
    })
}

/// A member Go decodes into a `string`: absent or null reads as empty, another type is a
/// decode error with Go's wording.
fn string_member(raw: Option<&RawValue>, member: &str) -> Result<String, RpcError> {
    let Some(raw) = raw else {
        return Ok(String::new());
    };
    serde_json::from_str(raw.get()).map_err(|_| {
        RpcError::Parse(format!(
            "json: cannot unmarshal {} into Go struct field serverRequest.{member} of type string",
            json_kind(raw.get())
        ))
    })
}

/// AvalancheGo's method-name rule: in `service.method`, a first letter that is already upper
/// case is refused, otherwise it is upper-cased (so `timestampvm.getBlock` names Go's
/// `GetBlock`). Then gorilla requires exactly one dot.
pub fn resolve_method(name: &str) -> Result<String, RpcError> {
    let resolved = match name.split_once('.') {
        None => name.to_owned(),
        Some((service, function)) => {
            let mut chars = function.chars();
            match chars.next() {
                // Go leaves an empty name, or one starting with U+FFFD, untouched.
                None | Some('\u{fffd}') => name.to_owned(),
                Some(first) if first.is_uppercase() => return Err(RpcError::UppercaseMethod),
                Some(first) => {
                    let mut upper = first.to_uppercase();
                    let first = match (upper.next(), upper.next()) {
                        (Some(single), None) => single,
                        _ => first, // no single-rune upper case: Go keeps the rune
                    };
                    format!("{service}.{first}{}", chars.as_str())
                }
            }
        }
    };
    if resolved.split('.').count() != 2 {
        return Err(RpcError::IllFormed(resolved));
    }
    Ok(resolved)
}

/// Go's name for the JSON type of a raw value, as its decoder errors print it.
fn json_kind(raw: &str) -> &'static str {
    match raw.as_bytes().first() {
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "bool",
        Some(b'n') => "null",
        _ => "number",
    }
}

/// One reply object, compact JSON. Go's field order: `jsonrpc`, `result` or `error`, `id`.
#[derive(Serialize)]
struct WireReply<'a> {
    jsonrpc: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<WireError<'a>>,
    id: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct WireError<'a> {
    code: i64,
    message: String,
    data: Option<&'a RawValue>,
}

/// Sent if a reply cannot be serialized, which our types make impossible in practice; it keeps
/// the "never panic on network input" promise without an `expect`.
const UNENCODABLE: &str = r#"{"jsonrpc":"2.0","error":{"code":-32603,"message":"internal error: reply could not be encoded","data":null},"id":null}"#;

/// The reply for one entry, or `None` when nothing is owed (a notification that did not fail at
/// the body level). `outcome` is the method's result as raw JSON, or the error to send.
pub fn encode_reply(
    id: Option<&RawValue>,
    outcome: &Result<Box<RawValue>, RpcError>,
) -> Option<String> {
    let owed = id.is_some() || matches!(outcome, Err(error) if error.replied_without_id());
    if !owed {
        return None;
    }
    let id = id.map(|raw| compact_raw(raw.get()));
    let data = match outcome {
        Err(error) => error.data().map(|data| compact_raw(&data)),
        Ok(_) => None,
    };
    let reply = WireReply {
        jsonrpc: "2.0",
        result: outcome.as_ref().ok().map(|raw| &**raw),
        error: outcome.as_ref().err().map(|error| WireError {
            code: error.code(),
            message: error.to_string(),
            data: data.as_deref(),
        }),
        id: id.as_deref(),
    };
    Some(serde_json::to_string(&reply).unwrap_or_else(|_| UNENCODABLE.to_owned()))
}

/// The reply to a body, built one entry at a time: each reply is escaped straight into the body,
/// so a batch's replies are held once, and a batch stops running entries once its replies reach
/// [`MAX_BATCH_REPLY_BYTES`] ([`Replies::has_room`]).
pub struct Replies {
    /// The body so far, Go-escaped; for a batch it starts with `[`.
    out: String,
    batch: bool,
    owed: usize,
}

impl Replies {
    /// For a single request (`batch` false) or a batch's replies.
    pub fn new(batch: bool) -> Replies {
        Replies {
            out: String::new(),
            batch,
            owed: 0,
        }
    }

    /// Whether the next entry may run. Once a batch's replies have reached
    /// [`MAX_BATCH_REPLY_BYTES`], the rest get [`not_run`] instead.
    pub fn has_room(&self) -> bool {
        !self.batch || self.out.len() < MAX_BATCH_REPLY_BYTES
    }

    /// Adds one entry's reply; `None` (a notification) adds nothing.
    pub fn push(&mut self, reply: Option<String>) {
        let Some(reply) = reply else {
            return;
        };
        if self.batch {
            self.out.push(if self.owed == 0 { '[' } else { ',' });
        }
        self.owed += 1;
        escape_like_go(&reply, &mut self.out);
    }

    /// The HTTP body: `None` if no reply is owed; otherwise the single reply or the batch array,
    /// with the trailing newline of Go's encoder.
    pub fn finish(mut self) -> Option<Vec<u8>> {
        if self.out.is_empty() {
            return None;
        }
        if self.batch {
            self.out.push(']');
        }
        self.out.push('\n');
        Some(self.out.into_bytes())
    }
}

/// The reply owed to a batch entry left unrun because the batch's replies are full (nothing for
/// a notification, which is not run either).
pub fn not_run(entry: &Entry<'_>) -> Option<String> {
    encode_reply(entry.id, &Err(RpcError::BatchReplyFull))
}

/// Go's encoder writes `<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes. In JSON text these
/// characters can only occur inside strings, so replacing them everywhere is exact.
fn escape_like_go(json: &str, out: &mut String) {
    out.reserve(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
}

/// Valid JSON without the whitespace between tokens, as Go re-encodes a `json.RawMessage`.
fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if matches!(c, ' ' | '\t' | '\n' | '\r') {
            continue;
        }
        out.push(c);
    }
    out
}

pub fn compact_raw(json: &str) -> Box<RawValue> {
    let compacted = compact(json);
    // Unreachable for valid input; `null` rather than failing the reply (Box<RawValue>'s default).
    RawValue::from_string(compacted).unwrap_or_default()
}

/// Go's `%q`: a double-quoted string with `"` and `\` escaped and control characters spelled out.
fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
#[path = "jsonrpc_tests.rs"]
mod tests;
