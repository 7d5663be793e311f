#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time and prints, per target, the time run,
# the executions and the findings (crash inputs, as files and hex).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]      (default: 60 seconds each, every target)
#        scripts/fuzz.sh --regressions             (only the saved crash inputs, fuzz/src/lib.rs)
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). The fuzz crate
# is its own workspace with its own target dir (fuzz/target); the first build compiles RocksDB's
# C++ for it (~10+ minutes). Corpora grow in fuzz/corpus/<target> (seeded here on first use),
# crash inputs land in fuzz/artifacts/<target>, logs in fuzz/target/logs; all three are ignored
# by git. A crash input belongs in fuzz/src/lib.rs's `regressions` tests as bytes.
# Exit status: 0 when no target found anything, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

REGRESSIONS_ONLY=
if [ "${1:-}" = --regressions ]; then REGRESSIONS_ONLY=1; shift; fi
SECONDS_EACH="${1:-60}"
shift || true
ALL_TARGETS=(block_parse jsonrpc_body static_api gossip_decode genesis chain_config wire_readers
    proof_json merkle text_decoders)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi

case "$SECONDS_EACH" in
    ''|*[!0-9]*) echo "SECONDS must be a whole number, got '$SECONDS_EACH'" >&2; exit 2 ;;
esac
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz missing: cargo install cargo-fuzz --locked" >&2; exit 2; }
rustup run nightly rustc --version >/dev/null 2>&1 || { echo "a nightly toolchain is needed" >&2; exit 2; }

# RocksDB (stampvm links it; no target calls it): link the static library the root's release
# build already compiled, when there is one, instead of compiling RocksDB's C++ again for
# fuzz/target (~3 GB of objects, 10+ minutes). Its debug info is stripped first (1.3 GB -> 40 MB),
# or every target binary would carry it (~400 MB each). Set ROCKSDB_LIB_DIR (and ROCKSDB_STATIC=1)
# to choose a library yourself, or ROCKSDB_COMPILE=1 to compile it anyway.
if [ -z "${ROCKSDB_LIB_DIR:-}" ] && [ -z "${ROCKSDB_COMPILE:-}" ]; then
    lib=$(ls -t target/release/build/librocksdb-sys-*/out/librocksdb.a 2>/dev/null | head -1 || true)
    if [ -n "$lib" ]; then
        mkdir -p fuzz/target/rocksdb
        if [ ! fuzz/target/rocksdb/librocksdb.a -nt "$lib" ]; then
            objcopy --strip-debug "$lib" fuzz/target/rocksdb/librocksdb.a.tmp
            mv fuzz/target/rocksdb/librocksdb.a.tmp fuzz/target/rocksdb/librocksdb.a
        fi
        export ROCKSDB_LIB_DIR="$PWD/fuzz/target/rocksdb" ROCKSDB_STATIC=1
        echo "== linking RocksDB from $lib (debug info stripped)" >&2
    fi
fi

LOGS=fuzz/target/logs
mkdir -p "$LOGS"

# A seed file from hex.
seed() { # dir name hex
    mkdir -p "$1"
    [ -e "$1/$2" ] || printf '%s' "$3" | xxd -r -p > "$1/$2"
}
# A seed file from text.
seed_text() { # dir name text
    mkdir -p "$1"
    [ -e "$1/$2" ] || printf '%s' "$3" > "$1/$2"
}

seed_corpora() {
    local c=fuzz/corpus
    # docs/spec/vectors.md 2.1 and 2.2: the genesis block `hello` and its child.
    seed "$c/block_parse" genesis 000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000068656c6c6f000000000000000000000000000000000000000000000000000000
    seed "$c/block_parse" child 0000904cbd92a440ae4a18fec29f08b5bbbe40108ec5f5de82f245145e0c8626aedf0000000000000001000000006553f1008f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941
    # crates/stampvm/src/chain/batched.rs's layout vector: payloads SHA-256(0x01), SHA-256(0x02) on parent 09..09.
    seed "$c/block_parse" batched 000109090909090909090909090909090909090909090909090909090909090909090000000000000005000000006553f10000c30d52856f3a163b8c3f1f55d6e1bebfb7a73a231e10df0de72daf32213338000000024bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459adbc1b4c900ffe48d575b5da5c638040125f65db0fe3e24494b76ea986457d986
    seed_text "$c/jsonrpc_body" propose '{"jsonrpc":"2.0","id":1,"method":"timestampvm.proposeBlock","params":{"data":"0x8f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941cc82d1c2"}}'
    seed_text "$c/jsonrpc_body" get '{"jsonrpc":"2.0","id":"x","method":"timestampvm.getBlock","params":[{"id":"26YwkG2RtzBa9pP5pj9qDvjYbw19PtF7ajT75hDZ3FTs4Waurp","encoding":"hex"}]}'
    seed_text "$c/jsonrpc_body" batch '[{"jsonrpc":"2.0","id":1,"method":"timestampvm.getBlockByHeight","params":{"height":"1"}},{"jsonrpc":"2.0","method":"timestampvm.mempoolSize"},{"jsonrpc":"2.0","id":null,"method":"timestampvm.lastAccepted","params":null}]'
    seed_text "$c/jsonrpc_body" propose_batch '{"jsonrpc":"2.0","id":1,"method":"timestampvm.proposeBatch","params":{"data":["0x8f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941cc82d1c2","0x68656c6c6f000000000000000000000000000000000000000000000000000000f0fcde20","261QTdfYaiddWZC8hcor1LkTGANKHWkQpCXgFvw4MwDKJ5LDWh"],"encoding":"hex"}}'
    # Taken, already accepted, duplicate and mempool full (capacity 4) in one batch; a proof
    # not yet accepted (pending) and unknown. The chains: single_chain and
    # batched_chain in fuzz/src/lib.rs.
    seed_text "$c/jsonrpc_body" propose_batch_full '{"jsonrpc":"2.0","id":1,"method":"timestampvm.proposeBatch","params":{"data":["0x8f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941cc82d1c2","0x03030303030303030303030303030303030303030303030303030303030303034eca090b","0x03030303030303030303030303030303030303030303030303030303030303034eca090b","0x04040404040404040404040404040404040404040404040404040404040404045abab8ed","0x05050505050505050505050505050505050505050505050505050505050505054834e77c","0x060606060606060606060606060606060606060606060606060606060606060668e29d81","0x0707070707070707070707070707070707070707070707070707070707070707c6d294e0"]}}'
    seed_text "$c/jsonrpc_body" pending_proof '[{"jsonrpc":"2.0","id":1,"method":"timestampvm.proposeBlock","params":{"data":"0x03030303030303030303030303030303030303030303030303030303030303034eca090b"}},{"jsonrpc":"2.0","id":2,"method":"timestampvm.getProof","params":{"data":"0x03030303030303030303030303030303030303030303030303030303030303034eca090b"}},{"jsonrpc":"2.0","id":3,"method":"timestampvm.getProof","params":{"data":"0x04040404040404040404040404040404040404040404040404040404040404045abab8ed"}}]'
    seed_text "$c/jsonrpc_body" get_proof '{"jsonrpc":"2.0","id":1,"method":"timestampvm.getProof","params":{"data":"0x8f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941cc82d1c2","encoding":"cb58"}}'
    seed_text "$c/static_api" encode '{"jsonrpc":"2.0","id":1,"method":"timestampvm.encode","params":{"data":"hello","encoding":"hexc","length":32}}'
    seed_text "$c/static_api" decode '[{"jsonrpc":"2.0","id":2,"method":"timestampvm.decode","params":{"bytes":"0x68656c6c6f","encoding":"hexnc"}}]'
    seed "$c/gossip_decode" one 0100010000000000000000000000000000000000000000000000000000000000000000
    seed "$c/genesis" hello 68656c6c6f
    seed_text "$c/genesis" batched '{"format":"batched","data":"docs","maxBatch":64}'
    seed_text "$c/genesis" single_json '{"format":"single","data":"hello"}'
    seed_text "$c/chain_config" full '{"build-interval-ms":250,"mempool-capacity":10,"gossip-batch-size":8,"gossip-flush-ms":5,"gossip-validators":3,"gossip-peer-rate":100,"log-level":"debug","log-format":"json","metrics-addr":"127.0.0.1:9100","rocksdb-cache-mb":8,"rocksdb-sync-writes":false}'
    # First byte: 0 InitializeRequest, 1 Handler, 2 SendAppGossipMsg, 3 ReadResponse
    # (vectors.md section 4 and the wire modules' tests).
    seed "$c/wire_readers" init28 006a190a0676312e342e35120f3132372e302e302e313a3430303031
    seed "$c/wire_readers" init30 006a0f3132372e302e302e313a3430303031
    seed "$c/wire_readers" handler28 010a042f72706310021a0f3132372e302e302e313a3430303032
    seed "$c/wire_readers" handler29 010a042f727063120f3132372e302e302e313a3430303032
    seed "$c/wire_readers" gossip35 020a14000000000000000000000000000000000000000010012a03010001
    seed "$c/wire_readers" read42 030a026869120708011203454f46
    # A getProof result (leaf 0 of 3 in the jsonrpc_body backend's batched chain), the same in
    # its whole JSON-RPC reply, and the trivial proof of vectors.md 2.2's single-payload child.
    local proof='{"data":"0x8f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941cc82d1c2","blockID":"2Q4LtiBQiCPT2uDW6MroUGyeuNrnP1iZttMYDeCbBuPaYyf4T8","height":"1","timestamp":"1700000000","root":"0x94c16bb2f4f631767b83e5605b46d597822a4b788fc36b1d5ccceb94a0dc3a6b","index":0,"count":3,"path":["0xdcffe786ded16d283c663846ad0c4ff26558fccde36ca9d30b2ea19eade9fc0e","0xcba8c596120bdb69debbd923d92cba948bde7c7d06a465a1bb7d98d3116038fa"],"format":"batched"}'
    seed_text "$c/proof_json" batched "$proof"
    seed_text "$c/proof_json" reply '{"jsonrpc":"2.0","result":'"$proof"',"id":1}'
    seed_text "$c/proof_json" single '{"data":"261QTdfYaiddWZC8hcor1LkTGANKHWkQpCXgFvw4MwDKJ5LDWh","blockID":"2C7r6YFmQbZpRNEbqk9Mspqx9hGdZYSTWWg8RwHY4rt3x79rxM","height":"1","timestamp":"1700000000","root":"0x7b70cf63287375a7aa86e9d0ea1cd3c046558b24d0c53ac4b7a03cfc9cbe21e1","index":0,"count":1,"path":[],"format":"single"}'
    seed_text "$c/proof_json" rpc_error '{"jsonrpc":"2.0","error":{"code":-32001,"message":"not yet accepted","data":null},"id":1}'
    # merkle: two bytes of leaf count (mod 300, plus 1), then the bytes the leaves are cut from.
    seed "$c/merkle" three 0002000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
    seed "$c/merkle" many 012b8f10a68d54a88afcb6369c01da9ddfb6881d754e5ece210541f8656783692941ff
    # text_decoders: three bytes of length (little-endian), then the pattern repeated to it.
    seed "$c/text_decoders" cb58_id 31000074476173335435384b7a646a634a32694b537969597357697159637452586150547142434131314271456b4e67386b5063
    seed "$c/text_decoders" long_id e0930432
}

dict_for() {
    case "$1" in
        jsonrpc_body|static_api) echo "-dict=fuzz/dicts/jsonrpc.dict" ;;
        chain_config) echo "-dict=fuzz/dicts/config.dict" ;;
        proof_json) echo "-dict=fuzz/dicts/proof.dict" ;;
        genesis) echo "-dict=fuzz/dicts/genesis.dict" ;;
        *) echo "" ;;
    esac
}

# The regression tests of fuzz/src/lib.rs, built exactly as `cargo fuzz build` builds the targets
# (cargo-fuzz 0.13's default flags: release, ASan, coverage instrumentation, debug assertions),
# so they reuse its compiled dependencies and run the checks the way the fuzzer ran them.
run_regressions() {
    echo "== regression tests (fuzz/src/lib.rs)" >&2
    RUSTFLAGS=" -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing \
-Cllvm-args=-simplifycfg-branch-fold-threshold=0 -Zsanitizer=address \
-Cllvm-args=-sanitizer-coverage-stack-depth -Cdebug-assertions -Ccodegen-units=1" \
    ASAN_OPTIONS=detect_odr_violation=0 \
        cargo +nightly test --manifest-path fuzz/Cargo.toml --target "$(rustc -vV | sed -n 's/^host: //p')" \
            --release --config 'profile.release.debug="line-tables-only"' --lib >&2
}

if [ -n "$REGRESSIONS_ONLY" ]; then
    run_regressions
    exit 0
fi
run_regressions

seed_corpora
echo "== building the fuzz targets (cargo +nightly fuzz build)" >&2
cargo +nightly fuzz build >&2

declare -a ROWS
found=0
for target in "${TARGETS[@]}"; do
    log="$LOGS/$target.log"
    mkdir -p "fuzz/artifacts/$target"
    before=$(ls "fuzz/artifacts/$target" | sort)
    echo "== $target: ${SECONDS_EACH}s" >&2
    start=$(date +%s)
    set +e
    # shellcheck disable=SC2046
    timeout --kill-after=30 $((SECONDS_EACH + 300)) \
        cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- \
            -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 $(dict_for "$target") > "$log" 2>&1
    status=$?
    set -e
    took=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    per_sec=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    corpus=$(ls "fuzz/corpus/$target" | wc -l)
    new=$(comm -13 <(echo "$before") <(ls "fuzz/artifacts/$target" | sort) | grep -v '^$' || true)
    if [ -n "$new" ] || [ $status -ne 0 ]; then
        found=1
        findings="CRASH (exit $status; log $log)"
        for file in $new; do
            findings="$findings"$'\n'"    fuzz/artifacts/$target/$file: $(xxd -p "fuzz/artifacts/$target/$file" | tr -d '\n' | cut -c1-512)"
        done
        grep -m3 -E 'panicked at|ERROR: AddressSanitizer|ERROR: libFuzzer' "$log" | sed 's/^/    /' >&2 || true
    else
        findings="none"
    fi
    ROWS+=("$(printf '%-14s %6ss %12s execs %8s/s  corpus %5s  findings: %s' \
        "$target" "$took" "${execs:-?}" "${per_sec:-?}" "$corpus" "$findings")")
done

echo
echo "==== fuzz summary (${SECONDS_EACH}s per target) ===="
for row in "${ROWS[@]}"; do
    echo "$row"
done
exit $found
