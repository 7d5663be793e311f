//! timestampvm's JSON-RPC errors, with the codes and words its clients act on. The envelope
//! (bodies, batches, method names, error objects, Go's escaping) is the SDK's
//! [`rpcchainvm::jsonrpc`], as the Go reference's is gorilla/rpc `json2` behind AvalancheGo's
//! method-name codec (docs/spec/vectors.md §3.3); its errors arrive here as
//! [`RpcError::Envelope`].

use crate::api::backend::BackendError;
use crate::api::data::DataError;
use rpcchainvm::jsonrpc::{EnvelopeError, ReplyError, SERVER_ERROR};
use std::borrow::Cow;

/// `getProof`: the payload is pending; ask again later. Ours, like [`UNKNOWN_PAYLOAD`], from
/// the range JSON-RPC leaves to servers (-32000 to -32099): the methods that use them are not
/// Go's, so no client expects -32000 there, and a client can tell "wait" from "give up" by code.
pub const NOT_YET_ACCEPTED: i64 = -32001;
/// `getProof`: this node has never taken the payload (or refused it).
pub const UNKNOWN_PAYLOAD: i64 = -32002;

/// The Go reference's answer to a payload it cannot read (vectors.md §3.3).
pub const BAD_DATA: &str = "data must be hex representation of 32 bytes";

/// Every JSON-RPC error the `timestampvm` methods send. Where Go has the error, the text is the
/// Go reference's, word for word, because clients match on them (docs/spec/vectors.md §3.3); the
/// errors of methods Go does not have are ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// The body, the method name or the arguments, in gorilla's and AvalancheGo's words.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("couldn't get block from database. Does it exist?")]
    UnknownBlock,
    /// A block ID longer than any CB58 ID, refused before decoding (base58 decoding is quadratic
    /// in the length). Ours: Go says [`EnvelopeError::BadParams`] for every malformed ID, after
    /// decoding it, which took seconds for a 100,000-character one.
    #[error("id is {found} bytes long, longer than any CB58 block ID ({max} characters)")]
    IdTooLong { found: usize, max: usize },
    /// Go's text word for word (clients match it); why, for people, goes in the error's `data`.
    #[error("{BAD_DATA}")]
    BadData(DataError),
    #[error("no accepted block at height {0}")]
    NoBlockAtHeight(u64),
    /// `proposeBatch` with no payloads or more than it takes in one request.
    #[error("data must hold 1 to {max} payloads, found {found}")]
    BatchSize { found: usize, max: usize },
    /// Holds the payload as the reply prints payloads.
    #[error("payload {0} is not yet accepted (pending in the mempool or a block being decided)")]
    NotYetAccepted(String),
    #[error("payload {0} is unknown to this node")]
    UnknownPayload(String),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

impl RpcError {
    /// [`EnvelopeError::BadParams`], the answer to every argument Go would fail to unmarshal.
    pub const BAD_PARAMS: RpcError = RpcError::Envelope(EnvelopeError::BadParams);
}

impl ReplyError for RpcError {
    /// The envelope's codes for its errors; -32000 for everything else, as gorilla sends it,
    /// except the two `getProof` answers a client acts on by code.
    fn code(&self) -> i64 {
        match self {
            RpcError::Envelope(error) => error.code(),
            RpcError::NotYetAccepted(_) => NOT_YET_ACCEPTED,
            RpcError::UnknownPayload(_) => UNKNOWN_PAYLOAD,
            _ => SERVER_ERROR,
        }
    }

    fn data(&self) -> Option<Cow<'_, str>> {
        match self {
            RpcError::Envelope(error) => error.data(),
            // Go sends null here; a string is as easy for its json2 client to decode (`Data` is
            // an `interface{}`), and the message alone cannot tell a missing checksum from a typo.
            RpcError::BadData(why) => serde_json::to_string(&why.to_string()).ok().map(Cow::Owned),
            _ => None,
        }
    }

    fn owed_without_id(&self) -> bool {
        matches!(self, RpcError::Envelope(error) if error.owed_without_id())
    }
}

#[cfg(test)]
#[path = "jsonrpc_tests.rs"]
mod tests;
