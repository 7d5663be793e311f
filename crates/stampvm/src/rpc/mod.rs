//! What stampvm adds to the SDK's gRPC face: its metrics of the node's calls ([`observe`]).
//! The `vm.VM` and `http.HTTP` services themselves are `rpcchainvm`'s, over [`crate::vm`].

pub mod observe;
