//! The field encodings every ZAP message body is made of (docs/spec/luxd-zap.md §2.6): big-endian
//! fixed-width integers, `bool` as one byte, `bytes`/`string` as `u32 len | raw`, lists as
//! `u32 count | elements`, IDs as 32-byte `bytes`, node IDs as 20-byte `bytes`.
//!
//! The reader never panics and never allocates more than the input holds: every length and count
//! is checked against the bytes that remain before anything is read or reserved.

use crate::ids::{Id, NodeId};

/// Why a message body does not fit its layout. `field` names the field being read, in the spec's
/// words, so an error points at the byte that broke it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("{field}: needs {needed} more bytes, {remaining} remain")]
    Truncated {
        field: &'static str,
        needed: usize,
        remaining: usize,
    },
    #[error("{field}: expected {expected} bytes, found {found}")]
    Length {
        field: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("{field}: list of {count} elements cannot fit in the {remaining} bytes that remain")]
    CountTooLarge {
        field: &'static str,
        count: u32,
        remaining: usize,
    },
    #[error("{field}: not UTF-8")]
    NotUtf8 { field: &'static str },
    #[error("{field}: value {value} is not defined")]
    UnknownValue { field: &'static str, value: u64 },
    #[error("{count} bytes after the last field")]
    TrailingBytes { count: usize },
}

/// Reads one body front to back.
pub(crate) struct BodyReader<'a> {
    rest: &'a [u8],
}

impl<'a> BodyReader<'a> {
    pub(crate) fn new(body: &'a [u8]) -> BodyReader<'a> {
        BodyReader { rest: body }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], BodyError> {
        if n > self.rest.len() {
            return Err(BodyError::Truncated {
                field,
                needed: n,
                remaining: self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], BodyError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(field, N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, BodyError> {
        Ok(self.array::<1>(field)?[0])
    }

    /// Any non-zero byte is true, as the Go reader decides.
    pub(crate) fn bool(&mut self, field: &'static str) -> Result<bool, BodyError> {
        Ok(self.u8(field)? != 0)
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, BodyError> {
        self.array(field).map(u32::from_be_bytes)
    }

    pub(crate) fn i32(&mut self, field: &'static str) -> Result<i32, BodyError> {
        self.array(field).map(i32::from_be_bytes)
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, BodyError> {
        self.array(field).map(u64::from_be_bytes)
    }

    pub(crate) fn i64(&mut self, field: &'static str) -> Result<i64, BodyError> {
        self.array(field).map(i64::from_be_bytes)
    }

    /// `u32 len | raw`, borrowed.
    pub(crate) fn bytes_ref(&mut self, field: &'static str) -> Result<&'a [u8], BodyError> {
        let len = self.u32(field)?;
        self.take(field, len as usize)
    }

    pub(crate) fn bytes(&mut self, field: &'static str) -> Result<Vec<u8>, BodyError> {
        self.bytes_ref(field).map(<[u8]>::to_vec)
    }

    /// `u32 len | UTF-8`. Go strings may hold any bytes; ours must be text, so others are refused.
    pub(crate) fn string(&mut self, field: &'static str) -> Result<String, BodyError> {
        let raw = self.bytes_ref(field)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| BodyError::NotUtf8 { field })
    }

    /// A `bytes` field that must hold exactly 32 bytes.
    pub(crate) fn id(&mut self, field: &'static str) -> Result<Id, BodyError> {
        let raw = self.bytes_ref(field)?;
        Id::from_slice(raw).ok_or(BodyError::Length {
            field,
            expected: Id::LEN,
            found: raw.len(),
        })
    }

    /// A `bytes` field that must hold exactly 20 bytes.
    pub(crate) fn node_id(&mut self, field: &'static str) -> Result<NodeId, BodyError> {
        let raw = self.bytes_ref(field)?;
        NodeId::from_slice(raw).ok_or(BodyError::Length {
            field,
            expected: NodeId::LEN,
            found: raw.len(),
        })
    }

    /// A list's `u32 count`, refused when larger than the bytes that remain (every element takes at
    /// least one byte), so a hostile count never sizes an allocation.
    pub(crate) fn count(&mut self, field: &'static str) -> Result<usize, BodyError> {
        let count = self.u32(field)?;
        if count as usize > self.rest.len() {
            return Err(BodyError::CountTooLarge {
                field,
                count,
                remaining: self.rest.len(),
            });
        }
        Ok(count as usize)
    }

    /// The end of a body whose layout has no room for more bytes.
    pub(crate) fn finish(self) -> Result<(), BodyError> {
        match self.rest.len() {
            0 => Ok(()),
            count => Err(BodyError::TrailingBytes { count }),
        }
    }

    /// The end of a body whose readers ignore anything a later build appends (only where
    /// docs/spec/luxd-zap.md §2.6/§2.8 say the node tolerates it).
    pub(crate) fn finish_lenient(self) {}
}

/// Builds one body front to back.
#[derive(Default)]
pub(crate) struct BodyWriter {
    out: Vec<u8>,
}

impl BodyWriter {
    pub(crate) fn new() -> BodyWriter {
        BodyWriter::default()
    }

    pub(crate) fn u8(&mut self, value: u8) -> &mut Self {
        self.out.push(value);
        self
    }

    pub(crate) fn bool(&mut self, value: bool) -> &mut Self {
        self.u8(u8::from(value))
    }

    pub(crate) fn u32(&mut self, value: u32) -> &mut Self {
        self.out.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn i32(&mut self, value: i32) -> &mut Self {
        self.out.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn u64(&mut self, value: u64) -> &mut Self {
        self.out.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn i64(&mut self, value: i64) -> &mut Self {
        self.out.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// `u32 len | raw`. A slice past 4 GiB cannot be framed anyway (the frame limit is 16 MiB,
    /// checked when the frame is encoded), so its length saturates instead of wrapping.
    pub(crate) fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.count(value.len());
        self.out.extend_from_slice(value);
        self
    }

    pub(crate) fn string(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    pub(crate) fn id(&mut self, value: &Id) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    pub(crate) fn node_id(&mut self, value: &NodeId) -> &mut Self {
        self.bytes(&value.0)
    }

    /// A list's `u32 count` (saturating, as [`BodyWriter::bytes`]).
    pub(crate) fn count(&mut self, count: usize) -> &mut Self {
        self.u32(u32::try_from(count).unwrap_or(u32::MAX))
    }

    pub(crate) fn raw(&mut self, value: &[u8]) -> &mut Self {
        self.out.extend_from_slice(value);
        self
    }

    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_big_endian_and_round_trip() {
        let mut w = BodyWriter::new();
        w.u8(7)
            .bool(true)
            .u32(0x0102_0304)
            .i32(-2)
            .u64(5)
            .i64(-1)
            .string("hé");
        let bytes = w.into_vec();
        assert_eq!(&bytes[2..6], &[1, 2, 3, 4]);
        let mut r = BodyReader::new(&bytes);
        assert_eq!(r.u8("a").unwrap(), 7);
        assert!(r.bool("b").unwrap());
        assert_eq!(r.u32("c").unwrap(), 0x0102_0304);
        assert_eq!(r.i32("d").unwrap(), -2);
        assert_eq!(r.u64("e").unwrap(), 5);
        assert_eq!(r.i64("f").unwrap(), -1);
        assert_eq!(r.string("g").unwrap(), "hé");
        r.finish().unwrap();
    }

    #[test]
    fn any_nonzero_byte_reads_as_true() {
        assert!(BodyReader::new(&[0x7f]).bool("flag").unwrap());
        assert!(!BodyReader::new(&[0]).bool("flag").unwrap());
    }

    #[test]
    fn a_length_past_the_end_is_truncated_not_a_panic() {
        let err = BodyReader::new(&[0, 0, 0, 9, 1, 2])
            .bytes("block")
            .unwrap_err();
        assert_eq!(
            err,
            BodyError::Truncated {
                field: "block",
                needed: 9,
                remaining: 2
            }
        );
        let err = BodyReader::new(&[0xff, 0xff, 0xff, 0xff])
            .bytes("block")
            .unwrap_err();
        assert!(matches!(err, BodyError::Truncated { .. }));
    }

    #[test]
    fn ids_must_have_their_exact_length() {
        let mut w = BodyWriter::new();
        w.bytes(&[1; 31]).bytes(&[2; 21]);
        let bytes = w.into_vec();
        let mut r = BodyReader::new(&bytes);
        assert_eq!(
            r.id("id").unwrap_err(),
            BodyError::Length {
                field: "id",
                expected: 32,
                found: 31
            }
        );
        assert_eq!(
            r.node_id("nodeID").unwrap_err(),
            BodyError::Length {
                field: "nodeID",
                expected: 20,
                found: 21
            }
        );
    }

    #[test]
    fn a_count_larger_than_the_remaining_bytes_is_refused() {
        let err = BodyReader::new(&[0xff, 0xff, 0xff, 0xff, 0])
            .count("n")
            .unwrap_err();
        assert_eq!(
            err,
            BodyError::CountTooLarge {
                field: "n",
                count: u32::MAX,
                remaining: 1
            }
        );
    }

    #[test]
    fn strict_finish_refuses_trailing_bytes() {
        let mut r = BodyReader::new(&[1, 2]);
        r.u8("x").unwrap();
        assert_eq!(r.finish(), Err(BodyError::TrailingBytes { count: 1 }));
    }

    #[test]
    fn non_utf8_strings_are_refused() {
        let mut w = BodyWriter::new();
        w.bytes(&[0xff, 0xfe]);
        let bytes = w.into_vec();
        assert_eq!(
            BodyReader::new(&bytes).string("name").unwrap_err(),
            BodyError::NotUtf8 { field: "name" }
        );
    }
}
