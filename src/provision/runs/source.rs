//! The local side of a run: the users and groups in the target's scope,
//! mapped into the shape the target should hold (blocking: reads the store).

use std::collections::HashSet;

use crate::provision::plan::Source;
use crate::scim::ResourceKind;
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::store::{ListQuery, Store, StoreError};

use super::loaded::LoadedTarget;

/// `meta.location` is not mapped; any base will do for rendering.
const RENDER_BASE: &str = "";

pub struct LocalState {
    pub users: Vec<Source>,
    pub groups: Vec<Source>,
}

impl LocalState {
    pub fn in_scope(&self, kind: ResourceKind) -> HashSet<&str> {
        let sources = match kind {
            ResourceKind::User => &self.users,
            ResourceKind::Group | ResourceKind::Department => &self.groups,
        };
        sources.iter().map(|s| s.local_id.as_str()).collect()
    }
}

/// Ids of the groups named in `scope_groups` (by displayName).
pub fn scope_group_ids(store: &dyn Store, names: &[String]) -> Result<HashSet<String>, StoreError> {
    let mut ids = HashSet::new();
    for name in names {
        let query = ListQuery {
            filter: Some(Filter::Compare {
                path: AttrPath::new("displayName"),
                op: CompareOp::Eq,
                value: CompValue::String(name.clone()),
            }),
            with_members: false,
            with_groups: false,
            ..ListQuery::all()
        };
        ids.extend(store.list_groups(&query)?.items.into_iter().map(|g| g.id));
    }
    Ok(ids)
}

pub fn load(store: &dyn Store, target: &LoadedTarget) -> Result<LocalState, StoreError> {
    let mut users = Vec::new();
    if target.syncs("Users") {
        let scope_groups = &target.settings.scope_groups;
        let wanted_groups = scope_group_ids(store, scope_groups)?;
        let query = ListQuery {
            filter: target.user_scope.clone(),
            with_groups: !scope_groups.is_empty(),
            ..ListQuery::all()
        };
        for user in store.list_users(&query)?.items {
            let member_of_scope = scope_groups.is_empty()
                || user
                    .groups
                    .iter()
                    .any(|g| wanted_groups.contains(&g.group_id));
            if member_of_scope {
                users.push(Source {
                    local_id: user.id.clone(),
                    resource: target.mapping.users.apply(&user.to_scim(RENDER_BASE)),
                    members: Vec::new(),
                });
            }
        }
    }
    let mut groups = Vec::new();
    if target.syncs("Groups") {
        let query = ListQuery {
            filter: target.group_scope.clone(),
            with_groups: false,
            ..ListQuery::all()
        };
        for group in store.list_groups(&query)?.items {
            groups.push(Source {
                local_id: group.id.clone(),
                resource: target.mapping.groups.apply(&group.to_scim(RENDER_BASE)),
                members: group.members.iter().map(|m| m.id.clone()).collect(),
            });
        }
    }
    Ok(LocalState { users, groups })
}

/// Which of `ids` still exist here (to tell "out of scope" from "deleted").
pub fn existing(
    store: &dyn Store,
    kind: ResourceKind,
    ids: impl IntoIterator<Item = String>,
) -> Result<HashSet<String>, StoreError> {
    let mut found = HashSet::new();
    for id in ids {
        let exists = match kind {
            ResourceKind::User => store.get_user(&id, false).map(|_| ()),
            ResourceKind::Group => store.get_group(&id, false).map(|_| ()),
            ResourceKind::Department => store.get_department(&id).map(|_| ()),
        };
        match exists {
            Ok(()) => {
                found.insert(id);
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// One local resource as a target sees it.
pub enum LocalOne {
    InScope(Source),
    OutOfScope(OutOfScope),
    Gone,
}

/// Why a resource is not for the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutOfScope {
    /// The target's `resource_types` leave its type out.
    TypeNotSynced,
    /// A user in none of the target's `scope_groups`.
    NotInScopeGroups,
    /// The target's scope filter does not match it.
    FilteredOut,
}

/// Reads one resource and decides whether it belongs on the target;
/// `scope_groups` are the ids of `settings.scope_groups`.
pub fn load_one(
    store: &dyn Store,
    target: &LoadedTarget,
    kind: ResourceKind,
    id: &str,
    scope_groups: &HashSet<String>,
) -> Result<LocalOne, StoreError> {
    if kind == ResourceKind::Department {
        // The sync center does not provision departments (yet).
        return Ok(LocalOne::OutOfScope(OutOfScope::TypeNotSynced));
    }
    let needs_groups = !target.settings.scope_groups.is_empty();
    let (scim, members, in_groups) = match kind {
        ResourceKind::User => match store.get_user(id, needs_groups) {
            Ok(u) => {
                let member =
                    !needs_groups || u.groups.iter().any(|g| scope_groups.contains(&g.group_id));
                (u.to_scim(RENDER_BASE), Vec::new(), member)
            }
            Err(StoreError::NotFound) => return Ok(LocalOne::Gone),
            Err(e) => return Err(e),
        },
        ResourceKind::Group | ResourceKind::Department => match store.get_group(id, true) {
            Ok(g) => {
                let members = g.members.iter().map(|m| m.id.clone()).collect();
                (g.to_scim(RENDER_BASE), members, true)
            }
            Err(StoreError::NotFound) => return Ok(LocalOne::Gone),
            Err(e) => return Err(e),
        },
    };
    let (synced, scope) = match kind {
        ResourceKind::User => (target.syncs("Users"), &target.user_scope),
        ResourceKind::Group | ResourceKind::Department => {
            (target.syncs("Groups"), &target.group_scope)
        }
    };
    let out = if !synced {
        Some(OutOfScope::TypeNotSynced)
    } else if !in_groups {
        Some(OutOfScope::NotInScopeGroups)
    } else if scope
        .as_ref()
        .is_some_and(|f| !crate::scim::filter::matches(f, kind, &scim))
    {
        Some(OutOfScope::FilteredOut)
    } else {
        None
    };
    if let Some(why) = out {
        return Ok(LocalOne::OutOfScope(why));
    }
    Ok(LocalOne::InScope(Source {
        local_id: id.to_string(),
        resource: target.mapping.for_kind(kind).apply(&scim),
        members,
    }))
}
