//! A tonic codec that passes message bytes through untouched, for [`super::VmClient::call_raw`]:
//! a test can send exactly the bytes a node of some profile would, and see exactly the bytes the
//! plugin answers, without any of the crate's message types in between (which read every
//! profile's layout and so could hide a wrong one).

use prost::bytes::{Buf, BufMut};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::Status;

/// Encodes `Vec<u8>` as the message itself and decodes the message into `Vec<u8>`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RawCodec;

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RawEncoder;

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RawDecoder;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}
