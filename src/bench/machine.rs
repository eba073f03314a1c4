//! The facts a benchmark number means nothing without, and the process's
//! peak memory. Linux `/proc` files; "unknown" where one cannot be read.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub ram_mib: Option<u64>,
    pub os: String,
    pub rustc: &'static str,
    pub profile: &'static str,
}

impl Machine {
    /// One line: what the numbers were measured on.
    pub fn summary(&self) -> String {
        let ram = self.ram_mib.map_or("unknown".into(), |r| {
            format!("{:.1} GiB", r as f64 / 1024.0)
        });
        format!(
            "machine: {}, {} cores, {ram} RAM, {}; {}, {} build",
            self.cpu, self.cores, self.os, self.rustc, self.profile
        )
    }

    pub fn describe() -> Self {
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or("unknown".into(), |(_, v)| v.trim().to_string());
        let pretty = read("/etc/os-release")
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map_or("unknown".into(), |v| v.trim_matches('"').to_string());
        let kernel = read("/proc/sys/kernel/osrelease");
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            ram_mib: kib_field(&read("/proc/meminfo"), "MemTotal:").map(|k| k / 1024),
            os: format!("{pretty}, Linux {}", kernel.trim()),
            rustc: env!("SCIMHUB_RUSTC_VERSION"),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        }
    }
}

/// `/proc/self` or `/proc/PID`.
fn proc_dir(pid: Option<u32>) -> String {
    pid.map_or("/proc/self".into(), |pid| format!("/proc/{pid}"))
}

/// A memory field of a process's `/proc/…/status` (this one when `pid` is
/// None) in MiB: `VmHWM:` (peak resident set), `RssAnon:` (heap, now),
/// `RssFile:` (mapped files, now).
pub fn memory_mib(pid: Option<u32>, field: &str) -> Option<f64> {
    kib_field(&read(&format!("{}/status", proc_dir(pid))), field).map(|k| k as f64 / 1024.0)
}

/// CPU time (user + system) a process (this one when `pid` is None) has used
/// so far, in seconds: fields 14 and 15 of `/proc/…/stat`, in USER_HZ (100
/// per second on Linux).
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let stat = read(&format!("{}/stat", proc_dir(pid)));
    // The command name (field 2) may hold spaces; fields after it do not.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / 100.0)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `NAME:   123 kB` → 123.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kib_fields() {
        let status = "Name:\tscimhub\nVmHWM:\t  204800 kB\nVmRSS:\t1 kB\n";
        assert_eq!(kib_field(status, "VmHWM:"), Some(204_800));
        assert_eq!(kib_field(status, "VmPeak:"), None);
    }

    #[test]
    fn cpu_time_grows_with_work() {
        let before = cpu_seconds(None).unwrap();
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(50) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(cpu_seconds(None).unwrap() >= before + 0.02);
    }
}
