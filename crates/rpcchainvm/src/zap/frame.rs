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
    /// Where the next frame starts in `buf`: frames are handed out by moving this mark, and the
    /// consumed prefix is dropped only when new bytes arrive, so many small frames read from one
    /// large buffer cost one copy, not one per frame.
    start: usize,
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
            start: 0,
            max_len,
        }
    }

    /// Bytes just read from the stream.
    pub fn extend(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, `Ok(None)` until one is complete. After an error the stream is
    /// unusable (see [`FrameError`]); the decoder keeps returning the same error.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        match decode_frame(&self.buf[self.start..], self.max_len)? {
            Some((frame, used)) => {
                self.start += used;
                Ok(Some(frame))
            }
            None => Ok(None),
        }
    }

    /// Bytes held that do not yet make a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The stream has ended: an error if it ended inside a frame.
    pub fn finish(&self) -> Result<(), FrameError> {
        let rest = &self.buf[self.start..];
        if rest.is_empty() {
            Ok(())
        } else {
            Err(FrameError::Truncated {
                have: rest.len(),
                need: bytes_needed(rest),
            })
        }
    }
}
