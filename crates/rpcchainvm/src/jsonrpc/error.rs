//! The envelope's own errors, and what any error must tell the envelope to become a reply's
//! error object ([`ReplyError`]). Where Go has the error, the text is gorilla's or AvalancheGo's,
//! word for word, because clients match on them (docs/spec/vectors.md §3.3).

use super::go_text::go_quote;
use super::{
    BATCH_REPLY_FULL, INVALID_REQUEST, MAX_BATCH_ENTRIES, MAX_BATCH_REPLY_BYTES, PARSE_ERROR,
    SERVER_ERROR,
};
use std::borrow::Cow;
use std::fmt;

/// An error a reply can carry: its text is the `message`, the rest is asked here. A service
/// implements it for its own error type, or returns [`ErrorObject`]s.
pub trait ReplyError: fmt::Display {
    /// The `code`: gorilla sends [`SERVER_ERROR`] for everything past the envelope, so that is
    /// what Go clients expect unless a method documents codes of its own.
    fn code(&self) -> i64 {
        SERVER_ERROR
    }

    /// The `data` member as JSON text; `None` is sent as `null`, as Go sends it.
    fn data(&self) -> Option<Cow<'_, str>> {
        None
    }

    /// Whether the reply is owed even to a request without `id`. Errors about the body itself
    /// are: the sender may not have meant a notification, and we cannot tell. Everything else
    /// follows the notification rule (no `id`, no reply).
    fn owed_without_id(&self) -> bool {
        false
    }
}

/// The envelope's errors: the body, the batch, the method name, and the arguments as gorilla
/// reads them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The body is not JSON, or an element is not an object. Holds the decoder's text.
    #[error("{0}")]
    Parse(String),
    /// `jsonrpc` is missing or not `"2.0"`; `request` is the request object as Go echoes it.
    #[error("jsonrpc must be 2.0")]
    InvalidVersion { request: String },
    #[error("invalid request: empty batch")]
    EmptyBatch,
    #[error("invalid request: batch of {found} entries, over the limit of {MAX_BATCH_ENTRIES}")]
    BatchTooLarge { found: usize },
    /// Not run: the batch's replies already reached [`MAX_BATCH_REPLY_BYTES`].
    #[error("not run: the batch's replies reached the limit of {MAX_BATCH_REPLY_BYTES} bytes; send this request again")]
    BatchReplyFull,
    #[error("method must start with a non-uppercase letter")]
    UppercaseMethod,
    /// The name (after upper-casing) is not `service.Method`.
    #[error("rpc: service/method request ill-formed: {}", go_quote(.0))]
    IllFormed(String),
    #[error("rpc: can't find service {}", go_quote(.0))]
    UnknownService(String),
    #[error("rpc: can't find method {}", go_quote(.0))]
    UnknownMethod(String),
    /// AvalancheGo's words for arguments that do not fit the method's.
    #[error("couldn't unmarshal an argument. Ensure arguments are valid and properly formatted. See documentation for example calls")]
    BadParams,
    /// A result that could not be written as JSON ([`super::to_raw`]); our types make it
    /// impossible in practice.
    #[error("internal error: encoding a reply: {0}")]
    Unencodable(String),
}

impl ReplyError for EnvelopeError {
    /// gorilla's codes: parse and request errors have their own, the rest are
    /// [`SERVER_ERROR`]; a batch entry left unrun is [`BATCH_REPLY_FULL`].
    fn code(&self) -> i64 {
        match self {
            EnvelopeError::Parse(_) => PARSE_ERROR,
            EnvelopeError::InvalidVersion { .. }
            | EnvelopeError::EmptyBatch
            | EnvelopeError::BatchTooLarge { .. } => INVALID_REQUEST,
            EnvelopeError::BatchReplyFull => BATCH_REPLY_FULL,
            _ => SERVER_ERROR,
        }
    }

    fn data(&self) -> Option<Cow<'_, str>> {
        match self {
            EnvelopeError::InvalidVersion { request } => Some(Cow::Borrowed(request)),
            // Go answers with the request struct as far as it decoded; we report none of it
            // decoded, which is Go's answer for a body that is not JSON at all.
            EnvelopeError::Parse(_) => Some(Cow::Borrowed(UNDECODED_REQUEST)),
            _ => None,
        }
    }

    fn owed_without_id(&self) -> bool {
        matches!(
            self,
            EnvelopeError::Parse(_)
                | EnvelopeError::EmptyBatch
                | EnvelopeError::BatchTooLarge { .. }
        )
    }
}

/// Go's `json2` request struct with nothing decoded into it (vectors.md §3.3, parse errors).
const UNDECODED_REQUEST: &str = r#"{"jsonrpc":"","method":"","params":null,"id":null}"#;

/// An error object spelled out: for services whose errors are free text (AvalancheGo's node
/// APIs, Go methods that return `errors.New`), and the common type a service's methods can
/// return when they mix their own errors with the envelope's (`?` converts the latter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorObject {
    pub code: i64,
    pub message: String,
    /// JSON text; `None` (or text that is not JSON) is sent as `null`.
    pub data: Option<String>,
    owed_without_id: bool,
}

impl ErrorObject {
    /// A method's error as gorilla sends it: [`SERVER_ERROR`], the text, `data` null.
    pub fn server(message: impl Into<String>) -> ErrorObject {
        ErrorObject {
            code: SERVER_ERROR,
            message: message.into(),
            data: None,
            owed_without_id: false,
        }
    }
}

impl From<EnvelopeError> for ErrorObject {
    fn from(error: EnvelopeError) -> ErrorObject {
        ErrorObject {
            code: error.code(),
            message: error.to_string(),
            data: error.data().map(Cow::into_owned),
            owed_without_id: error.owed_without_id(),
        }
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl ReplyError for ErrorObject {
    fn code(&self) -> i64 {
        self.code
    }

    fn data(&self) -> Option<Cow<'_, str>> {
        self.data.as_deref().map(Cow::Borrowed)
    }

    fn owed_without_id(&self) -> bool {
        self.owed_without_id
    }
}
