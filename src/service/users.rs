//! Users on the generic path (`flow`): their hooks, and the user-only
//! reads and batch creation.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::flow::{Flow, Hooks, audited, check_id, not_found, password_write, validated};
use super::schemas::unique;
use super::{blocking, writing};
use crate::error::AppError;
use crate::scim::ResourceKind;
use crate::scim::etag::TagList;
use crate::scim::projection::Projection;
use crate::scim::render::ResourceMeta;
use crate::scim::resource::ValidatedResource;
use crate::store::{
    Actor, MembersWrite, RemoveMode, ResourceWrite, Rewrite, Store, StoreError, StoreResult,
    StoredUser, StoredUserText, UserKey, WriteOp,
};

/// Users: their `active` default and kept `active`, and the user-only
/// reads (`get_text`, `find_text_by_name`, `create_many`).
pub type Users = Flow<UserHooks>;

#[derive(Clone, Copy, Default)]
pub struct UserHooks;

impl Hooks for UserHooks {
    type Current = StoredUser;
    type Stored = StoredUserText;
    type Removal = ();

    fn kind(&self) -> ResourceKind {
        ResourceKind::User
    }

    fn id(stored: &StoredUserText) -> &str {
        &stored.id
    }

    /// An account is active unless the client says otherwise.
    fn on_create(&self, attributes: &mut Map<String, Value>) {
        attributes.entry("active").or_insert(Value::Bool(true));
    }

    /// A PUT that omits `active` (Okta) must not change it.
    fn on_replace(&self, current: &Map<String, Value>, attributes: &mut Map<String, Value>) {
        if !attributes.contains_key("active") {
            let active = current.get("active").cloned();
            attributes.insert("active".into(), active.unwrap_or(Value::Bool(true)));
        }
    }

    fn create(
        &self,
        store: &dyn Store,
        write: ResourceWrite,
        actor: &Actor,
    ) -> StoreResult<StoredUserText> {
        store.create_user(write, actor)
    }

    fn get(&self, store: &dyn Store, id: &str, with_groups: bool) -> StoreResult<StoredUser> {
        store.get_user(id, with_groups)
    }

    fn replace(
        &self,
        store: &dyn Store,
        id: &str,
        rewrite: Rewrite<'_, StoredUser>,
        actor: &Actor,
        op: WriteOp,
        _with_groups: bool,
    ) -> StoreResult<StoredUserText> {
        store.replace_user(id, rewrite, actor, op)
    }

    fn delete(
        &self,
        store: &dyn Store,
        id: &str,
        actor: &Actor,
        if_match: Option<&TagList>,
        _mode: &RemoveMode,
    ) -> StoreResult<()> {
        store.delete_user(id, actor, if_match)
    }
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
                self.hooks.on_create(&mut v.attributes);
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
            audited(actor, "create", ResourceKind::User, id);
        }
        Ok(results)
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
}
