//! Stored records rendered as SCIM JSON (the store renders too, to run the
//! filter evaluator over exactly what clients see).

use serde_json::{Map, Value, json};

use super::{MemberKind, StoredGroup, StoredUser};
use crate::scim::ResourceKind;
use crate::scim::render::{location, render};

fn member_kind(kind: MemberKind) -> ResourceKind {
    match kind {
        MemberKind::User => ResourceKind::User,
        MemberKind::Group => ResourceKind::Group,
    }
}

impl StoredUser {
    pub fn to_scim(&self, base_url: &str) -> Value {
        user(self, base_url)
    }
}

impl StoredGroup {
    pub fn to_scim(&self, base_url: &str) -> Value {
        group(self, base_url)
    }
}

fn user(u: &StoredUser, base_url: &str) -> Value {
    let mut derived = Map::new();
    if !u.groups.is_empty() {
        let groups: Vec<Value> = u
            .groups
            .iter()
            .map(|g| {
                json!({
                    "value": g.group_id,
                    "$ref": location(base_url, ResourceKind::Group, &g.group_id),
                    "display": g.display,
                    "type": if g.direct { "direct" } else { "indirect" },
                })
            })
            .collect();
        derived.insert("groups".into(), Value::Array(groups));
    }
    render(
        ResourceKind::User,
        &u.id,
        &u.attributes,
        derived,
        &u.meta,
        base_url,
    )
}

fn group(g: &StoredGroup, base_url: &str) -> Value {
    let mut derived = Map::new();
    if !g.members.is_empty() {
        let members: Vec<Value> = g
            .members
            .iter()
            .map(|m| {
                // No `display`: it would cost a join per member, and clients
                // (and conformance suites) expect members as they sent them.
                json!({
                    "value": m.id,
                    "$ref": location(base_url, member_kind(m.kind), &m.id),
                    "type": m.kind.as_str(),
                })
            })
            .collect();
        derived.insert("members".into(), Value::Array(members));
    }
    render(
        ResourceKind::Group,
        &g.id,
        &g.attributes,
        derived,
        &g.meta,
        base_url,
    )
}
