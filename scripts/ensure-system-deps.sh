#!/usr/bin/env bash
# Installs what the build needs from the system when it is missing, so the README's commands work
# on a fresh Debian/Ubuntu machine. RocksDB's Rust bindings are generated at build time with
# bindgen, which loads libclang; the C++ compiler comes with build-essential.
#
# --for-tests: also what the tests run besides the build: Debian's `prometheus` package, for
# /usr/bin/prometheus and /usr/bin/promtool (tests/prometheus.rs scrapes the plugin with them).
set -euo pipefail

for_tests=false
for arg in "$@"; do
    case "$arg" in
        --for-tests) for_tests=true ;;
        *) echo "usage: $0 [--for-tests]" >&2; exit 2 ;;
    esac
done

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root (or sudo) to install: $*" >&2; exit 1
    fi
}

missing=()
# bindgen needs libclang-dev at build time: the unversioned libclang.so, and clang's own headers
# (stddef.h, ...) to parse RocksDB's C header. The runtime library libclang.so.1 alone is not enough.
if ! ls /usr/lib/llvm-*/lib/libclang.so /usr/lib/llvm-*/lib/libclang-*.so >/dev/null 2>&1 ||
    ! ls /usr/lib/llvm-*/lib/clang/*/include/stddef.h >/dev/null 2>&1; then
    missing+=(libclang-dev)
fi
command -v c++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
if $for_tests && { [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/promtool ]; }; then
    missing+=(prometheus)
fi

if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing system packages: ${missing[*]}" >&2
    if ! command -v apt-get >/dev/null; then
        echo "apt-get not found: install ${missing[*]} with your package manager" >&2
        exit 1
    fi
    as_root apt-get update -qq
    # Packages with a service (prometheus) try to start it from their postinst, which fails where
    # no init system runs (containers, CI). A policy-rc.d that answers 101 ("action forbidden")
    # makes invoke-rc.d / deb-systemd-invoke skip the start; it is ours only while we install.
    policy=/usr/sbin/policy-rc.d
    own_policy=false
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        own_policy=true
        trap 'as_root rm -f "$policy"' EXIT
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    if $own_policy; then
        as_root rm -f "$policy"
        trap - EXIT
    fi
fi

if $for_tests && { [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/promtool ]; }; then
    echo "prometheus is installed but /usr/bin/prometheus or /usr/bin/promtool is missing" >&2
    exit 1
fi

if ! command -v cargo >/dev/null; then
    echo "cargo not found: install the Rust toolchain (rustup) first" >&2
    exit 1
fi
