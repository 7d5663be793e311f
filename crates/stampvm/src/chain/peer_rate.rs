//! How many gossiped payloads each peer may hand this node per second: a token bucket per peer,
//! one second's allowance deep, refilled continuously. Payloads over the budget are dropped, not
//! obeyed: a peer's gossip is untrusted and must not fill the mempool at its own pace.

use crate::chain::NodeId;
use std::collections::HashMap;
use std::time::Instant;

/// One peer's bucket.
#[derive(Debug)]
struct Budget {
    tokens: f64,
    updated: Instant,
}

/// Every peer's bucket, created full on the peer's first message.
#[derive(Debug)]
pub struct PeerRates {
    per_sec: f64,
    budgets: HashMap<NodeId, Budget>,
}

impl PeerRates {
    /// Budgets of `per_sec` payloads a second per peer.
    pub fn new(per_sec: u32) -> PeerRates {
        PeerRates {
            per_sec: f64::from(per_sec),
            budgets: HashMap::new(),
        }
    }

    /// Charges `count` payloads to `peer`'s budget at `now`; returns how many may pass.
    pub fn allow(&mut self, peer: NodeId, count: usize, now: Instant) -> usize {
        let rate = self.per_sec;
        let budget = self.budgets.entry(peer).or_insert(Budget {
            tokens: rate,
            updated: now,
        });
        let refill = now.saturating_duration_since(budget.updated).as_secs_f64() * rate;
        budget.tokens = (budget.tokens + refill).min(rate);
        budget.updated = now;
        let allowed = (budget.tokens.floor() as usize).min(count);
        budget.tokens -= allowed as f64;
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_peer_gets_one_seconds_allowance_then_its_refill() {
        let mut rates = PeerRates::new(100);
        let (a, b) = (NodeId([1; 20]), NodeId([2; 20]));
        let start = Instant::now();
        assert_eq!(rates.allow(a, 60, start), 60);
        assert_eq!(rates.allow(a, 60, start), 40);
        assert_eq!(rates.allow(a, 1, start), 0);
        // Another peer has its own bucket.
        assert_eq!(rates.allow(b, 150, start), 100);
        // A quarter second refills a quarter of the allowance, never more than one second's.
        assert_eq!(rates.allow(a, 60, start + Duration::from_millis(250)), 25);
        assert_eq!(rates.allow(a, 500, start + Duration::from_secs(60)), 100);
    }
}
