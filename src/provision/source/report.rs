//! An import run's report: counts, the refused records with their
//! reasons, the dry-run plan (four lists), what awaits approval, and why a
//! run failed as a whole. Stored as the run row; the CLI and the admin API
//! show the same JSON.

use serde::{Deserialize, Serialize};

use super::intake::Refusal;
use super::plan::Withdrawn;
use super::settings::RunMode;
pub use crate::provision::runs::RunStatus;
use crate::provision::runs::report::RunProgress;

/// Entries kept per list in a report (the failure list has them all).
pub const LIST_LIMIT: usize = 1000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportCounts {
    /// Records read from the source.
    pub read: usize,
    pub created: usize,
    /// Existing users linked by userName (`join_existing`).
    pub linked: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deactivated: usize,
    pub deleted: usize,
    /// Records refused (see `failures` and `scimhub source failures`).
    pub failed: usize,
    /// Deprovisions waiting for approval.
    pub held: usize,
    /// Group membership changes written.
    pub member_patches: usize,
}

/// One refused record, as reports show it (the raw record is in the failure list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefusedRecord {
    pub resource_type: String,
    pub key: Option<String>,
    pub locator: String,
    pub reason: String,
    pub detail: String,
}

impl From<&Refusal> for RefusedRecord {
    fn from(r: &Refusal) -> Self {
        Self {
            resource_type: r.kind.as_str().to_string(),
            key: r.key.clone(),
            locator: r.locator.clone(),
            reason: r.reason.as_str().to_string(),
            detail: r.detail.clone(),
        }
    }
}

/// One record in a dry run's lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedRecord {
    pub resource_type: String,
    pub key: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
}

/// A dry run's four lists (each cut at `LIST_LIMIT`; the counts are whole).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanLists {
    pub create: Vec<PlannedRecord>,
    pub update: Vec<PlannedRecord>,
    pub deactivate: Vec<PlannedRecord>,
    pub unchanged: Vec<PlannedRecord>,
}

/// A deprovision waiting for approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldRecord {
    pub resource_type: String,
    pub key: String,
    pub local_id: String,
}

impl From<&Withdrawn> for HeldRecord {
    fn from(w: &Withdrawn) -> Self {
        Self {
            resource_type: w.kind.to_string(),
            key: w.key.clone(),
            local_id: w.local_id.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub id: String,
    pub source: String,
    pub mode: RunMode,
    /// `cli`, `api`, `console`, `upload`, `schedule`, `watch`.
    pub trigger: String,
    pub dry_run: bool,
    pub status: RunStatus,
    pub started: String,
    pub finished: Option<String>,
    pub counts: ImportCounts,
    /// The refused records (at most `LIST_LIMIT`; `counts.failed` is all).
    pub failures: Vec<RefusedRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanLists>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<HeldRecord>,
    /// Why the run failed as a whole (nothing was written then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What approved or rejected the held deprovisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// While it runs: the phase (`reading`, `planning`, `creating`,
    /// `updating`, `memberships`, `deprovisioning`) and how far it got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<RunProgress>,
}

/// The report as people read it on a terminal.
pub fn render(r: &ImportReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let dry = if r.dry_run {
        " (dry run: nothing written)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "Import {} of source {:?} ({}, {}): {}{dry}",
        r.id,
        r.source,
        r.mode.as_str(),
        r.trigger,
        r.status.as_str()
    );
    let c = &r.counts;
    let _ = writeln!(
        out,
        "  read {}  created {}  linked {}  updated {}  unchanged {}  deactivated {}  deleted {}  \
         failed {}  held {}  membership changes {}",
        c.read,
        c.created,
        c.linked,
        c.updated,
        c.unchanged,
        c.deactivated,
        c.deleted,
        c.failed,
        c.held,
        c.member_patches
    );
    if let Some(e) = &r.error {
        let _ = writeln!(out, "  error: {e}");
    }
    if let Some(plan) = &r.plan {
        for (what, list) in [
            ("create", &plan.create),
            ("update", &plan.update),
            ("deactivate", &plan.deactivate),
            ("unchanged", &plan.unchanged),
        ] {
            let _ = writeln!(out, "  would {what} ({}):", list.len());
            for p in list.iter().take(20) {
                let _ = writeln!(out, "    {} {} {}", p.resource_type, p.key, p.name);
            }
            if list.len() > 20 {
                let _ = writeln!(
                    out,
                    "    … {} more (--json shows them all)",
                    list.len() - 20
                );
            }
        }
    }
    if !r.held.is_empty() {
        let _ = writeln!(
            out,
            "  {} deprovisions wait for approval: `scimhub source approve {}` or `scimhub source reject {}`",
            r.held.len(),
            r.id,
            r.id
        );
    }
    if !r.failures.is_empty() {
        let _ = writeln!(out, "  refused records ({}):", c.failed);
        for f in r.failures.iter().take(50) {
            let _ = writeln!(
                out,
                "    {} [{}] {}: {}",
                f.locator,
                f.reason,
                f.key.as_deref().unwrap_or("-"),
                f.detail
            );
        }
        if r.failures.len() > 50 {
            let _ = writeln!(out, "    … see `scimhub source failures {}`", r.source);
        }
    }
    out
}
