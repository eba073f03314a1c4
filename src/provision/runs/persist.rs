//! Run reports to and from their stored rows.

use anyhow::Context;
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::report::{
    ActionCounts, HeldDeprovision, ObjectFailure, PlannedChange, RunHead, RunReport, RunStatus,
};
use crate::provision::plan::Orphan;
use crate::scim::render::format_time;
use crate::store::{FailureRecord, RunRecord};

/// The `summary` column.
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct Summary {
    target: String,
    warnings: Vec<String>,
    changes: Vec<PlannedChange>,
    orphans: Vec<Orphan>,
    error: Option<String>,
}

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

pub fn to_record(
    r: &RunReport,
    target_id: &str,
    started: DateTime<Utc>,
    finished: Option<DateTime<Utc>>,
) -> anyhow::Result<RunRecord> {
    let summary = Summary {
        target: r.head.target.clone(),
        warnings: r.warnings.clone(),
        changes: r.changes.clone(),
        orphans: r.orphans.clone(),
        error: r.head.error.clone(),
    };
    Ok(RunRecord {
        id: r.head.id.clone(),
        target_id: target_id.to_string(),
        status: r.head.status.as_str().to_string(),
        dry_run: r.head.dry_run,
        started,
        finished,
        counts: serde_json::to_string(&r.head.counts)?,
        pending: if r.pending.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&r.pending)?)
        },
        summary: Some(serde_json::to_string(&summary)?),
        // Written by `live` only.
        progress: None,
    })
}

pub fn failure_record(f: &ObjectFailure) -> FailureRecord {
    FailureRecord {
        resource_type: f.resource_type.clone(),
        local_id: f.local_id.clone(),
        action: f.action.clone(),
        status: f.status.map(i32::from),
        detail: f.detail.clone(),
    }
}

pub fn from_record(r: &RunRecord, failures: Vec<FailureRecord>) -> anyhow::Result<RunReport> {
    let status = RunStatus::parse(&r.status)
        .with_context(|| format!("run {} has an unknown status {:?}", r.id, r.status))?;
    let counts: ActionCounts = serde_json::from_str(&r.counts).context("run counts are corrupt")?;
    let pending: Vec<HeldDeprovision> = match &r.pending {
        Some(p) => serde_json::from_str(p).context("run pending list is corrupt")?,
        None => Vec::new(),
    };
    let summary: Summary = match &r.summary {
        Some(s) => serde_json::from_str(s).context("run summary is corrupt")?,
        None => Summary::default(),
    };
    Ok(RunReport {
        head: RunHead {
            id: r.id.clone(),
            target: summary.target,
            status,
            dry_run: r.dry_run,
            started: format_time(&r.started),
            finished: r.finished.as_ref().map(format_time),
            counts,
            error: summary.error,
            progress: match (&r.progress, status) {
                (Some(p), RunStatus::Running) => serde_json::from_str(p).ok(),
                _ => None,
            },
        },
        failures: failures
            .into_iter()
            .map(|f| ObjectFailure {
                resource_type: f.resource_type,
                local_id: f.local_id,
                action: f.action,
                status: f.status.and_then(|s| u16::try_from(s).ok()),
                detail: f.detail,
            })
            .collect(),
        pending,
        orphans: summary.orphans,
        changes: summary.changes,
        warnings: summary.warnings,
    })
}
