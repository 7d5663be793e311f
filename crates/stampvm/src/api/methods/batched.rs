//! The methods batched chains are for: `proposeBatch`, many payloads in one request, and
//! `getProof`, a payload's inclusion proof ([`crate::api::proof_json`]). Both work on either
//! chain format; on a single-payload chain a proof is the trivial one (empty path).

use super::{encoding, RpcError};
use crate::api::backend::{Backend, BackendError, ProofLookup, ProposeError};
use crate::api::data::{format_payload, parse_payload};
use crate::api::jsonrpc::BAD_DATA;
use crate::api::proof_json::ProofJson;
use crate::chain::Payload;
use serde::{Deserialize, Serialize};

/// Most payloads one `proposeBatch` takes. Below what the HTTP body limit admits in hex
/// (2 MiB / 77 bytes an item, about 27,000), so a client that splits its work by this number
/// never meets that limit instead; and four blocks' worth at the default `maxBatch` of 4096.
pub const MAX_PROPOSE_BATCH: usize = 16_384;

#[derive(Deserialize, Default)]
pub(super) struct ProposeBatchArgs {
    #[serde(default)]
    data: Option<Vec<String>>,
    #[serde(default)]
    encoding: Option<String>,
}

/// One answer per item of `data`, in order, and how many were taken.
#[derive(Serialize)]
pub(super) struct ProposeBatchReply {
    pub(super) accepted: usize,
    results: Vec<ItemResult>,
}

/// `proposeBlock`'s reply for one item, lower-cased as JSON members usually are (this method
/// has no Go original to mirror).
#[derive(Serialize)]
struct ItemResult {
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl ItemResult {
    fn refused(reason: String) -> ItemResult {
        ItemResult {
            success: false,
            reason: Some(reason),
        }
    }
}

impl From<Result<(), ProposeError>> for ItemResult {
    /// Every refusal is the item's answer, even a VM failing mid-batch
    /// ([`ProposeError::Backend`]): the items before it were taken, and an error object for the
    /// whole request would hide that.
    fn from(answer: Result<(), ProposeError>) -> ItemResult {
        match answer {
            Ok(()) => ItemResult {
                success: true,
                reason: None,
            },
            Err(refusal) => ItemResult::refused(refusal.to_string()),
        }
    }
}

/// Many `proposeBlock`s in one request, each item taken or refused on its own: an item that is
/// not a payload is refused here, the others go to the backend together, in order. Only a VM
/// that cannot answer at all makes the whole request an error.
pub(super) async fn propose_batch<B: Backend>(
    backend: &B,
    args: ProposeBatchArgs,
) -> Result<ProposeBatchReply, RpcError> {
    encoding(args.encoding)?;
    let texts = args.data.ok_or(RpcError::BAD_PARAMS)?;
    if texts.is_empty() || texts.len() > MAX_PROPOSE_BATCH {
        return Err(RpcError::BatchSize {
            found: texts.len(),
            max: MAX_PROPOSE_BATCH,
        });
    }
    let parsed: Vec<_> = texts.iter().map(|text| parse_payload(text)).collect();
    let payloads: Vec<Payload> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .copied()
        .collect();
    let sent = payloads.len();
    let answers = match sent {
        0 => Vec::new(),
        _ => backend.propose_batch(payloads).await?,
    };
    if answers.len() != sent {
        let text = format!("{} answers to {sent} proposals", answers.len());
        return Err(BackendError::Internal(text).into());
    }
    let mut answers = answers.into_iter();
    let results: Vec<ItemResult> = parsed
        .into_iter()
        .map(|parsed| match parsed {
            Err(error) => ItemResult::refused(format!("{BAD_DATA}: {error}")),
            Ok(_) => ItemResult::from(answers.next().expect("as many answers as sent, checked")),
        })
        .collect();
    let accepted = results.iter().filter(|result| result.success).count();
    Ok(ProposeBatchReply { accepted, results })
}

#[derive(Deserialize, Default)]
pub(super) struct ProofArgs {
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

/// The inclusion proof of a payload in an accepted block. "Not yet" and "unknown" are errors
/// with codes of their own ([`NOT_YET_ACCEPTED`], [`UNKNOWN_PAYLOAD`]): a
/// client polls on the first and gives up on the second.
///
/// [`NOT_YET_ACCEPTED`]: crate::api::jsonrpc::NOT_YET_ACCEPTED
/// [`UNKNOWN_PAYLOAD`]: crate::api::jsonrpc::UNKNOWN_PAYLOAD
pub(super) async fn get_proof<B: Backend>(
    backend: &B,
    args: ProofArgs,
) -> Result<ProofJson, RpcError> {
    let encoding = encoding(args.encoding)?;
    let payload = parse_payload(&args.data.unwrap_or_default()).map_err(|error| {
        tracing::debug!(%error, "getProof data refused");
        RpcError::BadData(error)
    })?;
    match backend.proof(payload).await? {
        ProofLookup::Proven(proof) => Ok(ProofJson::from_proof(
            &proof,
            backend.chain_format().into(),
            encoding,
        )),
        ProofLookup::NotYetAccepted => {
            Err(RpcError::NotYetAccepted(format_payload(&payload, encoding)))
        }
        ProofLookup::Unknown => Err(RpcError::UnknownPayload(format_payload(&payload, encoding))),
    }
}
