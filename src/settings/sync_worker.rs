//! How the real-time sync workers pace themselves (`[sync]`,
//! `SCIMHUB_SYNC_*`).

use serde::Deserialize;

/// Incremental sync: how workers pace themselves, retry and quarantine.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncWorkerConfig {
    /// Run a worker per target in `serve` (off: only manual runs).
    pub enabled: bool,
    /// How often an idle worker looks for new changes, in milliseconds.
    pub poll_ms: u64,
    /// Wait after the first new change so a burst becomes one write, in ms.
    pub coalesce_ms: u64,
    /// Most change-log entries one worker pass reads.
    pub batch: u32,
    /// Seconds a worker's lease on its target lasts without renewal.
    pub lease_secs: u64,
    /// Seconds between probes of a quarantined target (doubled per failed
    /// probe, up to 5 minutes).
    pub probe_secs: u64,
    /// Quarantine a target that cannot be reached at all (connection
    /// refused, DNS, TLS, timeouts) after this many seconds of failures.
    pub down_quarantine_secs: u64,
    /// Seconds a full run's lease lasts without renewal: how long a crashed
    /// run blocks the next run of its target.
    pub run_lease_secs: u64,
    /// First retry delay of a failed object, doubled per attempt…
    pub retry_base_secs: u64,
    /// …up to this.
    pub retry_cap_secs: u64,
    /// Quarantine a target when more than this share of its recent writes failed…
    pub quarantine_failure_share: f64,
    /// …once at least this many writes were made.
    pub quarantine_min_writes: usize,
    /// How often the failure queues' depths are checked, in seconds.
    pub queue_check_secs: u64,
    /// Notify when a target's queue grew at this many checks in a row…
    pub queue_alert_checks: u32,
    /// …or holds at least this many entries (0: no depth threshold).
    pub queue_alert_depth: u64,
}

impl Default for SyncWorkerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_ms: 200,
            coalesce_ms: 50,
            batch: 500,
            lease_secs: 30,
            probe_secs: 30,
            down_quarantine_secs: 5,
            run_lease_secs: 60,
            retry_base_secs: 5,
            retry_cap_secs: 3600,
            quarantine_failure_share: 0.5,
            quarantine_min_writes: 20,
            queue_check_secs: 60,
            queue_alert_checks: 5,
            queue_alert_depth: 1000,
        }
    }
}
