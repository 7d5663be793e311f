//! The gateway's `/http.HTTP/Handle` calls (docs/spec/node-behaviour.md section 8.4, wire-45.md
//! sections 2.5, 4.5 and 4.6): the per-request gRPC server the node runs for each call, through
//! which the plugin writes its response (`http.responsewriter.Writer`) and, from profile 40,
//! reads the request body (`io.reader.Reader`, ending it with the text `EOF` at 40-41 and
//! `ERROR_CODE_EOF` from 42). Up to 39 the body travels inline in `Request.body` and no Reader is
//! served. The Go-shaped `http.Request` itself is built in `go_http`. The gateway buffers the
//! whole response, so "writing" here means recording what the plugin sent; once `Handle` returns
//! the record becomes one buffered reply.

use super::go_http::go_request;
use axum::body::Bytes;
use axum::http::request::Parts;
use rpcchainvm::pb::http::http_client::HttpClient;
use rpcchainvm::pb::http::responsewriter::writer_server::{Writer, WriterServer};
use rpcchainvm::pb::http::responsewriter::{
    Header, HijackResponse, WriteHeaderRequest, WriteRequest, WriteResponse,
};
use rpcchainvm::pb::http::{Element, HandleSimpleHttpResponse, HttpRequest, ResponseWriter};
use rpcchainvm::pb::io::reader::reader_server::{Reader, ReaderServer};
use rpcchainvm::pb::io::reader::{ReadRequest, ReadResponse};
use rpcchainvm::protocol::{HandleBody, Profile, ReadErrorLayout};
use rpcchainvm::transport;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

/// Calls `Handle` as the node of `profile` does: serve the Writer (and from 40 the Reader) for
/// this one request, send the Go-shaped request (up to 39 with the body inline), stop the server
/// once `Handle` returns, and report what was written as a buffered reply (the `HandleSimple`
/// reply shape, so the gateway answers both RPCs the same way). Nothing written means 200 with
/// `HTTPResponse.header` (`Empty`, so no headers, up to 39); an error status after a write keeps
/// the write, since the node has already sent that status to the client.
pub(crate) async fn call_handle(
    client: &mut HttpClient<Channel>,
    profile: Profile,
    parts: &Parts,
    remote: SocketAddr,
    body: Bytes,
    preset_headers: Vec<Element>,
) -> Result<HandleSimpleHttpResponse, Status> {
    let mut go = go_request(parts, remote, body.len());
    let reader = match profile.handle_body() {
        HandleBody::Inline => {
            go.body = body.to_vec();
            None
        }
        HandleBody::Streamed(layout) => Some(BodyReader::new(body, layout)),
    };
    let callbacks = CallbackServer::start(reader)
        .await
        .map_err(|e| Status::internal(format!("starting the response-writer server: {e}")))?;
    let request = HttpRequest {
        response_writer: Some(ResponseWriter {
            header: preset_headers,
            server_addr: callbacks.addr().to_string(),
        }),
        request: Some(go),
    };
    let result = client.handle(request).await;
    let written = callbacks.finish().await;
    match (result, written.committed) {
        (_, Some((code, headers))) => Ok(HandleSimpleHttpResponse {
            code,
            headers,
            body: written.body,
        }),
        (Ok(reply), None) => Ok(HandleSimpleHttpResponse {
            code: 200,
            headers: reply.into_inner().header,
            body: Vec::new(),
        }),
        (Err(status), None) => Err(status),
    }
}

/// How long the per-request server may take to finish its calls once `Handle` has returned.
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What the plugin wrote through the Writer service during one `Handle` call.
#[derive(Debug, Default, Clone, PartialEq)]
struct Written {
    /// Status and header map frozen by the first `WriteHeader` or `Write`; `None` = nothing
    /// was written, so the node answers 200 with `HTTPResponse.header`.
    committed: Option<(i32, Vec<Element>)>,
    /// Every `Write` payload, in order.
    body: Vec<u8>,
}

/// A running per-request server. Dropping it without [`CallbackServer::finish`] still stops the
/// server (the stop channel closes), which is what happens when the HTTP client goes away.
struct CallbackServer {
    addr: SocketAddr,
    written: Arc<Mutex<Written>>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl CallbackServer {
    /// Binds a fresh loopback port and serves the Writer, and `reader` (the request body) where
    /// the profile streams it.
    async fn start(reader: Option<BodyReader>) -> std::io::Result<CallbackServer> {
        let (listener, addr) = transport::bind_loopback().await?;
        let written = Arc::new(Mutex::new(Written::default()));
        let writer = RecordingWriter {
            written: written.clone(),
        };
        let reader = reader.map(|reader| {
            ReaderServer::new(reader)
                .max_decoding_message_size(usize::MAX)
                .max_encoding_message_size(usize::MAX)
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tonic::transport::Server::builder()
            .add_service(
                WriterServer::new(writer)
                    .max_decoding_message_size(usize::MAX)
                    .max_encoding_message_size(usize::MAX),
            )
            .add_optional_service(reader)
            // Either an explicit stop or the sender being dropped ends the server.
            .serve_with_incoming_shutdown(transport::incoming(listener), async move {
                let _ = stopped.await;
            });
        Ok(CallbackServer {
            addr,
            written,
            stop: Some(stop),
            task: tokio::spawn(server),
        })
    }

    /// `127.0.0.1:<port>`, sent to the plugin as `ResponseWriter.server_addr`.
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server gracefully (in-flight Write/Read calls finish first, as the node does)
    /// and returns what was written. A plugin call still hanging after [`DRAIN_LIMIT`] is cut off
    /// so that one misbehaving plugin cannot hold an HTTP response forever.
    async fn finish(mut self) -> Written {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match tokio::time::timeout(DRAIN_LIMIT, &mut self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => tracing::debug!(%error, "response-writer server failed"),
            Ok(Err(error)) => tracing::debug!(%error, "response-writer server task failed"),
            Err(_) => {
                tracing::debug!("response-writer server still busy after Handle; aborted");
                self.task.abort();
            }
        }
        std::mem::take(&mut *lock(&self.written))
    }
}

/// Locks without panicking: a poisoned lock only means another call panicked mid-update, and a
/// partially recorded response is still the best answer we have.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn to_elements(headers: Vec<Header>) -> Vec<Element> {
    headers
        .into_iter()
        .map(|h| Element {
            key: h.key,
            values: h.values,
        })
        .collect()
}

/// `http.responsewriter.Writer`: each call carries the complete header map, which replaces the
/// node's; only the map in force at the first WriteHeader/Write reaches the client.
struct RecordingWriter {
    written: Arc<Mutex<Written>>,
}

#[tonic::async_trait]
impl Writer for RecordingWriter {
    async fn write(
        &self,
        request: Request<WriteRequest>,
    ) -> Result<Response<WriteResponse>, Status> {
        let WriteRequest { headers, payload } = request.into_inner();
        let written = i32::try_from(payload.len())
            .map_err(|_| Status::invalid_argument("payload larger than 2 GiB"))?;
        let mut state = lock(&self.written);
        if state.committed.is_none() {
            state.committed = Some((200, to_elements(headers)));
        }
        state.body.extend_from_slice(&payload);
        Ok(Response::new(WriteResponse { written }))
    }

    async fn write_header(
        &self,
        request: Request<WriteHeaderRequest>,
    ) -> Result<Response<()>, Status> {
        let WriteHeaderRequest {
            headers,
            status_code,
        } = request.into_inner();
        let mut state = lock(&self.written);
        if state.committed.is_none() {
            state.committed = Some((status_code, to_elements(headers)));
        } else {
            // Go's net/http logs "superfluous WriteHeader call" and ignores it.
            tracing::debug!(status_code, "superfluous WriteHeader ignored");
        }
        Ok(Response::new(()))
    }

    /// The response is buffered until Handle returns, so there is nothing to flush early.
    async fn flush(&self, _: Request<()>) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }

    /// Websocket takeover needs the raw connection, which a buffered gateway never hands out.
    async fn hijack(&self, _: Request<()>) -> Result<Response<HijackResponse>, Status> {
        Err(Status::unimplemented(
            "hijack is not supported by the stampvm host gateway",
        ))
    }
}

/// `io.reader.Reader` over the buffered request body. Like Go's body reader for a body of known
/// length, the read that returns the last bytes also carries EOF, so plugins must accept data
/// and EOF together. EOF is said in the profile's layout (text at 40-41, a code from 42).
struct BodyReader {
    remaining: Mutex<Bytes>,
    eof: ReadErrorLayout,
}

impl BodyReader {
    fn new(body: Bytes, eof: ReadErrorLayout) -> BodyReader {
        BodyReader {
            remaining: Mutex::new(body),
            eof,
        }
    }
}

#[tonic::async_trait]
impl Reader for BodyReader {
    async fn read(&self, request: Request<ReadRequest>) -> Result<Response<ReadResponse>, Status> {
        let length = usize::try_from(request.into_inner().length)
            .map_err(|_| Status::invalid_argument("negative read length"))?;
        let mut remaining = lock(&self.remaining);
        let take = length.min(remaining.len());
        let chunk = remaining.split_to(take);
        Ok(Response::new(match remaining.is_empty() {
            true => ReadResponse::eof(self.eof, chunk.to_vec()),
            false => ReadResponse::data(chunk.to_vec()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rpcchainvm::pb::http::responsewriter::writer_client::WriterClient;
    use rpcchainvm::pb::io::reader::reader_client::ReaderClient;
    use rpcchainvm::wire::ReadOutcome;

    /// Checks the record the gateway builds its response from: the first WriteHeader freezes
    /// status and headers, later header maps are ignored, payloads concatenate, and the body
    /// reader ends with data+EOF. A broken record would show up as a wrong status or body.
    #[tokio::test]
    async fn records_writes_and_serves_body() {
        let body = BodyReader::new(Bytes::from_static(b"hello"), ReadErrorLayout::Coded);
        let server = CallbackServer::start(Some(body)).await.unwrap();
        let channel = transport::connect(&server.addr().to_string())
            .await
            .unwrap();
        let mut reader = ReaderClient::new(channel.clone());
        let first = reader.read(ReadRequest { length: 3 }).await.unwrap();
        assert_eq!(first.get_ref().read, b"hel");
        assert!(first.get_ref().error.is_none());
        let last = reader.read(ReadRequest { length: 10 }).await.unwrap();
        assert_eq!(last.get_ref().read, b"lo");
        assert_eq!(
            last.get_ref().outcome(ReadErrorLayout::Coded),
            Ok(ReadOutcome::Eof)
        );

        let header = |key: &str| Header {
            key: key.to_owned(),
            values: vec!["v".to_owned()],
        };
        let mut writer = WriterClient::new(channel);
        writer
            .write_header(WriteHeaderRequest {
                headers: vec![header("X-First")],
                status_code: 201,
            })
            .await
            .unwrap();
        for part in [&b"ab"[..], b"cd"] {
            writer
                .write(WriteRequest {
                    headers: vec![header("X-Later")],
                    payload: part.to_vec(),
                })
                .await
                .unwrap();
        }
        assert!(writer.hijack(()).await.is_err());

        let written = server.finish().await;
        let (status, headers) = written.committed.unwrap();
        assert_eq!(status, 201);
        assert_eq!(headers[0].key, "X-First");
        assert_eq!(written.body, b"abcd");
    }

    // 40-41 end the body with the text `EOF`; up to 39 there is no Reader at all.
    #[tokio::test]
    async fn reader_follows_the_profile() {
        let body = BodyReader::new(Bytes::from_static(b"hi"), ReadErrorLayout::Text);
        let server = CallbackServer::start(Some(body)).await.unwrap();
        let channel = transport::connect(&server.addr().to_string())
            .await
            .unwrap();
        let last = ReaderClient::new(channel)
            .read(ReadRequest { length: 10 })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(last.read, b"hi");
        assert_eq!(last.outcome(ReadErrorLayout::Text), Ok(ReadOutcome::Eof));
        assert_ne!(last.outcome(ReadErrorLayout::Coded), Ok(ReadOutcome::Eof));
        server.finish().await;

        let server = CallbackServer::start(None).await.unwrap();
        let channel = transport::connect(&server.addr().to_string())
            .await
            .unwrap();
        let status = ReaderClient::new(channel)
            .read(ReadRequest { length: 10 })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unimplemented);
        server.finish().await;
    }
}
