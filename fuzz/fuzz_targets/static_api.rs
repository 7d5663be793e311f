#![no_main]
//! Fuzz target `static_api`: see [`stampvm_fuzz::static_api`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| stampvm_fuzz::static_api(data));
