//! A target's past runs, newest first, as summaries (a report without its
//! per-object lists, which can be long).

use serde::Serialize;

use super::error::SyncError;
use super::persist;
use super::report::{RunHead, RunReport, RunStatus};
use crate::store::{RunRecord, SyncStore};

/// A run without its per-object lists (which can be long).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    #[serde(flatten)]
    pub head: RunHead,
    /// Deprovisions awaiting approval.
    pub held: usize,
}

/// At most `limit` runs of `target_name`, newest first (blocking).
pub fn recent(
    sync: &dyn SyncStore,
    target_name: &str,
    limit: u32,
) -> Result<Vec<RunSummary>, SyncError> {
    let target = sync
        .find_target(target_name)?
        .ok_or_else(|| SyncError::UnknownTarget(target_name.to_string()))?;
    sync.list_runs(&target.id, limit)?
        .iter()
        .map(|run| summary(run, &target.name))
        .collect()
}

/// Run records of every target (or one), optionally of one status, newest
/// first, each with its target's name.
fn find_records(
    sync: &dyn SyncStore,
    target_name: Option<&str>,
    status: Option<RunStatus>,
    limit: u32,
) -> Result<Vec<(RunRecord, String)>, SyncError> {
    let targets = sync.list_targets()?;
    let target_id = match target_name {
        Some(name) => Some(
            targets
                .iter()
                .find(|t| t.name == name)
                .map(|t| t.id.clone())
                .ok_or_else(|| SyncError::UnknownTarget(name.to_string()))?,
        ),
        None => None,
    };
    let name_of = |id: &str| {
        targets
            .iter()
            .find(|t| t.id == id)
            .map_or_else(String::new, |t| t.name.clone())
    };
    Ok(sync
        .find_runs(target_id.as_deref(), status.map(RunStatus::as_str), limit)?
        .into_iter()
        .map(|run| {
            let name = name_of(&run.target_id);
            (run, name)
        })
        .collect())
}

/// Runs of every target (or one), optionally of one status, newest first.
pub fn find(
    sync: &dyn SyncStore,
    target_name: Option<&str>,
    status: Option<RunStatus>,
    limit: u32,
) -> Result<Vec<RunSummary>, SyncError> {
    find_records(sync, target_name, status, limit)?
        .iter()
        .map(|(run, name)| summary(run, name))
        .collect()
}

/// Held approvals (runs awaiting approval) with what each holds, newest first.
pub fn held(sync: &dyn SyncStore, target_name: Option<&str>) -> Result<Vec<RunReport>, SyncError> {
    find_records(sync, target_name, Some(RunStatus::AwaitingApproval), 1000)?
        .iter()
        .map(|(run, _)| Ok(persist::from_record(run, Vec::new())?))
        .collect()
}

pub fn summary(run: &RunRecord, target_name: &str) -> Result<RunSummary, SyncError> {
    let report = persist::from_record(run, Vec::new())?;
    Ok(RunSummary {
        held: report.pending.len(),
        head: RunHead {
            target: target_name.to_string(),
            ..report.head
        },
    })
}
