//! Failures an operator must see in the log, not only in Health: a block of ours that could not
//! be built or accepted, a block that failed verification, a store that refuses reads or writes.
//!
//! [`report`] counts every failure in `stampvm_failures_total{operation, cause}` and logs it with
//! its cause, at ERROR when it is the store's or when the node treats it as fatal for the chain
//! (accept, reject, set preference), at WARN otherwise. Logging is rate-limited per operation and
//! cause: the first failure is logged at once, then at most one line each [`LOG_EVERY`], which
//! says how many failures of that kind were not logged since the last line. A stuck disk that
//! fails every call therefore writes a line every ten seconds per kind, not one per block.

use crate::metrics::{FAILURES_TOTAL, LABEL_CAUSE, LABEL_OPERATION};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// Least time between two log lines of one operation and cause.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// What was being done: the metric's `operation` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Opening the store at Initialize.
    Open,
    /// Building a block of ours (its verification included).
    Build,
    /// Verifying a block the node sent (a peer's, or ours again).
    Verify,
    Accept,
    Reject,
    SetPreference,
    /// Reading an accepted block or index for the node or the API.
    Read,
    /// The health check's write probe.
    HealthProbe,
}

impl Operation {
    /// Every operation, for registering the metric's series at zero.
    pub const ALL: [Operation; 8] = [
        Operation::Open,
        Operation::Build,
        Operation::Verify,
        Operation::Accept,
        Operation::Reject,
        Operation::SetPreference,
        Operation::Read,
        Operation::HealthProbe,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Open => "open",
            Operation::Build => "build",
            Operation::Verify => "verify",
            Operation::Accept => "accept",
            Operation::Reject => "reject",
            Operation::SetPreference => "set_preference",
            Operation::Read => "read",
            Operation::HealthProbe => "health_probe",
        }
    }

    /// The node stops the chain when these fail (node-behaviour section 11): always worth ERROR.
    fn fatal_for_the_chain(self) -> bool {
        matches!(
            self,
            Operation::Open | Operation::Accept | Operation::Reject | Operation::SetPreference
        )
    }
}

/// Why it failed: the metric's `cause` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// RocksDB or the store's directory refused, or a stored value is corrupt.
    Storage,
    /// The block breaks a rule.
    Invalid,
    /// Anything else: an unknown or undecidable block, an actor that did not answer.
    Other,
}

impl Cause {
    /// Every cause, for registering the metric's series at zero.
    pub const ALL: [Cause; 3] = [Cause::Storage, Cause::Invalid, Cause::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Storage => "storage",
            Cause::Invalid => "invalid",
            Cause::Other => "other",
        }
    }
}

/// Counts one failure and logs it unless one of its kind was logged within [`LOG_EVERY`].
pub fn report(operation: Operation, cause: Cause, error: &dyn std::fmt::Display) {
    metrics::counter!(
        FAILURES_TOTAL,
        LABEL_OPERATION => operation.as_str(),
        LABEL_CAUSE => cause.as_str()
    )
    .increment(1);
    let admitted = {
        let mut throttles = THROTTLES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        throttles
            .entry((operation, cause))
            .or_default()
            .admit(Instant::now(), LOG_EVERY)
    };
    let Some(not_logged) = admitted else {
        return;
    };
    let loud = cause == Cause::Storage || operation.fatal_for_the_chain();
    let (operation, cause) = (operation.as_str(), cause.as_str());
    if loud {
        tracing::error!(operation, cause, %error, not_logged, "{operation} failed");
    } else {
        tracing::warn!(operation, cause, %error, not_logged, "{operation} failed");
    }
}

static THROTTLES: LazyLock<Mutex<HashMap<(Operation, Cause), Throttle>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// When one kind of failure was last logged, and how many have not been since.
#[derive(Debug, Default)]
struct Throttle {
    last_logged: Option<Instant>,
    not_logged: u64,
}

impl Throttle {
    /// `Some(failures not logged since the last line)` when this one is to be logged.
    fn admit(&mut self, now: Instant, every: Duration) -> Option<u64> {
        match self.last_logged {
            Some(last) if now.saturating_duration_since(last) < every => {
                self.not_logged += 1;
                None
            }
            _ => {
                self.last_logged = Some(now);
                Some(std::mem::take(&mut self.not_logged))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failure_is_logged_then_one_line_per_interval() {
        let every = Duration::from_secs(10);
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        let mut throttle = Throttle::default();
        assert_eq!(throttle.admit(at(0), every), Some(0));
        // A stuck disk failing every second: nothing until the interval has passed, then one
        // line that counts the silent ones.
        for second in 1..10 {
            assert_eq!(throttle.admit(at(second), every), None, "at {second} s");
        }
        assert_eq!(throttle.admit(at(10), every), Some(9));
        assert_eq!(throttle.admit(at(11), every), None);
        // After a quiet spell the next failure is logged at once.
        assert_eq!(throttle.admit(at(100), every), Some(1));
    }
}
