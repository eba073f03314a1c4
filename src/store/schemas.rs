//! Storage of the extension schemas administrators define over the admin
//! API (their checked definition documents), kept apart from `Store` like
//! `SyncStore`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::StoreResult;
use crate::scim::ResourceKind;

/// One stored extension schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRecord {
    /// The schema's URN, as first written.
    pub id: String,
    /// `User` or `Group`.
    pub resource_type: String,
    /// The definition document (JSON; `scim::extension_schema::document`).
    pub definition: String,
    /// 1 when added, one more with every update.
    pub version: i64,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

pub trait SchemaStore: Send + Sync + 'static {
    /// Every stored extension schema, in the order they were added.
    fn schema_extensions(&self) -> StoreResult<Vec<SchemaRecord>>;
    /// A number that changes with every add, update and removal.
    fn schema_generation(&self) -> StoreResult<i64>;
    /// Adds a schema; `Rejected` (uniqueness) when its id, ignoring case,
    /// is taken.
    fn add_schema_extension(
        &self,
        id: &str,
        resource_type: &str,
        definition: &str,
    ) -> StoreResult<SchemaRecord>;
    /// Replaces a schema's definition while it is still at `version`;
    /// `NotFound` when it is gone, `Rejected` when it changed meanwhile.
    fn replace_schema_extension(
        &self,
        id: &str,
        version: i64,
        definition: &str,
    ) -> StoreResult<SchemaRecord>;
    /// Removes a schema while it is still at `version` (errors as above).
    fn remove_schema_extension(&self, id: &str, version: i64) -> StoreResult<()>;
    /// The id and stored attributes of every `kind` resource holding a
    /// member named `urn` (exactly as spelled).
    fn resources_with_extension(
        &self,
        kind: ResourceKind,
        urn: &str,
    ) -> StoreResult<Vec<(String, Map<String, Value>)>>;
}
