//! User use cases.

use std::sync::Arc;

use serde_json::Value;

use super::{blocking, password};
use crate::error::AppError;
use crate::scim::ResourceKind;
use crate::scim::ScimError;
use crate::scim::resource::{ValidatedResource, check_immutable, validate};
use crate::store::{PasswordWrite, ResourceWrite, Store, StoreError, StoredUser};
use crate::telemetry::AUDIT;

#[derive(Clone)]
pub struct Users {
    store: Arc<dyn Store>,
}

/// Ids are server-assigned UUIDs; anything with control characters (which
/// PostgreSQL text cannot even hold) or of absurd length names nothing.
pub(super) fn check_id(kind: ResourceKind, id: &str) -> Result<(), AppError> {
    if id.len() > 256 || id.chars().any(char::is_control) {
        return Err(ScimError::not_found(format!("{} not found", kind.as_str())).into());
    }
    Ok(())
}

pub(super) fn not_found(kind: ResourceKind, id: &str) -> impl FnOnce(StoreError) -> AppError {
    let detail = format!("{} \"{id}\" not found", kind.as_str());
    move |e| match e {
        StoreError::NotFound => AppError::Scim(ScimError::not_found(detail)),
        other => other.into(),
    }
}

/// Validates a body and logs what was ignored.
pub(super) fn validated(kind: ResourceKind, body: &Value) -> Result<ValidatedResource, AppError> {
    let v = validate(kind, body)?;
    if !v.ignored.is_empty() {
        tracing::info!(resource_type = kind.as_str(), ignored = ?v.ignored, "ignored unknown attributes");
    }
    Ok(v)
}

/// A body `id` must match the addressed resource (it is otherwise ignored).
pub(super) fn check_body_id(body: &Value, id: &str) -> Result<(), AppError> {
    match body.get("id") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s == id => Ok(()),
        Some(_) => Err(ScimError::invalid_value(format!(
            "the body's id does not match the resource \"{id}\" addressed by the URL"
        ))
        .into()),
    }
}

fn password_write(plain: Option<String>) -> Result<PasswordWrite, AppError> {
    plain.map_or(Ok(PasswordWrite::Keep), |p| {
        password::hash(&p).map(PasswordWrite::Set)
    })
}

impl Users {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    pub async fn create(&self, actor: &str, body: Value) -> Result<StoredUser, AppError> {
        let mut v = validated(ResourceKind::User, &body)?;
        // An account is active unless the client says otherwise.
        v.attributes.entry("active").or_insert(Value::Bool(true));
        let store = self.store.clone();
        let owner = actor.to_string();
        let user = blocking(move || {
            let write = ResourceWrite {
                attributes: v.attributes,
                members: Vec::new(),
                password: password_write(v.password)?,
            };
            Ok(store.create_user(write, &owner)?)
        })
        .await?;
        tracing::info!(target: AUDIT, actor, operation = "create", resource_type = "User", id = %user.id);
        Ok(user)
    }

    /// `with_groups: false` skips deriving what the response will not show.
    pub async fn get(&self, id: &str, with_groups: bool) -> Result<StoredUser, AppError> {
        check_id(ResourceKind::User, id)?;
        let store = self.store.clone();
        let owned = id.to_string();
        blocking(move || {
            store
                .get_user(&owned, with_groups)
                .map_err(not_found(ResourceKind::User, &owned))
        })
        .await
    }

    pub async fn replace(
        &self,
        actor: &str,
        id: &str,
        body: Value,
    ) -> Result<StoredUser, AppError> {
        check_id(ResourceKind::User, id)?;
        check_body_id(&body, id)?;
        let v = validated(ResourceKind::User, &body)?;
        let store = self.store.clone();
        let (owner, id) = (actor.to_string(), id.to_string());
        let user = blocking(move || {
            let password = password_write(v.password)?;
            let mut attributes = v.attributes;
            let rewrite = Box::new(move |current: &StoredUser| {
                check_immutable(ResourceKind::User, &current.attributes, &attributes)?;
                // A PUT that omits `active` (Okta) must not change it.
                if !attributes.contains_key("active") {
                    let active = current.attributes.get("active").cloned();
                    attributes.insert("active".into(), active.unwrap_or(Value::Bool(true)));
                }
                Ok(ResourceWrite {
                    attributes,
                    members: Vec::new(),
                    password,
                })
            });
            store
                .replace_user(&id, rewrite, &owner)
                .map_err(not_found(ResourceKind::User, &id))
        })
        .await?;
        tracing::info!(target: AUDIT, actor, operation = "replace", resource_type = "User", id = %user.id);
        Ok(user)
    }

    pub async fn delete(&self, actor: &str, id: &str) -> Result<(), AppError> {
        check_id(ResourceKind::User, id)?;
        let store = self.store.clone();
        let (actor_owned, id_owned) = (actor.to_string(), id.to_string());
        blocking(move || {
            store
                .delete_user(&id_owned, &actor_owned)
                .map_err(not_found(ResourceKind::User, &id_owned))
        })
        .await?;
        tracing::info!(target: AUDIT, actor, operation = "delete", resource_type = "User", id);
        Ok(())
    }
}
