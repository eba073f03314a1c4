//! User use cases.

use std::sync::Arc;

use serde_json::Value;

use super::schemas::unique;
use super::{blocking, password, writing};
use crate::error::AppError;
use crate::scim::ResourceKind;
use crate::scim::ScimError;
use crate::scim::etag::TagList;
use crate::scim::patch::{apply, parse_patch_request};
use crate::scim::projection::Projection;
use crate::scim::render::ResourceMeta;
use crate::scim::resource::{ValidatedResource, check_immutable, validate};
use crate::store::Actor;
use crate::store::{
    MembersWrite, PasswordWrite, ResourceWrite, Store, StoreError, StoredUser, StoredUserText,
    UserKey, WriteOp,
};
use crate::telemetry::AUDIT;

#[derive(Clone)]
pub struct Users {
    store: Arc<dyn Store>,
    max_patch_operations: usize,
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

/// A user's response body: rendered straight from the stored text when
/// `projection` leaves it whole, else parsed, rendered and projected.
pub fn user_body(
    user: StoredUserText,
    base_url: &str,
    projection: &Projection,
) -> Result<Vec<u8>, AppError> {
    if projection.leaves_unchanged(ResourceKind::User, &user.data) {
        return Ok(user.to_scim_text(base_url)?);
    }
    let shown = projection.apply(ResourceKind::User, user.parse()?.to_scim(base_url));
    serde_json::to_vec(&shown).map_err(|e| AppError::Internal(e.into()))
}

/// A user as stored JSON text, read here when the store answers at once
/// (SQLite with an idle connection), else on the blocking pool; None when
/// no user has that key.
pub(super) async fn read_user_text(
    store: &Arc<dyn Store>,
    key: UserKey<'_>,
    with_groups: bool,
) -> Result<Option<StoredUserText>, AppError> {
    let found = |read: Result<StoredUserText, StoreError>| match read {
        Ok(user) => Ok(Some(user)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(AppError::from(e)),
    };
    if let Some(read) = store.get_user_text_now(key, with_groups) {
        return found(read);
    }
    let store = store.clone();
    let (by_id, value) = match key {
        UserKey::Id(id) => (true, id.to_string()),
        UserKey::UserNameLower(name) => (false, name.to_string()),
    };
    blocking(move || {
        let key = if by_id {
            UserKey::Id(&value)
        } else {
            UserKey::UserNameLower(&value)
        };
        found(store.get_user_text(key, with_groups))
    })
    .await
}

impl Users {
    pub fn new(store: Arc<dyn Store>, max_patch_operations: usize) -> Self {
        Self {
            store,
            max_patch_operations,
        }
    }

    pub async fn create(&self, actor: &Actor, body: Value) -> Result<StoredUserText, AppError> {
        let mut v = validated(ResourceKind::User, &body)?;
        unique::check(&self.store, ResourceKind::User, &v.attributes, None).await?;
        // An account is active unless the client says otherwise.
        v.attributes.entry("active").or_insert(Value::Bool(true));
        // Hashed before the write is queued: argon2 must not hold up the writer.
        let password = match v.password {
            None => PasswordWrite::Keep,
            Some(plain) => blocking(move || password_write(Some(plain))).await?,
        };
        let store = self.store.clone();
        let owner = actor.clone();
        let write = ResourceWrite {
            attributes: v.attributes,
            members: MembersWrite::default(),
            password,
        };
        let user = writing(&self.store, move || Ok(store.create_user(write, &owner)?)).await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "create", resource_type = "User", id = %user.id);
        Ok(user)
    }

    /// Creates many users in one transaction (bulk imports); each body gets
    /// its own outcome, so one bad user does not sink the others.
    pub async fn create_many(
        &self,
        actor: &Actor,
        bodies: Vec<Value>,
    ) -> Result<Vec<Result<(String, ResourceMeta), AppError>>, AppError> {
        let mut prepared: Vec<Result<ValidatedResource, AppError>> = bodies
            .iter()
            .map(|b| {
                let mut v = validated(ResourceKind::User, b)?;
                v.attributes.entry("active").or_insert(Value::Bool(true));
                Ok(v)
            })
            .collect();
        if unique::any_unique(ResourceKind::User) {
            for p in prepared.iter_mut() {
                if let Ok(v) = p
                    && let Err(e) =
                        unique::check(&self.store, ResourceKind::User, &v.attributes, None).await
                {
                    *p = Err(e);
                }
            }
        }
        // Passwords are hashed on the blocking pool, not while the write is queued.
        let (mut results, slots, writes) = blocking(move || {
            let mut results: Vec<Option<Result<(String, ResourceMeta), AppError>>> = Vec::new();
            let mut slots = Vec::new();
            let mut writes = Vec::new();
            for (i, p) in prepared.into_iter().enumerate() {
                results.push(None);
                match p.and_then(|v| {
                    Ok(ResourceWrite {
                        attributes: v.attributes,
                        members: MembersWrite::default(),
                        password: password_write(v.password)?,
                    })
                }) {
                    Ok(w) => {
                        slots.push(i);
                        writes.push(w);
                    }
                    Err(e) => results[i] = Some(Err(e)),
                }
            }
            Ok((results, slots, writes))
        })
        .await?;
        let store = self.store.clone();
        let owner = actor.clone();
        let created = writing(&self.store, move || Ok(store.create_users(writes, &owner)?)).await?;
        for (slot, outcome) in slots.into_iter().zip(created) {
            results[slot] = Some(outcome.map_err(AppError::from));
        }
        let results: Vec<_> = results.into_iter().flatten().collect();
        for (id, _) in results.iter().flatten() {
            tracing::info!(target: AUDIT, actor = %actor.name, operation = "create", resource_type = "User", id = %id);
        }
        Ok(results)
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

    /// `get` with the attributes as stored JSON text, for a response that
    /// shows the whole user. Where the store answers at once (SQLite), the
    /// read runs right here instead of on the blocking pool: no hand-off to
    /// another thread and back.
    pub async fn get_text(&self, id: &str, with_groups: bool) -> Result<StoredUserText, AppError> {
        check_id(ResourceKind::User, id)?;
        self.read_text(UserKey::Id(id), with_groups)
            .await?
            .ok_or_else(|| not_found(ResourceKind::User, id)(StoreError::NotFound))
    }

    /// The user holding `user_name` (compared ignoring case, as userName
    /// is), if any, with its attributes as stored JSON text.
    pub async fn find_text_by_name(
        &self,
        user_name: &str,
        with_groups: bool,
    ) -> Result<Option<StoredUserText>, AppError> {
        let lower = user_name.to_lowercase();
        self.read_text(UserKey::UserNameLower(&lower), with_groups)
            .await
    }

    async fn read_text(
        &self,
        key: UserKey<'_>,
        with_groups: bool,
    ) -> Result<Option<StoredUserText>, AppError> {
        read_user_text(&self.store, key, with_groups).await
    }

    pub async fn replace(
        &self,
        actor: &Actor,
        id: &str,
        body: Value,
        if_match: Option<TagList>,
    ) -> Result<StoredUserText, AppError> {
        check_id(ResourceKind::User, id)?;
        check_body_id(&body, id)?;
        let v = validated(ResourceKind::User, &body)?;
        unique::check(&self.store, ResourceKind::User, &v.attributes, Some(id)).await?;
        let store = self.store.clone();
        let (owner, id) = (actor.clone(), id.to_string());
        let password = match v.password {
            None => PasswordWrite::Keep,
            Some(plain) => blocking(move || password_write(Some(plain))).await?,
        };
        let user = writing(&self.store, move || {
            let mut attributes = v.attributes;
            let rewrite = Box::new(move |current: &StoredUser| {
                if let Some(tags) = &if_match {
                    tags.require(&current.meta)?;
                }
                check_immutable(ResourceKind::User, &current.attributes, &attributes)?;
                // A PUT that omits `active` (Okta) must not change it.
                if !attributes.contains_key("active") {
                    let active = current.attributes.get("active").cloned();
                    attributes.insert("active".into(), active.unwrap_or(Value::Bool(true)));
                }
                Ok(ResourceWrite {
                    attributes,
                    members: MembersWrite::default(),
                    password,
                })
            });
            store
                .replace_user(&id, rewrite, &owner, WriteOp::Replace)
                .map_err(not_found(ResourceKind::User, &id))
        })
        .await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "replace", resource_type = "User", id = %user.id);
        Ok(user)
    }

    /// PATCH: all operations apply to the current state inside one
    /// transaction, or none does.
    pub async fn patch(
        &self,
        actor: &Actor,
        id: &str,
        body: Value,
        if_match: Option<TagList>,
    ) -> Result<StoredUserText, AppError> {
        check_id(ResourceKind::User, id)?;
        let ops = parse_patch_request(&body, self.max_patch_operations)?;
        unique::check_patch(&self.store, ResourceKind::User, id, &ops).await?;
        let store = self.store.clone();
        let (owner, id) = (actor.clone(), id.to_string());
        let (user, changed) = writing(&self.store, move || {
            let changed = std::sync::Mutex::new(Vec::new());
            let rewrite = Box::new(|current: &StoredUser| {
                if let Some(tags) = &if_match {
                    tags.require(&current.meta)?;
                }
                let outcome = apply(ResourceKind::User, &current.attributes, &ops)?;
                if !outcome.ignored.is_empty() {
                    tracing::info!(ignored = ?outcome.ignored, "PATCH ignored unknown attributes");
                }
                if let Ok(mut c) = changed.lock() {
                    *c = outcome.changed.clone();
                }
                let password = password_write(outcome.password).map_err(|e| match e {
                    AppError::Scim(s) => StoreError::Rejected(s),
                    other => StoreError::Corrupt(other.to_string()),
                })?;
                Ok(ResourceWrite {
                    attributes: outcome.attributes,
                    members: MembersWrite::default(),
                    password,
                })
            });
            let user = store
                .replace_user(&id, rewrite, &owner, WriteOp::Patch)
                .map_err(not_found(ResourceKind::User, &id))?;
            Ok((user, changed.into_inner().unwrap_or_default()))
        })
        .await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "patch", resource_type = "User", id = %user.id, changed = ?changed);
        Ok(user)
    }

    pub async fn delete(
        &self,
        actor: &Actor,
        id: &str,
        if_match: Option<TagList>,
    ) -> Result<(), AppError> {
        check_id(ResourceKind::User, id)?;
        let store = self.store.clone();
        let (actor_owned, id_owned) = (actor.clone(), id.to_string());
        writing(&self.store, move || {
            store
                .delete_user(&id_owned, &actor_owned, if_match.as_ref())
                .map_err(not_found(ResourceKind::User, &id_owned))
        })
        .await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "delete", resource_type = "User", id);
        Ok(())
    }
}
