//! The local clock as block timestamps use it: whole Unix seconds.

/// Now, in Unix seconds (0 if the clock is set before 1970, which no verification rule trusts).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
