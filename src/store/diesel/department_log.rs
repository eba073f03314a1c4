//! The change-log entries of one department write (the department, the
//! departments under it, the people it rewrote), collected while it
//! rewrites rows and appended together at its end: on PostgreSQL every row
//! lock is then taken before the change-log lock, as in a user's own write.

use chrono::{DateTime, Utc};

use super::changelog::{self, Change, Operation};
use super::connection::DbConnection;
use crate::store::{Actor, StoreResult};

struct Entry {
    resource_type: &'static str,
    id: String,
    operation: Operation,
    version: i64,
    attributes: Vec<String>,
}

/// Entries in the order they are pushed, which is the order a consumer
/// replays them in: a creation or move logs the department, then the ones
/// under it, then the people; a removal logs the people first and the
/// departments deepest first.
#[derive(Default)]
pub struct Log {
    entries: Vec<Entry>,
}

impl Log {
    pub fn push(
        &mut self,
        resource_type: &'static str,
        id: String,
        operation: Operation,
        version: i64,
        attributes: Vec<String>,
    ) {
        self.entries.push(Entry {
            resource_type,
            id,
            operation,
            version,
            attributes,
        });
    }

    /// Appends every entry (and its audit row) to the change log.
    pub fn flush(
        self,
        conn: &mut DbConnection,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let changes: Vec<Change<'_>> = self
            .entries
            .iter()
            .map(|e| {
                let names = e.attributes.clone();
                Change::new(
                    e.resource_type,
                    &e.id,
                    e.operation,
                    e.version,
                    at,
                    actor,
                    names,
                )
            })
            .collect();
        if changes.is_empty() {
            return Ok(());
        }
        changelog::append_many(conn, &changes)
    }
}
