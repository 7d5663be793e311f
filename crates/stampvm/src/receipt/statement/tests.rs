//! The layout is pinned byte for byte; both chain formats give a statement that reads back;
//! every malformation of the message, the payload or the statement is a typed error (never
//! a panic); and a handler's match is exact.

use super::*;
use crate::chain::merkle::leaf_hash;

const NETWORK_ID: u32 = 12345;

fn chain_id() -> Id {
    Id(std::array::from_fn(|i| i as u8 + 1))
}

fn batched_block() -> Block {
    Block::batched(
        Id([7; 32]),
        9,
        1_700_000_000,
        vec![[1; 32], [2; 32], [3; 32]],
    )
    .unwrap()
}

fn single_block() -> Block {
    Block::single(Id([7; 32]), 9, 1_700_000_000, [1; 32])
}

/// A statement with a distinct byte in every field, so a misplaced field shows.
fn distinct() -> Statement {
    Statement {
        network_id: 0x0102_0304,
        chain_id: Id([0xcc; 32]),
        height: 0x1112_1314_1516_1718,
        block_id: Id([0xbb; 32]),
        timestamp: -2,
        root: [0xaa; 32],
        count: 0x2122_2324_2526_2728,
    }
}

// The table in the module docs, offset by offset.
#[test]
fn the_layout_is_the_documented_one() {
    let expected = [
        "0000",
        "01020304",
        &"cc".repeat(32),
        "00000070",
        "0000",
        "00000001",
        "00000000",
        "00000062",
        "7374616d70766d00",
        "0001",
        "1112131415161718",
        &"bb".repeat(32),
        "fffffffffffffffe",
        &"aa".repeat(32),
        "2122232425262728",
    ]
    .concat();
    let bytes = distinct().to_bytes();
    assert_eq!(hex::encode(&bytes), expected);
    assert_eq!(bytes.len(), STATEMENT_MESSAGE_LEN);
    assert_eq!(STATEMENT_MESSAGE_LEN, 154);
    assert_eq!(Statement::from_bytes(&bytes), Ok(distinct()));
}

#[test]
fn both_chain_formats_give_a_statement_that_reads_back() {
    let single = single_block();
    let statement = Statement::for_block(NETWORK_ID, chain_id(), &single);
    assert_eq!(statement.root, leaf_hash(&[1; 32]));
    assert_eq!(statement.count, 1);
    assert_eq!(statement.block_id, single.id());
    let batched = batched_block();
    let other = Statement::for_block(NETWORK_ID, chain_id(), &batched);
    assert_eq!(other.root, batched.root());
    assert_eq!(other.count, 3);
    assert_eq!((other.height, other.timestamp), (9, 1_700_000_000));
    for statement in [statement, other] {
        let message = statement.to_unsigned_message();
        assert_eq!(message.network_id(), NETWORK_ID);
        assert_eq!(message.source_chain_id(), chain_id());
        assert_eq!(Statement::from_bytes(&statement.to_bytes()), Ok(statement));
        assert_eq!(Statement::from_unsigned_message(&message), Ok(statement));
    }
}

#[test]
fn every_truncation_and_extension_is_a_typed_error() {
    let bytes = distinct().to_bytes();
    for len in 0..bytes.len() {
        assert!(Statement::from_bytes(&bytes[..len]).is_err(), "{len}");
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        Statement::from_bytes(&long),
        Err(StatementError::Message(CodecError::TrailingBytes(1)))
    ));
    // A statement one byte short or long inside well-formed Warp framing.
    let body = distinct().payload_bytes();
    let longer = [&body[..], &[0u8][..]].concat();
    for inner in [&body[..body.len() - 1], &longer[..]] {
        let message = wrap(Payload::AddressedCall(
            AddressedCall::new(Vec::new(), inner.to_vec()).unwrap(),
        ));
        assert_eq!(
            Statement::from_bytes(&message),
            Err(StatementError::Length(inner.len()))
        );
    }
    // Magic and nothing else.
    let message = wrap(Payload::AddressedCall(
        AddressedCall::new(Vec::new(), STATEMENT_MAGIC.to_vec()).unwrap(),
    ));
    assert_eq!(
        Statement::from_bytes(&message),
        Err(StatementError::Length(8))
    );
}

fn wrap(payload: Payload) -> Vec<u8> {
    UnsignedMessage::new(NETWORK_ID, chain_id(), payload.to_bytes())
        .unwrap()
        .to_bytes()
}

#[test]
fn other_payloads_are_refused_by_name() {
    let body = distinct().payload_bytes();
    assert_eq!(
        Statement::from_bytes(&wrap(Payload::Hash([1; 32]))),
        Err(StatementError::NotAddressedCall)
    );
    let addressed = AddressedCall::new(vec![0xaa; 20], body.clone()).unwrap();
    assert_eq!(
        Statement::from_bytes(&wrap(Payload::AddressedCall(addressed))),
        Err(StatementError::SourceAddress(20))
    );
    let mut other_vm = body.clone();
    other_vm[0] = b'S';
    let call = AddressedCall::new(Vec::new(), other_vm).unwrap();
    assert_eq!(
        Statement::from_bytes(&wrap(Payload::AddressedCall(call))),
        Err(StatementError::Magic)
    );
    let mut version_2 = body;
    version_2[9] = 2;
    let call = AddressedCall::new(Vec::new(), version_2).unwrap();
    assert_eq!(
        Statement::from_bytes(&wrap(Payload::AddressedCall(call))),
        Err(StatementError::Version(2))
    );
    let raw = UnsignedMessage::new(NETWORK_ID, chain_id(), distinct().payload_bytes())
        .unwrap()
        .to_bytes();
    assert!(matches!(
        Statement::from_bytes(&raw),
        Err(StatementError::Payload(_))
    ));
}

#[test]
fn a_handler_signs_only_what_it_would_build() {
    for block in [single_block(), batched_block()] {
        let bytes = Statement::for_block(NETWORK_ID, chain_id(), &block).to_bytes();
        assert!(statement_matches_block(
            &bytes,
            NETWORK_ID,
            chain_id(),
            &block
        ));
        assert!(!statement_matches_block(
            &bytes,
            NETWORK_ID + 1,
            chain_id(),
            &block
        ));
        assert!(!statement_matches_block(
            &bytes,
            NETWORK_ID,
            Id([9; 32]),
            &block
        ));
        let later = Block {
            timestamp: block.timestamp + 1,
            ..block.clone()
        };
        assert!(!statement_matches_block(
            &bytes,
            NETWORK_ID,
            chain_id(),
            &later
        ));
        // Each byte of the statement matters.
        for offset in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[offset] ^= 1;
            assert!(
                !statement_matches_block(&flipped, NETWORK_ID, chain_id(), &block),
                "{offset}"
            );
        }
        assert!(!statement_matches_block(
            &bytes[..100],
            NETWORK_ID,
            chain_id(),
            &block
        ));
    }
    // The same height and time on the other chain format is another block.
    let single = Statement::for_block(NETWORK_ID, chain_id(), &single_block()).to_bytes();
    assert!(!statement_matches_block(
        &single,
        NETWORK_ID,
        chain_id(),
        &batched_block()
    ));
}
