//! The byte vectors of docs/spec/luxd-zap-vectors.txt and docs/spec/luxd-zap.md §4, transcribed:
//! each is built from typed values and compared byte for byte, then decoded back to the same
//! values. A wrong field order, width, flag or length prefix fails here.

use super::*;
use crate::ids::{Id, NodeId};

/// docs/spec/luxd-zap-vectors.txt: Version request (node->plugin, reqid=5).
const VERSION_REQUEST: &str = "00000004 0e000000 05";

/// docs/spec/luxd-zap-vectors.txt: Version response (plugin->node, reqid=5, "stampvm/0.1.0").
const VERSION_RESPONSE: &str = "00000015 8e000000 05000000 0d737461 6d70766d 2f302e31 2e30";

/// docs/spec/luxd-zap-vectors.txt: BuildBlock request (node->plugin, reqid=9, empty body).
const BUILD_BLOCK_REQUEST: &str = "00000004 09000000 09";

/// docs/spec/luxd-zap-vectors.txt: BuildBlock response (plugin->node, reqid=9, 82-byte block).
const BUILD_BLOCK_RESPONSE: &str = "000000b4 89000000 09000000 20fbc2fd badf64ee 8c9b4229 1c86c7bc 3211bd7b bda7365c ecb669c6 f9e9578d 1b000000 20111111 11111111 11111111 11111111 11111111 11111111 11111111 11111111 11000000 52000011 11111111 11111111 11111111 11111111 11111111 11111111 11111111 11111100 00000000 00000500 00000069 55b9002c f24dba5f b0a30e26 e83b2ac5 b9e29e1b 161e5c1f a7425e73 04336293 8b982400 00000000 00000518 867251ed fa000000 00";

/// docs/spec/luxd-zap-vectors.txt: BuildBlock error response (reqid=9, "no pending data").
const BUILD_BLOCK_ERROR: &str = "00000013 c9000000 096e6f20 70656e64 696e6720 64617461";

/// docs/spec/luxd-zap-vectors.txt: WaitForEvent request (reqid=3).
const WAIT_FOR_EVENT_REQUEST: &str = "00000004 06000000 03";

/// docs/spec/luxd-zap-vectors.txt: WaitForEvent response PendingTxs (reqid=3).
const WAIT_FOR_EVENT_RESPONSE: &str = "00000005 86000000 0301";

/// docs/spec/luxd-zap-vectors.txt: SetState(Bootstrapping=3) request (reqid=2).
const SET_STATE_REQUEST: &str = "00000005 02000000 0203";

/// docs/spec/luxd-zap-vectors.txt: SetState empty success response (reqid=2).
const SET_STATE_RESPONSE: &str = "00000004 82000000 02";

/// docs/spec/luxd-zap-vectors.txt: GetBlock NotFound response (reqid=11).
const GET_BLOCK_NOT_FOUND: &str =
    "00000022 8b000000 0b000000 00000000 00000000 00000000 00000000 00000000 00000000 000002";

/// docs/spec/luxd-zap-vectors.txt: Initialize response (reqid=1, genesis 82-byte block, caps=0).
const INITIALIZE_RESPONSE: &str = "000000ba 81000000 01000000 2010cc3c 382b13ad 9246b747 08d03528 d294522c 558727bd 2ed4a242 bfb7cf0c 3f000000 20000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 52000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 000000";

/// docs/spec/luxd-zap-vectors.txt: BlockAccept request (reqid=12, id=blkid).
const BLOCK_ACCEPT_REQUEST: &str = "00000028 1d000000 0c000000 20fbc2fd badf64ee 8c9b4229 1c86c7bc 3211bd7b bda7365c ecb669c6 f9e9578d 1b";

/// docs/spec/luxd-zap-vectors.txt: BlockVerify request (reqid=10, bytes=block, hasPChainHeight=0).
const BLOCK_VERIFY_REQUEST: &str = "0000005b 1c000000 0a000000 52000011 11111111 11111111 11111111 11111111 11111111 11111111 11111111 11111100 00000000 00000500 00000069 55b9002c f24dba5f b0a30e26 e83b2ac5 b9e29e1b 161e5c1f a7425e73 04336293 8b982400";

/// docs/spec/luxd-zap-vectors.txt: InitializeRequest example (229 bytes).
const INITIALIZE_REQUEST: &str = "000000e0 01000000 01000005 39000000 20aaaaaa aaaaaaaa aaaaaaaa aaaaaaaa aaaaaaaa aaaaaaaa aaaaaaaa aaaaaaaa aa000000 140e0e0e 0e0e0e0e 0e0e0e0e 0e0e0e0e 0e0e0e0e 0e000000 00000000 20000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 20000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 20000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 062f746d 702f6300 0000027b 7d000000 00000000 00000000 00000000 00000000 00000000 00000000 00";

/// docs/spec/luxd-zap-vectors.txt: block bytes (docs/spec/luxd-zap.md §4.3).
const BLOCK_BYTES: &str = "000011111111111111111111111111111111111111111111111111111111111111110000000000000005000000006955b9002cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

/// docs/spec/luxd-zap-vectors.txt: block id.
const BLOCK_ID: &str = "fbc2fdbadf64ee8c9b42291c86c7bc3211bd7bbda7365cecb669c6f9e9578d1b";

/// docs/spec/luxd-zap-vectors.txt: genesis id.
const GENESIS_ID: &str = "10cc3c382b13ad9246b74708d03528d294522c558727bd2ed4a242bfb7cf0c3f";

fn hex(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).expect("vector is hex")
}

fn id(text: &str) -> Id {
    Id::from_slice(&hex(text)).expect("32 bytes")
}

/// The request in `vector` encodes to it, and it decodes to the request with `request_id`.
fn assert_request_vector(vector: &str, request_id: u32, request: Request) {
    let bytes = hex(vector);
    assert_eq!(request.to_frame(request_id).encode().unwrap(), bytes);
    let frame = Frame::decode(&bytes).unwrap();
    assert_eq!(frame.kind, FrameKind::Request);
    assert_eq!(frame.request_id, request_id);
    assert_eq!(Request::from_frame(&frame).unwrap(), request);
}

/// The success answer in `vector` encodes to it, and it decodes to the answer.
fn assert_response_vector(vector: &str, opcode: Opcode, request_id: u32, response: Response) {
    let bytes = hex(vector);
    assert_eq!(
        response.to_frame(opcode, request_id).encode().unwrap(),
        bytes
    );
    let frame = Frame::decode(&bytes).unwrap();
    assert_eq!(frame.kind, FrameKind::Success);
    assert_eq!(frame.request_id, request_id);
    assert_eq!(Response::from_frame(opcode, &frame).unwrap(), Ok(response));
}

/// The block of docs/spec/luxd-zap.md §4.3.
fn example_block() -> Block {
    let bytes = hex(BLOCK_BYTES);
    assert_eq!(
        Id::sha256(&bytes),
        id(BLOCK_ID),
        "the block ID is SHA-256 of its bytes"
    );
    Block {
        id: id(BLOCK_ID),
        parent_id: Id([0x11; 32]),
        bytes,
        height: 5,
        timestamp_ns: 1_767_225_600 * 1_000_000_000,
        verify_with_context: false,
    }
}

#[test]
fn version_request_and_response() {
    assert_request_vector(VERSION_REQUEST, 5, Request::Version);
    assert_response_vector(
        VERSION_RESPONSE,
        Opcode::Version,
        5,
        Response::Version("stampvm/0.1.0".into()),
    );
}

#[test]
fn build_block_request_is_empty() {
    assert_request_vector(
        BUILD_BLOCK_REQUEST,
        9,
        Request::BuildBlock(BuildBlockRequest::default()),
    );
}

#[test]
fn build_block_response_carries_the_example_block() {
    assert_eq!(hex(BUILD_BLOCK_RESPONSE).len(), 185);
    assert_response_vector(
        BUILD_BLOCK_RESPONSE,
        Opcode::BuildBlock,
        9,
        Response::Block(Ok(example_block())),
    );
}

#[test]
fn build_block_error_is_raw_text() {
    let bytes = hex(BUILD_BLOCK_ERROR);
    let frame = Frame::error(Opcode::BuildBlock.as_u8(), 9, "no pending data");
    assert_eq!(frame.encode().unwrap(), bytes);
    let decoded = Frame::decode(&bytes).unwrap();
    assert_eq!(decoded, frame);
    assert_eq!(
        Response::from_frame(Opcode::BuildBlock, &decoded).unwrap(),
        Err("no pending data".to_string())
    );
}

#[test]
fn wait_for_event_request_and_pending_txs() {
    assert_request_vector(WAIT_FOR_EVENT_REQUEST, 3, Request::WaitForEvent);
    assert_response_vector(
        WAIT_FOR_EVENT_RESPONSE,
        Opcode::WaitForEvent,
        3,
        Response::WaitForEvent(VmEvent::PendingTxs),
    );
}

#[test]
fn set_state_bootstrapping_and_its_empty_answer() {
    assert_request_vector(
        SET_STATE_REQUEST,
        2,
        Request::SetState(VmState::Bootstrapping),
    );
    assert_response_vector(SET_STATE_RESPONSE, Opcode::SetState, 2, Response::Empty);
}

#[test]
fn get_block_not_found() {
    assert_response_vector(
        GET_BLOCK_NOT_FOUND,
        Opcode::GetBlock,
        11,
        Response::Block(Err(VmErrorCode::NotFound)),
    );
}

#[test]
fn initialize_response_with_a_zero_genesis_block() {
    let genesis = vec![0u8; 82];
    assert_eq!(Id::sha256(&genesis), id(GENESIS_ID));
    assert_response_vector(
        INITIALIZE_RESPONSE,
        Opcode::Initialize,
        1,
        Response::Initialize(Box::new(InitializeResponse {
            last_accepted_id: id(GENESIS_ID),
            parent_id: Id::EMPTY,
            height: 0,
            block_bytes: genesis,
            timestamp_ns: 0,
            capabilities: 0,
        })),
    );
}

#[test]
fn block_accept_and_block_verify_requests() {
    assert_request_vector(BLOCK_ACCEPT_REQUEST, 12, Request::BlockAccept(id(BLOCK_ID)));
    assert_request_vector(
        BLOCK_VERIFY_REQUEST,
        10,
        Request::BlockVerify(BlockVerifyRequest {
            block: hex(BLOCK_BYTES),
            p_chain_height: None,
        }),
    );
}

/// The vector's ChainDataDir is "/tmp/c"; docs/spec/luxd-zap.md §4.4's prose says "/data/c",
/// which would not fit the vector's length. The bytes win.
#[test]
fn initialize_request_with_all_sixteen_fields() {
    assert_eq!(hex(INITIALIZE_REQUEST).len(), 229);
    assert_request_vector(
        INITIALIZE_REQUEST,
        1,
        Request::Initialize(Box::new(InitializeRequest {
            network_id: 1337,
            chain_id: Id([0xaa; 32]),
            node_id: NodeId([0x0e; 20]),
            public_key: vec![],
            x_chain_id: Id::EMPTY,
            c_chain_id: Id::EMPTY,
            utxo_asset_id: Id::EMPTY,
            chain_data_dir: "/tmp/c".into(),
            genesis: b"{}".to_vec(),
            upgrade: vec![],
            config: vec![],
            db_server_addr: String::new(),
            server_addr: String::new(),
            tail: InitializeTail::Services(ChainServices::default()),
        })),
    );
}
