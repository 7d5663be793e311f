//! Block codec costs: encode, decode, ID (SHA-256 of the 82 bytes), and CB58 of an ID; and the
//! same for a batched block of 4096 payloads (its decode includes no hashing, its ID hashes
//! 131 KiB).
//! Run: `cargo bench --bench codec`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stampvm::chain::{genesis_block, Block, ChainFormat, Id};
use std::hint::black_box;

fn sample_block() -> Block {
    let genesis = genesis_block(b"bench").expect("short genesis");
    Block::single(genesis.id(), 1, 1_700_000_000, [7u8; 32])
}

fn batched_block(count: u32) -> Block {
    let payloads = (0..count).map(|i| Id::sha256(&i.to_be_bytes()).0).collect();
    Block::batched(Id([1; 32]), 1, 1_700_000_000, payloads).expect("non-empty batch")
}

fn codec(c: &mut Criterion) {
    let block = sample_block();
    let bytes = block.encode();
    let mut group = c.benchmark_group("block_codec");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode", |b| b.iter(|| black_box(&block).encode()));
    group.bench_function("decode", |b| {
        b.iter(|| Block::decode(black_box(&bytes), ChainFormat::Single).expect("valid bytes"))
    });
    group.bench_function("id_sha256", |b| b.iter(|| black_box(&block).id()));
    let id = block.id();
    group.bench_function("id_cb58", |b| b.iter(|| black_box(&id).to_string()));
    group.finish();

    let block = batched_block(4096);
    let bytes = block.encode();
    let format = ChainFormat::Batched { max_batch: 4096 };
    let mut group = c.benchmark_group("batched4096_codec");
    group.throughput(Throughput::Elements(4096));
    group.bench_function("encode", |b| b.iter(|| black_box(&block).encode()));
    group.bench_function("decode", |b| {
        b.iter(|| Block::decode(black_box(&bytes), format).expect("valid bytes"))
    });
    group.bench_function("id_sha256", |b| b.iter(|| black_box(&block).id()));
    group.bench_function("verify_body", |b| {
        b.iter(|| stampvm::chain::verify_body(black_box(&block), format).expect("valid batch"))
    });
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
