//! The use cases of every plain resource type (`ResourceKind::Plain`:
//! Agents, AgenticApplications): validate against the registry, write
//! through the generic store path (its change-log and audit rows in the
//! same transaction), and say so on the audit log.

use std::sync::Arc;

use serde_json::Value;

use super::rewrites::{patching, replacing};
use super::users::{check_body_id, check_id, not_found, validated};
use super::{blocking, writing};
use crate::error::AppError;
use crate::scim::ResourceKind;
use crate::scim::etag::TagList;
use crate::scim::patch::parse_patch_request;
use crate::store::{Actor, ResourceWrite, Store, StoreResult, StoredResource, WriteOp};
use crate::telemetry::AUDIT;

#[derive(Clone)]
pub struct Resources {
    store: Arc<dyn Store>,
    max_patch_operations: usize,
}

fn write_of(attributes: serde_json::Map<String, Value>) -> ResourceWrite {
    ResourceWrite {
        attributes,
        ..ResourceWrite::default()
    }
}

fn audited(actor: &Actor, operation: &str, r: &StoredResource) {
    tracing::info!(target: AUDIT, actor = %actor.name, operation, resource_type = r.kind.as_str(), id = %r.id);
}

impl Resources {
    pub fn new(store: Arc<dyn Store>, max_patch_operations: usize) -> Self {
        Self {
            store,
            max_patch_operations,
        }
    }

    pub async fn create(
        &self,
        kind: ResourceKind,
        actor: &Actor,
        body: Value,
    ) -> Result<StoredResource, AppError> {
        let write = write_of(validated(kind, &body)?.attributes);
        let store = self.store.clone();
        let owner = actor.clone();
        let r = writing(&self.store, move || {
            Ok(store.create_resource(kind, write, &owner)?)
        })
        .await?;
        audited(actor, "create", &r);
        Ok(r)
    }

    pub async fn get(&self, kind: ResourceKind, id: &str) -> Result<StoredResource, AppError> {
        check_id(kind, id)?;
        let store = self.store.clone();
        let owned = id.to_string();
        blocking(move || {
            store
                .get_resource(kind, &owned)
                .map_err(not_found(kind, &owned))
        })
        .await
    }

    pub async fn replace(
        &self,
        kind: ResourceKind,
        actor: &Actor,
        id: &str,
        body: Value,
        if_match: Option<TagList>,
    ) -> Result<StoredResource, AppError> {
        check_id(kind, id)?;
        check_body_id(&body, id)?;
        let write = write_of(validated(kind, &body)?.attributes);
        let rewrite = replacing(kind, write, if_match);
        let r = self
            .rewrite(kind, actor, id, WriteOp::Replace, rewrite)
            .await?;
        audited(actor, "replace", &r);
        Ok(r)
    }

    pub async fn patch(
        &self,
        kind: ResourceKind,
        actor: &Actor,
        id: &str,
        body: Value,
        if_match: Option<TagList>,
    ) -> Result<StoredResource, AppError> {
        check_id(kind, id)?;
        let ops = parse_patch_request(&body, self.max_patch_operations)?;
        let rewrite = patching(kind, ops, if_match);
        let r = self
            .rewrite(kind, actor, id, WriteOp::Patch, rewrite)
            .await?;
        audited(actor, "patch", &r);
        Ok(r)
    }

    async fn rewrite(
        &self,
        kind: ResourceKind,
        actor: &Actor,
        id: &str,
        op: WriteOp,
        rewrite: impl FnOnce(&StoredResource) -> StoreResult<ResourceWrite> + Send + 'static,
    ) -> Result<StoredResource, AppError> {
        let store = self.store.clone();
        let (owner, id) = (actor.clone(), id.to_string());
        writing(&self.store, move || {
            store
                .replace_resource(kind, &id, Box::new(rewrite), &owner, op)
                .map_err(not_found(kind, &id))
        })
        .await
    }

    pub async fn delete(
        &self,
        kind: ResourceKind,
        actor: &Actor,
        id: &str,
        if_match: Option<TagList>,
    ) -> Result<(), AppError> {
        check_id(kind, id)?;
        let store = self.store.clone();
        let (owner, owned) = (actor.clone(), id.to_string());
        writing(&self.store, move || {
            store
                .delete_resource(kind, &owned, &owner, if_match.as_ref())
                .map_err(not_found(kind, &owned))
        })
        .await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "delete", resource_type = kind.as_str(), id = %id);
        Ok(())
    }
}
