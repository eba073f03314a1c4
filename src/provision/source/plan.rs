//! The batch: duplicates inside it and against the store, references that
//! must resolve (a manager from the same import is fine, in any order),
//! and what each record becomes — create, update, no-op — plus what the
//! source no longer supplies (deprovision). Pure: the store's facts come in
//! as an `Index`.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::authority::OwnedKey;
use super::intake::{Prepared, Reason, Refusal};
use super::tree;
use crate::scim::ResourceKind;
use crate::scim::registry::ENTERPRISE_USER_SCHEMA;

/// The references a record declared last time, by the source's ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRefs {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// A group's members: `User:key` or `Group:key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// A department's parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// One row of this source's link table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    pub local_id: String,
    /// Empty once the source stopped supplying the record.
    pub hash: String,
    pub refs: LinkRefs,
}

/// What the store holds, read before planning.
#[derive(Debug, Default)]
pub struct Index {
    /// This source's links by (type, key).
    pub links: HashMap<(ResourceKind, String), LinkState>,
    pub user_ids: HashSet<String>,
    pub group_ids: HashSet<String>,
    pub department_ids: HashSet<String>,
    /// Lower-cased userName, e-mail address and employeeNumber → user id.
    pub by_user_name: HashMap<String, String>,
    pub by_email: HashMap<String, String>,
    pub by_number: HashMap<String, String>,
    /// Users another source supplies: id → that source's name.
    pub other_sources: HashMap<String, String>,
    /// Users this source supplies: id → key.
    pub linked_users: HashMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create,
    /// An existing user no source supplied, linked by its userName (`join_existing`).
    Adopt(String),
    Update(String),
    Unchanged(String),
}

impl Action {
    pub fn local_id(&self) -> Option<&str> {
        match self {
            Action::Create => None,
            Action::Adopt(id) | Action::Update(id) | Action::Unchanged(id) => Some(id),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Planned {
    pub record: Prepared,
    pub action: Action,
    /// Hash of the owned attributes and the manager, as the link keeps it.
    pub hash: String,
    /// Whether the owned attributes (or the manager) changed since last time.
    pub attributes_changed: bool,
    /// Whether the record was withdrawn before (it comes back now).
    pub returning: bool,
    /// A department whose parent changed since last time.
    pub moved: bool,
    pub refs: LinkRefs,
}

/// Something the source supplied before and no longer has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawn {
    #[serde(rename = "resourceType")]
    pub kind: &'static str,
    pub key: String,
    #[serde(rename = "localId")]
    pub local_id: String,
}

impl Withdrawn {
    pub fn resource_kind(&self) -> ResourceKind {
        ResourceKind::parse(self.kind).unwrap_or(ResourceKind::User)
    }
}

#[derive(Debug, Default)]
pub struct Plan {
    pub users: Vec<Planned>,
    pub groups: Vec<Planned>,
    /// Top-down: each department after the parent it names in the import.
    pub departments: Vec<Planned>,
    /// Users and groups, then departments deepest first.
    pub withdrawn: Vec<Withdrawn>,
    pub refusals: Vec<Refusal>,
}

/// What planning needs besides the records and the index.
pub struct PlanRules<'a> {
    pub user_keys: &'a [OwnedKey],
    pub group_keys: &'a [OwnedKey],
    pub department_keys: &'a [OwnedKey],
    /// Every record was read: what is not in the batch is gone.
    pub complete: bool,
    pub join_existing: bool,
    pub reads_users: bool,
    pub reads_groups: bool,
    pub reads_departments: bool,
}

impl PlanRules<'_> {
    fn reads(&self, kind: ResourceKind) -> bool {
        match kind {
            ResourceKind::User => self.reads_users,
            ResourceKind::Group => self.reads_groups,
            ResourceKind::Department | ResourceKind::Plain(_) => self.reads_departments,
        }
    }
}

fn lower(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_lowercase)
}

pub fn emails(attrs: &Map<String, Value>) -> Vec<String> {
    match attrs.get("emails") {
        Some(Value::Array(items)) => items.iter().filter_map(|e| lower(e.get("value"))).collect(),
        _ => Vec::new(),
    }
}

pub fn employee_number(attrs: &Map<String, Value>) -> Option<String> {
    lower(
        attrs
            .get(ENTERPRISE_USER_SCHEMA)
            .and_then(|e| e.get("employeeNumber")),
    )
}

/// Hash of what a record supplies: its owned attributes, its manager and
/// (when it names any) its departments.
fn state_hash(keys: &[OwnedKey], p: &Prepared) -> String {
    /// Feeds serde_json's output straight into the hash (no string, no copy).
    struct Hashing<'a>(&'a mut Sha256);
    impl std::io::Write for Hashing<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut h = Sha256::new();
    for k in keys {
        h.update(k.patch_path().as_bytes());
        h.update(b"=");
        match k.read(&p.attributes) {
            // Writing to a hash cannot fail.
            Some(v) => drop(serde_json::to_writer(Hashing(&mut h), v)),
            None => h.update(b"-"),
        }
        h.update(b"\n");
    }
    h.update(b"manager=");
    h.update(p.manager.as_deref().unwrap_or("-").as_bytes());
    // Only when named: the hashes of records without departments stay as they were.
    if p.primary_department.is_some() || !p.departments.is_empty() {
        h.update(b"\ndepartments=");
        h.update(p.primary_department.as_deref().unwrap_or("-").as_bytes());
        for d in &p.departments {
            h.update(b",");
            h.update(d.as_bytes());
        }
    }
    hex::encode(h.finalize())
}

/// Drops records whose id an earlier record of the batch has.
fn unique_keys(records: Vec<Prepared>, refusals: &mut Vec<Refusal>) -> Vec<Prepared> {
    let mut seen = HashSet::new();
    records
        .into_iter()
        .filter_map(|p| {
            if seen.insert(p.key.clone()) {
                Some(p)
            } else {
                let detail = format!("an earlier record of this import has the id {:?}", p.key);
                refusals.push(p.refuse(Reason::DuplicateId, detail));
                None
            }
        })
        .collect()
}

/// Whose a user record is: its linked user, if that still exists.
fn own_user<'a>(index: &'a Index, key: &str) -> Option<&'a str> {
    index
        .links
        .get(&(ResourceKind::User, key.to_string()))
        .map(|l| l.local_id.as_str())
        .filter(|id| index.user_ids.contains(*id))
}

/// userName, e-mail and employeeNumber: unique in the batch (the first
/// stands) and against other users in the store. Returns the records that
/// pass, with the user each will join (when `join_existing` links one).
fn unique_users(
    records: Vec<Prepared>,
    index: &Index,
    join: bool,
    refusals: &mut Vec<Refusal>,
) -> Vec<(Prepared, Option<String>)> {
    let mut names = HashSet::new();
    let mut mails = HashSet::new();
    let mut numbers = HashSet::new();
    let mut out = Vec::new();
    'records: for p in records {
        let own = own_user(index, &p.key).map(str::to_string);
        let name = p.name().to_lowercase();
        let holder = index
            .by_user_name
            .get(&name)
            .filter(|h| Some(*h) != own.as_ref());
        // Who the record will be: its linked user, or (joining) the user
        // holding its userName that this source does not supply yet.
        let adopt = holder
            .filter(|h| join && own.is_none() && !index.linked_users.contains_key(*h))
            .cloned();
        let me = adopt.as_ref().or(own.as_ref());
        let mine = emails(&p.attributes);
        for mail in &mine {
            let taken_here = mails.contains(mail);
            let taken = index.by_email.get(mail).filter(|h| Some(*h) != me);
            if taken_here || taken.is_some() {
                let whose = if taken_here {
                    "an earlier record of this import"
                } else {
                    "another user"
                };
                let d = format!("the e-mail address {mail:?} belongs to {whose}");
                refusals.push(p.refuse(Reason::DuplicateEmail, d));
                continue 'records;
            }
        }
        if names.contains(&name) {
            let d = format!(
                "an earlier record of this import has the userName {:?}",
                p.name()
            );
            refusals.push(p.refuse(Reason::DuplicateUserName, d));
            continue;
        }
        if let Some(holder) = holder
            && adopt.is_none()
        {
            let detail = if let Some(k) = index.linked_users.get(holder) {
                format!(
                    "userName {:?} is already imported from this source as record {k:?}",
                    p.name()
                )
            } else if let Some(other) = index.other_sources.get(holder) {
                format!(
                    "userName {:?} is supplied by source {other:?} (set join_existing to feed \
                     that user too, with the attributes this source owns)",
                    p.name()
                )
            } else {
                format!(
                    "userName {:?} belongs to an existing user that no source supplies \
                     (set join_existing to link it)",
                    p.name()
                )
            };
            refusals.push(p.refuse(Reason::Conflict, detail));
            continue;
        }
        let number = employee_number(&p.attributes);
        if let Some(number) = &number {
            let taken_here = numbers.contains(number);
            let taken = index.by_number.get(number).filter(|h| Some(*h) != me);
            if taken_here || taken.is_some() {
                let whose = if taken_here {
                    "an earlier record of this import"
                } else {
                    "another user"
                };
                let d = format!("the employeeNumber {number:?} belongs to {whose}");
                refusals.push(p.refuse(Reason::DuplicateEmployeeNumber, d));
                continue;
            }
        }
        names.insert(name);
        mails.extend(mine);
        numbers.extend(number);
        out.push((p, adopt));
    }
    out
}

/// Keys that references may name: in the batch, or supplied before and not
/// read now (an incremental read, a type this source does not read, a
/// record present but refused).
struct Resolvable<'a> {
    index: &'a Index,
    rules: &'a PlanRules<'a>,
    users: HashSet<String>,
    groups: HashSet<String>,
    departments: HashSet<String>,
    /// Records present but refused: what they supplied before stays.
    refused: HashSet<(ResourceKind, String)>,
}

impl Resolvable<'_> {
    fn kept(&self, kind: ResourceKind, key: &str) -> bool {
        !self.rules.complete
            || !self.rules.reads(kind)
            || self.refused.contains(&(kind, key.to_string()))
    }

    fn has(&self, kind: ResourceKind, key: &str) -> bool {
        let batch = match kind {
            ResourceKind::User => &self.users,
            ResourceKind::Group => &self.groups,
            ResourceKind::Department | ResourceKind::Plain(_) => &self.departments,
        };
        batch.contains(key)
            || (self.kept(kind, key)
                && self
                    .index
                    .links
                    .get(&(kind, key.to_string()))
                    .is_some_and(|l| !l.hash.is_empty()))
    }
}

/// The records of one import that passed the checks so far, by type.
struct Batch {
    users: Vec<(Prepared, Option<String>)>,
    groups: Vec<Prepared>,
    departments: Vec<Prepared>,
}

/// The keys whose chain of next keys (managers, parents) loops back to
/// them (each has one next, so one walk per chain finds every loop).
pub(super) fn in_cycles<'a>(managers: &HashMap<&'a str, &'a str>) -> HashSet<&'a str> {
    let mut walk_of: HashMap<&str, usize> = HashMap::new();
    let mut cyclic = HashSet::new();
    let mut starts: Vec<&str> = managers.keys().copied().collect();
    starts.sort_unstable();
    for (walk, start) in starts.into_iter().enumerate() {
        let mut path = Vec::new();
        let mut at = start;
        loop {
            match walk_of.get(at) {
                Some(&w) if w == walk => {
                    // Back at a node of this walk: from it on, the path is a loop.
                    let from = path.iter().position(|n| *n == at).unwrap_or(0);
                    cyclic.extend(path[from..].iter().copied());
                    break;
                }
                Some(_) => break,
                None => {}
            }
            walk_of.insert(at, walk);
            path.push(at);
            match managers.get(at) {
                Some(next) => at = next,
                None => break,
            }
        }
    }
    cyclic
}

/// Refuses records whose references do not resolve, until none is left
/// (a refused manager takes its reports with it, a refused department its
/// sub-departments and people). A group's members are not checked: one
/// that does not resolve is left out of the group (a refused member has its
/// own entry in the failure list).
fn resolve(
    mut batch: Batch,
    index: &Index,
    rules: &PlanRules<'_>,
    refusals: &mut Vec<Refusal>,
) -> Batch {
    loop {
        let r = Resolvable {
            index,
            rules,
            users: batch.users.iter().map(|(p, _)| p.key.clone()).collect(),
            groups: batch.groups.iter().map(|p| p.key.clone()).collect(),
            departments: batch.departments.iter().map(|p| p.key.clone()).collect(),
            refused: refusals
                .iter()
                .filter_map(|r| Some((r.kind, r.key.clone()?)))
                .collect(),
        };
        let unknown_department =
            |d: &str| format!("department {d:?} is not among the departments this source supplies");
        let mut dropped: Vec<(ResourceKind, String, Reason, String)> = Vec::new();
        for (p, _) in &batch.users {
            if let Some(m) = &p.manager {
                if !r.has(ResourceKind::User, m) {
                    let d = format!("manager {m:?} is not among the users this source supplies");
                    dropped.push((ResourceKind::User, p.key.clone(), Reason::UnknownManager, d));
                    continue;
                }
                if *m == p.key {
                    let d = format!("the record names itself ({m:?}) as its manager");
                    dropped.push((ResourceKind::User, p.key.clone(), Reason::ManagerCycle, d));
                    continue;
                }
            }
            if let Some(g) = p.groups.iter().find(|g| !r.has(ResourceKind::Group, g)) {
                let d = format!("group {g:?} is not among the groups this source supplies");
                dropped.push((ResourceKind::User, p.key.clone(), Reason::UnknownGroup, d));
                continue;
            }
            let named = p.primary_department.iter().chain(&p.departments);
            if let Some(d) = named
                .into_iter()
                .find(|d| !r.has(ResourceKind::Department, d))
            {
                let d = unknown_department(d);
                dropped.push((
                    ResourceKind::User,
                    p.key.clone(),
                    Reason::UnknownDepartment,
                    d,
                ));
            }
        }
        for p in &batch.groups {
            if let Some(g) = p.groups.iter().find(|g| !r.has(ResourceKind::Group, g)) {
                let d = format!("group {g:?} is not among the groups this source supplies");
                dropped.push((ResourceKind::Group, p.key.clone(), Reason::UnknownGroup, d));
            }
        }
        for p in &batch.departments {
            if let Some(parent) = p
                .parent
                .as_deref()
                .filter(|d| !r.has(ResourceKind::Department, d))
            {
                let d = format!("parent {}", unknown_department(parent));
                let (kind, key) = (ResourceKind::Department, p.key.clone());
                dropped.push((kind, key, Reason::UnknownDepartment, d));
            }
        }
        if dropped.is_empty() {
            return batch;
        }
        let mut gone: HashMap<(ResourceKind, String), (Reason, String)> = dropped
            .into_iter()
            .map(|(k, key, reason, d)| ((k, key), (reason, d)))
            .collect();
        let mut keep = |p: &Prepared| match gone.remove(&(p.kind, p.key.clone())) {
            Some((reason, d)) => {
                refusals.push(p.refuse(reason, d));
                false
            }
            None => true,
        };
        batch.users.retain(|(p, _)| keep(p));
        batch.groups.retain(|p| keep(p));
        batch.departments.retain(|p| keep(p));
    }
}

/// A group's member references, typed by what they resolve to.
fn typed_members(p: &Prepared, user_keys: &HashSet<String>, index: &Index) -> Vec<String> {
    let mut out: Vec<String> = p
        .members
        .iter()
        .map(|m| {
            let user =
                user_keys.contains(m) || index.links.contains_key(&(ResourceKind::User, m.clone()));
            format!("{}:{m}", if user { "User" } else { "Group" })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn planned(
    p: Prepared,
    adopt: Option<String>,
    keys: &[OwnedKey],
    index: &Index,
    refs: LinkRefs,
) -> Planned {
    let hash = state_hash(keys, &p);
    let link = index.links.get(&(p.kind, p.key.clone()));
    let exists = |id: &str| index.exists(p.kind, id);
    let (action, attributes_changed, returning, moved) = match (link, adopt) {
        (_, Some(id)) => (Action::Adopt(id), true, false, false),
        (Some(l), None) if exists(&l.local_id) => {
            let changed = l.hash != hash;
            let action = if changed || l.refs != refs {
                Action::Update(l.local_id.clone())
            } else {
                Action::Unchanged(l.local_id.clone())
            };
            let moved = p.kind == ResourceKind::Department && l.refs.parent != refs.parent;
            (action, changed, l.hash.is_empty(), moved)
        }
        _ => (Action::Create, true, false, false),
    };
    Planned {
        record: p,
        action,
        hash,
        attributes_changed,
        returning,
        moved,
        refs,
    }
}

impl Index {
    /// Whether a resource of `kind` with this id is in the store.
    pub fn exists(&self, kind: ResourceKind, id: &str) -> bool {
        match kind {
            ResourceKind::User => self.user_ids.contains(id),
            ResourceKind::Group => self.group_ids.contains(id),
            ResourceKind::Department | ResourceKind::Plain(_) => self.department_ids.contains(id),
        }
    }
}

/// Plans one import.
pub fn plan(
    rules: &PlanRules<'_>,
    prepared: Vec<Prepared>,
    mut refusals: Vec<Refusal>,
    index: &Index,
) -> Plan {
    let (users, rest): (Vec<Prepared>, Vec<Prepared>) = prepared
        .into_iter()
        .partition(|p| p.kind == ResourceKind::User);
    let (groups, departments): (Vec<Prepared>, Vec<Prepared>) = rest
        .into_iter()
        .partition(|p| p.kind == ResourceKind::Group);
    let users = unique_keys(users, &mut refusals);
    let groups = unique_keys(groups, &mut refusals);
    let departments = unique_keys(departments, &mut refusals);
    let users = unique_users(users, index, rules.join_existing, &mut refusals);
    let departments = tree::refuse_cycles(departments, index, rules, &mut refusals);
    let batch = Batch {
        users,
        groups,
        departments,
    };
    let Batch {
        users,
        groups,
        departments,
    } = resolve(batch, index, rules, &mut refusals);

    // Records present but refused are not gone: they are not deprovisioned.
    let mut present: HashSet<(ResourceKind, String)> = refusals
        .iter()
        .filter_map(|r| Some((r.kind, r.key.clone()?)))
        .collect();
    present.extend(
        users
            .iter()
            .map(|(p, _)| (ResourceKind::User, p.key.clone())),
    );
    present.extend(
        groups
            .iter()
            .chain(&departments)
            .map(|p| (p.kind, p.key.clone())),
    );

    let user_keys: HashSet<String> = users.iter().map(|(p, _)| p.key.clone()).collect();
    let mut plan = Plan::default();
    for p in groups {
        let refs = LinkRefs {
            groups: sorted(&p.groups),
            members: typed_members(&p, &user_keys, index),
            ..LinkRefs::default()
        };
        plan.groups
            .push(planned(p, None, rules.group_keys, index, refs));
    }
    for (p, adopt) in users {
        let refs = LinkRefs {
            groups: sorted(&p.groups),
            ..LinkRefs::default()
        };
        plan.users
            .push(planned(p, adopt, rules.user_keys, index, refs));
    }
    for p in departments {
        let refs = LinkRefs {
            parent: p.parent.clone(),
            ..LinkRefs::default()
        };
        plan.departments
            .push(planned(p, None, rules.department_keys, index, refs));
    }
    plan.departments = tree::top_down(plan.departments);
    if rules.complete {
        plan.withdrawn = withdrawn(rules, index, &present);
    }
    plan.refusals = refusals;
    plan
}

/// What this source supplied before and no longer has: users and groups
/// (by type and key), then departments deepest first, so each is removed
/// before its parent.
fn withdrawn(
    rules: &PlanRules<'_>,
    index: &Index,
    present: &HashSet<(ResourceKind, String)>,
) -> Vec<Withdrawn> {
    let mut withdrawn: Vec<Withdrawn> = index
        .links
        .iter()
        .filter(|((kind, _), l)| {
            !l.hash.is_empty() && rules.reads(*kind) && index.exists(*kind, &l.local_id)
        })
        .filter(|(k, _)| !present.contains(*k))
        .map(|((kind, key), l)| Withdrawn {
            kind: kind.as_str(),
            key: key.clone(),
            local_id: l.local_id.clone(),
        })
        .collect();
    tree::deepest_first(&mut withdrawn, index);
    withdrawn
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut out = v.to_vec();
    out.sort();
    out.dedup();
    out
}

/// Users to create, in the order they can be: each after the manager it
/// needs created first (managers from the same import, in any order in
/// the file). Users whose chain of new managers loops back to them are
/// created without their manager, which `deferred` sets afterwards.
pub struct CreationOrder {
    pub levels: Vec<Vec<usize>>,
    pub deferred: HashSet<usize>,
}

pub fn creation_order(users: &[Planned]) -> CreationOrder {
    let created: HashMap<&str, usize> = users
        .iter()
        .enumerate()
        .filter(|(_, p)| p.action == Action::Create)
        .map(|(i, p)| (p.record.key.as_str(), i))
        .collect();
    let managers: HashMap<&str, &str> = created
        .iter()
        .filter_map(|(k, &i)| Some((*k, users[i].record.manager.as_deref()?)))
        .filter(|(_, m)| created.contains_key(m))
        .collect();
    let deferred: HashSet<usize> = in_cycles(&managers)
        .into_iter()
        .filter_map(|k| created.get(k).copied())
        .collect();
    let next = |i: usize| {
        if deferred.contains(&i) {
            return None;
        }
        users[i]
            .record
            .manager
            .as_deref()
            .and_then(|m| created.get(m))
            .copied()
            .filter(|&m| m != i)
    };
    // Depths walked iteratively: a chain of managers may be very long.
    let mut level: HashMap<usize, usize> = HashMap::new();
    let mut order: Vec<usize> = created.values().copied().collect();
    order.sort_unstable();
    for &start in &order {
        let mut chain = Vec::new();
        let mut at = start;
        let mut known = None;
        loop {
            if let Some(&d) = level.get(&at) {
                known = Some(d);
                break;
            }
            chain.push(at);
            // Loops are deferred; the bound only ends the walk.
            match next(at) {
                Some(m) if chain.len() <= users.len() => at = m,
                _ => break,
            }
        }
        for (d, &i) in (known.map_or(0, |d| d + 1)..).zip(chain.iter().rev()) {
            level.insert(i, d);
        }
    }
    let mut levels: Vec<Vec<usize>> = Vec::new();
    for i in order {
        let d = level.get(&i).copied().unwrap_or(0);
        if levels.len() <= d {
            levels.resize(d + 1, Vec::new());
        }
        levels[d].push(i);
    }
    CreationOrder { levels, deferred }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use serde_json::json;

    fn user(key: &str, name: &str, manager: Option<&str>) -> Prepared {
        let attrs = json!({"userName": name, "emails": [{"value": format!("{name}@example.org")}]});
        Prepared {
            kind: ResourceKind::User,
            key: key.into(),
            locator: format!("line {key}"),
            raw: json!({"id": key}),
            attributes: attrs.as_object().cloned().unwrap(),
            manager: manager.map(str::to_string),
            groups: Vec::new(),
            members: Vec::new(),
            parent: None,
            primary_department: None,
            departments: Vec::new(),
        }
    }

    fn department(key: &str, parent: Option<&str>) -> Prepared {
        Prepared {
            kind: ResourceKind::Department,
            key: key.into(),
            locator: format!("departments.csv line {key}"),
            raw: json!({"id": key}),
            attributes: json!({"displayName": format!("Dept {key}")})
                .as_object()
                .cloned()
                .unwrap(),
            manager: None,
            groups: Vec::new(),
            members: Vec::new(),
            parent: parent.map(str::to_string),
            primary_department: None,
            departments: Vec::new(),
        }
    }

    fn in_department(key: &str, department: &str) -> Prepared {
        Prepared {
            primary_department: Some(department.into()),
            ..user(key, &format!("u{key}"), None)
        }
    }

    fn rules(complete: bool) -> PlanRules<'static> {
        PlanRules {
            user_keys: &[],
            group_keys: &[],
            department_keys: &[],
            complete,
            join_existing: false,
            reads_users: true,
            reads_groups: true,
            reads_departments: true,
        }
    }

    fn keys(planned: &[Planned]) -> Vec<&str> {
        planned.iter().map(|p| p.record.key.as_str()).collect()
    }

    fn link(index: &mut Index, kind: ResourceKind, key: &str, id: &str, parent: Option<&str>) {
        index.links.insert(
            (kind, key.into()),
            LinkState {
                local_id: id.into(),
                hash: "h".into(),
                refs: LinkRefs {
                    parent: parent.map(str::to_string),
                    ..LinkRefs::default()
                },
            },
        );
        match kind {
            ResourceKind::Department => index.department_ids.insert(id.into()),
            ResourceKind::Group => index.group_ids.insert(id.into()),
            ResourceKind::User => index.user_ids.insert(id.into()),
            ResourceKind::Plain(_) => false,
        };
    }

    #[test]
    fn departments_resolve_in_any_order_and_are_planned_top_down() {
        // People first, then the tree bottom-up: everything resolves.
        let records = vec![
            in_department("1", "D3"),
            in_department("2", "D1"),
            department("D3", Some("D2")),
            department("D2", Some("D1")),
            department("D1", None),
        ];
        let plan = plan(&rules(true), records, Vec::new(), &Index::default());
        assert!(plan.refusals.is_empty(), "{:?}", plan.refusals);
        assert_eq!(keys(&plan.departments), vec!["D1", "D2", "D3"]);
        assert_eq!(keys(&plan.users), vec!["1", "2"]);
        assert!(plan.departments.iter().all(|p| p.action == Action::Create));
    }

    #[test]
    fn unknown_departments_and_cycles_are_refused_with_what_hangs_on_them() {
        let records = vec![
            department("A", Some("B")),
            department("B", Some("A")),
            department("C", Some("C")),
            department("D", Some("nowhere")),
            department("E", Some("D")),
            department("F", None),
            in_department("1", "E"),
            in_department("2", "A"),
            in_department("3", "F"),
        ];
        let plan = plan(&rules(true), records, Vec::new(), &Index::default());
        assert_eq!(
            refused(&plan),
            vec![
                ("1".into(), Reason::UnknownDepartment),
                ("2".into(), Reason::UnknownDepartment),
                ("A".into(), Reason::DepartmentCycle),
                ("B".into(), Reason::DepartmentCycle),
                ("C".into(), Reason::DepartmentCycle),
                ("D".into(), Reason::UnknownDepartment),
                ("E".into(), Reason::UnknownDepartment),
            ]
        );
        let a = plan.refusals.iter().find(|r| r.key.as_deref() == Some("A"));
        assert_eq!(
            a.map(|r| r.detail.as_str()),
            Some("its parents loop back to it (A → B → A): a department cannot be under itself")
        );
        assert_eq!(keys(&plan.departments), vec!["F"]);
        assert_eq!(keys(&plan.users), vec!["3"]);
    }

    #[test]
    fn moves_are_told_apart_and_removals_come_deepest_first() {
        let mut index = Index::default();
        link(&mut index, ResourceKind::Department, "R", "r", None);
        link(&mut index, ResourceKind::Department, "A", "a", Some("R"));
        link(&mut index, ResourceKind::Department, "B", "b", Some("A"));
        link(&mut index, ResourceKind::Department, "C", "c", Some("B"));
        link(&mut index, ResourceKind::Department, "X", "x", None);
        link(&mut index, ResourceKind::User, "9", "u9", None);
        // R stays; X moves under R; A, B, C and user 9 are gone.
        let records = vec![department("X", Some("R")), department("R", None)];
        let plan = plan(&rules(true), records, Vec::new(), &index);
        let x = plan
            .departments
            .iter()
            .find(|p| p.record.key == "X")
            .unwrap();
        assert_eq!(x.action, Action::Update("x".into()));
        assert!(x.moved);
        let gone: Vec<(&str, &str)> = plan
            .withdrawn
            .iter()
            .map(|w| (w.kind, w.key.as_str()))
            .collect();
        assert_eq!(
            gone,
            vec![
                ("User", "9"),
                ("Department", "C"),
                ("Department", "B"),
                ("Department", "A")
            ]
        );
        // An incremental read: a department moved under one not read now
        // that sits below it is a loop too.
        let records = vec![department("A", Some("C"))];
        let plan = super::plan(&rules(false), records, Vec::new(), &index);
        assert_eq!(refused(&plan), vec![("A".into(), Reason::DepartmentCycle)]);
    }

    fn refused(plan: &Plan) -> Vec<(String, Reason)> {
        let mut out: Vec<_> = plan
            .refusals
            .iter()
            .map(|r| (r.key.clone().unwrap_or_default(), r.reason))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    #[test]
    fn managers_resolve_in_any_order_and_are_created_first() {
        let records = vec![
            user("3", "c", Some("2")),
            user("1", "a", None),
            user("2", "b", Some("1")),
        ];
        let plan = plan(&rules(true), records, Vec::new(), &Index::default());
        assert!(plan.refusals.is_empty());
        let order = creation_order(&plan.users);
        assert!(order.deferred.is_empty());
        let keys: Vec<Vec<&str>> = order
            .levels
            .iter()
            .map(|l| {
                l.iter()
                    .map(|&i| plan.users[i].record.key.as_str())
                    .collect()
            })
            .collect();
        assert_eq!(keys, vec![vec!["1"], vec!["2"], vec!["3"]]);
    }

    #[test]
    fn the_first_of_duplicates_stands_and_refusals_cascade() {
        let mut dup_mail = user("4", "d", None);
        dup_mail.attributes["emails"] = json!([{"value": "a@example.org"}]);
        let records = vec![
            user("1", "a", None),
            user("1", "other", None),
            dup_mail,
            user("5", "e", Some("404")),
            user("6", "f", Some("5")),
            user("7", "g", Some("8")),
            user("8", "h", Some("7")),
            user("9", "i", Some("9")),
        ];
        let plan = plan(&rules(true), records, Vec::new(), &Index::default());
        assert_eq!(
            refused(&plan),
            vec![
                ("1".into(), Reason::DuplicateId),
                ("4".into(), Reason::DuplicateEmail),
                ("5".into(), Reason::UnknownManager),
                ("6".into(), Reason::UnknownManager),
                ("9".into(), Reason::ManagerCycle),
            ]
        );
        // A loop of managers is imported: created first, managers set after.
        assert_eq!(plan.users.len(), 3);
        let order = creation_order(&plan.users);
        let deferred: BTreeSet<&str> = order
            .deferred
            .iter()
            .map(|&i| plan.users[i].record.key.as_str())
            .collect();
        assert_eq!(deferred, BTreeSet::from(["7", "8"]));
    }

    #[test]
    fn the_store_decides_update_no_op_conflict_and_withdrawal() {
        let mut index = Index::default();
        let first = plan(&rules(true), vec![user("1", "a", None)], Vec::new(), &index);
        let hash = first.users[0].hash.clone();
        for (key, id, h) in [
            ("1", "u1", hash.clone()),
            ("2", "u2", "old".to_string()),
            ("3", "u3", hash),
        ] {
            index.links.insert(
                (ResourceKind::User, key.into()),
                LinkState {
                    local_id: id.into(),
                    hash: h,
                    refs: LinkRefs::default(),
                },
            );
            index.user_ids.insert(id.into());
            index.linked_users.insert(id.into(), key.into());
        }
        index.by_user_name.insert("taken".into(), "u9".into());
        index.user_ids.insert("u9".into());
        let mut bad = user("4", "x", None);
        bad.attributes["userName"] = json!("Taken");
        let records = vec![user("1", "a", None), user("2", "b", None), bad];
        let refusal = user("3", "c", None).refuse(Reason::InvalidEmail, "bad");
        let plan = plan(&rules(true), records, vec![refusal], &index);
        let actions: Vec<_> = plan.users.iter().map(|p| p.action.clone()).collect();
        assert_eq!(
            actions,
            vec![Action::Unchanged("u1".into()), Action::Update("u2".into())]
        );
        assert_eq!(refused(&plan)[1], ("4".into(), Reason::Conflict));
        // 3 is refused, not gone: nobody is withdrawn.
        assert!(plan.withdrawn.is_empty());
        let gone = super::plan(&rules(true), vec![user("1", "a", None)], Vec::new(), &index);
        let keys: Vec<&str> = gone.withdrawn.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, vec!["2", "3"]);
        let incremental = super::plan(
            &rules(false),
            vec![user("1", "a", None)],
            Vec::new(),
            &index,
        );
        assert!(incremental.withdrawn.is_empty());
    }
}
