//! Unit tests of the envelope alone (no methods): name resolution, id and notification rules,
//! error objects and the Go-compatible text details. Golden texts: docs/spec/vectors.md §3.3.

use super::reply::compact;
use super::request::resolve_method;
use super::*;
use serde_json::value::RawValue;

fn single(body: &str) -> Entry<'_> {
    match parse_body(body.as_bytes()) {
        Body::Single(entry) => entry,
        Body::Batch(_) => panic!("expected a single request"),
    }
}

fn error_of(entry: &Entry<'_>) -> EnvelopeError {
    match &entry.call {
        Err(error) => error.clone(),
        Ok(call) => panic!("expected an error, got a call to {}", call.name),
    }
}

/// The HTTP body for `replies`, pushed in order.
fn finish(replies: Vec<String>, batch: bool) -> Option<Vec<u8>> {
    let mut body = Replies::new(batch);
    replies.into_iter().for_each(|reply| body.push(Some(reply)));
    body.finish()
}

fn reply(id: Option<&str>, outcome: Result<&str, EnvelopeError>) -> Option<String> {
    reply_with(id, outcome)
}

fn reply_with<E: ReplyError>(id: Option<&str>, outcome: Result<&str, E>) -> Option<String> {
    let id = id.map(|text| RawValue::from_string(text.to_owned()).unwrap());
    let outcome = outcome.map(|text| RawValue::from_string(text.to_owned()).unwrap());
    encode_reply(id.as_deref(), &outcome)
}

#[test]
fn method_names_are_upper_cased_after_the_dot() {
    assert_eq!(
        resolve_method("timestampvm.proposeBlock").unwrap(),
        "timestampvm.ProposeBlock"
    );
    assert_eq!(
        resolve_method("timestampvm.GetBlock"),
        Err(EnvelopeError::UppercaseMethod)
    );
    // No dot, or two: gorilla's ill-formed error, showing the name after upper-casing.
    assert_eq!(
        resolve_method("getBlock"),
        Err(EnvelopeError::IllFormed("getBlock".into()))
    );
    assert_eq!(
        resolve_method("a.b.c"),
        Err(EnvelopeError::IllFormed("a.B.c".into()))
    );
    assert_eq!(resolve_method("timestampvm.").unwrap(), "timestampvm.");
    assert_eq!(resolve_method("x.élan").unwrap(), "x.Élan");
    assert_eq!(resolve_method("x.ßig").unwrap(), "x.ßig");
}

#[test]
fn error_texts_match_gorilla() {
    assert_eq!(
        EnvelopeError::UnknownMethod("timestampvm.FooBar".into()).to_string(),
        r#"rpc: can't find method "timestampvm.FooBar""#
    );
    assert_eq!(
        EnvelopeError::UnknownService("foo.Bar".into()).to_string(),
        r#"rpc: can't find service "foo.Bar""#
    );
    assert_eq!(
        EnvelopeError::UnknownService("a\"b\\c\n\u{1}".into()).to_string(),
        r#"rpc: can't find service "a\"b\\c\n\x01""#
    );
    assert_eq!(EnvelopeError::BadParams.code(), SERVER_ERROR);
    assert_eq!(EnvelopeError::Parse(String::new()).code(), PARSE_ERROR);
    assert_eq!(EnvelopeError::EmptyBatch.code(), INVALID_REQUEST);
}

#[test]
fn ids_are_echoed_compacted_and_absent_id_is_a_notification() {
    let entry = single(r#"{"jsonrpc":"2.0","method":"a.b","id":{ "k" : [1, "x y"] }}"#);
    assert_eq!(entry.id.unwrap().get(), r#"{ "k" : [1, "x y"] }"#);
    assert_eq!(
        reply(entry.id.map(RawValue::get), Ok("{}")).unwrap(),
        r#"{"jsonrpc":"2.0","result":{},"id":{"k":[1,"x y"]}}"#
    );
    // An explicit null id is a request like any other, answered with "id":null.
    let entry = single(r#"{"jsonrpc":"2.0","method":"a.b","id":null}"#);
    assert_eq!(entry.id.unwrap().get(), "null");
    let entry = single(r#"{"jsonrpc":"2.0","method":"a.b"}"#);
    assert!(entry.id.is_none());
    assert_eq!(reply(None, Ok("{}")), None);
    assert_eq!(reply(None, Err(EnvelopeError::BadParams)), None);
}

#[test]
fn params_and_call_are_passed_through() {
    let entry = single(r#"{"jsonrpc":"2.0","method":"timestampvm.getBlock","params":[{}],"id":1}"#);
    let call = entry.call.unwrap();
    assert_eq!(call.name, "timestampvm.GetBlock");
    assert_eq!((call.service(), call.method()), ("timestampvm", "GetBlock"));
    assert_eq!(call.params.unwrap().get(), "[{}]");
    let entry = single(r#"{"jsonrpc":"2.0","method":"a.b","params":null,"id":1}"#);
    assert!(entry.call.unwrap().params.is_none());
}

#[test]
fn bodies_that_are_not_requests_get_parse_errors_even_without_id() {
    assert_eq!(error_of(&single("")), EnvelopeError::Parse("EOF".into()));
    assert_eq!(error_of(&single(" \n")), EnvelopeError::Parse("EOF".into()));
    assert_eq!(
        error_of(&single(r#"{"jsonrpc":"2.0""#)),
        EnvelopeError::Parse("unexpected EOF".into())
    );
    assert!(matches!(
        error_of(&single("hello")),
        EnvelopeError::Parse(_)
    ));
    assert!(matches!(error_of(&single("{}{}")), EnvelopeError::Parse(_)));
    assert_eq!(
        error_of(&single("42")),
        EnvelopeError::Parse(
            "json: cannot unmarshal number into Go value of type json2.serverRequest".into()
        )
    );
    assert_eq!(
        error_of(&single(r#"{"jsonrpc":"2.0","method":7,"id":1}"#)),
        EnvelopeError::Parse(
            "json: cannot unmarshal number into Go struct field serverRequest.method of type string"
                .into()
        )
    );
    let text = reply(None, Err(EnvelopeError::Parse("EOF".into()))).unwrap();
    assert_eq!(
        text,
        r#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"EOF","data":{"jsonrpc":"","method":"","params":null,"id":null}},"id":null}"#
    );
    // Deep nesting must not overflow the stack: it is simply not a request object.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    match parse_body(deep.as_bytes()) {
        Body::Batch(entries) => assert!(matches!(entries[0].call, Err(EnvelopeError::Parse(_)))),
        Body::Single(_) => panic!("a nested array is a batch of one"),
    }
    let invalid_utf8: &[u8] = b"{\"jsonrpc\":\"2.0\xff\"}";
    assert!(matches!(
        parse_body(invalid_utf8),
        Body::Single(Entry {
            call: Err(EnvelopeError::Parse(_)),
            ..
        })
    ));
}

#[test]
fn wrong_version_echoes_the_request_object_as_go_does() {
    let entry = single(
        r#"{"jsonrpc":"1.0","method":"timestampvm.getBlock","params":{ "id" : null },"id":7}"#,
    );
    let error = error_of(&entry);
    assert_eq!(
        reply(entry.id.map(RawValue::get), Err(error)).unwrap(),
        r#"{"jsonrpc":"2.0","error":{"code":-32600,"message":"jsonrpc must be 2.0","data":{"jsonrpc":"1.0","method":"timestampvm.getBlock","params":{"id":null},"id":7}},"id":7}"#
    );
    let entry = single(r#"{"method":"a.b","id":"x"}"#);
    assert_eq!(
        error_of(&entry),
        EnvelopeError::InvalidVersion {
            request: r#"{"jsonrpc":"","method":"a.b","params":null,"id":"x"}"#.into()
        }
    );
}

#[test]
fn batches_and_their_edges() {
    match parse_body(br#"[{"jsonrpc":"2.0","method":"a.b","id":1}, 5]"#) {
        Body::Batch(entries) => {
            assert_eq!(entries.len(), 2);
            assert!(entries[0].call.is_ok());
            assert!(matches!(entries[1].call, Err(EnvelopeError::Parse(_))));
        }
        Body::Single(_) => panic!("expected a batch"),
    }
    assert_eq!(error_of(&single("[]")), EnvelopeError::EmptyBatch);
    assert_eq!(
        finish(vec!["{\"a\":1}".into(), "{\"b\":2}".into()], true).unwrap(),
        b"[{\"a\":1},{\"b\":2}]\n"
    );
    assert_eq!(finish(vec!["{}".into()], false).unwrap(), b"{}\n");
    assert_eq!(finish(Vec::new(), true), None);
    // Only notifications in a batch: nothing owed, an empty 200.
    let mut notifications = Replies::new(true);
    notifications.push(None);
    notifications.push(None);
    assert_eq!(notifications.finish(), None);
}

/// A batch of exactly [`MAX_BATCH_ENTRIES`] is parsed; one more is refused whole, as one error
/// that is owed even without ids, and refusing it keeps none of its entries.
#[test]
fn batch_entries_are_capped() {
    let batch = |n: usize| format!("[{}]", vec!["1"; n].join(","));
    match parse_body(batch(MAX_BATCH_ENTRIES).as_bytes()) {
        Body::Batch(entries) => assert_eq!(entries.len(), MAX_BATCH_ENTRIES),
        Body::Single(_) => panic!("a batch at the limit is served"),
    }
    let over = batch(MAX_BATCH_ENTRIES + 1);
    let error = error_of(&single(&over));
    assert_eq!(
        error,
        EnvelopeError::BatchTooLarge {
            found: MAX_BATCH_ENTRIES + 1
        }
    );
    assert_eq!(
        reply(None, Err(error)).unwrap(),
        r#"{"jsonrpc":"2.0","error":{"code":-32600,"message":"invalid request: batch of 1001 entries, over the limit of 1000","data":null},"id":null}"#
    );
    // The audit's body: 2 MiB of `[1,1,…]`, a million entries, counted without being kept.
    let huge = batch(1_048_575);
    assert_eq!(
        error_of(&single(&huge)),
        EnvelopeError::BatchTooLarge { found: 1_048_575 }
    );
    // A syntax error anywhere in an over-long batch is still a parse error.
    let broken = format!("{},]", &over[..over.len() - 1]);
    assert!(matches!(
        error_of(&single(&broken)),
        EnvelopeError::Parse(_)
    ));
}

/// Replies stop being run once a batch's body reaches [`MAX_BATCH_REPLY_BYTES`]: the entry that
/// crosses the line is kept whole, and the body never exceeds the limit plus one reply.
#[test]
fn batch_replies_are_capped() {
    let big = format!(r#"{{"x":"{}"}}"#, "a".repeat(100_000));
    let mut replies = Replies::new(true);
    let mut run = 0;
    while replies.has_room() {
        replies.push(Some(big.clone()));
        run += 1;
    }
    assert_eq!(run, MAX_BATCH_REPLY_BYTES.div_ceil(big.len() + 1));
    let entry = single(r#"{"jsonrpc":"2.0","method":"a.b","id":"late"}"#);
    let refusal = not_run(&entry).unwrap();
    assert_eq!(
        refusal,
        r#"{"jsonrpc":"2.0","error":{"code":-32003,"message":"not run: the batch's replies reached the limit of 4194304 bytes; send this request again","data":null},"id":"late"}"#
    );
    replies.push(Some(refusal));
    let body = replies.finish().unwrap();
    assert!(body.len() < MAX_BATCH_REPLY_BYTES + big.len() + 300);
    let parsed: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(parsed.len(), run + 1);
    // A notification left unrun is owed nothing.
    let notification = single(r#"{"jsonrpc":"2.0","method":"a.b"}"#);
    assert_eq!(not_run(&notification), None);
    // A single request is never cut: only batches have the limit.
    let mut single_reply = Replies::new(false);
    single_reply.push(Some(format!(r#""{}""#, "a".repeat(MAX_BATCH_REPLY_BYTES))));
    assert!(single_reply.has_room());
}

#[test]
fn output_is_escaped_like_go() {
    let body = finish(
        vec![reply(Some("\"<a&b>\u{2028}\""), Ok("{}")).unwrap()],
        false,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "{\"jsonrpc\":\"2.0\",\"result\":{},\"id\":\"\\u003ca\\u0026b\\u003e\\u2028\"}\n"
    );
}

#[test]
fn compaction_keeps_string_contents() {
    assert_eq!(
        compact(r#" { "a b" : [ 1 , "\" x" ] } "#),
        r#"{"a b":[1,"\" x"]}"#
    );
    assert_eq!(compact(r#""\\" "#), r#""\\""#);
}

/// An envelope error carried as an [`ErrorObject`] (how services that mix their own errors with
/// the envelope's return them) is written byte for byte as the envelope error itself, the
/// without-id rule included.
#[test]
fn error_objects_keep_the_envelope_errors_bytes() {
    let errors = [
        EnvelopeError::Parse("EOF".into()),
        EnvelopeError::InvalidVersion {
            request: r#"{"jsonrpc":"1.0","method":"a.b","params":null,"id":1}"#.into(),
        },
        EnvelopeError::BatchTooLarge { found: 1001 },
        EnvelopeError::UnknownService("x.Y".into()),
        EnvelopeError::BadParams,
    ];
    for error in errors {
        for id in [Some("7"), None] {
            let object = ErrorObject::from(error.clone());
            assert_eq!(
                reply_with(id, Err(object)),
                reply(id, Err(error.clone())),
                "{error}"
            );
        }
    }
    assert_eq!(
        reply_with(
            Some(r#" "a" "#),
            Err(ErrorObject::server("argument 'chain' not given"))
        )
        .unwrap(),
        r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"argument 'chain' not given","data":null},"id":"a"}"#
    );
    assert_eq!(reply_with(None, Err(ErrorObject::server("x"))), None);
}

#[test]
fn go_json_strings_replace_invalid_utf8_byte_by_byte() {
    assert_eq!(
        go_json_string(b"a\"\\\n\r\t\x01b"),
        r#""a\"\\\n\r\t\u0001b""#
    );
    assert_eq!(
        go_json_string(b"\xff\xfeok\xe2\x82"),
        r#""\ufffd\ufffdok\ufffd\ufffd""#
    );
    assert_eq!(go_json_string("<é>".as_bytes()), "\"<é>\"");
}
