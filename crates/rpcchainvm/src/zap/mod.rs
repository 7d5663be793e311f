//! ZAP, the length-prefixed binary transport the newest luxd launches VM plugins over instead of
//! gRPC (docs/spec/luxd-zap.md §2). This module is the pure codec: bytes in, typed values out,
//! and back. No I/O happens here; a server reads a socket into [`FrameDecoder`] and writes what
//! [`Frame::encode`] returns.
//!
//! - [`mod@env`]: does the environment ask for ZAP, and where is the node (§2.1).
//! - [`handshake`]: the bootstrap message and its one-byte acknowledgement (§2.2).
//! - [`frame`]: framing, the size limit and the incremental decoder (§2.3).
//! - [`codes`]: opcodes and the one-byte enums of bodies (§2.7, §2.8).
//! - [`Request`] / [`Response`]: every request and success body of the VM connection (§2.7,
//!   §2.8), with `Initialize`'s layouts in their own file.

mod block;
mod body;
pub mod codes;
pub mod env;
pub mod frame;
#[cfg(test)]
mod frame_tests;
pub mod handshake;
mod initialize;
mod message;
mod request;
#[cfg(test)]
mod request_tests;
mod response;
#[cfg(test)]
mod response_tests;
#[cfg(test)]
mod vector_tests;

pub use block::{Block, BlockReply, StateSummary, SummaryReply};
pub use body::BodyError;
pub use codes::{Opcode, StateSyncMode, VmErrorCode, VmEvent, VmState};
pub use frame::{Frame, FrameDecoder, FrameError, FrameKind};
pub use initialize::{
    ChainServices, InitializeRequest, InitializeResponse, InitializeTail, LegacyNetworkUpgrades,
    CAP_QUASAR_EXPORT, CAP_STATE_SYNC,
};
pub use message::MessageError;
pub use request::{
    AppGossip, AppRequest, AppRequestFailed, AppResponse, BlockVerifyRequest, BuildBlockRequest,
    ConnectedRequest, GetAncestorsRequest, Request,
};
pub use response::{HttpHandler, Response};
