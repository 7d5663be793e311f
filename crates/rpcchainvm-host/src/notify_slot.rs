//! The node's Messenger queue (profiles ≤41 and luxd): `Messenger.Notify` from the plugin puts a
//! message in a slot of capacity one, and the engine drains it (node-behaviour.md section 6.1).

use std::sync::{Mutex, PoisonError};

/// The node's one-message queue between Messenger.Notify and the engine (capacity 1): a second
/// message while one waits is refused, never queued or dropped silently.
#[derive(Debug, Default)]
pub struct NotifySlot {
    slot: Mutex<Option<i32>>,
    filled: tokio::sync::Notify,
}

impl NotifySlot {
    /// Puts `message` in the slot; `false` if the slot was full.
    pub fn offer(&self, message: i32) -> bool {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() {
            return false;
        }
        *slot = Some(message);
        drop(slot);
        self.filled.notify_one();
        true
    }

    /// Empties the slot without waiting.
    pub fn take(&self) -> Option<i32> {
        self.slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Waits for a message and empties the slot. Meant for one consumer (the engine).
    pub async fn next(&self) -> i32 {
        loop {
            if let Some(message) = self.take() {
                return message;
            }
            // notify_one stores a permit if we are not waiting yet, so no wake-up is lost.
            self.filled.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The node's queue holds one message: a second offer is refused until the engine drains it.
    #[tokio::test]
    async fn notify_slot_holds_one_message() {
        let slot = NotifySlot::default();
        assert!(slot.offer(1));
        assert!(!slot.offer(1));
        assert_eq!(slot.next().await, 1);
        assert_eq!(slot.take(), None);
        assert!(slot.offer(2));
        assert_eq!(slot.take(), Some(2));
    }
}
