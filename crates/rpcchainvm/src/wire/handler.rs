//! `vm.Handler`. Profile 28 has `prefix` 1, `lock_options` 2 (varint), `server_addr` 3; from 29
//! it is `prefix` 1, `server_addr` 2 (string) (profiles.md 3.2). The two field-2s differ in wire
//! type, so one decoder reads both and remembers which it saw; the encoder writes the layout the
//! value was built for.

use crate::protocol::HandlerLayout;
use prost::bytes::{Buf, BufMut};
use prost::encoding::{skip_field, string, uint32, DecodeContext, WireType};
use prost::DecodeError;

/// `lock_options` value telling a profile-28 node to hold no chain lock while serving a request.
/// 0 (the proto3 default) is WriteLock, which would block consensus for every HTTP call.
pub const NO_LOCK: u32 = 2;

/// One HTTP handler of `CreateHandlers` / `CreateStaticHandlers`.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Handler {
    /// `""` or a path starting with `/`, appended to `/ext/bc/<chainID>` (or `/ext/vm/<vmID>`).
    pub prefix: String,
    /// The plugin's `http.HTTP` server for this prefix.
    pub server_addr: String,
    /// `Some` in profile 28's layout (then `server_addr` travels in field 3), `None` in 29+.
    pub lock_options: Option<u32>,
}

impl Handler {
    /// A handler in `layout`; profile 28's carries `NO_LOCK`.
    pub fn new(layout: HandlerLayout, prefix: &str, server_addr: &str) -> Handler {
        Handler {
            prefix: prefix.into(),
            server_addr: server_addr.into(),
            lock_options: match layout {
                HandlerLayout::WithLockOptions => Some(NO_LOCK),
                HandlerLayout::Plain => None,
            },
        }
    }

    /// The layout the bytes had (or will have). A profile-28 handler whose `lock_options` is 0
    /// is not on the wire at all and so reads as [`HandlerLayout::Plain`] with field 3 set;
    /// `Handler::addr_field` tells that case apart.
    pub fn layout(&self) -> HandlerLayout {
        match self.lock_options {
            Some(_) => HandlerLayout::WithLockOptions,
            None => HandlerLayout::Plain,
        }
    }

    fn addr_field(&self) -> u32 {
        match self.lock_options {
            Some(_) => 3,
            None => 2,
        }
    }
}

impl prost::Message for Handler {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if !self.prefix.is_empty() {
            string::encode(1, &self.prefix, buf);
        }
        if let Some(lock) = self.lock_options.filter(|lock| *lock != 0) {
            uint32::encode(2, &lock, buf);
        }
        if !self.server_addr.is_empty() {
            string::encode(self.addr_field(), &self.server_addr, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match (tag, wire_type) {
            (1, _) => string::merge(wire_type, &mut self.prefix, buf, ctx),
            (2, WireType::Varint) => {
                let lock = self.lock_options.get_or_insert(0);
                uint32::merge(wire_type, lock, buf, ctx)
            }
            (2, _) => string::merge(wire_type, &mut self.server_addr, buf, ctx),
            (3, _) => {
                self.lock_options.get_or_insert(0);
                string::merge(wire_type, &mut self.server_addr, buf, ctx)
            }
            _ => skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        let prefix = match self.prefix.is_empty() {
            true => 0,
            false => string::encoded_len(1, &self.prefix),
        };
        let lock = self
            .lock_options
            .filter(|lock| *lock != 0)
            .map_or(0, |lock| uint32::encoded_len(2, &lock));
        let addr = match self.server_addr.is_empty() {
            true => 0,
            false => string::encoded_len(self.addr_field(), &self.server_addr),
        };
        prefix + lock + addr
    }

    fn clear(&mut self) {
        *self = Handler::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    // vectors.md section 4: `vm.Handler` (28) and (29-45).
    #[test]
    fn both_layouts_match_the_vectors_and_round_trip() {
        let old = Handler::new(HandlerLayout::WithLockOptions, "/rpc", "127.0.0.1:40002");
        let new = Handler::new(HandlerLayout::Plain, "/rpc", "127.0.0.1:40002");
        assert_eq!(
            hex(&old.encode_to_vec()),
            "0a042f72706310021a0f3132372e302e302e313a3430303032"
        );
        assert_eq!(
            hex(&new.encode_to_vec()),
            "0a042f727063120f3132372e302e302e313a3430303032"
        );
        for handler in [old, new] {
            let bytes = handler.encode_to_vec();
            assert_eq!(bytes.len(), handler.encoded_len());
            assert_eq!(Handler::decode(bytes.as_slice()).unwrap(), handler);
        }
    }

    // A 28 handler that left lock_options at WriteLock (0) has only fields 1 and 3 on the wire.
    #[test]
    fn write_lock_28_handler_is_recognised_by_field_3() {
        let write_lock = [0x1a, 0x03, b'a', b':', b'1'];
        let handler = Handler::decode(write_lock.as_slice()).unwrap();
        assert_eq!(handler.lock_options, Some(0));
        assert_eq!(handler.server_addr, "a:1");
    }
}
