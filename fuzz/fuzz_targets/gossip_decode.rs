#![no_main]
//! Fuzz target `gossip_decode`: see [`stampvm_fuzz::gossip_decode`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| stampvm_fuzz::gossip_decode(data));
