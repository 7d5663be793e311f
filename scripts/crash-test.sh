#!/usr/bin/env bash
# Crash test under load: SIGKILLs the real plugin at random moments while the host drives load
# through it, restarts it on the same data directory each time and checks that nothing accepted
# was lost (the exact rule is in crates/stampvm-cli/tests/crash_under_load.rs). Loopback only; bounded in time.
#
# Usage: scripts/crash-test.sh [--kills N] [--seed SEED] [--timeout SECS] [--proposers N]
#                              [--max-delay-ms MS] [--protocol N] [--no-sync]
# The same settings as environment variables: CRASH_KILLS, CRASH_SEED, CRASH_TIMEOUT_SECS,
# CRASH_PROPOSERS, CRASH_MAX_DELAY_MS, CRASH_PROTOCOL, CRASH_SYNC_WRITES (--no-sync: 0, the chain
# without an fsync per accept). The seed is printed; pass it back with --seed to repeat a run.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --kills) export CRASH_KILLS="${2:?}"; shift 2 ;;
        --seed) export CRASH_SEED="${2:?}"; shift 2 ;;
        --timeout) export CRASH_TIMEOUT_SECS="${2:?}"; shift 2 ;;
        --proposers) export CRASH_PROPOSERS="${2:?}"; shift 2 ;;
        --max-delay-ms) export CRASH_MAX_DELAY_MS="${2:?}"; shift 2 ;;
        --protocol) export CRASH_PROTOCOL="${2:?}"; shift 2 ;;
        --no-sync) export CRASH_SYNC_WRITES=0; shift ;;
        -h|--help) usage ;;
        *) echo "unknown argument: $1" >&2; usage ;;
    esac
done

# The test's own hard timeout ends the run; this outer one only catches a wedged build or harness
# (the release build of RocksDB can take ~10 minutes the first time).
outer=$(( ${CRASH_TIMEOUT_SECS:-900} + 1800 ))
exec timeout --kill-after=30 "$outer" \
    cargo test --release --locked --test crash_under_load -- --ignored --nocapture
