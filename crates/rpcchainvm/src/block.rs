//! Blocks as the node sees them: an ID, a parent, a height, a time and the VM's bytes. The VM
//! keeps its own block format; these are the facts every block response carries.

use crate::ids::Id;
use crate::vm::VmError;
use std::time::Duration;

/// The range `google.protobuf.Timestamp` allows (years 1..=9999); the node refuses others.
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;

/// A block time the node accepts: always within the protobuf Timestamp range, so a reply never
/// fails to encode. A VM checks its blocks' times when it decodes them ([`Timestamp::from_unix`]),
/// so a block whose time the node could not carry is refused before it changes any state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

impl Timestamp {
    /// Whole seconds since the Unix epoch; [`VmError::Invalid`] outside years 1..=9999.
    pub fn from_unix(seconds: i64) -> Result<Timestamp, VmError> {
        Timestamp::from_unix_nanos(seconds, 0)
    }

    /// Seconds and nanoseconds (below 1e9) since the Unix epoch.
    pub fn from_unix_nanos(seconds: i64, nanos: u32) -> Result<Timestamp, VmError> {
        if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
            return Err(VmError::Invalid(format!(
                "block timestamp {seconds} is outside the range a protobuf Timestamp can carry"
            )));
        }
        if nanos >= 1_000_000_000 {
            return Err(VmError::Invalid(format!(
                "block timestamp nanoseconds {nanos} are not below one second"
            )));
        }
        Ok(Timestamp { seconds, nanos })
    }

    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    pub(crate) fn to_pb(self) -> prost_types::Timestamp {
        prost_types::Timestamp {
            seconds: self.seconds,
            // Below 1e9 by construction, so it fits.
            nanos: self.nanos as i32,
        }
    }

    /// The node's timestamp, when it is one the node could have sent (in range, nanos valid).
    pub(crate) fn from_pb(timestamp: &prost_types::Timestamp) -> Option<Timestamp> {
        let nanos = u32::try_from(timestamp.nanos).ok()?;
        Timestamp::from_unix_nanos(timestamp.seconds, nanos).ok()
    }
}

/// Where a block stands, as the node is told (only profiles up to 35 are told).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockStatus {
    Processing,
    Accepted,
    Rejected,
}

/// One block: what Initialize, SetState, BuildBlock, ParseBlock and GetBlock answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    pub id: Id,
    pub parent: Id,
    pub height: u64,
    pub timestamp: Timestamp,
    /// The VM's encoding of the block (ParseBlock's answer carries none; there it may be empty).
    pub bytes: Vec<u8>,
    /// Where the block stands; ignored by ParseBlock (see [`crate::Vm::parsed_block_status`]).
    pub status: BlockStatus,
}

/// GetAncestors' limits (node-behaviour.md section 7); zero where the node sent nonsense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AncestorsLimits {
    pub max_blocks: usize,
    pub max_bytes: usize,
    pub max_time: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_out_of_protobuf_range_are_refused() {
        assert!(Timestamp::from_unix(MAX_SECONDS).is_ok());
        assert!(Timestamp::from_unix(MIN_SECONDS).is_ok());
        let refused = Timestamp::from_unix(MAX_SECONDS + 1).unwrap_err();
        assert_eq!(
            refused,
            VmError::Invalid(format!(
                "block timestamp {} is outside the range a protobuf Timestamp can carry",
                MAX_SECONDS + 1
            ))
        );
        assert!(Timestamp::from_unix(MIN_SECONDS - 1).is_err());
        assert!(Timestamp::from_unix_nanos(0, 1_000_000_000).is_err());
    }
}
