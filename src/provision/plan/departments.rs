//! The department side of a plan: department groups created or updated
//! top-down, their members (people and sub-departments' groups) diffed
//! against the target's, and the groups of departments gone or out of
//! scope deleted bottom-up. Department groups are matched by their own key
//! (`externalId`), never by name, and report no orphans (the group side
//! does).

use std::collections::{HashMap, HashSet};

use super::members::{diff, remote_members};
use super::{
    Action, Link, MemberPatch, PlanOptions, Remote, Resolution, Side, Source, diff_one, leftovers,
    remote_of, resolve,
};
use crate::scim::ResourceKind;

/// Department groups are groups on the target.
const KIND: ResourceKind = ResourceKind::Group;

pub struct Input<'a, 'p> {
    pub sources: &'a [Source],
    /// The target's groups the group side has not linked.
    pub remotes: &'a [Remote],
    pub links: &'a [Link],
    /// Users' local → remote ids known before the run.
    pub user_remote: &'p HashMap<&'a str, &'a str>,
    /// Users this run creates.
    pub creatable_users: &'p HashSet<&'a str>,
    pub all_local_ids: &'p HashSet<&'p str>,
}

pub struct DepartmentPlan {
    pub upserts: Vec<Action>,
    pub members: Vec<MemberPatch>,
    pub removals: Vec<Action>,
    /// The target's groups this side accounts for (linked or matched).
    pub claimed: HashSet<String>,
    pub warnings: Vec<String>,
}

pub fn plan(input: &Input<'_, '_>, opts: &PlanOptions) -> DepartmentPlan {
    let sources: Vec<&Source> = input.sources.iter().collect();
    let side = Side {
        kind: KIND,
        remotes: input.remotes,
        links: input.links,
        key: &opts.department_match,
    };
    let res = resolve(&side, &sources);
    let mut claimed: HashSet<String> = input.links.iter().map(|l| l.remote_id.clone()).collect();
    for r in &res {
        if let Resolution::Linked(r) | Resolution::Matched(r) = r {
            claimed.insert(r.id.clone());
        }
    }
    let department_remote = remote_of(input.links, &sources, &res);
    let mut member_remote: HashMap<&str, &str> = input.user_remote.clone();
    member_remote.extend(department_remote.iter().map(|(k, v)| (*k, *v)));
    let mut resolvable: HashSet<&str> = member_remote.keys().copied().collect();
    resolvable.extend(input.creatable_users.iter().copied());
    resolvable.extend(
        sources
            .iter()
            .zip(&res)
            .filter(|(_, r)| matches!(r, Resolution::New))
            .map(|(s, _)| s.local_id.as_str()),
    );
    let mut upserts = Vec::new();
    let mut members = Vec::new();
    let mut warnings = Vec::new();
    for (s, r) in sources.iter().zip(&res) {
        upserts.push(diff_one(KIND, s, s.resource.clone(), r));
        let current = match r {
            Resolution::Linked(remote) | Resolution::Matched(remote) => {
                remote_members(&remote.resource)
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
                "department {}: {} member(s) not provisioned to this target are left out",
                s.local_id,
                dropped.len()
            ));
        }
        members.extend(diff(
            &s.local_id,
            &desired,
            &current,
            &member_remote,
            opts.max_member_ops,
        ));
    }
    let removals = bottom_up(
        leftovers(&side, &sources, input.all_local_ids, opts.deprovision),
        input.remotes,
    );
    DepartmentPlan {
        upserts,
        members,
        removals,
        claimed,
        warnings,
    }
}

/// Orders removals so that a group comes before any group holding it (as
/// the target lists members), leaves first.
fn bottom_up(removals: Vec<Action>, remotes: &[Remote]) -> Vec<Action> {
    let remote_id = |a: &Action| match a {
        Action::Deprovision { remote_id, .. } | Action::Unlink { remote_id, .. } => {
            Some(remote_id.clone())
        }
        _ => None,
    };
    let going: HashSet<String> = removals.iter().filter_map(remote_id).collect();
    let members: HashMap<&str, Vec<String>> = remotes
        .iter()
        .filter(|r| going.contains(&r.id))
        .map(|r| {
            let inside = remote_members(&r.resource)
                .into_iter()
                .filter(|m| going.contains(m))
                .collect();
            (r.id.as_str(), inside)
        })
        .collect();
    let mut heights: HashMap<String, usize> = HashMap::new();
    for id in &going {
        height(id, &members, &mut heights, &mut HashSet::new());
    }
    let mut ordered: Vec<(usize, Action)> = removals
        .into_iter()
        .map(|a| {
            let h = remote_id(&a)
                .and_then(|id| heights.get(&id).copied())
                .unwrap_or(0);
            (h, a)
        })
        .collect();
    ordered.sort_by_key(|(h, _)| *h);
    ordered.into_iter().map(|(_, a)| a).collect()
}

/// How many levels of going groups lie below `id` (0 for a leaf); a cycle
/// on the target stops the walk.
fn height(
    id: &str,
    members: &HashMap<&str, Vec<String>>,
    memo: &mut HashMap<String, usize>,
    walking: &mut HashSet<String>,
) -> usize {
    if let Some(h) = memo.get(id) {
        return *h;
    }
    if !walking.insert(id.to_string()) {
        return 0;
    }
    let h = members
        .get(id)
        .into_iter()
        .flatten()
        .map(|m| height(m, members, memo, walking) + 1)
        .max()
        .unwrap_or(0);
    walking.remove(id);
    memo.insert(id.to_string(), h);
    h
}
