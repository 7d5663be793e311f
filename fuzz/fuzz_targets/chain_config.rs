#![no_main]
//! Fuzz target `chain_config`: see [`stampvm_fuzz::chain_config`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| stampvm_fuzz::chain_config(data));
