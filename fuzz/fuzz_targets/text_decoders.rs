#![no_main]
//! Fuzz target `text_decoders`: see [`stampvm_fuzz::text_decoders`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| stampvm_fuzz::text_decoders(data));
