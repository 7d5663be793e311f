//! The node's HTTP gateway (docs/spec/node-behaviour.md section 8) over real sockets, against a
//! tiny echo plugin rather than stampvm, so what is checked is the gateway's own routing and its
//! choice of RPC; see `forwards_real_requests` for the cases and how they fail.

use axum::body::Body;
use axum::http::StatusCode;
use rpcchainvm::pb::http as pb;
use rpcchainvm::pb::http::http_server::{Http, HttpServer};
use rpcchainvm::pb::http::responsewriter::{
    writer_client::WriterClient, Header, WriteHeaderRequest, WriteRequest,
};
use rpcchainvm::pb::io::reader::{reader_client::ReaderClient, ReadRequest};
use rpcchainvm::shutdown::Shutdown;
use rpcchainvm::transport;
use rpcchainvm_host::gateway::{Gateway, GatewayError, NOT_BOOTSTRAPPED};
use stampvm::chain::{Id, NodeId};
use tonic::codegen::Service;

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
    let (status, body) = send(client.post(&url).header("Upgrade", "test").body("upgraded")).await;
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
