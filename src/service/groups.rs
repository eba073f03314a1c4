//! Group use cases. Members are taken out of the attributes and stored as rows.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::rewrites::replacing;
use super::schemas::unique;
use super::users::{check_body_id, check_id, not_found, validated};
use super::{blocking, writing};
use crate::error::AppError;
use crate::scim::ResourceKind;
use crate::scim::ScimError;
use crate::scim::etag::TagList;
use crate::scim::patch::{MemberChanges, MemberType, apply, parse_patch_request};
use crate::store::Actor;
use crate::store::{
    MemberKind, MemberRef, MembersWrite, PasswordWrite, ResourceWrite, Store, StoredGroup, WriteOp,
};
use crate::telemetry::AUDIT;

#[derive(Clone)]
pub struct Groups {
    store: Arc<dyn Store>,
    max_patch_operations: usize,
}

/// Splits validated group attributes into stored attributes and member refs.
fn split_members(mut attributes: Map<String, Value>) -> Result<ResourceWrite, AppError> {
    let mut members = Vec::new();
    if let Some(Value::Array(items)) = attributes.remove("members") {
        for item in items {
            let id = item.get("value").and_then(Value::as_str).ok_or_else(|| {
                ScimError::invalid_value("every member needs a 'value' (the member's id)")
            })?;
            let kind = match item.get("type").and_then(Value::as_str) {
                None => None,
                Some(t) => Some(MemberKind::parse(t).ok_or_else(|| {
                    ScimError::invalid_value(format!("member type \"{t}\" is not User or Group"))
                })?),
            };
            members.push(MemberRef {
                id: id.to_string(),
                kind,
            });
        }
    }
    Ok(ResourceWrite {
        attributes,
        members: MembersWrite::Set(members),
        password: PasswordWrite::Keep,
    })
}

/// A PATCH's member diff in the store's terms.
fn member_diff(changes: MemberChanges) -> MembersWrite {
    let kind = |t: MemberType| match t {
        MemberType::User => MemberKind::User,
        MemberType::Group => MemberKind::Group,
    };
    MembersWrite::Change {
        remove_all: changes.remove_all,
        remove: changes.remove,
        add: changes
            .add
            .into_iter()
            .map(|m| MemberRef {
                id: m.value,
                kind: m.member_type.map(kind),
            })
            .collect(),
    }
}

impl Groups {
    pub fn new(store: Arc<dyn Store>, max_patch_operations: usize) -> Self {
        Self {
            store,
            max_patch_operations,
        }
    }

    pub async fn create(&self, actor: &Actor, body: Value) -> Result<StoredGroup, AppError> {
        let write = split_members(validated(ResourceKind::Group, &body)?.attributes)?;
        unique::check(&self.store, ResourceKind::Group, &write.attributes, None).await?;
        let store = self.store.clone();
        let owner = actor.clone();
        let group = writing(&self.store, move || Ok(store.create_group(write, &owner)?)).await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "create", resource_type = "Group", id = %group.id);
        Ok(group)
    }

    /// `with_members: false` skips deriving what the response will not show.
    pub async fn get(&self, id: &str, with_members: bool) -> Result<StoredGroup, AppError> {
        check_id(ResourceKind::Group, id)?;
        let store = self.store.clone();
        let owned = id.to_string();
        blocking(move || {
            store
                .get_group(&owned, with_members)
                .map_err(not_found(ResourceKind::Group, &owned))
        })
        .await
    }

    pub async fn replace(
        &self,
        actor: &Actor,
        id: &str,
        body: Value,
        if_match: Option<TagList>,
    ) -> Result<StoredGroup, AppError> {
        check_id(ResourceKind::Group, id)?;
        check_body_id(&body, id)?;
        let write = split_members(validated(ResourceKind::Group, &body)?.attributes)?;
        unique::check(
            &self.store,
            ResourceKind::Group,
            &write.attributes,
            Some(id),
        )
        .await?;
        let store = self.store.clone();
        let (owner, id) = (actor.clone(), id.to_string());
        let group = writing(&self.store, move || {
            let rewrite = Box::new(replacing(ResourceKind::Group, write, if_match));
            store
                .replace_group(&id, rewrite, &owner, WriteOp::Replace, true)
                .map_err(not_found(ResourceKind::Group, &id))
        })
        .await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "replace", resource_type = "Group", id = %group.id);
        Ok(group)
    }

    /// PATCH: member changes touch only the named member rows; the group's
    /// other members are never loaded (unless `with_members` asks for them
    /// in the response).
    pub async fn patch(
        &self,
        actor: &Actor,
        id: &str,
        body: Value,
        if_match: Option<TagList>,
        with_members: bool,
    ) -> Result<StoredGroup, AppError> {
        check_id(ResourceKind::Group, id)?;
        let ops = parse_patch_request(&body, self.max_patch_operations)?;
        unique::check_patch(&self.store, ResourceKind::Group, id, &ops).await?;
        let store = self.store.clone();
        let (owner, id) = (actor.clone(), id.to_string());
        let (group, changed) = writing(&self.store, move || {
            let changed = std::sync::Mutex::new(Vec::new());
            let rewrite = Box::new(|current: &StoredGroup| {
                if let Some(tags) = &if_match {
                    tags.require(&current.meta)?;
                }
                let outcome = apply(ResourceKind::Group, &current.attributes, &ops)?;
                if let Ok(mut c) = changed.lock() {
                    *c = outcome.changed.clone();
                }
                Ok(ResourceWrite {
                    attributes: outcome.attributes,
                    members: member_diff(outcome.members),
                    password: PasswordWrite::Keep,
                })
            });
            let group = store
                .replace_group(&id, rewrite, &owner, WriteOp::Patch, with_members)
                .map_err(not_found(ResourceKind::Group, &id))?;
            Ok((group, changed.into_inner().unwrap_or_default()))
        })
        .await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "patch", resource_type = "Group", id = %group.id, changed = ?changed);
        Ok(group)
    }

    pub async fn delete(
        &self,
        actor: &Actor,
        id: &str,
        if_match: Option<TagList>,
    ) -> Result<(), AppError> {
        check_id(ResourceKind::Group, id)?;
        let store = self.store.clone();
        let (actor_owned, id_owned) = (actor.clone(), id.to_string());
        writing(&self.store, move || {
            store
                .delete_group(&id_owned, &actor_owned, if_match.as_ref())
                .map_err(not_found(ResourceKind::Group, &id_owned))
        })
        .await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "delete", resource_type = "Group", id);
        Ok(())
    }
}
