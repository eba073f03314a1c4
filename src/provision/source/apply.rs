//! Carrying out a plan through `IntakeWrites`: departments top-down
//! (creations, renames, moves), groups, then users in manager order (in
//! batches), updates, group memberships, and the deprovisions the guard let
//! through — departments last, deepest first. Links are written as objects
//! are, so a run that stops half-way never imports anything twice.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::stream::{self, StreamExt};
use serde_json::{Map, Value, json};

use super::authority::OwnedKey;
use super::error::{SourceError, blocking};
use super::intake::{Reason, Refusal, with_schemas};
use super::plan::{Action, Index, LinkRefs, Plan, Planned, creation_order};
use super::report::{ImportCounts, KeptRecord, LIST_LIMIT};
use super::writes::{IntakeWrites, WriteError};
use crate::provision::mapping::{DEPARTMENTS, PRIMARY_DEPARTMENT};
use crate::provision::runs::{Progress, Tick};
use crate::scim::ResourceKind;
use crate::scim::registry::{ENTERPRISE_USER_SCHEMA, ORGANIZATION_USER_SCHEMA};
use crate::store::{SourceLinkRecord, SourceStore, Store, StoreError};

/// Users created per transaction, and such batches in flight at once.
const CREATE_BATCH: usize = 1000;
const CREATE_IN_FLIGHT: usize = 2;
/// Updates in flight at once.
const CONCURRENCY: usize = 8;
/// Link rows written per store call.
const LINK_BATCH: usize = 2000;

type Key = (ResourceKind, String);

/// What applying did.
#[derive(Debug, Default)]
pub struct Applied {
    pub counts: ImportCounts,
    /// Records refused while writing (the store said no).
    pub refusals: Vec<Refusal>,
    /// Records imported now (their failure-list entries go).
    pub imported: Vec<Key>,
    /// Departments gone from the source that were left in place.
    pub kept: Vec<KeptRecord>,
}

pub struct Apply<'a> {
    pub writes: &'a dyn IntakeWrites,
    pub store: Arc<dyn Store>,
    pub sources: Arc<dyn SourceStore>,
    pub source_id: String,
    pub user_keys: &'a [OwnedKey],
    pub group_keys: &'a [OwnedKey],
    pub department_keys: &'a [OwnedKey],
    /// Every record was read (memberships are checked for every group).
    pub complete: bool,
    pub progress: Progress,
}

fn manager_key() -> OwnedKey {
    OwnedKey::Extension {
        uri: ENTERPRISE_USER_SCHEMA.into(),
        name: "manager".into(),
    }
}

fn organization_key(name: &str) -> OwnedKey {
    OwnedKey::Extension {
        uri: ORGANIZATION_USER_SCHEMA.into(),
        name: name.into(),
    }
}

/// A record's references as local ids.
#[derive(Debug, Default)]
struct Resolved {
    manager: Option<String>,
    primary_department: Option<String>,
    departments: Vec<String>,
}

impl Resolved {
    /// The value a reference attribute gets; None for other attributes.
    fn value(&self, key: &OwnedKey) -> Option<Option<Value>> {
        let one = |id: &Option<String>| id.as_ref().map(|id| json!({"value": id}));
        if *key == manager_key() {
            Some(one(&self.manager))
        } else if *key == organization_key(PRIMARY_DEPARTMENT) {
            Some(one(&self.primary_department))
        } else if *key == organization_key(DEPARTMENTS) {
            let all: Vec<Value> = self
                .departments
                .iter()
                .map(|id| json!({"value": id}))
                .collect();
            Some((!all.is_empty()).then_some(Value::Array(all)))
        } else {
            None
        }
    }
}

/// The PATCH operations writing the owned attributes (absent ones removed).
fn owned_ops(
    keys: &[OwnedKey],
    attrs: &Map<String, Value>,
    refs: &Resolved,
    returning: bool,
) -> Vec<Value> {
    let mut ops = Vec::new();
    for k in keys {
        let value = match refs.value(k) {
            Some(v) => v,
            None => k.read(attrs).cloned(),
        };
        ops.push(match value {
            Some(v) => json!({"op": "replace", "path": k.patch_path(), "value": v}),
            None => json!({"op": "remove", "path": k.patch_path()}),
        });
    }
    // A record the source withdrew (and deactivated) is back.
    if returning && !keys.contains(&OwnedKey::Core("active".into())) {
        ops.push(json!({"op": "replace", "path": "active", "value": true}));
    }
    ops
}

fn create_body(kind: ResourceKind, attrs: &Map<String, Value>, refs: &Resolved) -> Value {
    let mut body = attrs.clone();
    for key in [
        manager_key(),
        organization_key(PRIMARY_DEPARTMENT),
        organization_key(DEPARTMENTS),
    ] {
        if let Some(Some(v)) = refs.value(&key) {
            key.write(&mut body, v);
        }
    }
    Value::Object(with_schemas(kind, body))
}

fn refs_json(refs: &LinkRefs) -> Option<String> {
    (refs != &LinkRefs::default()).then(|| serde_json::to_string(refs).unwrap_or_default())
}

struct Run<'a, 'b> {
    apply: &'b Apply<'a>,
    locals: HashMap<Key, String>,
    links: Vec<SourceLinkRecord>,
    out: Applied,
    /// Records that could not be written: their references do not resolve.
    failed: HashSet<Key>,
}

impl Run<'_, '_> {
    /// Reports `done` of `total` in `phase`, with the records refused so far.
    fn tick(&self, phase: &'static str, done: usize, total: usize) {
        (self.apply.progress)(Tick {
            phase,
            done,
            total,
            failed: self.out.refusals.len(),
        });
    }

    fn refuse(&mut self, p: &Planned, reason: Reason, detail: String) {
        self.failed.insert((p.record.kind, p.record.key.clone()));
        self.out.refusals.push(p.record.refuse(reason, detail));
    }

    fn link(&mut self, p: &Planned, local_id: &str) {
        self.locals
            .insert((p.record.kind, p.record.key.clone()), local_id.to_string());
        self.out
            .imported
            .push((p.record.kind, p.record.key.clone()));
        self.links.push(SourceLinkRecord {
            resource_type: p.record.kind.as_str().to_string(),
            external_key: p.record.key.clone(),
            local_id: local_id.to_string(),
            state_hash: p.hash.clone(),
            refs: refs_json(&p.refs),
        });
    }

    async fn flush(&mut self, at_least: usize) -> Result<(), SourceError> {
        if self.links.len() < at_least.max(1) {
            return Ok(());
        }
        let links = std::mem::take(&mut self.links);
        let (sources, id) = (self.apply.sources.clone(), self.apply.source_id.clone());
        blocking(move || Ok(sources.put_source_links(&id, &links)?)).await
    }

    /// The local id of a manager, or why the user cannot be written.
    fn manager_of(&self, p: &Planned) -> Result<Option<String>, String> {
        match &p.record.manager {
            None => Ok(None),
            Some(m) => self
                .locals
                .get(&(ResourceKind::User, m.clone()))
                .cloned()
                .map(Some)
                .ok_or_else(|| format!("manager {m:?} could not be imported")),
        }
    }

    /// The local id of a department this run or an earlier one imported.
    fn department(&self, key: &str) -> Result<String, String> {
        self.locals
            .get(&(ResourceKind::Department, key.to_string()))
            .cloned()
            .ok_or_else(|| format!("department {key:?} could not be imported"))
    }

    /// A user's references as local ids (its manager too, unless it is
    /// set later), or why the user cannot be written.
    fn resolved(&self, p: &Planned, with_manager: bool) -> Result<Resolved, (Reason, String)> {
        let manager = if with_manager {
            self.manager_of(p)
                .map_err(|d| (Reason::UnknownManager, d))?
        } else {
            None
        };
        let departments = |keys: &mut dyn Iterator<Item = &String>| {
            keys.map(|k| self.department(k))
                .collect::<Result<Vec<String>, String>>()
                .map_err(|d| (Reason::UnknownDepartment, d))
        };
        Ok(Resolved {
            manager,
            primary_department: departments(&mut p.record.primary_department.iter())?
                .into_iter()
                .next(),
            departments: departments(&mut p.record.departments.iter())?,
        })
    }

    /// Departments top-down: each is created, renamed or moved once the
    /// parent it names is in its final place.
    async fn departments(&mut self, departments: &[Planned]) -> Result<(), SourceError> {
        let total = departments.len();
        for (n, d) in departments.iter().enumerate() {
            self.tick("departments", n, total);
            let parent = match d.record.parent.as_deref().map(|k| self.department(k)) {
                None => None,
                Some(Ok(id)) => Some(id),
                Some(Err(detail)) => {
                    self.refuse(d, Reason::UnknownDepartment, format!("parent {detail}"));
                    continue;
                }
            };
            let id = match &d.action {
                Action::Create => {
                    let mut body = d.record.attributes.clone();
                    if let Some(p) = &parent {
                        body.insert("parent".into(), json!({"value": p}));
                    }
                    let body = Value::Object(with_schemas(ResourceKind::Department, body));
                    match self.apply.writes.create_department(body).await {
                        Ok(id) => {
                            self.out.counts.created += 1;
                            self.out.counts.departments.created += 1;
                            id
                        }
                        Err(WriteError::Refused(detail)) => {
                            self.refuse(d, Reason::Rejected, detail);
                            continue;
                        }
                        Err(WriteError::Failed(e)) => return Err(e.into()),
                    }
                }
                Action::Update(id) | Action::Adopt(id) => {
                    let mut ops = Vec::new();
                    if d.attributes_changed {
                        let keys = self.apply.department_keys;
                        ops = owned_ops(keys, &d.record.attributes, &Resolved::default(), false);
                    }
                    if d.moved {
                        ops.push(match &parent {
                            Some(p) => {
                                json!({"op": "replace", "path": "parent", "value": {"value": p}})
                            }
                            None => json!({"op": "remove", "path": "parent"}),
                        });
                    }
                    if !ops.is_empty() {
                        match self.apply.writes.patch_department(id.clone(), ops).await {
                            Ok(()) => {}
                            Err(WriteError::Refused(detail)) => {
                                self.refuse(d, Reason::Rejected, detail);
                                continue;
                            }
                            Err(WriteError::Failed(e)) => return Err(e.into()),
                        }
                    }
                    let c = &mut self.out.counts;
                    c.updated += 1;
                    c.departments.updated += usize::from(d.attributes_changed);
                    c.departments.moved += usize::from(d.moved);
                    id.clone()
                }
                Action::Unchanged(id) => {
                    let key = (ResourceKind::Department, d.record.key.clone());
                    self.locals.insert(key.clone(), id.clone());
                    self.out.imported.push(key);
                    self.out.counts.unchanged += 1;
                    self.out.counts.departments.unchanged += 1;
                    continue;
                }
            };
            self.link(d, &id);
        }
        self.tick("departments", total, total);
        self.flush(0).await
    }

    async fn groups(&mut self, groups: &[Planned]) -> Result<(), SourceError> {
        for g in groups {
            match &g.action {
                Action::Create => {
                    let body = create_body(
                        ResourceKind::Group,
                        &g.record.attributes,
                        &Resolved::default(),
                    );
                    match self.apply.writes.create_group(body).await {
                        Ok(id) => {
                            self.link(g, &id);
                            self.out.counts.created += 1;
                        }
                        Err(WriteError::Refused(d)) => self.refuse(g, Reason::Rejected, d),
                        Err(WriteError::Failed(e)) => return Err(e.into()),
                    }
                }
                Action::Update(id) | Action::Adopt(id) => {
                    if g.attributes_changed {
                        let ops = owned_ops(
                            self.apply.group_keys,
                            &g.record.attributes,
                            &Resolved::default(),
                            false,
                        );
                        match self.apply.writes.patch_group(id.clone(), ops).await {
                            Ok(()) => {}
                            Err(WriteError::Refused(d)) => {
                                self.refuse(g, Reason::Rejected, d);
                                continue;
                            }
                            Err(WriteError::Failed(e)) => return Err(e.into()),
                        }
                    }
                    self.link(g, id);
                    self.out.counts.updated += 1;
                }
                Action::Unchanged(id) => {
                    let id = id.clone();
                    self.locals
                        .insert((ResourceKind::Group, g.record.key.clone()), id);
                    self.out
                        .imported
                        .push((ResourceKind::Group, g.record.key.clone()));
                    self.out.counts.unchanged += 1;
                }
            }
        }
        self.flush(0).await
    }

    async fn create_users(&mut self, users: &[Planned]) -> Result<(), SourceError> {
        let order = creation_order(users);
        let total: usize = order.levels.iter().map(Vec::len).sum();
        let mut done = 0;
        for level in &order.levels {
            // The batches of one level need nothing of each other: two are in
            // flight, so building one overlaps writing the other.
            let mut batches = Vec::new();
            for chunk in level.chunks(CREATE_BATCH) {
                let mut bodies = Vec::new();
                let mut sent = Vec::new();
                for &i in chunk {
                    let p = &users[i];
                    // Managers in a loop are set once all of them exist.
                    match self.resolved(p, !order.deferred.contains(&i)) {
                        Ok(refs) => {
                            bodies.push(create_body(
                                ResourceKind::User,
                                &p.record.attributes,
                                &refs,
                            ));
                            sent.push(i);
                        }
                        Err((reason, d)) => self.refuse(p, reason, d),
                    }
                }
                batches.push((sent, bodies));
            }
            let writes = self.apply.writes;
            let mut written = stream::iter(batches)
                .map(|(sent, bodies)| async move { (sent, writes.create_users(bodies).await) })
                .buffer_unordered(CREATE_IN_FLIGHT);
            while let Some((sent, results)) = written.next().await {
                let results = match results {
                    Ok(r) => r,
                    Err(WriteError::Failed(e)) => return Err(e.into()),
                    Err(WriteError::Refused(d)) => {
                        return Err(SourceError::Internal(anyhow::anyhow!(d)));
                    }
                };
                done += sent.len();
                for (i, result) in sent.into_iter().zip(results) {
                    match result {
                        Ok(id) => {
                            self.link(&users[i], &id);
                            self.out.counts.created += 1;
                        }
                        Err(d) => self.refuse(&users[i], Reason::Rejected, d),
                    }
                }
                self.tick("creating", done, total);
            }
            drop(written);
            self.flush(LINK_BATCH).await?;
        }
        // Managers in a loop exist now: set them.
        self.flush(0).await?;
        let mut deferred: Vec<usize> = order.deferred.into_iter().collect();
        deferred.sort_unstable();
        for i in deferred {
            let p = &users[i];
            let key = (ResourceKind::User, p.record.key.clone());
            let (Some(id), Ok(Some(manager))) =
                (self.locals.get(&key).cloned(), self.manager_of(p))
            else {
                continue;
            };
            let ops = vec![
                json!({"op": "replace", "path": manager_key().patch_path(), "value": {"value": manager}}),
            ];
            match self.apply.writes.patch_user(id.clone(), ops).await {
                Ok(()) => {}
                Err(WriteError::Refused(d)) => {
                    self.refuse(p, Reason::Rejected, d);
                    // Not what the source says yet: the next run tries again.
                    self.links.push(SourceLinkRecord {
                        resource_type: p.record.kind.as_str().to_string(),
                        external_key: p.record.key.clone(),
                        local_id: id,
                        state_hash: "manager not set".into(),
                        refs: refs_json(&p.refs),
                    });
                }
                Err(WriteError::Failed(e)) => return Err(e.into()),
            }
        }
        self.flush(0).await
    }

    async fn update_users(&mut self, users: &[Planned]) -> Result<(), SourceError> {
        let mut jobs = Vec::new();
        for (i, p) in users.iter().enumerate() {
            let id = match &p.action {
                Action::Update(id) | Action::Adopt(id) => id.clone(),
                Action::Unchanged(id) => {
                    self.locals
                        .insert((ResourceKind::User, p.record.key.clone()), id.clone());
                    self.out
                        .imported
                        .push((ResourceKind::User, p.record.key.clone()));
                    self.out.counts.unchanged += 1;
                    continue;
                }
                Action::Create => continue,
            };
            self.locals
                .insert((ResourceKind::User, p.record.key.clone()), id.clone());
            if !(p.attributes_changed || p.returning) {
                jobs.push((i, id, None));
                continue;
            }
            match self.resolved(p, true) {
                Ok(refs) => {
                    let ops = owned_ops(
                        self.apply.user_keys,
                        &p.record.attributes,
                        &refs,
                        p.returning,
                    );
                    jobs.push((i, id, Some(ops)));
                }
                Err((reason, d)) => self.refuse(p, reason, d),
            }
        }
        let total = jobs.len();
        let writes = self.apply.writes;
        let results: Vec<(usize, String, Result<(), WriteError>)> = stream::iter(jobs)
            .map(|(i, id, ops)| async move {
                let r = match ops {
                    Some(ops) => writes.patch_user(id.clone(), ops).await,
                    None => Ok(()),
                };
                (i, id, r)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut done = 0;
        for (i, id, r) in results {
            let p = &users[i];
            match r {
                Ok(()) => {
                    self.link(p, &id);
                    if matches!(p.action, Action::Adopt(_)) {
                        self.out.counts.linked += 1;
                    } else {
                        self.out.counts.updated += 1;
                    }
                }
                Err(WriteError::Refused(d)) => self.refuse(p, Reason::Rejected, d),
                Err(WriteError::Failed(e)) => return Err(e.into()),
            }
            done += 1;
            self.tick("updating", done, total);
        }
        self.flush(0).await
    }

    /// Each group's members as this source declares them, by local id.
    fn desired_members(
        &self,
        plan: &Plan,
        index: &Index,
        kept_withdrawn: &HashSet<Key>,
    ) -> HashMap<String, HashSet<String>> {
        let local = |k: &Key| self.locals.get(k).cloned();
        let mut desired: HashMap<String, HashSet<String>> = HashMap::new();
        let planned: HashSet<Key> = plan
            .users
            .iter()
            .chain(&plan.groups)
            .map(|p| (p.record.kind, p.record.key.clone()))
            .collect();
        // Declared by each record: (its key, its refs).
        let mut declared: Vec<(Key, &LinkRefs)> = plan
            .users
            .iter()
            .chain(&plan.groups)
            .filter(|p| !self.failed.contains(&(p.record.kind, p.record.key.clone())))
            .map(|p| ((p.record.kind, p.record.key.clone()), &p.refs))
            .collect();
        for (k, l) in &index.links {
            if planned.contains(k) || l.hash.is_empty() {
                continue;
            }
            // Not read now: an incremental run keeps what it declared; a
            // full run only what waits for approval.
            if !self.apply.complete || kept_withdrawn.contains(k) {
                declared.push((k.clone(), &l.refs));
            }
        }
        for (k, refs) in declared {
            let Some(me) = local(&k) else { continue };
            for g in &refs.groups {
                if let Some(gid) = local(&(ResourceKind::Group, g.clone())) {
                    desired.entry(gid).or_default().insert(me.clone());
                }
            }
            if k.0 == ResourceKind::Group {
                let entry = desired.entry(me.clone()).or_default();
                for m in &refs.members {
                    let member = match m.split_once(':') {
                        Some(("User", key)) => local(&(ResourceKind::User, key.to_string())),
                        Some((_, key)) => local(&(ResourceKind::Group, key.to_string())),
                        None => None,
                    };
                    entry.extend(member);
                }
            }
        }
        desired
    }

    async fn memberships(
        &mut self,
        plan: &Plan,
        index: &Index,
        kept_withdrawn: &HashSet<Key>,
    ) -> Result<(), SourceError> {
        let desired = self.desired_members(plan, index, kept_withdrawn);
        let mut groups: HashSet<String> = desired.keys().cloned().collect();
        if self.apply.complete {
            groups.extend(
                self.locals
                    .iter()
                    .filter(|(k, _)| k.0 == ResourceKind::Group)
                    .map(|(_, id)| id.clone()),
            );
        } else {
            // Groups a changed record left.
            for p in plan.users.iter().chain(&plan.groups) {
                if let Some(l) = index.links.get(&(p.record.kind, p.record.key.clone())) {
                    groups.extend(l.refs.groups.iter().filter_map(|g| {
                        self.locals.get(&(ResourceKind::Group, g.clone())).cloned()
                    }));
                }
            }
        }
        let managed: HashSet<String> = self
            .locals
            .values()
            .cloned()
            .chain(index.links.values().map(|l| l.local_id.clone()))
            .collect();
        let group_ids: HashSet<String> = self
            .locals
            .iter()
            .filter(|(k, _)| k.0 == ResourceKind::Group)
            .map(|(_, id)| id.clone())
            .chain(index.group_ids.iter().cloned())
            .collect();
        let mut groups: Vec<String> = groups.into_iter().collect();
        groups.sort();
        let mut current: HashMap<String, HashSet<String>> = HashMap::new();
        for gid in &groups {
            let (store, id) = (self.apply.store.clone(), gid.clone());
            let members = blocking(move || match store.get_group(&id, true) {
                Ok(g) => Ok(Some(
                    g.members.into_iter().map(|m| m.id).collect::<HashSet<_>>(),
                )),
                Err(StoreError::NotFound) => Ok(None),
                Err(e) => Err(e.into()),
            })
            .await?;
            if let Some(m) = members {
                current.insert(gid.clone(), m);
            }
        }
        // The tree first, then the people: nesting a group that already has
        // its people would touch each of them once more.
        let total = groups.len() * 2;
        let mut done = 0;
        for nesting in [true, false] {
            let mut patches = Vec::new();
            for gid in &groups {
                let Some(now) = current.get(gid) else {
                    continue;
                };
                let of_pass = |id: &&String| group_ids.contains(*id) == nesting;
                let want = desired.get(gid).cloned().unwrap_or_default();
                let mut add: Vec<&String> = want.difference(now).filter(of_pass).collect();
                let mut remove: Vec<&String> = now
                    .iter()
                    .filter(of_pass)
                    .filter(|m| managed.contains(*m) && !want.contains(*m))
                    .collect();
                add.sort();
                remove.sort();
                let values = |ids: &[&String]| {
                    Value::Array(ids.iter().map(|id| json!({"value": id})).collect())
                };
                let mut ops = Vec::new();
                if !add.is_empty() {
                    ops.push(json!({"op": "add", "path": "members", "value": values(&add)}));
                }
                if !remove.is_empty() {
                    ops.push(json!({"op": "remove", "path": "members", "value": values(&remove)}));
                }
                if !ops.is_empty() {
                    patches.push((gid.clone(), ops));
                }
            }
            done += groups.len() - patches.len();
            let writes = self.apply.writes;
            let mut written = stream::iter(patches)
                .map(|(gid, ops)| async move {
                    let r = writes.patch_group(gid.clone(), ops).await;
                    (gid, r)
                })
                .buffer_unordered(CONCURRENCY);
            while let Some((gid, r)) = written.next().await {
                match r {
                    Ok(()) => self.out.counts.member_patches += 1,
                    Err(WriteError::Refused(d)) => {
                        tracing::warn!(group = %gid, error = %d, "a source's membership change was refused");
                    }
                    Err(WriteError::Failed(e)) => return Err(e.into()),
                }
                done += 1;
                self.tick("memberships", done, total);
            }
        }
        Ok(())
    }

    /// Users are deactivated, groups deleted, then departments deleted
    /// deepest first; a department that still holds people (or
    /// sub-departments) stays, and is reported.
    async fn withdraw(&mut self, plan: &Plan) -> Result<(), SourceError> {
        let total = plan.withdrawn.len();
        for (n, w) in plan.withdrawn.iter().enumerate() {
            let kind = w.resource_kind();
            let writes = self.apply.writes;
            let result = match kind {
                ResourceKind::User => {
                    let ops = vec![json!({"op": "replace", "path": "active", "value": false})];
                    writes.patch_user(w.local_id.clone(), ops).await
                }
                ResourceKind::Group => writes.delete_group(w.local_id.clone()).await,
                ResourceKind::Department | ResourceKind::Plain(_) => {
                    writes.delete_department(w.local_id.clone()).await
                }
            };
            match result {
                Ok(()) => {
                    let c = &mut self.out.counts;
                    match kind {
                        ResourceKind::User => c.deactivated += 1,
                        ResourceKind::Group => c.deleted += 1,
                        ResourceKind::Department | ResourceKind::Plain(_) => {
                            c.deleted += 1;
                            c.departments.deleted += 1;
                        }
                    }
                    self.links.push(SourceLinkRecord {
                        resource_type: w.kind.to_string(),
                        external_key: w.key.clone(),
                        local_id: w.local_id.clone(),
                        state_hash: String::new(),
                        refs: None,
                    });
                }
                Err(WriteError::Refused(detail)) if kind == ResourceKind::Department => {
                    self.out.counts.departments.kept += 1;
                    if self.out.kept.len() < LIST_LIMIT {
                        self.out.kept.push(KeptRecord {
                            resource_type: w.kind.to_string(),
                            key: w.key.clone(),
                            local_id: w.local_id.clone(),
                            detail,
                        });
                    }
                }
                Err(WriteError::Refused(d)) => {
                    tracing::warn!(key = %w.key, error = %d, "a source's deprovision was refused");
                }
                Err(WriteError::Failed(e)) => return Err(e.into()),
            }
            self.tick("deprovisioning", n + 1, total);
        }
        self.flush(0).await
    }
}

impl Apply<'_> {
    /// Applies `plan`; with `hold`, its deprovisions wait (deletion guard).
    pub async fn run(
        &self,
        plan: &Plan,
        index: &Index,
        hold: bool,
    ) -> Result<Applied, SourceError> {
        let mut run = Run {
            apply: self,
            locals: index
                .links
                .iter()
                .filter(|(_, l)| !l.hash.is_empty())
                .map(|(k, l)| (k.clone(), l.local_id.clone()))
                .collect(),
            links: Vec::new(),
            out: Applied::default(),
            failed: HashSet::new(),
        };
        // Withdrawn records are no references any more (unless held).
        let kept: HashSet<Key> = if hold {
            plan.withdrawn
                .iter()
                .map(|w| (w.resource_kind(), w.key.clone()))
                .collect()
        } else {
            for w in &plan.withdrawn {
                run.locals.remove(&(w.resource_kind(), w.key.clone()));
            }
            HashSet::new()
        };
        let (create, rest): (Vec<&Planned>, Vec<&Planned>) =
            plan.groups.iter().partition(|g| g.action == Action::Create);
        let ordered: Vec<Planned> = create.into_iter().chain(rest).cloned().collect();
        let timed = |phase: &str, since: std::time::Instant| {
            tracing::debug!(source = %self.source_id, phase, ms = since.elapsed().as_millis() as u64, "import phase");
        };
        let at = std::time::Instant::now();
        run.departments(&plan.departments).await?;
        timed("departments", at);
        let at = std::time::Instant::now();
        run.groups(&ordered).await?;
        timed("groups", at);
        let at = std::time::Instant::now();
        run.create_users(&plan.users).await?;
        timed("creating users", at);
        let at = std::time::Instant::now();
        run.update_users(&plan.users).await?;
        timed("updating users", at);
        let at = std::time::Instant::now();
        run.memberships(plan, index, &kept).await?;
        timed("memberships", at);
        if !hold {
            run.withdraw(plan).await?;
        }
        Ok(run.out)
    }
}
