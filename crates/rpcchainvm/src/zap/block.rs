//! The answers that end in a `u8 err` (docs/spec/luxd-zap.md §2.8): `BlockResponse` (BuildBlock,
//! ParseBlock, GetBlock, BatchedParseBlock) and `SummaryResponse` (the state-sync calls). On a
//! non-zero `err` the other fields mean nothing; we send them empty and zero, as the Go plugin
//! does, and read past whatever is there.

use super::body::{BodyError, BodyReader, BodyWriter};
use super::codes::VmErrorCode;
use crate::ids::Id;

/// A block as the VM describes it to luxd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// luxd requires 32 bytes from BuildBlock and ParseBlock; GetBlock takes the ID from the
    /// request instead. We always require 32.
    pub id: Id,
    /// Required to be 32 bytes by BuildBlock, ParseBlock and GetBlock.
    pub parent_id: Id,
    /// ParseBlock's answer is ignored here by luxd (it keeps the request's bytes); GetBlock and
    /// BuildBlock use them.
    pub bytes: Vec<u8>,
    pub height: u64,
    /// Nanoseconds since the Unix epoch.
    pub timestamp_ns: i64,
    /// Ignored by luxd.
    pub verify_with_context: bool,
}

/// `BlockResponse`: a block, or why there is none (2 = not found for GetBlock).
pub type BlockReply = Result<Block, VmErrorCode>;

pub(crate) fn encode_block_reply(reply: &BlockReply, w: &mut BodyWriter) {
    match reply {
        Ok(block) => w
            .id(&block.id)
            .id(&block.parent_id)
            .bytes(&block.bytes)
            .u64(block.height)
            .i64(block.timestamp_ns)
            .bool(block.verify_with_context)
            .u8(0),
        Err(code) => w
            .bytes(&[])
            .bytes(&[])
            .bytes(&[])
            .u64(0)
            .i64(0)
            .bool(false)
            .u8(code.as_u8()),
    };
}

/// One `BlockResponse` from `r`, leaving the reader after it (it is also a list element).
pub(crate) fn decode_block_reply(r: &mut BodyReader<'_>) -> Result<BlockReply, BodyError> {
    let id = r.bytes_ref("id")?;
    let parent_id = r.bytes_ref("parentID")?;
    let bytes = r.bytes("bytes")?;
    let height = r.u64("height")?;
    let timestamp_ns = r.i64("timestamp")?;
    let verify_with_context = r.bool("verifyWithContext")?;
    if let Some(code) = VmErrorCode::from_u8(r.u8("err")?) {
        return Ok(Err(code));
    }
    Ok(Ok(Block {
        id: exact_id("id", id)?,
        parent_id: exact_id("parentID", parent_id)?,
        bytes,
        height,
        timestamp_ns,
        verify_with_context,
    }))
}

pub(crate) fn exact_id(field: &'static str, raw: &[u8]) -> Result<Id, BodyError> {
    Id::from_slice(raw).ok_or(BodyError::Length {
        field,
        expected: Id::LEN,
        found: raw.len(),
    })
}

/// A state summary (only exchanged with a VM that announces `CAP_STATE_SYNC`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSummary {
    pub id: Id,
    pub height: u64,
    pub bytes: Vec<u8>,
}

/// `SummaryResponse`: a summary, or why not (2 = none, 3 = the VM does not state-sync).
pub type SummaryReply = Result<StateSummary, VmErrorCode>;

pub(crate) fn encode_summary_reply(reply: &SummaryReply, w: &mut BodyWriter) {
    match reply {
        Ok(summary) => w
            .id(&summary.id)
            .u64(summary.height)
            .bytes(&summary.bytes)
            .u8(0),
        // ⚠ What the ID holds on error is not stated (docs/spec/luxd-zap.md §2.8); empty, as for
        // blocks.
        Err(code) => w.bytes(&[]).u64(0).bytes(&[]).u8(code.as_u8()),
    };
}

pub(crate) fn decode_summary_reply(r: &mut BodyReader<'_>) -> Result<SummaryReply, BodyError> {
    let id = r.bytes_ref("id")?;
    let height = r.u64("height")?;
    let bytes = r.bytes("bytes")?;
    if let Some(code) = VmErrorCode::from_u8(r.u8("err")?) {
        return Ok(Err(code));
    }
    Ok(Ok(StateSummary {
        id: exact_id("id", id)?,
        height,
        bytes,
    }))
}
