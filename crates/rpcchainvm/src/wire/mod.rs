//! Hand-written protobuf messages for the fields whose meaning changed between protocol
//! profiles (profiles.md section 3). prost decodes a message before any handler knows which
//! profile is speaking, so each type here keeps the disputed field in a form every profile's
//! bytes fit (by wire type, or raw), and turns it into meaning only when given the profile's
//! layout from [`crate::protocol::Profile`]. Encoders take the layout too, so the bytes we
//! send are exactly the ones that profile's node decodes. build.rs points the generated code at
//! these types (`HAND_WRITTEN`).

mod gossip;
mod handler;
mod initialize;
mod reader;

pub use gossip::{GossipTargets, SendAppGossipMsg};
pub use handler::Handler;
pub use initialize::InitializeRequest;
pub use reader::{ReadOutcome, ReadResponse};

/// A message whose bytes do not fit the layout of the profile reading them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("{message} field {field}: {problem}")]
    Field {
        message: &'static str,
        field: u32,
        problem: String,
    },
}

impl WireError {
    fn field(message: &'static str, field: u32, problem: impl Into<String>) -> WireError {
        WireError::Field {
            message,
            field,
            problem: problem.into(),
        }
    }
}
