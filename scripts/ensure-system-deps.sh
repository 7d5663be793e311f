#!/usr/bin/env bash
# Installs what the build needs from the system when it is missing, so the README's commands work
# on a fresh Debian/Ubuntu machine. RocksDB's Rust bindings are generated at build time with
# bindgen, which loads libclang; the C++ compiler comes with build-essential.
set -euo pipefail

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root (or sudo) to install: $*" >&2; exit 1
    fi
}

missing=()
# bindgen needs libclang.so (from libclang-dev) at build time.
if ! ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1; then
    missing+=(libclang-dev)
fi
command -v c++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)

if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing system packages: ${missing[*]}" >&2
    if ! command -v apt-get >/dev/null; then
        echo "apt-get not found: install ${missing[*]} with your package manager" >&2
        exit 1
    fi
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
    echo "cargo not found: install the Rust toolchain (rustup) first" >&2
    exit 1
fi
