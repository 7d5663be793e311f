//! The `timestampvm.*` methods: Go TimestampVM's `proposeBlock` and `getBlock` in its exact
//! shapes (docs/spec/vectors.md 3.1, 3.2), plus `getBlockByHeight`, `lastAccepted` and
//! `mempoolSize` for tools that want to follow the chain without guessing IDs, and
//! `proposeBatch` and `getProof`, made for batched chains (`batched`).
//!
//! Each method decodes its params, asks the [`Backend`], and shapes the reply; the envelope
//! (ids, batches, notifications, error objects) is [`rpcchainvm::jsonrpc`]'s job.

mod batched;

pub use batched::MAX_PROPOSE_BATCH;

use super::backend::{Backend, BlockView, ProposeError};
use super::data::{format_payload, parse_payload, Encoding};
use super::jsonrpc::RpcError;
use super::proof_json::format_hash;
use crate::chain::{self, Cb58Error, Id};
use crate::metrics::{JSONRPC_REQUESTS_TOTAL, LABEL_METHOD, LABEL_OUTCOME};
use rpcchainvm::jsonrpc::{self, params, to_raw, Call, Entry, EnvelopeError};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The service name clients put before the dot, as the Go reference registers it.
pub const SERVICE: &str = "timestampvm";

/// Answers one HTTP request body: the reply body to send, or `None` when nothing is owed (only
/// notifications), which the HTTP layer sends as an empty 200. Never fails: every problem with
/// the body becomes a JSON-RPC error object.
pub async fn handle_body<B: Backend>(backend: &B, body: &[u8]) -> Option<Vec<u8>> {
    let (entries, mut replies) = jsonrpc::parse_body(body).into_entries();
    // In order, one after another: a batch of proposals lands in the mempool in the order the
    // client wrote it. Once a batch's replies are full, the rest are not run.
    for entry in entries {
        let reply = match replies.has_room() {
            true => run(backend, entry).await,
            false => not_run(&entry),
        };
        replies.push(reply);
    }
    replies.finish()
}

/// An entry left unrun (the batch's replies are full), counted as an error of its method.
fn not_run(entry: &Entry<'_>) -> Option<String> {
    let method = entry.call.as_ref().map_or(UNKNOWN_METHOD, method_label);
    metrics::counter!(JSONRPC_REQUESTS_TOTAL, LABEL_METHOD => method, LABEL_OUTCOME => "error")
        .increment(1);
    jsonrpc::not_run(entry)
}

/// Runs one entry (also a notification: its side effects happen, its reply is dropped), and
/// counts it in `stampvm_jsonrpc_requests_total`.
async fn run<B: Backend>(backend: &B, entry: Entry<'_>) -> Option<String> {
    let (method, answer) = match &entry.call {
        Ok(call) => (method_label(call), dispatch(backend, call).await),
        Err(error) => (UNKNOWN_METHOD, Err(error.clone().into())),
    };
    let outcome = match &answer {
        Ok(answer) if answer.refused => "refused",
        Ok(_) => "ok",
        Err(_) => "error",
    };
    metrics::counter!(JSONRPC_REQUESTS_TOTAL, LABEL_METHOD => method, LABEL_OUTCOME => outcome)
        .increment(1);
    jsonrpc::encode_reply(entry.id, &answer.map(|answer| answer.result))
}

/// The `method` label of a request that names no method we have (or could not be read).
const UNKNOWN_METHOD: &str = "unknown";

/// Registers `stampvm_jsonrpc_requests_total` at zero for every method and outcome it can count
/// (`refused` only where a method can answer `Success: false`), so the family is in the first
/// scrape, before any request (README, "Metrics").
pub fn register_request_metrics() {
    for (_, method) in METHODS {
        let refusable = matches!(
            method,
            "timestampvm.proposeBlock" | "timestampvm.proposeBatch"
        );
        let outcomes: &[&'static str] = match refusable {
            true => &["ok", "error", "refused"],
            false => &["ok", "error"],
        };
        for &outcome in outcomes {
            metrics::counter!(JSONRPC_REQUESTS_TOTAL, LABEL_METHOD => method, LABEL_OUTCOME => outcome)
                .increment(0);
        }
    }
}

/// The methods we serve, by the name [`dispatch`] matches and the name clients send, which is also
/// the `method` label: a fixed set, so clients cannot grow the label set.
const METHODS: [(&str, &str); 7] = [
    ("ProposeBlock", "timestampvm.proposeBlock"),
    ("ProposeBatch", "timestampvm.proposeBatch"),
    ("GetProof", "timestampvm.getProof"),
    ("GetBlock", "timestampvm.getBlock"),
    ("GetBlockByHeight", "timestampvm.getBlockByHeight"),
    ("LastAccepted", "timestampvm.lastAccepted"),
    ("MempoolSize", "timestampvm.mempoolSize"),
];

fn method_label(call: &Call<'_>) -> &'static str {
    if call.service() != SERVICE {
        return UNKNOWN_METHOD;
    }
    METHODS
        .iter()
        .find(|(method, _)| *method == call.method())
        .map_or(UNKNOWN_METHOD, |(_, label)| label)
}

/// A method's reply, and whether it is a refusal (`Success: false`) rather than a plain success.
struct Answer {
    result: Box<RawValue>,
    refused: bool,
}

/// Finds the method (gorilla's order: service, method, then params) and runs it.
async fn dispatch<B: Backend>(backend: &B, call: &Call<'_>) -> Result<Answer, RpcError> {
    if call.service() != SERVICE {
        return Err(EnvelopeError::UnknownService(call.name.clone()).into());
    }
    let result = match call.method() {
        "ProposeBlock" => {
            let reply = propose_block(backend, params(call.params)?).await?;
            return Ok(Answer {
                result: to_raw(&reply)?,
                refused: !reply.success,
            });
        }
        "ProposeBatch" => {
            let reply = batched::propose_batch(backend, params(call.params)?).await?;
            return Ok(Answer {
                result: to_raw(&reply)?,
                // Counted as refused only when nothing was taken: a partly taken batch did work.
                refused: reply.accepted == 0,
            });
        }
        "GetProof" => to_raw(&batched::get_proof(backend, params(call.params)?).await?)?,
        "GetBlock" => to_raw(&get_block(backend, params(call.params)?).await?)?,
        "GetBlockByHeight" => to_raw(&get_block_by_height(backend, params(call.params)?).await?)?,
        "LastAccepted" => {
            let _: NoArgs = params(call.params)?;
            let view = backend.last_accepted().await?;
            to_raw(&LastAcceptedReply {
                id: view.id.to_string(),
                height: view.block.height.to_string(),
            })?
        }
        "MempoolSize" => {
            let _: NoArgs = params(call.params)?;
            let stats = backend.mempool_stats().await?;
            to_raw(&MempoolReply {
                size: stats.size,
                capacity: stats.capacity,
            })?
        }
        _ => return Err(EnvelopeError::UnknownMethod(call.name.clone()).into()),
    };
    Ok(Answer {
        result,
        refused: false,
    })
}

/// The optional `encoding` member; an unknown name is a params error like any other.
fn encoding(field: Option<String>) -> Result<Encoding, RpcError> {
    Encoding::from_field(field.as_deref()).map_err(|_| RpcError::BAD_PARAMS)
}

/// For methods without arguments: any object (its members ignored) or nothing.
#[derive(Deserialize, Default)]
struct NoArgs {}

#[derive(Deserialize, Default)]
struct ProposeArgs {
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

/// `ProposeBlockReply`. Go gave the field no JSON tag, hence the capital `S` clients expect.
/// `reason` is ours: why `Success` is false (Go clients ignore members they do not know).
#[derive(Serialize)]
struct ProposeReply {
    #[serde(rename = "Success")]
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// A refusal by the mempool is an answer (`Success: false`), as the Go reference answers a full
/// mempool, so clients back off; only a VM that cannot answer at all makes an error.
async fn propose_block<B: Backend>(
    backend: &B,
    args: ProposeArgs,
) -> Result<ProposeReply, RpcError> {
    encoding(args.encoding)?;
    let data = args.data.unwrap_or_default();
    let payload = parse_payload(&data).map_err(|error| {
        tracing::debug!(%error, "proposeBlock data refused");
        RpcError::BadData(error)
    })?;
    match backend.propose(payload).await {
        Ok(()) => Ok(ProposeReply {
            success: true,
            reason: None,
        }),
        Err(ProposeError::Backend(error)) => Err(error.into()),
        Err(refusal) => Ok(ProposeReply {
            success: false,
            reason: Some(refusal.to_string()),
        }),
    }
}

#[derive(Deserialize, Default)]
struct GetBlockArgs {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

/// `GetBlockReply`, members in the Go reference's order. `timestamp` and `height` are Go
/// `json.Uint64`, which clients read as decimal strings.
///
/// A batched block has no one payload: its `data` is its Merkle root in the payload's form, so
/// a client written for single-payload chains still reads 32 bytes there, and `root` (the same
/// hash as [`format_hash`] prints it) and `count` follow. Single-payload blocks leave those two
/// out, so their replies stay byte-identical to Go's.
#[derive(Serialize)]
struct BlockReply {
    timestamp: String,
    data: String,
    height: String,
    id: String,
    #[serde(rename = "parentID")]
    parent_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<usize>,
}

fn block_reply(view: &BlockView, encoding: Encoding) -> BlockReply {
    let (data, root, count) = match &view.block.body {
        chain::Body::Single(data) => (data, None, None),
        chain::Body::Batched(batch) => (
            &batch.root,
            Some(format_hash(&batch.root)),
            Some(batch.payloads.len()),
        ),
    };
    BlockReply {
        // Go prints `uint64(timestamp)`; the same cast keeps pre-1970 timestamps identical.
        timestamp: (view.block.timestamp as u64).to_string(),
        data: format_payload(data, encoding),
        height: view.block.height.to_string(),
        id: view.id.to_string(),
        parent_id: view.block.parent.to_string(),
        root,
        count,
    }
}

/// An accepted or processing block by ID (rejected blocks are forgotten, only their IDs are kept);
/// no ID means the last accepted block.
async fn get_block<B: Backend>(backend: &B, args: GetBlockArgs) -> Result<BlockReply, RpcError> {
    let encoding = encoding(args.encoding)?;
    let view = match args.id {
        None => backend.last_accepted().await?,
        Some(text) => {
            let id: Id = text.parse().map_err(|error| match error {
                // A clear answer for what cannot be an ID at all; Go's for the rest.
                Cb58Error::TooLong { max, found, .. } => RpcError::IdTooLong { found, max },
                _ => RpcError::BAD_PARAMS,
            })?;
            backend.block(id).await?.ok_or(RpcError::UnknownBlock)?
        }
    };
    Ok(block_reply(&view, encoding))
}

#[derive(Deserialize, Default)]
struct ByHeightArgs {
    #[serde(default)]
    height: Option<Height>,
    #[serde(default)]
    encoding: Option<String>,
}

/// Heights arrive as JSON numbers from hand-written calls and as decimal strings from clients
/// that mirror the `json.Uint64` replies; both mean the same.
#[derive(Deserialize)]
#[serde(untagged)]
enum Height {
    Number(u64),
    Text(String),
}

async fn get_block_by_height<B: Backend>(
    backend: &B,
    args: ByHeightArgs,
) -> Result<BlockReply, RpcError> {
    let encoding = encoding(args.encoding)?;
    let height = match args.height {
        Some(Height::Number(height)) => height,
        Some(Height::Text(text))
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) =>
        {
            text.parse().map_err(|_| RpcError::BAD_PARAMS)?
        }
        _ => return Err(RpcError::BAD_PARAMS),
    };
    let view = backend
        .block_at_height(height)
        .await?
        .ok_or(RpcError::NoBlockAtHeight(height))?;
    Ok(block_reply(&view, encoding))
}

#[derive(Serialize)]
struct LastAcceptedReply {
    id: String,
    height: String,
}

#[derive(Serialize)]
struct MempoolReply {
    size: usize,
    capacity: usize,
}

#[cfg(test)]
#[path = "methods_tests.rs"]
mod tests;
