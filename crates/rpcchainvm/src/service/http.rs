//! The `http.HTTP` gRPC service: how HTTP requests reach a VM's [`SharedHandler`] from the node
//! (docs/spec/node-behaviour.md section 8, wire-45.md 2.2, 2.5, 4.5, 4.6).
//!
//! The node forwards plain HTTP/1.x requests through `HandleSimple` (whole body inline) and
//! HTTP/2 and `Upgrade` requests through `Handle` (body streamed from, and reply written to, a
//! per-request server of the node's). This module only carries bytes and converts header lists.
//! We always answer with an HTTP status inside a gRPC OK, as the node turns gRPC errors into bare
//! 500s.

use crate::http::{BodyRefusal, HeaderField, HttpReply, HttpRequest, SharedHandler};
use crate::observe::{observed, SharedObserver};
use crate::pb::http::http_server::{Http, HttpServer};
use crate::pb::http::responsewriter::writer_client::WriterClient;
use crate::pb::http::responsewriter::{Header, WriteHeaderRequest, WriteRequest};
use crate::pb::http::{
    Element, HandleSimpleHttpRequest, HandleSimpleHttpResponse, HttpRequest as PbHttpRequest,
    HttpResponse,
};
use crate::pb::io::reader::reader_client::ReaderClient;
use crate::pb::io::reader::{ReadRequest, ReadResponse};
use crate::protocol::{HandleBody, Profile, ReadErrorLayout};
use crate::shutdown::Shutdown;
use crate::tasks::TaskTracker;
use crate::transport;
use crate::wire::ReadOutcome;
use std::net::SocketAddr;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

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
    limit: usize,
) -> Result<bool, BodyRefusal> {
    body.extend_from_slice(&response.read);
    if body.len() > limit {
        return Err(BodyRefusal::TooLarge);
    }
    match response
        .outcome(layout)
        .map_err(|e| BodyRefusal::Read(e.to_string()))?
    {
        ReadOutcome::More => Ok(false),
        ReadOutcome::Eof => Ok(true),
        ReadOutcome::Failed(text) => Err(BodyRefusal::Read(text)),
    }
}

/// Streams the request body from the node's `io.reader.Reader` until EOF.
async fn read_body(
    channel: Channel,
    layout: ReadErrorLayout,
    limit: usize,
) -> Result<Vec<u8>, BodyRefusal> {
    let mut reader = ReaderClient::new(channel).max_decoding_message_size(usize::MAX);
    let mut body = Vec::new();
    let mut empty_reads = 0;
    loop {
        let response = reader
            .read(ReadRequest { length: READ_CHUNK })
            .await
            .map_err(|status| BodyRefusal::Read(status.message().to_owned()))?
            .into_inner();
        let got_data = !response.read.is_empty();
        if absorb(&mut body, response, layout, limit)? {
            return Ok(body);
        }
        empty_reads = if got_data { 0 } else { empty_reads + 1 };
        if empty_reads >= MAX_EMPTY_READS {
            return Err(BodyRefusal::Read("no data and no EOF from the node".into()));
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

/// The `http.HTTP` server for one handler, in the layouts of the node's profile.
struct HttpService {
    handler: SharedHandler,
    profile: Profile,
}

impl HttpService {
    /// The request body: inline in `Request.body` up to 39, streamed from the node's reader after.
    async fn body(&self, inline: Vec<u8>, channel: Channel) -> Result<Vec<u8>, BodyRefusal> {
        let limit = self.handler.max_body_bytes();
        match self.profile.handle_body() {
            HandleBody::Inline if inline.len() > limit => Err(BodyRefusal::TooLarge),
            HandleBody::Inline => Ok(inline),
            HandleBody::Streamed(layout) => read_body(channel, layout, limit).await,
        }
    }
}

#[tonic::async_trait]
impl Http for HttpService {
    /// HTTP/2 and `Upgrade` requests. Websockets are not carried: an upgrade request is handled
    /// like any other.
    async fn handle(
        &self,
        request: Request<PbHttpRequest>,
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
        let limit = self.handler.max_body_bytes();
        let announced_too_large =
            usize::try_from(inner.content_length).is_ok_and(|length| length > limit);
        let headers = from_pb(inner.header);
        // The head is checked before the body is read, so a refused request costs no body
        // transfer.
        let reply = match self.handler.check_head(&inner.method, &headers) {
            Err(reply) => reply,
            Ok(()) if announced_too_large => self.handler.refuse_body(BodyRefusal::TooLarge),
            Ok(()) => match self.body(inner.body, channel.clone()).await {
                Ok(body) => {
                    let request = HttpRequest {
                        method: inner.method,
                        url: inner.request_uri,
                        headers,
                        body,
                    };
                    self.handler.handle(request).await
                }
                Err(refusal) => self.handler.refuse_body(refusal),
            },
        };
        let headers = reply.headers_over(from_pb(writer.header));
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
        let preset = from_pb(request.response_headers);
        let reply = self
            .handler
            .respond(HttpRequest {
                method: request.method,
                url: request.url,
                headers: from_pb(request.request_headers),
                body: request.body,
            })
            .await;
        Ok(Response::new(HandleSimpleHttpResponse {
            code: i32::from(reply.status),
            headers: to_pb(&reply.headers_over(preset)),
            body: reply.body,
        }))
    }
}

/// Starts an `http.HTTP` server for `handler` on a fresh loopback port and returns its address,
/// which goes to the node in a `Handler` (CreateHandlers, CreateStaticHandlers) or a
/// `NewHTTPHandlerResponse` / `CreateHTTP2HandlerResponse`. The server runs until `stop` fires,
/// as a task of `tasks`; replies are unlimited like the node's, requests decoded within
/// [`transport::MAX_DECODING_MESSAGE_BYTES`].
pub(crate) async fn serve_http(
    handler: SharedHandler,
    profile: Profile,
    observer: SharedObserver,
    stop: Shutdown,
    tasks: &TaskTracker,
) -> std::io::Result<SocketAddr> {
    let (listener, addr) = transport::bind_loopback().await?;
    let service = HttpServer::new(HttpService { handler, profile })
        .max_decoding_message_size(transport::MAX_DECODING_MESSAGE_BYTES)
        .max_encoding_message_size(usize::MAX);
    tasks.spawn("http.HTTP server", async move {
        let served = tonic::transport::Server::builder()
            .add_service(observed(service, observer))
            .serve_with_incoming_shutdown(transport::incoming(listener), stop.wait())
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

    const LIMIT: usize = 2 * 1024 * 1024;

    #[test]
    fn body_reader_eof_rules() {
        let coded = ReadErrorLayout::Coded;
        let mut body = Vec::new();
        assert_eq!(
            absorb(&mut body, ReadResponse::data(b"ab".to_vec()), coded, LIMIT),
            Ok(false)
        );
        // Data may come together with EOF (wire-45.md 4.6).
        let last = ReadResponse::eof(coded, b"c".to_vec());
        assert_eq!(absorb(&mut body, last, coded, LIMIT), Ok(true));
        assert_eq!(body, b"abc");
        // 40-41 say EOF as bare text.
        let text = ReadResponse::eof(ReadErrorLayout::Text, Vec::new());
        assert_eq!(
            absorb(&mut body, text, ReadErrorLayout::Text, LIMIT),
            Ok(true)
        );
        let broken = ReadResponse::failed(coded, "unexpected EOF");
        assert_eq!(
            absorb(&mut body, broken, coded, LIMIT),
            Err(BodyRefusal::Read("unexpected EOF".into()))
        );
        let huge = ReadResponse::data(vec![b' '; LIMIT]);
        assert_eq!(
            absorb(&mut body, huge, coded, LIMIT),
            Err(BodyRefusal::TooLarge)
        );
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
