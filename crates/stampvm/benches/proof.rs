//! Inclusion-proof costs for a batched block of 4096 payloads (the default `maxBatch`): verify
//! one proof (12 hashes and the leaf's; target under 50 µs), build the whole tree (what a block
//! accept costs in hashing), and read one leaf's path out of a built tree.
//! Run: `cargo bench --bench proof`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stampvm::chain::merkle::Tree;
use stampvm::chain::{Block, Id, Proof};
use std::hint::black_box;

const COUNT: u32 = 4096;

fn payloads() -> Vec<[u8; 32]> {
    (0..COUNT).map(|i| Id::sha256(&i.to_be_bytes()).0).collect()
}

fn proof(c: &mut Criterion) {
    let payloads = payloads();
    let block =
        Block::batched(Id([1; 32]), 1, 1_700_000_000, payloads.clone()).expect("non-empty batch");
    let tree = Tree::new(&payloads).expect("non-empty batch");
    // A leaf off both edges, so the path is a mix of left and right siblings.
    let index = 1234;
    let proof = Proof::from_tree(&block, block.id(), &tree, index).expect("index in range");
    assert!(proof.path_is_valid());

    let mut group = c.benchmark_group("merkle_4096");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_proof", |b| {
        b.iter(|| black_box(&proof).path_is_valid())
    });
    group.bench_function("proof_from_tree", |b| {
        b.iter(|| black_box(&tree).proof(black_box(index)))
    });
    group.throughput(Throughput::Elements(COUNT.into()));
    group.bench_function("build_tree", |b| b.iter(|| Tree::new(black_box(&payloads))));
    group.finish();
}

criterion_group!(benches, proof);
criterion_main!(benches);
