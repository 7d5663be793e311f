#!/usr/bin/env bash
# Installs the plugin that is not ours which tests/it/foreign_plugin.rs drives: timestampvm 0.0.18
# from crates.io (Rust, avalanche-types 0.1.3, RPCChainVM protocol 28), into target/foreign/bin.
# Does nothing when it is already there. It builds in its own target directory
# (target/foreign-build) so the project's build is not disturbed; the first install takes a few
# minutes, and the build directory (~700 MB) is removed once the binary is installed. A failed
# install is a warning, not an error: the test then prints why it skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.0.18
root=target/foreign
binary="$root/bin/timestampvm"

if [ -x "$binary" ]; then
    echo "== timestampvm $version already installed at $binary" >&2
    exit 0
fi

echo "== installing timestampvm $version into $root (cargo install, a few minutes)" >&2
if CARGO_TARGET_DIR=target/foreign-build \
    cargo install timestampvm --version "$version" --locked --root "$root"; then
    echo "== timestampvm $version installed at $binary" >&2
    rm -rf target/foreign-build
else
    status=$?
    {
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!! WARNING: cargo install timestampvm $version failed (exit $status)."
        echo "!! tests/it/foreign_plugin.rs will be SKIPPED: the host is not tested against a"
        echo "!! plugin that is not ours. Fix the install (network? toolchain?) and rerun"
        echo "!! scripts/install-foreign-plugin.sh, or set STAMPVM_FOREIGN_PLUGIN=<binary>."
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    } >&2
fi
exit 0
