//! What a tree write holds on PostgreSQL before it changes anything: the
//! departments it changes, then the people it will rewrite. A user write
//! holds its own row and then reads the departments it names `FOR SHARE`,
//! so a tree write that waited for a person while holding a department
//! could wait on a user write that waits on it. Instead every lock here is
//! taken without waiting, inside a savepoint: when one is taken, all are
//! let go, and the tree write tries again a moment later (the user write
//! finishes meanwhile). Once they are held nobody can join or leave the
//! departments being changed, so the people read afterwards are exactly
//! the ones held. SQLite's single writer needs none of this.

use std::time::Duration;

use diesel::Connection;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::filter_sql::prefix_end;
use super::schema::departments;
use super::user_org::{self, Touched};
use crate::scim::ScimError;
use crate::store::{StoreError, StoreResult};

/// Tries before the tree write gives up (about 3 s of backing off).
const ATTEMPTS: u32 = 30;

fn busy(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(diesel::result::Error::DatabaseError(_, info))
        if info.message().contains("could not obtain lock"))
}

/// Holds the departments at or under `subtree` (a path) and the `people`.
pub fn hold(conn: &mut DbConnection, subtree: &str, people: &[Touched<'_>]) -> StoreResult<()> {
    if !matches!(conn, DbConnection::Pg(_)) {
        return Ok(());
    }
    for attempt in 1..=ATTEMPTS {
        let held = conn.transaction(|c| {
            lock_departments_nowait(c, subtree)?;
            for touched in people {
                user_org::lock_users_nowait(c, touched)?;
            }
            Ok::<(), StoreError>(())
        });
        match held {
            Ok(()) => return Ok(()),
            Err(e) if busy(&e) => {
                std::thread::sleep(Duration::from_millis(u64::from(attempt) * 5));
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Rejected(ScimError::new(
        503,
        None,
        "the people of these departments are being changed right now; retry the tree change",
    )))
}

fn lock_departments_nowait(conn: &mut DbConnection, subtree: &str) -> StoreResult<()> {
    let (DbConnection::Pg(c), Some(end)) = (conn, prefix_end(subtree)) else {
        return Ok(());
    };
    departments::table
        .filter(departments::path.ge(subtree))
        .filter(departments::path.lt(end))
        .select(departments::id)
        .for_update()
        .no_wait()
        .load::<String>(c)?;
    Ok(())
}
