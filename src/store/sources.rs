//! The organization center's inbound storage seam: upstream sources, the
//! link table (source, source id) → scimhub id, import runs and the
//! failure list. Kept apart from `Store` like `SyncStore`.

use chrono::{DateTime, Utc};

use super::StoreResult;

/// An upstream source as stored. `credentials` is sealed (see
/// `provision::crypto`); the store never sees it in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    pub id: String,
    pub name: String,
    /// `file`, `scim` or `ldap`.
    pub kind: String,
    /// JSON of `provision::source::SourceSettings`.
    pub settings: String,
    pub credentials: Option<String>,
    /// JSON of a `provision::mapping::MappingFile`; `None`: records are SCIM-shaped.
    pub mapping: Option<String>,
    /// Where the next incremental run starts (the kind says what it means).
    pub watermark: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// One row of the link table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLinkRecord {
    /// `User`, `Group` or `Department`.
    pub resource_type: String,
    /// The record's id in the source.
    pub external_key: String,
    pub local_id: String,
    /// Hash of the state last imported; empty once the source stopped supplying it.
    pub state_hash: String,
    /// JSON of the references the record declared (resolved to local ids).
    pub refs: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRunRecord {
    pub id: String,
    pub source_id: String,
    pub status: String,
    pub dry_run: bool,
    pub started: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    /// JSON of `provision::source::ImportReport`.
    pub report: String,
}

/// One refused record of a source's failure list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFailureRecord {
    pub resource_type: String,
    /// The record's id in the source (or where it was, when it has none).
    pub record_key: String,
    /// Where the record was: file and line, DN, SCIM id.
    pub locator: String,
    pub reason: String,
    pub detail: String,
    /// JSON of the record as read.
    pub raw: String,
    pub run_id: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// What intake checks a user's uniqueness by, read from the indexed
/// columns (no document is parsed): lower-cased, as the store keeps them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFacts {
    pub id: String,
    pub user_name: String,
    pub employee_number: Option<String>,
    pub emails: Vec<String>,
}

pub trait SourceStore: Send + Sync + 'static {
    /// Every user's uniqueness facts, and every group's id.
    fn user_facts(&self) -> StoreResult<(Vec<UserFacts>, Vec<String>)>;
    /// Every department's id.
    fn department_ids(&self) -> StoreResult<Vec<String>>;

    /// Fails with a `uniqueness` rejection when the name is taken.
    fn create_source(&self, source: SourceRecord) -> StoreResult<()>;
    fn find_source(&self, name: &str) -> StoreResult<Option<SourceRecord>>;
    fn list_sources(&self) -> StoreResult<Vec<SourceRecord>>;
    /// Replaces settings, credentials, mapping (and `updated`); keeps links,
    /// runs, failures and the watermark.
    fn update_source(&self, source: &SourceRecord) -> StoreResult<()>;
    /// Removes the source with its links, runs and failures (the imported
    /// users and groups stay); false when there is none.
    fn delete_source(&self, name: &str) -> StoreResult<bool>;
    fn set_watermark(&self, source_id: &str, watermark: Option<&str>) -> StoreResult<()>;

    fn source_links(
        &self,
        source_id: &str,
        resource_type: &str,
    ) -> StoreResult<Vec<SourceLinkRecord>>;
    /// Every source's links of one type: (local id, source id).
    fn source_link_owners(&self, resource_type: &str) -> StoreResult<Vec<(String, String)>>;
    /// Inserts or replaces these rows (by source, type and key) at once.
    fn put_source_links(&self, source_id: &str, links: &[SourceLinkRecord]) -> StoreResult<()>;

    fn create_source_run(&self, run: &SourceRunRecord) -> StoreResult<()>;
    fn update_source_run(&self, run: &SourceRunRecord) -> StoreResult<()>;
    fn get_source_run(&self, id: &str) -> StoreResult<Option<SourceRunRecord>>;
    /// A source's runs, newest first, at most `limit`.
    fn list_source_runs(&self, source_id: &str, limit: u32) -> StoreResult<Vec<SourceRunRecord>>;
    /// Every source's runs in `status` (`awaiting_approval`), newest first.
    fn source_runs_in_status(&self, status: &str, limit: u32) -> StoreResult<Vec<SourceRunRecord>>;

    /// The failure list becomes exactly `failures` (a full run saw every
    /// record); entries kept keep their `first_seen`.
    fn replace_source_failures(
        &self,
        source_id: &str,
        failures: &[SourceFailureRecord],
    ) -> StoreResult<()>;
    /// Adds or refreshes `failures` and drops the entries of `cleared`
    /// ((type, key) of records imported now): an incremental run.
    fn merge_source_failures(
        &self,
        source_id: &str,
        failures: &[SourceFailureRecord],
        cleared: &[(String, String)],
    ) -> StoreResult<()>;
    fn source_failures(&self, source_id: &str) -> StoreResult<Vec<SourceFailureRecord>>;
}
