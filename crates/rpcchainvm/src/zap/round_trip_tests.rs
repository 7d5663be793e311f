//! Every request and answer survives encode → frame → decode unchanged, and malformed input is
//! refused with the error that names it. A field written in one order and read in another, or a
//! missing strictness check, fails here.

use super::*;
use crate::ids::{Id, NodeId};

fn node() -> NodeId {
    NodeId([7; 20])
}

fn block(n: u8) -> Block {
    Block {
        id: Id([n; 32]),
        parent_id: Id([n.wrapping_sub(1); 32]),
        bytes: vec![n; 10 + n as usize],
        height: u64::from(n),
        timestamp_ns: -1_000 * i64::from(n),
        verify_with_context: n % 2 == 1,
    }
}

fn full_initialize(tail: InitializeTail) -> InitializeRequest {
    InitializeRequest {
        network_id: 96369,
        chain_id: Id([1; 32]),
        node_id: node(),
        public_key: vec![9; 48],
        x_chain_id: Id([2; 32]),
        c_chain_id: Id([3; 32]),
        utxo_asset_id: Id([4; 32]),
        chain_data_dir: "/data/chainData/x".into(),
        genesis: b"{\"timestamp\":0}".to_vec(),
        upgrade: vec![1, 2],
        config: vec![3],
        db_server_addr: "127.0.0.1:9999".into(),
        server_addr: String::new(),
        tail,
    }
}

fn legacy_upgrades() -> LegacyNetworkUpgrades {
    LegacyNetworkUpgrades {
        apricot_phase_1: 1,
        apricot_phase_2: 2,
        apricot_phase_3: 3,
        apricot_phase_4: 4,
        apricot_phase_4_min_p_chain_height: 5,
        apricot_phase_5: 6,
        apricot_phase_pre_6: 7,
        apricot_phase_6: 8,
        apricot_phase_post_6: 9,
        banff: 10,
        cortina: 11,
        cortina_x_chain_stop_vertex: vec![0xcc; 32],
        durango: 12,
        etna: 13,
        fortuna: 14,
        granite: 15,
    }
}

fn all_requests() -> Vec<Request> {
    vec![
        Request::Initialize(Box::new(full_initialize(InitializeTail::Services(
            ChainServices {
                atomic_server_addr: "127.0.0.1:1".into(),
                d_chain_id: Some(Id([5; 32])),
                validator_server_addr: "/tmp/v.sock".into(),
            },
        )))),
        Request::SetState(VmState::Ready),
        Request::Shutdown,
        Request::CreateHandlers,
        Request::NewHttpHandler,
        Request::WaitForEvent,
        Request::Connected(ConnectedRequest {
            node_id: node(),
            name: "luxd".into(),
            major: 1,
            minor: 36,
            patch: 184,
        }),
        Request::Disconnected(node()),
        Request::BuildBlock(BuildBlockRequest::default()),
        Request::BuildBlock(BuildBlockRequest {
            p_chain_height: Some(77),
        }),
        Request::ParseBlock(vec![1, 2, 3]),
        Request::GetBlock(Id([8; 32])),
        Request::SetPreference(Id([9; 32])),
        Request::Health,
        Request::Version,
        Request::AppRequest(AppRequest {
            node_id: node(),
            request_id: 4,
            deadline: 1_000,
            request: vec![5],
        }),
        Request::AppRequestFailed(AppRequestFailed {
            node_id: node(),
            request_id: 4,
            code: -1,
            message: "timeout".into(),
        }),
        Request::AppResponse(AppResponse {
            node_id: node(),
            request_id: 4,
            response: vec![6, 7],
        }),
        Request::AppGossip(AppGossip {
            node_id: node(),
            message: vec![8],
        }),
        Request::Gather,
        Request::GetAncestors(GetAncestorsRequest {
            block_id: Id([10; 32]),
            max_blocks: 10,
            max_bytes: 1 << 20,
            max_time_ns: 5_000_000,
        }),
        Request::BatchedParseBlock(vec![vec![1], vec![], vec![2, 3]]),
        Request::GetBlockIdAtHeight(42),
        Request::StateSyncEnabled,
        Request::GetOngoingSyncStateSummary,
        Request::GetLastStateSummary,
        Request::ParseStateSummary(vec![4, 4]),
        Request::GetStateSummary(100),
        Request::BlockVerify(BlockVerifyRequest {
            block: vec![1; 5],
            p_chain_height: None,
        }),
        Request::BlockVerify(BlockVerifyRequest {
            block: vec![2; 5],
            p_chain_height: Some(12),
        }),
        Request::BlockAccept(Id([11; 32])),
        Request::BlockReject(Id([12; 32])),
        Request::StateSummaryAccept(Id([13; 32])),
        Request::SetQuasarFinalized(99),
        Request::QuasarHeight,
    ]
}

#[test]
fn every_request_round_trips_through_a_frame() {
    let requests = all_requests();
    let mut seen: Vec<Opcode> = requests.iter().map(Request::opcode).collect();
    seen.dedup();
    assert_eq!(seen, Opcode::ALL, "one request per opcode, in order");
    for (n, request) in requests.into_iter().enumerate() {
        let bytes = request.to_frame(n as u32 + 1).encode().unwrap();
        let frame = Frame::decode(&bytes).unwrap();
        assert_eq!(frame.request_id, n as u32 + 1);
        assert_eq!(Request::from_frame(&frame), Ok(request));
    }
}

fn all_responses() -> Vec<(Opcode, Response)> {
    let summary = StateSummary {
        id: Id([6; 32]),
        height: 3,
        bytes: vec![1, 2],
    };
    vec![
        (
            Opcode::Initialize,
            Response::Initialize(Box::new(InitializeResponse {
                last_accepted_id: Id([1; 32]),
                parent_id: Id([2; 32]),
                height: 3,
                block_bytes: vec![4; 4],
                timestamp_ns: 5,
                capabilities: CAP_STATE_SYNC | CAP_QUASAR_EXPORT,
            })),
        ),
        (Opcode::SetState, Response::Empty),
        (Opcode::Shutdown, Response::Empty),
        (
            Opcode::CreateHandlers,
            Response::CreateHandlers(vec![
                HttpHandler {
                    prefix: "/rpc".into(),
                    address: "127.0.0.1:4000".into(),
                },
                HttpHandler {
                    prefix: "/ws".into(),
                    address: "127.0.0.1:4001".into(),
                },
            ]),
        ),
        (Opcode::CreateHandlers, Response::CreateHandlers(vec![])),
        (
            Opcode::NewHttpHandler,
            Response::NewHttpHandler(String::new()),
        ),
        (
            Opcode::WaitForEvent,
            Response::WaitForEvent(VmEvent::StateSyncDone),
        ),
        (Opcode::Connected, Response::Empty),
        (Opcode::Disconnected, Response::Empty),
        (Opcode::BuildBlock, Response::Block(Ok(block(3)))),
        (
            Opcode::BuildBlock,
            Response::Block(Err(VmErrorCode::Internal)),
        ),
        (Opcode::ParseBlock, Response::Block(Ok(block(4)))),
        (
            Opcode::GetBlock,
            Response::Block(Err(VmErrorCode::Other(9))),
        ),
        (Opcode::SetPreference, Response::Empty),
        (
            Opcode::Health,
            Response::Health(b"{\"healthy\":true}".to_vec()),
        ),
        (Opcode::Version, Response::Version("stampvm/0.1.0".into())),
        (Opcode::AppRequest, Response::Empty),
        (Opcode::AppRequestFailed, Response::Empty),
        (Opcode::AppResponse, Response::Empty),
        (Opcode::AppGossip, Response::Empty),
        (Opcode::Gather, Response::Empty),
        (
            Opcode::GetAncestors,
            Response::GetAncestors(vec![vec![1], vec![2, 2]]),
        ),
        (
            Opcode::BatchedParseBlock,
            Response::BatchedParseBlock(vec![Ok(block(5)), Err(VmErrorCode::Closed)]),
        ),
        (
            Opcode::GetBlockIdAtHeight,
            Response::BlockIdAtHeight(Ok(Id([7; 32]))),
        ),
        (
            Opcode::GetBlockIdAtHeight,
            Response::BlockIdAtHeight(Err(VmErrorCode::NotFound)),
        ),
        (
            Opcode::StateSyncEnabled,
            Response::StateSyncEnabled(Ok(true)),
        ),
        (
            Opcode::StateSyncEnabled,
            Response::StateSyncEnabled(Err(VmErrorCode::StateSyncNotImplemented)),
        ),
        (
            Opcode::GetOngoingSyncStateSummary,
            Response::Summary(Err(VmErrorCode::NotFound)),
        ),
        (
            Opcode::GetLastStateSummary,
            Response::Summary(Ok(summary.clone())),
        ),
        (Opcode::ParseStateSummary, Response::Summary(Ok(summary))),
        (
            Opcode::GetStateSummary,
            Response::Summary(Err(VmErrorCode::StateSyncNotImplemented)),
        ),
        (Opcode::BlockVerify, Response::Empty),
        (Opcode::BlockAccept, Response::Empty),
        (Opcode::BlockReject, Response::Empty),
        (
            Opcode::StateSummaryAccept,
            Response::StateSummaryAccept(Ok(StateSyncMode::Dynamic)),
        ),
        (
            Opcode::StateSummaryAccept,
            Response::StateSummaryAccept(Err(VmErrorCode::StateSyncNotImplemented)),
        ),
        (Opcode::SetQuasarFinalized, Response::Empty),
        (Opcode::QuasarHeight, Response::QuasarHeight(1234)),
    ]
}

#[test]
fn every_response_round_trips_through_a_frame() {
    let responses = all_responses();
    let mut seen: Vec<Opcode> = responses.iter().map(|(op, _)| *op).collect();
    seen.dedup();
    assert_eq!(seen, Opcode::ALL, "every opcode's answer, in order");
    for (n, (opcode, response)) in responses.into_iter().enumerate() {
        let bytes = response.to_frame(opcode, n as u32).encode().unwrap();
        assert_eq!(bytes[4], opcode.as_u8() | 0x80);
        let frame = Frame::decode(&bytes).unwrap();
        assert_eq!(Response::from_frame(opcode, &frame), Ok(Ok(response)));
    }
}

#[test]
fn initialize_accepts_the_thirteen_field_form() {
    let request = full_initialize(InitializeTail::None);
    let body = request.encode();
    assert_eq!(InitializeRequest::decode(&body), Ok(request));
}

#[test]
fn initialize_accepts_the_legacy_network_upgrades_form() {
    let request = full_initialize(InitializeTail::LegacyNetworkUpgrades(legacy_upgrades()));
    let body = request.encode();
    let thirteen = full_initialize(InitializeTail::None).encode();
    assert_eq!(
        body.len() - thirteen.len(),
        124 + 32,
        "124 + stop vertex bytes"
    );
    assert_eq!(InitializeRequest::decode(&body), Ok(request));
    // All-zero times (a dev net) are still read as the legacy block, not as empty fields 14-16.
    let zero = full_initialize(InitializeTail::LegacyNetworkUpgrades(
        LegacyNetworkUpgrades::default(),
    ));
    assert_eq!(InitializeRequest::decode(&zero.encode()), Ok(zero));
}

#[test]
fn initialize_reads_fields_fourteen_to_sixteen_only_when_present() {
    let mut body = full_initialize(InitializeTail::None).encode();
    body.extend_from_slice(&[0, 0, 0, 3]);
    body.extend_from_slice(b"a:1");
    let decoded = InitializeRequest::decode(&body).unwrap();
    assert_eq!(
        decoded.tail,
        InitializeTail::Services(ChainServices {
            atomic_server_addr: "a:1".into(),
            ..ChainServices::default()
        })
    );
    // Bytes a later build appends after field 16 are ignored.
    let mut longer = full_initialize(InitializeTail::Services(ChainServices::default())).encode();
    longer.extend_from_slice(&[0, 0, 0, 0, 0xde, 0xad]);
    assert_eq!(
        InitializeRequest::decode(&longer).unwrap().tail,
        InitializeTail::Services(ChainServices::default())
    );
}

#[test]
fn an_initialize_tail_fitting_no_layout_is_kept_but_not_read() {
    let mut body = full_initialize(InitializeTail::None).encode();
    // Field 14 empty, then a D-chain ID of 5 bytes: not a valid field 15.
    body.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5]);
    let decoded = InitializeRequest::decode(&body).unwrap();
    assert_eq!(
        decoded.tail,
        InitializeTail::Unrecognized(vec![0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5])
    );
    assert_eq!(decoded.encode(), body);
}

#[test]
fn initialize_fields_one_to_thirteen_are_strict() {
    let body = full_initialize(InitializeTail::None).encode();
    for cut in 0..body.len() {
        assert!(
            InitializeRequest::decode(&body[..cut]).is_err(),
            "a body cut at {cut} must not decode"
        );
    }
    let mut short_chain = body.clone();
    short_chain[4..8].copy_from_slice(&31u32.to_be_bytes());
    assert!(matches!(
        InitializeRequest::decode(&short_chain),
        Err(BodyError::Length {
            field: "ChainID",
            expected: 32,
            found: 31
        })
    ));
}

#[test]
fn initialize_response_without_capabilities_reads_zero() {
    let full = InitializeResponse {
        last_accepted_id: Id([1; 32]),
        parent_id: Id::EMPTY,
        height: 1,
        block_bytes: vec![2],
        timestamp_ns: 3,
        capabilities: CAP_STATE_SYNC,
    };
    let body = full.encode();
    let without = InitializeResponse::decode(&body[..body.len() - 8]).unwrap();
    assert_eq!(without.capabilities, 0);
    let mut longer = body.clone();
    longer.extend_from_slice(&[0xff; 3]);
    assert_eq!(InitializeResponse::decode(&longer), Ok(full));
    let mut short_id = body;
    short_id[3] = 31;
    assert!(InitializeResponse::decode(&short_id).is_err());
}

#[test]
fn build_block_accepts_the_api_request_form() {
    let decode = |body: &[u8]| Request::decode(Opcode::BuildBlock, body).unwrap();
    let height = |h: Option<u64>| Request::BuildBlock(BuildBlockRequest { p_chain_height: h });
    assert_eq!(decode(&[]), height(None));
    assert_eq!(decode(&[0]), height(None));
    assert_eq!(decode(&[1, 0, 0, 0, 0, 0, 0, 0, 9]), height(Some(9)));
    assert_eq!(
        decode(&[1, 0, 0]),
        height(None),
        "flag without room for a height"
    );
}

#[test]
fn a_response_flagged_frame_is_not_a_request() {
    let frame = Response::Empty.to_frame(Opcode::SetState, 2);
    assert_eq!(
        Request::from_frame(&frame),
        Err(MessageError::NotARequest {
            request_id: 2,
            kind: FrameKind::Success
        })
    );
    let error = Frame::error(Opcode::Version.as_u8(), 3, "boom");
    assert!(matches!(
        Request::from_frame(&error),
        Err(MessageError::NotARequest {
            kind: FrameKind::Error,
            ..
        })
    ));
}

#[test]
fn a_request_frame_or_another_opcode_is_not_the_expected_answer() {
    let request = Request::Version.to_frame(5);
    assert_eq!(
        Response::from_frame(Opcode::Version, &request),
        Err(MessageError::NotAResponse { request_id: 5 })
    );
    let other = Response::Empty.to_frame(Opcode::Shutdown, 5);
    assert_eq!(
        Response::from_frame(Opcode::Version, &other),
        Err(MessageError::OpcodeMismatch {
            request_id: 5,
            expected: Opcode::Version,
            found: 3
        })
    );
}

#[test]
fn unknown_opcodes_are_reported_with_their_request_id() {
    for opcode in [0u8, 32, 40, 53, 63] {
        let frame = Frame::request(opcode, 17, vec![]);
        assert_eq!(
            Request::from_frame(&frame),
            Err(MessageError::UnknownOpcode {
                request_id: 17,
                opcode
            })
        );
    }
}

#[test]
fn truncated_request_bodies_are_refused() {
    for request in all_requests() {
        let body = request.encode_body();
        let lenient = matches!(request, Request::BuildBlock(_) | Request::Gather);
        if body.is_empty() || lenient {
            continue;
        }
        for cut in 0..body.len() {
            let decoded = Request::decode(request.opcode(), &body[..cut]);
            let lenient_tail = matches!(request, Request::Initialize(_)) && decoded.is_ok();
            assert!(
                decoded.is_err() || lenient_tail,
                "{:?} cut at {cut} decoded as {decoded:?}",
                request.opcode()
            );
        }
    }
    let verify = Frame::request(Opcode::BlockVerify.as_u8(), 10, vec![0, 0, 0, 1, 0xaa]);
    assert!(matches!(
        Request::from_frame(&verify),
        Err(MessageError::Body {
            request_id: 10,
            opcode: Opcode::BlockVerify,
            source: BodyError::Truncated {
                field: "hasPChainHeight",
                ..
            }
        })
    ));
}

#[test]
fn truncated_response_bodies_are_refused() {
    for (opcode, response) in all_responses() {
        let body = response.encode_body();
        let ignored = matches!(opcode, Opcode::SetState | Opcode::BlockVerify);
        for cut in 0..body.len() {
            let decoded = Response::decode(opcode, &body[..cut]);
            // Initialize's response may end before `capabilities`.
            let optional_tail = opcode == Opcode::Initialize && cut >= body.len() - 8;
            assert!(
                decoded.is_err() || ignored || optional_tail,
                "{opcode:?} cut at {cut} decoded as {decoded:?}"
            );
        }
    }
}

#[test]
fn trailing_bytes_are_refused_where_the_layout_is_closed() {
    let mut body = Request::GetBlock(Id([1; 32])).encode_body();
    body.push(0);
    assert_eq!(
        Request::decode(Opcode::GetBlock, &body),
        Err(BodyError::TrailingBytes { count: 1 })
    );
    assert_eq!(
        Request::decode(Opcode::Shutdown, &[0]),
        Err(BodyError::TrailingBytes { count: 1 })
    );
    assert_eq!(
        Response::decode(Opcode::WaitForEvent, &[1, 1]),
        Err(BodyError::TrailingBytes { count: 1 })
    );
    // luxd ignores SetState's and BlockVerify's answer bodies; so do we.
    assert_eq!(
        Response::decode(Opcode::SetState, &[1, 2]),
        Ok(Response::Empty)
    );
    assert_eq!(
        Response::decode(Opcode::BlockVerify, &7i64.to_be_bytes()),
        Ok(Response::Empty)
    );
}

#[test]
fn undefined_enum_values_are_refused() {
    assert!(matches!(
        Request::decode(Opcode::SetState, &[8]),
        Err(BodyError::UnknownValue {
            field: "state",
            value: 8
        })
    ));
    assert!(matches!(
        Response::decode(Opcode::WaitForEvent, &[0]),
        Err(BodyError::UnknownValue {
            field: "event",
            value: 0
        })
    ));
    assert!(matches!(
        Response::decode(Opcode::StateSummaryAccept, &[3, 0]),
        Err(BodyError::UnknownValue {
            field: "mode",
            value: 3
        })
    ));
}

#[test]
fn a_successful_block_needs_thirty_two_byte_ids_but_a_failed_one_does_not() {
    let mut ok = Response::Block(Ok(block(1))).encode_body();
    ok[3] = 31; // the ID's length prefix
    assert!(Response::decode(Opcode::GetBlock, &ok).is_err());
    let failed = Response::Block(Err(VmErrorCode::NotFound)).encode_body();
    assert_eq!(&failed[..12], &[0; 12], "empty id, parent and bytes");
}

/// Arbitrary bodies under every opcode: a value or an error, never a panic.
#[test]
fn arbitrary_bodies_never_panic() {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..4_000usize {
        let len = round % 70;
        let body: Vec<u8> = (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Mostly small bytes, so lengths and counts sometimes fit.
                if i % 4 == 3 {
                    state as u8
                } else {
                    (state % 3) as u8
                }
            })
            .collect();
        for opcode in Opcode::ALL {
            let _ = Request::decode(opcode, &body);
            let _ = Response::decode(opcode, &body);
        }
    }
}
