//! Serving HTTP/1.1 and h2c on our own listeners (the dev node's API gateway, the plugin's
//! metrics endpoint) with the limits a socket open to other processes needs, which `axum::serve`
//! does not set: it starts no timer, so a client that opens a connection and sends its headers
//! slowly, or nothing at all, holds the connection and its file descriptor forever, and it
//! accepts connections without bound.
//!
//! Here every connection holds one of [`ServerLimits::max_connections`] permits (at the limit,
//! new connections wait in the kernel's accept queue, which costs us no descriptor), and a
//! connection with no request in progress for [`ServerLimits::idle_timeout`] is closed. A request
//! counts from its complete headers, so that one timeout bounds slow headers, an idle keep-alive,
//! a socket that never sends a byte, and an HTTP/2 client that never finishes its preface;
//! hyper's own HTTP/1 header-read timeout is set to the same value.

use crate::shutdown::Shutdown;
use axum::extract::connect_info::ConnectInfo;
use axum::{Extension, Router};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// What one listener allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Connections served at once; more wait to be accepted until one ends.
    pub max_connections: usize,
    /// How long a connection may go without a request in progress (including the time to send
    /// a request's headers) before it is closed.
    pub idle_timeout: Duration,
}

/// After an accept error that is not about one connection (e.g. no descriptors left), wait this
/// long before accepting again, rather than spinning on the error.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` within `limits` until `shutdown` fires; then stops accepting,
/// lets open connections finish their requests (idle ones close at once), and returns when all
/// are closed. Handlers can read the peer's address with `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: Shutdown,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit,
            () = shutdown.wait() => break,
        };
        let Ok(permit) = permit else { break }; // the semaphore is never closed
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.wait() => break,
        };
        match accepted {
            Ok((stream, remote)) => {
                let connection = Connection {
                    router: router.clone(),
                    limits,
                    shutdown: shutdown.clone(),
                    _permit: permit,
                };
                tokio::spawn(connection.serve(stream, remote));
            }
            // The peer gave up before we accepted: nothing to do.
            Err(error) if is_connection_error(&error) => {}
            Err(error) => {
                tracing::warn!(%error, "accepting an HTTP connection failed; pausing");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
    drop(listener);
    // Every connection holds a permit until it is closed: having them all back means drained.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
}

fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// One accepted connection and what it holds.
struct Connection {
    router: Router,
    limits: ServerLimits,
    shutdown: Shutdown,
    /// Returned to the listener when the connection ends.
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    async fn serve(self, stream: TcpStream, remote: SocketAddr) {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set on an HTTP connection");
        }
        let activity = Arc::new(Activity::new());
        let router = self.router.layer(Extension(ConnectInfo(remote)));
        let service = Tracked {
            inner: TowerToHyperService::new(router),
            activity: activity.clone(),
        };
        let mut builder = Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.idle_timeout);
        // As `axum::serve` sets it: CONNECT for HTTP/2 upgrades (WebSockets over HTTP/2).
        builder
            .http2()
            .timer(TokioTimer::new())
            .enable_connect_protocol();
        let mut connection =
            pin!(builder.serve_connection_with_upgrades(TokioIo::new(stream), service));
        let mut stop = pin!(self.shutdown.wait());
        let mut stopping = false;
        loop {
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(error) = served {
                        tracing::trace!(%error, %remote, "HTTP connection ended with an error");
                    }
                    return;
                }
                () = &mut stop, if !stopping => {
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
                () = activity.idle_for(self.limits.idle_timeout) => {
                    tracing::debug!(%remote, timeout = ?self.limits.idle_timeout, "closing an HTTP connection with no request in progress");
                    return;
                }
            }
        }
    }
}

/// Whether a connection has requests in progress, and since when it has had none.
struct Activity {
    state: Mutex<ActivityState>,
}

struct ActivityState {
    in_progress: usize,
    idle_since: Instant,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            state: Mutex::new(ActivityState {
                in_progress: 0,
                idle_since: Instant::now(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ActivityState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A request started; it is in progress until the guard is dropped (its response is ready,
    /// or hyper dropped it).
    fn begin(self: &Arc<Self>) -> InProgress {
        self.state().in_progress += 1;
        InProgress(self.clone())
    }

    /// Resolves once the connection has had no request in progress for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let wake = {
                let state = self.state();
                match state.in_progress {
                    0 => state.idle_since + timeout,
                    _ => Instant::now() + timeout,
                }
            };
            if wake <= Instant::now() {
                return;
            }
            tokio::time::sleep_until(wake).await;
            let state = self.state();
            if state.in_progress == 0 && state.idle_since + timeout <= Instant::now() {
                return;
            }
        }
    }
}

/// A request in progress on a connection.
struct InProgress(Arc<Activity>);

impl Drop for InProgress {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.in_progress -= 1;
        if state.in_progress == 0 {
            state.idle_since = Instant::now();
        }
    }
}

/// A hyper service that marks each of its requests in progress on the connection's
/// [`Activity`] while it is being answered.
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S, R> hyper::service::Service<R> for Tracked<S>
where
    S: hyper::service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn call(&self, request: R) -> Self::Future {
        let in_progress = self.activity.begin();
        let answer = self.inner.call(request);
        Box::pin(async move {
            let answer = answer.await;
            drop(in_progress);
            answer
        })
    }
}

#[cfg(test)]
mod tests {
    //! Real sockets on 127.0.0.1 against a one-route router: what a slow or idle client gets,
    //! and that the connection limit holds. Timeouts are short (300 ms); the bounds asserted
    //! are generous multiples of them.
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const LIMITS: ServerLimits = ServerLimits {
        max_connections: 4,
        idle_timeout: Duration::from_millis(300),
    };

    async fn start(limits: ServerLimits) -> (SocketAddr, Shutdown, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route(
            "/",
            axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                format!("hello {}", peer.ip())
            }),
        );
        let shutdown = Shutdown::new();
        let server = tokio::spawn(serve(listener, router, limits, shutdown.clone()));
        (addr, shutdown, server)
    }

    /// Reads until the server closes the connection (or 10 s pass); returns what was read and
    /// whether it closed.
    async fn read_to_close(stream: &mut TcpStream) -> (String, bool) {
        let mut seen = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut seen));
        let closed = matches!(read.await, Ok(Ok(_)) | Ok(Err(_)));
        (String::from_utf8_lossy(&seen).into_owned(), closed)
    }

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    #[tokio::test]
    async fn requests_are_served_and_idle_or_slow_connections_are_closed() {
        let (addr, shutdown, server) = start(LIMITS).await;
        // A complete request is answered (with the peer's address), then the idle keep-alive
        // connection is closed by the timeout.
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(GET).await.unwrap();
        let (seen, closed) = read_to_close(&mut client).await;
        assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
        assert!(seen.ends_with("hello 127.0.0.1"), "{seen}");
        assert!(closed, "an idle keep-alive connection was held");

        // Nothing sent at all (the version is never detected); half a request line; the first
        // bytes of the HTTP/2 preface: each closed without an answer.
        for partial in [&b""[..], b"GET / HT", b"PRI * HTTP/2.0\r\n"] {
            let started = Instant::now();
            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(partial).await.unwrap();
            let (_, closed) = read_to_close(&mut client).await;
            assert!(closed, "{partial:?}: connection held");
            assert!(started.elapsed() < Duration::from_secs(5), "{partial:?}");
        }
        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("drained after shutdown")
            .unwrap();
    }

    /// A sender trickling its headers a byte at a time, each within the timeout, is still cut
    /// off: the timeout bounds the whole header, not the gap between bytes.
    #[tokio::test]
    async fn trickled_headers_are_cut_off() {
        let (addr, _shutdown, _server) = start(LIMITS).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        let mut cut = false;
        for byte in b"GET / HTTP/1.1\r\nX-Slow: ".iter().cycle().take(200) {
            if client.write_all(&[*byte]).await.is_err() {
                cut = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            if started.elapsed() > Duration::from_secs(5) {
                break;
            }
        }
        if !cut {
            cut = read_to_close(&mut client).await.1;
        }
        assert!(cut, "a trickling client kept its connection for 5 s");
    }

    /// At the limit, a further connection is not served until one ends; none is lost.
    #[tokio::test]
    async fn connections_beyond_the_limit_wait() {
        let limits = ServerLimits {
            max_connections: 2,
            idle_timeout: Duration::from_secs(2),
        };
        let (addr, _shutdown, _server) = start(limits).await;
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(b"GET / HT").await.unwrap();
            held.push(client);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The third connects (the kernel queues it) but gets no answer while two are held.
        let mut third = TcpStream::connect(addr).await.unwrap();
        third.write_all(GET).await.unwrap();
        let mut buf = [0u8; 64];
        let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf)).await;
        assert!(early.is_err(), "served beyond the connection limit");
        // Once the held connections end (here: the idle timeout closes them), it is served.
        let (seen, _) = read_to_close(&mut third).await;
        assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    }
}
