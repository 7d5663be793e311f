//! Request bodies as gorilla's `json2` server reads them: one request object or a batch, each
//! decoded as far as the envelope goes, and the method name resolved by AvalancheGo's rule.

use super::error::EnvelopeError;
use super::reply::{compact, Replies};
use super::MAX_BATCH_ENTRIES;
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use std::fmt;

/// A body as the envelope sees it: one request or a batch of them.
pub enum Body<'a> {
    Single(Entry<'a>),
    Batch(Vec<Entry<'a>>),
}

impl<'a> Body<'a> {
    /// The entries in order, and the [`Replies`] that collects their answers: a server runs
    /// each entry while [`Replies::has_room`] and answers the rest with [`super::not_run`], the
    /// same loop for one request as for a batch.
    pub fn into_entries(self) -> (Vec<Entry<'a>>, Replies) {
        match self {
            Body::Single(entry) => (vec![entry], Replies::new(false)),
            Body::Batch(entries) => (entries, Replies::new(true)),
        }
    }
}

/// One request, decoded as far as the envelope goes. It borrows from the request body.
pub struct Entry<'a> {
    /// The `id` as sent; `None` means it was absent, which makes the request a notification.
    pub id: Option<&'a RawValue>,
    /// The call to make, or why the envelope already refused it.
    pub call: Result<Call<'a>, EnvelopeError>,
}

/// A well-formed request whose method name has been resolved to `service.Method`.
pub struct Call<'a> {
    /// The name after AvalancheGo's upper-casing, e.g. `timestampvm.GetBlock`.
    pub name: String,
    /// The raw `params`; `None` when absent or null (methods then take their defaults).
    pub params: Option<&'a RawValue>,
}

impl Call<'_> {
    /// The part before the dot: which service gorilla looks the method up in.
    pub fn service(&self) -> &str {
        self.name.split_once('.').map_or("", |(service, _)| service)
    }

    /// The part after the dot, upper-cased as Go's method names are.
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
        Ok(batch) if batch.total == 0 => Body::Single(refused(EnvelopeError::EmptyBatch)),
        Ok(batch) if batch.total > MAX_BATCH_ENTRIES => {
            Body::Single(refused(EnvelopeError::BatchTooLarge { found: batch.total }))
        }
        Ok(batch) => Body::Batch(batch.items.into_iter().map(parse_entry).collect()),
        Err(error) => Body::Single(refused(EnvelopeError::Parse(error.to_string()))),
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

fn refused<'a>(error: EnvelopeError) -> Entry<'a> {
    Entry {
        id: None,
        call: Err(error),
    }
}

/// Go's `json.Decoder` says `EOF` for an empty body and `unexpected EOF` for a truncated one;
/// clients that log these see the same words. Other syntax errors keep serde_json's text.
fn decoder_error(body: &[u8], error: &serde_json::Error) -> EnvelopeError {
    let text = if body.iter().all(u8::is_ascii_whitespace) {
        "EOF".to_owned()
    } else if error.is_eof() {
        "unexpected EOF".to_owned()
    } else {
        error.to_string()
    };
    EnvelopeError::Parse(text)
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
        return refused(EnvelopeError::Parse(format!(
            "json: cannot unmarshal {} into Go value of type json2.serverRequest",
            json_kind(text)
        )));
    }
    let wire: WireRequest<'_> = match serde_json::from_str(text) {
        Ok(wire) => wire,
        Err(error) => return refused(EnvelopeError::Parse(error.to_string())),
    };
    Entry {
        id: wire.id,
        call: resolve_call(&wire),
    }
}

fn resolve_call<'a>(wire: &WireRequest<'a>) -> Result<Call<'a>, EnvelopeError> {
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
        return Err(EnvelopeError::InvalidVersion { request });
    }
    Ok(Call {
        name: resolve_method(&method)?,
        params: wire.params,
    })
}

/// A member Go decodes into a `string`: absent or null reads as empty, another type is a
/// decode error with Go's wording.
fn string_member(raw: Option<&RawValue>, member: &str) -> Result<String, EnvelopeError> {
    let Some(raw) = raw else {
        return Ok(String::new());
    };
    serde_json::from_str(raw.get()).map_err(|_| {
        EnvelopeError::Parse(format!(
            "json: cannot unmarshal {} into Go struct field serverRequest.{member} of type string",
            json_kind(raw.get())
        ))
    })
}

/// AvalancheGo's method-name rule: in `service.method`, a first letter that is already upper
/// case is refused, otherwise it is upper-cased (so `timestampvm.getBlock` names Go's
/// `GetBlock`). Then gorilla requires exactly one dot.
pub(super) fn resolve_method(name: &str) -> Result<String, EnvelopeError> {
    let resolved = match name.split_once('.') {
        None => name.to_owned(),
        Some((service, function)) => {
            let mut chars = function.chars();
            match chars.next() {
                // Go leaves an empty name, or one starting with U+FFFD, untouched.
                None | Some('\u{fffd}') => name.to_owned(),
                Some(first) if first.is_uppercase() => return Err(EnvelopeError::UppercaseMethod),
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
        return Err(EnvelopeError::IllFormed(resolved));
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
