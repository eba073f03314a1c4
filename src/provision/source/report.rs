//! An import run's report: counts, the refused records with their
//! reasons, the dry-run plan (five lists), what awaits approval, the
//! departments kept because they still hold people, and why a run failed
//! as a whole. Stored as the run row; the CLI and the admin API
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
    /// Groups and departments deleted.
    pub deleted: usize,
    /// Records refused (see `failures` and `scimhub source failures`).
    pub failed: usize,
    /// Deprovisions waiting for approval.
    pub held: usize,
    /// Group membership changes written.
    pub member_patches: usize,
    /// The departments among the records, and what only they have.
    pub departments: DepartmentCounts,
}

/// What a run did to departments: created, updated (name, code, …),
/// unchanged and deleted are also in the totals (a department only moved
/// counts there as updated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DepartmentCounts {
    pub created: usize,
    pub updated: usize,
    /// Moved (with everything under them) to another parent.
    pub moved: usize,
    pub unchanged: usize,
    pub deleted: usize,
    /// Gone from the source but left in place: they still hold people or
    /// sub-departments (see the report's `kept`).
    pub kept: usize,
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

/// A dry run's lists (each cut at `LIST_LIMIT`; the counts are whole):
/// `deactivate` also holds the groups and departments to delete, `move`
/// the departments that change parent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanLists {
    pub create: Vec<PlannedRecord>,
    pub update: Vec<PlannedRecord>,
    #[serde(rename = "move")]
    pub moves: Vec<PlannedRecord>,
    pub deactivate: Vec<PlannedRecord>,
    pub unchanged: Vec<PlannedRecord>,
}

/// A department the source no longer has, left in place, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeptRecord {
    pub resource_type: String,
    pub key: String,
    pub local_id: String,
    pub detail: String,
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
    /// Departments gone from the source but still holding people (at most `LIST_LIMIT`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<KeptRecord>,
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
    let d = &c.departments;
    if *d != DepartmentCounts::default() {
        let _ = writeln!(
            out,
            "  departments: created {}  updated {}  moved {}  unchanged {}  deleted {}  kept {}",
            d.created, d.updated, d.moved, d.unchanged, d.deleted, d.kept
        );
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "  error: {e}");
    }
    if let Some(plan) = &r.plan {
        for (what, list) in [
            ("create", &plan.create),
            ("update", &plan.update),
            ("move", &plan.moves),
            ("deactivate or delete", &plan.deactivate),
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
    if !r.kept.is_empty() {
        let _ = writeln!(out, "  departments kept ({}):", d.kept);
        for k in r.kept.iter().take(50) {
            let _ = writeln!(out, "    {} {}: {}", k.key, k.local_id, k.detail);
        }
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
