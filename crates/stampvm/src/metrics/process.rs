//! The process's own figures under the names every Prometheus client library exports
//! (`process_*`), so the usual dashboards and alerts work on the plugin unchanged. Read from
//! Linux's `/proc/self` when a scrape or `Gather` renders the metrics; elsewhere nothing is
//! published.

/// Gauge: resident memory in bytes.
pub const RESIDENT_MEMORY_BYTES: &str = "process_resident_memory_bytes";
/// Gauge: virtual memory size in bytes.
pub const VIRTUAL_MEMORY_BYTES: &str = "process_virtual_memory_bytes";
/// Counter: user plus system CPU time, in whole seconds (the metrics facade's counters are
/// integers; over a scrape interval of a minute the rounding is under 2% of a core).
pub const CPU_SECONDS_TOTAL: &str = "process_cpu_seconds_total";
/// Gauge: open file descriptors (RocksDB's files and the sockets share one limit).
pub const OPEN_FDS: &str = "process_open_fds";
/// Gauge: the limit on open file descriptors.
pub const MAX_FDS: &str = "process_max_fds";

/// One reading of `/proc/self`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessFigures {
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    pub cpu_seconds: u64,
    pub open_fds: u64,
    pub max_fds: u64,
}

impl ProcessFigures {
    /// Reads this process's figures; `None` where `/proc` is not there (not Linux).
    pub fn read() -> Option<ProcessFigures> {
        // SAFETY: sysconf reads constants of the C library; no preconditions.
        let (page, ticks) = unsafe {
            (
                libc::sysconf(libc::_SC_PAGESIZE),
                libc::sysconf(libc::_SC_CLK_TCK),
            )
        };
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let (virtual_pages, resident_pages) = pages_from_statm(&statm)?;
        let page = u64::try_from(page).ok().filter(|&p| p > 0).unwrap_or(4096);
        let ticks = u64::try_from(ticks).ok().filter(|&t| t > 0).unwrap_or(100);
        let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we pass and nothing else.
        let max_fds = match unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } {
            0 => limit.rlim_cur,
            _ => 0,
        };
        Some(ProcessFigures {
            resident_bytes: resident_pages * page,
            virtual_bytes: virtual_pages * page,
            cpu_seconds: cpu_ticks_from_stat(&stat)? / ticks,
            open_fds,
            max_fds,
        })
    }

    /// Sets the `process_*` series to these figures.
    pub fn publish(self) {
        metrics::gauge!(RESIDENT_MEMORY_BYTES).set(self.resident_bytes as f64);
        metrics::gauge!(VIRTUAL_MEMORY_BYTES).set(self.virtual_bytes as f64);
        metrics::counter!(CPU_SECONDS_TOTAL).absolute(self.cpu_seconds);
        metrics::gauge!(OPEN_FDS).set(self.open_fds as f64);
        metrics::gauge!(MAX_FDS).set(self.max_fds as f64);
    }
}

/// Fields 1 and 2 of `/proc/self/statm`: total and resident pages.
fn pages_from_statm(statm: &str) -> Option<(u64, u64)> {
    let mut fields = statm.split_whitespace().map(str::parse::<u64>);
    Some((fields.next()?.ok()?, fields.next()?.ok()?))
}

/// Fields 14 and 15 (`utime`, `stime`) of a stat line, in clock ticks. The command name (field
/// 2) may hold spaces and parentheses, so counting starts after its last `)`, at field 3.
pub fn cpu_ticks_from_stat(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let figures = ProcessFigures::read().expect("/proc/self");
        assert!(figures.resident_bytes > 0 && figures.resident_bytes <= figures.virtual_bytes);
        assert!(figures.open_fds > 0 && figures.open_fds <= figures.max_fds);
    }

    #[test]
    fn stat_fields_are_counted_after_the_name() {
        let stat = "42 (a (weird) name) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0";
        assert_eq!(cpu_ticks_from_stat(stat), Some(400));
        assert_eq!(
            pages_from_statm("1000 250 30 4 0 60 0\n"),
            Some((1000, 250))
        );
        assert_eq!(pages_from_statm("garbage"), None);
    }
}
