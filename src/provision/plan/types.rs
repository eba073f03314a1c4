//! The inputs and the outcome of planning a full sync.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::scim::ResourceKind;

/// A local resource in scope, already mapped. `members` holds the local ids
/// of a group's direct members (empty for users).
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub local_id: String,
    pub resource: Value,
    pub members: Vec<String>,
}

/// A resource as the target holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Remote {
    pub id: String,
    pub resource: Value,
}

/// An id-map row: a local resource pushed to (or found on) the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub local_id: String,
    pub remote_id: String,
    /// `compare::state_hash` of the last pushed state.
    pub hash: String,
}

/// One top-level attribute an update changes: the target's value now
/// (null when it holds none) and the mapped one it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeChange {
    pub attribute: String,
    pub before: Value,
    pub after: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeprovisionMode {
    /// PATCH `active=false` (users; groups cannot be deactivated and are deleted).
    Deactivate,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeprovisionReason {
    /// Deleted here.
    Gone,
    /// Still here but outside the target's scope.
    OutOfScope,
    /// On the target, unknown to the id map, and matching nothing here.
    Orphan,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// POST `resource` (users: without a manager that does not exist yet).
    Create {
        local_id: String,
        resource: Value,
        hash: String,
    },
    /// Make the target match `resource`; `changed` is what differs.
    /// `newly_linked`: matched by the matching attribute, not in the id map.
    Update {
        local_id: String,
        remote_id: String,
        resource: Value,
        changed: Vec<AttributeChange>,
        hash: String,
        newly_linked: bool,
    },
    NoOp {
        local_id: String,
        remote_id: String,
        hash: String,
        newly_linked: bool,
    },
    /// `local_id` is empty for an orphan (no local counterpart).
    Deprovision {
        local_id: String,
        remote_id: String,
        mode: DeprovisionMode,
        reason: DeprovisionReason,
        /// userName / displayName as the target holds it, for people.
        name: Option<String>,
    },
    /// Gone on both sides: only the id-map row goes.
    Unlink {
        local_id: String,
        remote_id: String,
    },
    Skip {
        local_id: String,
        reason: String,
    },
}

impl Action {
    pub fn local_id(&self) -> &str {
        match self {
            Action::Create { local_id, .. }
            | Action::Update { local_id, .. }
            | Action::NoOp { local_id, .. }
            | Action::Deprovision { local_id, .. }
            | Action::Unlink { local_id, .. }
            | Action::Skip { local_id, .. } => local_id,
        }
    }
}

/// Second pass: set a user's manager once both exist on the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagerUpdate {
    pub local_id: String,
    pub manager_local_id: String,
}

/// One PATCH of a group's members. `add` holds local ids (resolved through
/// the id map when applied, after this run's creates); `remove` remote ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberPatch {
    pub group_local_id: String,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

/// What a full run does with target accounts that the id map does not
/// know and that match no local resource.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrphanPolicy {
    /// List them in every run's report; leave them alone.
    #[default]
    Report,
    /// Deprovision them (deactivate or delete, as for users leaving scope),
    /// behind the deletion guard.
    Deprovision,
}

/// A target account with no local counterpart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orphan {
    pub resource_type: String,
    pub remote_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Ready,
    /// The deletion guard tripped: nothing may be deprovisioned until approved.
    AwaitingApproval,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub no_op: usize,
    pub deprovision: usize,
    pub unlink: usize,
    pub skip: usize,
    pub linked: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub status: PlanStatus,
    /// Users in apply order (managers before their reports).
    pub users: Vec<Action>,
    pub managers: Vec<ManagerUpdate>,
    pub groups: Vec<Action>,
    pub members: Vec<MemberPatch>,
    /// Department groups to create or update, top-down (parents first).
    pub departments: Vec<Action>,
    /// Their members: people and sub-departments' groups.
    pub department_members: Vec<MemberPatch>,
    /// Department groups to delete, bottom-up (each before the group that
    /// holds it); applied after everything else.
    pub department_removals: Vec<Action>,
    /// Active target accounts nothing here accounts for.
    pub orphans: Vec<Orphan>,
    pub warnings: Vec<String>,
    pub counts: Counts,
}

impl Plan {
    /// Every user action, then every group and department action, with its kind.
    pub fn actions(&self) -> impl Iterator<Item = (ResourceKind, &Action)> {
        self.users
            .iter()
            .map(|a| (ResourceKind::User, a))
            .chain(self.groups.iter().map(|a| (ResourceKind::Group, a)))
            .chain(
                self.departments
                    .iter()
                    .chain(&self.department_removals)
                    .map(|a| (ResourceKind::Department, a)),
            )
    }

    pub fn deprovisions(&self) -> impl Iterator<Item = &Action> {
        self.actions()
            .map(|(_, a)| a)
            .filter(|a| matches!(a, Action::Deprovision { .. }))
    }
}
