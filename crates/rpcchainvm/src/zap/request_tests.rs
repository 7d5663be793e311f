//! Requests: every one survives encode → frame → decode unchanged, the bodies luxd sends have the
//! byte layout docs/spec/luxd-zap.md §2.7–2.8 gives (laid out by hand here, not by the encoder),
//! and malformed requests are refused with the error that names them. `Initialize`'s three
//! layouts are all accepted.

use super::*;
use crate::ids::{Id, NodeId};

/// `u32 BE`.
pub(super) fn be32(n: u32) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

/// A length-prefixed `bytes`/`string` field, laid out by hand.
pub(super) fn lp(raw: &[u8]) -> Vec<u8> {
    [be32(raw.len() as u32), raw.to_vec()].concat()
}

fn node() -> NodeId {
    NodeId([7; 20])
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

/// The bodies of the requests luxd sends, each against its hand-laid layout.
#[test]
fn request_bodies_have_the_spec_layout() {
    let id = Id([0x42; 32]);
    let cases: Vec<(Request, Vec<u8>)> = vec![
        (
            Request::Connected(ConnectedRequest {
                node_id: node(),
                name: "luxd".into(),
                major: 1,
                minor: 36,
                patch: 184,
            }),
            [lp(&[7; 20]), lp(b"luxd"), be32(1), be32(36), be32(184)].concat(),
        ),
        (Request::Disconnected(node()), lp(&[7; 20])),
        (Request::ParseBlock(vec![1, 2, 3]), lp(&[1, 2, 3])),
        (Request::GetBlock(id), lp(&[0x42; 32])),
        (Request::SetPreference(id), lp(&[0x42; 32])),
        (Request::BlockReject(id), lp(&[0x42; 32])),
        (
            Request::GetBlockIdAtHeight(0x0102),
            0x0102u64.to_be_bytes().to_vec(),
        ),
        (
            Request::BlockVerify(BlockVerifyRequest {
                block: vec![9],
                p_chain_height: Some(3),
            }),
            [lp(&[9]), vec![1], 3u64.to_be_bytes().to_vec()].concat(),
        ),
        (
            Request::BuildBlock(BuildBlockRequest {
                p_chain_height: Some(3),
            }),
            [vec![1], 3u64.to_be_bytes().to_vec()].concat(),
        ),
        (Request::SetState(VmState::Ready), vec![4]),
        (Request::Shutdown, vec![]),
        (Request::CreateHandlers, vec![]),
        (Request::Health, vec![]),
    ];
    for (request, layout) in cases {
        assert_eq!(request.encode_body(), layout, "{:?}", request.opcode());
        assert_eq!(Request::decode(request.opcode(), &layout), Ok(request));
    }
}
