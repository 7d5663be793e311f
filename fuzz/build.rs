//! RocksDB's C++ needs libstdc++. librocksdb-sys links it when it compiles RocksDB itself, but not
//! when it links a prebuilt library (`ROCKSDB_LIB_DIR`, which scripts/fuzz.sh sets); the fuzz
//! binaries get it through libFuzzer, the regression tests (`--lib`) only through this.
fn main() {
    println!("cargo:rerun-if-env-changed=ROCKSDB_LIB_DIR");
    if std::env::var_os("ROCKSDB_LIB_DIR").is_some() {
        println!("cargo:rustc-link-lib=dylib=stdc++");
    }
}
