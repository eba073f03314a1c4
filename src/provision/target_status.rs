//! What an admin needs to know about a target at a glance: its state
//! (new, active, paused, quarantined, awaiting approval), last run,
//! failure-queue depth, change-log lag and last error.

use serde::Serialize;

use super::runs::SyncError;
use super::runs::guard_window;
use super::runs::history::{RunSummary, summary};
use super::target::{TargetView, view};
use crate::scim::render::format_time;
use crate::store::{SyncStore, TargetRecord, TargetState};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quarantine {
    pub reason: String,
    pub since: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetStatus {
    /// `new` (awaiting its initial sync), `active`, `paused`, `quarantined`
    /// or `awaiting_approval`, the most pressing first.
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<Quarantine>,
    /// The pending approval's run id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub awaiting_approval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_run: Option<RunSummary>,
    pub queue_depth: usize,
    /// Change-log entries after the target's cursor.
    pub lag: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// A target with its status, as `target list/show` and the admin API show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetWithStatus {
    #[serde(flatten)]
    pub target: TargetView,
    pub status: TargetStatus,
}

/// The status of one stored target (blocking: several store reads).
pub fn status(sync: &dyn SyncStore, r: &TargetRecord) -> Result<TargetWithStatus, SyncError> {
    let quarantine = sync.quarantine(&r.id)?.map(|q| Quarantine {
        reason: q.reason,
        since: format_time(&q.since),
    });
    let awaiting = guard_window::pending(sync, &r.id)?.map(|run| run.id);
    let last_run = sync
        .list_runs(&r.id, 1)?
        .first()
        .map(|run| summary(run, &r.name))
        .transpose()?;
    let queue = sync.queue_summary(&r.id)?;
    let last_error = queue
        .newest_error
        .or_else(|| last_run.as_ref().and_then(|run| run.head.error.clone()))
        .or_else(|| quarantine.as_ref().map(|q| q.reason.clone()));
    let state = if quarantine.is_some() {
        "quarantined"
    } else if awaiting.is_some() {
        "awaiting_approval"
    } else {
        r.state.as_str()
    };
    let lag = if r.state == TargetState::New {
        0
    } else {
        sync.changes_pending(r.change_cursor)?
    };
    Ok(TargetWithStatus {
        target: view(r)?,
        status: TargetStatus {
            state,
            quarantine,
            awaiting_approval: awaiting,
            last_run,
            queue_depth: queue.depth,
            lag,
            last_error,
        },
    })
}

pub fn list(sync: &dyn SyncStore) -> Result<Vec<TargetWithStatus>, SyncError> {
    sync.list_targets()?
        .iter()
        .map(|r| status(sync, r))
        .collect()
}

pub fn show(sync: &dyn SyncStore, name: &str) -> Result<TargetWithStatus, SyncError> {
    let r = sync
        .find_target(name)?
        .ok_or_else(|| SyncError::UnknownTarget(name.to_string()))?;
    status(sync, &r)
}
