//! Applying a plan to the target with bounded concurrency: users (managers
//! first), then the second-pass manager updates, then groups, then member
//! PATCHes resolved through the id map. One object's failure is recorded
//! and never stops the others; refused credentials stop the run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::blocking;
use super::report::{ActionCounts, DepartmentCounts, HeldDeprovision, ObjectFailure};
use crate::provision::connector::{Connector, ConnectorError, MemberChange, object_id, on_target};
use crate::provision::plan::compare::{changed_attributes, state_hash};
use crate::provision::plan::managers::set_manager;
use crate::provision::plan::{Action, DeprovisionMode, ManagerUpdate, MatchKey, MemberPatch};
use crate::provision::target::AllowedActions;
use crate::scim::ResourceKind;
use crate::scim::render::format_time;
use crate::store::{LinkRecord, SyncStore};

/// One finished unit of work: the phase, how many of its `total` are done,
/// and how many writes failed in the run so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    pub phase: &'static str,
    pub done: usize,
    pub total: usize,
    pub failed: usize,
}

/// Reports progress: one call per finished unit of work.
pub type Progress = Arc<dyn Fn(Tick) + Send + Sync>;

#[derive(Default)]
struct Tally {
    counts: ActionCounts,
    /// Department groups' share of `counts`.
    department_counts: ActionCounts,
    failures: Vec<ObjectFailure>,
    held: Vec<HeldDeprovision>,
    /// local id → remote id, per kind, as it stands after this run's writes.
    users: HashMap<String, String>,
    groups: HashMap<String, String>,
    /// Users created without their manager: the pushed state, for the hash.
    created: HashMap<String, Value>,
    /// Set when the target refused our credentials: nothing more is sent.
    aborted: Option<String>,
    /// (resource type, id) of each deprovision the target accepted.
    deprovisioned: Vec<(String, String)>,
}

pub struct Applier {
    pub connector: Arc<dyn Connector>,
    pub sync: Arc<dyn SyncStore>,
    pub target_id: String,
    pub actions: AllowedActions,
    pub concurrency: usize,
    /// Stored link hashes (local id → hash), to skip rewriting equal rows.
    pub user_hashes: HashMap<String, String>,
    pub group_hashes: HashMap<String, String>,
    pub progress: Progress,
    /// How an account the target already holds is found after a 409.
    pub matching: Option<Matching>,
    /// Most creates or member changes handed to the connector at once
    /// (1: one by one).
    pub batch: usize,
    tally: Mutex<Tally>,
}

/// The matching keys of users, groups and department groups.
#[derive(Debug, Clone)]
pub struct Matching {
    pub users: MatchKey,
    pub groups: MatchKey,
    pub departments: MatchKey,
}

/// A unit of work of `apply`.
enum Unit {
    One(Action),
    Creates(Vec<NewObject>),
}

impl Unit {
    fn len(&self) -> usize {
        match self {
            Unit::One(_) => 1,
            Unit::Creates(c) => c.len(),
        }
    }
}

/// One create of a batch.
struct NewObject {
    local_id: String,
    resource: Value,
    hash: String,
}

/// A create the target answered with 409: matched after the pass.
struct RefusedCreate {
    local_id: String,
    resource: Value,
    hash: String,
    error: ConnectorError,
}

pub struct Outcome {
    pub counts: ActionCounts,
    pub failures: Vec<ObjectFailure>,
    pub held: Vec<HeldDeprovision>,
    pub aborted: Option<String>,
    /// What the deletion guard's window counts: deprovisions that happened.
    pub deprovisioned: Vec<(String, String)>,
}

fn kind_name(kind: ResourceKind) -> &'static str {
    kind.as_str()
}

fn action_name(a: &Action) -> &'static str {
    match a {
        Action::Create { .. } => "create",
        Action::Update { .. } => "update",
        Action::NoOp { .. } => "link",
        Action::Deprovision {
            mode: DeprovisionMode::Deactivate,
            ..
        } => "deactivate",
        Action::Deprovision { .. } => "delete",
        Action::Unlink { .. } => "unlink",
        Action::Skip { .. } => "skip",
    }
}

impl Applier {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        connector: Arc<dyn Connector>,
        sync: Arc<dyn SyncStore>,
        target_id: String,
        actions: AllowedActions,
        concurrency: usize,
        user_hashes: HashMap<String, String>,
        group_hashes: HashMap<String, String>,
        progress: Progress,
    ) -> Self {
        Self {
            connector,
            sync,
            target_id,
            actions,
            concurrency: concurrency.max(1),
            user_hashes,
            group_hashes,
            progress,
            matching: None,
            batch: 1,
            tally: Mutex::new(Tally::default()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Tally) -> T) -> T {
        f(&mut self.tally.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn tick(&self, phase: &'static str, done: usize, total: usize) {
        let failed = self.with(|t| t.counts.failed);
        (self.progress)(Tick {
            phase,
            done,
            total,
            failed,
        });
    }

    fn aborted(&self) -> bool {
        self.with(|t| t.aborted.is_some())
    }

    /// Adds to the counts (and to the departments' share, for a department).
    fn bump(&self, kind: ResourceKind, add: impl Fn(&mut ActionCounts)) {
        self.with(|t| {
            add(&mut t.counts);
            if kind == ResourceKind::Department {
                add(&mut t.department_counts);
            }
        });
    }

    fn fail(&self, kind: ResourceKind, local_id: &str, action: &str, error: &ConnectorError) {
        tracing::warn!(target: "audit", target_id = %self.target_id, kind = kind.as_str(), local_id, action, %error, "sync write failed");
        self.bump(kind, |c| c.failed += 1);
        self.with(|t| {
            if let ConnectorError::Unauthorized { status, detail } = error {
                t.aborted.get_or_insert_with(|| {
                    format!("the target refused the credentials ({status}): {detail}")
                });
            }
            t.failures.push(ObjectFailure {
                resource_type: kind_name(kind).to_string(),
                local_id: local_id.to_string(),
                action: action.to_string(),
                status: error.status(),
                detail: error.to_string(),
            });
        });
    }

    fn fail_local(&self, kind: ResourceKind, local_id: &str, action: &str, detail: String) {
        self.bump(kind, |c| c.failed += 1);
        self.with(|t| {
            t.failures.push(ObjectFailure {
                resource_type: kind_name(kind).to_string(),
                local_id: local_id.to_string(),
                action: action.to_string(),
                status: None,
                detail,
            });
        });
    }

    fn remember(&self, kind: ResourceKind, local_id: &str, remote_id: &str) {
        self.with(|t| {
            let map = match kind {
                ResourceKind::User => &mut t.users,
                ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
                    &mut t.groups
                }
            };
            map.insert(local_id.to_string(), remote_id.to_string());
        });
    }

    fn remote_of(&self, kind: ResourceKind, local_id: &str) -> Option<String> {
        self.with(|t| match kind {
            ResourceKind::User => t.users.get(local_id).cloned(),
            ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
                t.groups.get(local_id).cloned()
            }
        })
    }

    async fn store_link(&self, kind: ResourceKind, link: LinkRecord) {
        self.store_links(kind, vec![link]).await;
    }

    async fn store_links(&self, kind: ResourceKind, links: Vec<LinkRecord>) {
        if links.is_empty() {
            return;
        }
        let (sync, target) = (self.sync.clone(), self.target_id.clone());
        let locals: Vec<String> = links.iter().map(|l| l.local_id.clone()).collect();
        let written = blocking(move || Ok(sync.put_links(&target, kind_name(kind), &links)?)).await;
        if let Err(e) = written {
            for local in locals {
                self.fail_local(kind, &local, "link", format!("id map write: {e}"));
            }
        }
    }

    async fn drop_link(&self, kind: ResourceKind, local_id: &str) {
        let sync = self.sync.clone();
        let target = self.target_id.clone();
        let local = local_id.to_string();
        let removed =
            blocking(move || Ok(sync.remove_link(&target, kind_name(kind), &local)?)).await;
        if removed.is_err() {
            self.fail_local(kind, local_id, "unlink", "id map write failed".into());
        }
    }

    /// A department group that is gone downstream: its recorded members go too.
    async fn forget_department_group(&self, local_id: &str) {
        let (sync, target, local) = (
            self.sync.clone(),
            self.target_id.clone(),
            local_id.to_string(),
        );
        let forgotten = blocking(move || Ok(sync.forget_department_group(&target, &local)?)).await;
        if let Err(e) = forgotten {
            let detail = format!("department memberships write: {e}");
            self.fail_local(ResourceKind::Department, local_id, "unlink", detail);
        }
    }

    fn stored_hash(&self, kind: ResourceKind, local_id: &str) -> Option<&String> {
        match kind {
            ResourceKind::User => self.user_hashes.get(local_id),
            ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
                self.group_hashes.get(local_id)
            }
        }
    }

    fn skip(&self, kind: ResourceKind) {
        self.bump(kind, |c| c.skipped += 1);
    }

    /// Applies `actions` concurrently; deprovisions are held back (not
    /// applied) when `hold_deprovisions`. Creates the target refused as
    /// duplicates are matched afterwards, one at a time, once every create
    /// of this pass has claimed what it made: so an account this run just
    /// created is never adopted by another source object as well.
    pub async fn apply(&self, kind: ResourceKind, actions: Vec<Action>, hold_deprovisions: bool) {
        let total = actions.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let refused = Mutex::new(Vec::new());
        stream::iter(self.units(actions))
            .for_each_concurrent(self.concurrency, |unit| {
                let (done, refused) = (&done, &refused);
                async move {
                    let size = unit.len();
                    if !self.aborted() {
                        match unit {
                            Unit::One(action) => {
                                self.apply_one(kind, action, hold_deprovisions, refused)
                                    .await;
                            }
                            Unit::Creates(creates) => {
                                self.create_batch(kind, creates, refused).await;
                            }
                        }
                    }
                    let n = done.fetch_add(size, std::sync::atomic::Ordering::Relaxed) + size;
                    self.tick(phase(kind), n, total);
                }
            })
            .await;
        let refused = refused.into_inner().unwrap_or_else(PoisonError::into_inner);
        for duplicate in refused {
            if self.aborted() {
                break;
            }
            if !self
                .adopt(
                    kind,
                    &duplicate.local_id,
                    &duplicate.resource,
                    &duplicate.hash,
                )
                .await
            {
                self.fail(kind, &duplicate.local_id, "create", &duplicate.error);
            }
        }
    }

    /// The actions as units of work: creates in batches of `batch` where
    /// the target takes batches, everything else one by one.
    fn units(&self, actions: Vec<Action>) -> Vec<Unit> {
        if self.batch <= 1 || !self.actions.create {
            return actions.into_iter().map(Unit::One).collect();
        }
        let mut units = Vec::new();
        let mut creates: Vec<NewObject> = Vec::new();
        for action in actions {
            match action {
                Action::Create {
                    local_id,
                    resource,
                    hash,
                } => {
                    creates.push(NewObject {
                        local_id,
                        resource,
                        hash,
                    });
                    if creates.len() == self.batch {
                        units.push(Unit::Creates(std::mem::take(&mut creates)));
                    }
                }
                other => units.push(Unit::One(other)),
            }
        }
        if !creates.is_empty() {
            units.push(Unit::Creates(creates));
        }
        units
    }

    /// Creates a batch in one call; each outcome as `apply_one` takes a
    /// create's, the id-map rows written together.
    async fn create_batch(
        &self,
        kind: ResourceKind,
        creates: Vec<NewObject>,
        refused: &Mutex<Vec<RefusedCreate>>,
    ) {
        let objects: Vec<Value> = creates.iter().map(|c| c.resource.clone()).collect();
        let mut outcomes = self
            .connector
            .create_many(on_target(kind), &objects)
            .await
            .into_iter();
        let mut links = Vec::new();
        for c in creates {
            let outcome = outcomes.next().unwrap_or_else(|| {
                Err(ConnectorError::Protocol(
                    "no outcome for a create of the batch".into(),
                ))
            });
            match outcome {
                Ok(remote_id) => {
                    self.remember(kind, &c.local_id, &remote_id);
                    self.bump(kind, |n| n.created += 1);
                    self.with(|t| {
                        t.created.insert(c.local_id.clone(), c.resource);
                    });
                    links.push(LinkRecord {
                        local_id: c.local_id,
                        remote_id,
                        state_hash: c.hash,
                    });
                }
                Err(error @ ConnectorError::Rejected { status: 409, .. }) => {
                    refused
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(RefusedCreate {
                            local_id: c.local_id,
                            resource: c.resource,
                            hash: c.hash,
                            error,
                        });
                }
                Err(e) => self.fail(kind, &c.local_id, "create", &e),
            }
        }
        self.store_links(kind, links).await;
    }

    /// Applies `actions` one after the other, in their order (department
    /// groups deleted bottom-up).
    pub async fn apply_in_order(
        &self,
        kind: ResourceKind,
        actions: Vec<Action>,
        hold_deprovisions: bool,
    ) {
        let total = actions.len();
        let refused = Mutex::new(Vec::new());
        for (n, action) in actions.into_iter().enumerate() {
            if !self.aborted() {
                self.apply_one(kind, action, hold_deprovisions, &refused)
                    .await;
            }
            self.tick(phase(kind), n + 1, total);
        }
        let refused = refused.into_inner().unwrap_or_else(PoisonError::into_inner);
        for duplicate in refused {
            self.fail(kind, &duplicate.local_id, "create", &duplicate.error);
        }
    }

    /// Whether the local resource has an account on the target after this
    /// run's writes so far.
    pub fn is_on_target(&self, kind: ResourceKind, local_id: &str) -> bool {
        self.remote_of(kind, local_id).is_some()
    }

    /// Applies one action; a create the target refused as a duplicate goes
    /// to `refused`, for matching.
    async fn apply_one(
        &self,
        kind: ResourceKind,
        action: Action,
        hold: bool,
        refused: &Mutex<Vec<RefusedCreate>>,
    ) {
        let name = action_name(&action);
        match action {
            Action::Create {
                local_id,
                resource,
                hash,
            } => {
                if !self.actions.create {
                    return self.skip(kind);
                }
                match self.connector.create(on_target(kind), &resource).await {
                    Ok(remote_id) => {
                        self.remember(kind, &local_id, &remote_id);
                        self.bump(kind, |c| c.created += 1);
                        self.with(|t| {
                            t.created.insert(local_id.clone(), resource);
                        });
                        self.store_link(
                            kind,
                            LinkRecord {
                                local_id,
                                remote_id,
                                state_hash: hash,
                            },
                        )
                        .await;
                    }
                    // Already there (e.g. a retried POST that had succeeded):
                    // adopt the account instead of failing.
                    Err(error @ ConnectorError::Rejected { status: 409, .. }) => {
                        refused.lock().unwrap_or_else(PoisonError::into_inner).push(
                            RefusedCreate {
                                local_id,
                                resource,
                                hash,
                                error,
                            },
                        );
                    }
                    Err(e) => self.fail(kind, &local_id, name, &e),
                }
            }
            Action::Update {
                local_id,
                remote_id,
                resource,
                changed,
                hash,
                newly_linked,
            } => {
                self.remember(kind, &local_id, &remote_id);
                if newly_linked {
                    self.bump(kind, |c| c.linked += 1);
                }
                if !self.actions.update {
                    self.skip(kind);
                } else {
                    let names: Vec<String> = changed.into_iter().map(|c| c.attribute).collect();
                    match self.update(kind, &remote_id, &resource, &names).await {
                        Ok(()) => self.bump(kind, |c| c.updated += 1),
                        Err(e) => return self.fail(kind, &local_id, name, &e),
                    }
                }
                self.store_link(
                    kind,
                    LinkRecord {
                        local_id,
                        remote_id,
                        state_hash: hash,
                    },
                )
                .await;
            }
            Action::NoOp {
                local_id,
                remote_id,
                hash,
                newly_linked,
            } => {
                self.remember(kind, &local_id, &remote_id);
                self.bump(kind, |c| {
                    c.unchanged += 1;
                    c.linked += usize::from(newly_linked);
                });
                if self.stored_hash(kind, &local_id) != Some(&hash) {
                    self.store_link(
                        kind,
                        LinkRecord {
                            local_id,
                            remote_id,
                            state_hash: hash,
                        },
                    )
                    .await;
                }
            }
            Action::Deprovision {
                local_id,
                remote_id,
                mode,
                reason,
                name,
            } => {
                if hold {
                    let held_at = Some(format_time(&chrono::Utc::now()));
                    return self.with(|t| {
                        t.held.push(HeldDeprovision {
                            resource_type: kind_name(kind).to_string(),
                            local_id,
                            remote_id,
                            mode,
                            reason: HeldDeprovision::reason_text(reason).to_string(),
                            name,
                            held_at,
                        })
                    });
                }
                self.deprovision(kind, &local_id, &remote_id, mode).await;
            }
            Action::Unlink { local_id, .. } => {
                self.drop_link(kind, &local_id).await;
                if kind == ResourceKind::Department {
                    self.forget_department_group(&local_id).await;
                }
            }
            Action::Skip { .. } => self.skip(kind),
        }
    }

    /// Links the one unclaimed target account matching `resource` and
    /// brings it up to date; false when there is no such single account.
    async fn adopt(
        &self,
        kind: ResourceKind,
        local_id: &str,
        resource: &Value,
        hash: &str,
    ) -> bool {
        let Some(matching) = &self.matching else {
            return false;
        };
        let key = match kind {
            ResourceKind::User => &matching.users,
            ResourceKind::Group => &matching.groups,
            ResourceKind::Department | ResourceKind::Plain(_) => &matching.departments,
        };
        let Some(value) = key.key(on_target(kind), resource) else {
            return false;
        };
        let Ok(found) = self.connector.find(on_target(kind), key, &value).await else {
            return false;
        };
        let [remote] = found.as_slice() else {
            return false;
        };
        let Some(remote_id) = object_id(remote) else {
            return false;
        };
        let claimed = self.with(|t| {
            let map = match kind {
                ResourceKind::User => &t.users,
                ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
                    &t.groups
                }
            };
            map.values().any(|r| r == remote_id)
        });
        if claimed {
            return false;
        }
        let changed = changed_attributes(on_target(kind), resource, remote);
        if !changed.is_empty() {
            if let Err(e) = self.update(kind, remote_id, resource, &changed).await {
                self.fail(kind, local_id, "update", &e);
                return true;
            }
            self.bump(kind, |c| c.updated += 1);
        }
        self.remember(kind, local_id, remote_id);
        self.bump(kind, |c| c.linked += 1);
        self.with(|t| {
            t.created.insert(local_id.to_string(), resource.clone());
        });
        self.store_link(
            kind,
            LinkRecord {
                local_id: local_id.to_string(),
                remote_id: remote_id.to_string(),
                state_hash: hash.to_string(),
            },
        )
        .await;
        true
    }

    async fn update(
        &self,
        kind: ResourceKind,
        remote_id: &str,
        resource: &Value,
        changed: &[String],
    ) -> Result<(), ConnectorError> {
        self.connector
            .update(on_target(kind), remote_id, resource, Some(changed))
            .await
    }

    /// Deactivates or deletes one linked account (allowed actions permitting).
    pub async fn deprovision(
        &self,
        kind: ResourceKind,
        local_id: &str,
        remote_id: &str,
        mode: DeprovisionMode,
    ) {
        let deactivate = mode == DeprovisionMode::Deactivate && kind == ResourceKind::User;
        let allowed = if deactivate {
            self.actions.deactivate
        } else {
            self.actions.delete
        };
        if !allowed {
            return self.skip(kind);
        }
        // An orphan has no local id: the window counts it by its remote one.
        let counted = (
            kind.as_str().to_string(),
            if local_id.is_empty() {
                remote_id
            } else {
                local_id
            }
            .to_string(),
        );
        if deactivate {
            match self.connector.deactivate(remote_id).await {
                Ok(()) => {
                    self.bump(kind, |c| c.deactivated += 1);
                    self.with(|t| t.deprovisioned.push(counted));
                }
                Err(e) => self.fail(kind, local_id, "deactivate", &e),
            }
        } else {
            match self.connector.delete(on_target(kind), remote_id).await {
                Ok(()) => {
                    self.bump(kind, |c| c.deleted += 1);
                    self.with(|t| t.deprovisioned.push(counted));
                    self.drop_link(kind, local_id).await;
                    if kind == ResourceKind::Department {
                        self.forget_department_group(local_id).await;
                    }
                }
                Err(e) => self.fail(kind, local_id, "delete", &e),
            }
        }
    }

    /// Second pass: managers created in this run are set on their reports.
    pub async fn set_managers(&self, updates: Vec<ManagerUpdate>) {
        let total = updates.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        stream::iter(updates)
            .for_each_concurrent(self.concurrency, |u| {
                let done = &done;
                async move {
                    if !self.aborted() {
                        self.set_manager(u).await;
                    }
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    self.tick("managers", n, total);
                }
            })
            .await;
    }

    async fn set_manager(&self, u: ManagerUpdate) {
        let kind = ResourceKind::User;
        let (Some(remote), Some(manager)) = (
            self.remote_of(kind, &u.local_id),
            self.remote_of(kind, &u.manager_local_id),
        ) else {
            // The user or its manager failed to be created: already recorded.
            return;
        };
        match self.connector.set_manager(&remote, &manager).await {
            Ok(()) => {
                self.bump(kind, |c| c.manager_updates += 1);
                let pushed = self.with(|t| t.created.get(&u.local_id).cloned());
                if let Some(mut state) = pushed {
                    set_manager(&mut state, Some(&manager));
                    self.store_link(
                        kind,
                        LinkRecord {
                            local_id: u.local_id,
                            remote_id: remote,
                            state_hash: state_hash(&state),
                        },
                    )
                    .await;
                }
            }
            Err(e) => self.fail(kind, &u.local_id, "set_manager", &e),
        }
    }

    /// Member PATCHes of groups (`kind` Group) or department groups
    /// (Department), with this run's new users and groups resolved.
    pub async fn patch_members(&self, kind: ResourceKind, patches: Vec<MemberPatch>) {
        let total = patches.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        // Batches of one where the target takes changes one by one.
        stream::iter(patches)
            .chunks(self.batch.max(1))
            .for_each_concurrent(self.concurrency, |batch| {
                let done = &done;
                async move {
                    let size = batch.len();
                    if !self.aborted() {
                        self.patch_batch(kind, batch).await;
                    }
                    let n = done.fetch_add(size, std::sync::atomic::Ordering::Relaxed) + size;
                    self.tick("memberships", n, total);
                }
            })
            .await;
    }

    /// A member patch by the target's ids (this run's new objects
    /// resolved); None when there is nothing to send.
    fn resolve(&self, kind: ResourceKind, p: &MemberPatch) -> Option<MemberChange> {
        let group = self.remote_of(kind, &p.group_local_id)?;
        let added: Vec<String> = p
            .add
            .iter()
            .filter_map(|local| {
                self.remote_of(ResourceKind::User, local)
                    .or_else(|| self.remote_of(ResourceKind::Group, local))
            })
            .collect();
        if (added.is_empty() && p.remove.is_empty()) || !self.actions.update {
            return None;
        }
        Some(MemberChange {
            group_id: group,
            add: added,
            remove: p.remove.clone(),
        })
    }

    fn patched(&self, kind: ResourceKind, group_local_id: &str, sent: Result<(), ConnectorError>) {
        match sent {
            Ok(()) => self.bump(kind, |c| c.member_patches += 1),
            Err(e) => self.fail(kind, group_local_id, "members", &e),
        }
    }

    /// Member patches of a batch in one call where the target takes batches.
    async fn patch_batch(&self, kind: ResourceKind, patches: Vec<MemberPatch>) {
        let (locals, changes): (Vec<String>, Vec<MemberChange>) = patches
            .iter()
            .filter_map(|p| Some((p.group_local_id.clone(), self.resolve(kind, p)?)))
            .unzip();
        let mut outcomes = self
            .connector
            .change_members_many(&changes)
            .await
            .into_iter();
        for local in locals {
            let sent = outcomes.next().unwrap_or_else(|| {
                Err(ConnectorError::Protocol(
                    "no outcome for a member change of the batch".into(),
                ))
            });
            self.patched(kind, &local, sent);
        }
    }

    pub fn finish(self) -> Outcome {
        let t = self
            .tally
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let mut counts = t.counts;
        counts.departments = DepartmentCounts::of(&t.department_counts);
        Outcome {
            counts,
            failures: t.failures,
            held: t.held,
            aborted: t.aborted,
            deprovisioned: t.deprovisioned,
        }
    }
}

fn phase(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "users",
        ResourceKind::Group => "groups",
        ResourceKind::Department | ResourceKind::Plain(_) => "departments",
    }
}
