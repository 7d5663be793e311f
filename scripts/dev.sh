#!/usr/bin/env bash
# The main job: a local single-node stampvm chain, no AvalancheGo needed. Arguments are passed to
# `stampvm dev` (see `--help`); the data directory defaults to ./stampvm-dev and is resumed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-system-deps.sh
exec cargo run --release --locked --bin stampvm -- dev "$@"
