//! How far the last accepted block's time is ahead of the local clock, published as a gauge and
//! warned about. Block times only move forward along the chain, so after the local clock steps
//! back (or after an NTP correction of a clock that ran fast) the tip is ahead of it: blocks
//! built here then take their parent's time, and once the tip is an hour or more ahead no block
//! can be built or verified here at all (the Go reference's rules, `chain::verify`) until the
//! clock catches up. Nothing else would say so: the chain just stops.

use crate::chain::MAX_FUTURE_SECS;
use std::time::{Duration, Instant};

/// Below this lead the tip is in step with the clock: validators' clocks differ by a few seconds.
pub const WARN_AHEAD_SECS: i64 = 60;
/// At most one warning this often while the tip stays ahead: a stalled chain is asked to build
/// over and over, and each attempt would otherwise log.
pub const WARN_EVERY: Duration = Duration::from_secs(60);

/// The tip's lead over the local clock, as far as it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockLead {
    /// Not ahead, or by less than [`WARN_AHEAD_SECS`].
    InStep,
    /// Ahead by `secs`: blocks built here take their parent's time.
    Ahead { secs: i64 },
    /// An hour or more ahead: nothing can be built or verified until the clock reaches
    /// `resumes_at`.
    Stalled { secs: i64, resumes_at: i64 },
}

impl ClockLead {
    pub fn of(tip_timestamp: i64, now: i64) -> ClockLead {
        let secs = tip_timestamp.saturating_sub(now);
        if secs >= MAX_FUTURE_SECS {
            let resumes_at = tip_timestamp
                .saturating_sub(MAX_FUTURE_SECS)
                .saturating_add(1);
            ClockLead::Stalled { secs, resumes_at }
        } else if secs >= WARN_AHEAD_SECS {
            ClockLead::Ahead { secs }
        } else {
            ClockLead::InStep
        }
    }
}

/// Publishes the lead and decides when to warn about it.
#[derive(Debug, Default)]
pub struct ClockWatch {
    last_warning: Option<Instant>,
}

impl ClockWatch {
    /// Records the lead of a tip with `tip_timestamp` over local time `now` (the gauge, and a
    /// warning at most every [`WARN_EVERY`], `at` being the present instant), and returns it.
    pub fn observe(&mut self, tip_timestamp: i64, now: i64, at: Instant) -> ClockLead {
        let ahead = tip_timestamp.saturating_sub(now).max(0);
        metrics::gauge!(crate::metrics::TIP_AHEAD_OF_CLOCK_SECONDS).set(ahead as f64);
        let lead = ClockLead::of(tip_timestamp, now);
        if self.should_warn(lead, at) {
            warn(lead, tip_timestamp, now);
        }
        lead
    }

    fn should_warn(&mut self, lead: ClockLead, at: Instant) -> bool {
        if lead == ClockLead::InStep {
            if self.last_warning.take().is_some() {
                tracing::info!("the local clock is in step with the chain's tip again");
            }
            return false;
        }
        let due = self
            .last_warning
            .is_none_or(|last| at.saturating_duration_since(last) >= WARN_EVERY);
        if due {
            self.last_warning = Some(at);
        }
        due
    }
}

fn warn(lead: ClockLead, tip_timestamp: i64, now: i64) {
    match lead {
        ClockLead::InStep => {}
        ClockLead::Ahead { secs } => tracing::warn!(
            tip_timestamp,
            local_time = now,
            ahead_secs = secs,
            "the last accepted block's time is ahead of this machine's clock (stepped back, or \
             corrected after running fast?): blocks built here take their parent's time until the \
             clock catches up; check the clock and NTP"
        ),
        ClockLead::Stalled { secs, resumes_at } => tracing::warn!(
            tip_timestamp,
            local_time = now,
            ahead_secs = secs,
            resumes_at,
            "the last accepted block's time is an hour or more ahead of this machine's clock: no \
             block can be built or verified here (the rules refuse a block an hour ahead of local \
             time, or older than its parent) until the clock reaches resumes_at; check the clock \
             and NTP"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIP: i64 = 1_700_000_000;

    #[test]
    fn lead_thresholds() {
        assert_eq!(ClockLead::of(TIP, TIP + 100), ClockLead::InStep);
        assert_eq!(ClockLead::of(TIP, TIP - 59), ClockLead::InStep);
        assert_eq!(ClockLead::of(TIP, TIP - 60), ClockLead::Ahead { secs: 60 });
        assert_eq!(
            ClockLead::of(TIP, TIP - 3599),
            ClockLead::Ahead { secs: 3599 }
        );
        assert_eq!(
            ClockLead::of(TIP, TIP - 3600),
            ClockLead::Stalled {
                secs: 3600,
                resumes_at: TIP - 3599
            }
        );
    }

    // A stalled chain is asked to build again and again: one warning a minute, not one a call;
    // back in step, the next lead warns at once.
    #[test]
    fn warnings_are_rate_limited() {
        let mut watch = ClockWatch::default();
        let start = Instant::now();
        let stalled = ClockLead::of(TIP, TIP - 7200);
        assert!(watch.should_warn(stalled, start));
        for secs in [0, 1, 30, 59] {
            let at = start + Duration::from_secs(secs);
            assert!(!watch.should_warn(stalled, at), "{secs} s later");
        }
        assert!(watch.should_warn(stalled, start + WARN_EVERY));
        let later = start + WARN_EVERY + Duration::from_secs(1);
        assert!(!watch.should_warn(ClockLead::InStep, later));
        assert!(watch.should_warn(ClockLead::Ahead { secs: 61 }, later));
    }
}
