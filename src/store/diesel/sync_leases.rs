//! Leases (which instance works a target) and target quarantine.

use chrono::Duration;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::now;
use super::schema::{sync_leases as l, sync_quarantine as qt};
use crate::store::{QuarantineRecord, StoreResult};

/// Runs inside a write transaction (row locks on PostgreSQL, the database
/// lock on SQLite), so two instances cannot both win an expired lease.
pub fn try_lease(
    conn: &mut DbConnection,
    name: &str,
    holder: &str,
    ttl: Duration,
) -> StoreResult<bool> {
    let at = now();
    let expires = (at + ttl).naive_utc();
    let taken = diesel::update(
        l::table
            .filter(l::name.eq(name))
            .filter(l::holder.eq(holder).or(l::expires.lt(at.naive_utc()))),
    )
    .set((l::holder.eq(holder), l::expires.eq(expires)))
    .execute(conn)?;
    if taken > 0 {
        return Ok(true);
    }
    let exists: i64 = l::table.filter(l::name.eq(name)).count().get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    diesel::insert_into(l::table)
        .values((
            l::name.eq(name),
            l::holder.eq(holder),
            l::expires.eq(expires),
        ))
        .execute(conn)?;
    Ok(true)
}

pub fn release(conn: &mut DbConnection, name: &str, holder: &str) -> StoreResult<()> {
    diesel::delete(
        l::table
            .filter(l::name.eq(name))
            .filter(l::holder.eq(holder)),
    )
    .execute(conn)?;
    Ok(())
}

pub fn quarantine(conn: &mut DbConnection, target: &str) -> StoreResult<Option<QuarantineRecord>> {
    let row: Option<(String, chrono::NaiveDateTime)> = qt::table
        .find(target)
        .select((qt::reason, qt::since))
        .get_result(conn)
        .optional()?;
    Ok(row.map(|(reason, since)| QuarantineRecord {
        reason,
        since: since.and_utc(),
    }))
}

pub fn set_quarantine(
    conn: &mut DbConnection,
    target: &str,
    reason: Option<&str>,
) -> StoreResult<()> {
    diesel::delete(qt::table.find(target)).execute(conn)?;
    if let Some(reason) = reason {
        diesel::insert_into(qt::table)
            .values((
                qt::target_id.eq(target),
                qt::reason.eq(reason),
                qt::since.eq(now().naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}
