//! The load: N clients, each on one keep-alive HTTP/1.1 connection to the node's gateway,
//! proposing unique payloads back to back until the deadline (a new connection only after a
//! failed one). Every reply is tallied as it arrives, so progress can be read while it runs.

use super::api::{ApiKind, Outcome};
use http_body_util::BodyExt;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::Request;
use hyper_util::rt::TokioIo;
use stampvm::api::data::{format_payload, Encoding};
use stampvm::chain::Id;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How long past the deadline an in-flight request may take before it counts as an error: the
/// last replies belong to the window, but the run must end.
const DRAIN: Duration = Duration::from_secs(5);
/// Pause before reconnecting after a failed connection, so a dead gateway is not hammered.
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error("connecting to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    #[error("building the request: {0}")]
    Request(#[from] hyper::http::Error),
    #[error("no reply within {DRAIN:?} after the deadline")]
    Timeout,
    #[error("HTTP status {status}: {body}")]
    Status { status: u16, body: String },
    #[error("not a proposeBlock result: {0}")]
    Reply(String),
}

impl LoadError {
    /// A well-formed HTTP reply that said no: the connection is fine and stays in use.
    fn keeps_connection(&self) -> bool {
        matches!(self, LoadError::Status { .. } | LoadError::Reply(_))
    }

    /// A reply's body as error text: the start of it, lossily decoded.
    fn body_text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned()
    }
}

/// What the clients run against.
#[derive(Debug, Clone)]
pub struct Plan {
    pub api: ApiKind,
    pub addr: SocketAddr,
    /// `/ext/bc/<chainID>/rpc`.
    pub path: String,
    pub clients: usize,
    /// No request starts after this.
    pub deadline: Instant,
    /// Mixed into every payload, so payloads are unique across runs on a reused data dir too.
    pub nonce: u64,
    /// Payloads per request through `timestampvm.proposeBatch` (a batched stampvm chain);
    /// `None`: one per `proposeBlock`.
    pub batch: Option<usize>,
}

/// Replies so far, shared by all clients and read by the progress line.
#[derive(Debug, Default)]
pub struct Tally {
    pub accepted: AtomicU64,
    pub refused: AtomicU64,
    pub errors: AtomicU64,
    /// The first failure's message, so a run full of errors says why.
    first_error: Mutex<Option<String>>,
    /// Payloads handed out so far (the counter they are derived from).
    next: AtomicU64,
    /// Counters of payloads the API took, in the order taken (at most [`TAKEN_SAMPLE`]): what
    /// the getProof timing asks for, so it times proofs, not refusals.
    taken: Mutex<Vec<u64>>,
}

/// The getProof timing stops after this long, whatever its count (a slow debug build, a loaded
/// machine): it reports what it timed.
const PROOF_BUDGET: Duration = Duration::from_secs(10);

/// Most taken payloads remembered for the getProof timing.
const TAKEN_SAMPLE: usize = 100_000;

impl Tally {
    fn remember_taken(&self, n: u64) {
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        if taken.len() < TAKEN_SAMPLE {
            taken.push(n);
        }
    }

    /// The first `count` remembered taken payloads (fewer if fewer were remembered).
    pub fn taken_first(&self, count: u64) -> Vec<u64> {
        let taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        let count = usize::try_from(count)
            .unwrap_or(usize::MAX)
            .min(taken.len());
        taken[..count].to_vec()
    }

    /// Counts a proposeBatch reply: each payload taken or refused.
    fn record_batch(&self, accepted: u64, refused: u64) {
        self.accepted.fetch_add(accepted, Ordering::Relaxed);
        self.refused.fetch_add(refused, Ordering::Relaxed);
    }

    fn record(&self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Accepted => &self.accepted,
            Outcome::Refused => &self.refused,
            Outcome::Error => &self.errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn fail(&self, error: impl std::fmt::Display) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert_with(|| error.to_string());
    }

    pub fn first_error(&self) -> Option<String> {
        self.first_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Runs every client until the deadline; returns each answered request's latency.
pub async fn run(plan: Arc<Plan>, tally: Arc<Tally>) -> Vec<Duration> {
    let clients: Vec<_> = (0..plan.clients)
        .map(|_| tokio::spawn(client(plan.clone(), tally.clone())))
        .collect();
    let mut latencies = Vec::new();
    for client in clients {
        match client.await {
            Ok(mut own) => latencies.append(&mut own),
            Err(error) => tally.fail(format_args!("a client task failed: {error}")),
        }
    }
    latencies
}

/// One client: one connection at a time, one request at a time.
async fn client(plan: Arc<Plan>, tally: Arc<Tally>) -> Vec<Duration> {
    let mut latencies = Vec::new();
    while Instant::now() < plan.deadline {
        let mut sender = match connect(plan.addr).await {
            Ok(sender) => sender,
            Err(error) => {
                tally.fail(error);
                tokio::time::sleep(RECONNECT_PAUSE).await;
                continue;
            }
        };
        while Instant::now() < plan.deadline {
            let per_request = plan.batch.unwrap_or(1);
            let n = tally.next.fetch_add(per_request as u64, Ordering::Relaxed);
            let body = match plan.batch {
                None => plan.api.propose_body(n, &payload(plan.nonce, n)),
                Some(count) => {
                    let payloads: Vec<[u8; 32]> = (n..n + count as u64)
                        .map(|i| payload(plan.nonce, i))
                        .collect();
                    ApiKind::propose_batch_body(n, &payloads)
                }
            };
            let started = Instant::now();
            let reply =
                tokio::time::timeout_at(plan.deadline + DRAIN, propose(&mut sender, &plan, body));
            match reply.await {
                Ok(Ok(reply)) => {
                    latencies.push(started.elapsed());
                    match reply {
                        Judged::One(outcome) => {
                            if outcome == Outcome::Accepted {
                                tally.remember_taken(n);
                            }
                            tally.record(outcome)
                        }
                        Judged::Many { accepted, refused } => {
                            // Wholly taken: its first payload is known to be in the mempool.
                            if refused == 0 {
                                tally.remember_taken(n);
                            }
                            tally.record_batch(accepted, refused)
                        }
                    }
                }
                Ok(Err(error)) if error.keeps_connection() => tally.fail(error),
                Ok(Err(error)) => {
                    tally.fail(error);
                    break; // a fresh connection
                }
                Err(_) => {
                    tally.fail(LoadError::Timeout);
                    return latencies;
                }
            }
        }
    }
    latencies
}

/// The `n`th payload of a run: SHA-256 of the run's nonce and `n`.
fn payload(nonce: u64, n: u64) -> [u8; 32] {
    let mut seed = [0u8; 16];
    seed[..8].copy_from_slice(&nonce.to_le_bytes());
    seed[8..].copy_from_slice(&n.to_le_bytes());
    Id::sha256(&seed).0
}

/// A keep-alive HTTP/1.1 connection; its driver runs in a task of its own until the sender is
/// dropped.
async fn connect(addr: SocketAddr) -> Result<SendRequest<String>, LoadError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| LoadError::Connect { addr, source })?;
    // Requests are small and one at a time: Nagle would only add delay.
    let _ = stream.set_nodelay(true);
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// What a reply said: one proposal's outcome, or a batch's counts.
enum Judged {
    One(Outcome),
    Many { accepted: u64, refused: u64 },
}

/// One proposeBlock (or proposeBatch): POST, read the whole reply, judge it: `Success` true or
/// false (or the batch's counts), else an error (a non-2xx status or a JSON-RPC error is a
/// failed proposal on a healthy connection).
async fn propose(
    sender: &mut SendRequest<String>,
    plan: &Plan,
    body: String,
) -> Result<Judged, LoadError> {
    let bytes = post(sender, plan, body).await?;
    if let Some(sent) = plan.batch {
        return match ApiKind::batch_outcome(&bytes, sent) {
            Some((accepted, refused)) => Ok(Judged::Many { accepted, refused }),
            None => Err(LoadError::Reply(LoadError::body_text(&bytes))),
        };
    }
    match plan.api.outcome(&bytes) {
        Outcome::Error => Err(LoadError::Reply(LoadError::body_text(&bytes))),
        outcome => Ok(Judged::One(outcome)),
    }
}

/// Payloads in the accepted blocks at `heights`, from each block's `count` in
/// `timestampvm.getBlockByHeight` (batched chains; read after the load, one request per block).
pub async fn payloads_in_blocks(
    plan: &Plan,
    heights: std::ops::RangeInclusive<u64>,
) -> Result<u64, String> {
    let mut sender = connect(plan.addr).await.map_err(|e| e.to_string())?;
    let mut total = 0;
    for height in heights {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{height},"method":"timestampvm.getBlockByHeight","params":{{"height":{height}}}}}"#
        );
        let bytes = post(&mut sender, plan, body)
            .await
            .map_err(|e| e.to_string())?;
        let reply: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        total += reply["result"]["count"]
            .as_u64()
            .ok_or_else(|| format!("block {height} has no payload count: {reply}"))?;
    }
    Ok(total)
}

/// Times `timestampvm.getProof` for `count` of the payloads in `taken` (spread evenly), one
/// request at a time on one connection. Returns the latencies of the proven ones and how many
/// got no proof.
pub async fn proof_latencies(
    plan: &Plan,
    count: u64,
    taken: &[u64],
) -> Result<(Vec<Duration>, u64), String> {
    let mut sender = connect(plan.addr).await.map_err(|e| e.to_string())?;
    let (mut latencies, mut unproven) = (Vec::new(), 0);
    let step = (taken.len() / count.max(1) as usize).max(1);
    let stop_by = Instant::now() + PROOF_BUDGET;
    for &n in taken.iter().step_by(step).take(count as usize) {
        if Instant::now() > stop_by {
            break;
        }
        let data = format_payload(&payload(plan.nonce, n), Encoding::Hex);
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{n},"method":"timestampvm.getProof","params":{{"data":"{data}"}}}}"#
        );
        let started = Instant::now();
        let bytes = post(&mut sender, plan, body)
            .await
            .map_err(|e| e.to_string())?;
        let elapsed = started.elapsed();
        let reply: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        match reply.get("result") {
            Some(_) => latencies.push(elapsed),
            None => unproven += 1,
        }
    }
    Ok((latencies, unproven))
}

/// POSTs one JSON-RPC body to the chain and reads the whole reply (a non-2xx status is an
/// error).
async fn post(
    sender: &mut SendRequest<String>,
    plan: &Plan,
    body: String,
) -> Result<hyper::body::Bytes, LoadError> {
    sender.ready().await?;
    let request = Request::post(plan.path.as_str())
        .header(HOST, plan.addr.to_string())
        .header(CONTENT_TYPE, "application/json")
        .body(body)?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        let body = LoadError::body_text(&bytes);
        let status = status.as_u16();
        return Err(LoadError::Status { status, body });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_differ_by_counter_and_nonce() {
        assert_ne!(payload(1, 0), payload(1, 1));
        assert_ne!(payload(1, 0), payload(2, 0));
        assert_eq!(payload(3, 4), payload(3, 4));
    }
}
