//! Every luxd → plugin request body on the VM connection (docs/spec/luxd-zap.md §2.7), typed.
//! Bodies are read strictly (no byte missing, none left over) except where the spec says luxd's
//! side sends or accepts more: `Initialize`'s tail, `BuildBlock`'s optional P-chain height and
//! `Gather`, whose body is undefined.
//!
//! Stricter than luxd on purpose: the Go decoders ignore trailing bytes everywhere
//! (docs/spec/luxd-zap.md §2.6), we refuse them where no appended field is documented, so a
//! layout we misread shows up as an error instead of a silently wrong value. ⚠ If a luxd built
//! with API v1.1.10–v1.1.13 (unseen, docs/spec/luxd-zap.md §6) appended fields elsewhere, those
//! decoders are the place to loosen.

use super::body::{BodyError, BodyReader, BodyWriter};
use super::codes::{Opcode, VmState};
use super::initialize::InitializeRequest;
use crate::ids::{Id, NodeId};

/// One request, by opcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Initialize(Box<InitializeRequest>),
    /// luxd sends 3 (Bootstrapping) then 4 (Ready).
    SetState(VmState),
    Shutdown,
    CreateHandlers,
    /// ⚠ A client exists in luxd but no call was seen (docs/spec/luxd-zap.md §2.7).
    NewHttpHandler,
    /// Long-blocking: answered when the VM has an event (docs/spec/luxd-zap.md §2.4). ⚠ A new one
    /// may arrive while an older one is pending (luxd forgets ids, there is no cancel frame);
    /// answer all pending ones.
    WaitForEvent,
    Connected(ConnectedRequest),
    Disconnected(NodeId),
    BuildBlock(BuildBlockRequest),
    ParseBlock(Vec<u8>),
    GetBlock(Id),
    SetPreference(Id),
    /// ⚠ Caller and cadence not traced (docs/spec/luxd-zap.md §2.7).
    Health,
    /// ⚠ No caller seen in the newest luxd (docs/spec/luxd-zap.md §2.11).
    Version,
    /// Never sent by luxd (no p2p for plugins, docs/spec/luxd-zap.md §2.11).
    AppRequest(AppRequest),
    /// Never sent by luxd.
    AppRequestFailed(AppRequestFailed),
    /// Never sent by luxd.
    AppResponse(AppResponse),
    /// Never sent by luxd.
    AppGossip(AppGossip),
    /// Never sent; ⚠ no payload is defined (docs/spec/luxd-zap.md §2.7), any body is ignored.
    Gather,
    /// Never sent by luxd.
    GetAncestors(GetAncestorsRequest),
    /// Never sent by luxd.
    BatchedParseBlock(Vec<Vec<u8>>),
    /// ⚠ Client implemented, callers not traced (docs/spec/luxd-zap.md §2.7, §6).
    GetBlockIdAtHeight(u64),
    /// State sync (23–27, 31): only sent to a VM announcing `CAP_STATE_SYNC`.
    StateSyncEnabled,
    GetOngoingSyncStateSummary,
    GetLastStateSummary,
    ParseStateSummary(Vec<u8>),
    GetStateSummary(u64),
    BlockVerify(BlockVerifyRequest),
    BlockAccept(Id),
    BlockReject(Id),
    StateSummaryAccept(Id),
    /// Only sent to a VM announcing `CAP_QUASAR_EXPORT`.
    SetQuasarFinalized(u64),
    QuasarHeight,
}

/// A peer connected: its 20-byte node ID, client name and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedRequest {
    pub node_id: NodeId,
    pub name: String,
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

/// `BuildBlock`. luxd sends an empty body; the API's `BuildBlockRequest` (`bool has`,
/// `[u64 pChainHeight]`) is accepted too, the height read only if flagged and 8 bytes remain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildBlockRequest {
    pub p_chain_height: Option<u64>,
}

/// `BlockVerify`: the block and, if flagged, the P-chain height (luxd sends the flag 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockVerifyRequest {
    pub block: Vec<u8>,
    pub p_chain_height: Option<u64>,
}

/// `GetAncestors` (never sent by luxd).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetAncestorsRequest {
    pub block_id: Id,
    pub max_blocks: i32,
    pub max_bytes: i32,
    /// Nanoseconds.
    pub max_time_ns: i64,
}

/// `Request` (AppRequest; never sent by luxd). ⚠ The node ID's length is not stated for the app
/// messages (docs/spec/luxd-zap.md §2.7); we take the 20 bytes every other node ID has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRequest {
    pub node_id: NodeId,
    pub request_id: u32,
    /// ⚠ Unit unknown (docs/spec/luxd-zap.md §2.7, §6); kept as sent.
    pub deadline: i64,
    pub request: Vec<u8>,
}

/// `RequestFailed` (never sent by luxd).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRequestFailed {
    pub node_id: NodeId,
    pub request_id: u32,
    pub code: i32,
    pub message: String,
}

/// `Response` (never sent by luxd).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppResponse {
    pub node_id: NodeId,
    pub request_id: u32,
    pub response: Vec<u8>,
}

/// `Gossip` (never sent by luxd).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppGossip {
    pub node_id: NodeId,
    pub message: Vec<u8>,
}

fn optional_height(has: bool, height: Option<u64>, w: &mut BodyWriter) {
    w.bool(has);
    if let Some(height) = height {
        w.u64(height);
    }
}

impl Request {
    pub fn opcode(&self) -> Opcode {
        match self {
            Request::Initialize(_) => Opcode::Initialize,
            Request::SetState(_) => Opcode::SetState,
            Request::Shutdown => Opcode::Shutdown,
            Request::CreateHandlers => Opcode::CreateHandlers,
            Request::NewHttpHandler => Opcode::NewHttpHandler,
            Request::WaitForEvent => Opcode::WaitForEvent,
            Request::Connected(_) => Opcode::Connected,
            Request::Disconnected(_) => Opcode::Disconnected,
            Request::BuildBlock(_) => Opcode::BuildBlock,
            Request::ParseBlock(_) => Opcode::ParseBlock,
            Request::GetBlock(_) => Opcode::GetBlock,
            Request::SetPreference(_) => Opcode::SetPreference,
            Request::Health => Opcode::Health,
            Request::Version => Opcode::Version,
            Request::AppRequest(_) => Opcode::AppRequest,
            Request::AppRequestFailed(_) => Opcode::AppRequestFailed,
            Request::AppResponse(_) => Opcode::AppResponse,
            Request::AppGossip(_) => Opcode::AppGossip,
            Request::Gather => Opcode::Gather,
            Request::GetAncestors(_) => Opcode::GetAncestors,
            Request::BatchedParseBlock(_) => Opcode::BatchedParseBlock,
            Request::GetBlockIdAtHeight(_) => Opcode::GetBlockIdAtHeight,
            Request::StateSyncEnabled => Opcode::StateSyncEnabled,
            Request::GetOngoingSyncStateSummary => Opcode::GetOngoingSyncStateSummary,
            Request::GetLastStateSummary => Opcode::GetLastStateSummary,
            Request::ParseStateSummary(_) => Opcode::ParseStateSummary,
            Request::GetStateSummary(_) => Opcode::GetStateSummary,
            Request::BlockVerify(_) => Opcode::BlockVerify,
            Request::BlockAccept(_) => Opcode::BlockAccept,
            Request::BlockReject(_) => Opcode::BlockReject,
            Request::StateSummaryAccept(_) => Opcode::StateSummaryAccept,
            Request::SetQuasarFinalized(_) => Opcode::SetQuasarFinalized,
            Request::QuasarHeight => Opcode::QuasarHeight,
        }
    }

    /// The body luxd writes for this request.
    pub fn encode_body(&self) -> Vec<u8> {
        let mut w = BodyWriter::new();
        match self {
            Request::Initialize(init) => return init.encode(),
            Request::SetState(state) => {
                w.u8(*state as u8);
            }
            Request::Shutdown
            | Request::CreateHandlers
            | Request::NewHttpHandler
            | Request::WaitForEvent
            | Request::Health
            | Request::Version
            | Request::Gather
            | Request::StateSyncEnabled
            | Request::GetOngoingSyncStateSummary
            | Request::GetLastStateSummary
            | Request::QuasarHeight => {}
            Request::Connected(c) => {
                w.node_id(&c.node_id)
                    .string(&c.name)
                    .u32(c.major)
                    .u32(c.minor)
                    .u32(c.patch);
            }
            Request::Disconnected(node_id) => {
                w.node_id(node_id);
            }
            // luxd's form: empty unless a height is given.
            Request::BuildBlock(b) => {
                if b.p_chain_height.is_some() {
                    optional_height(true, b.p_chain_height, &mut w);
                }
            }
            Request::ParseBlock(bytes) | Request::ParseStateSummary(bytes) => {
                w.bytes(bytes);
            }
            Request::GetBlock(id)
            | Request::SetPreference(id)
            | Request::BlockAccept(id)
            | Request::BlockReject(id)
            | Request::StateSummaryAccept(id) => {
                w.id(id);
            }
            Request::AppRequest(a) => {
                w.node_id(&a.node_id)
                    .u32(a.request_id)
                    .i64(a.deadline)
                    .bytes(&a.request);
            }
            Request::AppRequestFailed(a) => {
                w.node_id(&a.node_id)
                    .u32(a.request_id)
                    .i32(a.code)
                    .string(&a.message);
            }
            Request::AppResponse(a) => {
                w.node_id(&a.node_id).u32(a.request_id).bytes(&a.response);
            }
            Request::AppGossip(a) => {
                w.node_id(&a.node_id).bytes(&a.message);
            }
            Request::GetAncestors(g) => {
                w.id(&g.block_id)
                    .i32(g.max_blocks)
                    .i32(g.max_bytes)
                    .i64(g.max_time_ns);
            }
            Request::BatchedParseBlock(blocks) => {
                w.count(blocks.len());
                for block in blocks {
                    w.bytes(block);
                }
            }
            Request::GetBlockIdAtHeight(height)
            | Request::GetStateSummary(height)
            | Request::SetQuasarFinalized(height) => {
                w.u64(*height);
            }
            Request::BlockVerify(v) => {
                w.bytes(&v.block);
                optional_height(v.p_chain_height.is_some(), v.p_chain_height, &mut w);
            }
        }
        w.into_vec()
    }

    /// The request `opcode` carries in `body`.
    pub fn decode(opcode: Opcode, body: &[u8]) -> Result<Request, BodyError> {
        let mut r = BodyReader::new(body);
        let request = match opcode {
            Opcode::Initialize => {
                return InitializeRequest::decode(body).map(|i| Request::Initialize(Box::new(i)));
            }
            Opcode::SetState => Request::SetState(VmState::from_u8(r.u8("state")?)?),
            Opcode::Shutdown => Request::Shutdown,
            Opcode::CreateHandlers => Request::CreateHandlers,
            Opcode::NewHttpHandler => Request::NewHttpHandler,
            Opcode::WaitForEvent => Request::WaitForEvent,
            Opcode::Connected => Request::Connected(ConnectedRequest {
                node_id: r.node_id("nodeID")?,
                name: r.string("name")?,
                major: r.u32("major")?,
                minor: r.u32("minor")?,
                patch: r.u32("patch")?,
            }),
            Opcode::Disconnected => Request::Disconnected(r.node_id("nodeID")?),
            Opcode::BuildBlock => {
                let has = r.remaining() >= 1 && r.bool("has")?;
                let p_chain_height = if has && r.remaining() >= 8 {
                    Some(r.u64("pChainHeight")?)
                } else {
                    None
                };
                r.finish_lenient();
                return Ok(Request::BuildBlock(BuildBlockRequest { p_chain_height }));
            }
            Opcode::ParseBlock => Request::ParseBlock(r.bytes("block")?),
            Opcode::GetBlock => Request::GetBlock(r.id("id")?),
            Opcode::SetPreference => Request::SetPreference(r.id("id")?),
            Opcode::Health => Request::Health,
            Opcode::Version => Request::Version,
            Opcode::AppRequest => Request::AppRequest(AppRequest {
                node_id: r.node_id("nodeID")?,
                request_id: r.u32("requestID")?,
                deadline: r.i64("deadline")?,
                request: r.bytes("request")?,
            }),
            Opcode::AppRequestFailed => Request::AppRequestFailed(AppRequestFailed {
                node_id: r.node_id("nodeID")?,
                request_id: r.u32("requestID")?,
                code: r.i32("code")?,
                message: r.string("message")?,
            }),
            Opcode::AppResponse => Request::AppResponse(AppResponse {
                node_id: r.node_id("nodeID")?,
                request_id: r.u32("requestID")?,
                response: r.bytes("response")?,
            }),
            Opcode::AppGossip => Request::AppGossip(AppGossip {
                node_id: r.node_id("nodeID")?,
                message: r.bytes("msg")?,
            }),
            Opcode::Gather => {
                r.finish_lenient();
                return Ok(Request::Gather);
            }
            Opcode::GetAncestors => Request::GetAncestors(GetAncestorsRequest {
                block_id: r.id("blkID")?,
                max_blocks: r.i32("maxNum")?,
                max_bytes: r.i32("maxSize")?,
                max_time_ns: r.i64("maxTime")?,
            }),
            Opcode::BatchedParseBlock => {
                let count = r.count("n")?;
                let mut blocks = Vec::with_capacity(count);
                for _ in 0..count {
                    blocks.push(r.bytes("block")?);
                }
                Request::BatchedParseBlock(blocks)
            }
            Opcode::GetBlockIdAtHeight => Request::GetBlockIdAtHeight(r.u64("height")?),
            Opcode::StateSyncEnabled => Request::StateSyncEnabled,
            Opcode::GetOngoingSyncStateSummary => Request::GetOngoingSyncStateSummary,
            Opcode::GetLastStateSummary => Request::GetLastStateSummary,
            Opcode::ParseStateSummary => Request::ParseStateSummary(r.bytes("summary")?),
            Opcode::GetStateSummary => Request::GetStateSummary(r.u64("height")?),
            Opcode::BlockVerify => {
                let block = r.bytes("block")?;
                let p_chain_height = if r.bool("hasPChainHeight")? {
                    Some(r.u64("pChainHeight")?)
                } else {
                    None
                };
                Request::BlockVerify(BlockVerifyRequest {
                    block,
                    p_chain_height,
                })
            }
            Opcode::BlockAccept => Request::BlockAccept(r.id("id")?),
            Opcode::BlockReject => Request::BlockReject(r.id("id")?),
            Opcode::StateSummaryAccept => Request::StateSummaryAccept(r.id("summaryID")?),
            Opcode::SetQuasarFinalized => Request::SetQuasarFinalized(r.u64("height")?),
            Opcode::QuasarHeight => Request::QuasarHeight,
        };
        r.finish()?;
        Ok(request)
    }
}
