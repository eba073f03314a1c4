//! Planning a full sync (pure): the four-way diff between what the target
//! should hold (mapped local resources in scope) and what it holds, through
//! the id map. create / update (only what differs) / deprovision (linked,
//! but deleted or out of scope here) / no-op; users before groups, managers
//! before their reports, memberships as batched add/remove diffs, and the
//! deletion guard.

pub mod compare;
mod departments;
pub mod guard;
pub mod managers;
pub mod matching;
pub mod members;
pub mod types;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

pub use guard::DeletionGuard;
pub use matching::MatchKey;
pub use types::*;

use crate::scim::ResourceKind;
use crate::scim::json::member_of;
use compare::{attribute_changes, state_hash};

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub user_match: MatchKey,
    pub group_match: MatchKey,
    pub deprovision: DeprovisionMode,
    pub guard: DeletionGuard,
    /// Most member operations in one PATCH (the target's limit).
    pub max_member_ops: usize,
    pub orphans: OrphanPolicy,
    /// How department groups already on the target are recognised.
    pub department_match: MatchKey,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            user_match: MatchKey::user_name(),
            group_match: MatchKey {
                path: crate::provision::mapping::path::ValuePath {
                    attr: crate::scim::filter::AttrPath::new("displayName"),
                    filter: None,
                    sub_after: None,
                },
                ignore_case: true,
            },
            deprovision: DeprovisionMode::Deactivate,
            guard: DeletionGuard::default(),
            max_member_ops: 100,
            orphans: OrphanPolicy::Report,
            department_match: MatchKey {
                path: crate::provision::mapping::path::ValuePath {
                    attr: crate::scim::filter::AttrPath::new("externalId"),
                    filter: None,
                    sub_after: None,
                },
                ignore_case: false,
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub users: &'a [Source],
    pub groups: &'a [Source],
    pub remote_users: &'a [Remote],
    pub remote_groups: &'a [Remote],
    pub user_links: &'a [Link],
    pub group_links: &'a [Link],
    /// Departments as groups, parents first; members are people and
    /// sub-departments (local ids). Empty unless the target takes them.
    pub departments: &'a [Source],
    pub department_links: &'a [Link],
    /// The target's groups when it takes departments as groups (the same
    /// listing as `remote_groups`, which is empty unless it syncs Groups).
    pub remote_department_groups: &'a [Remote],
}

/// Where a local resource lives on the target, before any write.
enum Resolution<'r> {
    Linked(&'r Remote),
    Matched(&'r Remote),
    New,
    Skip(String),
}

struct Side<'a> {
    kind: ResourceKind,
    remotes: &'a [Remote],
    links: &'a [Link],
    key: &'a MatchKey,
}

fn resolve<'a>(side: &Side<'a>, sources: &[&Source]) -> Vec<Resolution<'a>> {
    let by_id: HashMap<&str, &Remote> = side.remotes.iter().map(|r| (r.id.as_str(), r)).collect();
    let link_of: HashMap<&str, &Link> = side
        .links
        .iter()
        .map(|l| (l.local_id.as_str(), l))
        .collect();
    let linked: HashSet<&str> = side.links.iter().map(|l| l.remote_id.as_str()).collect();
    let index = matching::index(
        side.kind,
        side.key,
        side.remotes
            .iter()
            .filter(|r| !linked.contains(r.id.as_str()))
            .map(|r| (r.id.as_str(), &r.resource)),
    );
    let mut claimed: HashSet<&str> = HashSet::new();
    sources
        .iter()
        .map(|s| {
            if let Some(r) = link_of
                .get(s.local_id.as_str())
                .and_then(|l| by_id.get(l.remote_id.as_str()))
            {
                return Resolution::Linked(r);
            }
            // No link, or its remote account is gone: look it up by key.
            match side.key.key(side.kind, &s.resource).map(|k| index.get(&k)) {
                Some(Some(Some(id))) if claimed.insert(id) => by_id
                    .get(id)
                    .map_or(Resolution::New, |r| Resolution::Matched(r)),
                Some(Some(Some(id))) => Resolution::Skip(format!(
                    "target account {id} also matches another resource in this run"
                )),
                Some(Some(None)) => {
                    Resolution::Skip("several target accounts match its matching attribute".into())
                }
                _ => Resolution::New,
            }
        })
        .collect()
}

fn diff_one(kind: ResourceKind, s: &Source, desired: Value, resolution: &Resolution<'_>) -> Action {
    let hash = state_hash(&desired);
    match resolution {
        Resolution::Skip(reason) => Action::Skip {
            local_id: s.local_id.clone(),
            reason: reason.clone(),
        },
        Resolution::New => Action::Create {
            local_id: s.local_id.clone(),
            resource: desired,
            hash,
        },
        Resolution::Linked(r) | Resolution::Matched(r) => {
            let newly_linked = matches!(resolution, Resolution::Matched(_));
            let changed = attribute_changes(kind, &desired, &r.resource);
            if changed.is_empty() {
                Action::NoOp {
                    local_id: s.local_id.clone(),
                    remote_id: r.id.clone(),
                    hash,
                    newly_linked,
                }
            } else {
                Action::Update {
                    local_id: s.local_id.clone(),
                    remote_id: r.id.clone(),
                    resource: desired,
                    changed,
                    hash,
                    newly_linked,
                }
            }
        }
    }
}

fn is_inactive(remote: &Remote) -> bool {
    member_of(&remote.resource, "active").is_some_and(|v| {
        v == &Value::Bool(false) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("false"))
    })
}

/// Linked resources no longer among the sources.
fn leftovers(
    side: &Side<'_>,
    sources: &[&Source],
    all_local: &HashSet<&str>,
    mode: DeprovisionMode,
) -> Vec<Action> {
    let in_scope: HashSet<&str> = sources.iter().map(|s| s.local_id.as_str()).collect();
    let by_id: HashMap<&str, &Remote> = side.remotes.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut out = Vec::new();
    for l in side.links {
        if in_scope.contains(l.local_id.as_str()) {
            continue;
        }
        let reason = if all_local.contains(l.local_id.as_str()) {
            DeprovisionReason::OutOfScope
        } else {
            DeprovisionReason::Gone
        };
        let mode = if side.kind == ResourceKind::Group {
            DeprovisionMode::Delete
        } else {
            mode
        };
        out.push(match by_id.get(l.remote_id.as_str()) {
            None => Action::Unlink {
                local_id: l.local_id.clone(),
                remote_id: l.remote_id.clone(),
            },
            Some(r) if mode == DeprovisionMode::Deactivate && is_inactive(r) => Action::NoOp {
                local_id: l.local_id.clone(),
                remote_id: l.remote_id.clone(),
                hash: l.hash.clone(),
                newly_linked: false,
            },
            Some(r) => Action::Deprovision {
                local_id: l.local_id.clone(),
                remote_id: l.remote_id.clone(),
                mode,
                reason,
                name: display_name(side.kind, &r.resource),
            },
        });
    }
    out
}

/// userName (users) or displayName (groups) of a resource; a directory
/// entry, which has neither, by its `dn`.
pub fn display_name(kind: ResourceKind, resource: &Value) -> Option<String> {
    let key = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => "displayName",
    };
    member_of(resource, key)
        .or_else(|| member_of(resource, "dn"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Target accounts neither in the id map nor matched by a local resource;
/// deprovision actions for them when the policy says so. Users already
/// inactive are no orphans worth reporting.
fn orphans(
    side: &Side<'_>,
    res: &[Resolution<'_>],
    mode: DeprovisionMode,
    policy: OrphanPolicy,
) -> (Vec<Orphan>, Vec<Action>) {
    let mut known: HashSet<&str> = side.links.iter().map(|l| l.remote_id.as_str()).collect();
    for r in res {
        if let Resolution::Linked(r) | Resolution::Matched(r) = r {
            known.insert(r.id.as_str());
        }
    }
    let mode = if side.kind == ResourceKind::Group {
        DeprovisionMode::Delete
    } else {
        mode
    };
    let mut found = Vec::new();
    let mut actions = Vec::new();
    for r in side.remotes {
        if known.contains(r.id.as_str()) || is_inactive(r) {
            continue;
        }
        let name = display_name(side.kind, &r.resource);
        found.push(Orphan {
            resource_type: side.kind.as_str().to_string(),
            remote_id: r.id.clone(),
            name: name.clone(),
        });
        if policy == OrphanPolicy::Deprovision {
            actions.push(Action::Deprovision {
                local_id: String::new(),
                remote_id: r.id.clone(),
                mode,
                reason: DeprovisionReason::Orphan,
                name,
            });
        }
    }
    (found, actions)
}

fn remote_of<'a>(
    links: &'a [Link],
    sources: &[&'a Source],
    res: &[Resolution<'a>],
) -> HashMap<&'a str, &'a str> {
    let mut map: HashMap<&str, &str> = links
        .iter()
        .map(|l| (l.local_id.as_str(), l.remote_id.as_str()))
        .collect();
    for (s, r) in sources.iter().zip(res) {
        match r {
            Resolution::Linked(r) | Resolution::Matched(r) => {
                map.insert(s.local_id.as_str(), r.id.as_str());
            }
            // A link whose account is gone points nowhere.
            Resolution::New | Resolution::Skip(_) => {
                map.remove(s.local_id.as_str());
            }
        }
    }
    map
}

/// Computes the plan. `all_local_ids` holds every local id (in scope or not),
/// to tell "out of scope" from "deleted" in the report.
pub fn plan(input: PlanInput<'_>, all_local_ids: &HashSet<&str>, opts: &PlanOptions) -> Plan {
    let mut warnings = Vec::new();

    // Users: managers first; a manager not yet on the target is set later.
    let (users, cycle_warnings) = managers::order(input.users);
    warnings.extend(cycle_warnings);
    let user_side = Side {
        kind: ResourceKind::User,
        remotes: input.remote_users,
        links: input.user_links,
        key: &opts.user_match,
    };
    let user_res = resolve(&user_side, &users);
    let user_remote = remote_of(input.user_links, &users, &user_res);
    let creatable: HashSet<&str> = users
        .iter()
        .zip(&user_res)
        .filter(|(_, r)| matches!(r, Resolution::New))
        .map(|(s, _)| s.local_id.as_str())
        .collect();
    let mut manager_updates = Vec::new();
    let mut user_actions = Vec::new();
    for (s, r) in users.iter().zip(&user_res) {
        let mut desired = s.resource.clone();
        if let Some(m) = managers::manager_of(&desired) {
            if let Some(remote) = user_remote.get(m.as_str()) {
                managers::set_manager(&mut desired, Some(remote));
            } else {
                managers::set_manager(&mut desired, None);
                if creatable.contains(m.as_str()) {
                    manager_updates.push(ManagerUpdate {
                        local_id: s.local_id.clone(),
                        manager_local_id: m,
                    });
                } else {
                    warnings.push(format!(
                        "user {}: manager {m} is not provisioned to this target; left unset",
                        s.local_id
                    ));
                }
            }
        }
        user_actions.push(diff_one(ResourceKind::User, s, desired, r));
    }
    user_actions.extend(leftovers(
        &user_side,
        &users,
        all_local_ids,
        opts.deprovision,
    ));
    let (mut orphan_list, orphan_actions) =
        orphans(&user_side, &user_res, opts.deprovision, opts.orphans);
    user_actions.extend(orphan_actions);

    // Department groups: the target's groups the group side has not linked.
    let group_linked: HashSet<&str> = input
        .group_links
        .iter()
        .map(|l| l.remote_id.as_str())
        .collect();
    let department_remotes: Vec<Remote> = input
        .remote_department_groups
        .iter()
        .filter(|r| !group_linked.contains(r.id.as_str()))
        .cloned()
        .collect();
    let dept = departments::plan(
        &departments::Input {
            sources: input.departments,
            remotes: &department_remotes,
            links: input.department_links,
            user_remote: &user_remote,
            creatable_users: &creatable,
            all_local_ids,
        },
        opts,
    );
    warnings.extend(dept.warnings);

    // Groups, after users; memberships against the target's actual members.
    // Groups that are departments' are left to the department side.
    let group_remotes: Vec<Remote> = input
        .remote_groups
        .iter()
        .filter(|r| !dept.claimed.contains(r.id.as_str()))
        .cloned()
        .collect();
    let groups: Vec<&Source> = input.groups.iter().collect();
    let group_side = Side {
        kind: ResourceKind::Group,
        remotes: &group_remotes,
        links: input.group_links,
        key: &opts.group_match,
    };
    let group_res = resolve(&group_side, &groups);
    let group_remote = remote_of(input.group_links, &groups, &group_res);
    let mut member_remote = user_remote.clone();
    member_remote.extend(group_remote.iter().map(|(k, v)| (*k, *v)));
    let mut resolvable: HashSet<&str> = member_remote.keys().copied().collect();
    resolvable.extend(creatable.iter().copied());
    resolvable.extend(
        groups
            .iter()
            .zip(&group_res)
            .filter(|(_, r)| matches!(r, Resolution::New))
            .map(|(s, _)| s.local_id.as_str()),
    );
    let mut group_actions = Vec::new();
    let mut member_patches = Vec::new();
    for (s, r) in groups.iter().zip(&group_res) {
        group_actions.push(diff_one(ResourceKind::Group, s, s.resource.clone(), r));
        let current = match r {
            Resolution::Linked(remote) | Resolution::Matched(remote) => {
                members::remote_members(&remote.resource)
            }
            Resolution::New => Vec::new(),
            Resolution::Skip(_) => continue,
        };
        let (desired, dropped): (Vec<String>, Vec<String>) = s
            .members
            .iter()
            .cloned()
            .partition(|m| resolvable.contains(m.as_str()));
        if !dropped.is_empty() {
            warnings.push(format!(
                "group {}: {} member(s) not provisioned to this target are left out",
                s.local_id,
                dropped.len()
            ));
        }
        member_patches.extend(members::diff(
            &s.local_id,
            &desired,
            &current,
            &member_remote,
            opts.max_member_ops,
        ));
    }
    group_actions.extend(leftovers(
        &group_side,
        &groups,
        all_local_ids,
        opts.deprovision,
    ));
    let (group_orphans, orphan_actions) =
        orphans(&group_side, &group_res, opts.deprovision, opts.orphans);
    orphan_list.extend(group_orphans);
    group_actions.extend(orphan_actions);

    let mut plan = Plan {
        status: PlanStatus::Ready,
        users: user_actions,
        managers: manager_updates,
        groups: group_actions,
        members: member_patches,
        departments: dept.upserts,
        department_members: dept.members,
        department_removals: dept.removals,
        orphans: orphan_list,
        warnings,
        counts: Counts::default(),
    };
    plan.counts = count(&plan);
    let linked = input.user_links.len() + input.group_links.len() + input.department_links.len();
    if opts.guard.trips(plan.counts.deprovision, linked) {
        plan.status = PlanStatus::AwaitingApproval;
    }
    plan
}

fn count(plan: &Plan) -> Counts {
    let mut c = Counts::default();
    for (_, a) in plan.actions() {
        match a {
            Action::Create { .. } => c.create += 1,
            Action::Update { newly_linked, .. } => {
                c.update += 1;
                c.linked += usize::from(*newly_linked);
            }
            Action::NoOp { newly_linked, .. } => {
                c.no_op += 1;
                c.linked += usize::from(*newly_linked);
            }
            Action::Deprovision { .. } => c.deprovision += 1,
            Action::Unlink { .. } => c.unlink += 1,
            Action::Skip { .. } => c.skip += 1,
        }
    }
    c
}
