//! The static API against Go's `StaticService` behaviour: results and error texts byte for byte
//! through the same envelope as the chain API. Known vectors are computed here from `sha2`
//! directly, not through the code under test. A failure shows the body sent and the reply got.

use super::*;
use sha2::{Digest, Sha256};

const BAD_PARAMS: &str = "couldn't unmarshal an argument. Ensure arguments are valid and properly formatted. See documentation for example calls";

/// The reply body as text without its trailing newline, `None` when nothing is owed.
fn call(body: &str) -> Option<String> {
    let reply = answer_body(body.as_bytes())?;
    let text = String::from_utf8(reply).expect("replies are UTF-8");
    assert!(
        text.ends_with('\n'),
        "no trailing newline after {body}: {text}"
    );
    Some(text.trim_end_matches('\n').to_owned())
}

fn request(method: &str, params: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","method":"{method}","params":{params},"id":1}}"#)
}

fn check(body: &str, expected: &str) {
    assert_eq!(call(body).as_deref(), Some(expected), "for {body}");
}

fn result(inner: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","result":{inner},"id":1}}"#)
}

fn error(message: &str) -> String {
    let message = serde_json::to_string(message).unwrap();
    format!(
        r#"{{"jsonrpc":"2.0","error":{{"code":-32000,"message":{message},"data":null}},"id":1}}"#
    )
}

fn encode_call(params: &str) -> String {
    request("timestampvm.encode", params)
}

fn decode_call(params: &str) -> String {
    request("timestampvm.decode", params)
}

/// `0x` + hex of the bytes + hex of the last 4 bytes of their SHA-256, computed independently.
fn expected_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("0x{}{}", hex::encode(bytes), hex::encode(&digest[28..]))
}

#[test]
fn encode_hello_known_vector() {
    let expected = expected_hex(b"hello");
    // SHA-256("hello") ends in 938b9824.
    assert_eq!(expected, "0x68656c6c6f938b9824");
    let reply = format!(r#"{{"bytes":"{expected}","encoding":"hex"}}"#);
    check(&encode_call(r#"{"data":"hello"}"#), &result(&reply));
    check(
        &encode_call(r#"{"data":"hello","encoding":"hex"}"#),
        &result(&reply),
    );
    check(
        &encode_call(r#"{"data":"hello","encoding":"hexc"}"#),
        &result(&format!(r#"{{"bytes":"{expected}","encoding":"hexc"}}"#)),
    );
    check(
        &encode_call(r#"{"data":"hello","encoding":"hexnc"}"#),
        &result(r#"{"bytes":"0x68656c6c6f","encoding":"hexnc"}"#),
    );
    check(
        &decode_call(&format!(r#"{{"bytes":"{expected}"}}"#)),
        &result(r#"{"data":"hello","encoding":"hex"}"#),
    );
}

/// Every encoding that can encode round-trips text with quotes, HTML characters and non-ASCII;
/// `json` is refused by both methods except for Go's empty-text shortcut in Decode.
#[test]
fn round_trip_in_every_encoding() {
    let text = "tick \"tock\" <&> ü ✓";
    let data = serde_json::to_string(text).unwrap();
    for encoding in ["hex", "hexc", "hexnc"] {
        let body = encode_call(&format!(r#"{{"data":{data},"encoding":"{encoding}"}}"#));
        let reply: serde_json::Value = serde_json::from_str(&call(&body).unwrap()).unwrap();
        let bytes = reply["result"]["bytes"].as_str().expect("a result");
        assert_eq!(reply["result"]["encoding"], encoding);
        let body = decode_call(&format!(r#"{{"bytes":"{bytes}","encoding":"{encoding}"}}"#));
        let reply: serde_json::Value = serde_json::from_str(&call(&body).unwrap()).unwrap();
        assert_eq!(reply["result"]["data"], text, "{encoding}");
        assert_eq!(reply["result"]["encoding"], encoding);
    }
    check(
        &encode_call(r#"{"data":"hello","encoding":"json"}"#),
        &error("couldn't encode data as string: unsupported encoding in method"),
    );
    check(
        &decode_call(r#"{"bytes":"0x00","encoding":"json"}"#),
        &error("couldn't Decode data as string: unsupported encoding in method"),
    );
    check(
        &decode_call(r#"{"bytes":"","encoding":"json"}"#),
        &result(r#"{"data":"","encoding":"json"}"#),
    );
}

#[test]
fn length_pads_and_truncates() {
    let hexnc = |params: &str| {
        let body = encode_call(&format!(
            r#"{{"data":"hello","encoding":"hexnc",{params}}}"#
        ));
        let reply: serde_json::Value = serde_json::from_str(&call(&body).unwrap()).unwrap();
        reply["result"]["bytes"].as_str().map(str::to_owned)
    };
    assert_eq!(
        hexnc(r#""length":8"#).as_deref(),
        Some("0x68656c6c6f000000")
    );
    assert_eq!(hexnc(r#""length":2"#).as_deref(), Some("0x6865"));
    assert_eq!(hexnc(r#""length":0"#).as_deref(), Some("0x68656c6c6f"));
    assert_eq!(hexnc(r#""length":-3"#).as_deref(), Some("0x68656c6c6f"));
    // Padding happens before the checksum, which covers the padded bytes.
    let mut padded = b"hello".to_vec();
    padded.resize(32, 0);
    check(
        &encode_call(r#"{"data":"hello","length":32}"#),
        &result(&format!(
            r#"{{"bytes":"{}","encoding":"hex"}}"#,
            expected_hex(&padded)
        )),
    );
    // Go's int32: no fractions, exponents, strings or out-of-range numbers.
    for bad in ["1.5", "1e2", "\"8\"", "2147483648", "true"] {
        check(
            &encode_call(&format!(r#"{{"data":"hello","length":{bad}}}"#)),
            &error(BAD_PARAMS),
        );
    }
    check(
        &encode_call(r#"{"data":"hello","length":2147483647}"#),
        &error(&format!(
            "length 2147483647 is over the limit of {MAX_BODY_BYTES} bytes"
        )),
    );
}

#[test]
fn empty_data_is_an_error() {
    let empty = error("argument Data cannot be empty");
    for params in [r#"{"data":""}"#, "{}", "null", "[]", r#"{"data":null}"#] {
        check(&encode_call(params), &empty);
    }
    check(
        r#"{"jsonrpc":"2.0","method":"timestampvm.encode","id":1}"#,
        &empty,
    );
    // Decode has no such check: empty text is no bytes.
    check(
        &decode_call("{}"),
        &result(r#"{"data":"","encoding":"hex"}"#),
    );
}

#[test]
fn encoding_names_follow_go_unmarshal() {
    for accepted in ["HEX", "Hex", "HexNC", "hExC"] {
        let body = encode_call(&format!(r#"{{"data":"a","encoding":"{accepted}"}}"#));
        let reply = call(&body).unwrap();
        // The reply names the encoding the Go way, lower case.
        let lower = accepted.to_ascii_lowercase();
        assert!(
            reply.contains(&format!(r#""encoding":"{lower}""#)),
            "{reply}"
        );
    }
    // null keeps the default (hex).
    check(
        &encode_call(r#"{"data":"hello","encoding":null}"#),
        &result(&format!(
            r#"{{"bytes":"{}","encoding":"hex"}}"#,
            expected_hex(b"hello")
        )),
    );
    // Unknown names, the CB58 the chain API speaks, an escaped spelling, a number: all refused.
    for refused in [r#""base64""#, r#""cb58""#, r#""\u0068ex""#, "0", r#""""#] {
        check(
            &encode_call(&format!(r#"{{"data":"a","encoding":{refused}}}"#)),
            &error(BAD_PARAMS),
        );
        check(
            &decode_call(&format!(r#"{{"bytes":"0x","encoding":{refused}}}"#)),
            &error(BAD_PARAMS),
        );
    }
}

#[test]
fn decode_errors_have_go_texts() {
    let good = expected_hex(b"hello");
    let last = if good.ends_with('4') { "5" } else { "4" };
    let bad_sum = format!("{}{last}", &good[..good.len() - 1]);
    let cases = [
        (bad_sum.as_str(), "hex", "invalid input checksum"),
        (&good[2..], "hex", "missing 0x prefix to hex encoding"),
        (
            "0X68656c6c6f938b9824",
            "hex",
            "missing 0x prefix to hex encoding",
        ),
        (
            "0x010203",
            "hex",
            "input string is smaller than the checksum size",
        ),
        (
            "0x",
            "hexc",
            "input string is smaller than the checksum size",
        ),
        ("0x123", "hex", "encoding/hex: odd length hex string"),
        ("0x6g", "hexnc", "encoding/hex: invalid byte: U+0067 'g'"),
        // A bad digit is reported before an odd length, even when it is the last digit.
        ("0x12z", "hexnc", "encoding/hex: invalid byte: U+007A 'z'"),
        ("0x\\u0001", "hexnc", "encoding/hex: invalid byte: U+0001"),
        // Go reports the first byte of a UTF-8 character, as a Latin-1 rune.
        ("0xé0", "hexnc", "encoding/hex: invalid byte: U+00C3 'Ã'"),
        (
            "0x\\u0085",
            "hexnc",
            "encoding/hex: invalid byte: U+00C2 'Â'",
        ),
    ];
    for (bytes, encoding, message) in cases {
        check(
            &decode_call(&format!(r#"{{"bytes":"{bytes}","encoding":"{encoding}"}}"#)),
            &error(&format!("couldn't Decode data as string: {message}")),
        );
    }
    // hexnc has no checksum to verify, so the same text decodes with the checksum as data.
    check(
        &decode_call(r#"{"bytes":"0x010203","encoding":"hexnc"}"#),
        &result(r#"{"data":"\u0001\u0002\u0003","encoding":"hexnc"}"#),
    );
    assert_eq!(go_sharp_u(0xad), "U+00AD");
    assert_eq!(go_sharp_u(0x7f), "U+007F");
    assert_eq!(go_sharp_u(b' '), "U+0020 ' '");
}

/// Go's `string(bytes)` in JSON: invalid UTF-8 becomes `\ufffd`, one per byte; control
/// characters are escaped the pre-1.22 way; HTML characters are escaped by the envelope.
#[test]
fn decoded_data_is_written_like_go() {
    let cases: [(&[u8], &str); 6] = [
        (b"\xff", r#""\ufffd""#),
        // A truncated 4-byte sequence: three bytes, three replacements (Rust's lossy gives one).
        (b"a\xf0\x9f\x98b", r#""a\ufffd\ufffd\ufffdb""#),
        // DEL is not escaped.
        (
            b"\x08\x0c\n\r\t\x00\x1f\x7f",
            "\"\\u0008\\u000c\\n\\r\\t\\u0000\\u001f\u{7f}\"",
        ),
        (b"\"\\/", r#""\"\\/""#),
        ("<&> \u{2028}".as_bytes(), r#""\u003c\u0026\u003e \u2028""#),
        ("é \u{fffd}".as_bytes(), "\"é \u{fffd}\""),
    ];
    for (bytes, data) in cases {
        let bytes = format!("0x{}", hex::encode(bytes));
        check(
            &decode_call(&format!(r#"{{"bytes":"{bytes}","encoding":"hexnc"}}"#)),
            &result(&format!(r#"{{"data":{data},"encoding":"hexnc"}}"#)),
        );
    }
}

/// Go's encoding/json member rules, not serde's.
#[test]
fn arguments_are_read_like_go() {
    let hello = result(&format!(
        r#"{{"bytes":"{}","encoding":"hexnc"}}"#,
        "0x68656c6c6f"
    ));
    for params in [
        r#"{"Data":"hello","ENCODING":"hexnc"}"#,
        // Last duplicate wins; null leaves the earlier value.
        r#"{"data":"x","encoding":"hex","data":"hello","encoding":"hexnc","data":null}"#,
        r#"{"data":"hello","encoding":"hexnc","unknown":[1,2]}"#,
        r#"[{"data":"hello","encoding":"hexnc"},"ignored"]"#,
    ] {
        check(&encode_call(params), &hello);
    }
    // `ſ` folds to `s` in Go.
    check(
        &decode_call(r#"{"byteſ":"0x68656c6c6f","encoding":"hexnc"}"#),
        &result(r#"{"data":"hello","encoding":"hexnc"}"#),
    );
    // A lone surrogate escape reads as U+FFFD (EF BF BD), in values and in keys.
    check(
        &encode_call(r#"{"data":"\ud800","encoding":"hexnc","\udc00":1}"#),
        &result(r#"{"bytes":"0xefbfbd","encoding":"hexnc"}"#),
    );
    check(
        &encode_call(r#"{"data":"\ud83d\ude00","encoding":"hexnc"}"#),
        &result(r#"{"bytes":"0xf09f9880","encoding":"hexnc"}"#),
    );
    for refused in [
        r#"{"data":5}"#,
        r#"{"data":["hello"]}"#,
        r#""hello""#,
        "5",
        r#"["hello"]"#,
        r#"[[{"data":"hello"}]]"#,
        // CB58 is the payload methods' form, not one of AvalancheGo's `formatting` encodings.
        r#"{"data":"hello","encoding":"cb58"}"#,
    ] {
        check(&encode_call(refused), &error(BAD_PARAMS));
    }
}

#[test]
fn unknown_method_and_service() {
    check(
        &request("timestampvm.proposeBlock", "{}"),
        &error(r#"rpc: can't find method "timestampvm.ProposeBlock""#),
    );
    check(
        &request("other.encode", r#"{"data":"hello"}"#),
        &error(r#"rpc: can't find service "other.Encode""#),
    );
    check(
        &request("timestampvm.Encode", r#"{"data":"hello"}"#),
        &error("method must start with a non-uppercase letter"),
    );
    // The method is found before params are read: bad params on an unknown method.
    check(
        &request("timestampvm.nope", "5"),
        &error(r#"rpc: can't find method "timestampvm.Nope""#),
    );
}

#[test]
fn batch_and_notifications() {
    let batch = r#"[
        {"jsonrpc":"2.0","method":"timestampvm.encode","params":{"data":"a","encoding":"hexnc"},"id":"x"},
        {"jsonrpc":"2.0","method":"timestampvm.encode","params":{"data":""}},
        {"jsonrpc":"2.0","method":"timestampvm.decode","params":{"bytes":"0x61","encoding":"hexnc"},"id":[1, 2]},
        {"jsonrpc":"2.0","method":"timestampvm.encode","params":{"data":""},"id":null}
    ]"#;
    check(
        batch,
        concat!(
            r#"[{"jsonrpc":"2.0","result":{"bytes":"0x61","encoding":"hexnc"},"id":"x"},"#,
            r#"{"jsonrpc":"2.0","result":{"data":"a","encoding":"hexnc"},"id":[1,2]},"#,
            r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"argument Data cannot be empty","data":null},"id":null}]"#
        ),
    );
    // Notifications alone, succeeding or failing: nothing is owed.
    let notifications = r#"[
        {"jsonrpc":"2.0","method":"timestampvm.encode","params":{"data":"a"}},
        {"jsonrpc":"2.0","method":"timestampvm.encode","params":{"data":""}},
        {"jsonrpc":"2.0","method":"timestampvm.nope"}
    ]"#;
    assert_eq!(call(notifications), None);
    assert_eq!(
        call(r#"{"jsonrpc":"2.0","method":"timestampvm.decode","params":{"bytes":"0x1"}}"#),
        None
    );
    // Envelope errors are the chain API's.
    assert_eq!(
        call("[]").as_deref(),
        Some(
            r#"{"jsonrpc":"2.0","error":{"code":-32600,"message":"invalid request: empty batch","data":null},"id":null}"#
        )
    );
}

/// Method errors are written as free-text error objects; they must come out exactly as the
/// envelope writes its own -32000 errors, `id` compaction included.
#[test]
fn method_errors_match_the_envelope_shape() {
    for id in ["1", r#""abc""#, "null", "[1, {\"a\" : 2}]", "1.50"] {
        let id: Box<RawValue> = serde_json::from_str(id).unwrap();
        let text = EnvelopeError::BadParams.to_string();
        let ours = jsonrpc::encode_reply(Some(&id), &Err(ErrorObject::server(text)));
        let envelope = jsonrpc::encode_reply(Some(&id), &Err(EnvelopeError::BadParams));
        assert_eq!(ours, envelope, "id {id}");
    }
    let error = ErrorObject::from(MethodError::EmptyData);
    let id: Box<RawValue> = serde_json::from_str("[1, 2]").unwrap();
    assert_eq!(
        jsonrpc::encode_reply(Some(&id), &Err(error)).unwrap(),
        r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"argument Data cannot be empty","data":null},"id":[1,2]}"#
    );
}

#[tokio::test]
async fn served_through_the_json_rpc_api_trait() {
    let body = encode_call(r#"{"data":"hello"}"#);
    let reply = StaticApi.handle_body(body.as_bytes()).await.unwrap();
    let expected = result(&format!(
        r#"{{"bytes":"{}","encoding":"hex"}}"#,
        expected_hex(b"hello")
    ));
    assert_eq!(String::from_utf8(reply).unwrap(), format!("{expected}\n"));
}

/// A batch of padded `encode` calls: each ~100-byte entry asks for a ~4 MiB reply. Without a
/// limit, a 2 MiB body of them would build ~80 GB; the replies stop at the batch limit, the rest
/// of the entries are answered "not run".
#[test]
fn a_batch_of_padded_encodes_stops_at_the_reply_limit() {
    let entry = request(
        "timestampvm.encode",
        &format!(r#"{{"data":"x","length":{MAX_LENGTH}}}"#),
    );
    let body = format!("[{}]", vec![entry; 20].join(","));
    let reply = answer_body(body.as_bytes()).unwrap();
    // One padded reply is 2 + 2 * (MAX_LENGTH + 4) hex characters plus its envelope.
    let one = 2 * (MAX_LENGTH + 4) + 100;
    assert!(
        reply.len() < jsonrpc::MAX_BATCH_REPLY_BYTES + one,
        "{} bytes",
        reply.len()
    );
    let replies: Vec<serde_json::Value> = serde_json::from_slice(&reply).unwrap();
    assert_eq!(replies.len(), 20);
    let ran = replies.iter().filter(|r| r.get("result").is_some()).count();
    assert_eq!(ran, 1, "a 4 MiB reply fills the batch alone");
    assert!(replies[1..]
        .iter()
        .all(|r| r["error"]["code"] == jsonrpc::BATCH_REPLY_FULL));
}
