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

/// Peak resident set size of this process (`VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    kib_field(&read("/proc/self/status"), "VmHWM:").map(|k| k as f64 / 1024.0)
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
}
