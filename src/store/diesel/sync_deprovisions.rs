//! Deprovisions applied without approval, counted by the deletion guard
//! over its sliding window.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::sync_deprovisions as d;
use crate::store::StoreResult;

pub fn record(
    conn: &mut DbConnection,
    target: &str,
    objects: &[(String, String)],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    for (kind, local_id) in objects {
        diesel::insert_into(d::table)
            .values((
                d::id.eq(uuid::Uuid::new_v4().to_string()),
                d::target_id.eq(target),
                d::resource_type.eq(kind),
                d::local_id.eq(local_id),
                d::at.eq(at.naive_utc()),
            ))
            .execute(conn)?;
    }
    // Rows older than any window worth keeping go as new ones arrive.
    let horizon = at - chrono::Duration::days(31);
    diesel::delete(
        d::table
            .filter(d::target_id.eq(target))
            .filter(d::at.lt(horizon.naive_utc())),
    )
    .execute(conn)?;
    Ok(())
}

pub fn since(conn: &mut DbConnection, target: &str, since: DateTime<Utc>) -> StoreResult<usize> {
    let n: i64 = d::table
        .filter(d::target_id.eq(target))
        .filter(d::at.ge(since.naive_utc()))
        .count()
        .get_result(conn)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

pub fn clear(conn: &mut DbConnection, target: &str) -> StoreResult<()> {
    diesel::delete(d::table.filter(d::target_id.eq(target))).execute(conn)?;
    Ok(())
}
