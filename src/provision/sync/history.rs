//! A target's past runs, newest first, as summaries (a report without its
//! per-object lists, which can be long).

use serde::Serialize;

use super::error::SyncError;
use super::persist;
use super::report::{ActionCounts, RunStatus};
use crate::store::SyncStore;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub id: String,
    pub target: String,
    pub status: RunStatus,
    pub dry_run: bool,
    pub started: String,
    pub finished: Option<String>,
    pub counts: ActionCounts,
    /// Deprovisions awaiting approval.
    pub held: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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
        .map(|run| {
            let report = persist::from_record(run, Vec::new())?;
            Ok(RunSummary {
                id: report.id,
                target: target.name.clone(),
                status: report.status,
                dry_run: report.dry_run,
                started: report.started,
                finished: report.finished,
                counts: report.counts,
                held: report.pending.len(),
                error: report.error,
            })
        })
        .collect()
}
