//! The steps every resource table's writes share: the stored row read
//! under its lock while `If-Match` holds, and the change-log (and audit)
//! row of a deletion. What each table stores is its own module's.

use chrono::{DateTime, Utc};

use super::changelog::{self, Change, Operation};
use super::connection::{DbConnection, lock_row};
use crate::scim::etag::TagList;
use crate::store::{Actor, StoreResult, Versioned};

/// The row `id` of `table` as `read` reads it, locked for the rest of the
/// transaction (PostgreSQL: `FOR UPDATE`), while `if_match` (if any)
/// matches its version.
pub fn locked<T: Versioned>(
    conn: &mut DbConnection,
    table: &'static str,
    id: &str,
    if_match: Option<&TagList>,
    read: impl FnOnce(&mut DbConnection) -> StoreResult<T>,
) -> StoreResult<T> {
    lock_row(conn, table, id)?;
    let current = read(conn)?;
    if let Some(tags) = if_match {
        tags.require(current.meta())?;
    }
    Ok(current)
}

/// The change-log row of deleting `current`: the version after its own.
pub fn log_deleted(
    conn: &mut DbConnection,
    resource_type: &str,
    id: &str,
    current: &impl Versioned,
    at: DateTime<Utc>,
    actor: &Actor,
) -> StoreResult<()> {
    let version = current.meta().version + 1;
    let row = Change::new(
        resource_type,
        id,
        Operation::Delete,
        version,
        at,
        actor,
        Vec::new(),
    );
    changelog::append(conn, row)
}
