//! The node's checks of a plugin's answers: what makes AvalancheGo refuse an answer even though
//! the call succeeded (32-byte IDs, timestamps in range, a block `status` of 1-3 where the
//! profile has one, `Handler`s in the profile's layout). The host applies them where the node
//! does, so a plugin that would break a real node breaks the host too.

use super::HostError;
use prost_types::Timestamp;
use rpcchainvm::ids::Id;
use rpcchainvm::pb::vm as pb;
use rpcchainvm::protocol::{HandlerLayout, Profile};

/// `Handler.lock_options` at 28 (profiles.md 3.2): 0 WriteLock, 1 ReadLock, 2 NoLock.
pub const NO_LOCK: u32 = 2;

/// A block as the node sees it in Initialize/SetState/BuildBlock answers, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockSummary {
    pub id: Id,
    pub parent_id: Id,
    pub height: u64,
    pub timestamp: Timestamp,
    pub bytes: Vec<u8>,
}

impl BlockSummary {
    pub fn from_initialize(r: pb::InitializeResponse) -> Result<BlockSummary, HostError> {
        let (id, parent) = (&r.last_accepted_id, &r.last_accepted_parent_id);
        BlockSummary::check(
            "vm.VM/Initialize",
            id,
            parent,
            r.height,
            r.timestamp,
            r.bytes,
        )
    }

    pub fn from_set_state(r: pb::SetStateResponse) -> Result<BlockSummary, HostError> {
        let (id, parent) = (&r.last_accepted_id, &r.last_accepted_parent_id);
        BlockSummary::check("vm.VM/SetState", id, parent, r.height, r.timestamp, r.bytes)
    }

    pub fn from_build(r: pb::BuildBlockResponse) -> Result<BlockSummary, HostError> {
        let (id, parent) = (&r.id, &r.parent_id);
        BlockSummary::check(
            "vm.VM/BuildBlock",
            id,
            parent,
            r.height,
            r.timestamp,
            r.bytes,
        )
    }

    fn check(
        method: &'static str,
        id: &[u8],
        parent_id: &[u8],
        height: u64,
        timestamp: Option<Timestamp>,
        bytes: Vec<u8>,
    ) -> Result<BlockSummary, HostError> {
        Ok(BlockSummary {
            id: id32(method, "id", id)?,
            parent_id: id32(method, "parent id", parent_id)?,
            height,
            timestamp: valid_timestamp(method, timestamp)?,
            bytes,
        })
    }
}

/// The node's `ids.ToID`: exactly 32 bytes.
pub fn id32(method: &'static str, field: &str, bytes: &[u8]) -> Result<Id, HostError> {
    Id::from_slice(bytes).ok_or_else(|| HostError::InvalidResponse {
        method,
        reason: format!("{field} has {} bytes, expected 32", bytes.len()),
    })
}

/// The node's timestamp check: present, seconds within years 1–9999, nanos within a second.
pub fn valid_timestamp(
    method: &'static str,
    timestamp: Option<Timestamp>,
) -> Result<Timestamp, HostError> {
    let invalid = |reason: String| HostError::InvalidResponse { method, reason };
    let ts = timestamp.ok_or_else(|| invalid("invalid nil Timestamp".into()))?;
    if !(-62_135_596_800..=253_402_300_799).contains(&ts.seconds) {
        return Err(invalid(format!(
            "timestamp seconds {} out of range",
            ts.seconds
        )));
    }
    if !(0..=999_999_999).contains(&ts.nanos) {
        return Err(invalid(format!(
            "timestamp nanos {} out of range",
            ts.nanos
        )));
    }
    Ok(ts)
}

/// Up to 35 the node reads a block's `status` (field 3) and refuses anything but PROCESSING,
/// REJECTED or ACCEPTED, the proto3 default 0 included (profiles.md 3.4); later nodes ignore it.
pub fn block_status(method: &'static str, profile: Profile, status: i32) -> Result<(), HostError> {
    let known = [
        pb::Status::Processing,
        pb::Status::Rejected,
        pb::Status::Accepted,
    ];
    if !profile.sends_block_status() || known.iter().any(|s| *s as i32 == status) {
        return Ok(());
    }
    Err(HostError::InvalidResponse {
        method,
        reason: format!("found unexpected status {status} ({profile} needs 1, 2 or 3)"),
    })
}

/// `Handler`s as the profile's node decodes them (profiles.md 3.2): at 28 each carries
/// `lock_options` and its address in field 3; from 29 there is no `lock_options`. Bytes in the
/// other layout mean the plugin speaks another profile. At 28 the node takes any of its three
/// lock options, so does this check; WriteLock and ReadLock are logged, since with them the node
/// holds the chain's lock for every request (blocking consensus), and a plugin's tests should
/// look at the value ([`NO_LOCK`] is the one to send).
pub fn handler_layout(
    method: &'static str,
    profile: Profile,
    handlers: &[pb::Handler],
) -> Result<(), HostError> {
    let expected = profile.handler_layout();
    for handler in handlers {
        let problem = match (expected, handler.lock_options) {
            (HandlerLayout::WithLockOptions, Some(NO_LOCK)) | (HandlerLayout::Plain, None) => {
                continue
            }
            (HandlerLayout::WithLockOptions, Some(lock @ 0..NO_LOCK)) => {
                let prefix = &handler.prefix;
                tracing::warn!(%prefix, lock, "the node holds the chain's lock for every request");
                continue;
            }
            (HandlerLayout::WithLockOptions, Some(lock)) => {
                format!("lock_options {lock} is none of WriteLock (0), ReadLock (1), NoLock (2)")
            }
            (HandlerLayout::WithLockOptions, None) => {
                "no lock_options and the address in field 2: profile 29+'s layout".to_owned()
            }
            (HandlerLayout::Plain, Some(_)) => {
                "lock_options and the address in field 3: profile 28's layout".to_owned()
            }
        };
        return Err(HostError::InvalidResponse {
            method,
            reason: format!("handler {:?} for {profile}: {problem}", handler.prefix),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rpcchainvm::protocol::HostFlavour;

    fn profile(number: u32) -> Profile {
        Profile::new(number, HostFlavour::AvalancheGo).unwrap()
    }

    #[test]
    fn responses_are_checked_like_the_node() {
        let good = pb::InitializeResponse {
            last_accepted_id: vec![1; 32],
            last_accepted_parent_id: vec![0; 32],
            height: 0,
            bytes: vec![0; 82],
            timestamp: Some(Timestamp::default()),
        };
        assert_eq!(
            BlockSummary::from_initialize(good.clone()).unwrap().id,
            Id([1; 32])
        );
        let short = pb::InitializeResponse {
            last_accepted_id: vec![1; 31],
            ..good.clone()
        };
        assert!(BlockSummary::from_initialize(short).is_err());
        let no_time = pb::InitializeResponse {
            timestamp: None,
            ..good
        };
        let error = BlockSummary::from_initialize(no_time).unwrap_err();
        assert!(
            error.to_string().contains("invalid nil Timestamp"),
            "{error}"
        );
    }

    // 0 (unset) is refused where the node reads the status, accepted where it does not.
    #[test]
    fn block_status_is_required_up_to_35() {
        for status in 1..=3 {
            assert!(block_status("m", profile(35), status).is_ok());
        }
        let error = block_status("m", profile(35), 0).unwrap_err();
        assert!(error.to_string().contains("unexpected status 0"), "{error}");
        assert!(block_status("m", profile(35), 4).is_err());
        assert!(block_status("m", profile(36), 0).is_ok());
        let luxd_43 = Profile::new(43, HostFlavour::Luxd).unwrap();
        assert!(block_status("m", luxd_43, 0).is_err());
    }

    #[test]
    fn handlers_must_be_in_the_profile_layout() {
        let handler = |lock_options| pb::Handler {
            prefix: "/rpc".into(),
            server_addr: "127.0.0.1:1".into(),
            lock_options,
        };
        let check = |number, lock| handler_layout("m", profile(number), &[handler(lock)]);
        assert!(check(28, Some(NO_LOCK)).is_ok());
        assert!(check(29, None).is_ok());
        // WriteLock is legal at 28 (a real node takes it); an unknown option is not.
        assert!(check(28, Some(0)).is_ok());
        let unknown = check(28, Some(3)).unwrap_err().to_string();
        assert!(unknown.contains("lock_options 3"), "{unknown}");
        let plain_at_28 = check(28, None).unwrap_err().to_string();
        assert!(
            plain_at_28.contains("avalanchego protocol 28"),
            "{plain_at_28}"
        );
        assert!(check(29, Some(NO_LOCK)).is_err());
        assert!(handler_layout("m", profile(28), &[]).is_ok());
    }
}
