//! The store end to end on a temporary directory: open, accept, reopen, proofs, schema 1.

use super::keys::*;
use super::*;
use crate::chain::{parse_genesis, Block, Genesis, Payload};
use rocksdb::WriteBatch;

fn single_genesis(data: &[u8]) -> Genesis {
    parse_genesis(data).unwrap()
}

fn child(parent: &Block, data: u8) -> Block {
    Block::single(
        parent.id(),
        parent.height + 1,
        parent.timestamp + 1,
        [data; 32],
    )
}

fn open(dir: &Path, genesis: &Genesis) -> Store {
    Store::open(dir, genesis, StoreOptions::default()).unwrap()
}

#[test]
fn fresh_store_holds_genesis_then_resumes_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = single_genesis(b"hello");
    let block0 = genesis.block();
    let one = child(&block0, 1);
    {
        let store = open(dir.path(), &genesis);
        assert_eq!(
            store.last_accepted().unwrap(),
            (block0.id(), block0.clone())
        );
        store.accept(one.id(), &one, None).unwrap();
    }
    let store = open(dir.path(), &genesis);
    assert_eq!(store.last_accepted().unwrap(), (one.id(), one.clone()));
    assert_eq!(store.block_id_at_height(1).unwrap(), Some(one.id()));
    assert_eq!(store.block_id_at_height(0).unwrap(), Some(block0.id()));
    assert_eq!(store.block_id_at_height(2).unwrap(), None);
    assert_eq!(store.payload_block(&[1; 32]).unwrap(), Some(one.id()));
    assert_eq!(store.block(&Id([9; 32])).unwrap(), None);
    // The trivial proof of a single-payload block.
    let proof = store.proof(&[1; 32]).unwrap().unwrap();
    assert_eq!(
        (proof.block_id, proof.height, proof.count),
        (one.id(), 1, 1)
    );
    assert!(proof.path.is_empty() && proof.path_is_valid());
    assert_eq!(store.proof(&[2; 32]).unwrap(), None);
}

#[test]
fn another_genesis_is_another_chain() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path(), &single_genesis(b"a")));
    assert!(matches!(
        Store::open(dir.path(), &single_genesis(b"b"), StoreOptions::default()),
        Err(StorageError::OtherChain { .. })
    ));
    // The same data as a batched chain is another chain too.
    let batched = parse_genesis(br#"{"format": "batched", "data": "a"}"#).unwrap();
    assert!(matches!(
        Store::open(dir.path(), &batched, StoreOptions::default()),
        Err(StorageError::OtherChain { .. })
    ));
}

#[test]
fn accept_must_extend_the_tip() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = single_genesis(b"a");
    let store = open(dir.path(), &genesis);
    let one = child(&genesis.block(), 1);
    let sibling = child(&genesis.block(), 2);
    store.accept(one.id(), &one, None).unwrap();
    assert!(matches!(
        store.accept(sibling.id(), &sibling, None),
        Err(StorageError::NotOnTip { .. })
    ));
    assert_eq!(store.last_accepted_id().unwrap(), one.id());
}

fn payloads(count: u32, salt: u8) -> Vec<Payload> {
    (0..count)
        .map(|i| crate::chain::Id::sha256(&[&i.to_be_bytes()[..], &[salt]].concat()).0)
        .collect()
}

#[test]
fn batched_blocks_prove_every_payload_from_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = parse_genesis(br#"{"format": "batched", "data": "docs"}"#).unwrap();
    let store = open(dir.path(), &genesis);
    let mut parent = genesis.block();
    for (count, salt) in [(1, 1), (2, 2), (3, 3), (1000, 4)] {
        let batch = payloads(count, salt);
        let block =
            Block::batched(parent.id(), parent.height + 1, 1_700_000_000, batch.clone()).unwrap();
        store.accept(block.id(), &block, None).unwrap();
        assert_eq!(store.accepted_among(&batch).unwrap(), batch);
        for (index, payload) in batch.iter().enumerate() {
            let proof = store.proof(payload).unwrap().unwrap();
            assert!(proof.path_is_valid(), "{index} of {count}");
            assert_eq!(proof.root, block.root());
            assert_eq!((proof.index, proof.count), (index as u64, u64::from(count)));
            assert_eq!(proof.block_id, block.id());
        }
        parent = block;
    }
    assert!(store.accepted_among(&payloads(5, 9)).unwrap().is_empty());
    // Reopened, the chain reads its batched blocks back.
    drop(store);
    let store = open(dir.path(), &genesis);
    assert_eq!(store.last_accepted().unwrap(), (parent.id(), parent));
}

#[test]
fn a_schema_1_store_is_read_and_marked_2() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = single_genesis(b"old");
    let one = child(&genesis.block(), 1);
    {
        let store = open(dir.path(), &genesis);
        store.accept(one.id(), &one, None).unwrap();
        // What schema 1 wrote: the block ID alone, and version 1.
        let mut batch = WriteBatch::default();
        batch.put_cf(store.cf(CF_PAYLOADS), [1u8; 32], one.id().as_bytes());
        batch.put_cf(store.cf(CF_META), META_SCHEMA_VERSION, 1u32.to_be_bytes());
        store.write(batch).unwrap();
    }
    let store = open(dir.path(), &genesis);
    let proof = store.proof(&[1; 32]).unwrap().unwrap();
    assert_eq!(
        (proof.block_id, proof.height, proof.timestamp),
        (one.id(), 1, 1)
    );
    assert!(proof.path_is_valid());
    let version = store
        .db
        .get_cf(store.cf(CF_META), META_SCHEMA_VERSION)
        .unwrap();
    assert_eq!(version.unwrap(), SCHEMA_VERSION.to_be_bytes());
}
