//! Department use cases: the organization tree over SCIM, the admin API
//! and the CLI. The store keeps the tree's rules (no cycles, moves of whole
//! subtrees, what a deletion does to what is under it) in its write
//! transaction and logs every change (with its audit row).

mod tree;

use std::collections::HashMap;

use serde_json::{Value, json};

use super::blocking;
use super::flow::{Flow, Hooks, audited, check_id, not_found};
use crate::error::AppError;
use crate::scim::ResourceKind;
use crate::scim::ScimError;
use crate::scim::etag::TagList;
use crate::scim::registry::{DEPARTMENT_SCHEMA, common_attribute, registry};
use crate::scim::resource::coerce;
use crate::store::{
    Actor, DepartmentRemoval, RemoveMode, ResourceWrite, Rewrite, Store, StoreResult,
    StoredDepartment, WriteOp,
};
use crate::telemetry::AUDIT;

pub use tree::{TreeNode, render as render_tree};

const KIND: ResourceKind = ResourceKind::Department;

/// The attributes an admin (CLI, admin API) may set in one go.
const ADMIN_FIELDS: [&str; 4] = ["displayName", "code", "externalId", "ordering"];

/// Departments: the store keeps the tree's rules; a deletion says what
/// happens to what is under the department.
pub type Departments = Flow<DepartmentHooks>;

#[derive(Clone, Copy, Default)]
pub struct DepartmentHooks;

impl Hooks for DepartmentHooks {
    type Current = StoredDepartment;
    type Stored = StoredDepartment;
    type Removal = DepartmentRemoval;

    fn kind(&self) -> ResourceKind {
        KIND
    }

    fn id(stored: &StoredDepartment) -> &str {
        &stored.id
    }

    fn create(
        &self,
        store: &dyn Store,
        write: ResourceWrite,
        actor: &Actor,
    ) -> StoreResult<StoredDepartment> {
        store.create_department(write, actor)
    }

    fn get(
        &self,
        store: &dyn Store,
        id: &str,
        _with_derived: bool,
    ) -> StoreResult<StoredDepartment> {
        store.get_department(id)
    }

    /// A different `parent` moves the department with its subtree.
    fn replace(
        &self,
        store: &dyn Store,
        id: &str,
        rewrite: Rewrite<'_, StoredDepartment>,
        actor: &Actor,
        op: WriteOp,
        _with_derived: bool,
    ) -> StoreResult<StoredDepartment> {
        store.replace_department(id, rewrite, actor, op)
    }

    /// With people or sub-departments under it only when `mode` says to
    /// cascade or move them.
    fn delete(
        &self,
        store: &dyn Store,
        id: &str,
        actor: &Actor,
        if_match: Option<&TagList>,
        mode: &RemoveMode,
    ) -> StoreResult<DepartmentRemoval> {
        store.delete_department(id, actor, if_match, mode)
    }

    fn audit_delete(&self, actor: &Actor, id: &str, removal: &DepartmentRemoval) {
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "delete", resource_type = "Department", id, removed = removal.removed.len(), people = removal.people);
    }
}

/// The admin fields given (not null), checked against the schema.
fn admin_fields(
    fields: &serde_json::Map<String, Value>,
) -> Result<serde_json::Map<String, Value>, AppError> {
    if let Some(unknown) = fields
        .keys()
        .find(|k| !ADMIN_FIELDS.contains(&k.as_str()) && k.as_str() != "parent")
    {
        return Err(ScimError::invalid_value(format!(
            "unknown field \"{unknown}\" (displayName, code, externalId, ordering, parent)"
        ))
        .into());
    }
    let schema = registry().core_schema(KIND);
    let mut out = serde_json::Map::new();
    for name in ADMIN_FIELDS {
        let (Some(value), Some(def)) = (
            fields.get(name),
            schema.attribute(name).or_else(|| common_attribute(name)),
        ) else {
            continue;
        };
        if let Some(v) = coerce(def, value, name)? {
            out.insert(name.to_string(), v);
        }
    }
    Ok(out)
}

fn write_of(attributes: serde_json::Map<String, Value>) -> ResourceWrite {
    ResourceWrite {
        attributes,
        ..ResourceWrite::default()
    }
}

impl Departments {
    /// Moves a department (with everything under it) under `parent`, or
    /// to the root with None.
    pub async fn move_to(
        &self,
        actor: &Actor,
        id: &str,
        parent: Option<String>,
    ) -> Result<StoredDepartment, AppError> {
        check_id(KIND, id)?;
        let (d, _) = self
            .rewrite(actor, id, WriteOp::Patch, true, move |current, _| {
                let mut attributes = current.attributes.clone();
                match parent {
                    Some(p) => attributes.insert("parent".into(), json!({"value": p})),
                    None => attributes.remove("parent"),
                };
                Ok(write_of(attributes))
            })
            .await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "move", resource_type = "Department", id = %d.id, path = %d.path());
        Ok(d)
    }

    /// `root` and everything under it (the whole tree when None), each
    /// department after its parent.
    pub async fn subtree(&self, root: Option<String>) -> Result<Vec<StoredDepartment>, AppError> {
        if let Some(id) = &root {
            check_id(KIND, id)?;
        }
        let store = self.store.clone();
        blocking(move || {
            let found = store.department_subtree(root.as_deref());
            match &root {
                Some(id) => found.map_err(not_found(KIND, id)),
                None => Ok(found?),
            }
        })
        .await
    }

    /// How many people have each department as their primary one.
    pub async fn head_counts(&self) -> Result<HashMap<String, u64>, AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.department_head_counts()?)).await
    }

    /// `root` and everything under it (the whole tree when None), nested,
    /// with head counts.
    pub async fn tree(&self, root: Option<String>) -> Result<Vec<TreeNode>, AppError> {
        let departments = self.subtree(root).await?;
        let heads = self.head_counts().await?;
        Ok(tree::build(&departments, &heads))
    }

    /// A department from an admin's fields (`displayName`, `code`,
    /// `externalId`, `ordering`, and `parent` as an id).
    pub async fn add(
        &self,
        actor: &Actor,
        fields: serde_json::Map<String, Value>,
    ) -> Result<StoredDepartment, AppError> {
        let mut body = admin_fields(&fields)?;
        if let Some(parent) = fields.get("parent").filter(|p| !p.is_null()) {
            let id = parent
                .as_str()
                .or_else(|| parent.get("value").and_then(Value::as_str))
                .ok_or_else(|| ScimError::invalid_value("parent must be a department id"))?;
            body.insert("parent".into(), json!({"value": id}));
        }
        body.insert("schemas".into(), json!([DEPARTMENT_SCHEMA]));
        self.create(actor, Value::Object(body)).await
    }

    /// Changes an admin's fields of a department (null removes one); the
    /// parent changes through `move_to`.
    pub async fn update(
        &self,
        actor: &Actor,
        id: &str,
        fields: serde_json::Map<String, Value>,
    ) -> Result<StoredDepartment, AppError> {
        check_id(KIND, id)?;
        let changes = admin_fields(&fields)?;
        let removed: Vec<String> = ADMIN_FIELDS
            .iter()
            .filter(|f| fields.get(**f).is_some_and(Value::is_null))
            .map(|f| f.to_string())
            .collect();
        let (d, _) = self
            .rewrite(actor, id, WriteOp::Patch, true, move |current, _| {
                let mut attributes = current.attributes.clone();
                for f in &removed {
                    attributes.remove(f);
                }
                attributes.extend(changes);
                Ok(write_of(attributes))
            })
            .await?;
        audited(actor, "update", KIND, &d.id);
        Ok(d)
    }
}
