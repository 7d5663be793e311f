#!/usr/bin/env bash
# Side by side: stampvm against timestampvm-rs 0.0.18 (ava-labs' Rust TimestampVM from crates.io),
# each loaded by `stampvm bench` in the same way: the same host (stampvm's node side), the same
# clients and duration, one after the other in this run. stampvm plays the newest protocol,
# timestampvm-rs the only one it speaks (28). Prints a markdown table on stdout: one row per
# figure, stampvm | timestampvm-rs | ratio, then the machine and the exact commands.
#
# Usage: scripts/compare-timestampvm.sh [CLIENTS] [SECONDS]     (default 32 clients, 15 s)
# Builds target/release/stampvm when missing, installs timestampvm via
# scripts/install-foreign-plugin.sh. Plugin logs go to a temporary file, shown on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-32}
SECONDS_=${2:-15}
BIN=target/release/stampvm
FOREIGN=target/foreign/bin/timestampvm

[ -x "$BIN" ] || cargo build --release --locked --bin stampvm >&2
scripts/install-foreign-plugin.sh
[ -x "$FOREIGN" ] || { echo "timestampvm 0.0.18 is not installed; see the warning above" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# run NAME ARGS...: one bench, progress on stderr, its JSON line in $WORK/NAME.json.
run() {
    local name=$1
    shift
    local cmd=("$BIN" bench --clients "$CLIENTS" --duration "$SECONDS_" --json "$@")
    echo "== $name: ${cmd[*]}" >&2
    echo "${cmd[*]}" >"$WORK/$name.cmd"
    if ! "${cmd[@]}" 2>"$WORK/$name.log" | tee "$WORK/$name.out" >&2; then
        echo "== $name failed; its log:" >&2
        tail -50 "$WORK/$name.log" >&2
        exit 1
    fi
    tail -1 "$WORK/$name.out" >"$WORK/$name.json"
}

run stampvm
run timestampvm --plugin "$FOREIGN" --protocol 28 --api timestampvm-rs

python3 - "$WORK" "$0 $*" "$(nproc)" "$(uptime)" <<'PY'
import json, os, sys
work, invocation, nproc, uptime = sys.argv[1:5]
a = json.load(open(os.path.join(work, "stampvm.json")))
b = json.load(open(os.path.join(work, "timestampvm.json")))
rows = [
    ("proposals/s accepted (Success true)", "proposals_per_s", "{:.0f}"),
    ("payloads/s finalized", "payloads_finalized_per_s", "{:.1f}"),
    ("proposals accepted", "proposals_accepted", "{}"),
    ("proposals refused (Success false)", "proposals_refused", "{}"),
    ("errors", "errors", "{}"),
    ("blocks finalized", "blocks_finalized", "{}"),
    ("block cycle p50 (ms)", "block_cycle_p50_ms", "{:.2f}"),
    ("block cycle p99 (ms)", "block_cycle_p99_ms", "{:.2f}"),
    ("block cycle max (ms)", "block_cycle_max_ms", "{:.2f}"),
    ("proposeBlock p50 (ms, client)", "request_p50_ms", "{:.2f}"),
    ("proposeBlock p99 (ms, client)", "request_p99_ms", "{:.2f}"),
    ("plugin RSS at start (MiB)", "plugin_rss_start_kib", "mib"),
    ("plugin RSS at end (MiB)", "plugin_rss_end_kib", "mib"),
    ("plugin CPU in window (s)", "plugin_cpu_s", "{:.2f}"),
    ("host CPU in window (s; gateway, engine, clients)", "host_cpu_s", "{:.2f}"),
    ("Messenger.Notify calls taken (build trigger <= 41)", "notifies", "{}"),
    ("Messenger.Notify calls refused (slot full)", "notifies_refused", "{}"),
    ("protocol played", "protocol", "{}"),
    ("load window (s)", "window_s", "{:.1f}"),
]
def show(value, fmt):
    if value is None:
        return "n/a"
    if fmt == "mib":
        return "{:.1f}".format(value / 1024)
    return fmt.format(value)
def ratio(x, y):
    if x is None or y is None or not isinstance(x, (int, float)) or y == 0:
        return "n/a"
    return "{:.2f}".format(x / y)
print("| figure | stampvm | timestampvm-rs 0.0.18 | ratio stampvm/timestampvm-rs |")
print("|---|---:|---:|---:|")
for label, key, fmt in rows:
    x, y = a.get(key), b.get(key)
    # Counts that describe the protocol played, not performance, get no ratio.
    r = "" if key in ("protocol", "notifies", "notifies_refused") else ratio(x, y)
    print(f"| {label} | {show(x, fmt)} | {show(y, fmt)} | {r} |")
cpu = "unknown"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
print()
print(f"Machine: nproc {nproc}, {cpu}; after the runs: {uptime.strip()}")
print("Both plugins share the cores with the host (gateway, engine, clients) in the bench process.")
print(f"Run: `{invocation.strip()}`, which ran:")
for name in ("stampvm", "timestampvm"):
    print(f"- `{open(os.path.join(work, name + '.cmd')).read().strip()}`")
PY
