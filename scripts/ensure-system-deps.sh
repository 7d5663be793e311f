#!/usr/bin/env bash
# Installs what the build needs from the system when it is missing, so the README's commands work
# on a fresh Debian/Ubuntu machine. RocksDB's Rust bindings are generated at build time with
# bindgen, which loads libclang; the C++ compiler comes with build-essential. With --for-tests also
# the rustfmt and clippy components (rustup) when missing.
#
# --for-tests: also what the tests run besides the build: Debian's `prometheus` package, for
# /usr/bin/prometheus and /usr/bin/promtool (tests/it/prometheus.rs scrapes the plugin with them).
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

# Cargo first: without it nothing below is worth installing.
if ! command -v cargo >/dev/null; then
    echo "cargo not found: install the Rust toolchain first (rustup: see rust-lang.org/tools/install), then rerun" >&2
    exit 1
fi

# The tests check formatting and lints: rustfmt and clippy are rustup components that its
# "minimal" profile and the official rust:* container images leave out.
if $for_tests; then
    components=()
    cargo fmt --version >/dev/null 2>&1 || components+=(rustfmt)
    cargo clippy --version >/dev/null 2>&1 || components+=(clippy)
    if [ "${#components[@]}" -gt 0 ]; then
        if command -v rustup >/dev/null; then
            echo "installing Rust components: ${components[*]}" >&2
            rustup component add "${components[@]}"
        else
            echo "cargo ${components[*]} missing and no rustup to install them: install ${components[*]} for this toolchain" >&2
            exit 1
        fi
    fi
fi

# bindgen (RocksDB's bindings) loads libclang at build time. Where it is found, in the order
# clang-sys looks: $LIBCLANG_PATH, then `llvm-config --libdir`, then the usual system folders.
# On Debian the unversioned libclang.so and clang's own headers (stddef.h, ...) come with
# libclang-dev; the runtime library libclang.so.1 alone is not enough.
has_libclang_in() {
    [ -n "$1" ] || return 1
    local file
    for file in "$1"/libclang.so "$1"/libclang.so.* "$1"/libclang-*.so "$1"/libclang-*.so.* "$1"/libclang.dylib; do
        [ -e "$file" ] && return 0
    done
    return 1
}
libclang_found() {
    has_libclang_in "${LIBCLANG_PATH:-}" && return 0
    if command -v llvm-config >/dev/null && has_libclang_in "$(llvm-config --libdir 2>/dev/null)"; then
        return 0
    fi
    if command -v dpkg >/dev/null; then
        # Debian/Ubuntu: the library and the headers bindgen parses with, both from libclang-dev
        # (the runtime package alone puts a libclang-N.so.1 in the library folder, not enough).
        ls /usr/lib/llvm-*/lib/libclang.so /usr/lib/llvm-*/lib/libclang-*.so >/dev/null 2>&1 &&
            ls /usr/lib/llvm-*/lib/clang/*/include/stddef.h >/dev/null 2>&1
    else
        # Fedora, Arch and others ship the headers with the library.
        has_libclang_in /usr/lib64 || has_libclang_in /usr/lib || has_libclang_in /usr/local/lib
    fi
}

missing=()
libclang_found || missing+=(libclang-dev)
command -v c++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
if $for_tests && { [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/promtool ]; }; then
    missing+=(prometheus)
fi

if [ "${#missing[@]}" -gt 0 ]; then
    if ! command -v apt-get >/dev/null; then
        {
            echo "missing: ${missing[*]} (Debian's package names), and apt-get is not here to install them."
            echo "Install the equivalents with your package manager, e.g. Fedora: dnf install clang-devel gcc-c++ make;"
            echo "Arch: pacman -S clang base-devel; macOS: brew install llvm, then LIBCLANG_PATH=\$(brew --prefix llvm)/lib."
            echo "libclang is also found through LIBCLANG_PATH or llvm-config. The tests need prometheus and promtool in /usr/bin."
        } >&2
        exit 1
    fi
    echo "installing system packages: ${missing[*]}" >&2
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
