#!/usr/bin/env bash
# Memory over a long run: `stampvm bench` for SECONDS (default 600) on a batched chain, then the
# plugin's RSS as its progress lines recorded it once a second: at the end of the warm-up
# (WARMUP seconds, default 60: the mempool and RocksDB's memtables filling), at the end, the
# highest after warm-up, and end / warm-up. Flat means end within 10% of warm-up.
#
# Usage: scripts/soak.sh [SECONDS] [extra `stampvm bench` flags]
#   e.g. scripts/soak.sh 600                       batched chain, 4 clients x 1024 payloads
#        BATCH=0 CLIENTS=32 scripts/soak.sh 600   TimestampVM chain, 32 clients
# Environment: BATCH (payloads per proposeBatch, default 1024; 0 = TimestampVM chain, one
# proposeBlock per payload), CLIENTS (default 4), WARMUP (default 60).
# Loopback only; bounded by SECONDS + 90 s (bench's own cap).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-600}
shift || true
BATCH=${BATCH:-1024}
CLIENTS=${CLIENTS:-4}
WARMUP=${WARMUP:-60}
BIN=target/release/stampvm
[ -x "$BIN" ] || cargo build --release --locked --bin stampvm >&2
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
args=(bench --duration "$SECS" --clients "$CLIENTS")
[ "$BATCH" != 0 ] && args+=(--batch "$BATCH")
echo "== $BIN ${args[*]} $*" >&2
"$BIN" "${args[@]}" "$@" 2>/dev/null | tee "$LOG" | awk 'NR % 30 == 1' >&2
python3 - "$LOG" "$WARMUP" <<'PY'
import re, sys
log, warmup = sys.argv[1], int(sys.argv[2])
samples = []
for line in open(log):
    m = re.match(r"\[\s*(\d+)s\].*plugin RSS ([\d.]+) MiB", line)
    if m:
        samples.append((int(m.group(1)), float(m.group(2))))
if not samples:
    sys.exit("no progress lines with RSS in the bench output")
after = [rss for t, rss in samples if t >= warmup]
if not after:
    sys.exit(f"the run was shorter than the {warmup} s warm-up")
at_warmup, end, peak = after[0], after[-1], max(after)
summary = [l.rstrip() for l in open(log) if l.startswith(("stampvm bench:", "  "))]
print("\n".join(summary))
print(f"plugin RSS: {at_warmup:.1f} MiB at {warmup} s, {end:.1f} MiB at the end "
      f"({samples[-1][0]} s), highest after warm-up {peak:.1f} MiB; end / warm-up = {end / at_warmup:.3f}")
PY
