//! The chain's JSON-RPC API over HTTP: any [`Backend`] answers as a gorilla/rpc endpoint
//! (`rpcchainvm::jsonrpc::over_http`: POST only, JSON only, the body limit, the reply's headers),
//! whichever transport carries the request (docs/spec/vectors.md §3.3).

use super::{methods, Backend};
use rpcchainvm::jsonrpc::over_http::JsonRpcApi;

/// A chain's `timestampvm.*` methods over any [`Backend`], as an HTTP JSON-RPC endpoint.
#[derive(Debug, Clone)]
pub struct ChainApi<B: Backend>(pub B);

impl<B: Backend> JsonRpcApi for ChainApi<B> {
    async fn handle_body(&self, body: &[u8]) -> Option<Vec<u8>> {
        methods::handle_body(&self.0, body).await
    }
}

#[cfg(test)]
mod tests {
    //! The chain's methods behind the SDK's HTTP checks: the bytes a Go client reads.
    use super::ChainApi;
    use crate::api::memory_backend::MemoryBackend;
    use rpcchainvm::http::HeaderField;
    use rpcchainvm::jsonrpc::over_http::{
        respond, JSON_CONTENT_TYPE, MAX_BODY_BYTES, TEXT_CONTENT_TYPE,
    };

    fn json_headers() -> Vec<HeaderField> {
        vec![HeaderField::new("Content-Type", "application/json")]
    }

    /// The reply's content type, as the node would send it.
    fn content_type(reply: &rpcchainvm::http::HttpReply) -> Option<&str> {
        reply
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case("Content-Type"))
            .map(|header| header.values[0].as_str())
    }

    #[tokio::test]
    async fn respond_runs_checks_then_json_rpc() {
        let backend = ChainApi(MemoryBackend::genesis_only());
        let get = respond(&backend, "GET", &json_headers(), b"{}").await;
        assert_eq!(
            (get.status, content_type(&get)),
            (405, Some(TEXT_CONTENT_TYPE))
        );
        assert_eq!(respond(&backend, "POST", &[], b"{}").await.status, 415);
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        let refused = respond(&backend, "POST", &json_headers(), &big).await;
        assert_eq!(refused.status, 413);
        assert!(String::from_utf8_lossy(&refused.body).contains("2097152"));

        let call = br#"{"jsonrpc":"2.0","method":"timestampvm.lastAccepted","id":1}"#;
        let reply = respond(&backend, "POST", &json_headers(), call).await;
        assert_eq!(
            (reply.status, content_type(&reply)),
            (200, Some(JSON_CONTENT_TYPE))
        );
        assert_eq!(
            reply.body,
            b"{\"jsonrpc\":\"2.0\",\"result\":{\"id\":\"26YwkG2RtzBa9pP5pj9qDvjYbw19PtF7ajT75hDZ3FTs4Waurp\",\"height\":\"0\"},\"id\":1}\n"
        );
        let notification = br#"{"jsonrpc":"2.0","method":"timestampvm.lastAccepted"}"#;
        let reply = respond(&backend, "POST", &json_headers(), notification).await;
        assert_eq!(
            (reply.status, content_type(&reply), reply.body.len()),
            (200, None, 0)
        );
        // A JSON-RPC error is still an HTTP 200 with a JSON body.
        let unknown = br#"{"jsonrpc":"2.0","method":"timestampvm.nope","id":1}"#;
        let reply = respond(&backend, "POST", &json_headers(), unknown).await;
        assert_eq!(
            (reply.status, content_type(&reply)),
            (200, Some(JSON_CONTENT_TYPE))
        );
    }
}
