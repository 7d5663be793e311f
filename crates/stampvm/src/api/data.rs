//! The text forms of a 32-byte payload on the JSON-RPC API.
//!
//! Two forms are in use by existing clients: Go TimestampVM v1.2.6 and later speak AvalancheGo's
//! `formatting.Hex` (`0x` + hex of the bytes + hex of a 4-byte checksum), older versions and many
//! tutorials speak CB58. Input accepts both, so any client works unchanged, and also the plain
//! hex of the 32 bytes (64 digits, with or without `0x`), which is what `sha256sum` prints: the
//! length tells the forms apart (README, "Using the API"). Output uses the form the request asked
//! for in its `encoding` field, hex with the checksum by default as the Go reference does
//! (docs/spec/vectors.md section 3).

use rpcchainvm::ids::{cb58_decode, cb58_encode, checksum4, max_cb58_len, Cb58Error};
use std::fmt;

/// Length of a payload in bytes: one SHA-256 digest, as the Go reference stores.
pub const PAYLOAD_LEN: usize = 32;

/// The prefix `formatting.Hex` requires; Go checks it case-sensitively, so do we.
const HEX_PREFIX: &str = "0x";

/// Hex digits of the 32 bytes alone: a SHA-256 digest as `sha256sum` prints it.
pub const PLAIN_HEX_DIGITS: usize = PAYLOAD_LEN * 2;

/// Hex digits of the 32 bytes and their 4-byte checksum: the Go reference's form after `0x`.
pub const CHECKSUMMED_HEX_DIGITS: usize = (PAYLOAD_LEN + 4) * 2;

// What makes the forms unambiguous by length: no CB58 payload is as long as either hex form.
const _: () = assert!(max_cb58_len(PAYLOAD_LEN) < PLAIN_HEX_DIGITS);

/// The text forms of bytes a request can name in its `encoding` field: AvalancheGo's
/// `formatting.Encoding` (v1.10: `hex`, `hexc`, `hexnc`, `json`) and CB58, the form of
/// timestampvm <= v1.2.5. Each API speaks its own set: the chain's payload methods
/// [`Encoding::PAYLOAD`], the static API [`Encoding::FORMATTING`]. Absent means
/// [`Encoding::Hex`] (Go's zero value), the Go reference's only payload form, so Go clients see
/// exactly what they expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// `0x` + lowercase hex of the bytes and their 4-byte checksum (AvalancheGo `formatting.Hex`).
    #[default]
    Hex,
    /// `formatting.HexC`: the same text as [`Encoding::Hex`].
    HexC,
    /// `formatting.HexNC`: `0x` + hex of the bytes, no checksum.
    HexNc,
    /// `formatting.JSON`: names no text form of bytes; Go's methods refuse it.
    Json,
    /// CB58: base58 of the bytes and their checksum, the form of timestampvm <= v1.2.5.
    Cb58,
}

/// The request named an encoding we do not speak; the API reports it as bad params.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown encoding {0:?}: expected \"hex\" or \"cb58\"")]
pub struct UnknownEncoding(pub String);

impl Encoding {
    /// What the chain's payload methods take and print (`proposeBlock`, `getBlock`, …).
    pub const PAYLOAD: [Encoding; 2] = [Encoding::Hex, Encoding::Cb58];

    /// AvalancheGo's `formatting` encodings, which the static API's `encode`/`decode` name.
    pub const FORMATTING: [Encoding; 4] = [
        Encoding::Hex,
        Encoding::HexNc,
        Encoding::HexC,
        Encoding::Json,
    ];

    /// The request field's value for this encoding, as Go's `MarshalJSON` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Hex => "hex",
            Encoding::HexC => "hexc",
            Encoding::HexNc => "hexnc",
            Encoding::Json => "json",
            Encoding::Cb58 => "cb58",
        }
    }

    /// Reads the payload methods' optional `encoding` field: absent (or JSON null) means the
    /// default; one of [`Encoding::PAYLOAD`] in any case (`"HEX"` names the same form and
    /// refusing it would help nobody); anything else is refused.
    pub fn from_field(field: Option<&str>) -> Result<Encoding, UnknownEncoding> {
        let Some(text) = field else {
            return Ok(Encoding::default());
        };
        Encoding::PAYLOAD
            .into_iter()
            .find(|encoding| text.eq_ignore_ascii_case(encoding.as_str()))
            .ok_or_else(|| UnknownEncoding(text.to_owned()))
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a payload text was refused. The API answers every variant with the Go reference's
/// "data must be hex representation of 32 bytes" as the error's `message`, which clients match
/// on, and this text as its `data`, for the person reading the reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    // Short: `proposeBatch` repeats an item's reason in its reply for each bad item.
    #[error("payload is empty")]
    Empty,
    #[error("after 0x, expected {PLAIN_HEX_DIGITS} hex digits (the 32 bytes) or {CHECKSUMMED_HEX_DIGITS} (then the checksum: the last 4 bytes of their SHA-256, as the Go TimestampVM writes it); got {found}")]
    HexLength { found: usize },
    #[error("after 0x, found a character that is not a hex digit")]
    NotHex,
    #[error("checksum mismatch: the last 8 hex digits are not the last 4 bytes of SHA-256 of the 32 bytes before them (a mistyped digit?)")]
    Checksum,
    /// The Go reference's form without its `0x`.
    #[error("{CHECKSUMMED_HEX_DIGITS} hex digits without 0x: the form with the checksum starts with 0x (only the plain {PLAIN_HEX_DIGITS} digits may go without it)")]
    MissingPrefix,
    #[error("the hex prefix is 0x, in lower case")]
    UpperCasePrefix,
    #[error("cb58 payload: {0}")]
    Cb58(#[from] Cb58Error),
}

/// Parses a payload in any accepted form, told apart by prefix and length:
/// - `0x` + 72 hex digits: the Go reference's form, the 32 bytes and their checksum (verified);
/// - `0x` + 64 hex digits, or 64 hex digits alone: the 32 bytes, e.g. a `sha256sum` digest;
/// - anything else: CB58 of the 32 bytes, which is at most 50 characters long and has no `0` in
///   its alphabet, so it is never mistaken for either hex form.
///
/// Hex digits may be either case. Every form is checked for length before anything is decoded,
/// so the work is bounded by a constant however long the text is.
pub fn parse_payload(text: &str) -> Result<[u8; PAYLOAD_LEN], DataError> {
    if text.is_empty() {
        return Err(DataError::Empty);
    }
    if let Some(digits) = text.strip_prefix(HEX_PREFIX) {
        return parse_prefixed_hex(digits);
    }
    // Neither hex case below can be CB58, whose payloads are at most 50 characters long.
    let all_hex = || text.bytes().all(|b| b.is_ascii_hexdigit());
    match text.len() {
        PLAIN_HEX_DIGITS if all_hex() => return decode_plain(text),
        CHECKSUMMED_HEX_DIGITS if all_hex() => return Err(DataError::MissingPrefix),
        _ if text.starts_with("0X") => return Err(DataError::UpperCasePrefix),
        _ => {}
    }
    // Refused unread past 50 characters: base58 decoding is quadratic in the text's length.
    Ok(cb58_decode::<PAYLOAD_LEN>(text)?)
}

/// The hex digits after `0x`: the 32 bytes, then optionally their checksum, which is verified.
fn parse_prefixed_hex(digits: &str) -> Result<[u8; PAYLOAD_LEN], DataError> {
    match digits.len() {
        PLAIN_HEX_DIGITS => decode_plain(digits),
        CHECKSUMMED_HEX_DIGITS => decode_checksummed(digits),
        found => Err(DataError::HexLength { found }),
    }
}

fn decode_plain(digits: &str) -> Result<[u8; PAYLOAD_LEN], DataError> {
    let mut out = [0u8; PAYLOAD_LEN];
    hex::decode_to_slice(digits, &mut out).map_err(|_| DataError::NotHex)?;
    Ok(out)
}

fn decode_checksummed(digits: &str) -> Result<[u8; PAYLOAD_LEN], DataError> {
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

/// A payload as replies print it, in the encoding the request asked for. The payload methods
/// only ask for [`Encoding::PAYLOAD`]; `json`, which names no text form, prints as the default.
pub fn format_payload(payload: &[u8; PAYLOAD_LEN], encoding: Encoding) -> String {
    match encoding {
        Encoding::Hex | Encoding::HexC | Encoding::Json => hex_checksummed(payload),
        Encoding::HexNc => format!("{HEX_PREFIX}{}", hex::encode(payload)),
        Encoding::Cb58 => cb58_encode(payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // docs/spec/vectors.md 2.2 and 3.1: SHA-256("manuscript") in the Go reference's hex form.
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
    fn plain_hex_is_the_32_bytes_with_or_without_prefix() {
        // `sha256sum` prints the digest as 64 lowercase digits; with 0x or without, either case.
        assert_eq!(parse_payload(MANUSCRIPT), Ok(manuscript()));
        assert_eq!(parse_payload(&format!("0x{MANUSCRIPT}")), Ok(manuscript()));
        assert_eq!(parse_payload(&MANUSCRIPT.to_uppercase()), Ok(manuscript()));
        // Replies still print Go's form, checksum included.
        assert_eq!(
            format_payload(&parse_payload(MANUSCRIPT).unwrap(), Encoding::Hex),
            MANUSCRIPT_HEX
        );
        // 64 characters that are not all hex are not a digest, and too long for CB58.
        let typo = MANUSCRIPT.replacen('8', "g", 1);
        assert!(matches!(
            parse_payload(&typo),
            Err(DataError::Cb58(Cb58Error::TooLong { found: 64, .. }))
        ));
        let prefixed_typo = format!("0x{typo}");
        assert_eq!(parse_payload(&prefixed_typo), Err(DataError::NotHex));
    }

    #[test]
    fn hex_input_requires_prefix_checksum_and_length() {
        // Go's form without its prefix is named as such (it is too long for CB58 anyway).
        assert_eq!(
            parse_payload(&MANUSCRIPT_HEX[2..]),
            Err(DataError::MissingPrefix)
        );
        let upper_prefix = MANUSCRIPT_HEX.replacen("0x", "0X", 1);
        assert_eq!(
            parse_payload(&upper_prefix),
            Err(DataError::UpperCasePrefix)
        );
        // One digit short of either hex form, or between them.
        for found in [62, 63, 66, 70, 71, 73, 74] {
            let text = format!("0x{}", "a".repeat(found));
            assert_eq!(parse_payload(&text), Err(DataError::HexLength { found }));
        }
        let not_hex = format!("0x{}", "zz".repeat(36));
        assert_eq!(parse_payload(&not_hex), Err(DataError::NotHex));
        assert_eq!(parse_payload(""), Err(DataError::Empty));
        assert_eq!(parse_payload("0x"), Err(DataError::HexLength { found: 0 }));
        // Over-long text is refused by its length alone, in every form.
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
        // A multi-byte character must not split a byte boundary or panic, in either hex form.
        let wide = format!("0x{}é", "0".repeat(70));
        assert!(parse_payload(&wide).is_err());
        let wide = format!("0x{}é", "0".repeat(62));
        assert_eq!(parse_payload(&wide), Err(DataError::NotHex));
        let wide = format!("{}é", "0".repeat(62));
        assert!(parse_payload(&wide).is_err());
    }

    /// Every answer fits the length of the form the text was read as, for every length up to
    /// past the longest form and prefixes of every kind (the fuzz target `text_decoders` checks
    /// the same on long and random text).
    #[test]
    fn answers_fit_the_form_lengths() {
        let patterns = ["a", "0", "0x", "0X", "0xa", "0Xa", "g", "é", "2", "x0"];
        for pattern in patterns {
            for prefix in ["", "0x", "0X"] {
                for len in 0..=80 {
                    let mut text: String = prefix.to_owned() + &pattern.repeat(80);
                    let mut cut = len.min(text.len());
                    while !text.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    text.truncate(cut);
                    let n = text.len();
                    let fits = match parse_payload(&text) {
                        Ok(_) => n <= 50 || [64, 66, 74].contains(&n),
                        Err(DataError::Cb58(_)) => !text.starts_with("0X") || n <= 50,
                        Err(DataError::HexLength { found }) => found == n - 2,
                        Err(DataError::NotHex) => [66, 74].contains(&n),
                        Err(DataError::Checksum) => n == 74,
                        Err(DataError::MissingPrefix) => n == 72,
                        Err(DataError::UpperCasePrefix) => text.starts_with("0X"),
                        Err(DataError::Empty) => n == 0,
                    };
                    assert!(fits, "{text:?} ({n}): {:?}", parse_payload(&text));
                }
            }
        }
    }

    #[test]
    fn errors_name_the_forms() {
        let length = DataError::HexLength { found: 70 }.to_string();
        for part in [
            "64 hex digits",
            "72",
            "checksum",
            "last 4 bytes of their SHA-256",
            "got 70",
        ] {
            assert!(length.contains(part), "{part:?} in {length:?}");
        }
        assert!(DataError::MissingPrefix.to_string().contains("0x"));
        assert!(DataError::Checksum.to_string().contains("checksum"));
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
        // The static API's `formatting` encodings are not payload forms.
        for other in ["hexc", "hexnc", "json"] {
            let refused = Err(UnknownEncoding(other.into()));
            assert_eq!(Encoding::from_field(Some(other)), refused);
        }
        assert_eq!(Encoding::Cb58.to_string(), "cb58");
    }
}
