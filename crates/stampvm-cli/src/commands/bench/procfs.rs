//! What the kernel says about the plugin process (Linux `/proc`): resident memory and CPU time.
//! `None` where `/proc` is missing or the process is gone; the bench reports what it could read.

/// Resident set size in KiB (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User plus system CPU time in seconds (`utime` + `stime` of `/proc/<pid>/stat`).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    cpu_from_stat(&stat, clock_ticks())
}

/// The stat line's CPU ticks (the plugin's own `process_cpu_seconds_total` reads the same fields)
/// in seconds.
fn cpu_from_stat(stat: &str, ticks_per_second: f64) -> Option<f64> {
    let ticks = stampvm::metrics::process::cpu_ticks_from_stat(stat)?;
    Some(ticks as f64 / ticks_per_second)
}

/// The unit of those fields (`CLK_TCK`, 100 on every Linux we run on).
fn clock_ticks() -> f64 {
    // SAFETY: sysconf reads a constant of the C library; it has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    match ticks > 0 {
        true => ticks as f64,
        false => 100.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let pid = std::process::id();
        assert!(rss_kib(pid).is_some_and(|kib| kib > 0));
        assert!(cpu_seconds(pid).is_some());
    }
}
