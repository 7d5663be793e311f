//! gRPC transport settings shared by every server and client we run, on both sides of the
//! plugin boundary (docs/spec/node-behaviour.md section 12): loopback only, TCP_NODELAY on every
//! socket, message-size limits as large as the node's (unlimited), except what our servers
//! decode: see [`MAX_DECODING_MESSAGE_BYTES`].

use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tonic::transport::{Channel, Endpoint};

/// The largest message our gRPC servers (`vm.VM`, `http.HTTP`) decode. The node sends without a
/// limit, and tonic reserves a message's declared length as soon as its 5-byte header arrives,
/// before any of its bytes: unlimited, one header declaring 4 GiB made us reserve 4 GiB (an abort
/// under a 2 GiB address-space limit). With a limit, such a message is refused with
/// `OUT_OF_RANGE` and nothing is reserved.
///
/// 64 MiB is 32 times the largest message a node sends us in practice: blocks, app messages and
/// the containers of one Ancestors message (BatchedParseBlock) are bounded by the network's
/// 2 MiB message size, a batched block by its 65,536 payloads (2 MiB), our genesis and chain
/// config are small, and `HandleSimple` bodies over 2 MiB are refused anyway (one over 64 MiB now
/// gets the node's 500 for a gRPC error instead of our 413). Each stream can still reserve up to
/// this much while its bytes arrive; only the node and local processes reach these ports.
pub const MAX_DECODING_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Binds 127.0.0.1 on an ephemeral port. The address is known before serving starts, which the
/// handshake needs: the plugin announces it in Runtime.Initialize.
pub async fn bind_loopback() -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Turns a bound listener into tonic's incoming stream with TCP_NODELAY on each accepted socket.
/// Without it, small gRPC replies wait on Nagle's algorithm (~40 ms per call instead of ~0.3 ms).
pub fn incoming(listener: TcpListener) -> tonic::transport::server::TcpIncoming {
    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// An h2c channel to a node-side (or plugin-side) gRPC server at `addr` (`host:port`).
/// Keepalive pings stay off: the node's servers answer pings more often than every 5 s with GOAWAY.
pub fn endpoint(addr: &str) -> Result<Endpoint, tonic::transport::Error> {
    Ok(Endpoint::from_shared(format!("http://{addr}"))?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5)))
}

/// Connects now, so a wrong address fails at the call site rather than at first use.
pub async fn connect(addr: &str) -> Result<Channel, tonic::transport::Error> {
    endpoint(addr)?.connect().await
}

/// Connects on first use: for clients created where the peer may not be listening yet.
pub fn connect_lazy(addr: &str) -> Result<Channel, tonic::transport::Error> {
    Ok(endpoint(addr)?.connect_lazy())
}
