#!/usr/bin/env bash
# A first throughput figure for the dev chain: starts `stampvm dev` on a fresh directory and a free
# loopback port, proposes N payloads in JSON-RPC batches of 256, and reports how long until all N
# are in accepted blocks (one payload per block). Bounded: gives up after 10 minutes.
# Usage: scripts/dev-throughput.sh [N] [path/to/stampvm]   (default N=2000, the release binary)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
BIN=${2:-target/release/stampvm}
[ -x "$BIN" ] || { echo "build first: cargo build --release --bin stampvm" >&2; exit 1; }
DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" dev --data-dir "$DIR" --http "127.0.0.1:$PORT" --no-metrics --config <(echo '{"mempool-capacity": 100000}') \
    >"$DIR/out" 2>"$DIR/err" &
PID=$!
trap 'kill -INT $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do grep -q '^JSON-RPC:' "$DIR/out" 2>/dev/null && break; sleep 0.1; done
URL=$(awk '/^JSON-RPC:/ {print $2}' "$DIR/out")
[ -n "$URL" ] || { cat "$DIR/err" >&2; exit 1; }

python3 - "$URL" "$N" <<'PY'
import hashlib, json, sys, time, urllib.request
url, n = sys.argv[1], int(sys.argv[2])
def call(body):
    req = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
def data(i):
    p = hashlib.sha256(b"throughput %d" % i).digest()
    return "0x" + (p + hashlib.sha256(p).digest()[-4:]).hex()
start = time.monotonic()
for first in range(0, n, 256):
    batch = [{"jsonrpc": "2.0", "id": i, "method": "timestampvm.proposeBlock", "params": {"data": data(i)}}
             for i in range(first, min(first + 256, n))]
    assert all(r["result"]["Success"] for r in call(batch)), "a proposal was refused"
proposed = time.monotonic() - start
deadline = start + 600
while True:
    height = int(call({"jsonrpc": "2.0", "id": 0, "method": "timestampvm.lastAccepted", "params": {}})["result"]["height"])
    if height >= n or time.monotonic() > deadline:
        break
    time.sleep(0.05)
elapsed = time.monotonic() - start
print(f"proposed {n} payloads in {proposed:.2f} s ({n/proposed:.0f} proposals/s over HTTP)")
print(f"{height} blocks accepted in {elapsed:.2f} s: {height/elapsed:.1f} blocks/s (= payloads/s, one per block)")
PY
