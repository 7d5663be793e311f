//! The ZAP bootstrap handshake (docs/spec/luxd-zap.md §2.2): the plugin dials the engine address
//! and writes one message, `u32 BE len | u32 BE protocol | address` with `len = 4 + len(address)`;
//! luxd answers one byte `0x01` if `protocol` is its own (42, exact match) and closes. On a
//! mismatch luxd writes nothing and closes, so the plugin sees end of stream.

/// The RPCChainVM protocol number every ZAP-speaking luxd announces and checks exactly
/// (docs/spec/luxd-zap.md §1.1, §2.2).
pub const ZAP_PROTOCOL: u32 = 42;

/// luxd's only acceptance answer.
pub const ACK_BYTE: u8 = 0x01;

/// `len` and `protocol`: what luxd reads before the address.
pub const HELLO_HEADER_LEN: usize = 8;

/// The longest address we write or accept. Our own bound (the spec gives none): a TCP
/// `host:port` or a unix socket path is far shorter, and a host must not let a plugin's `len`
/// size its buffer.
pub const MAX_ADDRESS_LEN: usize = 4096;

/// Why the handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// luxd closed without answering: how it refuses a protocol it does not speak.
    #[error("the node closed the bootstrap connection without acknowledging (it refuses this RPCChainVM protocol, {ZAP_PROTOCOL} expected)")]
    ClosedWithoutAck,
    #[error("the node answered {0:#04x} instead of the acknowledgement 0x01")]
    WrongAck(u8),
    /// `len < 4`: the spec leaves it undefined (docs/spec/luxd-zap.md §2.2 ⚠), we refuse it.
    #[error("handshake length {0} cannot hold the 4-byte protocol number")]
    LengthTooShort(u32),
    #[error("handshake address of {len} bytes exceeds the {max}-byte limit")]
    AddressTooLong { len: usize, max: usize },
    #[error("handshake address is not UTF-8")]
    AddressNotUtf8,
    #[error("handshake ended after {have} of {need} bytes")]
    Truncated { have: usize, need: usize },
    #[error("{count} bytes follow the handshake message")]
    TrailingBytes { count: usize },
}

/// What the plugin tells luxd: its protocol and where it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginHello {
    pub protocol: u32,
    /// `127.0.0.1:PORT` or a unix socket path, ASCII, no terminator.
    pub address: String,
}

impl PluginHello {
    /// The hello this build sends: protocol [`ZAP_PROTOCOL`] and `address`.
    pub fn new(address: impl Into<String>) -> PluginHello {
        PluginHello {
            protocol: ZAP_PROTOCOL,
            address: address.into(),
        }
    }

    /// The bytes the plugin writes.
    pub fn encode(&self) -> Result<Vec<u8>, HandshakeError> {
        let address = self.address.as_bytes();
        if address.len() > MAX_ADDRESS_LEN {
            return Err(HandshakeError::AddressTooLong {
                len: address.len(),
                max: MAX_ADDRESS_LEN,
            });
        }
        let len = (4 + address.len()) as u32;
        let mut out = Vec::with_capacity(HELLO_HEADER_LEN + address.len());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.protocol.to_be_bytes());
        out.extend_from_slice(address);
        Ok(out)
    }

    /// How many address bytes follow the 8-byte header, as a host reads it (8 bytes, then
    /// `len − 4`).
    pub fn address_len(header: [u8; HELLO_HEADER_LEN]) -> Result<usize, HandshakeError> {
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let address_len = len
            .checked_sub(4)
            .ok_or(HandshakeError::LengthTooShort(len))? as usize;
        if address_len > MAX_ADDRESS_LEN {
            return Err(HandshakeError::AddressTooLong {
                len: address_len,
                max: MAX_ADDRESS_LEN,
            });
        }
        Ok(address_len)
    }

    /// Exactly one hello message (the host side; a host that reads in two steps uses
    /// [`PluginHello::address_len`] first). The protocol is returned as sent, not checked:
    /// whether to acknowledge is the host's decision.
    pub fn decode(bytes: &[u8]) -> Result<PluginHello, HandshakeError> {
        let header: [u8; HELLO_HEADER_LEN] = bytes
            .get(..HELLO_HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(HandshakeError::Truncated {
                have: bytes.len(),
                need: HELLO_HEADER_LEN,
            })?;
        let address_len = PluginHello::address_len(header)?;
        let need = HELLO_HEADER_LEN + address_len;
        let address = bytes
            .get(HELLO_HEADER_LEN..need)
            .ok_or(HandshakeError::Truncated {
                have: bytes.len(),
                need,
            })?;
        if bytes.len() > need {
            return Err(HandshakeError::TrailingBytes {
                count: bytes.len() - need,
            });
        }
        let address = std::str::from_utf8(address)
            .map_err(|_| HandshakeError::AddressNotUtf8)?
            .to_owned();
        Ok(PluginHello {
            protocol: u32::from_be_bytes([header[4], header[5], header[6], header[7]]),
            address,
        })
    }
}

/// Judges luxd's answer: `None` is end of stream before any byte (luxd's refusal).
pub fn check_ack(answer: Option<u8>) -> Result<(), HandshakeError> {
    match answer {
        Some(ACK_BYTE) => Ok(()),
        Some(other) => Err(HandshakeError::WrongAck(other)),
        None => Err(HandshakeError::ClosedWithoutAck),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/spec/luxd-zap-vectors.txt "handshake plugin->node" (docs/spec/luxd-zap.md §4.1).
    const HELLO_127_0_0_1_40000: &str = "00000013 0000002a 3132372e 302e302e 313a3430 303030";
    /// docs/spec/luxd-zap-vectors.txt "handshake ACK node->plugin".
    const ACK: &str = "01";

    fn hex(text: &str) -> Vec<u8> {
        hex::decode(text.replace(' ', "")).unwrap()
    }

    #[test]
    fn the_hello_matches_the_spec_vector_both_ways() {
        let hello = PluginHello::new("127.0.0.1:40000");
        assert_eq!(hello.encode().unwrap(), hex(HELLO_127_0_0_1_40000));
        assert_eq!(PluginHello::decode(&hex(HELLO_127_0_0_1_40000)), Ok(hello));
    }

    #[test]
    fn the_ack_vector_is_accepted() {
        assert_eq!(hex(ACK), vec![ACK_BYTE]);
        assert_eq!(check_ack(Some(hex(ACK)[0])), Ok(()));
    }

    #[test]
    fn a_wrong_byte_or_end_of_stream_is_a_failed_handshake() {
        assert_eq!(check_ack(Some(0)), Err(HandshakeError::WrongAck(0)));
        assert_eq!(check_ack(Some(2)), Err(HandshakeError::WrongAck(2)));
        assert_eq!(check_ack(None), Err(HandshakeError::ClosedWithoutAck));
    }

    #[test]
    fn a_host_reads_the_header_then_the_address() {
        let bytes = hex(HELLO_127_0_0_1_40000);
        let header: [u8; 8] = bytes[..8].try_into().unwrap();
        assert_eq!(PluginHello::address_len(header), Ok(15));
    }

    #[test]
    fn malformed_hellos_are_refused() {
        let mut short_len = hex(HELLO_127_0_0_1_40000);
        short_len[..4].copy_from_slice(&3u32.to_be_bytes());
        assert_eq!(
            PluginHello::decode(&short_len),
            Err(HandshakeError::LengthTooShort(3))
        );
        let full = hex(HELLO_127_0_0_1_40000);
        assert_eq!(
            PluginHello::decode(&full[..5]),
            Err(HandshakeError::Truncated { have: 5, need: 8 })
        );
        assert_eq!(
            PluginHello::decode(&full[..20]),
            Err(HandshakeError::Truncated { have: 20, need: 23 })
        );
        let mut extra = full.clone();
        extra.push(b'0');
        assert_eq!(
            PluginHello::decode(&extra),
            Err(HandshakeError::TrailingBytes { count: 1 })
        );
        let mut huge = full.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            PluginHello::decode(&huge),
            Err(HandshakeError::AddressTooLong { .. })
        ));
        let mut not_text = full;
        not_text[8] = 0xff;
        assert_eq!(
            PluginHello::decode(&not_text),
            Err(HandshakeError::AddressNotUtf8)
        );
    }

    #[test]
    fn another_protocol_decodes_as_sent() {
        let hello = PluginHello {
            protocol: 43,
            address: "/tmp/vm.sock".into(),
        };
        assert_eq!(PluginHello::decode(&hello.encode().unwrap()), Ok(hello));
    }
}
