//! The sync center's storage seam: targets, the id map and run reports.
//! Kept apart from `Store` so the inbound SCIM path never sees it.

use chrono::{DateTime, Utc};

use super::StoreResult;

/// A downstream target as stored. `credentials` is sealed (see
/// `provision::crypto`); the store never sees it in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRecord {
    pub id: String,
    pub name: String,
    pub base_url: String,
    pub credentials: String,
    /// JSON of `provision::target::TargetSettings`.
    pub settings: String,
    /// JSON of a `provision::mapping::MappingFile`; `None` is the identity mapping.
    pub mapping: Option<String>,
    /// A SCIM filter choosing the users in scope; `None` is everyone.
    pub scope: Option<String>,
    /// Last change-log `seq` this target has consumed.
    pub change_cursor: i64,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub state: TargetState,
}

/// Whether the real-time worker pushes to a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    /// Added, never synced: nothing is pushed until its initial full run
    /// (or an explicit resume).
    New,
    Active,
    /// Paused by an admin: changes wait behind the cursor.
    Paused,
}

impl TargetState {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::New => "new",
            TargetState::Active => "active",
            TargetState::Paused => "paused",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "new" => Some(TargetState::New),
            "active" => Some(TargetState::Active),
            "paused" => Some(TargetState::Paused),
            _ => None,
        }
    }
}

/// One id-map row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    pub local_id: String,
    pub remote_id: String,
    pub state_hash: String,
}

/// One member a target's department group was last given: a person or a
/// sub-department (`member_type` `User` or `Department`), by local ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DepartmentMembership {
    pub department_id: String,
    pub member_type: String,
    pub member_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub id: String,
    pub target_id: String,
    pub status: String,
    pub dry_run: bool,
    pub started: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    /// JSON counts per action.
    pub counts: String,
    /// JSON of what awaits approval (the held deprovisions).
    pub pending: Option<String>,
    /// JSON of the run's warnings, dry-run plan and error.
    pub summary: Option<String>,
    /// JSON of how far a running run got (`set_run_progress`; `create_run`
    /// and `update_run` leave it alone).
    pub progress: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureRecord {
    pub resource_type: String,
    pub local_id: String,
    pub action: String,
    /// The target's HTTP status, when it answered.
    pub status: Option<i32>,
    pub detail: String,
}

/// One object in a target's failure queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    pub id: String,
    pub target_id: String,
    pub resource_type: String,
    pub local_id: String,
    /// What was attempted: create, update, deactivate, delete, members…
    pub operation: String,
    /// JSON of what was sent last, for people to read (retries recompute it).
    pub payload: Option<String>,
    /// `retrying` (automatic) or `permanent` (waits for an admin).
    pub status: String,
    pub attempts: i32,
    pub next_attempt: DateTime<Utc>,
    pub last_status: Option<i32>,
    pub last_error: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// How many failure-queue entries a target has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    pub target_id: String,
    pub depth: i64,
    /// Of them, `permanent` (waiting for an admin).
    pub permanent: i64,
}

/// A target's failure queue at a glance: how deep, and the error of the
/// entry updated last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueSummary {
    pub depth: usize,
    pub newest_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineRecord {
    pub reason: String,
    pub since: DateTime<Utc>,
}

pub trait SyncStore: Send + Sync + 'static {
    /// Fails with a `uniqueness` rejection when the name is taken.
    fn create_target(&self, target: TargetRecord) -> StoreResult<()>;
    fn find_target(&self, name: &str) -> StoreResult<Option<TargetRecord>>;
    fn find_target_by_id(&self, id: &str) -> StoreResult<Option<TargetRecord>>;
    fn list_targets(&self) -> StoreResult<Vec<TargetRecord>>;
    /// Removes the target with its id map and runs; false when there is none.
    fn delete_target(&self, name: &str) -> StoreResult<bool>;
    /// Replaces a target's URL, credentials, settings, mapping and scope
    /// (and `updated`), keeping its id map, runs, queue and cursor.
    fn update_target(&self, target: &TargetRecord) -> StoreResult<()>;
    /// Sets the state; with `cursor`, also moves the cursor forward to it.
    fn set_target_state(
        &self,
        target_id: &str,
        state: TargetState,
        cursor: Option<i64>,
    ) -> StoreResult<()>;
    /// After a target's initial full run: `new` becomes `active` following
    /// the change log from `cursor` (the head when the run started). False
    /// when the target was no longer `new`.
    fn finish_initial_sync(&self, target_id: &str, cursor: i64) -> StoreResult<bool>;

    /// Records deprovisions applied without approval (the guard's window).
    fn record_deprovisions(
        &self,
        target_id: &str,
        objects: &[(String, String)],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Deprovisions recorded for the target since `since`.
    fn deprovisions_since(&self, target_id: &str, since: DateTime<Utc>) -> StoreResult<usize>;
    /// Forgets the target's recorded deprovisions (an admin approved them).
    fn clear_deprovisions(&self, target_id: &str) -> StoreResult<()>;
    /// Rows in the change log after `seq` (a target's lag).
    fn changes_pending(&self, after_seq: i64) -> StoreResult<i64>;

    fn links(&self, target_id: &str, resource_type: &str) -> StoreResult<Vec<LinkRecord>>;
    /// The id-map rows of just these local ids (those that have one).
    fn links_of(
        &self,
        target_id: &str,
        resource_type: &str,
        local_ids: &[String],
    ) -> StoreResult<Vec<LinkRecord>>;
    /// How many id-map rows the target has (users and groups).
    fn count_links(&self, target_id: &str) -> StoreResult<usize>;
    /// Inserts or replaces the row for `link.local_id`.
    fn put_link(&self, target_id: &str, resource_type: &str, link: &LinkRecord) -> StoreResult<()>;
    /// `put_link` for many rows at once (one transaction).
    fn put_links(
        &self,
        target_id: &str,
        resource_type: &str,
        links: &[LinkRecord],
    ) -> StoreResult<()>;
    fn remove_link(&self, target_id: &str, resource_type: &str, local_id: &str) -> StoreResult<()>;

    /// The department groups (local department ids) a person or department
    /// (`member_type` `User` / `Department`) was last put in on the target.
    fn department_containers(
        &self,
        target_id: &str,
        member_type: &str,
        member_id: &str,
    ) -> StoreResult<Vec<String>>;
    /// Replaces what `department_containers` answers for one member.
    fn set_department_containers(
        &self,
        target_id: &str,
        member_type: &str,
        member_id: &str,
        departments: &[String],
    ) -> StoreResult<()>;
    /// Replaces the recorded members of one department group.
    fn set_department_members(
        &self,
        target_id: &str,
        department_id: &str,
        members: &[DepartmentMembership],
    ) -> StoreResult<()>;
    /// The recorded members of one department group.
    fn department_members(
        &self,
        target_id: &str,
        department_id: &str,
    ) -> StoreResult<Vec<DepartmentMembership>>;
    /// Forgets a department group that is gone: its members and its own
    /// place in its parent's group.
    fn forget_department_group(&self, target_id: &str, department_id: &str) -> StoreResult<()>;
    /// Replaces every recorded department membership of the target (after a
    /// full run).
    fn replace_department_memberships(
        &self,
        target_id: &str,
        rows: &[DepartmentMembership],
    ) -> StoreResult<()>;

    fn create_run(&self, run: &RunRecord) -> StoreResult<()>;
    /// Records the end state of a run (status, finish time, counts, pending).
    fn update_run(&self, run: &RunRecord) -> StoreResult<()>;
    fn get_run(&self, id: &str) -> StoreResult<Option<RunRecord>>;
    /// Records how far a run got, while it is still `running`.
    fn set_run_progress(&self, id: &str, progress: &str) -> StoreResult<()>;
    /// A target's runs, newest first, at most `limit`.
    fn list_runs(&self, target_id: &str, limit: u32) -> StoreResult<Vec<RunRecord>>;
    /// Runs of one target (or all) with one status (or any), newest first.
    fn find_runs(
        &self,
        target_id: Option<&str>,
        status: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<RunRecord>>;
    /// How many runs each target has in each status: (target id, status, n).
    fn run_counts(&self) -> StoreResult<Vec<(String, String, i64)>>;
    fn add_failure(&self, run_id: &str, failure: &FailureRecord) -> StoreResult<()>;
    fn failures(&self, run_id: &str) -> StoreResult<Vec<FailureRecord>>;

    fn link(
        &self,
        target_id: &str,
        resource_type: &str,
        local_id: &str,
    ) -> StoreResult<Option<LinkRecord>>;
    /// Moves the target's change-log cursor (never backwards).
    fn set_cursor(&self, target_id: &str, seq: i64) -> StoreResult<()>;

    /// Inserts or replaces the entry for the entry's object.
    fn queue_put(&self, entry: &QueueRecord) -> StoreResult<()>;
    fn queue_find(
        &self,
        target_id: &str,
        resource_type: &str,
        local_id: &str,
    ) -> StoreResult<Option<QueueRecord>>;
    /// `retrying` entries whose next attempt is due, oldest first.
    fn queue_due(
        &self,
        target_id: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<QueueRecord>>;
    fn queue_list(&self, target_id: Option<&str>) -> StoreResult<Vec<QueueRecord>>;
    /// A target's queue depth and newest error (a count and one row, not the queue).
    fn queue_summary(&self, target_id: &str) -> StoreResult<QueueSummary>;
    fn queue_get(&self, id: &str) -> StoreResult<Option<QueueRecord>>;
    /// Removes an object's entry (it was written); false when there was none.
    fn queue_remove(
        &self,
        target_id: &str,
        resource_type: &str,
        local_id: &str,
    ) -> StoreResult<bool>;
    fn queue_remove_id(&self, id: &str) -> StoreResult<bool>;
    /// Makes entries due now and `retrying` again: one (`id`) or all of a
    /// target (or of every target); returns how many.
    fn queue_retry(&self, id: Option<&str>, target_id: Option<&str>) -> StoreResult<usize>;

    /// Takes or renews the lease `name` for `ttl`; false when another
    /// holder's lease has not expired.
    fn try_lease(&self, name: &str, holder: &str, ttl: chrono::Duration) -> StoreResult<bool>;
    fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()>;

    fn quarantine(&self, target_id: &str) -> StoreResult<Option<QuarantineRecord>>;
    /// Quarantines (`Some(reason)`) or releases (`None`) a target.
    fn set_quarantine(&self, target_id: &str, reason: Option<&str>) -> StoreResult<()>;

    /// Every target with queue entries, and how many.
    fn queue_depths(&self) -> StoreResult<Vec<QueueDepth>>;
    /// Raises a target's "queue keeps growing" alert; false when it was
    /// already raised (by this or another instance).
    fn raise_queue_alert(&self, target_id: &str, depth: i64) -> StoreResult<bool>;
    /// The targets whose alert is raised.
    fn queue_alerts(&self) -> StoreResult<Vec<String>>;
    /// Clears a target's alert (its queue drained).
    fn clear_queue_alert(&self, target_id: &str) -> StoreResult<()>;
}
