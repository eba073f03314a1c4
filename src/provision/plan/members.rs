//! Group membership as add/remove diffs against the target's actual
//! members, cut into PATCHes no larger than the target accepts.

use crate::scim::json::member_of;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::types::MemberPatch;

/// The member ids (`members[].value`) a target group lists.
pub fn remote_members(group: &Value) -> Vec<String> {
    member_of(group, "members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("value").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// The patches that turn `current` (remote ids) into `desired` (local
/// ids); `remote_of` maps local → remote ids known before this run.
pub fn diff(
    group_local_id: &str,
    desired: &[String],
    current: &[String],
    remote_of: &HashMap<&str, &str>,
    max_ops: usize,
) -> Vec<MemberPatch> {
    let max_ops = max_ops.max(1);
    let current_set: HashSet<&str> = current.iter().map(String::as_str).collect();
    let mut desired_remote: HashSet<&str> = HashSet::new();
    let mut add: Vec<String> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for local in desired {
        if !seen.insert(local) {
            continue;
        }
        match remote_of.get(local.as_str()) {
            Some(remote) => {
                desired_remote.insert(remote);
                if !current_set.contains(remote) {
                    add.push(local.clone());
                }
            }
            // Created in this run: resolved when applied.
            None => add.push(local.clone()),
        }
    }
    let mut remove: Vec<String> = current
        .iter()
        .filter(|r| !desired_remote.contains(r.as_str()))
        .cloned()
        .collect();
    remove.sort();
    remove.dedup();
    let mut patches = Vec::new();
    let mut add = add.into_iter().peekable();
    let mut remove = remove.into_iter().peekable();
    while add.peek().is_some() || remove.peek().is_some() {
        let mut p = MemberPatch {
            group_local_id: group_local_id.to_string(),
            add: Vec::new(),
            remove: Vec::new(),
        };
        while p.add.len() + p.remove.len() < max_ops {
            if let Some(r) = remove.next() {
                p.remove.push(r);
            } else if let Some(a) = add.next() {
                p.add.push(a);
            } else {
                break;
            }
        }
        patches.push(p);
    }
    patches
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn adds_missing_removes_extra_and_keeps_the_rest() {
        let map: HashMap<&str, &str> = [("a", "ra"), ("b", "rb"), ("c", "rc")].into();
        let p = diff(
            "g",
            &s(&["a", "b", "new"]),
            &s(&["rb", "rc", "rx"]),
            &map,
            100,
        );
        assert_eq!(
            p,
            vec![MemberPatch {
                group_local_id: "g".into(),
                add: s(&["a", "new"]),
                remove: s(&["rc", "rx"]),
            }]
        );
        assert!(diff("g", &s(&["a", "a"]), &s(&["ra"]), &map, 100).is_empty());
    }

    #[test]
    fn batches_never_exceed_the_limit() {
        let map: HashMap<&str, &str> = HashMap::new();
        let desired: Vec<String> = (0..7).map(|i| format!("u{i}")).collect();
        let p = diff("g", &desired, &s(&["x", "y"]), &map, 3);
        let sizes: Vec<(usize, usize)> = p.iter().map(|p| (p.remove.len(), p.add.len())).collect();
        assert_eq!(sizes, vec![(2, 1), (0, 3), (0, 3)]);
        assert_eq!(diff("g", &desired, &[], &map, 0).len(), 7);
    }

    #[test]
    fn reads_member_values() {
        assert_eq!(
            remote_members(
                &json!({"Members": [{"value": "1"}, {"display": "no value"}, {"value": "2"}]})
            ),
            s(&["1", "2"])
        );
        assert!(remote_members(&json!({"displayName": "x"})).is_empty());
    }
}
