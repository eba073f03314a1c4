//! What provisioning one user on demand did (or would do), step by step,
//! as JSON (admin API, `--json`); `text` renders it for a terminal.

use serde::Serialize;
use serde_json::Value;

use crate::provision::client::Exchange;
use crate::provision::runs::LoadedTarget;
use crate::provision::runs::source::{LocalOne, OutOfScope};
use crate::scim::ResourceKind;

/// How the object was found on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchHow {
    /// The id map links it to a target account.
    IdMap,
    /// Not in the id map; the target's account with the same matching
    /// attribute is adopted.
    Adopted,
    /// Not on the target: to be created.
    Create,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "step",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Step {
    Scope {
        in_scope: bool,
        reason: String,
    },
    /// The resource as the target's mapping makes it (manager by the id map).
    Resource {
        resource: Value,
    },
    Match {
        how: MatchHow,
        #[serde(skip_serializing_if = "Option::is_none")]
        remote_id: Option<String>,
        detail: String,
    },
    Request(Exchange),
    /// Nothing is written, and why.
    Skipped {
        reason: String,
    },
    Failed {
        operation: String,
        error: String,
    },
}

impl Step {
    /// The scope decision for `local`, with the target's rule that made it.
    pub fn scope(target: &LoadedTarget, kind: ResourceKind, local: &LocalOne) -> Step {
        let (in_scope, reason) = match local {
            LocalOne::InScope(_) => (true, in_scope_reason(target, kind)),
            LocalOne::OutOfScope(why) => (false, out_of_scope_reason(target, kind, *why)),
            LocalOne::Gone => (false, "it no longer exists here".to_string()),
        };
        Step::Scope { in_scope, reason }
    }
}

fn scope_filter(target: &LoadedTarget, kind: ResourceKind) -> Option<&str> {
    match kind {
        ResourceKind::User => target.record.scope.as_deref(),
        ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
            target.settings.group_scope.as_deref()
        }
    }
}

fn in_scope_reason(target: &LoadedTarget, kind: ResourceKind) -> String {
    let mut reasons = Vec::new();
    if kind == ResourceKind::User && !target.settings.scope_groups.is_empty() {
        reasons.push(format!(
            "a member of {}",
            target.settings.scope_groups.join(", ")
        ));
    }
    if let Some(filter) = scope_filter(target, kind) {
        reasons.push(format!("matches the scope {filter:?}"));
    }
    if reasons.is_empty() {
        format!("the target syncs every {}", kind.as_str().to_lowercase())
    } else {
        reasons.join(" and ")
    }
}

fn out_of_scope_reason(target: &LoadedTarget, kind: ResourceKind, why: OutOfScope) -> String {
    match why {
        OutOfScope::TypeNotSynced => format!(
            "the target does not sync {} (resource types: {})",
            kind.endpoint(),
            target.settings.resource_types.join(", ")
        ),
        OutOfScope::NotInScopeGroups => format!(
            "not a member of any of the groups in scope ({})",
            target.settings.scope_groups.join(", ")
        ),
        OutOfScope::FilteredOut => format!(
            "does not match the scope {:?}",
            scope_filter(target, kind).unwrap_or_default()
        ),
        OutOfScope::OutsideDepartments => {
            let mut under = Vec::new();
            if let Some(root) = &target.settings.root_department {
                under.push(format!("the root department {root}"));
            }
            if kind == ResourceKind::User && !target.settings.department_scope.is_empty() {
                under.push(format!(
                    "one of the departments in scope ({})",
                    target.settings.department_scope.join(", ")
                ));
            }
            format!("not under {}", under.join(" and "))
        }
    }
}

/// What came of one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    /// An existing target account adopted (and brought up to date).
    Linked,
    Updated,
    /// The target already holds the mapped state: nothing sent.
    Unchanged,
    OutOfScope,
    /// The target's actions do not allow the write.
    NotAllowed,
    /// Deleted here meanwhile.
    Gone,
    Failed,
}

impl Outcome {
    /// The object is on the target (or would be, in a dry run).
    pub fn on_target(self) -> bool {
        matches!(
            self,
            Outcome::Created | Outcome::Linked | Outcome::Updated | Outcome::Unchanged
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReport {
    pub resource_type: String,
    pub local_id: String,
    /// userName / displayName.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub outcome: Outcome,
    /// Its id on the target per the id map (a made-up one in a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionReport {
    pub target: String,
    /// `new`, `active` or `paused`; `quarantined` when forced.
    pub target_state: String,
    pub dry_run: bool,
    /// What the admin should know (the target's state, groups left out).
    pub notes: Vec<String>,
    /// The user first, then each group it is a direct member of.
    pub objects: Vec<ObjectReport>,
    /// No object failed.
    pub ok: bool,
}
