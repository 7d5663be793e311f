//! The verification rules of a block, as pure functions of the block, its parent, the chain's
//! format and the local clock: the Go reference's three (docs/spec/vectors.md section 2, end),
//! and for a batched chain the batch rules. "Not already included" needs the store and is the
//! chain actor's ([`VerifyError::AlreadyIncluded`]).

use super::batched::{self, BatchError};
use super::block::{Block, Body};
use super::genesis::ChainFormat;
use super::id::Id;
use super::merkle::Tree;

/// How far ahead of the local clock a block's timestamp may be, in seconds.
pub const MAX_FUTURE_SECS: i64 = 3600;

/// What the chain knows about a candidate's parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentStatus {
    /// The last accepted block: building on it is extending the chain.
    LastAccepted,
    /// Verified and not yet decided: a child may be verified before its parent is decided.
    Processing,
    /// Accepted, but no longer the tip: a child would fork the decided chain.
    AcceptedBelowTip,
    Rejected,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("parent block is unknown")]
    UnknownParent,
    #[error("parent block was rejected")]
    RejectedParent,
    #[error("parent block is accepted but not the last accepted block: this block conflicts with the decided chain")]
    ConflictsWithAccepted,
    #[error("height {got} is not parent height + 1 ({expected})")]
    Height { expected: u64, got: u64 },
    #[error("timestamp {got} is before the parent's timestamp {parent}")]
    TimestampBeforeParent { parent: i64, got: i64 },
    #[error("timestamp {got} is an hour or more ahead of local time {now}")]
    TimestampTooFarAhead { now: i64, got: i64 },
    #[error("a {found} block on a {chain} chain")]
    OtherFormat {
        found: &'static str,
        chain: &'static str,
    },
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error("payload {0} is already in an accepted block or in a block this one builds on")]
    AlreadyIncluded(Id),
}

/// The format rules: the body is of the chain's format and, for a batched chain, obeys the
/// batch rules. Returns the checked block's Merkle tree (batched chains), which the chain keeps
/// until accept to store the proof nodes without hashing the batch again.
pub fn verify_body(block: &Block, format: ChainFormat) -> Result<Option<Tree>, VerifyError> {
    match (&block.body, format) {
        (Body::Single(_), ChainFormat::Single) => Ok(None),
        (Body::Batched(batch), ChainFormat::Batched { max_batch }) => {
            Ok(Some(batched::check_batch(batch, max_batch)?))
        }
        (Body::Single(_), ChainFormat::Batched { .. }) => Err(VerifyError::OtherFormat {
            found: "single-payload",
            chain: "batched",
        }),
        (Body::Batched(_), ChainFormat::Single) => Err(VerifyError::OtherFormat {
            found: "batched",
            chain: "single-payload",
        }),
    }
}

/// No block built on a parent this far ahead of the local clock can pass verification here: its
/// timestamp may not be before the parent's, nor an hour or more ahead of local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the parent block's time {parent} is an hour or more ahead of the local clock {now}: no block \
     on it can pass verification here until the clock reaches {resumes_at}",
    resumes_at = .parent.saturating_sub(MAX_FUTURE_SECS).saturating_add(1)
)]
pub struct ClockBehindParent {
    pub parent: i64,
    pub now: i64,
}

/// The timestamp of a block built on a parent with timestamp `parent` at local time `now_secs`:
/// the local time, or the parent's if the local clock is behind it (a clock stepped back, or a
/// peer's clock ahead of ours), since the rules refuse a block older than its parent. Such a
/// block passes [`verify_child`] as long as the parent is less than an hour ahead of the local
/// clock; beyond that no timestamp can, and the error says when building can resume.
pub fn build_timestamp(parent: i64, now_secs: i64) -> Result<i64, ClockBehindParent> {
    let timestamp = now_secs.max(parent);
    if timestamp >= now_secs.saturating_add(MAX_FUTURE_SECS) {
        return Err(ClockBehindParent {
            parent,
            now: now_secs,
        });
    }
    Ok(timestamp)
}

/// The three rules of the Go reference (height, timestamp not before the parent, not an hour
/// ahead), after the parent itself is checked to be a block that may still be extended.
pub fn verify_child(
    block: &Block,
    parent: Option<(&Block, ParentStatus)>,
    now_secs: i64,
) -> Result<(), VerifyError> {
    let parent = match parent {
        None | Some((_, ParentStatus::Unknown)) => return Err(VerifyError::UnknownParent),
        Some((_, ParentStatus::Rejected)) => return Err(VerifyError::RejectedParent),
        Some((_, ParentStatus::AcceptedBelowTip)) => {
            return Err(VerifyError::ConflictsWithAccepted)
        }
        Some((parent, _)) => parent,
    };
    let expected = parent.height.wrapping_add(1);
    if block.height != expected {
        return Err(VerifyError::Height {
            expected,
            got: block.height,
        });
    }
    if block.timestamp < parent.timestamp {
        return Err(VerifyError::TimestampBeforeParent {
            parent: parent.timestamp,
            got: block.timestamp,
        });
    }
    if block.timestamp >= now_secs.saturating_add(MAX_FUTURE_SECS) {
        return Err(VerifyError::TimestampTooFarAhead {
            now: now_secs,
            got: block.timestamp,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::genesis_block;

    const NOW: i64 = 1_700_000_000;

    fn child_of(parent: &Block, timestamp: i64) -> Block {
        Block::single(parent.id(), parent.height + 1, timestamp, [1; 32])
    }

    #[test]
    fn body_rules_follow_the_chain_format() {
        let batched = ChainFormat::Batched { max_batch: 2 };
        let single = child_of(&genesis_block(b"g").unwrap(), NOW);
        let batch = Block::batched(Id::EMPTY, 1, NOW, vec![[1; 32], [2; 32]]).unwrap();
        assert_eq!(verify_body(&single, ChainFormat::Single), Ok(None));
        assert!(verify_body(&batch, batched).unwrap().is_some());
        assert!(matches!(
            verify_body(&single, batched),
            Err(VerifyError::OtherFormat { .. })
        ));
        assert!(matches!(
            verify_body(&batch, ChainFormat::Single),
            Err(VerifyError::OtherFormat { .. })
        ));
        let three = Block::batched(Id::EMPTY, 1, NOW, vec![[1; 32], [2; 32], [3; 32]]).unwrap();
        assert_eq!(
            verify_body(&three, batched),
            Err(VerifyError::Batch(BatchError::TooMany { count: 3, max: 2 }))
        );
    }

    #[test]
    fn a_good_child_passes() {
        let genesis = genesis_block(b"g").unwrap();
        let child = child_of(&genesis, NOW);
        assert_eq!(
            verify_child(&child, Some((&genesis, ParentStatus::LastAccepted)), NOW),
            Ok(())
        );
        assert_eq!(
            verify_child(&child, Some((&genesis, ParentStatus::Processing)), NOW),
            Ok(())
        );
    }

    #[test]
    fn parent_status_rules() {
        let genesis = genesis_block(b"g").unwrap();
        let child = child_of(&genesis, NOW);
        assert_eq!(
            verify_child(&child, None, NOW),
            Err(VerifyError::UnknownParent)
        );
        assert_eq!(
            verify_child(&child, Some((&genesis, ParentStatus::Rejected)), NOW),
            Err(VerifyError::RejectedParent)
        );
        assert_eq!(
            verify_child(
                &child,
                Some((&genesis, ParentStatus::AcceptedBelowTip)),
                NOW
            ),
            Err(VerifyError::ConflictsWithAccepted)
        );
    }

    #[test]
    fn height_must_follow_parent() {
        let genesis = genesis_block(b"g").unwrap();
        let mut child = child_of(&genesis, NOW);
        child.height = 2;
        assert_eq!(
            verify_child(&child, Some((&genesis, ParentStatus::LastAccepted)), NOW),
            Err(VerifyError::Height {
                expected: 1,
                got: 2
            })
        );
    }

    #[test]
    fn timestamp_rules() {
        let genesis = genesis_block(b"g").unwrap();
        let parent = child_of(&genesis, NOW);
        let ok = Some((&parent, ParentStatus::Processing));
        // Equal to the parent's time is fine; one second earlier is not.
        assert!(verify_child(&child_of(&parent, NOW), ok, NOW).is_ok());
        assert!(matches!(
            verify_child(&child_of(&parent, NOW - 1), ok, NOW),
            Err(VerifyError::TimestampBeforeParent { .. })
        ));
        // Just under an hour ahead passes; an hour ahead fails.
        assert!(verify_child(&child_of(&parent, NOW + 3599), ok, NOW).is_ok());
        assert!(matches!(
            verify_child(&child_of(&parent, NOW + 3600), ok, NOW),
            Err(VerifyError::TimestampTooFarAhead { .. })
        ));
    }

    // A clock behind the parent builds at the parent's time, which verification takes (equal to
    // the parent's is allowed, as in the Go reference) while the parent is less than an hour
    // ahead; from an hour on no timestamp is valid, and building refuses with when it resumes.
    #[test]
    fn build_timestamps_never_go_before_the_parent() {
        let genesis = genesis_block(b"g").unwrap();
        let parent = child_of(&genesis, NOW);
        let ok = Some((&parent, ParentStatus::Processing));
        assert_eq!(build_timestamp(NOW, NOW + 5), Ok(NOW + 5));
        for behind in [1, 60, 3599] {
            let now = NOW - behind;
            let timestamp = build_timestamp(NOW, now).unwrap();
            assert_eq!(timestamp, NOW, "{behind} s behind");
            assert_eq!(verify_child(&child_of(&parent, timestamp), ok, now), Ok(()));
        }
        let stalled = build_timestamp(NOW, NOW - 3600).unwrap_err();
        assert_eq!(
            stalled,
            ClockBehindParent {
                parent: NOW,
                now: NOW - 3600
            }
        );
        // Consistent with verification: the parent's own time is not valid at that clock.
        assert!(verify_child(&child_of(&parent, NOW), ok, NOW - 3600).is_err());
        assert!(stalled
            .to_string()
            .ends_with(&format!("until the clock reaches {}", NOW - 3599)));
    }
}
