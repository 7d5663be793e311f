//! The builder → chain path with a clock set by hand on a real store: a clock behind the tip
//! builds at the parent's time, and an hour behind builds nothing and loses nothing. Fails if
//! a block is built at the (earlier) clock's time, which the chain's own verification refuses,
//! or if a refused build drops its payload.
use super::*;
use crate::actors::builder::{BuildError, BuilderMsg};
use crate::actors::{ask, VmHandles, BLOCKING_CALL};
use crate::api::Backend;
use crate::chain::parse_genesis;
use crate::config::ChainConfig;
use crate::storage::StoreOptions;
use rpcchainvm::node_client::NodeClients;
use rpcchainvm::protocol::Profile;
use std::sync::atomic::{AtomicI64, Ordering};

const T: i64 = 1_700_000_000;

async fn build(handles: &VmHandles) -> Result<BlockView, BuildError> {
    ask(&handles.builder, BuilderMsg::Build, BLOCKING_CALL)
        .await
        .expect("the builder answers")
}

/// What the node does with a block it decides: prefer it, accept it.
async fn accept(handles: &VmHandles, id: Id) {
    ask(
        &handles.chain,
        |r| ChainMsg::SetPreference(id, r),
        BLOCKING_CALL,
    )
    .await
    .unwrap()
    .expect("preferred");
    ask(&handles.chain, |r| ChainMsg::Accept(id, r), BLOCKING_CALL)
        .await
        .unwrap()
        .expect("accepted");
}

#[tokio::test]
async fn a_clock_behind_the_tip_builds_at_the_parents_time() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = parse_genesis(b"clock").unwrap();
    let store = Arc::new(Store::open(dir.path(), &genesis, StoreOptions::default()).unwrap());
    let clients = NodeClients::connect_lazy("", Profile::latest()).unwrap();
    let time = Arc::new(AtomicI64::new(T));
    let clock = Clock::Manual(time.clone());
    let handles = VmHandles::start_with_clock(store, &ChainConfig::default(), clients, clock)
        .await
        .unwrap();

    handles.propose([1; 32]).await.unwrap();
    let first = build(&handles).await.unwrap();
    assert_eq!(first.block.timestamp, T);
    accept(&handles, first.id).await;

    // Stepped back by just under an hour: the block takes its parent's time.
    time.store(T - 3599, Ordering::Relaxed);
    handles.propose([2; 32]).await.unwrap();
    let second = build(&handles).await.unwrap();
    assert_eq!((second.block.height, second.block.timestamp), (2, T));
    accept(&handles, second.id).await;

    // An hour behind: no timestamp can pass verification; the payload waits in the mempool.
    time.store(T - 3600, Ordering::Relaxed);
    handles.propose([3; 32]).await.unwrap();
    let refused = build(&handles).await.unwrap_err();
    assert!(
        matches!(
            refused,
            BuildError::Chain(ChainError::ClockBehind(ClockBehindParent { parent: T, .. }))
        ),
        "{refused}"
    );
    assert_eq!(handles.mempool_stats().await.unwrap().size, 1);

    // One second later building resumes, still at the parent's time, with the same payload.
    time.store(T - 3599, Ordering::Relaxed);
    let third = build(&handles).await.unwrap();
    assert_eq!((third.block.height, third.block.timestamp), (3, T));
    assert_eq!(third.block.payloads(), [[3; 32]]);
    handles.stop().await;
}
