//! ACP-118 signature requests as the p2p SDK frames them (docs/spec/warp.md §3.1–§3.5): an
//! AppRequest body is uvarint(handler ID) ‖ protobuf `sdk.SignatureRequest`; the AppResponse body
//! is a bare `sdk.SignatureResponse`; failures travel as AppError codes.
//!
//! The two protobuf messages are written here with prost's derive rather than generated from a
//! copy of `sdk.proto`: they have three bytes fields between them, and keeping them in Rust
//! leaves build.rs and the node's proto tree untouched.

use super::bls::{BlsError, Signature, SIGNATURE_LEN};
use super::codec::{CodecError, UnsignedMessage};
use prost::Message;

/// The p2p SDK handler ID of ACP-118 signature requests: the prefix byte `0x02`
/// (docs/spec/warp.md §3.1).
pub const SIGNATURE_REQUEST_HANDLER_ID: u64 = 2;

/// The longest uvarint: 10 bytes carry 64 bits (Go's `binary.MaxVarintLen64`).
const MAX_UVARINT_LEN: usize = 10;

/// `sdk.SignatureRequest` (docs/spec/warp.md §3.3).
#[derive(Clone, PartialEq, Message)]
pub struct SignatureRequest {
    /// The serialized [`UnsignedMessage`].
    #[prost(bytes = "vec", tag = "1")]
    pub message: Vec<u8>,
    /// Whatever convinces the signer's VM to attest; empty is omitted on the wire.
    #[prost(bytes = "vec", tag = "2")]
    pub justification: Vec<u8>,
}

/// `sdk.SignatureResponse` (docs/spec/warp.md §3.3).
#[derive(Clone, PartialEq, Message)]
pub struct SignatureResponse {
    /// The 96-byte compressed BLS signature.
    #[prost(bytes = "vec", tag = "1")]
    pub signature: Vec<u8>,
}

/// Why an ACP-118 body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Acp118Error {
    /// The handler prefix is empty, cut short or longer than 64 bits.
    #[error("handler prefix is not a uvarint")]
    HandlerPrefix,
    #[error("handler {0} is not the signature-request handler")]
    UnregisteredHandler(u64),
    #[error("protobuf: {0}")]
    Protobuf(String),
    #[error("unsigned message: {0}")]
    Message(#[from] CodecError),
    #[error("signature is {0} bytes, not 96")]
    SignatureLength(usize),
    #[error(transparent)]
    Signature(#[from] BlsError),
}

impl Acp118Error {
    /// The AppError code the p2p SDK answers this failure with (docs/spec/warp.md §3.1, §3.4):
    /// −2 for a prefix that does not route, −1 for any failure past routing.
    pub fn app_error_code(&self) -> AppErrorCode {
        match self {
            Acp118Error::HandlerPrefix | Acp118Error::UnregisteredHandler(_) => {
                AppErrorCode::UnregisteredHandler
            }
            _ => AppErrorCode::Unexpected,
        }
    }
}

/// Prepends `handler_id` as a LEB128 uvarint, as Go's `binary.AppendUvarint` writes it
/// (docs/spec/warp.md §3.1). Only AppRequest and AppGossip bodies carry it.
pub fn prefix_handler_id(handler_id: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAX_UVARINT_LEN + body.len());
    let mut rest = handler_id;
    while rest >= 0x80 {
        out.push((rest as u8) | 0x80);
        rest >>= 7;
    }
    out.push(rest as u8);
    out.extend_from_slice(body);
    out
}

/// Splits an AppRequest or AppGossip body into its handler ID and the handler's bytes, reading
/// the uvarint as Go's `binary.Uvarint` does (docs/spec/warp.md §3.1).
pub fn split_handler_id(body: &[u8]) -> Result<(u64, &[u8]), Acp118Error> {
    let mut value = 0u64;
    for (index, &byte) in body.iter().enumerate().take(MAX_UVARINT_LEN) {
        if byte < 0x80 {
            if index == MAX_UVARINT_LEN - 1 && byte > 1 {
                return Err(Acp118Error::HandlerPrefix);
            }
            return Ok((value | u64::from(byte) << (7 * index), &body[index + 1..]));
        }
        value |= u64::from(byte & 0x7f) << (7 * index);
    }
    Err(Acp118Error::HandlerPrefix)
}

/// The AppRequest body asking a validator to sign `message`: `0x02` ‖ SignatureRequest
/// (docs/spec/warp.md §3.1, §3.3).
pub fn encode_signature_request(message: &UnsignedMessage, justification: &[u8]) -> Vec<u8> {
    let request = SignatureRequest {
        message: message.to_bytes(),
        justification: justification.to_vec(),
    };
    prefix_handler_id(SIGNATURE_REQUEST_HANDLER_ID, &request.encode_to_vec())
}

/// Reads a whole AppRequest body addressed to the signature-request handler: checks the prefix,
/// then decodes as [`decode_signature_request`].
pub fn decode_signature_app_request(
    body: &[u8],
) -> Result<(UnsignedMessage, Vec<u8>), Acp118Error> {
    match split_handler_id(body)? {
        (SIGNATURE_REQUEST_HANDLER_ID, request) => decode_signature_request(request),
        (other, _) => Err(Acp118Error::UnregisteredHandler(other)),
    }
}

/// Reads a SignatureRequest (prefix already removed) into the message to sign and its
/// justification (docs/spec/warp.md §3.4 steps 1–2).
pub fn decode_signature_request(request: &[u8]) -> Result<(UnsignedMessage, Vec<u8>), Acp118Error> {
    let request =
        SignatureRequest::decode(request).map_err(|e| Acp118Error::Protobuf(e.to_string()))?;
    let message = UnsignedMessage::from_bytes(&request.message)?;
    Ok((message, request.justification))
}

/// The AppResponse body carrying a signature; it has no prefix (docs/spec/warp.md §3.1).
pub fn encode_signature_response(signature: &Signature) -> Vec<u8> {
    SignatureResponse {
        signature: signature.to_bytes().to_vec(),
    }
    .encode_to_vec()
}

/// Reads an AppResponse body into a signature that is a valid G2 point. Whether it is the
/// responder's signature of the message is for the caller to check against the responder's key
/// (docs/spec/warp.md §3.7), e.g. with [`crate::warp::SignatureCollector::add`].
pub fn decode_signature_response(response: &[u8]) -> Result<Signature, Acp118Error> {
    let response =
        SignatureResponse::decode(response).map_err(|e| Acp118Error::Protobuf(e.to_string()))?;
    let bytes: &[u8; SIGNATURE_LEN] = response
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| Acp118Error::SignatureLength(response.signature.len()))?;
    Ok(Signature::from_bytes(bytes)?)
}

/// AppError codes (docs/spec/warp.md §3.5). The node reports a timeout with the same −1 the SDK
/// uses for any handler failure, so the two cannot be told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppErrorCode {
    /// 0.
    Undefined,
    /// −1: a handler failure, or (from the node) a timeout or unreachable peer.
    Unexpected,
    /// −2: the prefix did not decode or names no registered handler.
    UnregisteredHandler,
    /// −3: the optional validator-only wrapper refused a non-validator.
    NotValidator,
    /// −4: the SDK throttler refused.
    Throttled,
    /// A positive code defined by the VM's verifier (subnet-evm: 1 parse, 2 verify).
    Vm(i32),
    /// A negative code this table does not name.
    Unknown(i32),
}

impl AppErrorCode {
    /// What the node reports when no answer came in time (docs/spec/warp.md §3.6).
    pub const TIMED_OUT: AppErrorCode = AppErrorCode::Unexpected;

    pub fn from_code(code: i32) -> Self {
        match code {
            0 => AppErrorCode::Undefined,
            -1 => AppErrorCode::Unexpected,
            -2 => AppErrorCode::UnregisteredHandler,
            -3 => AppErrorCode::NotValidator,
            -4 => AppErrorCode::Throttled,
            code if code > 0 => AppErrorCode::Vm(code),
            code => AppErrorCode::Unknown(code),
        }
    }

    /// The sint32 `error_code` sent in AppError and received in AppRequestFailed.
    pub fn code(self) -> i32 {
        match self {
            AppErrorCode::Undefined => 0,
            AppErrorCode::Unexpected => -1,
            AppErrorCode::UnregisteredHandler => -2,
            AppErrorCode::NotValidator => -3,
            AppErrorCode::Throttled => -4,
            AppErrorCode::Vm(code) | AppErrorCode::Unknown(code) => code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warp::test_vectors::*;

    fn vector_message() -> UnsignedMessage {
        UnsignedMessage::from_bytes(&unsigned()).unwrap()
    }

    // docs/spec/warp-vectors.json `acp118_apprequest_hex`; docs/spec/warp.md §5.2.
    #[test]
    fn the_request_body_matches_the_vector_both_ways() {
        let body = encode_signature_request(&vector_message(), &[]);
        assert_eq!(hex::encode(&body), ACP118_APP_REQUEST_HEX);
        assert_eq!(&body[..3], &[0x02, 0x0a, 80]);
        let (message, justification) = decode_signature_app_request(&body).unwrap();
        assert_eq!(message, vector_message());
        assert!(justification.is_empty());
    }

    #[test]
    fn a_justification_travels_in_field_2() {
        let body = encode_signature_request(&vector_message(), b"why");
        assert_eq!(&body[body.len() - 5..], &[0x12, 3, b'w', b'h', b'y']);
        let (_, justification) = decode_signature_app_request(&body).unwrap();
        assert_eq!(justification, b"why");
    }

    // docs/spec/warp-vectors.json `acp118_response_v0_hex`; docs/spec/warp.md §5.3.
    #[test]
    fn the_response_body_matches_the_vector_both_ways() {
        let signature = Signature::from_bytes(&array(VALIDATORS[0].sig_hex)).unwrap();
        let body = encode_signature_response(&signature);
        assert_eq!(hex::encode(&body), ACP118_RESPONSE_V0_HEX);
        assert_eq!(decode_signature_response(&body).unwrap(), signature);
    }

    // docs/spec/warp.md §3.1: LEB128 as Go reads it, including its overflow rules.
    #[test]
    fn handler_prefixes_read_as_go_reads_uvarints() {
        assert_eq!(prefix_handler_id(2, b"x"), vec![0x02, b'x']);
        assert_eq!(prefix_handler_id(300, &[]), vec![0xac, 0x02]);
        for id in [0, 1, 2, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let framed = prefix_handler_id(id, b"rest");
            assert_eq!(split_handler_id(&framed).unwrap(), (id, &b"rest"[..]));
        }
        assert_eq!(prefix_handler_id(u64::MAX, &[]).len(), 10);
        // Go accepts a non-minimal encoding.
        assert_eq!(split_handler_id(&[0x82, 0x00]).unwrap(), (2, &[][..]));
        for bad in [&[][..], &[0x80], &[0xff; 10], &[0xff; 11]] {
            assert_eq!(split_handler_id(bad), Err(Acp118Error::HandlerPrefix));
        }
        let mut too_big = vec![0xff; 9];
        too_big.push(0x02);
        assert_eq!(split_handler_id(&too_big), Err(Acp118Error::HandlerPrefix));
    }

    // docs/spec/warp.md §3.1, §3.4: routing failures are −2, decoding failures −1.
    #[test]
    fn malformed_requests_map_to_the_sdk_error_codes() {
        let other_handler = prefix_handler_id(0, &[]);
        let err = decode_signature_app_request(&other_handler).unwrap_err();
        assert_eq!(err, Acp118Error::UnregisteredHandler(0));
        assert_eq!(err.app_error_code().code(), -2);
        let err = decode_signature_app_request(&[]).unwrap_err();
        assert_eq!(err.app_error_code(), AppErrorCode::UnregisteredHandler);

        let err = decode_signature_app_request(&[0x02, 0x0a, 0x05, 0x00]).unwrap_err();
        assert!(matches!(err, Acp118Error::Protobuf(_)), "{err:?}");
        assert_eq!(err.app_error_code().code(), -1);

        let not_a_message = prefix_handler_id(
            2,
            &SignatureRequest {
                message: vec![0, 0, 0],
                justification: Vec::new(),
            }
            .encode_to_vec(),
        );
        let err = decode_signature_app_request(&not_a_message).unwrap_err();
        assert!(matches!(
            err,
            Acp118Error::Message(CodecError::Truncated { .. })
        ));
        assert_eq!(err.app_error_code(), AppErrorCode::Unexpected);
    }

    #[test]
    fn malformed_responses_are_typed_errors() {
        let short = SignatureResponse {
            signature: vec![0x80; 95],
        }
        .encode_to_vec();
        assert_eq!(
            decode_signature_response(&short),
            Err(Acp118Error::SignatureLength(95))
        );
        assert_eq!(
            decode_signature_response(&[]),
            Err(Acp118Error::SignatureLength(0))
        );
        let mut unflagged = bytes(ACP118_RESPONSE_V0_HEX);
        unflagged[2] &= 0x7f;
        assert_eq!(
            decode_signature_response(&unflagged),
            Err(Acp118Error::Signature(BlsError::BadEncoding("signature")))
        );
        assert!(matches!(
            decode_signature_response(&[0x0a, 0x60, 0x01]),
            Err(Acp118Error::Protobuf(_))
        ));
    }

    // docs/spec/warp.md §3.5.
    #[test]
    fn app_error_codes_round_trip() {
        let named = [
            (0, AppErrorCode::Undefined),
            (-1, AppErrorCode::Unexpected),
            (-2, AppErrorCode::UnregisteredHandler),
            (-3, AppErrorCode::NotValidator),
            (-4, AppErrorCode::Throttled),
            (1, AppErrorCode::Vm(1)),
            (2, AppErrorCode::Vm(2)),
            (-5, AppErrorCode::Unknown(-5)),
            (i32::MIN, AppErrorCode::Unknown(i32::MIN)),
        ];
        for (code, meaning) in named {
            assert_eq!(AppErrorCode::from_code(code), meaning);
            assert_eq!(meaning.code(), code);
        }
        assert_eq!(AppErrorCode::TIMED_OUT.code(), -1);
    }
}
