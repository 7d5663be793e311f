#![no_main]
//! Fuzz target `merkle`: see [`stampvm_fuzz::merkle`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| stampvm_fuzz::merkle(data));
