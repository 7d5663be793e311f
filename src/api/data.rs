//! The text forms of a 32-byte payload on the JSON-RPC API.
//!
//! Two forms are in use by existing clients: Go TimestampVM v1.2.6 and later speak AvalancheGo's
//! `formatting.Hex` (`0x` + hex of the bytes + hex of a 4-byte checksum), older versions and many
//! tutorials speak CB58. Input accepts both, so any client works unchanged; output uses the form
//! the request asked for in its `encoding` field, hex by default as the Go reference does
//! (shared/spec/vectors.md section 3).

use crate::chain::id::{cb58_decode, cb58_encode, checksum4, Cb58Error};
use std::fmt;
use std::str::FromStr;

/// Length of a payload in bytes: one SHA-256 digest, as the Go reference stores.
pub const PAYLOAD_LEN: usize = 32;

/// The prefix `formatting.Hex` requires; Go checks it case-sensitively, so do we.
const HEX_PREFIX: &str = "0x";

/// Which text form replies use for payloads. Requests choose it with `"encoding"`; absent means
/// [`Encoding::Hex`], the Go reference's only form, so Go clients see exactly what they expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// `0x` + lowercase hex of the bytes and their 4-byte checksum (AvalancheGo `formatting.Hex`).
    #[default]
    Hex,
    /// CB58: base58 of the bytes and their checksum, the form of timestampvm <= v1.2.5.
    Cb58,
}

/// The request named an encoding we do not speak; the API reports it as bad params.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown encoding {0:?}: expected \"hex\" or \"cb58\"")]
pub struct UnknownEncoding(pub String);

impl Encoding {
    /// The request field's value for this encoding.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Hex => "hex",
            Encoding::Cb58 => "cb58",
        }
    }

    /// Reads the optional `encoding` request field: absent (or JSON null) means the default.
    pub fn from_field(field: Option<&str>) -> Result<Encoding, UnknownEncoding> {
        field.map_or(Ok(Encoding::default()), str::parse)
    }
}

impl FromStr for Encoding {
    type Err = UnknownEncoding;

    /// Case-insensitive: `"HEX"` names the same form and refusing it would help nobody.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.eq_ignore_ascii_case("hex") {
            Ok(Encoding::Hex)
        } else if text.eq_ignore_ascii_case("cb58") {
            Ok(Encoding::Cb58)
        } else {
            Err(UnknownEncoding(text.to_owned()))
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a payload text was refused. The API answers every variant with the Go reference's single
/// "data must be hex representation of 32 bytes" error; the detail is for logs and other callers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    #[error("payload is empty")]
    Empty,
    #[error("hex payload must be 0x and {expected} hex digits (32 bytes and a 4-byte checksum), found {found} digits", expected = (PAYLOAD_LEN + 4) * 2)]
    HexLength { found: usize },
    #[error("hex payload contains a character that is not a hex digit")]
    NotHex,
    #[error("hex payload checksum mismatch")]
    Checksum,
    #[error("cb58 payload: {0}")]
    Cb58(#[from] Cb58Error),
}

/// Parses a payload in either accepted form: `0x` + 72 hex digits with a valid checksum, or CB58
/// of exactly 32 bytes. CB58's alphabet has no `0`, so the prefix decides the form unambiguously.
/// Either form is checked for length before anything is decoded, so the work is bounded by a
/// constant however long the text is.
pub fn parse_payload(text: &str) -> Result<[u8; PAYLOAD_LEN], DataError> {
    if text.is_empty() {
        return Err(DataError::Empty);
    }
    match text.strip_prefix(HEX_PREFIX) {
        Some(digits) => parse_hex_checksummed(digits),
        // Refused unread past 50 characters: base58 decoding is quadratic in the text's length.
        None => Ok(cb58_decode::<PAYLOAD_LEN>(text)?),
    }
}

/// The hex digits after `0x`: payload then checksum, either case, checksum verified.
fn parse_hex_checksummed(digits: &str) -> Result<[u8; PAYLOAD_LEN], DataError> {
    let expected = (PAYLOAD_LEN + 4) * 2;
    if digits.len() != expected {
        return Err(DataError::HexLength {
            found: digits.len(),
        });
    }
    let mut raw = [0u8; PAYLOAD_LEN + 4];
    hex::decode_to_slice(digits, &mut raw).map_err(|_| DataError::NotHex)?;
    let (payload, sum) = raw.split_at(PAYLOAD_LEN);
    if checksum4(payload) != sum {
        return Err(DataError::Checksum);
    }
    let mut out = [0u8; PAYLOAD_LEN];
    out.copy_from_slice(payload);
    Ok(out)
}

/// AvalancheGo's `formatting.Hex` form of any bytes: `0x`, lowercase hex, then the hex of the
/// last 4 bytes of their SHA-256. For 32 bytes this is the 74-character form of the Go reference.
pub fn hex_checksummed(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + (bytes.len() + 4) * 2);
    out.push_str(HEX_PREFIX);
    out.push_str(&hex::encode(bytes));
    out.push_str(&hex::encode(checksum4(bytes)));
    out
}

/// A payload as replies print it, in the encoding the request asked for.
pub fn format_payload(payload: &[u8; PAYLOAD_LEN], encoding: Encoding) -> String {
    match encoding {
        Encoding::Hex => hex_checksummed(payload),
        Encoding::Cb58 => cb58_encode(payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // shared/spec/vectors.md 2.2 and 3.1: SHA-256("manuscript") in the Go reference's hex form.
    const MANUSCRIPT: &str = "8f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941";
    const MANUSCRIPT_HEX: &str =
        "0x8f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941cc82d1c2";
    // vectors.md 3.2: the `hello` genesis data.
    const HELLO_HEX: &str =
        "0x68656c6c6f000000000000000000000000000000000000000000000000000000f0fcde20";

    fn manuscript() -> [u8; 32] {
        let mut out = [0u8; 32];
        hex::decode_to_slice(MANUSCRIPT, &mut out).unwrap();
        out
    }

    #[test]
    fn hex_form_matches_the_go_reference() {
        assert_eq!(format_payload(&manuscript(), Encoding::Hex), MANUSCRIPT_HEX);
        assert_eq!(MANUSCRIPT_HEX.len(), 74);
        let mut hello = [0u8; 32];
        hello[..5].copy_from_slice(b"hello");
        assert_eq!(hex_checksummed(&hello), HELLO_HEX);
        assert_eq!(parse_payload(HELLO_HEX), Ok(hello));
    }

    #[test]
    fn hex_input_accepts_either_case_and_verifies_the_checksum() {
        assert_eq!(parse_payload(MANUSCRIPT_HEX), Ok(manuscript()));
        let upper = format!("0x{}", MANUSCRIPT_HEX[2..].to_uppercase());
        assert_eq!(parse_payload(&upper), Ok(manuscript()));
        // Last checksum digit changed.
        let bad_sum = format!("{}3", &MANUSCRIPT_HEX[..73]);
        assert_eq!(parse_payload(&bad_sum), Err(DataError::Checksum));
        // A payload digit changed: the checksum no longer matches either.
        let bad_payload = MANUSCRIPT_HEX.replacen("8f10", "8f11", 1);
        assert_eq!(parse_payload(&bad_payload), Err(DataError::Checksum));
    }

    #[test]
    fn hex_input_requires_prefix_checksum_and_length() {
        // Without the prefix the text is read as CB58, whose alphabet has no `0`.
        assert!(matches!(
            parse_payload(&MANUSCRIPT_HEX[2..]),
            Err(DataError::Cb58(_))
        ));
        let upper_prefix = MANUSCRIPT_HEX.replacen("0x", "0X", 1);
        assert!(parse_payload(&upper_prefix).is_err());
        // Missing checksum: the bare 64 digits the pre-checksum clients sent.
        assert_eq!(
            parse_payload(&format!("0x{MANUSCRIPT}")),
            Err(DataError::HexLength { found: 64 })
        );
        let not_hex = format!("0x{}", "zz".repeat(36));
        assert_eq!(parse_payload(&not_hex), Err(DataError::NotHex));
        assert_eq!(parse_payload(""), Err(DataError::Empty));
        assert_eq!(parse_payload("0x"), Err(DataError::HexLength { found: 0 }));
        // Over-long text is refused by its length alone, in both forms.
        let long_hex = format!("0x{}", "0".repeat(2_000_000));
        assert_eq!(
            parse_payload(&long_hex),
            Err(DataError::HexLength { found: 2_000_000 })
        );
        assert!(matches!(
            parse_payload(&"2".repeat(2_000_000)),
            Err(DataError::Cb58(Cb58Error::TooLong {
                max: 50,
                found: 2_000_000,
                ..
            }))
        ));
        // A multi-byte character must not split a byte boundary or panic.
        let wide = format!("0x{}é", "0".repeat(70));
        assert!(parse_payload(&wide).is_err());
    }

    #[test]
    fn cb58_input_and_output() {
        let text = format_payload(&manuscript(), Encoding::Cb58);
        assert_eq!(text, cb58_encode(&manuscript()));
        assert_eq!(parse_payload(&text), Ok(manuscript()));
        // vectors.md 1: CB58 of `timestampvm` zero-padded to 32 bytes.
        let padded = parse_payload("tGas3T58KzdjcJ2iKSyiYsWiqYctRXaPTqBCA11BqEkNg8kPc").unwrap();
        assert_eq!(&padded[..11], b"timestampvm");
        assert_eq!(
            parse_payload("tGas3T58KzdjcJ2iKSyiYsWiqYctRXaPTqBCA11BqEkNg8kPd"),
            Err(DataError::Cb58(Cb58Error::Checksum))
        );
        // vectors.md 1: CB58 of one zero byte is valid CB58 but not 32 bytes.
        assert_eq!(
            parse_payload("1c7hwa"),
            Err(DataError::Cb58(Cb58Error::Length {
                expected: 32,
                found: 1
            }))
        );
    }

    #[test]
    fn encoding_field() {
        assert_eq!(Encoding::from_field(None), Ok(Encoding::Hex));
        assert_eq!(Encoding::from_field(Some("hex")), Ok(Encoding::Hex));
        assert_eq!(Encoding::from_field(Some("CB58")), Ok(Encoding::Cb58));
        assert_eq!(
            Encoding::from_field(Some("base64")),
            Err(UnknownEncoding("base64".into()))
        );
        assert!(Encoding::from_field(Some("")).is_err());
        assert_eq!(Encoding::Cb58.to_string(), "cb58");
    }
}
