//! Every plugin → luxd success body on the VM connection (docs/spec/luxd-zap.md §2.7–2.8),
//! typed. A success body is only meaningful with the opcode it answers, so decoding takes it.
//! Read strictly except where luxd ignores the body (SetState, BlockVerify) and `Initialize`,
//! whose response grew over time.

use super::block::{
    decode_block_reply, decode_summary_reply, encode_block_reply, encode_summary_reply, exact_id,
    BlockReply, SummaryReply,
};
use super::body::{BodyError, BodyReader, BodyWriter};
use super::codes::{Opcode, StateSyncMode, VmErrorCode, VmEvent};
use super::initialize::InitializeResponse;
use crate::ids::Id;

/// One success answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The empty body of SetState, Shutdown, Connected, Disconnected, SetPreference, BlockVerify,
    /// BlockAccept, BlockReject, SetQuasarFinalized, and of the opcodes with no response layout
    /// (15–19, ⚠ docs/spec/luxd-zap.md §2.7: "none defined").
    Empty,
    Initialize(Box<InitializeResponse>),
    CreateHandlers(Vec<HttpHandler>),
    /// `""` means no handler; luxd ignores it.
    NewHttpHandler(String),
    WaitForEvent(VmEvent),
    /// BuildBlock, ParseBlock, GetBlock.
    Block(BlockReply),
    /// Opaque to luxd, which tries a little-endian key/value list and ignores failures
    /// (docs/spec/luxd-zap.md §2.8); the Go plugin sends `{"healthy":true}`.
    Health(Vec<u8>),
    Version(String),
    /// Block bytes, newest first.
    GetAncestors(Vec<Vec<u8>>),
    BatchedParseBlock(Vec<BlockReply>),
    BlockIdAtHeight(Result<Id, VmErrorCode>),
    StateSyncEnabled(Result<bool, VmErrorCode>),
    /// GetOngoingSyncStateSummary, GetLastStateSummary, ParseStateSummary, GetStateSummary.
    Summary(SummaryReply),
    StateSummaryAccept(Result<StateSyncMode, VmErrorCode>),
    QuasarHeight(u64),
}

/// One `(prefix, host:port)` pair of `CreateHandlers`: luxd reverse-proxies the chain's URL with
/// this prefix to a plain HTTP/1.1 server at `address` (docs/spec/luxd-zap.md §2.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpHandler {
    /// Starts with `/`, e.g. `/rpc`.
    pub prefix: String,
    pub address: String,
}

impl Response {
    /// The body the plugin writes.
    pub fn encode_body(&self) -> Vec<u8> {
        let mut w = BodyWriter::new();
        match self {
            Response::Empty => {}
            Response::Initialize(init) => return init.encode(),
            Response::CreateHandlers(handlers) => {
                w.count(handlers.len());
                for handler in handlers {
                    w.string(&handler.prefix).string(&handler.address);
                }
            }
            Response::NewHttpHandler(text) | Response::Version(text) => {
                w.string(text);
            }
            Response::WaitForEvent(event) => {
                w.u8(*event as u8);
            }
            Response::Block(reply) => encode_block_reply(reply, &mut w),
            Response::Health(details) => {
                w.bytes(details);
            }
            Response::GetAncestors(blocks) => {
                w.count(blocks.len());
                for block in blocks {
                    w.bytes(block);
                }
            }
            Response::BatchedParseBlock(replies) => {
                w.count(replies.len());
                for reply in replies {
                    encode_block_reply(reply, &mut w);
                }
            }
            Response::BlockIdAtHeight(Ok(id)) => {
                w.id(id).u8(0);
            }
            Response::BlockIdAtHeight(Err(code)) => {
                w.bytes(&[]).u8(code.as_u8());
            }
            Response::StateSyncEnabled(Ok(enabled)) => {
                w.bool(*enabled).u8(0);
            }
            Response::StateSyncEnabled(Err(code)) => {
                w.bool(false).u8(code.as_u8());
            }
            Response::Summary(reply) => encode_summary_reply(reply, &mut w),
            Response::StateSummaryAccept(Ok(mode)) => {
                w.u8(*mode as u8).u8(0);
            }
            Response::StateSummaryAccept(Err(code)) => {
                w.u8(0).u8(code.as_u8());
            }
            Response::QuasarHeight(height) => {
                w.u64(*height);
            }
        }
        w.into_vec()
    }

    /// The success body answering `opcode`.
    pub fn decode(opcode: Opcode, body: &[u8]) -> Result<Response, BodyError> {
        let mut r = BodyReader::new(body);
        let response = match opcode {
            Opcode::Initialize => {
                return InitializeResponse::decode(body).map(|i| Response::Initialize(Box::new(i)))
            }
            // luxd ignores these bodies (the API's SetStateResponse and BlockVerify's timestamp
            // are unused), so any is accepted.
            Opcode::SetState | Opcode::BlockVerify => {
                r.finish_lenient();
                return Ok(Response::Empty);
            }
            Opcode::Shutdown
            | Opcode::Connected
            | Opcode::Disconnected
            | Opcode::SetPreference
            | Opcode::BlockAccept
            | Opcode::BlockReject
            | Opcode::SetQuasarFinalized
            | Opcode::AppRequest
            | Opcode::AppRequestFailed
            | Opcode::AppResponse
            | Opcode::AppGossip
            | Opcode::Gather => Response::Empty,
            Opcode::CreateHandlers => {
                let count = r.count("n")?;
                let mut handlers = Vec::with_capacity(count);
                for _ in 0..count {
                    handlers.push(HttpHandler {
                        prefix: r.string("prefix")?,
                        address: r.string("address")?,
                    });
                }
                Response::CreateHandlers(handlers)
            }
            Opcode::NewHttpHandler => Response::NewHttpHandler(r.string("addr")?),
            Opcode::WaitForEvent => Response::WaitForEvent(VmEvent::from_u8(r.u8("event")?)?),
            Opcode::BuildBlock | Opcode::ParseBlock | Opcode::GetBlock => {
                Response::Block(decode_block_reply(&mut r)?)
            }
            Opcode::Health => Response::Health(r.bytes("details")?),
            Opcode::Version => Response::Version(r.string("version")?),
            Opcode::GetAncestors => {
                let count = r.count("n")?;
                let mut blocks = Vec::with_capacity(count);
                for _ in 0..count {
                    blocks.push(r.bytes("block")?);
                }
                Response::GetAncestors(blocks)
            }
            Opcode::BatchedParseBlock => {
                let count = r.count("n")?;
                let mut replies = Vec::with_capacity(count);
                for _ in 0..count {
                    replies.push(decode_block_reply(&mut r)?);
                }
                Response::BatchedParseBlock(replies)
            }
            Opcode::GetBlockIdAtHeight => {
                let id = r.bytes_ref("id")?;
                Response::BlockIdAtHeight(match VmErrorCode::from_u8(r.u8("err")?) {
                    Some(code) => Err(code),
                    None => Ok(exact_id("id", id)?),
                })
            }
            Opcode::StateSyncEnabled => {
                let enabled = r.bool("enabled")?;
                Response::StateSyncEnabled(match VmErrorCode::from_u8(r.u8("err")?) {
                    Some(code) => Err(code),
                    None => Ok(enabled),
                })
            }
            Opcode::GetOngoingSyncStateSummary
            | Opcode::GetLastStateSummary
            | Opcode::ParseStateSummary
            | Opcode::GetStateSummary => Response::Summary(decode_summary_reply(&mut r)?),
            Opcode::StateSummaryAccept => {
                let mode = r.u8("mode")?;
                Response::StateSummaryAccept(match VmErrorCode::from_u8(r.u8("err")?) {
                    Some(code) => Err(code),
                    None => Ok(StateSyncMode::from_u8(mode)?),
                })
            }
            Opcode::QuasarHeight => Response::QuasarHeight(r.u64("height")?),
        };
        r.finish()?;
        Ok(response)
    }
}
