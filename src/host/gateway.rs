//! The node's HTTP API server for chains, as AvalancheGo runs it (shared/spec/node-behaviour.md
//! section 8), so `stampvm dev`, the tests and the benches reach any rpcchainvm plugin's API the
//! way real clients reach it through a node.
//!
//! Routing: the exact path `/ext/bc/<chainID><prefix>` goes to the `http.HTTP` server the plugin
//! returned for that prefix; a request with `Avalanche-Api-Route: <chainID>` goes to the chain's
//! header-route server whatever its path. HTTP/1.x without `Upgrade` is forwarded with
//! `HandleSimple`; HTTP/2 (h2c) and `Upgrade` requests with `Handle` and a per-request
//! Writer/Reader server ([`crate::host::http_callbacks`]). Responses are buffered whole.

use crate::chain::id::{Id, NodeId};
use crate::host::http_callbacks::call_handle;
use crate::rpc::pb::http::{self as pb, http_client::HttpClient};
use crate::rpc::transport;
use crate::shutdown::Shutdown;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};
use axum::response::Response;
use axum::serve::ListenerExt;
use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// The header that selects a chain's header-route handler (protocol 42+, `NewHTTPHandler`).
pub const ROUTE_HEADER: &str = "avalanche-api-route";

/// The node's answer to every chain request before the chain reaches NORMAL_OP.
pub const NOT_BOOTSTRAPPED: &str = "API call rejected because chain is not done bootstrapping";

/// Why the gateway could not start, serve, or mount a handler.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("handler prefix {0:?} must be empty or start with '/'")]
    InvalidPrefix(String),
    #[error("invalid plugin HTTP server address {addr:?}: {source}")]
    BadAddress {
        addr: String,
        #[source]
        source: tonic::transport::Error,
    },
    #[error("the gateway is already serving")]
    AlreadyServing,
    #[error("HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Why one request was not forwarded; each maps to the status the node answers with.
#[derive(Debug, thiserror::Error)]
enum RequestError {
    #[error("404 page not found")]
    NotFound,
    #[error("empty Avalanche-Api-Route header")]
    EmptyRouteHeader,
    #[error("{NOT_BOOTSTRAPPED}")]
    NotReady,
    #[error("reading the request body: {0}")]
    Body(axum::Error),
    #[error("{}", .0.message())]
    Rpc(tonic::Status),
}

impl RequestError {
    fn status(&self) -> StatusCode {
        match self {
            RequestError::NotFound => StatusCode::NOT_FOUND,
            RequestError::EmptyRouteHeader | RequestError::Body(_) => StatusCode::BAD_REQUEST,
            RequestError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            RequestError::Rpc(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The HTTP API server. Cheap to clone: clones share the route table, so chains can be
/// registered and marked ready while [`Gateway::serve`] runs.
#[derive(Clone)]
pub struct Gateway {
    routes: Arc<Routes>,
    listener: Arc<Mutex<Option<TcpListener>>>,
    local_addr: SocketAddr,
}

/// Shared by the request handlers: which plugin server answers which request.
struct Routes {
    node_id: NodeId,
    table: RwLock<Table>,
}

#[derive(Default)]
struct Table {
    /// Exact request path → (chain, plugin `http.HTTP` client); one channel per handler, reused.
    paths: HashMap<String, (Id, HttpClient<Channel>)>,
    chains: HashMap<Id, ChainEntry>,
}

#[derive(Default)]
struct ChainEntry {
    ready: bool,
    header_route: Option<HttpClient<Channel>>,
}

impl Gateway {
    /// Binds `addr` now (127.0.0.1:9650 for `stampvm dev`, port 0 in tests) so the port is known
    /// before serving. `node_id` is the `node-id` header the node's middleware presets: it is in
    /// the gateway's own answers (404, 503, …) and is handed to the plugin to copy, since from
    /// protocol 40 the plugin's header list replaces the preset map.
    pub async fn bind(addr: SocketAddr, node_id: NodeId) -> std::io::Result<Gateway> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        Ok(Gateway {
            routes: Arc::new(Routes {
                node_id,
                table: RwLock::new(Table::default()),
            }),
            listener: Arc::new(Mutex::new(Some(listener))),
            local_addr,
        })
    }

    /// The bound address (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Mounts a chain's handlers: `handlers` are `CreateHandlers`' `(prefix, server_addr)` pairs,
    /// `header_route_addr` is `NewHTTPHandler`'s address (`None` or `""` = none). Replaces the
    /// chain's earlier routes and keeps its readiness. Like the node, an invalid entry is skipped
    /// (logged) and the others are still mounted; the first such problem is returned.
    pub fn register_chain(
        &self,
        chain_id: Id,
        handlers: Vec<(String, String)>,
        header_route_addr: Option<String>,
    ) -> Result<(), GatewayError> {
        let mut first_error = None;
        let mut skip = |error: GatewayError| {
            tracing::warn!(chain = %chain_id, %error, "HTTP handler not mounted");
            first_error.get_or_insert(error);
        };
        let mut paths = Vec::new();
        for (prefix, addr) in handlers {
            if !(prefix.is_empty() || prefix.starts_with('/')) {
                skip(GatewayError::InvalidPrefix(prefix));
                continue;
            }
            match plugin_client(&addr) {
                Ok(client) => paths.push((format!("/ext/bc/{chain_id}{prefix}"), client)),
                Err(error) => skip(error),
            }
        }
        let header_route = match header_route_addr.filter(|addr| !addr.is_empty()) {
            None => None,
            Some(addr) => plugin_client(&addr).map_err(&mut skip).ok(),
        };
        let mut table = self.routes.write();
        table.paths.retain(|_, (chain, _)| *chain != chain_id);
        for (path, client) in paths {
            tracing::debug!(chain = %chain_id, %path, "mounted HTTP handler");
            table.paths.insert(path, (chain_id, client));
        }
        table.chains.entry(chain_id).or_default().header_route = header_route;
        first_error.map_or(Ok(()), Err)
    }

    /// Until a chain is ready every request for it gets 503 [`NOT_BOOTSTRAPPED`], as the node
    /// answers before NORMAL_OP. Chains start not ready.
    pub fn set_ready(&self, chain_id: Id, ready: bool) {
        self.routes
            .write()
            .chains
            .entry(chain_id)
            .or_default()
            .ready = ready;
    }

    /// Unmounts a chain (its handlers are gone, e.g. the plugin shut down): its requests get 404.
    pub fn remove_chain(&self, chain_id: Id) {
        let mut table = self.routes.write();
        table.paths.retain(|_, (chain, _)| *chain != chain_id);
        table.chains.remove(&chain_id);
    }

    /// Serves HTTP/1.1 and h2c (prior knowledge) until `shutdown` fires, then drains open
    /// connections (a plugin call that never returns holds shutdown up: abort the task then).
    /// Only one call serves; later ones return [`GatewayError::AlreadyServing`].
    pub async fn serve(&self, shutdown: Shutdown) -> Result<(), GatewayError> {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or(GatewayError::AlreadyServing)?;
        let listener = listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "TCP_NODELAY not set on an HTTP connection");
            }
        });
        let app = Router::new()
            .fallback(route)
            .with_state(self.routes.clone())
            .into_make_service_with_connect_info::<SocketAddr>();
        tracing::debug!(addr = %self.local_addr, "HTTP gateway serving");
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.wait().await })
            .await?;
        Ok(())
    }

    /// [`Gateway::serve`] on a new task.
    pub fn spawn(&self, shutdown: Shutdown) -> JoinHandle<Result<(), GatewayError>> {
        let gateway = self.clone();
        tokio::spawn(async move { gateway.serve(shutdown).await })
    }
}

/// One lazily connected client per plugin server, with the node's unlimited message sizes.
fn plugin_client(addr: &str) -> Result<HttpClient<Channel>, GatewayError> {
    let channel = transport::connect_lazy(addr).map_err(|source| GatewayError::BadAddress {
        addr: addr.to_owned(),
        source,
    })?;
    Ok(HttpClient::new(channel)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX))
}

impl Routes {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Picks the plugin server for a request and applies the bootstrapping gate.
    fn resolve(
        &self,
        headers: &HeaderMap,
        path: &str,
    ) -> Result<(Id, HttpClient<Channel>), RequestError> {
        let table = self.read();
        let (chain, client) = match headers.get(ROUTE_HEADER) {
            Some(value) => {
                let chain = parse_route_header(value.as_bytes())?;
                let client = table
                    .chains
                    .get(&chain)
                    .and_then(|c| c.header_route.clone());
                (chain, client.ok_or(RequestError::NotFound)?)
            }
            None => table
                .paths
                .get(path)
                .cloned()
                .ok_or(RequestError::NotFound)?,
        };
        match table.chains.get(&chain) {
            Some(entry) if entry.ready => Ok((chain, client)),
            _ => Err(RequestError::NotReady),
        }
    }

    /// Resolves, gates, reads the whole body, then picks the RPC as the node does: `Handle` for
    /// HTTP/2 and `Upgrade` requests, `HandleSimple` for everything else.
    async fn forward(
        &self,
        parts: Parts,
        body: Body,
        remote: SocketAddr,
    ) -> Result<Response, RequestError> {
        let (chain, mut client) = self.resolve(&parts.headers, parts.uri.path())?;
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(RequestError::Body)?;
        let upgrade = parts.headers.get(header::UPGRADE);
        let streaming = upgrade.is_some_and(|v| !v.is_empty()) || parts.version >= Version::HTTP_2;
        let rpc = if streaming { "Handle" } else { "HandleSimple" };
        tracing::debug!(%chain, rpc, method = %parts.method, uri = %parts.uri, "forwarding");
        let preset = vec![element("Node-Id", vec![self.node_id.to_string()])];
        let reply = if streaming {
            call_handle(&mut client, &parts, remote, body, preset).await
        } else {
            let request = pb::HandleSimpleHttpRequest {
                method: parts.method.to_string(),
                url: request_target(&parts),
                request_headers: header_elements(&parts.headers),
                body: body.to_vec(),
                response_headers: preset,
            };
            let reply = client.handle_simple(request).await;
            reply.map(tonic::Response::into_inner)
        };
        Ok(build_response(
            &parts.method,
            reply.map_err(RequestError::Rpc)?,
        ))
    }

    /// Go's `http.Error`: plain text plus newline, with the node's preset headers.
    fn error_response(&self, error: &RequestError) -> Response {
        let mut response = Response::new(Body::from(format!("{error}\n")));
        *response.status_mut() = error.status();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if let Ok(value) = HeaderValue::from_str(&self.node_id.to_string()) {
            headers.insert(HeaderName::from_static("node-id"), value);
        }
        response
    }
}

/// The one axum handler: every path goes through the route table, as the node's mux does.
async fn route(
    State(routes): State<Arc<Routes>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let (method, uri) = (parts.method.clone(), parts.uri.clone());
    let response = match routes.forward(parts, body, remote).await {
        Ok(response) => response,
        Err(error) => routes.error_response(&error),
    };
    tracing::debug!(%method, %uri, status = response.status().as_u16(), "gateway request");
    response
}

/// Reads `Avalanche-Api-Route`: an empty value is a 400, anything but a chain ID a 404.
fn parse_route_header(value: &[u8]) -> Result<Id, RequestError> {
    let text = std::str::from_utf8(value)
        .map_err(|_| RequestError::NotFound)?
        .trim();
    if text.is_empty() {
        return Err(RequestError::EmptyRouteHeader);
    }
    text.parse().map_err(|_| RequestError::NotFound)
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: `content-type` → `Content-Type`. Keys with bytes
/// outside the HTTP token set are returned unchanged, as Go does.
pub(crate) fn canonical_header_key(key: &str) -> String {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !key.bytes().all(token) {
        return key.to_owned();
    }
    let mut upper = true;
    key.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

pub(crate) fn element(key: &str, values: Vec<String>) -> pb::Element {
    pb::Element {
        key: key.to_owned(),
        values,
    }
}

/// Request headers as Go's `Request.Header`: canonical keys, values in order, without `Host`
/// and `Transfer-Encoding` (Go moves those into their own fields).
pub(crate) fn header_elements(headers: &HeaderMap) -> Vec<pb::Element> {
    headers
        .keys()
        .filter(|k| *k != header::HOST && *k != header::TRANSFER_ENCODING)
        .map(|key| {
            let values = headers.get_all(key).iter();
            let values = values.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            element(&canonical_header_key(key.as_str()), values.collect())
        })
        .collect()
}

/// Go's `RequestURI`: the raw target (`/path?query`), absolute-form only for HTTP/1 proxies.
pub(crate) fn request_target(parts: &Parts) -> String {
    if parts.version < Version::HTTP_2 && parts.uri.scheme().is_some() {
        return parts.uri.to_string();
    }
    parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned())
}

/// The plugin's answer as an HTTP response. From protocol 40 the returned list replaces the
/// node's header map; unrepresentable names/values are dropped, and framing headers that would
/// contradict the buffered body are left to hyper.
fn build_response(method: &Method, reply: pb::HandleSimpleHttpResponse) -> Response {
    let pb::HandleSimpleHttpResponse {
        code,
        headers,
        body,
    } = reply;
    let status = u16::try_from(code)
        .ok()
        .filter(|c| (100..=599).contains(c))
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut map = HeaderMap::new();
    for element in &headers {
        let Ok(name) = HeaderName::from_bytes(element.key.as_bytes()) else {
            tracing::debug!(key = %element.key, "dropping invalid response header name");
            continue;
        };
        for value in &element.values {
            match HeaderValue::from_str(value) {
                Ok(value) => {
                    map.append(name.clone(), value);
                }
                Err(_) => {
                    tracing::debug!(key = %element.key, "dropping invalid response header value")
                }
            }
        }
    }
    map.remove(header::TRANSFER_ENCODING);
    let length_matches = map
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() == body.len().to_string().as_bytes());
    if !length_matches && method != Method::HEAD {
        map.remove(header::CONTENT_LENGTH);
    }
    let mut response = Response::new(Body::from(Bytes::from(body)));
    *response.status_mut() = status;
    *response.headers_mut() = map;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::pb::http::http_server::{Http, HttpServer};
    use crate::rpc::pb::http::responsewriter::{
        writer_client::WriterClient, Header, WriteHeaderRequest, WriteRequest,
    };
    use crate::rpc::pb::io::reader::{reader_client::ReaderClient, ReadRequest};
    use tonic::codegen::Service;

    #[test]
    fn canonical_keys_follow_go() {
        assert_eq!(canonical_header_key("content-type"), "Content-Type");
        assert_eq!(canonical_header_key("node-id"), "Node-Id");
        assert_eq!(canonical_header_key("X-FORWARDED-FOR"), "X-Forwarded-For");
        assert_eq!(
            canonical_header_key("avalanche-api-route"),
            "Avalanche-Api-Route"
        );
        assert_eq!(canonical_header_key("-x--y"), "-X--Y");
        // Not a token: Go leaves it alone.
        assert_eq!(canonical_header_key("bad key"), "bad key");
    }

    #[test]
    fn route_header_parsing() {
        let chain = Id::from_name("timestamp").unwrap();
        assert_eq!(
            parse_route_header(chain.to_string().as_bytes()).unwrap(),
            chain
        );
        assert!(matches!(
            parse_route_header(b" "),
            Err(RequestError::EmptyRouteHeader)
        ));
        assert!(matches!(
            parse_route_header(b"nonsense"),
            Err(RequestError::NotFound)
        ));
        assert!(matches!(
            parse_route_header(&[0xff]),
            Err(RequestError::NotFound)
        ));
    }

    #[test]
    fn responses_are_sanitised() {
        let reply = |code, headers| pb::HandleSimpleHttpResponse {
            code,
            headers,
            body: b"abc".to_vec(),
        };
        let headers = vec![
            element("X-Ok", vec!["1".into()]),
            element("bad key", vec!["x".into()]),
            element("Content-Length", vec!["99".into()]),
        ];
        let response = build_response(&Method::GET, reply(42, headers));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers().len(), 1, "{:?}", response.headers());
        let response = build_response(&Method::GET, reply(204, Vec::new()));
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    /// A tiny plugin: HandleSimple echoes method, target and body; Handle reads the body through
    /// the node's Reader in small chunks and answers through WriteHeader + Write.
    struct EchoPlugin;

    #[tonic::async_trait]
    impl Http for EchoPlugin {
        async fn handle_simple(
            &self,
            request: tonic::Request<pb::HandleSimpleHttpRequest>,
        ) -> Result<tonic::Response<pb::HandleSimpleHttpResponse>, tonic::Status> {
            let r = request.into_inner();
            if r.url.contains("fail") {
                return Err(tonic::Status::unknown("plugin failed"));
            }
            let body = format!(
                "simple {} {} {}",
                r.method,
                r.url,
                String::from_utf8_lossy(&r.body)
            );
            Ok(tonic::Response::new(pb::HandleSimpleHttpResponse {
                code: 201,
                headers: r.response_headers,
                body: body.into_bytes(),
            }))
        }

        async fn handle(
            &self,
            request: tonic::Request<pb::HttpRequest>,
        ) -> Result<tonic::Response<pb::HttpResponse>, tonic::Status> {
            let r = request.into_inner();
            let (writer, request) = r
                .response_writer
                .zip(r.request)
                .ok_or_else(|| tonic::Status::invalid_argument("missing"))?;
            let channel = transport::connect(&writer.server_addr)
                .await
                .map_err(|e| tonic::Status::internal(e.to_string()))?;
            let mut body = Vec::new();
            let mut reader = ReaderClient::new(channel.clone());
            loop {
                let chunk = reader.read(ReadRequest { length: 3 }).await?.into_inner();
                body.extend_from_slice(&chunk.read);
                if chunk.error.is_some() {
                    break;
                }
            }
            let headers: Vec<Header> = writer
                .header
                .into_iter()
                .map(|e| Header {
                    key: e.key,
                    values: e.values,
                })
                .collect();
            let mut client = WriterClient::new(channel);
            client
                .write_header(WriteHeaderRequest {
                    headers: headers.clone(),
                    status_code: 202,
                })
                .await?;
            let path = request.url.map(|u| u.path).unwrap_or_default();
            let payload = format!(
                "handle {} {} {}",
                request.proto,
                path,
                String::from_utf8_lossy(&body)
            );
            client
                .write(WriteRequest {
                    headers,
                    payload: payload.into_bytes(),
                })
                .await?;
            Ok(tonic::Response::new(pb::HttpResponse::default()))
        }
    }

    /// Drives the gateway over real sockets: 503 before ready, HandleSimple for HTTP/1.1, Handle for
    /// h2c and `Upgrade`, header routing, 404/400/500, and `node-id` on every answer. A routing or
    /// protocol-selection bug shows up as a wrong status or a body naming the wrong RPC.
    #[tokio::test]
    async fn forwards_real_requests() {
        let shutdown = Shutdown::new();
        let (listener, plugin_addr) = transport::bind_loopback().await.unwrap();
        let stop = shutdown.clone();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(HttpServer::new(EchoPlugin))
                .serve_with_incoming_shutdown(transport::incoming(listener), async move {
                    stop.wait().await
                }),
        );

        let node_id = NodeId([7; 20]);
        let gateway = Gateway::bind("127.0.0.1:0".parse().unwrap(), node_id)
            .await
            .unwrap();
        let chain = Id::from_name("timestamp").unwrap();
        gateway
            .register_chain(
                chain,
                vec![("/rpc".into(), plugin_addr.to_string())],
                Some(plugin_addr.to_string()),
            )
            .unwrap();
        assert!(gateway
            .register_chain(
                Id::from_name("other").unwrap(),
                vec![("rpc".into(), plugin_addr.to_string())],
                None
            )
            .is_err());
        let served = gateway.spawn(shutdown.clone());

        let base = format!("http://{}", gateway.local_addr());
        let url = format!("{base}/ext/bc/{chain}/rpc");
        let client = reqwest::Client::new();
        let send = |request: reqwest::RequestBuilder| async move {
            let response = request.send().await.unwrap();
            let node = response
                .headers()
                .get("node-id")
                .map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(
                node,
                Some(node_id.to_string()),
                "node-id header on {}",
                response.url()
            );
            (response.status().as_u16(), response.text().await.unwrap())
        };

        let (status, body) = send(client.post(&url).body("hi")).await;
        assert_eq!((status, body.trim_end()), (503, NOT_BOOTSTRAPPED));
        // The spawned task answered, so it holds the listener: a second serve is refused.
        let again = gateway.serve(shutdown.clone()).await;
        assert!(matches!(again, Err(GatewayError::AlreadyServing)));
        gateway.set_ready(chain, true);

        let (status, body) = send(client.post(format!("{url}?x=1")).body("hi")).await;
        assert_eq!(
            (status, body),
            (201, format!("simple POST /ext/bc/{chain}/rpc?x=1 hi"))
        );
        let (status, body) = send(client.post(format!("{url}?fail")).body("hi")).await;
        assert_eq!((status, body.trim_end()), (500, "plugin failed"));
        let (status, body) =
            send(client.post(&url).header("Upgrade", "test").body("upgraded")).await;
        assert_eq!(
            (status, body),
            (202, format!("handle HTTP/1.1 /ext/bc/{chain}/rpc upgraded"))
        );

        let (status, _) = send(client.get(format!("{base}/ext/bc/{}/rpc", Id::EMPTY))).await;
        assert_eq!(status, 404);
        let (status, _) = send(client.get(format!("{url}/more"))).await;
        assert_eq!(status, 404);
        let (status, body) = send(
            client
                .post(format!("{base}/anything"))
                .header("Avalanche-Api-Route", chain.to_string())
                .body("x"),
        )
        .await;
        assert_eq!((status, body), (201, "simple POST /anything x".to_owned()));
        let (status, _) = send(
            client
                .get(&base)
                .header("Avalanche-Api-Route", Id::EMPTY.to_string()),
        )
        .await;
        assert_eq!(status, 404);
        let (status, _) = send(client.get(&base).header("Avalanche-Api-Route", "")).await;
        assert_eq!(status, 400);

        // h2c with prior knowledge: tonic's channel is a plain HTTP/2 client.
        let mut h2 = transport::connect(&gateway.local_addr().to_string())
            .await
            .unwrap();
        let request = axum::http::Request::post(format!("/ext/bc/{chain}/rpc"))
            .body(tonic::body::Body::new(Body::from("over h2")))
            .unwrap();
        std::future::poll_fn(|cx| h2.poll_ready(cx)).await.unwrap();
        let response = h2.call(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(
            response.headers().get("node-id").unwrap().to_str().unwrap(),
            node_id.to_string()
        );
        let body = axum::body::to_bytes(Body::new(response.into_body()), usize::MAX)
            .await
            .unwrap();
        assert_eq!(body, format!("handle HTTP/2.0 /ext/bc/{chain}/rpc over h2"));

        gateway.remove_chain(chain);
        let (status, _) = send(client.post(&url).body("hi")).await;
        assert_eq!(status, 404);

        drop(h2);
        shutdown.trigger();
        served.await.unwrap().unwrap();
    }
}
