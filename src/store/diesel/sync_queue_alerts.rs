//! Failure-queue depths per target and the raised "queue keeps growing"
//! alerts.

use std::collections::BTreeMap;

use diesel::dsl::count_star;
use diesel::prelude::*;

use super::connection::{DbConnection, per_backend};
use super::now;
use super::schema::{sync_queue as q, sync_queue_alerts as qa};
use crate::store::{QueueDepth, StoreResult};

pub fn depths(conn: &mut DbConnection) -> StoreResult<Vec<QueueDepth>> {
    let all: Vec<(String, i64)> = q::table
        .group_by(q::target_id)
        .select((q::target_id, count_star()))
        .load(conn)?;
    let permanent: BTreeMap<String, i64> = q::table
        // `provision::worker::queue::PERMANENT`: the store does not import the sync center.
        .filter(q::status.eq("permanent"))
        .group_by(q::target_id)
        .select((q::target_id, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(all
        .into_iter()
        .map(|(target_id, depth)| QueueDepth {
            permanent: permanent.get(&target_id).copied().unwrap_or(0),
            target_id,
            depth,
        })
        .collect())
}

/// Inserts the alert unless one is raised; true when this call raised it.
pub fn raise(conn: &mut DbConnection, target: &str, depth: i64) -> StoreResult<bool> {
    let values = (
        qa::target_id.eq(target),
        qa::depth.eq(depth),
        qa::since.eq(now().naive_utc()),
    );
    let inserted = per_backend!(conn, c => diesel::insert_into(qa::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted > 0)
}

pub fn raised(conn: &mut DbConnection) -> StoreResult<Vec<String>> {
    Ok(qa::table.select(qa::target_id).load(conn)?)
}

pub fn clear(conn: &mut DbConnection, target: &str) -> StoreResult<()> {
    diesel::delete(qa::table.find(target)).execute(conn)?;
    Ok(())
}
