//! The local clock as block timestamps use it: whole Unix seconds.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Now, in Unix seconds (0 if the clock is set before 1970, which no verification rule trusts).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Where the chain reads the time. Every running node reads the machine's clock; a test hands
/// the chain a [`Clock::Manual`] it moves by hand, to play a clock that jumped, without a global
/// mock and without touching the machine's clock.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    /// Reads the value inside, in Unix seconds, whatever it is set to meanwhile.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        match self {
            Clock::System => unix_now(),
            Clock::Manual(secs) => secs.load(Ordering::Relaxed),
        }
    }
}
