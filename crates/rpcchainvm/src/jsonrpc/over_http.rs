//! JSON-RPC over HTTP the way gorilla/rpc serves it in AvalancheGo: the checks made before any
//! JSON-RPC runs (POST only, JSON only), a body limit, and the reply's status and headers
//! (docs/spec/vectors.md §3.3, docs/spec/node-behaviour.md §8.3). A VM's chain API and the node's
//! own APIs (`info`, `health`) answer HTTP this way, whichever transport carries the request.
//!
//! [`JsonRpcApi`] is what a service implements (a body in, a reply body out); [`respond`] runs
//! the whole exchange for a body in hand, and [`JsonRpcHandler`] is the same as an
//! [`HttpHandler`] for a VM's `create_handlers`.

use crate::http::{BodyRefusal, HeaderField, HttpHandler, HttpReply, HttpRequest};
use std::future::Future;

/// The largest request body taken by default. A JSON-RPC call is a few hundred bytes; this
/// leaves room for big batches while keeping one request from costing unbounded memory.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// Why a request is answered before (or instead of) running JSON-RPC. The texts of the first
/// two are gorilla/rpc's, which Go clients may match on.
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

impl From<Refusal> for HttpReply {
    fn from(refusal: Refusal) -> HttpReply {
        HttpReply {
            status: refusal.status(),
            headers: vec![HeaderField::new("Content-Type", TEXT_CONTENT_TYPE)],
            body: refusal.to_string().into_bytes(),
        }
    }
}

impl From<BodyRefusal> for Refusal {
    fn from(refusal: BodyRefusal) -> Refusal {
        match refusal {
            BodyRefusal::TooLarge => Refusal::TooLarge,
            BodyRefusal::Read(reason) => Refusal::Read(reason),
        }
    }
}

/// The reply to what the JSON-RPC layer produced: a JSON body, or for notifications only
/// (`None`) an empty 200 that, like Go's, names no content type. Gorilla sets
/// `X-Content-Type-Options: nosniff` on everything its JSON codec answers.
pub fn json_reply(body: Option<Vec<u8>>) -> HttpReply {
    let mut headers = Vec::with_capacity(2);
    if body.is_some() {
        headers.push(HeaderField::new("Content-Type", JSON_CONTENT_TYPE));
    }
    headers.push(HeaderField::new("X-Content-Type-Options", "nosniff"));
    HttpReply {
        status: 200,
        headers,
        body: body.unwrap_or_default(),
    }
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
/// refused because AvalancheGo's servers register two codecs and so have no default.
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

/// The JSON-RPC methods an HTTP endpoint answers with.
pub trait JsonRpcApi: Clone + Send + Sync + 'static {
    /// The reply body for one request body; `None` when only notifications came (empty 200).
    fn handle_body(&self, body: &[u8]) -> impl Future<Output = Option<Vec<u8>>> + Send;
}

/// The whole exchange once the body is in hand: checks, the [`MAX_BODY_BYTES`] limit, then
/// JSON-RPC.
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
    json_reply(api.handle_body(body).await)
}

/// A [`JsonRpcApi`] as a VM's HTTP handler: the same answers as [`respond`], with the head
/// checked before any body is read.
#[derive(Debug, Clone)]
pub struct JsonRpcHandler<A: JsonRpcApi>(pub A);

impl<A: JsonRpcApi> HttpHandler for JsonRpcHandler<A> {
    fn max_body_bytes(&self) -> usize {
        MAX_BODY_BYTES
    }

    fn check_head(&self, method: &str, headers: &[HeaderField]) -> Result<(), HttpReply> {
        check_request(method, headers).map_err(HttpReply::from)
    }

    fn refuse_body(&self, refusal: BodyRefusal) -> HttpReply {
        Refusal::from(refusal).into()
    }

    async fn handle(&self, request: HttpRequest) -> HttpReply {
        json_reply(self.0.handle_body(&request.body).await)
    }
}

#[cfg(test)]
mod tests {
    //! Gorilla's HTTP-level texts (vectors.md §3.3), the header list, and the order of checks.
    use super::*;

    fn json_headers() -> Vec<HeaderField> {
        vec![HeaderField::new("Content-Type", "application/json")]
    }

    /// Answers every body with its own length, or nothing for an empty one.
    #[derive(Clone)]
    struct Echo;

    impl JsonRpcApi for Echo {
        async fn handle_body(&self, body: &[u8]) -> Option<Vec<u8>> {
            (!body.is_empty()).then(|| format!("{}\n", body.len()).into_bytes())
        }
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
        // Missing counts as wrong: AvalancheGo registers two codecs, so none is the default.
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
        let headers = json_reply(Some(b"{}\n".to_vec())).headers_over(preset);
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
        assert_eq!(json_reply(None).headers_over(Vec::new()), vec![nosniff]);
        let refused = HttpReply::from(Refusal::TooLarge).headers_over(Vec::new());
        assert_eq!(
            refused,
            vec![HeaderField::new("Content-Type", TEXT_CONTENT_TYPE)]
        );
    }

    #[tokio::test]
    async fn respond_runs_checks_then_json_rpc() {
        let get = respond(&Echo, "GET", &json_headers(), b"{}").await;
        assert_eq!(get.status, 405);
        assert_eq!(respond(&Echo, "POST", &[], b"{}").await.status, 415);
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        let refused = respond(&Echo, "POST", &json_headers(), &big).await;
        assert_eq!(refused.status, 413);
        assert!(String::from_utf8_lossy(&refused.body).contains("2097152"));
        let reply = respond(&Echo, "POST", &json_headers(), b"{}").await;
        assert_eq!((reply.status, reply.body), (200, b"2\n".to_vec()));
        let notification = respond(&Echo, "POST", &json_headers(), b"").await;
        assert_eq!(
            (notification.status, notification.body.len()),
            (200, 0),
            "notifications only: an empty 200"
        );
    }

    /// The handler's order (head, then body) gives the answers [`respond`] gives.
    #[tokio::test]
    async fn the_handler_answers_as_respond_does() {
        let handler = JsonRpcHandler(Echo);
        for (method, headers) in [
            ("GET", json_headers()),
            ("POST", Vec::new()),
            ("POST", json_headers()),
        ] {
            let expected = respond(&Echo, method, &headers, b"{}").await;
            let ours = match handler.check_head(method, &headers) {
                Err(reply) => reply,
                Ok(()) => {
                    let request = HttpRequest {
                        method: method.into(),
                        url: "/ext/bc/x".into(),
                        headers,
                        body: b"{}".to_vec(),
                    };
                    handler.handle(request).await
                }
            };
            assert_eq!(ours, expected, "{method}");
        }
        let too_large = handler.refuse_body(BodyRefusal::TooLarge);
        assert_eq!(too_large, Refusal::TooLarge.into());
        assert_eq!(too_large.status, 413);
    }
}
