//! Stored records rendered as SCIM JSON (the store renders too, to run the
//! filter evaluator over exactly what clients see).

use serde_json::{Map, Value, json};

use super::model::org;
use super::{
    ChangeRecord, GroupMembership, MemberKind, Store, StoreError, StoredDepartment, StoredGroup,
    StoredResource, StoredUser, StoredUserText,
};
use crate::scim::ResourceKind;
use crate::scim::registry::ORGANIZATION_USER_SCHEMA;
use crate::scim::render::{location, render, render_text};

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

impl StoredResource {
    pub fn to_scim(&self, base_url: &str) -> Value {
        render(
            self.kind,
            &self.id,
            &self.attributes,
            Map::new(),
            &self.meta,
            base_url,
        )
    }
}

impl StoredDepartment {
    /// The department as SCIM JSON, `parent.$ref` included.
    pub fn to_scim(&self, base_url: &str) -> Value {
        let mut attributes = self.attributes.clone();
        if let Some(parent) = attributes.get_mut("parent") {
            add_department_ref(parent, base_url);
        }
        render(
            ResourceKind::Department,
            &self.id,
            &attributes,
            Map::new(),
            &self.meta,
            base_url,
        )
    }
}

impl StoredUserText {
    /// The SCIM JSON text of the user: the bytes of
    /// `serde_json::to_vec(&self.parse()?.to_scim(base_url))`, rendered from
    /// the stored text without parsing it.
    pub fn to_scim_text(&self, base_url: &str) -> Result<Vec<u8>, StoreError> {
        let derived: Vec<(&str, Value)> = groups(&self.groups, base_url)
            .map(|g| ("groups", g))
            .into_iter()
            .collect();
        // Department references gain their `$ref` in `to_scim`.
        if self.data.contains(ORGANIZATION_USER_SCHEMA) {
            return serde_json::to_vec(&self.clone().parse()?.to_scim(base_url))
                .map_err(|e| StoreError::Corrupt(e.to_string()));
        }
        let text = render_text(
            ResourceKind::User,
            &self.id,
            &self.data,
            &derived,
            &self.meta,
            base_url,
        );
        match text {
            Some(text) => Ok(text),
            None => serde_json::to_vec(&self.clone().parse()?.to_scim(base_url))
                .map_err(|e| StoreError::Corrupt(e.to_string())),
        }
    }

    /// The user with its attributes parsed.
    pub fn parse(self) -> Result<StoredUser, StoreError> {
        Ok(StoredUser {
            attributes: serde_json::from_str(&self.data)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            id: self.id,
            meta: self.meta,
            groups: self.groups,
        })
    }
}

/// A user's derived `groups`, when it is in any.
fn groups(groups: &[GroupMembership], base_url: &str) -> Option<Value> {
    if groups.is_empty() {
        return None;
    }
    let groups: Vec<Value> = groups
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
    Some(Value::Array(groups))
}

fn user(u: &StoredUser, base_url: &str) -> Value {
    let mut derived = Map::new();
    if let Some(groups) = groups(&u.groups, base_url) {
        derived.insert("groups".into(), groups);
    }
    let mut out = render(
        ResourceKind::User,
        &u.id,
        &u.attributes,
        derived,
        &u.meta,
        base_url,
    );
    if let Some(Value::Object(org)) = out.get_mut(ORGANIZATION_USER_SCHEMA) {
        if let Some(primary) = org.get_mut(org::PRIMARY) {
            add_department_ref(primary, base_url);
        }
        if let Some(Value::Array(further)) = org.get_mut(org::FURTHER) {
            further
                .iter_mut()
                .for_each(|d| add_department_ref(d, base_url));
        }
    }
    out
}

/// `{"value": ID, …}` gains the `$ref` of Department ID.
fn add_department_ref(reference: &mut Value, base_url: &str) {
    if let Value::Object(r) = reference
        && let Some(id) = r.get("value").and_then(Value::as_str)
    {
        let href = location(base_url, ResourceKind::Department, id);
        r.insert("$ref".into(), Value::String(href));
    }
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

/// A resource of any type as it is now: its SCIM JSON, version and
/// `externalId`; None when there is none. What the change-log consumers
/// (`/Changes`, subscriptions, SCIM events) read, so one place knows how
/// each type is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// As a GET answers it.
    pub representation: Value,
    pub version: i64,
    pub external_id: Option<String>,
}

pub fn current(
    store: &dyn Store,
    kind: ResourceKind,
    id: &str,
    base_url: &str,
) -> Result<Option<Current>, StoreError> {
    let found = match kind {
        ResourceKind::User => store
            .get_user(id, true)
            .map(|u| (u.to_scim(base_url), u.meta.version, u.attributes)),
        ResourceKind::Group => store
            .get_group(id, true)
            .map(|g| (g.to_scim(base_url), g.meta.version, g.attributes)),
        ResourceKind::Department => store
            .get_department(id)
            .map(|d| (d.to_scim(base_url), d.meta.version, d.attributes)),
        ResourceKind::Plain(_) => store
            .get_resource(kind, id)
            .map(|r| (r.to_scim(base_url), r.meta.version, r.attributes)),
    };
    match found {
        Ok((representation, version, attributes)) => Ok(Some(Current {
            representation,
            version,
            external_id: attributes
                .get("externalId")
                .and_then(Value::as_str)
                .map(str::to_string),
        })),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Change-log rows as events: the same shape for the pull API and for
/// subscription webhooks. Upserts carry the resource as it is now
/// (`base_url` ends in `/scim/v2`); deletions and vanished resources, null.
pub fn render_events(
    store: &dyn Store,
    rows: Vec<ChangeRecord>,
    base_url: &str,
) -> Result<Vec<Value>, StoreError> {
    let mut events = Vec::with_capacity(rows.len());
    for r in rows {
        let kind = ResourceKind::parse(&r.resource_type);
        let resource = match (r.operation.as_str(), kind) {
            ("delete", _) | (_, None) => Value::Null,
            (_, Some(kind)) => current(store, kind, &r.resource_id, base_url)?
                .map_or(Value::Null, |c| c.representation),
        };
        events.push(json!({
            "cursor": r.seq.to_string(),
            "operation": r.operation,
            "resourceType": r.resource_type,
            "id": r.resource_id,
            "version": format!("W/\"{}\"", r.version),
            "changedAt": crate::scim::render::format_time(&r.changed_at),
            // The resource as it is now; null once it is gone.
            "resource": resource,
        }));
    }
    Ok(events)
}
