//! Manager ordering: users are created without a manager that does not
//! exist on the target yet, and the manager is set in a second pass.
//! Missing or cyclic managers are warnings, never a reason to stop.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::types::Source;

pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The local id in a mapped user's `manager.value`.
pub fn manager_of(resource: &Value) -> Option<String> {
    let ext = resource
        .as_object()?
        .iter()
        .find_map(|(k, v)| k.eq_ignore_ascii_case(ENTERPRISE).then_some(v))?;
    let manager = ext
        .as_object()?
        .iter()
        .find_map(|(k, v)| k.eq_ignore_ascii_case("manager").then_some(v))?;
    match manager {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => o
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("value"))
            .and_then(|(_, v)| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        _ => None,
    }
}

/// Sets (with `Some`) or drops (with `None`) the manager of a mapped user.
pub fn set_manager(resource: &mut Value, remote_id: Option<&str>) {
    let Some(root) = resource.as_object_mut() else {
        return;
    };
    let Some(key) = root
        .keys()
        .find(|k| k.eq_ignore_ascii_case(ENTERPRISE))
        .cloned()
    else {
        return;
    };
    let Some(ext) = root.get_mut(&key).and_then(Value::as_object_mut) else {
        return;
    };
    let manager_key = ext
        .keys()
        .find(|k| k.eq_ignore_ascii_case("manager"))
        .cloned();
    match (manager_key, remote_id) {
        (Some(k), Some(id)) => {
            ext.insert(k, serde_json::json!({ "value": id }));
        }
        (Some(k), None) => {
            ext.remove(&k);
        }
        (None, _) => {}
    }
    if ext.is_empty() {
        root.remove(&key);
        if let Some(Value::Array(schemas)) = root.get_mut("schemas") {
            schemas.retain(|s| {
                !s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(ENTERPRISE))
            });
        }
    }
}

/// Sources ordered so every manager comes before its reports (depth in the
/// manager chain, then id for a stable order), plus warnings for cycles.
pub fn order(sources: &[Source]) -> (Vec<&Source>, Vec<String>) {
    let by_id: HashMap<&str, &Source> = sources.iter().map(|s| (s.local_id.as_str(), s)).collect();
    let mut depth: HashMap<&str, usize> = HashMap::new();
    let mut warnings = Vec::new();
    let mut cyclic: HashSet<&str> = HashSet::new();
    for s in sources {
        // Walk up until a known depth, a missing manager, or a repeat.
        let mut chain: Vec<&str> = Vec::new();
        let mut cur = s.local_id.as_str();
        let base = loop {
            if let Some(d) = depth.get(cur) {
                break *d + 1;
            }
            if chain.contains(&cur) {
                if cyclic.insert(cur) {
                    warnings.push(format!("manager cycle through user {cur}"));
                }
                break 0;
            }
            chain.push(cur);
            let next = by_id.get(cur).and_then(|s| manager_of(&s.resource));
            match next {
                Some(m) if by_id.contains_key(m.as_str()) => {
                    cur = by_id.get_key_value(m.as_str()).map_or(cur, |(k, _)| *k);
                }
                _ => break 0,
            }
        };
        for (i, id) in chain.iter().rev().enumerate() {
            depth.entry(id).or_insert(base + i);
        }
    }
    let mut ordered: Vec<&Source> = sources.iter().collect();
    ordered.sort_by(|a, b| {
        let da = depth.get(a.local_id.as_str()).copied().unwrap_or(0);
        let db = depth.get(b.local_id.as_str()).copied().unwrap_or(0);
        da.cmp(&db).then_with(|| a.local_id.cmp(&b.local_id))
    });
    (ordered, warnings)
}
