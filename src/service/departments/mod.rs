//! Department use cases: the organization tree over SCIM, the admin API
//! and the CLI. The store keeps the tree's rules (no cycles, moves of whole
//! subtrees, what a deletion does to what is under it) in its write
//! transaction and logs every change (with its audit row).

mod tree;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::rewrites::{patching, replacing};
use super::users::{check_body_id, check_id, not_found, validated};
use super::{blocking, writing};
use crate::error::AppError;
use crate::scim::ResourceKind;
use crate::scim::ScimError;
use crate::scim::etag::TagList;
use crate::scim::patch::parse_patch_request;
use crate::scim::registry::{DEPARTMENT_SCHEMA, common_attribute, registry};
use crate::scim::resource::coerce;
use crate::store::{
    Actor, DepartmentRemoval, RemoveMode, ResourceWrite, Store, StoredDepartment, WriteOp,
};
use crate::telemetry::AUDIT;

pub use tree::{TreeNode, render as render_tree};

const KIND: ResourceKind = ResourceKind::Department;

/// The attributes an admin (CLI, admin API) may set in one go.
const ADMIN_FIELDS: [&str; 4] = ["displayName", "code", "externalId", "ordering"];

#[derive(Clone)]
pub struct Departments {
    store: Arc<dyn Store>,
    max_patch_operations: usize,
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
    pub fn new(store: Arc<dyn Store>, max_patch_operations: usize) -> Self {
        Self {
            store,
            max_patch_operations,
        }
    }

    pub async fn create(&self, actor: &Actor, body: Value) -> Result<StoredDepartment, AppError> {
        let write = write_of(validated(KIND, &body)?.attributes);
        let store = self.store.clone();
        let owner = actor.clone();
        let d = writing(&self.store, move || {
            Ok(store.create_department(write, &owner)?)
        })
        .await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "create", resource_type = "Department", id = %d.id);
        Ok(d)
    }

    pub async fn get(&self, id: &str) -> Result<StoredDepartment, AppError> {
        check_id(KIND, id)?;
        let store = self.store.clone();
        let owned = id.to_string();
        blocking(move || {
            store
                .get_department(&owned)
                .map_err(not_found(KIND, &owned))
        })
        .await
    }

    /// PUT: a different `parent` moves the department with its subtree.
    pub async fn replace(
        &self,
        actor: &Actor,
        id: &str,
        body: Value,
        if_match: Option<TagList>,
    ) -> Result<StoredDepartment, AppError> {
        check_id(KIND, id)?;
        check_body_id(&body, id)?;
        let write = write_of(validated(KIND, &body)?.attributes);
        let rewrite = replacing(KIND, write, if_match);
        let d = self.rewrite(actor, id, WriteOp::Replace, rewrite).await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "replace", resource_type = "Department", id = %d.id);
        Ok(d)
    }

    pub async fn patch(
        &self,
        actor: &Actor,
        id: &str,
        body: Value,
        if_match: Option<TagList>,
    ) -> Result<StoredDepartment, AppError> {
        check_id(KIND, id)?;
        let ops = parse_patch_request(&body, self.max_patch_operations)?;
        let rewrite = patching(KIND, ops, if_match);
        let d = self.rewrite(actor, id, WriteOp::Patch, rewrite).await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "patch", resource_type = "Department", id = %d.id);
        Ok(d)
    }

    /// Moves a department (with everything under it) under `parent`, or
    /// to the root with None.
    pub async fn move_to(
        &self,
        actor: &Actor,
        id: &str,
        parent: Option<String>,
    ) -> Result<StoredDepartment, AppError> {
        check_id(KIND, id)?;
        let d = self
            .rewrite(actor, id, WriteOp::Patch, move |current| {
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

    async fn rewrite(
        &self,
        actor: &Actor,
        id: &str,
        op: WriteOp,
        rewrite: impl FnOnce(&StoredDepartment) -> crate::store::StoreResult<ResourceWrite>
        + Send
        + 'static,
    ) -> Result<StoredDepartment, AppError> {
        let store = self.store.clone();
        let (owner, id) = (actor.clone(), id.to_string());
        writing(&self.store, move || {
            store
                .replace_department(&id, Box::new(rewrite), &owner, op)
                .map_err(not_found(KIND, &id))
        })
        .await
    }

    /// Deletes a department; with people or sub-departments under it only
    /// when `mode` says to cascade or move them.
    pub async fn delete(
        &self,
        actor: &Actor,
        id: &str,
        if_match: Option<TagList>,
        mode: RemoveMode,
    ) -> Result<DepartmentRemoval, AppError> {
        check_id(KIND, id)?;
        let store = self.store.clone();
        let (owner, owned) = (actor.clone(), id.to_string());
        let removal = writing(&self.store, move || {
            store
                .delete_department(&owned, &owner, if_match.as_ref(), &mode)
                .map_err(not_found(KIND, &owned))
        })
        .await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "delete", resource_type = "Department", id, removed = removal.removed.len(), people = removal.people);
        Ok(removal)
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
        let d = self
            .rewrite(actor, id, WriteOp::Patch, move |current| {
                let mut attributes = current.attributes.clone();
                for f in &removed {
                    attributes.remove(f);
                }
                attributes.extend(changes);
                Ok(write_of(attributes))
            })
            .await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "update", resource_type = "Department", id = %d.id);
        Ok(d)
    }
}
