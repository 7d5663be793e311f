#![no_main]
//! Fuzz target `genesis`: see [`stampvm_fuzz::genesis`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| stampvm_fuzz::genesis(data));
