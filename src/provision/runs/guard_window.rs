//! The deletion guard over time. Deprovisions of the real-time worker and
//! of full runs count together over a sliding window (`guard.window_secs`);
//! once the next one would cross a limit — or an approval is already
//! pending — it and every later one are held for a person to decide.
//! The worker's holds gather in one pending approval per target.

use chrono::{DateTime, Utc};

use super::error::SyncError;
use super::persist::{self, now};
use super::report::{ActionCounts, HeldDeprovision, RunHead, RunReport, RunStatus};
use crate::provision::plan::DeletionGuard;
use crate::scim::render::format_time;
use crate::store::{RunRecord, SyncStore, TargetRecord};

/// The warning that marks the real-time worker's pending approval.
pub const WORKER_HOLD: &str =
    "held by the deletion guard: real-time deprovisions crossed its limit over its window";

/// The newest run of the target awaiting approval, if any.
pub fn pending(sync: &dyn SyncStore, target_id: &str) -> Result<Option<RunRecord>, SyncError> {
    Ok(sync
        .find_runs(
            Some(target_id),
            Some(RunStatus::AwaitingApproval.as_str()),
            1,
        )?
        .into_iter()
        .next())
}

fn window_start(guard: &DeletionGuard, at: DateTime<Utc>) -> DateTime<Utc> {
    let secs = i64::try_from(guard.window_secs).unwrap_or(i64::MAX / 1000);
    at - chrono::Duration::seconds(secs)
}

/// Whether `extra` more deprovisions may go now without approval.
pub fn admits(
    sync: &dyn SyncStore,
    target_id: &str,
    guard: &DeletionGuard,
    extra: usize,
) -> Result<bool, SyncError> {
    if extra == 0 {
        return Ok(true);
    }
    if pending(sync, target_id)?.is_some() {
        return Ok(false);
    }
    let recent = sync.deprovisions_since(target_id, window_start(guard, Utc::now()))?;
    let linked = sync.count_links(target_id)?;
    Ok(!guard.trips(recent + extra, linked))
}

/// Counts applied deprovisions into the window.
pub fn record(
    sync: &dyn SyncStore,
    target_id: &str,
    objects: &[(String, String)],
) -> Result<(), SyncError> {
    if objects.is_empty() {
        return Ok(());
    }
    Ok(sync.record_deprovisions(target_id, objects, Utc::now())?)
}

/// Adds `item` to the target's pending worker approval, creating it when
/// there is none. Returns the run and whether it is new (to notify once).
pub fn hold(
    sync: &dyn SyncStore,
    target: &TargetRecord,
    mut item: HeldDeprovision,
) -> Result<(RunReport, bool), SyncError> {
    let at = now();
    item.held_at = Some(format_time(&at));
    if let Some(run) = pending(sync, &target.id)? {
        let mut report = persist::from_record(&run, Vec::new())?;
        if report.warnings.iter().any(|w| w == WORKER_HOLD) {
            let known = report
                .pending
                .iter()
                .any(|h| h.resource_type == item.resource_type && h.local_id == item.local_id);
            if !known {
                report.pending.push(item);
                sync.update_run(&persist::to_record(
                    &report,
                    &target.id,
                    run.started,
                    run.finished,
                )?)?;
            }
            return Ok((report, false));
        }
    }
    let report = RunReport {
        pending: vec![item],
        warnings: vec![WORKER_HOLD.to_string()],
        ..RunReport::new(RunHead {
            id: uuid::Uuid::new_v4().to_string(),
            target: target.name.clone(),
            status: RunStatus::AwaitingApproval,
            dry_run: false,
            started: format_time(&at),
            finished: Some(format_time(&at)),
            counts: ActionCounts::default(),
            error: None,
            progress: None,
        })
    };
    sync.create_run(&persist::to_record(&report, &target.id, at, Some(at))?)?;
    Ok((report, true))
}
