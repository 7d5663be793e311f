//! The JSON-RPC API as an SDK [`HttpHandler`]: the Go reference's HTTP checks and replies
//! ([`crate::api::http`]) over whatever carries the request.

use crate::api::http::{
    check_request, HeaderField, HttpReply, JsonRpcApi, Refusal, MAX_BODY_BYTES,
};
use rpcchainvm::http::{self as sdk, BodyRefusal, HttpHandler};

/// A chain's API (any `Backend`) or the static API, served over `http.HTTP`.
pub(crate) struct JsonRpcHandler<A: JsonRpcApi>(pub(crate) A);

fn header_fields(headers: &[sdk::HeaderField]) -> Vec<HeaderField> {
    headers
        .iter()
        .map(|header| HeaderField {
            name: header.name.clone(),
            values: header.values.clone(),
        })
        .collect()
}

/// The reply with our headers only; the SDK sets them over the node's preset ones, as
/// [`HttpReply::headers`] does.
fn sdk_reply(reply: HttpReply) -> sdk::HttpReply {
    let headers = reply
        .headers(Vec::new())
        .into_iter()
        .map(|header| sdk::HeaderField {
            name: header.name,
            values: header.values,
        })
        .collect();
    sdk::HttpReply {
        status: reply.status,
        headers,
        body: reply.body,
    }
}

impl<A: JsonRpcApi> HttpHandler for JsonRpcHandler<A> {
    fn max_body_bytes(&self) -> usize {
        MAX_BODY_BYTES
    }

    fn check_head(&self, method: &str, headers: &[sdk::HeaderField]) -> Result<(), sdk::HttpReply> {
        check_request(method, &header_fields(headers)).map_err(|refusal| sdk_reply(refusal.into()))
    }

    fn refuse_body(&self, refusal: BodyRefusal) -> sdk::HttpReply {
        let refusal = match refusal {
            BodyRefusal::TooLarge => Refusal::TooLarge,
            BodyRefusal::Read(reason) => Refusal::Read(reason),
        };
        sdk_reply(refusal.into())
    }

    async fn handle(&self, request: sdk::HttpRequest) -> sdk::HttpReply {
        sdk_reply(HttpReply::json(self.0.handle_body(&request.body).await))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::memory_backend::MemoryBackend;

    fn request(method: &str, content_type: Option<&str>, body: &[u8]) -> sdk::HttpRequest {
        sdk::HttpRequest {
            method: method.into(),
            url: "/ext/bc/x".into(),
            headers: content_type
                .map(|value| vec![sdk::HeaderField::new("Content-Type", value)])
                .unwrap_or_default(),
            body: body.to_vec(),
        }
    }

    /// The SDK's order (head, then body) gives the answers `api::http::respond` gives.
    #[tokio::test]
    async fn answers_as_the_api_does() {
        let backend = MemoryBackend::genesis_only();
        let handler = JsonRpcHandler(backend.clone());
        let call = br#"{"jsonrpc":"2.0","method":"timestampvm.lastAccepted","id":1}"#;
        let json = Some("application/json");
        for (method, content_type, body) in [
            ("GET", json, &call[..]),
            ("POST", None, &call[..]),
            ("POST", json, &call[..]),
        ] {
            let api_headers = content_type
                .map(|value| vec![HeaderField::new("Content-Type", value)])
                .unwrap_or_default();
            let expected = crate::api::http::respond(&backend, method, &api_headers, body).await;
            let ours =
                match handler.check_head(method, &request(method, content_type, body).headers) {
                    Err(reply) => reply,
                    Ok(()) => handler.handle(request(method, content_type, body)).await,
                };
            assert_eq!(ours, sdk_reply(expected), "{method} {content_type:?}");
        }
        let too_large = handler.refuse_body(BodyRefusal::TooLarge);
        assert_eq!(too_large, sdk_reply(Refusal::TooLarge.into()));
        assert_eq!(too_large.status, 413);
    }
}
