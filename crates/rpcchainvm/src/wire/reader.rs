//! `io.reader.ReadResponse`: the node's answer when `Handle` reads a streamed request body.
//! Field 2 is `optional string error` at 40-41 and message `Error{error_code, message}` from 42
//! (profiles.md 3.11); both are length-delimited, so it is kept raw and read per layout.

use super::WireError;
use crate::pb::io::reader::{Error as CodedError, ErrorCode};
use crate::protocol::ReadErrorLayout;
use prost::Message;

#[derive(Clone, PartialEq, Message)]
pub struct ReadResponse {
    /// Bytes read; may come together with EOF.
    #[prost(bytes = "vec", tag = "1")]
    pub read: Vec<u8>,
    /// Field 2 undecoded; absent means "no error".
    #[prost(bytes = "vec", optional, tag = "2")]
    pub error: Option<Vec<u8>>,
}

/// What one `Read` answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOutcome {
    More,
    Eof,
    Failed(String),
}

/// Go's `io.EOF` text, which is how 40-41 say "end of body".
const EOF_TEXT: &str = "EOF";

impl ReadResponse {
    /// `read` with no error.
    pub fn data(read: Vec<u8>) -> ReadResponse {
        ReadResponse { read, error: None }
    }

    /// `read` and then the end of the body, said the way `layout` says it.
    pub fn eof(layout: ReadErrorLayout, read: Vec<u8>) -> ReadResponse {
        let error = match layout {
            ReadErrorLayout::Text => EOF_TEXT.as_bytes().to_vec(),
            ReadErrorLayout::Coded => CodedError {
                error_code: ErrorCode::Eof as i32,
                message: EOF_TEXT.into(),
            }
            .encode_to_vec(),
        };
        ReadResponse {
            read,
            error: Some(error),
        }
    }

    /// A read error with `text`, in `layout`.
    pub fn failed(layout: ReadErrorLayout, text: &str) -> ReadResponse {
        let error = match layout {
            ReadErrorLayout::Text => text.as_bytes().to_vec(),
            ReadErrorLayout::Coded => CodedError {
                error_code: ErrorCode::Unspecified as i32,
                message: text.into(),
            }
            .encode_to_vec(),
        };
        ReadResponse {
            read: Vec::new(),
            error: Some(error),
        }
    }

    /// Reads field 2 in `layout`. From 42 a bare `EOF` text without the code is also taken as
    /// the end, since Go's message for `io.EOF` is exactly that.
    pub fn outcome(&self, layout: ReadErrorLayout) -> Result<ReadOutcome, WireError> {
        let Some(raw) = &self.error else {
            return Ok(ReadOutcome::More);
        };
        let (is_eof, text) = match layout {
            ReadErrorLayout::Text => {
                let text = String::from_utf8(raw.clone())
                    .map_err(|_| WireError::field("ReadResponse", 2, "error text is not UTF-8"))?;
                (text == EOF_TEXT, text)
            }
            ReadErrorLayout::Coded => {
                let coded = CodedError::decode(raw.as_slice())
                    .map_err(|e| WireError::field("ReadResponse", 2, e.to_string()))?;
                let eof = coded.error_code == ErrorCode::Eof as i32
                    || (coded.error_code == ErrorCode::Unspecified as i32
                        && coded.message == EOF_TEXT);
                (eof, coded.message)
            }
        };
        Ok(match is_eof {
            true => ReadOutcome::Eof,
            false => ReadOutcome::Failed(text),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    // vectors.md section 4: `io.reader.ReadResponse` (40-41) and (42-45).
    #[test]
    fn eof_in_each_layout() {
        let text = ReadResponse::eof(ReadErrorLayout::Text, Vec::new());
        let coded = ReadResponse::eof(ReadErrorLayout::Coded, Vec::new());
        assert_eq!(hex(&text.encode_to_vec()), "1203454f46");
        assert_eq!(hex(&coded.encode_to_vec()), "120708011203454f46");
        assert_eq!(text.outcome(ReadErrorLayout::Text), Ok(ReadOutcome::Eof));
        assert_eq!(coded.outcome(ReadErrorLayout::Coded), Ok(ReadOutcome::Eof));
        // Read with the other layout, neither is an end of body.
        assert_ne!(coded.outcome(ReadErrorLayout::Text), Ok(ReadOutcome::Eof));
        assert_ne!(text.outcome(ReadErrorLayout::Coded), Ok(ReadOutcome::Eof));
    }

    #[test]
    fn data_and_failures() {
        let more = ReadResponse::data(b"ab".to_vec());
        assert_eq!(more.outcome(ReadErrorLayout::Coded), Ok(ReadOutcome::More));
        for layout in [ReadErrorLayout::Text, ReadErrorLayout::Coded] {
            let failed = ReadResponse::failed(layout, "unexpected EOF");
            assert_eq!(
                failed.outcome(layout),
                Ok(ReadOutcome::Failed("unexpected EOF".into()))
            );
        }
    }
}
