//! A run's report: what it did per action, what failed with the target's
//! error, and what awaits approval. Persisted as the run row and returned
//! by the CLI and the admin API alike.

use serde::{Deserialize, Serialize};

use serde_json::Value;

use crate::provision::plan::{AttributeChange, DeprovisionMode, DeprovisionReason, Orphan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    /// Everything applied.
    Succeeded,
    /// Applied, but some objects failed (see `failures`).
    CompletedWithFailures,
    /// The run could not proceed (target unreachable, credentials refused…).
    Failed,
    /// The deletion guard held the deprovisions back; see `pending`.
    AwaitingApproval,
    /// An admin refused the held deprovisions.
    Rejected,
    /// A dry run: the plan only, nothing written.
    Planned,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::CompletedWithFailures => "completed_with_failures",
            RunStatus::Failed => "failed",
            RunStatus::AwaitingApproval => "awaiting_approval",
            RunStatus::Rejected => "rejected",
            RunStatus::Planned => "planned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    /// Whether the CLI exits non-zero for it.
    pub fn is_unsuccessful(self) -> bool {
        matches!(
            self,
            RunStatus::Failed | RunStatus::CompletedWithFailures | RunStatus::AwaitingApproval
        )
    }
}

/// Counts per action. `linked`: existing target accounts adopted by the
/// matching attribute; `unchanged`: nothing to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActionCounts {
    pub created: usize,
    pub updated: usize,
    pub deactivated: usize,
    pub deleted: usize,
    pub linked: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Group membership PATCHes sent.
    pub member_patches: usize,
    /// Second-pass manager updates sent.
    pub manager_updates: usize,
    /// Of all these, department groups' (targets that take departments as groups).
    #[serde(skip_serializing_if = "DepartmentCounts::is_zero")]
    pub departments: DepartmentCounts,
}

/// What a run did to department groups (included in the totals too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DepartmentCounts {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub linked: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Member PATCHes of department groups.
    pub member_patches: usize,
}

impl DepartmentCounts {
    pub fn of(c: &ActionCounts) -> Self {
        Self {
            created: c.created,
            updated: c.updated,
            deleted: c.deleted,
            linked: c.linked,
            unchanged: c.unchanged,
            skipped: c.skipped,
            failed: c.failed,
            member_patches: c.member_patches,
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    pub fn add(&mut self, more: &Self) {
        self.created += more.created;
        self.updated += more.updated;
        self.deleted += more.deleted;
        self.linked += more.linked;
        self.unchanged += more.unchanged;
        self.skipped += more.skipped;
        self.failed += more.failed;
        self.member_patches += more.member_patches;
    }
}

/// One object that could not be written, with the target's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectFailure {
    pub resource_type: String,
    pub local_id: String,
    pub action: String,
    pub status: Option<u16>,
    pub detail: String,
}

/// A deprovision the deletion guard held back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldDeprovision {
    pub resource_type: String,
    pub local_id: String,
    pub remote_id: String,
    pub mode: DeprovisionMode,
    pub reason: String,
    /// userName (users) or displayName (groups), as the target holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When it was held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_at: Option<String>,
}

impl HeldDeprovision {
    pub fn reason_text(reason: DeprovisionReason) -> &'static str {
        match reason {
            DeprovisionReason::Gone => "deleted",
            DeprovisionReason::OutOfScope => "out_of_scope",
            DeprovisionReason::Orphan => "orphan",
        }
    }
}

/// What a dry run would do to one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedChange {
    pub resource_type: String,
    pub local_id: String,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    /// Attributes that differ (updates).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub changed: Vec<String>,
    /// Updates: each differing attribute with the target's value now
    /// (`before`, null when it has none) and the one it would be sent.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub diff: Vec<AttributeChange>,
    /// Why (skips, deprovisions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Attributes whose values a report never holds (a mapping may set one).
const HIDDEN: [&str; 1] = ["password"];

/// What a report keeps of an attribute change: secrets replaced.
pub fn reported(change: AttributeChange) -> AttributeChange {
    if HIDDEN
        .iter()
        .any(|h| change.attribute.eq_ignore_ascii_case(h))
    {
        let hide = |v: &Value| {
            if v.is_null() {
                Value::Null
            } else {
                Value::String("(hidden)".into())
            }
        };
        return AttributeChange {
            before: hide(&change.before),
            after: hide(&change.after),
            attribute: change.attribute,
        };
    }
    change
}

/// A value of a diff as a person reads it: a string as itself, nothing as
/// "(none)", anything else as compact JSON.
pub fn shown(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What every view of a run shows: which run, how it ended, its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHead {
    pub id: String,
    pub target: String,
    pub status: RunStatus,
    pub dry_run: bool,
    pub started: String,
    pub finished: Option<String>,
    pub counts: ActionCounts,
    /// Why the run failed as a whole, when it did.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// While it runs: how far it got (as last written, see `live`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub progress: Option<RunProgress>,
}

/// How far a running run got.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunProgress {
    /// `reading` (the target and the directory), `planning`, then `users`,
    /// `managers`, `groups`, `memberships` as they are applied.
    pub phase: String,
    /// Of the phase's `total` units, finished.
    pub done: usize,
    pub total: usize,
    /// Units of work the plan holds (objects, manager updates, membership
    /// PATCHes); 0 until it is planned.
    pub planned: usize,
    /// Of `planned`, finished.
    pub completed: usize,
    /// Writes the target refused so far.
    pub failed: usize,
}

impl RunReport {
    /// A run with nothing in its lists yet.
    pub fn new(head: RunHead) -> Self {
        Self {
            head,
            failures: Vec::new(),
            pending: Vec::new(),
            orphans: Vec::new(),
            changes: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// A run with its per-object lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    #[serde(flatten)]
    pub head: RunHead,
    pub failures: Vec<ObjectFailure>,
    /// Deprovisions awaiting approval (the deletion guard tripped).
    pub pending: Vec<HeldDeprovision>,
    /// Target accounts nothing here accounts for (see the orphan policy).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub orphans: Vec<Orphan>,
    /// Dry runs: every change the run would make.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub changes: Vec<PlannedChange>,
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_reported_diff_hides_passwords_and_keeps_the_rest() {
        let change = |attribute: &str, before: Value| AttributeChange {
            attribute: attribute.into(),
            before,
            after: json!("s3cret!"),
        };
        assert_eq!(
            reported(change("Password", json!("old"))),
            AttributeChange {
                attribute: "Password".into(),
                before: json!("(hidden)"),
                after: json!("(hidden)"),
            }
        );
        assert_eq!(
            reported(change("password", Value::Null)).before,
            Value::Null,
            "none stays none"
        );
        let title = change("title", json!("Clerk"));
        assert_eq!(reported(title.clone()), title);
        assert_eq!(shown(&Value::Null), "(none)");
        assert_eq!(shown(&json!("<b>")), "<b>");
        assert_eq!(shown(&json!({"a": 1})), r#"{"a":1}"#);
    }
}
