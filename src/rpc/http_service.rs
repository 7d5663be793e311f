//! The `http.HTTP` gRPC service: how JSON-RPC requests reach us from the node
//! (shared/spec/node-behaviour.md section 8, wire-45.md 2.2, 2.5, 4.5, 4.6).
//!
//! The node forwards plain HTTP/1.x requests through `HandleSimple` (whole body inline) and
//! HTTP/2 and `Upgrade` requests through `Handle` (body streamed from, and reply written to, a
//! per-request server of the node's). Both end in [`crate::api::http`]: the Go reference's HTTP
//! checks, then JSON-RPC. This module only carries bytes and converts header lists. We always
//! answer with an HTTP status inside a gRPC OK, as the node turns gRPC errors into bare 500s.

use crate::api::http::{check_request, respond, HeaderField, HttpReply, Refusal};
use crate::api::{methods, Backend};
use crate::rpc::pb::http::http_server::{Http, HttpServer};
use crate::rpc::pb::http::responsewriter::writer_client::WriterClient;
use crate::rpc::pb::http::responsewriter::{Header, WriteHeaderRequest, WriteRequest};
use crate::rpc::pb::http::{
    Element, HandleSimpleHttpRequest, HandleSimpleHttpResponse, HttpRequest, HttpResponse,
};
use crate::rpc::pb::io::reader::reader_client::ReaderClient;
use crate::rpc::pb::io::reader::{ErrorCode, ReadRequest, ReadResponse};
use crate::rpc::transport;
use crate::shutdown::Shutdown;
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

/// Takes one `Read` answer into `body`. `Ok(true)` at end of body: EOF is `ERROR_CODE_EOF`, or
/// the bare text `EOF` from a node that leaves the code unset; data may come with it.
fn absorb(body: &mut Vec<u8>, response: ReadResponse) -> Result<bool, Refusal> {
    body.extend_from_slice(&response.read);
    if body.len() > MAX_BODY_BYTES {
        return Err(Refusal::TooLarge);
    }
    match response.error {
        None => Ok(false),
        Some(error)
            if error.error_code == ErrorCode::Eof as i32
                || (error.error_code == ErrorCode::Unspecified as i32
                    && error.message == "EOF") =>
        {
            Ok(true)
        }
        Some(error) => Err(Refusal::Read(error.message)),
    }
}

/// Streams the request body from the node's `io.reader.Reader` until EOF.
async fn read_body(channel: Channel) -> Result<Vec<u8>, Refusal> {
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
        if absorb(&mut body, response)? {
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

/// The `http.HTTP` server for one handler: it holds only the backend, state lives in the actors.
pub struct HttpService<B: Backend> {
    backend: B,
}

impl<B: Backend> HttpService<B> {
    /// Wraps a backend; serve it with [`HttpServer::new`] or, usually, [`serve_http`].
    pub fn new(backend: B) -> Self {
        HttpService { backend }
    }
}

#[tonic::async_trait]
impl<B: Backend> Http for HttpService<B> {
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
            Ok(()) => match read_body(channel.clone()).await {
                Ok(body) => HttpReply::json(methods::handle_body(&self.backend, &body).await),
                Err(refusal) => refusal.into(),
            },
        };
        let headers = reply.headers(from_pb(writer.header));
        write_reply(channel, &headers, &reply).await?;
        Ok(Response::new(HttpResponse {
            header: to_pb(&headers),
        }))
    }

    /// Plain HTTP/1.x requests, which is what curl and JSON-RPC clients send.
    async fn handle_simple(
        &self,
        request: Request<HandleSimpleHttpRequest>,
    ) -> Result<Response<HandleSimpleHttpResponse>, Status> {
        let request = request.into_inner();
        let headers = from_pb(request.request_headers);
        let reply = respond(&self.backend, &request.method, &headers, &request.body).await;
        Ok(Response::new(HandleSimpleHttpResponse {
            code: i32::from(reply.status),
            headers: to_pb(&reply.headers(from_pb(request.response_headers))),
            body: reply.body,
        }))
    }
}

/// Starts an `http.HTTP` server on a fresh loopback port and returns its address, which goes
/// to the node in a `Handler` (CreateHandlers) or a `NewHTTPHandlerResponse`. The server runs
/// until `shutdown` fires; message sizes are unlimited like the node's.
pub async fn serve_http<B: Backend>(backend: B, shutdown: Shutdown) -> std::io::Result<SocketAddr> {
    let (listener, addr) = transport::bind_loopback().await?;
    let service = HttpServer::new(HttpService::new(backend))
        .max_decoding_message_size(usize::MAX)
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
    use crate::rpc::pb::io::reader::Error as ReadError;

    fn answer(read: &[u8], error: Option<(ErrorCode, &str)>) -> ReadResponse {
        ReadResponse {
            read: read.to_vec(),
            error: error.map(|(code, message)| ReadError {
                error_code: code as i32,
                message: message.into(),
            }),
        }
    }

    #[test]
    fn body_reader_eof_rules() {
        let mut body = Vec::new();
        assert_eq!(absorb(&mut body, answer(b"ab", None)), Ok(false));
        // Data may come together with EOF (wire-45.md 4.6).
        let last = answer(b"c", Some((ErrorCode::Eof, "EOF")));
        assert_eq!(absorb(&mut body, last), Ok(true));
        assert_eq!(body, b"abc");
        let bare = answer(b"", Some((ErrorCode::Unspecified, "EOF")));
        assert_eq!(absorb(&mut body, bare), Ok(true));
        let broken = answer(b"", Some((ErrorCode::Unspecified, "unexpected EOF")));
        assert_eq!(
            absorb(&mut body, broken),
            Err(Refusal::Read("unexpected EOF".into()))
        );
        let huge = answer(&vec![b' '; MAX_BODY_BYTES], None);
        assert_eq!(absorb(&mut body, huge), Err(Refusal::TooLarge));
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
