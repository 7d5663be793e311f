#!/usr/bin/env bash
# The test command: formatting, lints, then every test (unit tests, and integration tests that
# launch the real plugin binary and drive it over loopback gRPC the way the node does).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-system-deps.sh --for-tests
# The plugin that is not ours, for tests/it/foreign_plugin.rs (a no-op once installed).
scripts/install-foreign-plugin.sh

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== spec citations (every docs/spec/ file and section cited exists)" >&2
scripts/check-citations.sh
echo "== cargo clippy (all targets, warnings are errors)" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test" >&2
cargo test --workspace --all-targets --locked
