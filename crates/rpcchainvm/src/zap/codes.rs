//! The numbers of the VM connection: opcodes (docs/spec/luxd-zap.md §2.7) and the one-byte enums
//! inside bodies (§2.8). Only luxd → plugin opcodes are listed; the plugin-initiated types
//! (32–34 atomic, 40–43 send, 50–53 warp/validator) never travel on this connection.

use super::body::BodyError;

/// A request type on the VM connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Opcode {
    Initialize = 1,
    SetState = 2,
    Shutdown = 3,
    CreateHandlers = 4,
    NewHttpHandler = 5,
    WaitForEvent = 6,
    Connected = 7,
    Disconnected = 8,
    BuildBlock = 9,
    ParseBlock = 10,
    GetBlock = 11,
    SetPreference = 12,
    Health = 13,
    Version = 14,
    AppRequest = 15,
    AppRequestFailed = 16,
    AppResponse = 17,
    AppGossip = 18,
    Gather = 19,
    GetAncestors = 20,
    BatchedParseBlock = 21,
    GetBlockIdAtHeight = 22,
    StateSyncEnabled = 23,
    GetOngoingSyncStateSummary = 24,
    GetLastStateSummary = 25,
    ParseStateSummary = 26,
    GetStateSummary = 27,
    BlockVerify = 28,
    BlockAccept = 29,
    BlockReject = 30,
    StateSummaryAccept = 31,
    SetQuasarFinalized = 60,
    QuasarHeight = 61,
}

impl Opcode {
    /// Every opcode, in number order.
    pub const ALL: [Opcode; 33] = [
        Opcode::Initialize,
        Opcode::SetState,
        Opcode::Shutdown,
        Opcode::CreateHandlers,
        Opcode::NewHttpHandler,
        Opcode::WaitForEvent,
        Opcode::Connected,
        Opcode::Disconnected,
        Opcode::BuildBlock,
        Opcode::ParseBlock,
        Opcode::GetBlock,
        Opcode::SetPreference,
        Opcode::Health,
        Opcode::Version,
        Opcode::AppRequest,
        Opcode::AppRequestFailed,
        Opcode::AppResponse,
        Opcode::AppGossip,
        Opcode::Gather,
        Opcode::GetAncestors,
        Opcode::BatchedParseBlock,
        Opcode::GetBlockIdAtHeight,
        Opcode::StateSyncEnabled,
        Opcode::GetOngoingSyncStateSummary,
        Opcode::GetLastStateSummary,
        Opcode::ParseStateSummary,
        Opcode::GetStateSummary,
        Opcode::BlockVerify,
        Opcode::BlockAccept,
        Opcode::BlockReject,
        Opcode::StateSummaryAccept,
        Opcode::SetQuasarFinalized,
        Opcode::QuasarHeight,
    ];

    /// The opcode with number `value`, `None` for numbers this connection does not define.
    pub fn from_u8(value: u8) -> Option<Opcode> {
        Opcode::ALL.iter().copied().find(|op| *op as u8 == value)
    }

    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

/// `SetState`'s `u8 state` (docs/spec/luxd-zap.md §2.8; `luxfi/vm state.go`). Not the gRPC-era
/// numbering: there 1 meant state syncing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum VmState {
    Unknown = 0,
    Starting = 1,
    Syncing = 2,
    Bootstrapping = 3,
    Ready = 4,
    Degraded = 5,
    Stopping = 6,
    Stopped = 7,
}

impl VmState {
    pub(crate) fn from_u8(value: u8) -> Result<VmState, BodyError> {
        Ok(match value {
            0 => VmState::Unknown,
            1 => VmState::Starting,
            2 => VmState::Syncing,
            3 => VmState::Bootstrapping,
            4 => VmState::Ready,
            5 => VmState::Degraded,
            6 => VmState::Stopping,
            7 => VmState::Stopped,
            _ => {
                return Err(BodyError::UnknownValue {
                    field: "state",
                    value: value.into(),
                })
            }
        })
    }
}

/// `WaitForEvent`'s `u8 event`. luxd drops any other value with a warning and asks again; our
/// decoder refuses it, so a host sees which value it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum VmEvent {
    /// Build a block: the only trigger of block building (docs/spec/luxd-zap.md §3 step 8).
    PendingTxs = 1,
    StateSyncDone = 2,
}

impl VmEvent {
    pub(crate) fn from_u8(value: u8) -> Result<VmEvent, BodyError> {
        match value {
            1 => Ok(VmEvent::PendingTxs),
            2 => Ok(VmEvent::StateSyncDone),
            _ => Err(BodyError::UnknownValue {
                field: "event",
                value: value.into(),
            }),
        }
    }
}

/// A non-zero `u8 err` in a response body (0 means success and is never held here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmErrorCode {
    /// 1: luxd reports "vm closed".
    Closed,
    /// 2: luxd maps it to `database.ErrNotFound` (GetBlock of an unknown ID; "no summary").
    NotFound,
    /// 3: the VM does not state-sync.
    StateSyncNotImplemented,
    /// 4: "vm failed" (API ≥ v1.1.3).
    Internal,
    /// Any other value: luxd reports "unknown error".
    Other(u8),
}

impl VmErrorCode {
    /// `None` for 0 (success).
    pub fn from_u8(value: u8) -> Option<VmErrorCode> {
        Some(match value {
            0 => return None,
            1 => VmErrorCode::Closed,
            2 => VmErrorCode::NotFound,
            3 => VmErrorCode::StateSyncNotImplemented,
            4 => VmErrorCode::Internal,
            other => VmErrorCode::Other(other),
        })
    }

    /// The byte; `Other(0)` would read back as success, so it goes out as 4 (`Internal`).
    pub fn as_u8(self) -> u8 {
        match self {
            VmErrorCode::Closed => 1,
            VmErrorCode::NotFound => 2,
            VmErrorCode::StateSyncNotImplemented => 3,
            VmErrorCode::Internal | VmErrorCode::Other(0) => 4,
            VmErrorCode::Other(other) => other,
        }
    }
}

/// `StateSummaryAccept`'s `u8 mode`; luxd rejects other values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StateSyncMode {
    Skipped = 0,
    Static = 1,
    Dynamic = 2,
}

impl StateSyncMode {
    pub(crate) fn from_u8(value: u8) -> Result<StateSyncMode, BodyError> {
        match value {
            0 => Ok(StateSyncMode::Skipped),
            1 => Ok(StateSyncMode::Static),
            2 => Ok(StateSyncMode::Dynamic),
            _ => Err(BodyError::UnknownValue {
                field: "mode",
                value: value.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_opcode_reads_back_from_its_number_and_nothing_else_does() {
        for op in Opcode::ALL {
            assert_eq!(Opcode::from_u8(op.as_u8()), Some(op));
            assert!(op.as_u8() < 0x40);
        }
        let known = Opcode::ALL.len();
        let found = (0..=u8::MAX).filter_map(Opcode::from_u8).count();
        assert_eq!(found, known);
        for unknown in [0, 32, 40, 53, 59, 62, 63] {
            assert_eq!(Opcode::from_u8(unknown), None);
        }
    }

    #[test]
    fn one_byte_enums_read_their_defined_values_only() {
        for v in 0..=7u8 {
            assert_eq!(VmState::from_u8(v).unwrap() as u8, v);
        }
        assert!(VmState::from_u8(8).is_err());
        assert_eq!(VmEvent::from_u8(1), Ok(VmEvent::PendingTxs));
        assert_eq!(VmEvent::from_u8(2), Ok(VmEvent::StateSyncDone));
        assert!(VmEvent::from_u8(0).is_err());
        for v in 0..=2u8 {
            assert_eq!(StateSyncMode::from_u8(v).unwrap() as u8, v);
        }
        assert!(StateSyncMode::from_u8(3).is_err());
    }

    #[test]
    fn error_codes_round_trip_and_zero_is_success() {
        assert_eq!(VmErrorCode::from_u8(0), None);
        for v in 1..=u8::MAX {
            assert_eq!(VmErrorCode::from_u8(v).unwrap().as_u8(), v);
        }
        assert_eq!(VmErrorCode::Other(0).as_u8(), 4);
    }
}
