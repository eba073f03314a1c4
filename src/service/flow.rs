//! The one write and read path of every resource type: the steps all types
//! share (id checks, validation, extension uniqueness, the ETag
//! precondition, the not-found mapping, the audit line) written once, over
//! a small `Hooks` value per type for where the types really differ
//! (users' `active` and passwords, groups' members, departments' removal).
//! Static dispatch: `Flow<UserHooks>` is `Users`, and so on.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::schemas::unique;
use super::{blocking, password, writing};
use crate::error::AppError;
use crate::scim::etag::TagList;
use crate::scim::patch::{MemberChanges, apply, parse_patch_request};
use crate::scim::resource::{ValidatedResource, check_immutable, validate};
use crate::scim::{ResourceKind, ScimError};
use crate::store::{
    Actor, MembersWrite, PasswordWrite, RemoveMode, ResourceWrite, Rewrite, Store, StoreError,
    StoreResult, Versioned, WriteOp,
};
use crate::telemetry::AUDIT;

/// What tells one resource type apart: its store calls, and the few rules
/// of its own. Everything else is `Flow`'s.
pub trait Hooks: Clone + Send + Sync + 'static {
    /// The stored state a rewrite reads and `get` answers.
    type Current: Versioned + Send + 'static;
    /// What a write answers.
    type Stored: Send + 'static;
    /// What a deletion answers.
    type Removal: Send + 'static;

    fn kind(&self) -> ResourceKind;
    fn id(stored: &Self::Stored) -> &str;

    /// The write a validated body's attributes ask for (groups: members
    /// taken out as rows).
    fn write_of(&self, attributes: Map<String, Value>) -> Result<ResourceWrite, AppError> {
        Ok(ResourceWrite {
            attributes,
            ..ResourceWrite::default()
        })
    }
    /// What a PATCH does to member rows (groups only).
    fn members(&self, _changes: MemberChanges) -> MembersWrite {
        MembersWrite::default()
    }
    /// The defaults a new resource gets (users: `active`).
    fn on_create(&self, _attributes: &mut Map<String, Value>) {}
    /// What a PUT keeps of the stored state (users: `active` when omitted).
    fn on_replace(&self, _current: &Map<String, Value>, _attributes: &mut Map<String, Value>) {}

    fn create(
        &self,
        store: &dyn Store,
        write: ResourceWrite,
        actor: &Actor,
    ) -> StoreResult<Self::Stored>;
    /// `with_derived: false` skips deriving what the caller will not show
    /// (users' `groups`, groups' `members`).
    fn get(&self, store: &dyn Store, id: &str, with_derived: bool) -> StoreResult<Self::Current>;
    fn replace(
        &self,
        store: &dyn Store,
        id: &str,
        rewrite: Rewrite<'_, Self::Current>,
        actor: &Actor,
        op: WriteOp,
        with_derived: bool,
    ) -> StoreResult<Self::Stored>;
    /// `mode` says what happens to what is under the resource (departments).
    fn delete(
        &self,
        store: &dyn Store,
        id: &str,
        actor: &Actor,
        if_match: Option<&TagList>,
        mode: &RemoveMode,
    ) -> StoreResult<Self::Removal>;
    /// The audit line of a deletion.
    fn audit_delete(&self, actor: &Actor, id: &str, _removal: &Self::Removal) {
        audited(actor, "delete", self.kind(), id);
    }
}

/// One resource type's use cases over one store.
#[derive(Clone)]
pub struct Flow<K> {
    pub(super) store: Arc<dyn Store>,
    max_patch_operations: usize,
    pub(super) hooks: K,
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
fn check_body_id(body: &Value, id: &str) -> Result<(), AppError> {
    match body.get("id") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s == id => Ok(()),
        Some(_) => Err(ScimError::invalid_value(format!(
            "the body's id does not match the resource \"{id}\" addressed by the URL"
        ))
        .into()),
    }
}

pub(super) fn password_write(plain: Option<String>) -> Result<PasswordWrite, AppError> {
    plain.map_or(Ok(PasswordWrite::Keep), |p| {
        password::hash(&p).map(PasswordWrite::Set)
    })
}

/// A password hashed on the blocking pool: argon2 must not hold up the writer.
async fn hashed(plain: Option<String>) -> Result<PasswordWrite, AppError> {
    match plain {
        None => Ok(PasswordWrite::Keep),
        Some(plain) => blocking(move || password_write(Some(plain))).await,
    }
}

/// The audit line of a write.
pub(super) fn audited(actor: &Actor, operation: &str, kind: ResourceKind, id: &str) {
    tracing::info!(target: AUDIT, actor = %actor.name, operation, resource_type = kind.as_str(), id);
}

impl<K: Hooks + Default> Flow<K> {
    pub fn new(store: Arc<dyn Store>, max_patch_operations: usize) -> Self {
        Self::with_hooks(store, max_patch_operations, K::default())
    }
}

impl<K: Hooks> Flow<K> {
    pub fn with_hooks(store: Arc<dyn Store>, max_patch_operations: usize, hooks: K) -> Self {
        Self {
            store,
            max_patch_operations,
            hooks,
        }
    }

    /// A body as the write it asks for, its password (users) still plain.
    fn prepared(&self, body: &Value) -> Result<(ResourceWrite, Option<String>), AppError> {
        let v = validated(self.hooks.kind(), body)?;
        Ok((self.hooks.write_of(v.attributes)?, v.password))
    }

    pub async fn create(&self, actor: &Actor, body: Value) -> Result<K::Stored, AppError> {
        let kind = self.hooks.kind();
        let (mut write, password) = self.prepared(&body)?;
        unique::check(&self.store, kind, &write.attributes, None).await?;
        self.hooks.on_create(&mut write.attributes);
        write.password = hashed(password).await?;
        let (store, hooks, owner) = (self.store.clone(), self.hooks.clone(), actor.clone());
        let stored = writing(&self.store, move || {
            Ok(hooks.create(&*store, write, &owner)?)
        })
        .await?;
        audited(actor, "create", kind, K::id(&stored));
        Ok(stored)
    }

    pub async fn get(&self, id: &str, with_derived: bool) -> Result<K::Current, AppError> {
        let kind = self.hooks.kind();
        check_id(kind, id)?;
        let (store, hooks, owned) = (self.store.clone(), self.hooks.clone(), id.to_string());
        blocking(move || {
            hooks
                .get(&*store, &owned, with_derived)
                .map_err(not_found(kind, &owned))
        })
        .await
    }

    /// PUT: the body replaces the stored state while the ETag matches and
    /// no immutable attribute changes.
    pub async fn replace(
        &self,
        actor: &Actor,
        id: &str,
        body: Value,
        if_match: Option<TagList>,
        with_derived: bool,
    ) -> Result<K::Stored, AppError> {
        let kind = self.hooks.kind();
        check_id(kind, id)?;
        check_body_id(&body, id)?;
        let (mut write, password) = self.prepared(&body)?;
        unique::check(&self.store, kind, &write.attributes, Some(id)).await?;
        write.password = hashed(password).await?;
        let hooks = self.hooks.clone();
        let (stored, _) = self
            .rewrite(
                actor,
                id,
                WriteOp::Replace,
                with_derived,
                move |current, _| {
                    if let Some(tags) = &if_match {
                        tags.require(current.meta())?;
                    }
                    check_immutable(kind, current.attributes(), &write.attributes)?;
                    hooks.on_replace(current.attributes(), &mut write.attributes);
                    Ok(write)
                },
            )
            .await?;
        audited(actor, "replace", kind, K::id(&stored));
        Ok(stored)
    }

    /// PATCH: all operations apply to the current state inside one
    /// transaction, or none does; member changes touch only the named rows.
    pub async fn patch(
        &self,
        actor: &Actor,
        id: &str,
        body: Value,
        if_match: Option<TagList>,
        with_derived: bool,
    ) -> Result<K::Stored, AppError> {
        let kind = self.hooks.kind();
        check_id(kind, id)?;
        let ops = parse_patch_request(&body, self.max_patch_operations)?;
        unique::check_patch(&self.store, kind, id, &ops).await?;
        let hooks = self.hooks.clone();
        let (stored, changed) = self
            .rewrite(actor, id, WriteOp::Patch, with_derived, move |current, changed| {
                if let Some(tags) = &if_match {
                    tags.require(current.meta())?;
                }
                let outcome = apply(kind, current.attributes(), &ops)?;
                if !outcome.ignored.is_empty() {
                    tracing::info!(ignored = ?outcome.ignored, "PATCH ignored unknown attributes");
                }
                *changed = outcome.changed;
                let password = password_write(outcome.password).map_err(|e| match e {
                    AppError::Scim(s) => StoreError::Rejected(s),
                    other => StoreError::Corrupt(other.to_string()),
                })?;
                Ok(ResourceWrite {
                    attributes: outcome.attributes,
                    members: hooks.members(outcome.members),
                    password,
                })
            })
            .await?;
        tracing::info!(target: AUDIT, actor = %actor.name, operation = "patch", resource_type = kind.as_str(), id = K::id(&stored), changed = ?changed);
        Ok(stored)
    }

    /// On the write lane: the stored state read under its row lock and
    /// rewritten by `rewrite` (which may note the attributes it changed),
    /// NotFound as the type's 404.
    pub(super) async fn rewrite(
        &self,
        actor: &Actor,
        id: &str,
        op: WriteOp,
        with_derived: bool,
        rewrite: impl FnOnce(&K::Current, &mut Vec<String>) -> StoreResult<ResourceWrite>
        + Send
        + 'static,
    ) -> Result<(K::Stored, Vec<String>), AppError> {
        let kind = self.hooks.kind();
        let (store, hooks) = (self.store.clone(), self.hooks.clone());
        let (owner, id) = (actor.clone(), id.to_string());
        writing(&self.store, move || {
            let mut changed = Vec::new();
            let stored = hooks
                .replace(
                    &*store,
                    &id,
                    Box::new(|current: &K::Current| rewrite(current, &mut changed)),
                    &owner,
                    op,
                    with_derived,
                )
                .map_err(not_found(kind, &id))?;
            Ok((stored, changed))
        })
        .await
    }

    /// Deletes a resource while `if_match` (if any) matches; `mode` says
    /// what happens to what is under it (departments).
    pub async fn delete(
        &self,
        actor: &Actor,
        id: &str,
        if_match: Option<TagList>,
        mode: RemoveMode,
    ) -> Result<K::Removal, AppError> {
        let kind = self.hooks.kind();
        check_id(kind, id)?;
        let (store, hooks) = (self.store.clone(), self.hooks.clone());
        let (owner, owned) = (actor.clone(), id.to_string());
        let removal = writing(&self.store, move || {
            hooks
                .delete(&*store, &owned, &owner, if_match.as_ref(), &mode)
                .map_err(not_found(kind, &owned))
        })
        .await?;
        self.hooks.audit_delete(actor, id, &removal);
        Ok(removal)
    }
}
