//! The integration tests, one binary: each module was once a test target of its own, all of them
//! launching the real `stampvm` binary (or `stampvm dev`) as a child and driving it over loopback
//! the way the node does. One binary links RocksDB and the host once instead of once per file.
//!
//! Run one module's tests with `cargo test -p stampvm-cli --test it -- <module>::`, e.g.
//! `-- dev_chain::`. `tests/crash_under_load.rs` stays a target of its own (ignored by default;
//! `scripts/crash-test.sh` runs it).
//!
//! The tests share this process: none may change process-wide state (environment, current
//! directory, signal dispositions, a global logger or metrics recorder), bind a fixed port, or
//! count the children of this process; each uses its own temporary directories, ephemeral ports
//! and the child processes it spawned.

mod common;

mod abuse;
mod bad_input;
mod batched_dev_e2e;
mod batched_refusals;
mod bench_command;
mod crash_recovery;
mod damaged_store;
mod deploy;
mod dev_chain;
mod dev_node_endpoints;
mod failures_logged;
mod foreign_plugin;
mod health;
mod http2_handle;
mod http_gateway;
mod log_format;
mod plugin_lifecycle;
mod profile_choice;
mod profiles;
mod prometheus;
mod request_limits;
mod three_nodes;
mod three_nodes_batched;
mod verify_proof_cli;
mod wire_profiles;
