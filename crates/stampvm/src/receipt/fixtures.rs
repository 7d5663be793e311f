//! Real receipts for the tests: real blocks of both chain formats, real BLS keys (blst) from
//! fixed bytes, four validators of unequal weight plus one without a key, and an aggregate
//! signature built the way a node's collector builds it. Nothing is mocked.

use super::document::Receipt;
use super::statement::Statement;
use crate::chain::{Block, Id, NodeId, Payload, Proof};
use rpcchainvm::warp::{
    BitSetSignature, CanonicalValidatorSet, Quorum, SecretKey, Signature, SignedMessage, SignerSet,
    Validator,
};

pub(crate) const NETWORK_ID: u32 = 12345;
pub(crate) const P_CHAIN_HEIGHT: u64 = 42;
pub(crate) const HEIGHT: u64 = 9;
pub(crate) const TIMESTAMP: i64 = 1_700_000_000;
/// [`TIMESTAMP`] in RFC 3339.
pub(crate) const TIME_UTC: &str = "2023-11-14T22:13:20Z";
/// Weights of the keyed validators, validator `i` having [`secret_key`]`(i)`.
pub(crate) const WEIGHTS: [u64; 4] = [50, 100, 150, 200];
/// A validator without a BLS key: it counts toward the total weight only.
pub(crate) const KEYLESS_WEIGHT: u64 = 25;
/// 525.
pub(crate) const TOTAL_WEIGHT: u64 = 50 + 100 + 150 + 200 + KEYLESS_WEIGHT;
/// Who signs a good receipt: all but the lightest, 450 of 525 (67/100 needs 351.75).
pub(crate) const SIGNERS: [usize; 3] = [1, 2, 3];
/// 350 of 525: a quarter of a unit short of 67/100.
pub(crate) const TOO_FEW: [usize; 3] = [0, 1, 3];
/// Where the subject sits in the batched block.
pub(crate) const BATCHED_INDEX: usize = 3;

/// The document a receipt proves.
pub(crate) const SUBJECT: &[u8] = b"the contract, as signed on the day";

#[derive(Debug, Clone, Copy)]
pub(crate) enum Format {
    Single,
    Batched,
}

pub(crate) const FORMATS: [Format; 2] = [Format::Single, Format::Batched];

pub(crate) fn chain_id() -> Id {
    Id::sha256(b"receipt test chain")
}

pub(crate) fn digest() -> Payload {
    Id::sha256(SUBJECT).0
}

/// Scalars 0x11…11 to 0x44…44: all below the group order, so all valid keys.
pub(crate) fn secret_key(i: usize) -> SecretKey {
    SecretKey::from_bytes(&[0x11 * (i as u8 + 1); 32]).expect("a scalar below the order")
}

pub(crate) fn node_id(i: usize) -> NodeId {
    NodeId([i as u8 + 1; 20])
}

pub(crate) fn validator_set() -> CanonicalValidatorSet {
    let keyed = WEIGHTS.iter().enumerate().map(|(i, &weight)| Validator {
        node_id: node_id(i),
        weight,
        public_key: Some(secret_key(i).public_key()),
    });
    let keyless = Validator {
        node_id: NodeId([0xee; 20]),
        weight: KEYLESS_WEIGHT,
        public_key: None,
    };
    CanonicalValidatorSet::flatten(keyed.chain([keyless])).expect("distinct nodes, small weights")
}

/// The block holding the subject's digest, and the digest's index in it.
pub(crate) fn block(format: Format) -> (Block, usize) {
    let parent = Id([7; 32]);
    match format {
        Format::Single => (Block::single(parent, HEIGHT, TIMESTAMP, digest()), 0),
        Format::Batched => {
            let mut payloads: Vec<Payload> = (0..5u8).map(|i| [i; 32]).collect();
            payloads[BATCHED_INDEX] = digest();
            let block = Block::batched(parent, HEIGHT, TIMESTAMP, payloads).expect("not empty");
            (block, BATCHED_INDEX)
        }
    }
}

/// Validators `signers` (indices of [`secret_key`]) each sign `statement`, and their
/// signatures are aggregated under a bitset of their canonical indices. No quorum is checked:
/// tests need receipts that fall short too.
pub(crate) fn sign(statement: &Statement, signers: &[usize]) -> SignedMessage {
    let unsigned = statement.to_unsigned_message();
    let bytes = unsigned.to_bytes();
    let set = validator_set();
    let signatures: Vec<Signature> = signers
        .iter()
        .map(|&i| secret_key(i).sign(&bytes))
        .collect();
    let bits = SignerSet::from_indices(
        signers
            .iter()
            .map(|&i| set.index_of_node(&node_id(i)).expect("a member")),
    );
    let aggregate = Signature::aggregate(&signatures).expect("at least one signer");
    SignedMessage {
        unsigned,
        signature: BitSetSignature::new(&bits, &aggregate),
    }
}

/// A receipt for [`SUBJECT`] in a block of `format`, signed by `signers`.
pub(crate) fn receipt_signed_by(format: Format, signers: &[usize]) -> Receipt {
    let (block, index) = block(format);
    let statement = Statement::for_block(NETWORK_ID, chain_id(), &block);
    Receipt {
        proof: Proof::in_block(&block, block.id(), index).expect("index in range"),
        network_id: NETWORK_ID,
        chain_id: chain_id(),
        signed_message: sign(&statement, signers),
        p_chain_height: P_CHAIN_HEIGHT,
        quorum: Quorum::DEFAULT,
        validators: validator_set(),
    }
}

/// A good receipt: signed by [`SIGNERS`].
pub(crate) fn receipt(format: Format) -> Receipt {
    receipt_signed_by(format, &SIGNERS)
}
