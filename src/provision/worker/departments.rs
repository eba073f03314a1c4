//! A target's department groups in real time: what a changed department's
//! group holds (its people in scope and its sub-departments' groups), and
//! which department groups a changed person or department sits in. The
//! change log holds only the new state, so where each member was put is
//! recorded (`SyncStore::department_containers`) and diffed.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::push::{PushError, Session, failed};
use crate::provision::runs::source::user_out_of_scope;
use crate::provision::runs::{LoadedTarget, SyncError, blocking};
use crate::scim::ResourceKind;
use crate::scim::filter::{self, FilterLimits};
use crate::scim::registry::ORGANIZATION_USER_SCHEMA;
use crate::store::{DepartmentMembership, ListQuery, Store, StoreError, org};

/// `meta.location` is not read here.
const RENDER_BASE: &str = "";

impl Session {
    /// Makes a department's group hold exactly its people in scope and its
    /// sub-departments' groups (those on the target); true when sent.
    pub(super) async fn sync_department_members(
        &self,
        department: &str,
        group_remote: &str,
    ) -> Result<bool, PushError> {
        let (store, sync, target, scope_groups) = (
            self.store.clone(),
            self.sync.clone(),
            self.target.clone(),
            self.scope_groups.clone(),
        );
        let (target_id, id) = (self.id(), department.to_string());
        let linked = blocking(move || {
            let members = members_now(store.as_ref(), &target, &id, &scope_groups)?;
            let mut linked = Vec::new();
            for kind in [ResourceKind::User, ResourceKind::Department] {
                let ids: Vec<String> = members
                    .iter()
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, id)| id.clone())
                    .collect();
                for link in sync.links_of(&target_id, kind.as_str(), &ids)? {
                    linked.push((kind, link.local_id, link.remote_id));
                }
            }
            Ok(linked)
        })
        .await?;
        let members: Vec<String> = linked.iter().map(|(_, l, _)| l.clone()).collect();
        let remote_of: HashMap<&str, &str> = linked
            .iter()
            .map(|(_, l, r)| (l.as_str(), r.as_str()))
            .collect();
        let sent = self
            .set_members(department, group_remote, &members, &remote_of)
            .await?;
        let rows: Vec<DepartmentMembership> = linked
            .iter()
            .map(|(kind, local, _)| DepartmentMembership {
                department_id: department.to_string(),
                member_type: kind.as_str().to_string(),
                member_id: local.clone(),
            })
            .collect();
        let (sync, target_id, id) = (self.sync.clone(), self.id(), department.to_string());
        blocking(move || Ok(sync.set_department_members(&target_id, &id, &rows)?)).await?;
        Ok(sent)
    }

    /// Puts a person or department (`kind`) into the department groups it
    /// belongs in now and takes it out of those it left; true when sent.
    pub(super) async fn sync_containers(
        &self,
        kind: ResourceKind,
        local_id: &str,
    ) -> Result<bool, PushError> {
        let (store, sync, target, scope_groups) = (
            self.store.clone(),
            self.sync.clone(),
            self.target.clone(),
            self.scope_groups.clone(),
        );
        let (target_id, id) = (self.id(), local_id.to_string());
        let (wanted, recorded, member, groups) = blocking(move || {
            let wanted: BTreeSet<String> =
                containers_now(store.as_ref(), &target, kind, &id, &scope_groups)?
                    .into_iter()
                    .collect();
            let recorded: BTreeSet<String> = sync
                .department_containers(&target_id, kind.as_str(), &id)?
                .into_iter()
                .collect();
            let member = sync.link(&target_id, kind.as_str(), &id)?;
            let involved: Vec<String> = wanted.union(&recorded).cloned().collect();
            let groups: HashMap<String, String> = sync
                .links_of(&target_id, ResourceKind::Department.as_str(), &involved)?
                .into_iter()
                .map(|l| (l.local_id, l.remote_id))
                .collect();
            Ok((wanted, recorded, member, groups))
        })
        .await?;
        if wanted == recorded {
            return Ok(false);
        }
        let Some(member) = member else {
            // Not on the target (gone, or not pushed yet): in no group there.
            self.record_containers(kind, local_id, &BTreeSet::new())
                .await?;
            return Ok(false);
        };
        let mut now = recorded.clone();
        let mut sent = false;
        let one = [member.remote_id.clone()];
        for d in wanted.difference(&recorded) {
            // A group not on the target yet gets its members when it is made.
            let Some(group) = groups.get(d) else { continue };
            let added = self.connector.change_members(group, &one, &[]).await;
            if let Err(e) = added {
                self.record_containers(kind, local_id, &now).await?;
                return Err(failed("department_members", None, e));
            }
            now.insert(d.clone());
            sent = true;
        }
        for d in recorded.difference(&wanted) {
            if let Some(group) = groups.get(d) {
                let removed = self.connector.change_members(group, &[], &one).await;
                if let Err(e) = removed {
                    self.record_containers(kind, local_id, &now).await?;
                    return Err(failed("department_members", None, e));
                }
                sent = true;
            }
            now.remove(d);
        }
        self.record_containers(kind, local_id, &now).await?;
        Ok(sent)
    }

    async fn record_containers(
        &self,
        kind: ResourceKind,
        local_id: &str,
        departments: &BTreeSet<String>,
    ) -> Result<(), SyncError> {
        let (sync, target_id, id) = (self.sync.clone(), self.id(), local_id.to_string());
        let departments: Vec<String> = departments.iter().cloned().collect();
        blocking(move || {
            Ok(sync.set_department_containers(&target_id, kind.as_str(), &id, &departments)?)
        })
        .await
    }

    /// A department group deleted downstream: what it held is forgotten.
    pub(super) async fn forget_department_group(&self, local_id: &str) -> Result<(), SyncError> {
        let (sync, target_id, id) = (self.sync.clone(), self.id(), local_id.to_string());
        blocking(move || Ok(sync.forget_department_group(&target_id, &id)?)).await
    }
}

/// The department groups a person or department belongs in now: a person
/// in scope in each department in scope it names; a department in scope
/// (other than the root) in its parent's.
fn containers_now(
    store: &dyn Store,
    target: &LoadedTarget,
    kind: ResourceKind,
    id: &str,
    scope_groups: &HashSet<String>,
) -> Result<Vec<String>, StoreError> {
    let scope = &target.departments;
    match kind {
        ResourceKind::User => {
            let user = match store.get_user(id, !target.settings.scope_groups.is_empty()) {
                Ok(u) => u,
                Err(StoreError::NotFound) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let scim = user.to_scim(RENDER_BASE);
            if user_out_of_scope(target, &user, &scim, scope_groups).is_some() {
                return Ok(Vec::new());
            }
            let mut out = Vec::new();
            for d in org::named(&user.attributes) {
                match store.get_department(d) {
                    Ok(dept) if scope.admits_department(dept.path()) => out.push(d.to_string()),
                    Ok(_) | Err(StoreError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        }
        ResourceKind::Department | ResourceKind::Plain(_) => {
            let dept = match store.get_department(id) {
                Ok(d) => d,
                Err(StoreError::NotFound) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            if !scope.admits_department(dept.path()) || scope.root.as_deref() == Some(id) {
                return Ok(Vec::new());
            }
            Ok(dept.parent_id().map(str::to_string).into_iter().collect())
        }
        ResourceKind::Group => Ok(Vec::new()),
    }
}

/// What a department's group holds now: the people in scope who name it,
/// then its sub-departments.
fn members_now(
    store: &dyn Store,
    target: &LoadedTarget,
    id: &str,
    scope_groups: &HashSet<String>,
) -> Result<Vec<(ResourceKind, String)>, StoreError> {
    let quoted = serde_json::Value::String(id.to_string()).to_string();
    let naming = format!(
        "{ORGANIZATION_USER_SCHEMA}:primaryDepartment.value eq {quoted} or \
         {ORGANIZATION_USER_SCHEMA}:departments[value eq {quoted}]"
    );
    let children = format!("parent.value eq {quoted}");
    let parse = |text: &str| {
        filter::parse_filter(text, FilterLimits::default()).map_err(StoreError::Rejected)
    };
    let mut out = Vec::new();
    if target.syncs("Users") {
        let people = store.list_users(&ListQuery {
            filter: Some(parse(&naming)?),
            with_groups: !target.settings.scope_groups.is_empty(),
            ..ListQuery::all()
        })?;
        for user in people.items {
            let scim = user.to_scim(RENDER_BASE);
            if user_out_of_scope(target, &user, &scim, scope_groups).is_none() {
                out.push((ResourceKind::User, user.id));
            }
        }
    }
    let subs = store.list_departments(&ListQuery {
        filter: Some(parse(&children)?),
        ..ListQuery::all()
    })?;
    out.extend(
        subs.items
            .into_iter()
            .map(|d| (ResourceKind::Department, d.id)),
    );
    Ok(out)
}
