//! Replies as gorilla's `json2` server writes them: one compact object per request owed a reply,
//! a batch's replies in an array, Go's HTML escaping over the whole body, and one trailing `\n`.

use super::error::{EnvelopeError, ReplyError};
use super::request::Entry;
use super::MAX_BATCH_REPLY_BYTES;
use serde::Serialize;
use serde_json::value::RawValue;

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
pub fn encode_reply<E: ReplyError>(
    id: Option<&RawValue>,
    outcome: &Result<Box<RawValue>, E>,
) -> Option<String> {
    let owed = id.is_some() || matches!(outcome, Err(error) if error.owed_without_id());
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
    encode_reply(entry.id, &Err(EnvelopeError::BatchReplyFull))
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
pub(super) fn compact(json: &str) -> String {
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

/// JSON text without the whitespace between tokens, as a raw value: how Go echoes an `id` or
/// re-encodes a `json.RawMessage`. Text that is not JSON becomes `null`.
fn compact_raw(json: &str) -> Box<RawValue> {
    let compacted = compact(json);
    // Unreachable for valid input; `null` rather than failing the reply (Box<RawValue>'s default).
    RawValue::from_string(compacted).unwrap_or_default()
}
