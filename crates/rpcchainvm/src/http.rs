//! HTTP as a VM's handlers see it: a request with its whole body, a reply, and the
//! [`HttpHandler`] trait. The SDK's `http.HTTP` service carries these over the node's `http.HTTP`
//! RPCs, whichever profile; no protobuf type appears here.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

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

/// A request whose head passed [`HttpHandler::check_head`] and whose body is complete and within
/// [`HttpHandler::max_body_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<HeaderField>,
    pub body: Vec<u8>,
}

/// A reply. `headers` are set on top of the node's preset headers (node ID, CORS): each replaces
/// every preset header of its name (compared case-insensitively), the rest are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<HeaderField>,
    pub body: Vec<u8>,
}

impl HttpReply {
    /// The complete header list the node gets: `preset` with ours set on top.
    pub fn headers_over(&self, preset: Vec<HeaderField>) -> Vec<HeaderField> {
        let mut headers = preset;
        for ours in &self.headers {
            headers.retain(|header| !header.name.eq_ignore_ascii_case(&ours.name));
            headers.push(ours.clone());
        }
        headers
    }
}

/// Why a request body could not be taken; [`HttpHandler::refuse_body`] words the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRefusal {
    /// Announced or found larger than [`HttpHandler::max_body_bytes`].
    TooLarge,
    /// The node could not give us the whole streamed body (the client went away, say).
    Read(String),
}

/// A VM's HTTP handler.
pub trait HttpHandler: Send + Sync + 'static {
    /// The largest request body taken; a larger one is refused without reading it all.
    fn max_body_bytes(&self) -> usize;

    /// Checks on the method and headers, made before any body is read, so a refused request
    /// costs no body transfer. `Err` is the reply.
    fn check_head(&self, _method: &str, _headers: &[HeaderField]) -> Result<(), HttpReply> {
        Ok(())
    }

    /// The reply to a body that could not be taken: 413 or 400 with the reason as text, unless
    /// the handler words it otherwise.
    fn refuse_body(&self, refusal: BodyRefusal) -> HttpReply {
        let (status, text) = match refusal {
            BodyRefusal::TooLarge => (413, "request body too large".to_owned()),
            BodyRefusal::Read(reason) => (400, format!("reading the request body: {reason}")),
        };
        HttpReply {
            status,
            headers: vec![HeaderField::new(
                "Content-Type",
                "text/plain; charset=utf-8",
            )],
            body: text.into_bytes(),
        }
    }

    /// Answers a checked request.
    fn handle(&self, request: HttpRequest) -> impl Future<Output = HttpReply> + Send;
}

/// The object-safe face of [`HttpHandler`], for [`SharedHandler`].
trait DynHandler: Send + Sync {
    fn max_body_bytes(&self) -> usize;
    fn check_head(&self, method: &str, headers: &[HeaderField]) -> Result<(), HttpReply>;
    fn refuse_body(&self, refusal: BodyRefusal) -> HttpReply;
    fn handle(&self, request: HttpRequest) -> Pin<Box<dyn Future<Output = HttpReply> + Send + '_>>;
}

impl<H: HttpHandler> DynHandler for H {
    fn max_body_bytes(&self) -> usize {
        HttpHandler::max_body_bytes(self)
    }
    fn check_head(&self, method: &str, headers: &[HeaderField]) -> Result<(), HttpReply> {
        HttpHandler::check_head(self, method, headers)
    }
    fn refuse_body(&self, refusal: BodyRefusal) -> HttpReply {
        HttpHandler::refuse_body(self, refusal)
    }
    fn handle(&self, request: HttpRequest) -> Pin<Box<dyn Future<Output = HttpReply> + Send + '_>> {
        Box::pin(HttpHandler::handle(self, request))
    }
}

/// A handler as [`crate::Vm`] hands it to the service: cheap to clone, and clones are the same
/// handler, served by one `http.HTTP` server however many prefixes or calls return it.
#[derive(Clone)]
pub struct SharedHandler(Arc<dyn DynHandler>);

impl SharedHandler {
    pub fn new(handler: impl HttpHandler) -> SharedHandler {
        SharedHandler(Arc::new(handler))
    }

    /// True when both are clones of one [`SharedHandler::new`].
    pub fn same_as(&self, other: &SharedHandler) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    pub(crate) fn max_body_bytes(&self) -> usize {
        self.0.max_body_bytes()
    }

    pub(crate) fn check_head(
        &self,
        method: &str,
        headers: &[HeaderField],
    ) -> Result<(), HttpReply> {
        self.0.check_head(method, headers)
    }

    pub(crate) fn refuse_body(&self, refusal: BodyRefusal) -> HttpReply {
        self.0.refuse_body(refusal)
    }

    pub(crate) async fn handle(&self, request: HttpRequest) -> HttpReply {
        self.0.handle(request).await
    }

    /// The whole exchange for a request whose body came inline: head checks, the body limit,
    /// then the handler.
    pub(crate) async fn respond(&self, request: HttpRequest) -> HttpReply {
        if let Err(reply) = self.check_head(&request.method, &request.headers) {
            return reply;
        }
        if request.body.len() > self.max_body_bytes() {
            return self.refuse_body(BodyRefusal::TooLarge);
        }
        self.handle(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_headers_replace_preset_ones_of_their_name() {
        let node_id = HeaderField::new("Node-Id", "NodeID-111111111111111111116DBWJs");
        let vary = HeaderField::new("Vary", "Origin");
        let preset = vec![
            node_id.clone(),
            HeaderField::new("content-type", "text/html"),
            vary.clone(),
        ];
        let json = HeaderField::new("Content-Type", "application/json");
        let reply = HttpReply {
            status: 200,
            headers: vec![json.clone()],
            body: Vec::new(),
        };
        assert_eq!(reply.headers_over(preset), vec![node_id, vary, json]);
    }
}
