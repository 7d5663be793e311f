//! ZAP framing (docs/spec/luxd-zap.md §2.3): `len:u32 BE | type:u8 | request_id:u32 BE | body`,
//! where `len` counts the request id and the body but not the 5 header bytes.
//!
//! The type byte carries the opcode in bits 0–5, the response flag `0x80` and the error flag
//! `0x40`. A success answers with `opcode | 0x80`, an error with `opcode | 0xC0` and a body of raw
//! UTF-8 text (no length prefix). `0x40` without `0x80` means nothing and is refused.
//!
//! [`FrameDecoder`] takes bytes as they arrive (TCP splits and coalesces frames) and hands out
//! whole frames; it checks the length before waiting for the payload, so an over-limit length is
//! refused as soon as its 4 bytes are in, and it never panics on any input.

/// The largest `len` a frame may declare: 16 MiB (docs/spec/luxd-zap.md §2.3). Larger is a fatal
/// stream error: luxd's reader fails without consuming the payload and closes the connection.
pub const MAX_PAYLOAD_LEN: u32 = 16 * 1024 * 1024;

/// `len` and `type`: the bytes before the payload.
pub const HEADER_LEN: usize = 5;

/// The request id every payload starts with; a `len` below this is meaningless (luxd ignores such
/// frames, docs/spec/luxd-zap.md §2.3).
pub const REQUEST_ID_LEN: u32 = 4;

/// Bit 7 of the type byte: the frame answers a request.
pub const RESPONSE_FLAG: u8 = 0x80;
/// Bit 6 of the type byte: the answer is an error (only together with [`RESPONSE_FLAG`]).
pub const ERROR_FLAG: u8 = 0x40;
/// Bits 0–5 of the type byte; every defined opcode is below `0x40`.
pub const OPCODE_MASK: u8 = 0x3F;

/// What a frame is, from its type byte's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// `opcode`: luxd → plugin.
    Request,
    /// `opcode | 0x80`: the answer, body per the opcode's success layout.
    Success,
    /// `opcode | 0xC0`: the answer is an error; the body is its raw UTF-8 text.
    Error,
}

impl FrameKind {
    fn flags(self) -> u8 {
        match self {
            FrameKind::Request => 0,
            FrameKind::Success => RESPONSE_FLAG,
            FrameKind::Error => RESPONSE_FLAG | ERROR_FLAG,
        }
    }
}

/// Why bytes are not a frame, or a frame cannot be written. Every decoding error except
/// [`FrameError::Truncated`] leaves the stream unusable: the reader cannot know where the next
/// frame starts (or, for a short `len`, whom to answer), so the connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame declares a zero-length payload (no request id)")]
    ZeroLength,
    #[error("frame payload of {len} bytes cannot hold the 4-byte request id")]
    NoRequestId { len: u32 },
    #[error("frame payload of {len} bytes exceeds the {max}-byte limit")]
    OverLimit { len: u64, max: u32 },
    #[error("type byte {0:#04x} sets the error flag without the response flag")]
    UnknownType(u8),
    #[error("opcode {0:#04x} does not fit the 6 opcode bits")]
    OpcodeOutOfRange(u8),
    #[error("stream ended inside a frame: {have} of {need} bytes")]
    Truncated { have: usize, need: usize },
    #[error("{count} bytes follow the frame")]
    TrailingBytes { count: usize },
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: FrameKind,
    /// The opcode bits (0–63), kept raw: an opcode this build does not know still has to be
    /// answered with its own number (docs/spec/luxd-zap.md §2.7).
    pub opcode: u8,
    pub request_id: u32,
    pub body: Vec<u8>,
}

/// Splits a type byte into what it says, refusing `0x40..=0x7F` (error without response).
pub fn split_type_byte(type_byte: u8) -> Result<(FrameKind, u8), FrameError> {
    let opcode = type_byte & OPCODE_MASK;
    let kind = match type_byte & !OPCODE_MASK {
        0 => FrameKind::Request,
        RESPONSE_FLAG => FrameKind::Success,
        flags if flags == RESPONSE_FLAG | ERROR_FLAG => FrameKind::Error,
        _ => return Err(FrameError::UnknownType(type_byte)),
    };
    Ok((kind, opcode))
}

impl Frame {
    /// A request luxd sends.
    pub fn request(opcode: u8, request_id: u32, body: Vec<u8>) -> Frame {
        Frame {
            kind: FrameKind::Request,
            opcode,
            request_id,
            body,
        }
    }

    /// A success answer to request `request_id` of `opcode`.
    pub fn success(opcode: u8, request_id: u32, body: Vec<u8>) -> Frame {
        Frame {
            kind: FrameKind::Success,
            opcode,
            request_id,
            body,
        }
    }

    /// An error answer: the text goes raw, without a length prefix (docs/spec/luxd-zap.md §2.3;
    /// the API's comment says "length-prefixed" and api v1.0.1 wrote one, the current code does
    /// not ⚠). luxd shows it as `remote error: <text>`.
    pub fn error(opcode: u8, request_id: u32, text: &str) -> Frame {
        Frame {
            kind: FrameKind::Error,
            opcode,
            request_id,
            body: text.as_bytes().to_vec(),
        }
    }

    /// The type byte this frame goes out with.
    pub fn type_byte(&self) -> Result<u8, FrameError> {
        if self.opcode > OPCODE_MASK {
            return Err(FrameError::OpcodeOutOfRange(self.opcode));
        }
        Ok(self.opcode | self.kind.flags())
    }

    /// The text of an error frame (lossy: Go error strings may hold any bytes); `None` otherwise.
    pub fn error_text(&self) -> Option<String> {
        (self.kind == FrameKind::Error).then(|| String::from_utf8_lossy(&self.body).into_owned())
    }

    /// Appends the frame's bytes to `out`; refuses an opcode past 6 bits or a payload over
    /// [`MAX_PAYLOAD_LEN`] (which luxd would refuse and drop the connection for).
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), FrameError> {
        let type_byte = self.type_byte()?;
        let len = self.body.len() as u64 + u64::from(REQUEST_ID_LEN);
        if len > u64::from(MAX_PAYLOAD_LEN) {
            return Err(FrameError::OverLimit {
                len,
                max: MAX_PAYLOAD_LEN,
            });
        }
        out.reserve(HEADER_LEN + len as usize);
        out.extend_from_slice(&(len as u32).to_be_bytes());
        out.push(type_byte);
        out.extend_from_slice(&self.request_id.to_be_bytes());
        out.extend_from_slice(&self.body);
        Ok(())
    }

    /// The frame's bytes.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Exactly one frame: no byte missing, none left over.
    pub fn decode(bytes: &[u8]) -> Result<Frame, FrameError> {
        match decode_frame(bytes, MAX_PAYLOAD_LEN)? {
            Some((frame, used)) if used == bytes.len() => Ok(frame),
            Some((_, used)) => Err(FrameError::TrailingBytes {
                count: bytes.len() - used,
            }),
            None => Err(FrameError::Truncated {
                have: bytes.len(),
                need: bytes_needed(bytes),
            }),
        }
    }
}

/// How many bytes the frame starting at `buf` needs in all, as far as `buf` tells.
fn bytes_needed(buf: &[u8]) -> usize {
    match buf.get(..4) {
        Some(len) => HEADER_LEN + u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize,
        None => HEADER_LEN,
    }
}

/// Decodes the frame at the start of `buf`: `Ok(None)` while bytes are missing, otherwise the
/// frame and how many bytes it used. Header errors come as soon as the header is in, before any
/// payload is awaited.
pub fn decode_frame(buf: &[u8], max_len: u32) -> Result<Option<(Frame, usize)>, FrameError> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    if len == 0 {
        return Err(FrameError::ZeroLength);
    }
    if len < REQUEST_ID_LEN {
        return Err(FrameError::NoRequestId { len });
    }
    if len > max_len {
        return Err(FrameError::OverLimit {
            len: u64::from(len),
            max: max_len,
        });
    }
    let (kind, opcode) = split_type_byte(header[4])?;
    let total = HEADER_LEN + len as usize;
    let Some(payload) = buf.get(HEADER_LEN..total) else {
        return Ok(None);
    };
    let request_id = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
    let frame = Frame {
        kind,
        opcode,
        request_id,
        body: payload[4..].to_vec(),
    };
    Ok(Some((frame, total)))
}

/// Collects bytes as they arrive and hands out whole frames in order.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    max_len: u32,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new()
    }
}

impl FrameDecoder {
    /// A decoder with luxd's limit, [`MAX_PAYLOAD_LEN`].
    pub fn new() -> FrameDecoder {
        FrameDecoder::with_limit(MAX_PAYLOAD_LEN)
    }

    /// A decoder refusing payloads over `max_len` bytes (a smaller limit for a side that expects
    /// only small frames).
    pub fn with_limit(max_len: u32) -> FrameDecoder {
        FrameDecoder {
            buf: Vec::new(),
            max_len,
        }
    }

    /// Bytes just read from the stream.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, `Ok(None)` until one is complete. After an error the stream is
    /// unusable (see [`FrameError`]); the decoder keeps returning the same error.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        match decode_frame(&self.buf, self.max_len)? {
            Some((frame, used)) => {
                self.buf.drain(..used);
                Ok(Some(frame))
            }
            None => Ok(None),
        }
    }

    /// Bytes held that do not yet make a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The stream has ended: an error if it ended inside a frame.
    pub fn finish(&self) -> Result<(), FrameError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(FrameError::Truncated {
                have: self.buf.len(),
                need: bytes_needed(&self.buf),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_bytes_split_into_kind_and_opcode() {
        assert_eq!(split_type_byte(0x0e), Ok((FrameKind::Request, 0x0e)));
        assert_eq!(split_type_byte(0x8e), Ok((FrameKind::Success, 0x0e)));
        assert_eq!(split_type_byte(0xc9), Ok((FrameKind::Error, 0x09)));
        for byte in 0x40..=0x7f {
            assert_eq!(split_type_byte(byte), Err(FrameError::UnknownType(byte)));
        }
    }

    #[test]
    fn zero_length_is_refused() {
        let bytes = [0, 0, 0, 0, 0x0e];
        assert_eq!(
            decode_frame(&bytes, MAX_PAYLOAD_LEN),
            Err(FrameError::ZeroLength)
        );
    }

    #[test]
    fn a_length_without_room_for_the_request_id_is_refused() {
        let bytes = [0, 0, 0, 3, 0x0e, 0, 0, 1];
        assert_eq!(
            decode_frame(&bytes, MAX_PAYLOAD_LEN),
            Err(FrameError::NoRequestId { len: 3 })
        );
    }

    #[test]
    fn the_limit_is_inclusive_and_checked_before_the_payload_arrives() {
        let at_limit = MAX_PAYLOAD_LEN.to_be_bytes();
        let header = [at_limit[0], at_limit[1], at_limit[2], at_limit[3], 0x0a];
        assert_eq!(decode_frame(&header, MAX_PAYLOAD_LEN), Ok(None));
        let over = (MAX_PAYLOAD_LEN + 1).to_be_bytes();
        let header = [over[0], over[1], over[2], over[3], 0x0a];
        assert_eq!(
            decode_frame(&header, MAX_PAYLOAD_LEN),
            Err(FrameError::OverLimit {
                len: u64::from(MAX_PAYLOAD_LEN) + 1,
                max: MAX_PAYLOAD_LEN
            })
        );
        let mut decoder = FrameDecoder::with_limit(8);
        decoder.extend(&[0, 0, 0, 9, 0x0a]);
        assert!(matches!(
            decoder.next_frame(),
            Err(FrameError::OverLimit { len: 9, max: 8 })
        ));
    }

    #[test]
    fn error_flag_without_response_flag_is_an_unknown_type() {
        let bytes = [0, 0, 0, 4, 0x49, 0, 0, 0, 1];
        assert_eq!(Frame::decode(&bytes), Err(FrameError::UnknownType(0x49)));
    }

    #[test]
    fn truncated_frames_wait_then_fail_at_end_of_stream() {
        let bytes = Frame::request(0x0a, 7, vec![1, 2, 3]).encode().unwrap();
        for cut in 0..bytes.len() {
            assert_eq!(decode_frame(&bytes[..cut], MAX_PAYLOAD_LEN), Ok(None));
            let mut decoder = FrameDecoder::new();
            decoder.extend(&bytes[..cut]);
            assert_eq!(decoder.next_frame(), Ok(None));
            if cut > 0 {
                assert!(matches!(
                    decoder.finish(),
                    Err(FrameError::Truncated { have, .. }) if have == cut
                ));
            }
            assert!(matches!(
                Frame::decode(&bytes[..cut]),
                Err(FrameError::Truncated { .. })
            ));
        }
        assert_eq!(
            Frame::decode(&bytes[..bytes.len() - 1]),
            Err(FrameError::Truncated {
                have: bytes.len() - 1,
                need: bytes.len()
            })
        );
    }

    #[test]
    fn frames_split_byte_by_byte_or_coalesced_come_out_whole_and_in_order() {
        let frames = [
            Frame::request(6, 3, vec![]),
            Frame::success(9, 1, vec![0xaa; 300]),
            Frame::error(9, 2, "no pending data"),
        ];
        let mut stream = Vec::new();
        for frame in &frames {
            frame.encode_into(&mut stream).unwrap();
        }
        let mut byte_by_byte = FrameDecoder::new();
        let mut got = Vec::new();
        for byte in &stream {
            byte_by_byte.extend(std::slice::from_ref(byte));
            while let Some(frame) = byte_by_byte.next_frame().unwrap() {
                got.push(frame);
            }
        }
        assert_eq!(got, frames);
        byte_by_byte.finish().unwrap();

        let mut coalesced = FrameDecoder::new();
        coalesced.extend(&stream);
        let mut got = Vec::new();
        while let Some(frame) = coalesced.next_frame().unwrap() {
            got.push(frame);
        }
        assert_eq!(got, frames);
        assert_eq!(coalesced.buffered(), 0);
    }

    #[test]
    fn error_frames_carry_raw_text() {
        let frame = Frame::error(9, 9, "no pending data");
        let bytes = frame.encode().unwrap();
        assert_eq!(&bytes[5..9], &[0, 0, 0, 9]);
        assert_eq!(&bytes[9..], b"no pending data");
        assert_eq!(frame.error_text().as_deref(), Some("no pending data"));
        assert_eq!(Frame::success(9, 9, vec![]).error_text(), None);
    }

    #[test]
    fn encoding_refuses_what_luxd_would_refuse() {
        assert_eq!(
            Frame::request(0x40, 1, vec![]).encode(),
            Err(FrameError::OpcodeOutOfRange(0x40))
        );
        let too_big = Frame::success(9, 1, vec![0; MAX_PAYLOAD_LEN as usize - 3]);
        assert!(matches!(
            too_big.encode(),
            Err(FrameError::OverLimit { .. })
        ));
        let at_limit = Frame::success(9, 1, vec![0; MAX_PAYLOAD_LEN as usize - 4]);
        assert_eq!(
            at_limit.encode().unwrap().len(),
            HEADER_LEN + MAX_PAYLOAD_LEN as usize
        );
    }

    #[test]
    fn trailing_bytes_after_one_frame_are_reported_by_exact_decode() {
        let mut bytes = Frame::request(3, 1, vec![]).encode().unwrap();
        bytes.push(0);
        assert_eq!(
            Frame::decode(&bytes),
            Err(FrameError::TrailingBytes { count: 1 })
        );
    }

    /// Any bytes at all: a frame, `None`, or an error, never a panic (a cheap deterministic
    /// sweep of short inputs and of pseudo-random longer ones).
    #[test]
    fn arbitrary_input_never_panics() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for round in 0..20_000usize {
            let len = round % 40;
            let mut input = Vec::with_capacity(len);
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Small lengths are likelier to complete, so keep the first bytes mostly zero.
                input.push(if input.len() < 3 {
                    (state % 3) as u8
                } else {
                    state as u8
                });
            }
            let mut decoder = FrameDecoder::new();
            decoder.extend(&input);
            while let Ok(Some(_)) = decoder.next_frame() {}
            let _ = decoder.finish();
            let _ = Frame::decode(&input);
        }
    }
}
