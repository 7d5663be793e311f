//! Block codec costs: encode, decode, ID (SHA-256 of the 82 bytes), and CB58 of an ID.
//! Run: `cargo bench --bench codec`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stampvm::chain::{genesis_block, Block};
use std::hint::black_box;

fn sample_block() -> Block {
    let genesis = genesis_block(b"bench").expect("short genesis");
    Block {
        parent: genesis.id(),
        height: 1,
        timestamp: 1_700_000_000,
        data: [7u8; 32],
    }
}

fn codec(c: &mut Criterion) {
    let block = sample_block();
    let bytes = block.encode();
    let mut group = c.benchmark_group("block_codec");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode", |b| b.iter(|| black_box(&block).encode()));
    group.bench_function("decode", |b| {
        b.iter(|| Block::decode(black_box(&bytes)).expect("valid bytes"))
    });
    group.bench_function("id_sha256", |b| b.iter(|| black_box(&block).id()));
    let id = block.id();
    group.bench_function("id_cb58", |b| b.iter(|| black_box(&id).to_string()));
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
