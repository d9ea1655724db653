//! The `process_*` metrics every Prometheus client library exports, read from
//! `/proc/self` when scraped (prometheus-client has no process collector):
//! CPU seconds, resident and virtual memory, open and maximum file
//! descriptors, threads and start time. Off Linux, none are exported.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

/// The collector (stateless: every scrape reads `/proc/self` anew).
#[derive(Debug)]
pub(crate) struct ProcessCollector;

/// What `/proc/self` says, in the units Prometheus uses.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Sample {
    cpu_seconds: f64,
    resident_bytes: f64,
    virtual_bytes: f64,
    threads: f64,
    start_time_seconds: f64,
    open_fds: f64,
    max_fds: f64,
}

/// Reads the fields of `/proc/self/stat` that follow the command's name
/// (which may hold spaces and parentheses, so it is skipped up to the last `)`).
/// `ticks` is the clock tick rate, `page` the page size, `boot` the boot time
/// (unix seconds, `/proc/stat`'s `btime`).
fn parse_stat(stat: &str, ticks: f64, page: f64, boot: f64) -> Option<Sample> {
    let after = stat.rsplit_once(')')?.1;
    // Fields from the 3rd (state) on: utime is the 14th, so index 11 here.
    let fields: Vec<&str> = after.split_whitespace().collect();
    let num = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    Some(Sample {
        cpu_seconds: (num(11)? + num(12)?) / ticks,
        threads: num(17)?,
        start_time_seconds: boot + num(19)? / ticks,
        virtual_bytes: num(20)?,
        resident_bytes: num(21)? * page,
        ..Sample::default()
    })
}

/// `/proc/stat`'s boot time, unix seconds.
fn parse_boot_time(stat: &str) -> Option<f64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// `/proc/self/limits`' soft limit on open files.
fn parse_max_fds(limits: &str) -> Option<f64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(target_os = "linux")]
fn sample() -> Option<Sample> {
    let ticks = rustix::param::clock_ticks_per_second() as f64;
    let page = rustix::param::page_size() as f64;
    let boot = parse_boot_time(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let mut s = parse_stat(
        &std::fs::read_to_string("/proc/self/stat").ok()?,
        ticks,
        page,
        boot,
    )?;
    s.open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as f64;
    s.max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| parse_max_fds(&l))
        .unwrap_or(0.0);
    Some(s)
}

#[cfg(not(target_os = "linux"))]
fn sample() -> Option<Sample> {
    None
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: f64,
) -> Result<(), std::fmt::Error> {
    let g = ConstGauge::new(value);
    g.encode(encoder.encode_descriptor(name, help, unit, g.metric_type())?)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(s) = sample() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(s.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu",
            "Total user and system CPU time spent",
            Some(&Unit::Seconds),
            cpu.metric_type(),
        )?)?;
        let e = &mut encoder;
        gauge(
            e,
            "process_resident_memory",
            "Resident memory size",
            Some(&Unit::Bytes),
            s.resident_bytes,
        )?;
        gauge(
            e,
            "process_virtual_memory",
            "Virtual memory size",
            Some(&Unit::Bytes),
            s.virtual_bytes,
        )?;
        gauge(
            e,
            "process_open_fds",
            "Open file descriptors",
            None,
            s.open_fds,
        )?;
        gauge(
            e,
            "process_max_fds",
            "Maximum open file descriptors (soft limit)",
            None,
            s.max_fds,
        )?;
        gauge(e, "process_threads", "Threads", None, s.threads)?;
        gauge(
            e,
            "process_start_time",
            "Start time of the process since the unix epoch",
            Some(&Unit::Seconds),
            s.start_time_seconds,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_stat_even_with_a_parenthesis_in_the_name() {
        // A real line, its command renamed "(a) b" to show the name is skipped.
        let stat = "4242 ((a) b) S 1 4242 4242 0 -1 4194560 12683 0 0 0 250 50 0 0 20 0 9 0 \
                    1000 1234567168 4096 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";
        let s = parse_stat(stat, 100.0, 4096.0, 1_700_000_000.0).unwrap();
        assert_eq!(s.cpu_seconds, 3.0);
        assert_eq!(s.threads, 9.0);
        assert_eq!(s.start_time_seconds, 1_700_000_010.0);
        assert_eq!(s.virtual_bytes, 1_234_567_168.0);
        assert_eq!(s.resident_bytes, 4096.0 * 4096.0);
        assert_eq!(parse_stat("garbage", 100.0, 4096.0, 0.0), None);
        assert_eq!(parse_boot_time("cpu 1 2\nbtime 1700000000\n"), Some(1.7e9));
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_fds(limits), Some(1024.0));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_threads_memory_and_descriptors() {
        let s = sample().unwrap();
        assert!(s.threads >= 1.0 && s.resident_bytes > 0.0 && s.open_fds > 0.0);
        assert!(s.max_fds >= s.open_fds && s.cpu_seconds >= 0.0);
        assert!(s.start_time_seconds > 1.6e9);
    }
}
