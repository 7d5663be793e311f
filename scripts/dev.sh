#!/usr/bin/env bash
# The main job: a local single-node stampvm chain, no AvalancheGo needed. Arguments are passed to
# `stampvm dev` (see `--help`); the data directory defaults to ./stampvm-dev and is resumed.
# Relative paths (--data-dir, --config) are taken from the directory you run this from, as with
# any command: the script builds the repository it lives in without changing directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/ensure-system-deps.sh"
if [ ! -x "$root/target/release/stampvm" ]; then
    echo "== first build: compiling RocksDB's C++ prints nothing for a long while (15-40 min on 2 cores)" >&2
fi
exec cargo run --manifest-path "$root/Cargo.toml" --release --locked --bin stampvm -- dev "$@"
