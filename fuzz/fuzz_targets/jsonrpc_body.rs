#![no_main]
//! Fuzz target `jsonrpc_body`: see [`stampvm_fuzz::jsonrpc_body`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| stampvm_fuzz::jsonrpc_body(data));
