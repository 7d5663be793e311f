//! The domain errors as replies: their codes, texts and `data`, and envelope errors passed
//! through unchanged. The envelope's own tests live with it (`rpcchainvm::jsonrpc`). Golden
//! texts: docs/spec/vectors.md §3.3.

use super::*;
use crate::api::data::parse_payload;
use rpcchainvm::jsonrpc::encode_reply;
use serde_json::value::RawValue;

fn reply(id: &str, error: RpcError) -> String {
    let id = RawValue::from_string(id.to_owned()).unwrap();
    encode_reply(Some(&id), &Err(error)).unwrap()
}

#[test]
fn codes_of_the_domain_errors() {
    assert_eq!(RpcError::BAD_PARAMS.code(), SERVER_ERROR);
    assert_eq!(RpcError::UnknownBlock.code(), SERVER_ERROR);
    assert_eq!(
        RpcError::NotYetAccepted("x".into()).code(),
        NOT_YET_ACCEPTED
    );
    assert_eq!(RpcError::UnknownPayload("x".into()).code(), UNKNOWN_PAYLOAD);
    assert_eq!(
        RpcError::from(EnvelopeError::Parse(String::new())).code(),
        rpcchainvm::jsonrpc::PARSE_ERROR
    );
    assert_eq!(
        RpcError::from(EnvelopeError::EmptyBatch).code(),
        rpcchainvm::jsonrpc::INVALID_REQUEST
    );
}

#[test]
fn envelope_errors_pass_through_unchanged() {
    for error in [
        EnvelopeError::Parse("EOF".into()),
        EnvelopeError::BatchTooLarge { found: 1001 },
        EnvelopeError::UnknownMethod("timestampvm.FooBar".into()),
        EnvelopeError::BadParams,
    ] {
        let id = RawValue::from_string("1".into()).unwrap();
        assert_eq!(
            encode_reply(Some(&id), &Err(RpcError::from(error.clone()))),
            encode_reply(Some(&id), &Err(error.clone())),
            "{error}"
        );
        // Owed without an id exactly when the envelope's error is.
        assert_eq!(
            encode_reply(None, &Err(RpcError::from(error.clone()))),
            encode_reply(None, &Err(error)),
        );
    }
    assert_eq!(
        RpcError::from(EnvelopeError::UnknownMethod("timestampvm.FooBar".into())).to_string(),
        r#"rpc: can't find method "timestampvm.FooBar""#
    );
}

#[test]
fn bad_data_says_why_in_data_and_go_words_in_message() {
    let why = parse_payload("0x00").unwrap_err();
    let data = serde_json::to_string(&why.to_string()).unwrap();
    assert_eq!(
        reply("7", RpcError::BadData(why)),
        format!(
            r#"{{"jsonrpc":"2.0","error":{{"code":-32000,"message":"{BAD_DATA}","data":{data}}},"id":7}}"#
        )
    );
    assert_eq!(
        reply("1", RpcError::UnknownBlock),
        r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"couldn't get block from database. Does it exist?","data":null},"id":1}"#
    );
    assert_eq!(
        reply("1", RpcError::UnknownPayload("0x00".into())),
        r#"{"jsonrpc":"2.0","error":{"code":-32002,"message":"payload 0x00 is unknown to this node","data":null},"id":1}"#
    );
}
