//! What stampvm adds to the SDK's gRPC face: its metrics of the node's calls ([`observe`]).
//! The `vm.VM` and `http.HTTP` services themselves are `rpcchainvm`'s, over [`crate::vm`].

pub mod observe;

/// Kept at the path `stampvm-cli`'s tests read it from; the health check is [`crate::vm::health`].
pub mod health {
    pub use crate::vm::health::PROBE_FRESH_FOR;
}

/// Kept at the path `stampvm dev` reads it from; Initialize lives in [`crate::vm`].
pub mod lifecycle {
    pub use crate::vm::metrics_refusal_cause;
}
