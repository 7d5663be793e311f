//! Strings as Go writes them, where clients compare the bytes: `%q` in gorilla's error texts,
//! and `encoding/json`'s `string` in results a Go method builds from bytes.

use std::fmt::Write as _;

/// Go's `%q`: a double-quoted string with `"` and `\` escaped and control characters spelled out.
pub(super) fn go_quote(text: &str) -> String {
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
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON string literal for bytes, as Go's `encoding/json` (before Go 1.22) writes a `string`
/// that holds them: each byte that does not start valid UTF-8 becomes `\ufffd`; `"`, `\`,
/// newline, return and tab get short escapes, other control characters `\u00XX`. `<`, `>`, `&`,
/// U+2028 and U+2029 are left to [`super::Replies`], which escapes them in the whole reply as
/// Go does.
pub fn go_json_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                push_json_escaped(&mut out, text);
                break;
            }
            Err(error) => {
                let (valid, invalid) = rest.split_at(error.valid_up_to());
                push_json_escaped(&mut out, std::str::from_utf8(valid).unwrap_or_default());
                // Go replaces one byte at a time and reads on from the next one.
                out.push_str("\\ufffd");
                rest = invalid.get(1..).unwrap_or_default();
            }
        }
    }
    out.push('"');
    out
}

fn push_json_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}
