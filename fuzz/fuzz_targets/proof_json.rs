#![no_main]
//! Fuzz target `proof_json`: see [`stampvm_fuzz::proof_json`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| stampvm_fuzz::proof_json(data));
