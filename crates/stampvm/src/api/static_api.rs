//! The static API of profiles 28-30: Go TimestampVM's `StaticService` (`timestampvm.encode`,
//! `timestampvm.decode`), which the node mounts per VM at `/ext/vm/<vmID>` and serves from a
//! process that has no chain.
//!
//! Both methods convert between text and bytes in AvalancheGo's `formatting` encodings (v1.10):
//! `hex` and `hexc` (`0x`, hex, then a 4-byte checksum), `hexnc` (no checksum), and `json`, which
//! Go names but both methods refuse. Results and error texts are the Go reference's, since its
//! clients are the ones calling; the envelope (ids, batches, notifications, envelope errors) is
//! [`rpcchainvm::jsonrpc`]'s, so it behaves exactly like the chain API.
//!
//! Arguments are read the way Go's `encoding/json` fills the reference's structs rather than by
//! serde's rules: member names match case-insensitively, the last duplicate wins, `null` leaves
//! a field alone, and a lone UTF-16 surrogate escape reads as U+FFFD.

use super::backend::BackendError;
use super::data::{hex_checksummed, Encoding};
use super::methods::SERVICE;
use rpcchainvm::ids::checksum4;
use rpcchainvm::jsonrpc::over_http::{JsonRpcApi, MAX_BODY_BYTES};
use rpcchainvm::jsonrpc::{self, go_json_string, Call, Entry, EnvelopeError, ErrorObject};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::fmt;

/// The per-VM API that needs no chain.
#[derive(Debug, Clone, Copy, Default)]
pub struct StaticApi;

impl JsonRpcApi for StaticApi {
    async fn handle_body(&self, body: &[u8]) -> Option<Vec<u8>> {
        answer_body(body)
    }
}

/// The reply body for a request body. Both methods are pure computation, so nothing awaits.
fn answer_body(body: &[u8]) -> Option<Vec<u8>> {
    let (entries, mut replies) = jsonrpc::parse_body(body).into_entries();
    // A padded `encode` answers ~4 MiB to ~100 bytes: without the reply limit a batch of them
    // would build gigabytes.
    for entry in entries {
        let reply = match replies.has_room() {
            true => answer(entry),
            false => jsonrpc::not_run(&entry),
        };
        replies.push(reply);
    }
    replies.finish()
}

/// One entry's reply; a notification gets none, whatever its method returned.
fn answer(entry: Entry<'_>) -> Option<String> {
    let outcome = entry
        .call
        .map_err(ErrorObject::from)
        .and_then(|call| dispatch(&call));
    jsonrpc::encode_reply(entry.id, &outcome)
}

/// Finds the method (gorilla's order: service, method, then params) and runs it.
fn dispatch(call: &Call<'_>) -> Result<Box<RawValue>, ErrorObject> {
    if call.service() != SERVICE {
        return Err(EnvelopeError::UnknownService(call.name.clone()).into());
    }
    match call.method() {
        "Encode" => to_raw(&encode(read_args(call.params)?)?),
        "Decode" => decode(read_args(call.params)?),
        _ => Err(EnvelopeError::UnknownMethod(call.name.clone()).into()),
    }
}

// ---- Errors -------------------------------------------------------------------------------

/// The errors `StaticService.Encode` and `.Decode` return, with the reference's texts (clients
/// may match on them). `LengthTooLarge` is ours: see [`MAX_LENGTH`]. gorilla sends a method's
/// error as code -32000 with `data` null, which is what an [`ErrorObject::server`] is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum MethodError {
    #[error("argument Data cannot be empty")]
    EmptyData,
    #[error("length {0} is over the limit of {MAX_LENGTH} bytes")]
    LengthTooLarge(i32),
    #[error("couldn't encode data as string: {0}")]
    Encode(FormatError),
    #[error("couldn't Decode data as string: {0}")]
    Decode(FormatError),
}

/// The errors of AvalancheGo's `formatting.Encode`/`Decode` and Go's `hex.DecodeString`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum FormatError {
    #[error("unsupported encoding in method")]
    UnsupportedInMethod,
    #[error("missing 0x prefix to hex encoding")]
    MissingHexPrefix,
    #[error("encoding/hex: invalid byte: {}", go_sharp_u(*.0))]
    InvalidHexByte(u8),
    #[error("encoding/hex: odd length hex string")]
    OddLength,
    #[error("input string is smaller than the checksum size")]
    MissingChecksum,
    #[error("invalid input checksum")]
    BadChecksum,
}

/// Go's `%#U` of a byte (`U+0067 'g'`); the character is shown only when Go deems it printable.
fn go_sharp_u(byte: u8) -> String {
    let printable = matches!(byte, 0x20..=0x7e | 0xa1..=0xff) && byte != 0xad;
    if printable {
        format!("U+{byte:04X} '{}'", char::from(byte))
    } else {
        format!("U+{byte:04X}")
    }
}

// ---- AvalancheGo's formatting.Encoding ----------------------------------------------------

/// The 4-byte checksum `hex` and `hexc` append: the last 4 bytes of SHA-256.
const CHECKSUM_LEN: usize = 4;

/// The static API's side of [`Encoding`]: AvalancheGo's `formatting` rules.
impl Encoding {
    /// Go's `UnmarshalJSON`, which lower-cases the raw JSON text and compares it with the quoted
    /// names: so `"HEX"` is accepted but an escaped spelling (`"\u0068ex"`) is not. The caller
    /// handles `null`, which keeps the default.
    fn from_json(raw: &str) -> Result<Encoding, EnvelopeError> {
        let lowered = raw.to_ascii_lowercase();
        let name = lowered.strip_prefix('"').and_then(|s| s.strip_suffix('"'));
        Encoding::FORMATTING
            .into_iter()
            .find(|encoding| Some(encoding.as_str()) == name)
            .ok_or(EnvelopeError::BadParams)
    }

    fn has_checksum(self) -> bool {
        matches!(self, Encoding::Hex | Encoding::HexC)
    }

    /// `formatting.Encode`. `json` needs a value, not bytes, so Go refuses it here.
    fn encode(self, bytes: &[u8]) -> Result<String, FormatError> {
        match self {
            // CB58 is not one of `Encoding::FORMATTING`: `from_json` never yields it.
            Encoding::Json | Encoding::Cb58 => Err(FormatError::UnsupportedInMethod),
            Encoding::Hex | Encoding::HexC => Ok(hex_checksummed(bytes)),
            Encoding::HexNc => Ok(format!("0x{}", hex::encode(bytes))),
        }
    }

    /// `formatting.Decode`. An empty text decodes to no bytes in every encoding, `json`
    /// included, before any other check: Go's order.
    fn decode(self, text: &str) -> Result<Vec<u8>, FormatError> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        if matches!(self, Encoding::Json | Encoding::Cb58) {
            return Err(FormatError::UnsupportedInMethod);
        }
        // Case-sensitive, as Go's strings.HasPrefix.
        let digits = text
            .strip_prefix("0x")
            .ok_or(FormatError::MissingHexPrefix)?;
        let mut bytes = go_hex_decode(digits.as_bytes())?;
        if self.has_checksum() {
            strip_checksum(&mut bytes)?;
        }
        Ok(bytes)
    }
}

/// Go's `hex.DecodeString`, keeping its error precedence: the first bad digit, pair by pair,
/// then an odd length (after checking the last digit too).
fn go_hex_decode(digits: &[u8]) -> Result<Vec<u8>, FormatError> {
    let mut bytes = Vec::with_capacity(digits.len() / 2);
    let mut pairs = digits.chunks_exact(2);
    for pair in &mut pairs {
        let (high, low) = (hex_value(pair[0])?, hex_value(pair[1])?);
        bytes.push((high << 4) | low);
    }
    if let [last] = pairs.remainder() {
        hex_value(*last)?;
        return Err(FormatError::OddLength);
    }
    Ok(bytes)
}

fn hex_value(digit: u8) -> Result<u8, FormatError> {
    match digit {
        b'0'..=b'9' => Ok(digit - b'0'),
        b'a'..=b'f' => Ok(digit - b'a' + 10),
        b'A'..=b'F' => Ok(digit - b'A' + 10),
        _ => Err(FormatError::InvalidHexByte(digit)),
    }
}

fn strip_checksum(bytes: &mut Vec<u8>) -> Result<(), FormatError> {
    let split = bytes
        .len()
        .checked_sub(CHECKSUM_LEN)
        .ok_or(FormatError::MissingChecksum)?;
    let (payload, checksum) = bytes.split_at(split);
    if checksum4(payload).as_slice() != checksum {
        return Err(FormatError::BadChecksum);
    }
    bytes.truncate(split);
    Ok(())
}

// ---- The methods --------------------------------------------------------------------------

/// The largest `length` we pad to. Go allocates whatever an `int32` allows (2 GiB, for a 4 GiB
/// reply); a request cannot carry more data than [`MAX_BODY_BYTES`], so padding past that only
/// serves to build huge replies from a small request.
const MAX_LENGTH: usize = MAX_BODY_BYTES;

/// `EncodeArgs`.
#[derive(Debug, Default)]
struct EncodeArgs {
    data: String,
    encoding: Encoding,
    length: i32,
}

/// `EncodeReply`, members in Go's order.
#[derive(Serialize)]
struct EncodeReply {
    bytes: String,
    encoding: &'static str,
}

fn encode(args: EncodeArgs) -> Result<EncodeReply, MethodError> {
    if args.data.is_empty() {
        return Err(MethodError::EmptyData);
    }
    let bytes = fit_to_length(args.data.into_bytes(), args.length)?;
    Ok(EncodeReply {
        bytes: args.encoding.encode(&bytes).map_err(MethodError::Encode)?,
        encoding: args.encoding.as_str(),
    })
}

/// Go's `Length`: when positive, the data is cut or zero-padded to exactly that many bytes;
/// zero or negative leaves it as it is.
fn fit_to_length(mut bytes: Vec<u8>, length: i32) -> Result<Vec<u8>, MethodError> {
    match usize::try_from(length) {
        Err(_) | Ok(0) => Ok(bytes),
        Ok(wanted) if wanted > MAX_LENGTH => Err(MethodError::LengthTooLarge(length)),
        Ok(wanted) => {
            bytes.resize(wanted, 0);
            Ok(bytes)
        }
    }
}

/// `DecodeArgs`.
#[derive(Debug, Default)]
struct DecodeArgs {
    bytes: String,
    encoding: Encoding,
}

/// `DecodeReply` (`data`, then `encoding`). Go's `data` is `string(bytes)`, which need not be
/// UTF-8, so it is written by [`go_json_string`] rather than by serde.
fn decode(args: DecodeArgs) -> Result<Box<RawValue>, ErrorObject> {
    #[derive(Serialize)]
    struct DecodeReply<'a> {
        data: &'a RawValue,
        encoding: &'static str,
    }
    let bytes = args
        .encoding
        .decode(&args.bytes)
        .map_err(MethodError::Decode)?;
    let data = RawValue::from_string(go_json_string(&bytes))
        .map_err(|error| internal(format!("writing decoded data: {error}")))?;
    to_raw(&DecodeReply {
        data: &data,
        encoding: args.encoding.as_str(),
    })
}

fn to_raw<T: Serialize>(reply: &T) -> Result<Box<RawValue>, ErrorObject> {
    Ok(jsonrpc::to_raw(reply)?)
}

/// Our failure rather than the caller's, worded as the chain API words its own.
fn internal(text: String) -> ErrorObject {
    ErrorObject::server(BackendError::Internal(text).to_string())
}

impl From<MethodError> for ErrorObject {
    fn from(error: MethodError) -> ErrorObject {
        ErrorObject::server(error.to_string())
    }
}

// ---- Arguments, as Go's encoding/json reads them ------------------------------------------

/// An argument struct: which field a JSON member sets, by Go's name rule.
trait GoArgs: Default {
    /// Sets the field `key` names; a member naming no field is ignored, as in Go.
    fn set(&mut self, key: &str, value: &RawValue) -> Result<(), EnvelopeError>;
}

impl GoArgs for EncodeArgs {
    fn set(&mut self, key: &str, value: &RawValue) -> Result<(), EnvelopeError> {
        if go_name_matches(key, "data") {
            self.data = go_string(value)?;
        } else if go_name_matches(key, "encoding") {
            self.encoding = Encoding::from_json(value.get())?;
        } else if go_name_matches(key, "length") {
            self.length = go_int32(value)?;
        }
        Ok(())
    }
}

impl GoArgs for DecodeArgs {
    fn set(&mut self, key: &str, value: &RawValue) -> Result<(), EnvelopeError> {
        if go_name_matches(key, "bytes") {
            self.bytes = go_string(value)?;
        } else if go_name_matches(key, "encoding") {
            self.encoding = Encoding::from_json(value.get())?;
        }
        Ok(())
    }
}

/// The arguments from `params`; anything Go would fail to unmarshal is AvalancheGo's
/// "couldn't unmarshal an argument" ([`EnvelopeError::BadParams`]).
fn read_args<A: GoArgs>(params: Option<&RawValue>) -> Result<A, EnvelopeError> {
    let mut args = A::default();
    let Some(object) = params_object(params)? else {
        return Ok(args);
    };
    let Members(members) = serde_json::from_str(object).map_err(|_| EnvelopeError::BadParams)?;
    for (key, value) in members {
        // Go leaves a field untouched on `null`, whatever its type.
        if value.get() != "null" {
            args.set(&key, value)?;
        }
    }
    Ok(args)
}

/// The object gorilla json2 fills the arguments from: `params` itself, or the first element of
/// an array `params` (the rest ignored). `None` means all defaults: absent, `null`, `[]` or
/// `[null]`. Anything else is refused, as Go refuses to fill a struct from it.
fn params_object(params: Option<&RawValue>) -> Result<Option<&str>, EnvelopeError> {
    let Some(params) = params else {
        return Ok(None);
    };
    let mut object = params.get();
    if object.starts_with('[') {
        let items: Vec<&RawValue> =
            serde_json::from_str(object).map_err(|_| EnvelopeError::BadParams)?;
        match items.first().copied() {
            Some(first) => object = first.get(),
            None => return Ok(None),
        }
    }
    match object {
        "null" => Ok(None),
        _ if object.starts_with('{') => Ok(Some(object)),
        _ => Err(EnvelopeError::BadParams),
    }
}

/// Go matches a member to a field exactly or else case-insensitively by Unicode simple folding;
/// for our lower-case ASCII names that is ASCII case, plus `ſ` for `s` and the Kelvin sign for `k`.
fn go_name_matches(key: &str, name: &str) -> bool {
    let folds_to = |k: char, n: char| {
        k.to_ascii_lowercase() == n || (n == 's' && k == 'ſ') || (n == 'k' && k == '\u{212a}')
    };
    let mut key = key.chars();
    name.chars()
        .all(|n| key.next().is_some_and(|k| folds_to(k, n)))
        && key.next().is_none()
}

/// Go's `string` from JSON: a JSON string (a number or anything else is refused).
fn go_string(value: &RawValue) -> Result<String, EnvelopeError> {
    serde_json::from_str::<GoString>(value.get())
        .map(|GoString(text)| text)
        .map_err(|_| EnvelopeError::BadParams)
}

/// Go's `int32` from JSON: an integer literal in range (JSON text is exactly what Rust parses
/// here); fractions, exponents and strings are refused, as Go refuses them.
fn go_int32(value: &RawValue) -> Result<i32, EnvelopeError> {
    value.get().parse().map_err(|_| EnvelopeError::BadParams)
}

/// A JSON string decoded as Go decodes it. serde refuses a lone surrogate escape (`"\ud800"`)
/// in a `String` but hands it over in bytes as WTF-8, which [`replace_surrogates`] turns into
/// Go's U+FFFD.
struct GoString(String);

impl<'de> Deserialize<'de> for GoString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(GoStringVisitor)
    }
}

struct GoStringVisitor;

impl Visitor<'_> for GoStringVisitor {
    type Value = GoString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON string")
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<GoString, E> {
        Ok(GoString(replace_surrogates(bytes)))
    }
}

/// UTF-8 from serde's WTF-8: each encoded surrogate (`ED A0..=BF xx`, the only non-UTF-8 a
/// valid body can yield) becomes U+FFFD.
fn replace_surrogates(wtf8: &[u8]) -> String {
    let mut utf8 = Vec::with_capacity(wtf8.len());
    let mut i = 0;
    while let Some(&byte) = wtf8.get(i) {
        let surrogate = byte == 0xed && wtf8.get(i + 1).is_some_and(|b| (0xa0..=0xbf).contains(b));
        if surrogate {
            utf8.extend_from_slice("\u{fffd}".as_bytes());
            i += 3;
        } else {
            utf8.push(byte);
            i += 1;
        }
    }
    String::from_utf8(utf8).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into())
}

/// An object's members in order, duplicates kept, so the last one wins as in Go.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Members<'de>, M::Error> {
        let mut members = Vec::new();
        while let Some((GoString(key), value)) = map.next_entry::<GoString, &'de RawValue>()? {
            members.push((key, value));
        }
        Ok(Members(members))
    }
}

#[cfg(test)]
#[path = "static_api_tests.rs"]
mod tests;
