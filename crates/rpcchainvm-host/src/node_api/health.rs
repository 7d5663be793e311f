//! `/ext/health`'s checks: one per chain, the plugin's `vm.VM/Health` under the node's nesting,
//! and the run of failures the node reports, in AvalancheGo's `health` shapes.

use super::NodeChain;
use rpcchainvm::utc::rfc3339_nanos;
use serde::Serialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Instant, SystemTime};

/// A chain and the run of failures its health check is on, which the node reports.
#[derive(Debug)]
pub(super) struct Registered {
    pub(super) chain: NodeChain,
    failures: Mutex<FailureRun>,
}

#[derive(Debug, Default, Clone, Copy)]
struct FailureRun {
    contiguous: i64,
    first: Option<SystemTime>,
}

impl Registered {
    pub(super) fn new(chain: NodeChain) -> Registered {
        Registered {
            chain,
            failures: Mutex::default(),
        }
    }

    /// The node's health check of this chain: the plugin's `Health` under the node's nesting,
    /// timed, and the run of failures updated.
    pub(super) async fn check(&self) -> CheckResult {
        let at = SystemTime::now();
        let started = Instant::now();
        let answer = self.chain.client.raw().health(()).await;
        let duration = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
        let (vm, error) = match answer {
            // The node embeds the details as raw JSON, empty read as null.
            Ok(reply) => match reply.into_inner().details {
                details if details.is_empty() => (None, None),
                details => match serde_json::from_slice::<Box<RawValue>>(&details) {
                    Ok(raw) => (Some(raw), None),
                    // Go would fail to encode the whole reply; one failed check says more.
                    Err(error) => (None, Some(format!("health details are not JSON: {error}"))),
                },
            },
            // Go's rendering of a gRPC status, as the node's VM client wraps it.
            Err(status) => (
                None,
                Some(format!(
                    "health check failed: rpc error: code = {:?} desc = {}",
                    status.code(),
                    status.message()
                )),
            ),
        };
        let run = {
            let mut run = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
            match error {
                Some(_) => {
                    run.contiguous += 1;
                    run.first.get_or_insert(at);
                }
                None => *run = FailureRun::default(),
            }
            *run
        };
        let consensus = self.chain.tip.as_ref().map(|tip| {
            let tip = *tip.borrow();
            Consensus {
                last_accepted_id: tip.id.to_string(),
                last_accepted_height: tip.height,
            }
        });
        CheckResult {
            message: ChainDetails {
                engine: EngineDetails { consensus, vm },
                networking: Networking {
                    percent_connected: 1.0,
                },
            },
            error,
            timestamp: rfc3339_nanos(at),
            duration,
            contiguous_failures: run.contiguous,
            time_of_first_failure: run.first.map(rfc3339_nanos),
        }
    }
}

/// AvalancheGo's `health.APIReply`.
#[derive(Debug, Serialize)]
pub(super) struct HealthReply {
    pub(super) checks: BTreeMap<String, CheckResult>,
    pub(super) healthy: bool,
}

/// AvalancheGo's `health.Result`, its members in Go's order and with Go's `omitempty`s.
#[derive(Debug, Serialize)]
pub(super) struct CheckResult {
    message: ChainDetails,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
    timestamp: String,
    /// Nanoseconds, as Go marshals a `time.Duration`.
    duration: i64,
    #[serde(rename = "contiguousFailures", skip_serializing_if = "is_zero")]
    contiguous_failures: i64,
    #[serde(rename = "timeOfFirstFailure", skip_serializing_if = "Option::is_none")]
    time_of_first_failure: Option<String>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// The node's chain health (its message handler's), whose `engine.vm` is the plugin's details.
#[derive(Debug, Serialize)]
struct ChainDetails {
    engine: EngineDetails,
    networking: Networking,
}

#[derive(Debug, Serialize)]
struct EngineDetails {
    consensus: Option<Consensus>,
    vm: Option<Box<RawValue>>,
}

/// What the dev engine knows of consensus: the block it last accepted.
#[derive(Debug, Serialize)]
struct Consensus {
    #[serde(rename = "lastAcceptedID")]
    last_accepted_id: String,
    #[serde(rename = "lastAcceptedHeight")]
    last_accepted_height: u64,
}

/// A one-validator node is connected to all the stake there is: its own.
#[derive(Debug, Serialize)]
struct Networking {
    #[serde(rename = "percentConnected")]
    percent_connected: f64,
}
