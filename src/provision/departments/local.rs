//! The department side of a full run (blocking: reads the store): the
//! departments in a target's scope as groups, parents first, each with its
//! members — the people in scope who name it, then its sub-departments.

use std::collections::HashMap;

use super::as_group;
use crate::provision::plan::Source;
use crate::provision::runs::LoadedTarget;
use crate::store::{Store, StoreError};

/// The departments as sources, parents first, and each one's depth
/// (1 for a root).
pub struct Departments {
    pub sources: Vec<Source>,
    pub depths: HashMap<String, usize>,
}

/// `people`: each person in scope → the departments it names.
pub fn load(
    store: &dyn Store,
    target: &LoadedTarget,
    people: &HashMap<String, Vec<String>>,
) -> Result<Departments, StoreError> {
    let root = target.departments.root.as_deref();
    let tree = match store.department_subtree(root) {
        Ok(tree) => tree,
        // A root deleted since: no department is in scope.
        Err(StoreError::NotFound) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut members: HashMap<&str, Vec<String>> =
        tree.iter().map(|d| (d.id.as_str(), Vec::new())).collect();
    for (person, departments) in people {
        for d in departments {
            if let Some(m) = members.get_mut(d.as_str()) {
                m.push(person.clone());
            }
        }
    }
    for m in members.values_mut() {
        m.sort();
    }
    for d in &tree {
        if Some(d.id.as_str()) == root {
            continue;
        }
        if let Some(m) = d.parent_id().and_then(|p| members.get_mut(p)) {
            m.push(d.id.clone());
        }
    }
    let depths = tree.iter().map(|d| (d.id.clone(), d.depth())).collect();
    let sources = tree
        .iter()
        .map(|d| Source {
            local_id: d.id.clone(),
            resource: target.mapping.groups.apply(&as_group(d)),
            members: members.remove(d.id.as_str()).unwrap_or_default(),
        })
        .collect();
    Ok(Departments { sources, depths })
}
