//! The local side of a run: the users and groups in the target's scope,
//! mapped into the shape the target should hold (blocking: reads the store).

use std::collections::{HashMap, HashSet};

use crate::provision::departments::{self, as_group};
use crate::provision::plan::Source;
use crate::scim::ResourceKind;
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use serde_json::Value;

use crate::store::{ListQuery, Store, StoreError, StoredUser};

use super::loaded::LoadedTarget;

/// `meta.location` is not mapped; any base will do for rendering.
const RENDER_BASE: &str = "";

pub struct LocalState {
    pub users: Vec<Source>,
    pub groups: Vec<Source>,
    /// Departments as groups (when the target takes them so), parents first.
    pub departments: Vec<Source>,
    /// Each of those departments' depth in the tree (1 for a root).
    pub department_depths: HashMap<String, usize>,
}

impl LocalState {
    pub fn in_scope(&self, kind: ResourceKind) -> HashSet<&str> {
        let sources = match kind {
            ResourceKind::User => &self.users,
            ResourceKind::Group => &self.groups,
            ResourceKind::Department | ResourceKind::Plain(_) => &self.departments,
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
    let scope = &target.departments;
    // Each person in scope → the departments it names (for department groups).
    let mut people: HashMap<String, Vec<String>> = HashMap::new();
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
            if member_of_scope && scope.admits_person(&user.attributes) {
                if scope.as_groups() {
                    let named = crate::store::org::named(&user.attributes);
                    people.insert(
                        user.id.clone(),
                        named.into_iter().map(str::to_string).collect(),
                    );
                }
                let mut scim = user.to_scim(RENDER_BASE);
                scope.prepare_person(&mut scim);
                users.push(Source {
                    local_id: user.id.clone(),
                    resource: target.mapping.users.apply(&scim),
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
    let departments = if scope.as_groups() {
        departments::local::load(store, target, &people)?
    } else {
        departments::local::Departments {
            sources: Vec::new(),
            depths: HashMap::new(),
        }
    };
    Ok(LocalState {
        users,
        groups,
        departments: departments.sources,
        department_depths: departments.depths,
    })
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
            ResourceKind::Plain(_) => store.get_resource(kind, &id).map(|_| ()),
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
    /// Not under the target's root department (or, people, its department scope).
    OutsideDepartments,
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
    match kind {
        ResourceKind::User => load_user(store, target, id, scope_groups),
        ResourceKind::Group => load_group(store, target, id),
        ResourceKind::Department | ResourceKind::Plain(_) => load_department(store, target, id),
    }
}

fn load_user(
    store: &dyn Store,
    target: &LoadedTarget,
    id: &str,
    scope_groups: &HashSet<String>,
) -> Result<LocalOne, StoreError> {
    let needs_groups = !target.settings.scope_groups.is_empty();
    let user = match store.get_user(id, needs_groups) {
        Ok(u) => u,
        Err(StoreError::NotFound) => return Ok(LocalOne::Gone),
        Err(e) => return Err(e),
    };
    let mut scim = user.to_scim(RENDER_BASE);
    if let Some(why) = user_out_of_scope(target, &user, &scim, scope_groups) {
        return Ok(LocalOne::OutOfScope(why));
    }
    target.departments.prepare_person(&mut scim);
    Ok(LocalOne::InScope(Source {
        local_id: id.to_string(),
        resource: target.mapping.users.apply(&scim),
        members: Vec::new(),
    }))
}

/// Why a user (`scim`: as rendered; its groups read when the target has
/// scope groups) is not for the target, if it is not.
pub fn user_out_of_scope(
    target: &LoadedTarget,
    user: &StoredUser,
    scim: &Value,
    scope_groups: &HashSet<String>,
) -> Option<OutOfScope> {
    let needs_groups = !target.settings.scope_groups.is_empty();
    if !target.syncs("Users") {
        Some(OutOfScope::TypeNotSynced)
    } else if needs_groups
        && !user
            .groups
            .iter()
            .any(|g| scope_groups.contains(&g.group_id))
    {
        Some(OutOfScope::NotInScopeGroups)
    } else if target
        .user_scope
        .as_ref()
        .is_some_and(|f| !crate::scim::filter::matches(f, ResourceKind::User, scim))
    {
        Some(OutOfScope::FilteredOut)
    } else if !target.departments.admits_person(&user.attributes) {
        Some(OutOfScope::OutsideDepartments)
    } else {
        None
    }
}

fn load_group(store: &dyn Store, target: &LoadedTarget, id: &str) -> Result<LocalOne, StoreError> {
    let group = match store.get_group(id, true) {
        Ok(g) => g,
        Err(StoreError::NotFound) => return Ok(LocalOne::Gone),
        Err(e) => return Err(e),
    };
    let scim = group.to_scim(RENDER_BASE);
    let out = if !target.syncs("Groups") {
        Some(OutOfScope::TypeNotSynced)
    } else if target
        .group_scope
        .as_ref()
        .is_some_and(|f| !crate::scim::filter::matches(f, ResourceKind::Group, &scim))
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
        resource: target.mapping.groups.apply(&scim),
        members: group.members.iter().map(|m| m.id.clone()).collect(),
    }))
}

/// A department as the target's group, when the target takes departments
/// as groups and it is under the root. Its members are not read here (the
/// worker diffs them on its own).
fn load_department(
    store: &dyn Store,
    target: &LoadedTarget,
    id: &str,
) -> Result<LocalOne, StoreError> {
    if !target.departments.as_groups() {
        return Ok(LocalOne::OutOfScope(OutOfScope::TypeNotSynced));
    }
    let department = match store.get_department(id) {
        Ok(d) => d,
        Err(StoreError::NotFound) => return Ok(LocalOne::Gone),
        Err(e) => return Err(e),
    };
    if !target.departments.admits_department(department.path()) {
        return Ok(LocalOne::OutOfScope(OutOfScope::OutsideDepartments));
    }
    Ok(LocalOne::InScope(Source {
        local_id: id.to_string(),
        resource: target.mapping.groups.apply(&as_group(&department)),
        members: Vec::new(),
    }))
}
