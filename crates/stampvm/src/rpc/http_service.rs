//! The `http.HTTP` gRPC service: how JSON-RPC requests reach us from the node
//! (docs/spec/node-behaviour.md section 8, wire-45.md 2.2, 2.5, 4.5, 4.6).
//!
//! The node forwards plain HTTP/1.x requests through `HandleSimple` (whole body inline) and
//! HTTP/2 and `Upgrade` requests through `Handle` (body streamed from, and reply written to, a
//! per-request server of the node's). Both end in [`crate::api::http`]: the Go reference's HTTP
//! checks, then JSON-RPC. This module only carries bytes and converts header lists. We always
//! answer with an HTTP status inside a gRPC OK, as the node turns gRPC errors into bare 500s.

use crate::api::http::{check_request, respond, HeaderField, HttpReply, JsonRpcApi, Refusal};
use rpcchainvm::pb::http::http_server::{Http, HttpServer};
use rpcchainvm::pb::http::responsewriter::writer_client::WriterClient;
use rpcchainvm::pb::http::responsewriter::{Header, WriteHeaderRequest, WriteRequest};
use rpcchainvm::pb::http::{
    Element, HandleSimpleHttpRequest, HandleSimpleHttpResponse, HttpRequest, HttpResponse,
};
use rpcchainvm::pb::io::reader::reader_client::ReaderClient;
use rpcchainvm::pb::io::reader::{ReadRequest, ReadResponse};
use rpcchainvm::protocol::{HandleBody, Profile, ReadErrorLayout};
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm::transport;
use rpcchainvm::wire::ReadOutcome;
use std::net::SocketAddr;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

/// Re-exported where the node-facing code looks for it: the largest body `Handle` reads and
/// `HandleSimple` accepts.
pub use crate::api::http::MAX_BODY_BYTES;

/// How much `Handle` asks the node's body reader for at a time.
const READ_CHUNK: i32 = 64 * 1024;
/// The most `Handle` sends in one `Write`: below gRPC's default 4 MiB message limit, which the
/// node's per-request server may keep.
const WRITE_CHUNK: usize = 1024 * 1024;
/// A reader that keeps returning nothing without EOF is broken; stop asking after this many.
const MAX_EMPTY_READS: usize = 100;

fn from_pb(elements: Vec<Element>) -> Vec<HeaderField> {
    elements
        .into_iter()
        .map(|element| HeaderField {
            name: element.key,
            values: element.values,
        })
        .collect()
}

fn to_pb(headers: &[HeaderField]) -> Vec<Element> {
    headers
        .iter()
        .map(|header| Element {
            key: header.name.clone(),
            values: header.values.clone(),
        })
        .collect()
}

/// Takes one `Read` answer into `body`. `Ok(true)` at end of body (data may come with it), read
/// in the profile's layout: the text `EOF` at 40-41, `ERROR_CODE_EOF` from 42.
fn absorb(
    body: &mut Vec<u8>,
    response: ReadResponse,
    layout: ReadErrorLayout,
) -> Result<bool, Refusal> {
    body.extend_from_slice(&response.read);
    if body.len() > MAX_BODY_BYTES {
        return Err(Refusal::TooLarge);
    }
    match response
        .outcome(layout)
        .map_err(|e| Refusal::Read(e.to_string()))?
    {
        ReadOutcome::More => Ok(false),
        ReadOutcome::Eof => Ok(true),
        ReadOutcome::Failed(text) => Err(Refusal::Read(text)),
    }
}

/// Streams the request body from the node's `io.reader.Reader` until EOF.
async fn read_body(channel: Channel, layout: ReadErrorLayout) -> Result<Vec<u8>, Refusal> {
    let mut reader = ReaderClient::new(channel).max_decoding_message_size(usize::MAX);
    let mut body = Vec::new();
    let mut empty_reads = 0;
    loop {
        let response = reader
            .read(ReadRequest { length: READ_CHUNK })
            .await
            .map_err(|status| Refusal::Read(status.message().to_owned()))?
            .into_inner();
        let got_data = !response.read.is_empty();
        if absorb(&mut body, response, layout)? {
            return Ok(body);
        }
        empty_reads = if got_data { 0 } else { empty_reads + 1 };
        if empty_reads >= MAX_EMPTY_READS {
            return Err(Refusal::Read("no data and no EOF from the node".into()));
        }
    }
}

/// Sends status, headers and body through the node's `http.responsewriter.Writer`. Every call
/// carries the complete header list, since each one replaces the node's header map.
async fn write_reply(
    channel: Channel,
    headers: &[HeaderField],
    reply: &HttpReply,
) -> Result<(), Status> {
    let mut writer = WriterClient::new(channel).max_encoding_message_size(usize::MAX);
    let headers: Vec<Header> = headers
        .iter()
        .map(|header| Header {
            key: header.name.clone(),
            values: header.values.clone(),
        })
        .collect();
    writer
        .write_header(WriteHeaderRequest {
            headers: headers.clone(),
            status_code: i32::from(reply.status),
        })
        .await?;
    for chunk in reply.body.chunks(WRITE_CHUNK) {
        writer
            .write(WriteRequest {
                headers: headers.clone(),
                payload: chunk.to_vec(),
            })
            .await?;
    }
    Ok(())
}

/// The `http.HTTP` server for one handler: the API it answers with (state lives in the actors)
/// and the profile whose message layouts the node uses.
pub struct HttpService<A: JsonRpcApi> {
    api: A,
    profile: Profile,
}

impl<A: JsonRpcApi> HttpService<A> {
    /// Wraps an API; serve it with [`HttpServer::new`] or, usually, [`serve_http`].
    pub fn new(api: A, profile: Profile) -> Self {
        HttpService { api, profile }
    }

    /// The request body: inline in `Request.body` up to 39, streamed from the node's reader after.
    async fn body(&self, inline: Vec<u8>, channel: Channel) -> Result<Vec<u8>, Refusal> {
        match self.profile.handle_body() {
            HandleBody::Inline if inline.len() > MAX_BODY_BYTES => Err(Refusal::TooLarge),
            HandleBody::Inline => Ok(inline),
            HandleBody::Streamed(layout) => read_body(channel, layout).await,
        }
    }
}

#[tonic::async_trait]
impl<A: JsonRpcApi> Http for HttpService<A> {
    /// HTTP/2 and `Upgrade` requests. Websockets are not part of the API: an upgrade request
    /// gets the same answer as any other (a GET is refused with 405).
    async fn handle(
        &self,
        request: Request<HttpRequest>,
    ) -> Result<Response<HttpResponse>, Status> {
        let request = request.into_inner();
        let writer = request
            .response_writer
            .ok_or_else(|| Status::invalid_argument("HTTPRequest without response_writer"))?;
        let inner = request.request.unwrap_or_default();
        let channel = transport::connect(&writer.server_addr)
            .await
            .map_err(|error| {
                Status::unavailable(format!(
                    "dialing the node's response writer at {}: {error}",
                    writer.server_addr
                ))
            })?;
        let announced_too_large =
            usize::try_from(inner.content_length).is_ok_and(|length| length > MAX_BODY_BYTES);
        // The method and content type are checked before the body is read, so a refused
        // request costs no body transfer.
        let reply = match check_request(&inner.method, &from_pb(inner.header)) {
            Err(refusal) => refusal.into(),
            Ok(()) if announced_too_large => Refusal::TooLarge.into(),
            Ok(()) => match self.body(inner.body, channel.clone()).await {
                Ok(body) => HttpReply::json(self.api.handle_body(&body).await),
                Err(refusal) => refusal.into(),
            },
        };
        let headers = reply.headers(from_pb(writer.header));
        write_reply(channel, &headers, &reply).await?;
        // Up to 39 the node expects Empty: an HTTPResponse without headers is the same 0 bytes.
        let header = match self.profile.handle_returns_headers() {
            true => to_pb(&headers),
            false => Vec::new(),
        };
        Ok(Response::new(HttpResponse { header }))
    }

    /// Plain HTTP/1.x requests, which is what curl and JSON-RPC clients send.
    async fn handle_simple(
        &self,
        request: Request<HandleSimpleHttpRequest>,
    ) -> Result<Response<HandleSimpleHttpResponse>, Status> {
        let request = request.into_inner();
        let headers = from_pb(request.request_headers);
        let reply = respond(&self.api, &request.method, &headers, &request.body).await;
        Ok(Response::new(HandleSimpleHttpResponse {
            code: i32::from(reply.status),
            headers: to_pb(&reply.headers(from_pb(request.response_headers))),
            body: reply.body,
        }))
    }
}

/// Starts an `http.HTTP` server on a fresh loopback port and returns its address, which goes
/// to the node in a `Handler` (CreateHandlers, CreateStaticHandlers) or a
/// `NewHTTPHandlerResponse` / `CreateHTTP2HandlerResponse`. The server runs until `shutdown`
/// fires; replies are unlimited like the node's, requests decoded within
/// [`transport::MAX_DECODING_MESSAGE_BYTES`].
pub async fn serve_http<A: JsonRpcApi>(
    api: A,
    profile: Profile,
    shutdown: Shutdown,
) -> std::io::Result<SocketAddr> {
    let (listener, addr) = transport::bind_loopback().await?;
    let service = HttpServer::new(HttpService::new(api, profile))
        .max_decoding_message_size(transport::MAX_DECODING_MESSAGE_BYTES)
        .max_encoding_message_size(usize::MAX);
    tokio::spawn(async move {
        let served = tonic::transport::Server::builder()
            .add_service(crate::rpc::observe::observed(service))
            .serve_with_incoming_shutdown(transport::incoming(listener), shutdown.wait())
            .await;
        if let Err(error) = served {
            tracing::error!(%error, %addr, "the http.HTTP server stopped");
        }
    });
    Ok(addr)
}

#[cfg(test)]
mod tests {
    //! The body reader's EOF rule; the gRPC round trips are exercised by the integration tests.
    use super::*;

    #[test]
    fn body_reader_eof_rules() {
        let coded = ReadErrorLayout::Coded;
        let mut body = Vec::new();
        assert_eq!(
            absorb(&mut body, ReadResponse::data(b"ab".to_vec()), coded),
            Ok(false)
        );
        // Data may come together with EOF (wire-45.md 4.6).
        let last = ReadResponse::eof(coded, b"c".to_vec());
        assert_eq!(absorb(&mut body, last, coded), Ok(true));
        assert_eq!(body, b"abc");
        // 40-41 say EOF as bare text.
        let text = ReadResponse::eof(ReadErrorLayout::Text, Vec::new());
        assert_eq!(absorb(&mut body, text, ReadErrorLayout::Text), Ok(true));
        let broken = ReadResponse::failed(coded, "unexpected EOF");
        assert_eq!(
            absorb(&mut body, broken, coded),
            Err(Refusal::Read("unexpected EOF".into()))
        );
        let huge = ReadResponse::data(vec![b' '; MAX_BODY_BYTES]);
        assert_eq!(absorb(&mut body, huge, coded), Err(Refusal::TooLarge));
    }

    #[test]
    fn header_lists_convert_both_ways() {
        let elements = vec![Element {
            key: "Vary".into(),
            values: vec!["Origin".into(), "Accept".into()],
        }];
        assert_eq!(to_pb(&from_pb(elements.clone())), elements);
    }
}
