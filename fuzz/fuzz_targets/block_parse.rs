#![no_main]
//! Fuzz target `block_parse`: see [`stampvm_fuzz::block_parse`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| stampvm_fuzz::block_parse(data));
