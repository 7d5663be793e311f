//! The HTTP face of the JSON-RPC API, independent of how requests reach us: the checks the Go
//! reference's gorilla/rpc server makes before any JSON-RPC (POST only, JSON only), our body
//! limit, and the reply's status and headers (docs/spec/vectors.md 3.3, node-behaviour.md 8.3).
//!
//! The SDK's `http.HTTP` service carries these over the node's RPCs (through [`crate::vm`]'s
//! handler), so no protobuf type enters this module.

use super::{methods, Backend};

/// The largest request body we accept. A JSON-RPC call is a few hundred bytes; this leaves room
/// for big batches while keeping one request from costing unbounded memory.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// One HTTP header: its name and all its values in order, as the node's header lists carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    pub name: String,
    pub values: Vec<String>,
}

impl HeaderField {
    pub fn new(name: &str, value: &str) -> Self {
        HeaderField {
            name: name.to_owned(),
            values: vec![value.to_owned()],
        }
    }
}

/// Why a request is answered before (or instead of) running JSON-RPC. The texts of the first
/// two are gorilla/rpc's, which clients of the Go reference may match on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("rpc: POST method required, received {0}")]
    Method(String),
    #[error("rpc: unrecognized Content-Type: {0}")]
    ContentType(String),
    #[error("rpc: request body larger than the limit of {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// The node could not give us the whole streamed body (the client went away, say).
    #[error("rpc: reading the request body: {0}")]
    Read(String),
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Method(_) => 405,
            Refusal::ContentType(_) => 415,
            Refusal::TooLarge => 413,
            Refusal::Read(_) => 400,
        }
    }
}

/// An HTTP reply, whichever RPC carries it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    content_type: Option<&'static str>,
    /// Gorilla sets `X-Content-Type-Options: nosniff` on everything its JSON codec answers.
    nosniff: bool,
    pub body: Vec<u8>,
}

impl From<Refusal> for HttpReply {
    fn from(refusal: Refusal) -> HttpReply {
        HttpReply {
            status: refusal.status(),
            content_type: Some(TEXT_CONTENT_TYPE),
            nosniff: false,
            body: refusal.to_string().into_bytes(),
        }
    }
}

impl HttpReply {
    /// What the JSON-RPC layer produced; `None` (only notifications) is an empty 200, which,
    /// like Go's, names no content type.
    pub fn json(body: Option<Vec<u8>>) -> HttpReply {
        HttpReply {
            status: 200,
            content_type: body.as_ref().map(|_| JSON_CONTENT_TYPE),
            nosniff: true,
            body: body.unwrap_or_default(),
        }
    }

    /// The complete header list: the node's preset headers (node-id, CORS), which it drops
    /// unless we send them back (protocol 40+), with ours set on top.
    pub fn headers(&self, preset: Vec<HeaderField>) -> Vec<HeaderField> {
        let mut headers = preset;
        if let Some(content_type) = self.content_type {
            set_header(&mut headers, "Content-Type", content_type);
        }
        if self.nosniff {
            set_header(&mut headers, "X-Content-Type-Options", "nosniff");
        }
        headers
    }
}

/// Replaces every value of `name` (compared case-insensitively, as HTTP does) with `value`.
fn set_header(headers: &mut Vec<HeaderField>, name: &str, value: &str) {
    headers.retain(|header| !header.name.eq_ignore_ascii_case(name));
    headers.push(HeaderField::new(name, value));
}

/// The first value of a header, as Go's `Header.Get` reads it.
fn header_value<'a>(headers: &'a [HeaderField], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|header| header.name.eq_ignore_ascii_case(name))
        .and_then(|header| header.values.first())
        .map(String::as_str)
}

/// Gorilla's checks, in its order: POST (case-sensitive, as Go compares), then a Content-Type
/// of `application/json`, parameters after `;` ignored, case-insensitive. A missing one is
/// refused because the Go reference registers two codecs and so has no default.
pub fn check_request(method: &str, headers: &[HeaderField]) -> Result<(), Refusal> {
    if method != "POST" {
        return Err(Refusal::Method(method.to_owned()));
    }
    let content_type = header_value(headers, "Content-Type").unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(Refusal::ContentType(media_type.to_owned()));
    }
    Ok(())
}

/// The whole exchange once the body is in hand: checks, limit, then JSON-RPC.
pub async fn respond<A: JsonRpcApi>(
    api: &A,
    method: &str,
    headers: &[HeaderField],
    body: &[u8],
) -> HttpReply {
    if let Err(refusal) = check_request(method, headers) {
        return refusal.into();
    }
    if body.len() > MAX_BODY_BYTES {
        return Refusal::TooLarge.into();
    }
    HttpReply::json(api.handle_body(body).await)
}

/// The JSON-RPC methods an `http.HTTP` server answers with: a chain's (any [`Backend`]), or the
/// static API that profiles up to 30 mount per VM (`super::static_api`).
pub trait JsonRpcApi: Clone + Send + Sync + 'static {
    /// The reply body for one request body; `None` when only notifications came (empty 200).
    fn handle_body(&self, body: &[u8])
        -> impl std::future::Future<Output = Option<Vec<u8>>> + Send;
}

impl<B: Backend> JsonRpcApi for B {
    async fn handle_body(&self, body: &[u8]) -> Option<Vec<u8>> {
        methods::handle_body(self, body).await
    }
}

#[cfg(test)]
mod tests {
    //! Gorilla's HTTP-level texts (vectors.md 3.3), the header list, and the order of checks.
    use super::*;
    use crate::api::memory_backend::MemoryBackend;

    fn json_headers() -> Vec<HeaderField> {
        vec![HeaderField::new("Content-Type", "application/json")]
    }

    #[test]
    fn gorilla_checks_and_texts() {
        let refusal = check_request("GET", &json_headers()).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "rpc: POST method required, received GET"
        );
        assert_eq!(refusal.status(), 405);
        assert!(check_request("post", &json_headers()).is_err());
        for accepted in [
            "application/json",
            "Application/JSON; charset=UTF-8",
            "application/json;charset=utf-8",
        ] {
            let headers = [HeaderField::new("content-type", accepted)];
            assert_eq!(check_request("POST", &headers), Ok(()), "{accepted}");
        }
        let text = [HeaderField::new("Content-Type", "text/plain")];
        let refusal = check_request("POST", &text).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "rpc: unrecognized Content-Type: text/plain"
        );
        assert_eq!(refusal.status(), 415);
        // Missing counts as wrong: the Go reference registers two codecs, so none is default.
        let refusal = check_request("POST", &[]).unwrap_err();
        assert_eq!(refusal.to_string(), "rpc: unrecognized Content-Type: ");
        // Go's Header.Get reads the first value only.
        let two = [HeaderField {
            name: "Content-Type".into(),
            values: vec!["text/plain".into(), "application/json".into()],
        }];
        assert!(check_request("POST", &two).is_err());
    }

    #[test]
    fn preset_headers_survive_and_ours_replace_theirs() {
        let node_id = HeaderField::new("Node-Id", "NodeID-111111111111111111116DBWJs");
        let vary = HeaderField::new("Vary", "Origin");
        let preset = vec![
            node_id.clone(),
            HeaderField::new("content-type", "text/html"),
            vary.clone(),
        ];
        let headers = HttpReply::json(Some(b"{}\n".to_vec())).headers(preset);
        let nosniff = HeaderField::new("X-Content-Type-Options", "nosniff");
        assert_eq!(
            headers,
            vec![
                node_id,
                vary,
                HeaderField::new("Content-Type", JSON_CONTENT_TYPE),
                nosniff.clone(),
            ]
        );
        assert_eq!(HttpReply::json(None).headers(Vec::new()), vec![nosniff]);
        let refused = HttpReply::from(Refusal::TooLarge).headers(Vec::new());
        assert_eq!(
            refused,
            vec![HeaderField::new("Content-Type", TEXT_CONTENT_TYPE)]
        );
    }

    #[tokio::test]
    async fn respond_runs_checks_then_json_rpc() {
        let backend = MemoryBackend::genesis_only();
        let get = respond(&backend, "GET", &json_headers(), b"{}").await;
        assert_eq!(
            (get.status, get.content_type),
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
            (reply.status, reply.content_type),
            (200, Some(JSON_CONTENT_TYPE))
        );
        assert_eq!(
            reply.body,
            b"{\"jsonrpc\":\"2.0\",\"result\":{\"id\":\"26YwkG2RtzBa9pP5pj9qDvjYbw19PtF7ajT75hDZ3FTs4Waurp\",\"height\":\"0\"},\"id\":1}\n"
        );
        let notification = br#"{"jsonrpc":"2.0","method":"timestampvm.lastAccepted"}"#;
        let reply = respond(&backend, "POST", &json_headers(), notification).await;
        assert_eq!(
            (reply.status, reply.content_type, reply.body.len()),
            (200, None, 0)
        );
        // A JSON-RPC error is still an HTTP 200 with a JSON body.
        let unknown = br#"{"jsonrpc":"2.0","method":"timestampvm.nope","id":1}"#;
        let reply = respond(&backend, "POST", &json_headers(), unknown).await;
        assert_eq!(
            (reply.status, reply.content_type),
            (200, Some(JSON_CONTENT_TYPE))
        );
    }
}
