//! Framing: the header checks (zero length, too short for a request id, over the limit, an
//! undefined type byte), truncation at end of stream, streams split byte by byte or coalesced,
//! and arbitrary input never panicking (docs/spec/luxd-zap.md §2.3).

use super::frame::*;

#[test]
fn type_bytes_split_into_kind_and_opcode() {
    assert_eq!(split_type_byte(0x0e), Ok((FrameKind::Request, 0x0e)));
    assert_eq!(split_type_byte(0x8e), Ok((FrameKind::Success, 0x0e)));
    assert_eq!(split_type_byte(0xc9), Ok((FrameKind::Error, 0x09)));
    for byte in 0x40..=0x7f {
        assert_eq!(split_type_byte(byte), Err(FrameError::UnknownType(byte)));
    }
}

#[test]
fn zero_length_is_refused() {
    let bytes = [0, 0, 0, 0, 0x0e];
    assert_eq!(
        decode_frame(&bytes, MAX_PAYLOAD_LEN),
        Err(FrameError::ZeroLength)
    );
}

#[test]
fn a_length_without_room_for_the_request_id_is_refused() {
    let bytes = [0, 0, 0, 3, 0x0e, 0, 0, 1];
    assert_eq!(
        decode_frame(&bytes, MAX_PAYLOAD_LEN),
        Err(FrameError::NoRequestId { len: 3 })
    );
}

#[test]
fn the_limit_is_inclusive_and_checked_before_the_payload_arrives() {
    let at_limit = MAX_PAYLOAD_LEN.to_be_bytes();
    let header = [at_limit[0], at_limit[1], at_limit[2], at_limit[3], 0x0a];
    assert_eq!(decode_frame(&header, MAX_PAYLOAD_LEN), Ok(None));
    let over = (MAX_PAYLOAD_LEN + 1).to_be_bytes();
    let header = [over[0], over[1], over[2], over[3], 0x0a];
    assert_eq!(
        decode_frame(&header, MAX_PAYLOAD_LEN),
        Err(FrameError::OverLimit {
            len: u64::from(MAX_PAYLOAD_LEN) + 1,
            max: MAX_PAYLOAD_LEN
        })
    );
    let mut decoder = FrameDecoder::with_limit(8);
    decoder.extend(&[0, 0, 0, 9, 0x0a]);
    assert!(matches!(
        decoder.next_frame(),
        Err(FrameError::OverLimit { len: 9, max: 8 })
    ));
}

#[test]
fn error_flag_without_response_flag_is_an_unknown_type() {
    let bytes = [0, 0, 0, 4, 0x49, 0, 0, 0, 1];
    assert_eq!(Frame::decode(&bytes), Err(FrameError::UnknownType(0x49)));
}

#[test]
fn truncated_frames_wait_then_fail_at_end_of_stream() {
    let bytes = Frame::request(0x0a, 7, vec![1, 2, 3]).encode().unwrap();
    for cut in 0..bytes.len() {
        assert_eq!(decode_frame(&bytes[..cut], MAX_PAYLOAD_LEN), Ok(None));
        let mut decoder = FrameDecoder::new();
        decoder.extend(&bytes[..cut]);
        assert_eq!(decoder.next_frame(), Ok(None));
        if cut > 0 {
            assert!(matches!(
                decoder.finish(),
                Err(FrameError::Truncated { have, .. }) if have == cut
            ));
        }
        assert!(matches!(
            Frame::decode(&bytes[..cut]),
            Err(FrameError::Truncated { .. })
        ));
    }
    assert_eq!(
        Frame::decode(&bytes[..bytes.len() - 1]),
        Err(FrameError::Truncated {
            have: bytes.len() - 1,
            need: bytes.len()
        })
    );
}

#[test]
fn frames_split_byte_by_byte_or_coalesced_come_out_whole_and_in_order() {
    let frames = [
        Frame::request(6, 3, vec![]),
        Frame::success(9, 1, vec![0xaa; 300]),
        Frame::error(9, 2, "no pending data"),
    ];
    let mut stream = Vec::new();
    for frame in &frames {
        frame.encode_into(&mut stream).unwrap();
    }
    let mut byte_by_byte = FrameDecoder::new();
    let mut got = Vec::new();
    for byte in &stream {
        byte_by_byte.extend(std::slice::from_ref(byte));
        while let Some(frame) = byte_by_byte.next_frame().unwrap() {
            got.push(frame);
        }
    }
    assert_eq!(got, frames);
    byte_by_byte.finish().unwrap();

    let mut coalesced = FrameDecoder::new();
    coalesced.extend(&stream);
    let mut got = Vec::new();
    while let Some(frame) = coalesced.next_frame().unwrap() {
        got.push(frame);
    }
    assert_eq!(got, frames);
    assert_eq!(coalesced.buffered(), 0);
}

#[test]
fn a_frame_split_across_reads_after_whole_frames_completes() {
    let first = Frame::request(6, 1, vec![]).encode().unwrap();
    let second = Frame::request(10, 2, vec![0, 0, 0, 2, 7, 8])
        .encode()
        .unwrap();
    let mut decoder = FrameDecoder::new();
    let mut chunk = first.clone();
    chunk.extend_from_slice(&second[..7]);
    decoder.extend(&chunk);
    assert_eq!(
        decoder.next_frame().unwrap(),
        Some(Frame::decode(&first).unwrap())
    );
    assert_eq!(decoder.next_frame().unwrap(), None);
    assert_eq!(decoder.buffered(), 7);
    assert!(matches!(
        decoder.finish(),
        Err(FrameError::Truncated { have: 7, need: 15 })
    ));
    decoder.extend(&second[7..]);
    assert_eq!(
        decoder.next_frame().unwrap(),
        Some(Frame::decode(&second).unwrap())
    );
    assert_eq!(decoder.buffered(), 0);
    decoder.finish().unwrap();
}

#[test]
fn error_frames_carry_raw_text() {
    let frame = Frame::error(9, 9, "no pending data");
    let bytes = frame.encode().unwrap();
    assert_eq!(&bytes[5..9], &[0, 0, 0, 9]);
    assert_eq!(&bytes[9..], b"no pending data");
    assert_eq!(frame.error_text().as_deref(), Some("no pending data"));
    assert_eq!(Frame::success(9, 9, vec![]).error_text(), None);
}

#[test]
fn encoding_refuses_what_luxd_would_refuse() {
    assert_eq!(
        Frame::request(0x40, 1, vec![]).encode(),
        Err(FrameError::OpcodeOutOfRange(0x40))
    );
    let too_big = Frame::success(9, 1, vec![0; MAX_PAYLOAD_LEN as usize - 3]);
    assert!(matches!(
        too_big.encode(),
        Err(FrameError::OverLimit { .. })
    ));
    let at_limit = Frame::success(9, 1, vec![0; MAX_PAYLOAD_LEN as usize - 4]);
    assert_eq!(
        at_limit.encode().unwrap().len(),
        HEADER_LEN + MAX_PAYLOAD_LEN as usize
    );
}

#[test]
fn trailing_bytes_after_one_frame_are_reported_by_exact_decode() {
    let mut bytes = Frame::request(3, 1, vec![]).encode().unwrap();
    bytes.push(0);
    assert_eq!(
        Frame::decode(&bytes),
        Err(FrameError::TrailingBytes { count: 1 })
    );
}

/// Any bytes at all: a frame, `None`, or an error, never a panic (a cheap deterministic
/// sweep of short inputs and of pseudo-random longer ones).
#[test]
fn arbitrary_input_never_panics() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..20_000usize {
        let len = round % 40;
        let mut input = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Small lengths are likelier to complete, so keep the first bytes mostly zero.
            input.push(if input.len() < 3 {
                (state % 3) as u8
            } else {
                state as u8
            });
        }
        let mut decoder = FrameDecoder::new();
        decoder.extend(&input);
        while let Ok(Some(_)) = decoder.next_frame() {}
        let _ = decoder.finish();
        let _ = Frame::decode(&input);
    }
}
