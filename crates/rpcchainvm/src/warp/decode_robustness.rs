//! Every decoder of this module fed thousands of corrupted copies of the §5 vectors: none may
//! panic, whatever decodes must re-encode to the very same bytes (the codec is canonical), and a
//! corrupted signed message must never verify. A deterministic generator keeps failures
//! reproducible; a failure prints the seed and the input.

use super::acp118::{decode_signature_request, decode_signature_response, split_handler_id};
use super::test_vectors::*;
use super::{
    verify_signed_message, Payload, PublicKey, Quorum, Signature, SignedMessage, UnsignedMessage,
};

/// xorshift64*: enough randomness to corrupt bytes, with no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

/// One to three random edits: flip a bit, set a byte, truncate, insert, delete, or overwrite four
/// bytes with a big-endian length (the fields most likely to confuse a decoder).
fn corrupt(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len());
        match rng.below(6) {
            0 if !bytes.is_empty() => bytes[at] ^= 1 << rng.below(8),
            1 if !bytes.is_empty() => bytes[at] = rng.next() as u8,
            2 => bytes.truncate(at),
            3 => bytes.insert(at, rng.next() as u8),
            4 if !bytes.is_empty() => {
                bytes.remove(at);
            }
            _ if bytes.len() >= at + 4 => {
                let len = match rng.below(3) {
                    0 => rng.below(300) as u32,
                    1 => u32::MAX - rng.below(3) as u32,
                    _ => rng.next() as u32,
                };
                bytes[at..at + 4].copy_from_slice(&len.to_be_bytes());
            }
            _ => {}
        }
    }
    bytes
}

#[test]
fn corrupted_vectors_never_panic_never_reencode_differently_and_never_verify() {
    let seeds: Vec<Vec<u8>> = [
        UNSIGNED_HEX,
        HASH_PAYLOAD_HEX,
        ADDRESSED_CALL_HEX,
        ACP118_APP_REQUEST_HEX,
        ACP118_RESPONSE_V0_HEX,
        ALL3.signed_message_hex,
        FIRST2.signed_message_hex,
    ]
    .iter()
    .map(|text| bytes(text))
    .collect();
    let set = canonical_set();
    let mut rng = Rng(0x5eed_f3a7_u64);
    let mut verified_attempts = 0;
    for round in 0..3000 {
        let seed = &seeds[round % seeds.len()];
        let input = corrupt(&mut rng, seed);
        let context = format!("round {round}, input {}", hex::encode(&input));

        if let Ok(message) = UnsignedMessage::from_bytes(&input) {
            assert_eq!(message.to_bytes(), input, "{context}");
        }
        if let Ok(payload) = Payload::from_bytes(&input) {
            assert_eq!(payload.to_bytes(), input, "{context}");
        }
        if let Ok(message) = SignedMessage::from_bytes(&input) {
            assert_eq!(message.to_bytes(), input, "{context}");
            verified_attempts += 1;
            let verified = verify_signed_message(&message, NETWORK_ID, &set, Quorum::TWO_THIRDS);
            if verified.is_ok() {
                assert!(
                    seeds.contains(&input),
                    "a corrupted message verified: {context}"
                );
            }
        }
        if let Ok((_, rest)) = split_handler_id(&input) {
            assert!(input.ends_with(rest), "{context}");
            let _ = decode_signature_request(rest);
        }
        let _ = decode_signature_response(&input);
        if input.len() >= 48 {
            let bytes: &[u8; 48] = input[..48].try_into().unwrap();
            if let Ok(key) = PublicKey::from_compressed(bytes) {
                assert_eq!(&key.to_compressed(), bytes, "{context}");
            }
        }
        if input.len() >= 96 {
            let bytes: &[u8; 96] = input[input.len() - 96..].try_into().unwrap();
            if let Ok(signature) = Signature::from_bytes(bytes) {
                assert_eq!(&signature.to_bytes(), bytes, "{context}");
            }
        }
    }
    assert!(
        verified_attempts > 100,
        "too few corrupted signed messages decoded ({verified_attempts}) to test verification"
    );
}
