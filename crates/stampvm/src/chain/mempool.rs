//! The mempool's rules, written once: the payloads waiting for a block in arrival order, a set
//! for duplicates, a hard capacity (of which peers' gossip may fill only part), and the payloads
//! handed out for a block ("in flight") until that block is accepted or they come back, so a
//! payload is never pending twice. A full mempool answers "full"; it never drops silently.
//!
//! Pure: the chain's accepted index is asked through a closure, so the mempool actor (over
//! RocksDB) and `api::memory_backend` (over a HashMap) admit by the same rules in the same order.

use crate::chain::view::{BackendError, MempoolStats, ProposeError};
use crate::chain::{Id, Payload};
use std::collections::{HashSet, VecDeque};

/// Who proposed a payload: this node's API, or a peer through gossip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Local,
    Peer,
}

/// Pending payloads in arrival order, with their duplicate set and capacity.
#[derive(Debug)]
pub struct Mempool {
    queue: VecDeque<Payload>,
    /// What `queue` holds, for duplicate checks.
    members: HashSet<Payload>,
    /// Taken for a block not yet accepted.
    in_flight: HashSet<Payload>,
    capacity: usize,
}

/// How full peers' gossip may make the mempool: three quarters of it (at least one payload).
/// The rest is kept for this node's own API, so a peer gossiping faster than blocks drain cannot
/// get every local proposal refused.
pub fn peer_limit(capacity: usize) -> usize {
    (capacity - capacity / 4).max(1)
}

impl Mempool {
    /// An empty mempool of `capacity` payloads, sized once for a full mempool so its memory
    /// never steps up under load. The set gets twice the room: a full set that keeps churning
    /// (payloads in, payloads out to blocks) fills its table with tombstones, and hashbrown then
    /// rebuilds it in place only while at most half its capacity is in use; above that it
    /// doubles. Seen as a one-time jump of ~70 MiB, ~2 minutes into a batched load with a
    /// 1,000,000-payload mempool.
    pub fn with_capacity(capacity: usize) -> Mempool {
        Mempool {
            queue: VecDeque::with_capacity(capacity),
            members: HashSet::with_capacity(2 * capacity),
            in_flight: HashSet::new(),
            capacity,
        }
    }

    /// Payloads waiting (not counting those in flight).
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn stats(&self) -> MempoolStats {
        MempoolStats {
            size: self.queue.len(),
            capacity: self.capacity,
        }
    }

    /// The waiting payloads, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &Payload> {
        self.queue.iter()
    }

    /// Whether a payload is waiting here or in a block being built from here.
    pub fn holds(&self, payload: &Payload) -> bool {
        self.members.contains(payload) || self.in_flight.contains(payload)
    }

    /// The rules that need no chain: refused as a duplicate, or as full for `origin`.
    pub fn check(&self, payload: &Payload, origin: Origin) -> Result<(), ProposeError> {
        if self.holds(payload) {
            return Err(ProposeError::Duplicate);
        }
        let limit = match origin {
            Origin::Local => self.capacity,
            Origin::Peer => peer_limit(self.capacity),
        };
        if self.queue.len() >= limit {
            return Err(ProposeError::MempoolFull {
                capacity: self.capacity,
            });
        }
        Ok(())
    }

    /// Admits `payload` at the back, or says why not, in this order: pending already, full,
    /// then already in an accepted block. `accepted_in` says which accepted block holds the
    /// payload; it is asked last, only for a payload that passed the other rules (so a caller
    /// reading the chain from disk reads nothing for a duplicate).
    pub fn admit(
        &mut self,
        payload: Payload,
        origin: Origin,
        accepted_in: impl FnOnce() -> Result<Option<Id>, BackendError>,
    ) -> Result<(), ProposeError> {
        self.check(&payload, origin)?;
        if let Some(block) = accepted_in()? {
            return Err(ProposeError::AlreadyAccepted(block));
        }
        self.members.insert(payload);
        self.queue.push_back(payload);
        Ok(())
    }

    /// [`Mempool::admit`] for many payloads in order, `accepted[i]` being what the chain knows
    /// of `payloads[i]` (read once for all of them), or the error that read met.
    pub fn admit_many(
        &mut self,
        payloads: Vec<Payload>,
        origin: Origin,
        accepted: Result<Vec<Option<Id>>, BackendError>,
    ) -> Vec<(Payload, Result<(), ProposeError>)> {
        payloads
            .into_iter()
            .enumerate()
            .map(|(i, payload)| {
                let known = match &accepted {
                    Ok(blocks) => Ok(blocks[i]),
                    Err(e) => Err(e.clone()),
                };
                (payload, self.admit(payload, origin, || known))
            })
            .collect()
    }

    /// Up to `max` payloads for a new block, oldest first. They leave the queue now (in
    /// flight); [`Mempool::requeue`] brings them back, [`Mempool::forget`] ends them.
    pub fn take(&mut self, max: usize) -> Vec<Payload> {
        let count = max.min(self.queue.len());
        let taken: Vec<Payload> = self.queue.drain(..count).collect();
        for payload in &taken {
            self.members.remove(payload);
            self.in_flight.insert(*payload);
        }
        taken
    }

    /// Payloads of a rejected (or unbuilt) block: back to the front, in their original order,
    /// since they waited longest. Capacity may be exceeded briefly here: these payloads were
    /// already admitted once.
    pub fn requeue(&mut self, payloads: Vec<Payload>) {
        for payload in payloads.into_iter().rev() {
            self.in_flight.remove(&payload);
            if self.members.insert(payload) {
                self.queue.push_front(payload);
            }
        }
    }

    /// Payloads an accepted block included (or that a block already holds): they leave, whether
    /// waiting or in flight.
    pub fn forget(&mut self, payloads: &[Payload]) {
        let mut removed = 0usize;
        for payload in payloads {
            self.in_flight.remove(payload);
            if self.members.remove(payload) {
                removed += 1;
            }
        }
        if removed > 0 {
            let members = &self.members;
            self.queue.retain(|p| members.contains(p));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> Result<Option<Id>, BackendError> {
        Ok(None)
    }

    fn p(n: u8) -> Payload {
        [n; 32]
    }

    #[test]
    fn admits_in_order_then_refuses_duplicates_and_full() {
        let mut pool = Mempool::with_capacity(2);
        pool.admit(p(1), Origin::Local, none).unwrap();
        assert_eq!(
            pool.admit(p(1), Origin::Local, none),
            Err(ProposeError::Duplicate)
        );
        pool.admit(p(2), Origin::Local, none).unwrap();
        assert_eq!(
            pool.admit(p(3), Origin::Local, none),
            Err(ProposeError::MempoolFull { capacity: 2 })
        );
        // A duplicate of a full mempool is a duplicate: that rule comes first.
        assert_eq!(
            pool.admit(p(2), Origin::Local, none),
            Err(ProposeError::Duplicate)
        );
        assert_eq!(pool.pending().copied().collect::<Vec<_>>(), [p(1), p(2)]);
        assert_eq!(
            pool.stats(),
            MempoolStats {
                size: 2,
                capacity: 2
            }
        );
    }

    #[test]
    fn the_chain_is_asked_last_and_only_when_the_rest_passed() {
        let mut pool = Mempool::with_capacity(1);
        let accepted = Id([7; 32]);
        assert_eq!(
            pool.admit(p(1), Origin::Local, || Ok(Some(accepted))),
            Err(ProposeError::AlreadyAccepted(accepted))
        );
        let failed = BackendError::Internal("disk".into());
        assert_eq!(
            pool.admit(p(1), Origin::Local, || Err(failed.clone())),
            Err(ProposeError::Backend(failed))
        );
        assert!(pool.is_empty());
        pool.admit(p(1), Origin::Local, none).unwrap();
        let asked = std::cell::Cell::new(false);
        let outcome = pool.admit(p(1), Origin::Local, || {
            asked.set(true);
            Ok(None)
        });
        assert_eq!(outcome, Err(ProposeError::Duplicate));
        assert!(!asked.get(), "a duplicate must not read the chain");
    }

    #[test]
    fn peers_fill_three_quarters() {
        assert_eq!(peer_limit(1), 1);
        assert_eq!(peer_limit(4), 3);
        assert_eq!(peer_limit(10), 8);
        let mut pool = Mempool::with_capacity(4);
        for n in 0..3 {
            pool.admit(p(n), Origin::Peer, none).unwrap();
        }
        assert_eq!(
            pool.admit(p(3), Origin::Peer, none),
            Err(ProposeError::MempoolFull { capacity: 4 })
        );
        pool.admit(p(3), Origin::Local, none).unwrap();
    }

    #[test]
    fn admit_many_answers_each_in_order() {
        let mut pool = Mempool::with_capacity(2);
        let outcomes = pool.admit_many(
            vec![p(1), p(1), p(2), p(3)],
            Origin::Local,
            Ok(vec![None, None, Some(Id([9; 32])), None]),
        );
        let outcomes: Vec<_> = outcomes.into_iter().map(|(_, o)| o).collect();
        assert_eq!(
            outcomes,
            [
                Ok(()),
                Err(ProposeError::Duplicate),
                Err(ProposeError::AlreadyAccepted(Id([9; 32]))),
                Ok(()),
            ]
        );
        let failed = BackendError::Internal("disk".into());
        let outcomes = pool.admit_many(vec![p(1), p(4)], Origin::Local, Err(failed.clone()));
        assert_eq!(outcomes[0].1, Err(ProposeError::Duplicate));
        assert_eq!(
            outcomes[1].1,
            Err(ProposeError::MempoolFull { capacity: 2 })
        );
    }

    #[test]
    fn taken_payloads_stay_known_until_requeued_or_forgotten() {
        let mut pool = Mempool::with_capacity(4);
        for n in 1..=4 {
            pool.admit(p(n), Origin::Local, none).unwrap();
        }
        let taken = pool.take(2);
        assert_eq!(taken, [p(1), p(2)]);
        assert_eq!(pool.len(), 2);
        assert!(pool.holds(&p(1)), "in flight is still held");
        assert_eq!(
            pool.admit(p(1), Origin::Local, none),
            Err(ProposeError::Duplicate)
        );
        // Back to the front in their order.
        pool.requeue(taken);
        assert_eq!(
            pool.pending().copied().collect::<Vec<_>>(),
            [p(1), p(2), p(3), p(4)]
        );
        let taken = pool.take(3);
        // Accepted elsewhere: a pending one and an in-flight one leave.
        pool.forget(&[p(2), p(4)]);
        assert!(!pool.holds(&p(2)) && !pool.holds(&p(4)));
        assert!(pool.pending().next().is_none());
        pool.requeue(vec![taken[0], taken[2]]);
        assert_eq!(pool.pending().copied().collect::<Vec<_>>(), [p(1), p(3)]);
        assert_eq!(pool.take(10), [p(1), p(3)]);
        assert!(pool.take(10).is_empty());
    }

    #[test]
    fn requeue_may_pass_capacity() {
        let mut pool = Mempool::with_capacity(1);
        pool.admit(p(1), Origin::Local, none).unwrap();
        let taken = pool.take(1);
        pool.admit(p(2), Origin::Local, none).unwrap();
        pool.requeue(taken);
        assert_eq!(pool.pending().copied().collect::<Vec<_>>(), [p(1), p(2)]);
    }
}
