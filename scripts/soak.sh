#!/usr/bin/env bash
# Memory over a long run: `stampvm bench` for SECONDS (default 600) on a batched chain, then the
# plugin's RSS as its progress lines recorded it once a second: at the end of the warm-up
# (WARMUP seconds, default 60: the mempool and RocksDB's memtables filling), at the end, the
# lowest and highest after warm-up, and end / warm-up (flat: end within 10% of warm-up); then
# RocksDB's block cache (which carries the memtables) at both ends, and RSS less it; then the
# allocator's live heap and resident pages at both ends (live flat while resident grows: pages kept,
# not a leak).
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
# (second, RSS, RocksDB block cache or None, (heap allocated, resident) or None); the block cache
# carries the memtables' reservation, so RSS less the block cache is what the rest of the plugin
# holds.
samples = []
for line in open(log):
    m = re.match(r"\[\s*(\d+)s\].*plugin RSS ([\d.]+) MiB(?:; RocksDB memtables ([\d.]+) MiB, block cache ([\d.]+) MiB)?(?:; heap allocated ([\d.]+) MiB, resident ([\d.]+) MiB)?", line)
    if m:
        cache = float(m.group(4)) if m.group(4) else None
        heap = (float(m.group(5)), float(m.group(6))) if m.group(5) else None
        samples.append((int(m.group(1)), float(m.group(2)), cache, heap))
if not samples:
    sys.exit("no progress lines with RSS in the bench output")
after = [s for s in samples if s[0] >= warmup]
if not after:
    sys.exit(f"the run was shorter than the {warmup} s warm-up")
rss = [s[1] for s in after]
at_warmup, end, peak, low = rss[0], rss[-1], max(rss), min(rss)
summary = [l.rstrip() for l in open(log) if l.startswith(("stampvm bench:", "  "))]
print("\n".join(summary))
print(f"plugin RSS: {at_warmup:.1f} MiB at {warmup} s, {end:.1f} MiB at the end "
      f"({samples[-1][0]} s), after warm-up lowest {low:.1f} and highest {peak:.1f} MiB; "
      f"end / warm-up = {end / at_warmup:.3f}")
if after[0][2] is not None and after[-1][2] is not None:
    first, last = after[0], after[-1]
    print(f"RocksDB block cache (memtables included): {first[2]:.1f} MiB at {warmup} s, "
          f"{last[2]:.1f} MiB at the end; RSS less the block cache: {first[1] - first[2]:.1f} -> "
          f"{last[1] - last[2]:.1f} MiB")
if after[0][3] is not None and after[-1][3] is not None:
    (first_live, first_resident), (last_live, last_resident) = after[0][3], after[-1][3]
    print(f"allocator (jemalloc): live heap {first_live:.1f} -> {last_live:.1f} MiB, its resident "
          f"pages {first_resident:.1f} -> {last_resident:.1f} MiB (at {warmup} s -> the end)")
PY
