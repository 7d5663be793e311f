//! Request bodies, buffered whole before forwarding, within the gateway's size and time limits.

use super::forward::RequestError;
use super::GatewayLimits;
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::http::request::Parts;
use http_body_util::BodyExt;

/// The whole request body, within the limits' size and time. Past the size limit, the rest of
/// the body is read and dropped up to as much again, so a client that sent a little too much
/// still reads its 413 on a clean connection (closing on unread data makes the kernel reset it,
/// and the client may see only that); beyond that, or with a declared length beyond that, the
/// 413 comes at once and hyper closes the connection rather than read further. Memory stays
/// within the limit either way.
pub(super) async fn read_body(
    parts: &Parts,
    body: Body,
    limits: GatewayLimits,
) -> Result<Bytes, RequestError> {
    let max = limits.max_body_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > 2 * max as u64) {
        return Err(RequestError::BodyTooLarge(max));
    }
    let capacity = declared.map_or(0, |length| length.min(max as u64) as usize);
    tokio::time::timeout(limits.body_read_timeout, collect_body(body, max, capacity))
        .await
        .map_err(|_| RequestError::BodyTimeout(limits.body_read_timeout))?
}

/// Collects at most `max` bytes; past them, drops up to `max` more before refusing.
async fn collect_body(mut body: Body, max: usize, capacity: usize) -> Result<Bytes, RequestError> {
    let mut kept = Vec::with_capacity(capacity);
    let mut dropped: Option<usize> = None;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(RequestError::Body)?.into_data() else {
            continue; // trailers
        };
        match &mut dropped {
            None if kept.len() + data.len() <= max => kept.extend_from_slice(&data),
            None => {
                dropped = Some(kept.len() + data.len());
                kept = Vec::new();
            }
            Some(total) => *total += data.len(),
        }
        if dropped.is_some_and(|total| total > 2 * max) {
            break;
        }
    }
    match dropped {
        None => Ok(Bytes::from(kept)),
        Some(_) => Err(RequestError::BodyTooLarge(max)),
    }
}
