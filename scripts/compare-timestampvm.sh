#!/usr/bin/env bash
# Side by side: stampvm against timestampvm-rs 0.0.18 (ava-labs' Rust TimestampVM from crates.io),
# each loaded by `stampvm bench` in the same way: the same host (stampvm's node side), the same
# clients and duration, one after the other in this run. stampvm plays the newest protocol,
# timestampvm-rs the only one it speaks (28). A third run loads stampvm on a batched chain
# (`--batch`: BATCH_CLIENTS clients, each request a proposeBatch of BATCH payloads). Prints a
# markdown table on stdout: one row per figure, stampvm | stampvm batched | timestampvm-rs | the
# two ratios to timestampvm-rs, then the machine and the exact commands.
#
# Usage: scripts/compare-timestampvm.sh [CLIENTS] [SECONDS]     (default 32 clients, 15 s)
#        BATCH=1024 BATCH_CLIENTS=4 (environment) for the batched run
# Builds target/release/stampvm when missing, installs timestampvm via
# scripts/install-foreign-plugin.sh. Plugin logs go to a temporary file, shown on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-32}
SECONDS_=${2:-15}
BATCH=${BATCH:-1024}
BATCH_CLIENTS=${BATCH_CLIENTS:-4}
BIN=target/release/stampvm
FOREIGN=target/foreign/bin/timestampvm

[ -x "$BIN" ] || cargo build --release --locked --bin stampvm >&2
scripts/install-foreign-plugin.sh
[ -x "$FOREIGN" ] || { echo "timestampvm 0.0.18 is not installed; see the warning above" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# run NAME CLIENTS ARGS...: one bench, progress on stderr, its JSON line in $WORK/NAME.json.
run() {
    local name=$1 clients=$2
    shift 2
    local cmd=("$BIN" bench --clients "$clients" --duration "$SECONDS_" --json "$@")
    echo "== $name: ${cmd[*]}" >&2
    echo "${cmd[*]}" >"$WORK/$name.cmd"
    if ! "${cmd[@]}" 2>"$WORK/$name.log" | tee "$WORK/$name.out" >&2; then
        echo "== $name failed; its log:" >&2
        tail -50 "$WORK/$name.log" >&2
        exit 1
    fi
    tail -1 "$WORK/$name.out" >"$WORK/$name.json"
}

run stampvm "$CLIENTS"
run batched "$BATCH_CLIENTS" --batch "$BATCH"
run timestampvm "$CLIENTS" --plugin "$FOREIGN" --protocol 28 --api timestampvm-rs

python3 - "$WORK" "$0 $*" "$(nproc)" "$(uptime)" <<'PY'
import json, os, sys
work, invocation, nproc, uptime = sys.argv[1:5]
a = json.load(open(os.path.join(work, "stampvm.json")))
c = json.load(open(os.path.join(work, "batched.json")))
b = json.load(open(os.path.join(work, "timestampvm.json")))
rows = [
    ("payloads/s accepted by the API", "proposals_per_s", "{:.0f}"),
    ("payloads/s finalized", "payloads_finalized_per_s", "{:.1f}"),
    ("payloads accepted by the API", "proposals_accepted", "{}"),
    ("payloads refused (mempool full or pending)", "proposals_refused", "{}"),
    ("clients", "clients", "{}"),
    ("payloads per request", "batch", "{}"),
    ("errors", "errors", "{}"),
    ("blocks finalized", "blocks_finalized", "{}"),
    ("block cycle p50 (ms)", "block_cycle_p50_ms", "{:.2f}"),
    ("block cycle p99 (ms)", "block_cycle_p99_ms", "{:.2f}"),
    ("block cycle max (ms)", "block_cycle_max_ms", "{:.2f}"),
    ("request p50 (ms, client)", "request_p50_ms", "{:.2f}"),
    ("request p99 (ms, client)", "request_p99_ms", "{:.2f}"),
    ("getProof p50 (ms, after the load)", "get_proof_p50_ms", "{:.2f}"),
    ("getProof p99 (ms, after the load)", "get_proof_p99_ms", "{:.2f}"),
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
print("| figure | stampvm | stampvm batched | timestampvm-rs 0.0.18 | stampvm / timestampvm-rs | batched / timestampvm-rs |")
print("|---|---:|---:|---:|---:|---:|")
# A run that timed no proofs (timestampvm-rs has no getProof) has no proof latency.
for run in (a, b, c):
    if not run.get("proofs_timed"):
        run["get_proof_p50_ms"] = run["get_proof_p99_ms"] = None
for label, key, fmt in rows:
    x, z, y = a.get(key), c.get(key), b.get(key)
    if key == "batch":
        x, y = x or 1, y or 1
    # Counts that describe the set-up, not performance, get no ratio.
    plain = key in ("protocol", "notifies", "notifies_refused", "clients", "batch", "window_s")
    r1, r2 = ("", "") if plain else (ratio(x, y), ratio(z, y))
    print(f"| {label} | {show(x, fmt)} | {show(z, fmt)} | {show(y, fmt)} | {r1} | {r2} |")
cpu = "unknown"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
print()
print(f"Machine: nproc {nproc}, {cpu}; after the runs: {uptime.strip()}")
print("Both plugins share the cores with the host (gateway, engine, clients) in the bench process.")
print(f"Run: `{invocation.strip()}`, which ran:")
for name in ("stampvm", "batched", "timestampvm"):
    print(f"- `{open(os.path.join(work, name + '.cmd')).read().strip()}`")
PY
