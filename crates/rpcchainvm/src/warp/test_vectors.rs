//! The worked examples of docs/spec/warp.md §5, transcribed from docs/spec/warp-vectors.json so
//! the tests read nothing outside the crate. Field names follow the JSON keys.

/// `network_id` (§5.1).
pub(crate) const NETWORK_ID: u32 = 12345;
/// `chain_id_hex`: bytes 0x01..=0x20 (§5.1).
pub(crate) const CHAIN_ID_HEX: &str =
    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
/// `sha256_stampvm`: SHA-256("stampvm") (§5.1).
pub(crate) const SHA256_STAMPVM_HEX: &str =
    "3251741f3b06de5de18d0f11fa36a18c5b59c97bdf80785a628fbe7f11ba9b3c";
/// `hash_payload_hex` (§5.2).
pub(crate) const HASH_PAYLOAD_HEX: &str =
    "0000000000003251741f3b06de5de18d0f11fa36a18c5b59c97bdf80785a628fbe7f11ba9b3c";
/// `unsigned_hex` (§5.2).
pub(crate) const UNSIGNED_HEX: &str = "0000000030390102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20000000260000000000003251741f3b06de5de18d0f11fa36a18c5b59c97bdf80785a628fbe7f11ba9b3c";
/// `unsigned_id_sha256` (§5.2).
pub(crate) const UNSIGNED_ID_HEX: &str =
    "73756e7b2e65fa7d669cfb95a17cfb4e5feb4cf0ce8def827f6e6962b8d0faad";
/// `addressed_call_example_hex`: source 20 × 0xaa, payload "hello" (§5.2).
pub(crate) const ADDRESSED_CALL_HEX: &str =
    "00000000000100000014aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa0000000568656c6c6f";
/// `acp118_apprequest_hex` (§5.2).
pub(crate) const ACP118_APP_REQUEST_HEX: &str = "020a500000000030390102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20000000260000000000003251741f3b06de5de18d0f11fa36a18c5b59c97bdf80785a628fbe7f11ba9b3c";
/// `acp118_response_v0_hex` (§5.3).
pub(crate) const ACP118_RESPONSE_V0_HEX: &str = "0a6088fe4e4e1149cca487621848234a60369f8ca6217cbe096e6f6d208d949cb239a334edb67899d8f2cba0f062ca19c6b908368fe7013f311f9c32994e7975fd30c35dea8867562a2e9c71a5575317eb8c9353ce9e51d32a4b76ad9492edf12cba";

/// One entry of `validators` (§5.3).
pub(crate) struct VectorValidator {
    pub(crate) name: &'static str,
    pub(crate) sk_hex: &'static str,
    pub(crate) pk_compressed_hex: &'static str,
    pub(crate) pk_uncompressed_hex: &'static str,
    pub(crate) pop_hex: &'static str,
    pub(crate) node_id_hex: &'static str,
    pub(crate) node_id_str: &'static str,
    pub(crate) weight: u64,
    pub(crate) sig_hex: &'static str,
}

/// `validators` in the JSON's order v0, v1, v2 (§5.3).
pub(crate) const VALIDATORS: [VectorValidator; 3] = [
    VectorValidator {
        name: "v0",
        sk_hex: "47ff591c1798d081d85bdd510b89e536514a34c6fd6a37c9c9dc72fb8e69f0b3",
        pk_compressed_hex: "97c4c95a9a4a5f1ba7a9189ffb9b928d0e2c4ac14dd76afd8b76da4f6174e242ed10d68d46369fb33534853cd94174c8",
        pk_uncompressed_hex: "17c4c95a9a4a5f1ba7a9189ffb9b928d0e2c4ac14dd76afd8b76da4f6174e242ed10d68d46369fb33534853cd94174c80a73a9b0aca5cc8310229d26d2e5deba9ecac7f191d12d389e559efcf6b5f14a4e1761f808bfde897cfaa18fd09722f0",
        pop_hex: "afed098820d2470b5971224d89e37c81b2073b2842d2182f32a37ee95685b14703cee81e41d559624f60d41e1bf85feb034a606b4e2dab31f86b3e8fa1b3b7415c6b83387a4ac9a7a40b68a05c7ad6a572eb7c149e129c5c02e6ce05805847fc",
        node_id_hex: "2b319811a4af125220f184692e2a6855d761cfd4",
        node_id_str: "NodeID-4wPU6th7Gx51nYhNNp3pqYd8SHLh5czSL",
        weight: 100,
        sig_hex: "88fe4e4e1149cca487621848234a60369f8ca6217cbe096e6f6d208d949cb239a334edb67899d8f2cba0f062ca19c6b908368fe7013f311f9c32994e7975fd30c35dea8867562a2e9c71a5575317eb8c9353ce9e51d32a4b76ad9492edf12cba",
    },
    VectorValidator {
        name: "v1",
        sk_hex: "4b68e9facce54dba5c84f2984f69e9715c8fd4fa4530f5c3ffc6ec693d4f85ac",
        pk_compressed_hex: "b388abdc7deac981f771b7e98cc1b0c6ee3e0fe277cb1671453a45447266b9baa449917f40db59b98fa7d7c61c95d255",
        pk_uncompressed_hex: "1388abdc7deac981f771b7e98cc1b0c6ee3e0fe277cb1671453a45447266b9baa449917f40db59b98fa7d7c61c95d2550f1bfee6a87e52a669b57abd560ff6bc4800a3f212d413021f9bab3c95d20907875d471791814f260f582e3d5b773ac5",
        pop_hex: "b7691fadef691ca618ba3294e2d04f3d59741a4eeda9c821f0968f6f8a73566d1ff1023bb46e033fa7bcad79c8d4fd7100122cf551255c6f1600010a22b2c8ccf6566c7ff30618fd1006967af14aee2b02ce9ffd83ad3460853c698a9f577cfc",
        node_id_hex: "bf3bac19bfdd4c13cca39590797dd09f45d897b3",
        node_id_str: "NodeID-JS9Yk1JkZgTeww2umatetoNcNhMkvQKKy",
        weight: 100,
        sig_hex: "b9a1e012d62ef21a69a78c558c0b092606994b621a13d26214b92c6b04de5703e78d324e4e3fcf529785cf4572805b2608b6254893776ad90463a6e8a34ead8aea833905385ea57699a61ae0596e00544788bea6d4eb1f17d6482783bfd7dc84",
    },
    VectorValidator {
        name: "v2",
        sk_hex: "117deb9c9df3fc30900db65effb9c33f978419a8f949ee9849c0d20a534b985f",
        pk_compressed_hex: "b067ce5c3189b5ec656d0c1506ee6e2d7c07ac89c6dbb110480e4b835da6f9b2a7ba49af30eafa2a5bff501761961f1f",
        pk_uncompressed_hex: "1067ce5c3189b5ec656d0c1506ee6e2d7c07ac89c6dbb110480e4b835da6f9b2a7ba49af30eafa2a5bff501761961f1f1119b8fd6e77ef62cb3475fc6bc8a50843403f8e0f93a3b143afe0d5f9559cdab9f4eb48046d1728046de6b0163c79b9",
        pop_hex: "95b9fad0a05e52041e22d4e5821a01b4f2ffde83be94de413f1d237f9f03c890ba7d22846d19748b929ae1353bbe1e3f030df72e14293886e8c4d0f2d85e2afb43e3c4fe48cf73111dcf99b77de16d1eccae0a3b1baada12e2b0f4cbfe974c8f",
        node_id_hex: "6397bd5238615a0d080942bdfbb2598d2df788c6",
        node_id_str: "NodeID-A5bg3GB2jBDEcY5zkmZkEi1ertPA1SdPU",
        weight: 100,
        sig_hex: "8647297bc58eb02c5f96bc9248c737cd1aeb1fdf14333b66e142564c509eece58dbe6b985cb9ec5129e9e4c12c6572ca172ec1c6054fa6a8db43e818b6613c88f05b43208b7057f3041225fd25f39d5eeae8b5dc419bfb79ba140d3fe4335a56",
    },
];

/// `canonical_order_by_uncompressed`: indices into [`VALIDATORS`] (v2, v1, v0) (§5.4).
pub(crate) const CANONICAL_ORDER: [usize; 3] = [2, 1, 0];
/// `order_if_sorted_by_compressed`: the wrong order (v0, v2, v1) (§5.4).
pub(crate) const ORDER_BY_COMPRESSED: [usize; 3] = [0, 2, 1];

/// One entry of `aggregates` (§5.4).
pub(crate) struct VectorAggregate {
    pub(crate) signer_indices: &'static [usize],
    pub(crate) signers_bitset_hex: &'static str,
    pub(crate) aggregate_sig_hex: &'static str,
    pub(crate) signed_weight: u64,
    pub(crate) total_weight: u64,
    pub(crate) passes_67_100: bool,
    pub(crate) passes_2_3: bool,
    pub(crate) signed_message_hex: &'static str,
}

/// `aggregates.all3` (§5.4).
pub(crate) const ALL3: VectorAggregate = VectorAggregate {
    signer_indices: &[0, 1, 2],
    signers_bitset_hex: "07",
    aggregate_sig_hex: "99a988caeef00ec8971a53a34869f246cd207d491323f5a9b094d8d93a07030a0fe033d3daff69158d14772712149d7c1233e3138797b677f66fdc9c744af8c1d931b2c2fa8607ce75e5aee63bed685d85620326de31ff7364e82941cb801fe1",
    signed_weight: 300,
    total_weight: 300,
    passes_67_100: true,
    passes_2_3: true,
    signed_message_hex: "0000000030390102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20000000260000000000003251741f3b06de5de18d0f11fa36a18c5b59c97bdf80785a628fbe7f11ba9b3c00000000000000010799a988caeef00ec8971a53a34869f246cd207d491323f5a9b094d8d93a07030a0fe033d3daff69158d14772712149d7c1233e3138797b677f66fdc9c744af8c1d931b2c2fa8607ce75e5aee63bed685d85620326de31ff7364e82941cb801fe1",
};

/// `aggregates.first2`: canonical indices 0 and 1, i.e. v2 and v1 (§5.4).
pub(crate) const FIRST2: VectorAggregate = VectorAggregate {
    signer_indices: &[0, 1],
    signers_bitset_hex: "03",
    aggregate_sig_hex: "90dbce160e6f6eac22943e52e2e94398401b7a259fa3203752adf745d32a26604636d1f747bbc8d23bb72055dd5c9a820e055321994d163f93433a7aef658daf24f6d138fc58883b3e30be9b67d869700338c7890961f39711dcb8bd0bc6e83c",
    signed_weight: 200,
    total_weight: 300,
    passes_67_100: false,
    passes_2_3: true,
    signed_message_hex: "0000000030390102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20000000260000000000003251741f3b06de5de18d0f11fa36a18c5b59c97bdf80785a628fbe7f11ba9b3c00000000000000010390dbce160e6f6eac22943e52e2e94398401b7a259fa3203752adf745d32a26604636d1f747bbc8d23bb72055dd5c9a820e055321994d163f93433a7aef658daf24f6d138fc58883b3e30be9b67d869700338c7890961f39711dcb8bd0bc6e83c",
};

/// Decodes a hex constant above; they are all well-formed.
pub(crate) fn bytes(hex_text: &str) -> Vec<u8> {
    hex::decode(hex_text).expect("test vector is hex")
}

/// Decodes a hex constant of a known length.
pub(crate) fn array<const N: usize>(hex_text: &str) -> [u8; N] {
    bytes(hex_text)
        .try_into()
        .expect("test vector has the stated length")
}

pub(crate) fn chain_id() -> [u8; 32] {
    array(CHAIN_ID_HEX)
}

pub(crate) fn hash_payload() -> Vec<u8> {
    bytes(HASH_PAYLOAD_HEX)
}

pub(crate) fn unsigned() -> Vec<u8> {
    bytes(UNSIGNED_HEX)
}

/// Validator `index` of [`VALIDATORS`] with its vector weight.
pub(crate) fn validator(index: usize) -> crate::warp::Validator {
    let vector = &VALIDATORS[index];
    crate::warp::Validator {
        node_id: crate::ids::NodeId(array(vector.node_id_hex)),
        weight: vector.weight,
        public_key: Some(
            crate::warp::PublicKey::from_compressed(&array(vector.pk_compressed_hex))
                .expect("vector key is valid"),
        ),
    }
}

/// The three vector validators flattened: v2, v1, v0, total weight 300 (§5.4).
pub(crate) fn canonical_set() -> crate::warp::CanonicalValidatorSet {
    crate::warp::CanonicalValidatorSet::flatten((0..3).map(validator)).expect("vector set flattens")
}

pub(crate) fn secret_key(index: usize) -> crate::warp::SecretKey {
    crate::warp::SecretKey::from_bytes(&array(VALIDATORS[index].sk_hex))
        .expect("vector secret key is valid")
}

pub(crate) fn signed_message(vector: &VectorAggregate) -> crate::warp::SignedMessage {
    crate::warp::SignedMessage::from_bytes(&bytes(vector.signed_message_hex))
        .expect("vector signed message decodes")
}
