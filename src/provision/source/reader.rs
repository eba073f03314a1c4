//! The read side of a source: pages of raw records, optionally only those
//! changed since a watermark. One trait, one implementation per kind
//! (file, SCIM, LDAP); everything after reading is the same for all.

use std::collections::HashMap;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

use crate::scim::ResourceKind;

/// One record as the source holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRecord {
    pub kind: ResourceKind,
    /// Where it is: `people.csv line 12`, a DN, `Users/2819c223`.
    pub locator: String,
    /// Its fields as read (CSV cells are strings; empty cells are left out).
    pub fields: Map<String, Value>,
    /// Why the record could not be read whole (a malformed CSV line).
    pub defect: Option<String>,
}

impl RawRecord {
    pub fn new(kind: ResourceKind, locator: String, fields: Map<String, Value>) -> Self {
        Self {
            kind,
            locator,
            fields,
            defect: None,
        }
    }

    /// The record as kept in the failure list.
    pub fn raw(&self) -> Value {
        Value::Object(self.fields.clone())
    }
}

/// Why a read failed as a whole (nothing of the run is written then).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The source could not be reached (connection refused, timeout, DNS).
    #[error("{0}")]
    Unreachable(String),
    /// The source refused the credentials (HTTP 401/403, LDAP bind).
    #[error("{0}")]
    Refused(String),
    /// What was read is not what the format says: names the file, line or
    /// record and field.
    #[error("{0}")]
    Malformed(String),
    /// The settings cannot work (no file to read, a missing directory).
    #[error("{0}")]
    Config(String),
}

pub type Page = Vec<RawRecord>;

/// Reads one source once. A reader built with a watermark reads only what
/// changed since (`complete` is then false).
pub trait SourceReader: Send {
    /// The next records; `None` once everything was read.
    fn next_page(&mut self) -> BoxFuture<'_, Result<Option<Page>, ReadError>>;

    /// Record ids for references written the source's own way (an LDAP
    /// DN): `refs` → key. References left out are keys already.
    fn resolve(
        &mut self,
        _refs: Vec<String>,
    ) -> BoxFuture<'_, Result<HashMap<String, String>, ReadError>> {
        Box::pin(async { Ok(HashMap::new()) })
    }

    /// Where an incremental read starts next time, after this one.
    fn watermark(&self) -> Option<String>;

    /// Whether every record was read (a record not read is gone), or
    /// only those changed since the watermark.
    fn complete(&self) -> bool;

    /// Whether this read covers records of `kind` at all (a file source
    /// without a departments file reads no departments): what it does not
    /// read is neither gone nor written.
    fn reads(&self, kind: ResourceKind) -> bool;
}

/// Reads every page of a reader.
pub async fn read_all(
    reader: &mut dyn SourceReader,
    mut progress: impl FnMut(usize),
) -> Result<Vec<RawRecord>, ReadError> {
    let mut all = Vec::new();
    while let Some(page) = reader.next_page().await? {
        all.extend(page);
        progress(all.len());
    }
    Ok(all)
}
