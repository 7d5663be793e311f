//! Answers: every one survives encode → frame → decode unchanged, the bodies have the byte layout
//! docs/spec/luxd-zap.md §2.7–2.8 gives (laid out by hand here, not by the encoder), and
//! malformed answers are refused with the error that names them.

use super::request_tests::{be32, lp};
use super::*;
use crate::ids::Id;

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

/// The success bodies, each against its hand-laid layout.
#[test]
fn response_bodies_have_the_spec_layout() {
    let id = [0x42; 32];
    let cases: Vec<(Opcode, Response, Vec<u8>)> = vec![
        (
            Opcode::CreateHandlers,
            Response::CreateHandlers(vec![HttpHandler {
                prefix: "/rpc".into(),
                address: "127.0.0.1:4000".into(),
            }]),
            [be32(1), lp(b"/rpc"), lp(b"127.0.0.1:4000")].concat(),
        ),
        (
            Opcode::NewHttpHandler,
            Response::NewHttpHandler(String::new()),
            be32(0),
        ),
        (Opcode::Health, Response::Health(b"{}".to_vec()), lp(b"{}")),
        (
            Opcode::BuildBlock,
            Response::Block(Err(VmErrorCode::Internal)),
            [be32(0), be32(0), be32(0), vec![0; 16], vec![0, 4]].concat(),
        ),
        (
            Opcode::GetBlockIdAtHeight,
            Response::BlockIdAtHeight(Ok(Id(id))),
            [lp(&id), vec![0]].concat(),
        ),
        (
            Opcode::GetBlockIdAtHeight,
            Response::BlockIdAtHeight(Err(VmErrorCode::NotFound)),
            [be32(0), vec![2]].concat(),
        ),
        (
            Opcode::StateSyncEnabled,
            Response::StateSyncEnabled(Ok(true)),
            vec![1, 0],
        ),
        (
            Opcode::GetStateSummary,
            Response::Summary(Ok(StateSummary {
                id: Id(id),
                height: 7,
                bytes: vec![5],
            })),
            [lp(&id), 7u64.to_be_bytes().to_vec(), lp(&[5]), vec![0]].concat(),
        ),
        (
            Opcode::GetLastStateSummary,
            Response::Summary(Err(VmErrorCode::StateSyncNotImplemented)),
            [be32(0), vec![0; 8], be32(0), vec![3]].concat(),
        ),
        (
            Opcode::StateSummaryAccept,
            Response::StateSummaryAccept(Ok(StateSyncMode::Static)),
            vec![1, 0],
        ),
        (
            Opcode::GetAncestors,
            Response::GetAncestors(vec![vec![1], vec![]]),
            [be32(2), lp(&[1]), lp(&[])].concat(),
        ),
        (
            Opcode::QuasarHeight,
            Response::QuasarHeight(9),
            9u64.to_be_bytes().to_vec(),
        ),
    ];
    for (opcode, response, layout) in cases {
        assert_eq!(response.encode_body(), layout, "{opcode:?}");
        assert_eq!(Response::decode(opcode, &layout), Ok(response));
    }
}
