//! From frames to typed messages and back: checks that a frame is the kind the reader expects (a
//! plugin reads requests, a host reads answers to the opcode it asked), then decodes the body.

use super::body::BodyError;
use super::codes::Opcode;
use super::frame::{Frame, FrameKind};
use super::request::Request;
use super::response::Response;

/// Why a well-framed message cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// luxd never sends the plugin answers on the VM connection (docs/spec/luxd-zap.md §2.4).
    #[error("request {request_id}: a {kind:?} frame where a request was expected")]
    NotARequest { request_id: u32, kind: FrameKind },
    #[error("request {request_id}: a request frame where an answer was expected")]
    NotAResponse { request_id: u32 },
    /// An answer must echo its request's opcode (docs/spec/luxd-zap.md §2.3).
    #[error("request {request_id}: answer for opcode {found}, expected {expected:?}")]
    OpcodeMismatch {
        request_id: u32,
        expected: Opcode,
        found: u8,
    },
    /// Still answerable: the Go plugin sends an empty success, luxd's reference server an error
    /// (docs/spec/luxd-zap.md §2.7).
    #[error("request {request_id}: opcode {opcode} is not defined on the VM connection")]
    UnknownOpcode { request_id: u32, opcode: u8 },
    #[error("request {request_id} ({opcode:?}): {source}")]
    Body {
        request_id: u32,
        opcode: Opcode,
        source: BodyError,
    },
}

impl Request {
    /// The frame luxd sends for this request.
    pub fn to_frame(&self, request_id: u32) -> Frame {
        Frame::request(self.opcode().as_u8(), request_id, self.encode_body())
    }

    /// The request a frame carries; the plugin's side of the connection.
    pub fn from_frame(frame: &Frame) -> Result<Request, MessageError> {
        let request_id = frame.request_id;
        if frame.kind != FrameKind::Request {
            return Err(MessageError::NotARequest {
                request_id,
                kind: frame.kind,
            });
        }
        let opcode = Opcode::from_u8(frame.opcode).ok_or(MessageError::UnknownOpcode {
            request_id,
            opcode: frame.opcode,
        })?;
        Request::decode(opcode, &frame.body).map_err(|source| MessageError::Body {
            request_id,
            opcode,
            source,
        })
    }
}

impl Response {
    /// The success frame answering request `request_id` of `opcode`.
    pub fn to_frame(&self, opcode: Opcode, request_id: u32) -> Frame {
        Frame::success(opcode.as_u8(), request_id, self.encode_body())
    }

    /// The answer a frame carries to a request of `expected`: `Ok(Err(text))` for an error
    /// frame. The host's side of the connection.
    pub fn from_frame(
        expected: Opcode,
        frame: &Frame,
    ) -> Result<Result<Response, String>, MessageError> {
        let request_id = frame.request_id;
        if frame.kind == FrameKind::Request {
            return Err(MessageError::NotAResponse { request_id });
        }
        if frame.opcode != expected.as_u8() {
            return Err(MessageError::OpcodeMismatch {
                request_id,
                expected,
                found: frame.opcode,
            });
        }
        if let Some(text) = frame.error_text() {
            return Ok(Err(text));
        }
        Response::decode(expected, &frame.body)
            .map(Ok)
            .map_err(|source| MessageError::Body {
                request_id,
                opcode: expected,
                source,
            })
    }
}
