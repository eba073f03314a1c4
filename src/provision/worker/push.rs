//! Pushing one changed resource to a target, from its current state: the
//! incremental counterpart of a full run's plan for a single object.
//! Unchanged state (same hash as last pushed) writes nothing. On-demand
//! provisioning drives the same session with a step recorder (and maybe a
//! dry run); the worker's sessions have none.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use crate::provision::connector::{Capabilities, Connector, ConnectorError, object_id, on_target};
use crate::provision::on_demand::{MatchHow, Recorder, Step};
use crate::provision::plan::compare::{changed_attributes, state_hash};
use crate::provision::plan::managers::{manager_of, set_manager};
use crate::provision::plan::members::{diff, remote_members};
use crate::provision::plan::{DeprovisionMode, DeprovisionReason, MatchKey, Source, display_name};
use crate::provision::runs::guard_window;
use crate::provision::runs::report::HeldDeprovision;
use crate::provision::runs::source::{self, LocalOne, scope_group_ids};
use crate::provision::runs::{LoadedTarget, SyncError, blocking};
use crate::scim::ResourceKind;
use crate::store::{LinkRecord, Store, SyncStore};

/// What pushing one object did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    Created,
    Linked,
    Updated,
    Deactivated,
    Deleted,
    Unchanged,
    /// Not on the target and not wanted there, or the action is not allowed.
    Nothing,
    /// A deprovision the deletion guard holds for approval (not stored yet).
    Held(Box<HeldDeprovision>),
}

impl Pushed {
    /// The word metrics and reports use for it.
    pub fn action(&self) -> &'static str {
        match self {
            Pushed::Created => "created",
            Pushed::Linked => "linked",
            Pushed::Updated => "updated",
            Pushed::Deactivated => "deactivated",
            Pushed::Deleted => "deleted",
            Pushed::Unchanged => "unchanged",
            Pushed::Nothing => "nothing",
            Pushed::Held(_) => "held",
        }
    }
}

/// A write the target refused or could not take.
#[derive(Debug)]
pub struct PushFailure {
    pub operation: &'static str,
    pub payload: Option<Value>,
    pub error: ConnectorError,
}

#[derive(Debug)]
pub enum PushError {
    Target(PushFailure),
    Internal(SyncError),
}

impl From<SyncError> for PushError {
    fn from(e: SyncError) -> Self {
        PushError::Internal(e)
    }
}

pub(super) fn failed(
    operation: &'static str,
    payload: Option<&Value>,
    error: ConnectorError,
) -> PushError {
    PushError::Target(PushFailure {
        operation,
        payload: payload.cloned(),
        error,
    })
}

/// One worker pass's view of a target.
pub struct Session {
    pub target: Arc<LoadedTarget>,
    pub connector: Arc<dyn Connector>,
    pub capabilities: Capabilities,
    pub store: Arc<dyn Store>,
    pub sync: Arc<dyn SyncStore>,
    pub user_match: MatchKey,
    pub group_match: MatchKey,
    pub department_match: MatchKey,
    pub scope_groups: Arc<HashSet<String>>,
    /// On-demand provisioning's steps (and dry run); `None` in the worker.
    pub recorder: Option<Arc<Recorder>>,
}

impl Session {
    /// A session over `connector`: the target's capabilities (read from
    /// it), matching keys and scope groups read now.
    pub async fn open(
        target: Arc<LoadedTarget>,
        connector: Arc<dyn Connector>,
        store: Arc<dyn Store>,
        sync: Arc<dyn SyncStore>,
    ) -> Result<Self, SyncError> {
        let capabilities = connector.capabilities().await.unwrap_or_default();
        let options = target.plan_options(capabilities.member_batch)?;
        let (reader, names) = (store.clone(), target.settings.scope_groups.clone());
        let scope_groups = blocking(move || Ok(scope_group_ids(reader.as_ref(), &names)?)).await?;
        Ok(Self {
            target,
            connector,
            capabilities,
            store,
            sync,
            user_match: options.user_match,
            group_match: options.group_match,
            department_match: options.department_match,
            scope_groups: Arc::new(scope_groups),
            recorder: None,
        })
    }

    /// Records every step from now on in `recorder` (whose dry run writes
    /// nothing to the id map; the connector records the exchanges).
    pub fn with_recorder(mut self, recorder: Arc<Recorder>) -> Self {
        self.recorder = Some(recorder);
        self
    }

    pub(super) fn id(&self) -> String {
        self.target.record.id.clone()
    }

    fn note(&self, step: impl FnOnce() -> Step) {
        if let Some(recorder) = &self.recorder {
            recorder.note(step());
        }
    }

    /// The recorder of a dry run (whose id-map writes are only staged).
    pub(super) fn dry_run(&self) -> Option<&Recorder> {
        self.recorder.as_deref().filter(|r| r.dry_run())
    }

    pub async fn link(
        &self,
        kind: ResourceKind,
        local_id: &str,
    ) -> Result<Option<LinkRecord>, SyncError> {
        if let Some(staged) = self.dry_run().and_then(|r| r.staged_link(kind, local_id)) {
            return Ok(staged);
        }
        let (sync, target, local) = (self.sync.clone(), self.id(), local_id.to_string());
        blocking(move || Ok(sync.link(&target, kind.as_str(), &local)?)).await
    }

    /// The id map's user and group rows (members can be either).
    async fn member_links(&self) -> Result<(Vec<LinkRecord>, Vec<LinkRecord>), SyncError> {
        let (sync, target) = (self.sync.clone(), self.id());
        let (mut users, mut groups) = blocking(move || {
            Ok((
                sync.links(&target, ResourceKind::User.as_str())?,
                sync.links(&target, ResourceKind::Group.as_str())?,
            ))
        })
        .await?;
        if let Some(recorder) = self.dry_run() {
            recorder.overlay(ResourceKind::User, &mut users);
            recorder.overlay(ResourceKind::Group, &mut groups);
        }
        Ok((users, groups))
    }

    pub(super) async fn put_link(
        &self,
        kind: ResourceKind,
        link: LinkRecord,
    ) -> Result<(), SyncError> {
        if let Some(recorder) = self.dry_run() {
            recorder.stage_link(kind, &link.local_id.clone(), Some(link));
            return Ok(());
        }
        let (sync, target) = (self.sync.clone(), self.id());
        blocking(move || Ok(sync.put_link(&target, kind.as_str(), &link)?)).await
    }

    async fn drop_link(&self, kind: ResourceKind, local_id: &str) -> Result<(), SyncError> {
        if let Some(recorder) = self.dry_run() {
            recorder.stage_link(kind, local_id, None);
            return Ok(());
        }
        let (sync, target, local) = (self.sync.clone(), self.id(), local_id.to_string());
        blocking(move || Ok(sync.remove_link(&target, kind.as_str(), &local)?)).await
    }

    /// Reads `local_id` now and makes the target agree with it; on a target
    /// that takes departments as groups, a person's or department's place
    /// in the department groups follows.
    pub async fn push(&self, kind: ResourceKind, local_id: &str) -> Result<Pushed, PushError> {
        let pushed = self.push_object(kind, local_id).await?;
        let places = kind != ResourceKind::Group
            && self.target.departments.as_groups()
            && !matches!(pushed, Pushed::Held(_))
            && self.dry_run().is_none();
        if places && self.sync_containers(kind, local_id).await? && pushed == Pushed::Unchanged {
            return Ok(Pushed::Updated);
        }
        Ok(pushed)
    }

    async fn push_object(&self, kind: ResourceKind, local_id: &str) -> Result<Pushed, PushError> {
        let local = self.load(kind, local_id).await?;
        let link = self.link(kind, local_id).await?;
        match (local, link) {
            (LocalOne::InScope(source), link) => self.upsert(kind, source, link).await,
            (LocalOne::OutOfScope(_), Some(link)) => {
                self.deprovision(kind, link, DeprovisionReason::OutOfScope)
                    .await
            }
            (LocalOne::Gone, Some(link)) => {
                self.deprovision(kind, link, DeprovisionReason::Gone).await
            }
            (LocalOne::OutOfScope(_) | LocalOne::Gone, None) => Ok(Pushed::Nothing),
        }
    }

    /// `local_id` as it is now, and whether it belongs on the target.
    pub async fn load(&self, kind: ResourceKind, local_id: &str) -> Result<LocalOne, SyncError> {
        let store = self.store.clone();
        let target = self.target.clone();
        let scope_groups = self.scope_groups.clone();
        let id = local_id.to_string();
        blocking(move || {
            Ok(source::load_one(
                store.as_ref(),
                &target,
                kind,
                &id,
                &scope_groups,
            )?)
        })
        .await
    }

    /// Creates, adopts or updates an object in scope (`link`: its id-map row).
    pub async fn upsert(
        &self,
        kind: ResourceKind,
        source: Source,
        link: Option<LinkRecord>,
    ) -> Result<Pushed, PushError> {
        let mut desired = source.resource;
        if kind == ResourceKind::User
            && let Some(manager) = manager_of(&desired)
        {
            let remote = self
                .link(ResourceKind::User, &manager)
                .await?
                .map(|l| l.remote_id);
            set_manager(&mut desired, remote.as_deref());
        }
        self.note(|| Step::Resource {
            resource: desired.clone(),
        });
        let hash = state_hash(&desired);
        let actions = self.target.settings.actions;
        let (remote_id, pushed) = match link {
            Some(l) if l.state_hash == hash => {
                self.note(|| Step::Match {
                    how: MatchHow::IdMap,
                    remote_id: Some(l.remote_id.clone()),
                    detail: "linked in the id map; unchanged since the last push".into(),
                });
                (l.remote_id, Pushed::Unchanged)
            }
            Some(l) => {
                self.note(|| Step::Match {
                    how: MatchHow::IdMap,
                    remote_id: Some(l.remote_id.clone()),
                    detail: "linked in the id map; changed since the last push: update".into(),
                });
                if !actions.update {
                    self.note(|| not_allowed("update"));
                    return Ok(Pushed::Nothing);
                }
                self.connector
                    .update(on_target(kind), &l.remote_id, &desired, None)
                    .await
                    .map_err(|e| failed("update", Some(&desired), e))?;
                (l.remote_id, Pushed::Updated)
            }
            None => match self.adopt(kind, &desired).await? {
                Some(remote_id) => (remote_id, Pushed::Linked),
                None => {
                    if !actions.create {
                        self.note(|| not_allowed("create"));
                        return Ok(Pushed::Nothing);
                    }
                    let id = self
                        .connector
                        .create(on_target(kind), &desired)
                        .await
                        .map_err(|e| failed("create", Some(&desired), e))?;
                    (id, Pushed::Created)
                }
            },
        };
        if pushed != Pushed::Unchanged {
            self.put_link(
                kind,
                LinkRecord {
                    local_id: source.local_id.clone(),
                    remote_id: remote_id.clone(),
                    state_hash: hash,
                },
            )
            .await?;
        }
        if actions.update {
            let members_changed = match kind {
                ResourceKind::Group => {
                    self.sync_members(&source.local_id, &remote_id, &source.members)
                        .await?
                }
                ResourceKind::Department | ResourceKind::Plain(_) => {
                    self.sync_department_members(&source.local_id, &remote_id)
                        .await?
                }
                ResourceKind::User => false,
            };
            if members_changed && pushed == Pushed::Unchanged {
                return Ok(Pushed::Updated);
            }
        }
        Ok(pushed)
    }

    /// Notes that no account is adopted, and why (worded only when recording).
    fn note_create(&self, why: impl FnOnce() -> String) {
        self.note(|| Step::Match {
            how: MatchHow::Create,
            remote_id: None,
            detail: format!("not in the id map; {}: to be created", why()),
        });
    }

    /// Finds the target's existing account by the matching key (on targets
    /// that filter) and brings it up to date.
    async fn adopt(
        &self,
        kind: ResourceKind,
        desired: &Value,
    ) -> Result<Option<String>, PushError> {
        let key = match kind {
            ResourceKind::User => &self.user_match,
            ResourceKind::Group => &self.group_match,
            ResourceKind::Department | ResourceKind::Plain(_) => &self.department_match,
        };
        let kind = on_target(kind);
        if !self.capabilities.lookup {
            self.note_create(|| "the target cannot filter, so no account is looked up".into());
            return Ok(None);
        }
        let Some(value) = key.key(kind, desired) else {
            self.note_create(|| format!("no value for the matching attribute {}", key.path.attr));
            return Ok(None);
        };
        let found = self
            .connector
            .find(kind, key, &value)
            .await
            .map_err(|e| failed("match", None, e))?;
        let filter = format!("{} {}", key.path.attr, Value::String(value.clone()));
        let [remote] = found.as_slice() else {
            self.note_create(|| format!("{} accounts match {filter}", found.len()));
            return Ok(None);
        };
        let Some(remote_id) = object_id(remote) else {
            self.note_create(|| format!("the account matching {filter} has no id"));
            return Ok(None);
        };
        let changed = changed_attributes(kind, desired, remote);
        self.note(|| Step::Match {
            how: MatchHow::Adopted,
            remote_id: Some(remote_id.to_string()),
            detail: if changed.is_empty() {
                format!("not in the id map; adopted the account matching {filter}")
            } else {
                format!(
                    "not in the id map; adopted the account matching {filter} (differs in {})",
                    changed.join(", ")
                )
            },
        });
        if !changed.is_empty() && self.target.settings.actions.update {
            self.connector
                .update(kind, remote_id, desired, Some(&changed))
                .await
                .map_err(|e| failed("update", Some(desired), e))?;
        }
        Ok(Some(remote_id.to_string()))
    }

    /// Member PATCHes from the target's actual members; true when sent.
    async fn sync_members(
        &self,
        group_local: &str,
        group_remote: &str,
        members: &[String],
    ) -> Result<bool, PushError> {
        let (users, groups) = self.member_links().await?;
        let remote_of: HashMap<&str, &str> = users
            .iter()
            .chain(&groups)
            .map(|l| (l.local_id.as_str(), l.remote_id.as_str()))
            .collect();
        self.set_members(group_local, group_remote, members, &remote_of)
            .await
    }

    /// Makes the target's group hold exactly the `members` (local ids)
    /// that `remote_of` places on the target; true when a PATCH was sent.
    pub(super) async fn set_members(
        &self,
        group_local: &str,
        group_remote: &str,
        members: &[String],
        remote_of: &HashMap<&str, &str>,
    ) -> Result<bool, PushError> {
        let Some(remote) = self
            .connector
            .get(ResourceKind::Group, group_remote)
            .await
            .map_err(|e| failed("members", None, e))?
        else {
            return Ok(false);
        };
        let current = remote_members(&remote);
        // Members not on the target (out of scope, not yet pushed) are left out.
        let desired: Vec<String> = members
            .iter()
            .filter(|m| remote_of.contains_key(m.as_str()))
            .cloned()
            .collect();
        let batch = self.capabilities.member_batch;
        let patches = diff(group_local, &desired, &current, remote_of, batch);
        let mut sent = false;
        for p in patches {
            let add: Vec<String> = p
                .add
                .iter()
                .filter_map(|l| remote_of.get(l.as_str()).map(|r| r.to_string()))
                .collect();
            if add.is_empty() && p.remove.is_empty() {
                continue;
            }
            self.connector
                .change_members(group_remote, &add, &p.remove)
                .await
                .map_err(|e| failed("members", None, e))?;
            sent = true;
        }
        Ok(sent)
    }

    /// Whether the deletion guard lets one more deprovision go now.
    async fn guard_admits(&self) -> Result<bool, SyncError> {
        let (sync, target, guard) = (self.sync.clone(), self.id(), self.target.settings.guard);
        blocking(move || guard_window::admits(sync.as_ref(), &target, &guard, 1)).await
    }

    async fn record_deprovision(
        &self,
        kind: ResourceKind,
        local_id: &str,
    ) -> Result<(), SyncError> {
        if self.dry_run().is_some() {
            return Ok(());
        }
        let (sync, target) = (self.sync.clone(), self.id());
        let object = vec![(kind.as_str().to_string(), local_id.to_string())];
        blocking(move || guard_window::record(sync.as_ref(), &target, &object)).await
    }

    /// The deprovision, held for approval with the account's name.
    async fn held(
        &self,
        kind: ResourceKind,
        link: LinkRecord,
        mode: DeprovisionMode,
        reason: DeprovisionReason,
    ) -> Pushed {
        let name = match self.connector.get(on_target(kind), &link.remote_id).await {
            Ok(Some(remote)) => display_name(on_target(kind), &remote),
            _ => None,
        };
        Pushed::Held(Box::new(HeldDeprovision {
            resource_type: kind.as_str().to_string(),
            local_id: link.local_id,
            remote_id: link.remote_id,
            mode,
            reason: HeldDeprovision::reason_text(reason).to_string(),
            name,
            held_at: None,
        }))
    }

    async fn deprovision(
        &self,
        kind: ResourceKind,
        link: LinkRecord,
        reason: DeprovisionReason,
    ) -> Result<Pushed, PushError> {
        let settings = &self.target.settings;
        let deactivate =
            kind == ResourceKind::User && settings.deprovision == DeprovisionMode::Deactivate;
        if deactivate {
            if !settings.actions.deactivate {
                return Ok(Pushed::Nothing);
            }
            const DEACTIVATED: &str = "deactivated";
            if link.state_hash == DEACTIVATED {
                return Ok(Pushed::Unchanged);
            }
            if !self.guard_admits().await? {
                return Ok(self
                    .held(kind, link, DeprovisionMode::Deactivate, reason)
                    .await);
            }
            self.connector
                .deactivate(&link.remote_id)
                .await
                .map_err(|e| failed("deactivate", None, e))?;
            self.record_deprovision(kind, &link.local_id).await?;
            self.put_link(
                kind,
                LinkRecord {
                    state_hash: DEACTIVATED.into(),
                    ..link
                },
            )
            .await?;
            return Ok(Pushed::Deactivated);
        }
        if !settings.actions.delete {
            return Ok(Pushed::Nothing);
        }
        if !self.guard_admits().await? {
            return Ok(self.held(kind, link, DeprovisionMode::Delete, reason).await);
        }
        self.connector
            .delete(on_target(kind), &link.remote_id)
            .await
            .map_err(|e| failed("delete", None, e))?;
        self.record_deprovision(kind, &link.local_id).await?;
        self.drop_link(kind, &link.local_id).await?;
        if kind == ResourceKind::Department {
            self.forget_department_group(&link.local_id).await?;
        }
        Ok(Pushed::Deleted)
    }
}

fn not_allowed(action: &str) -> Step {
    Step::Skipped {
        reason: format!("the target's actions do not include {action}"),
    }
}
