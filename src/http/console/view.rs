//! Small conversions from the services' values to what a page shows.

use serde_json::Value;

use crate::provision::runs::RunReport;
use crate::provision::runs::history::RunSummary;
use crate::provision::runs::report::{ActionCounts, RunHead};
use crate::provision::target_status::TargetWithStatus;

/// An RFC 3339 time as people read it (UTC, to the second).
pub fn when(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

pub fn when_opt(rfc3339: Option<&str>) -> String {
    rfc3339.map(when).unwrap_or_else(|| "—".into())
}

/// JSON for a `<pre>` block.
pub fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A string member of a JSON object (`""` when absent).
pub fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A serde enum's wire name (`completed_with_failures`).
pub fn wire_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `completed_with_failures` → `completed with failures`.
pub fn words(name: &str) -> String {
    name.replace('_', " ")
}

/// A target in a list.
pub struct TargetRow {
    pub name: String,
    pub url: String,
    pub state: String,
    pub last_run: Option<RunRow>,
    pub queue_depth: usize,
    pub lag: i64,
    pub last_error: Option<String>,
}

impl From<&TargetWithStatus> for TargetRow {
    fn from(t: &TargetWithStatus) -> Self {
        Self {
            name: t.target.name.clone(),
            url: t.target.base_url.clone(),
            state: t.status.state.to_string(),
            last_run: t.status.last_run.as_ref().map(RunRow::from),
            queue_depth: t.status.queue_depth,
            lag: t.status.lag,
            last_error: t.status.last_error.clone(),
        }
    }
}

/// A run in a list.
pub struct RunRow {
    pub id: String,
    pub target: String,
    pub status: String,
    pub kind: &'static str,
    pub started: String,
    pub finished: String,
    pub summary: String,
    pub held: usize,
}

/// `2 created, 1 updated, 1 failed` (the non-zero counts), or `nothing to do`.
pub fn counts(c: &ActionCounts) -> String {
    let parts: Vec<String> = [
        (c.created, "created"),
        (c.updated, "updated"),
        (c.linked, "linked"),
        (c.deactivated, "deactivated"),
        (c.deleted, "deleted"),
        (c.failed, "failed"),
        (c.skipped, "skipped"),
        (c.member_patches, "member updates"),
        (c.manager_updates, "manager updates"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if parts.is_empty() {
        format!("{} unchanged", c.unchanged)
    } else {
        parts.join(", ")
    }
}

fn kind(dry_run: bool) -> &'static str {
    if dry_run { "dry run" } else { "run" }
}

impl RunRow {
    /// A run's row: `held` deprovisions await approval.
    pub fn new(head: &RunHead, held: usize) -> Self {
        Self {
            id: head.id.clone(),
            target: head.target.clone(),
            status: head.status.as_str().to_string(),
            kind: kind(head.dry_run),
            started: when(&head.started),
            finished: when_opt(head.finished.as_deref()),
            summary: counts(&head.counts),
            held,
        }
    }
}

impl From<&RunSummary> for RunRow {
    fn from(r: &RunSummary) -> Self {
        Self::new(&r.head, r.held)
    }
}

impl From<&RunReport> for RunRow {
    fn from(r: &RunReport) -> Self {
        Self::new(&r.head, r.pending.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc_seconds() {
        assert_eq!(when("2026-12-12T10:31:05.123Z"), "2026-12-12 10:31:05 UTC");
        assert_eq!(when("not a time"), "not a time");
        assert_eq!(when_opt(None), "—");
    }
}
