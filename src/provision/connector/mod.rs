//! One downstream system as the sync engines see it. The full run, the
//! real-time worker and on-demand provisioning know a target only through
//! `Connector`; each kind of system (SCIM today) implements it.
//!
//! Objects crossing the interface are JSON objects in the vocabulary of
//! the target's mapping, with the system's own `id`; a group lists its
//! members as `[{"value": <member id>}]`.

mod error;
mod journal;
mod kind;
pub mod ldap;
mod manager_field;
mod recorded;
pub mod rest;
pub mod scim;
pub mod sql;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

pub use error::ConnectorError;
pub use kind::{DEFAULT_MATCHING, Recording, TargetKind, ldap_endpoint};

use crate::provision::plan::MatchKey;
use crate::scim::ResourceKind;

/// What a system can do, as far as the engines need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// `find` can look an account up by its matching attribute.
    pub lookup: bool,
    /// Most member changes sent in one `change_members` call.
    pub member_batch: usize,
    /// Most writes worth handing to one `create_many` or
    /// `change_members_many` call (1: the system takes them one by one).
    pub batch: usize,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            lookup: false,
            member_batch: DEFAULT_MEMBER_BATCH,
            batch: 1,
        }
    }
}

/// A batch size every system we know accepts.
pub const DEFAULT_MEMBER_BATCH: usize = 100;

#[async_trait]
pub trait Connector: Send + Sync {
    /// What the system supports (read from it once, then remembered).
    async fn capabilities(&self) -> Result<Capabilities, ConnectorError>;

    /// A cheap read that succeeds when the system answers and accepts our
    /// credentials (a refusal of the request itself still counts as an answer).
    async fn probe(&self) -> Result<(), ConnectorError>;

    /// Every object of a kind the system holds.
    async fn list(&self, kind: ResourceKind) -> Result<Vec<Value>, ConnectorError>;

    /// One object by the system's id; `None` when it is gone.
    async fn get(&self, kind: ResourceKind, id: &str) -> Result<Option<Value>, ConnectorError>;

    /// The objects whose matching attribute `key` holds `value` (only
    /// called when `capabilities().lookup`).
    async fn find(
        &self,
        kind: ResourceKind,
        key: &MatchKey,
        value: &str,
    ) -> Result<Vec<Value>, ConnectorError>;

    /// Creates the object; returns the system's id for it.
    async fn create(&self, kind: ResourceKind, object: &Value) -> Result<String, ConnectorError>;

    /// Makes the system's copy hold the `changed` attributes of `object`
    /// (all of them when `None`).
    async fn update(
        &self,
        kind: ResourceKind,
        id: &str,
        object: &Value,
        changed: Option<&[String]>,
    ) -> Result<(), ConnectorError>;

    /// Points a user's manager at another user, both by the system's ids.
    async fn set_manager(&self, user_id: &str, manager_id: &str) -> Result<(), ConnectorError>;

    /// Disables a user account without removing it.
    async fn deactivate(&self, user_id: &str) -> Result<(), ConnectorError>;

    /// Removes the object; an object already gone counts as removed.
    async fn delete(&self, kind: ResourceKind, id: &str) -> Result<(), ConnectorError>;

    /// The fields of a mapped object the system has no place for (the
    /// target test reports them); systems without a schema know of none.
    async fn unknown_fields(
        &self,
        _kind: ResourceKind,
        _object: &Value,
    ) -> Result<Vec<String>, ConnectorError> {
        Ok(Vec::new())
    }

    /// Adds and removes members of a group (at most `member_batch` in all).
    async fn change_members(
        &self,
        group_id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<(), ConnectorError>;

    /// Creates several objects of one kind — in one exchange where the
    /// system can (SCIM `/Bulk`) —; one outcome per object, in order.
    async fn create_many(
        &self,
        kind: ResourceKind,
        objects: &[Value],
    ) -> Vec<Result<String, ConnectorError>> {
        create_each(self, kind, objects).await
    }

    /// Several groups' member changes, as `change_members` each would;
    /// one outcome per change, in order.
    async fn change_members_many(
        &self,
        changes: &[MemberChange],
    ) -> Vec<Result<(), ConnectorError>> {
        change_each(self, changes).await
    }
}

/// `create` for each object in turn.
pub async fn create_each<C: Connector + ?Sized>(
    connector: &C,
    kind: ResourceKind,
    objects: &[Value],
) -> Vec<Result<String, ConnectorError>> {
    let mut out = Vec::with_capacity(objects.len());
    for object in objects {
        out.push(connector.create(kind, object).await);
    }
    out
}

/// `change_members` for each change in turn.
pub async fn change_each<C: Connector + ?Sized>(
    connector: &C,
    changes: &[MemberChange],
) -> Vec<Result<(), ConnectorError>> {
    let mut out = Vec::with_capacity(changes.len());
    for c in changes {
        out.push(
            connector
                .change_members(&c.group_id, &c.add, &c.remove)
                .await,
        );
    }
    out
}

/// One group's member change, by the system's ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberChange {
    pub group_id: String,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

/// The kind a local resource has on the target: departments go as groups.
pub fn on_target(kind: ResourceKind) -> ResourceKind {
    match kind {
        ResourceKind::Department => ResourceKind::Group,
        other => other,
    }
}

/// The system's id of an object it returned.
pub fn object_id(object: &Value) -> Option<&str> {
    object.get("id").and_then(Value::as_str)
}
