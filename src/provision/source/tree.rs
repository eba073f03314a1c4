//! The organization tree in a plan (pure): departments whose parents loop
//! are refused, the rest ordered top-down (each after the parent it names
//! in the import), and removals ordered deepest first, so a department is
//! always written after its parent and removed before it.

use std::collections::{HashMap, HashSet};

use super::intake::{Prepared, Reason, Refusal};
use super::plan::{Index, PlanRules, Planned, Withdrawn, in_cycles};
use crate::scim::ResourceKind;

/// Refuses the departments whose chain of parents loops back to them: in
/// the import, or through what departments not read now declared before.
pub fn refuse_cycles(
    departments: Vec<Prepared>,
    index: &Index,
    rules: &PlanRules<'_>,
    refusals: &mut Vec<Refusal>,
) -> Vec<Prepared> {
    let batch: HashSet<&str> = departments.iter().map(|p| p.key.as_str()).collect();
    let mut parents: HashMap<&str, &str> = HashMap::new();
    let kept = !rules.complete || !rules.reads_departments;
    if kept {
        for ((kind, key), l) in &index.links {
            if *kind == ResourceKind::Department
                && !l.hash.is_empty()
                && !batch.contains(key.as_str())
                && let Some(p) = &l.refs.parent
            {
                parents.insert(key, p);
            }
        }
    }
    for p in &departments {
        if let Some(parent) = &p.parent {
            parents.insert(&p.key, parent);
        }
    }
    let cyclic = in_cycles(&parents);
    // Why each one is refused: the loop, named from it.
    let details: HashMap<String, String> = cyclic
        .iter()
        .map(|&key| {
            let mut chain = vec![key];
            let mut at = parents.get(key).copied();
            while let Some(k) = at.filter(|k| *k != key && chain.len() <= cyclic.len()) {
                chain.push(k);
                at = parents.get(k).copied();
            }
            let detail = if chain.len() == 1 {
                format!("the department names itself ({key:?}) as its parent")
            } else {
                chain.push(key);
                format!(
                    "its parents loop back to it ({}): a department cannot be under itself",
                    chain.join(" → ")
                )
            };
            (key.to_string(), detail)
        })
        .collect();
    departments
        .into_iter()
        .filter_map(|p| match details.get(&p.key) {
            None => Some(p),
            Some(d) => {
                refusals.push(p.refuse(Reason::DepartmentCycle, d.clone()));
                None
            }
        })
        .collect()
}

/// Departments each after the parent it names among them.
pub fn top_down(departments: Vec<Planned>) -> Vec<Planned> {
    let parent: HashMap<&str, &str> = departments
        .iter()
        .filter_map(|p| Some((p.record.key.as_str(), p.record.parent.as_deref()?)))
        .collect();
    let keys: Vec<&str> = departments.iter().map(|p| p.record.key.as_str()).collect();
    let in_batch: HashSet<&str> = keys.iter().copied().collect();
    let depth = depths(&keys, |k| {
        parent.get(k).copied().filter(|p| in_batch.contains(p))
    });
    let mut order: Vec<(usize, usize)> = departments
        .iter()
        .enumerate()
        .map(|(i, p)| (depth.get(p.record.key.as_str()).copied().unwrap_or(0), i))
        .collect();
    order.sort_unstable();
    let mut slots: Vec<Option<Planned>> = departments.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|(_, i)| slots[i].take())
        .collect()
}

/// Orders withdrawn records: users and groups first (by type and key),
/// then departments deepest first (by what their links declared).
pub fn deepest_first(withdrawn: &mut [Withdrawn], index: &Index) {
    let linked: HashMap<&str, &str> = index
        .links
        .iter()
        .filter(|((kind, _), _)| *kind == ResourceKind::Department)
        .filter_map(|((_, key), l)| Some((key.as_str(), l.refs.parent.as_deref()?)))
        .collect();
    let keys: Vec<&str> = index
        .links
        .keys()
        .filter(|(kind, _)| *kind == ResourceKind::Department)
        .map(|(_, key)| key.as_str())
        .collect();
    let depth = depths(&keys, |k| linked.get(k).copied());
    let rank = |w: &Withdrawn| {
        let department = w.kind == ResourceKind::Department.as_str();
        let deep = depth.get(w.key.as_str()).copied().unwrap_or(0);
        (
            department,
            std::cmp::Reverse(if department { deep } else { 0 }),
            w.kind,
            w.key.clone(),
        )
    };
    withdrawn.sort_by_key(rank);
}

/// How many ancestors `parent_of` knows of each key (0 for a root), walked
/// iteratively (a chain may be long) and memoized.
fn depths<'a>(
    keys: &[&'a str],
    parent_of: impl Fn(&str) -> Option<&'a str>,
) -> HashMap<&'a str, usize> {
    let mut depth: HashMap<&str, usize> = HashMap::new();
    for &start in keys {
        let mut chain = Vec::new();
        let mut on_chain = HashSet::new();
        let mut at = Some(start);
        let mut base = 0;
        while let Some(k) = at {
            if let Some(&d) = depth.get(k) {
                base = d + 1;
                break;
            }
            // A loop (planning refuses those) ends the walk.
            if !on_chain.insert(k) {
                break;
            }
            chain.push(k);
            at = parent_of(k);
        }
        for (d, k) in (base..).zip(chain.into_iter().rev()) {
            depth.insert(k, d);
        }
    }
    depth
}
