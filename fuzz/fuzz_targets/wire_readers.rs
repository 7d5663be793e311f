#![no_main]
//! Fuzz target `wire_readers`: see [`stampvm_fuzz::wire_readers`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| stampvm_fuzz::wire_readers(data));
