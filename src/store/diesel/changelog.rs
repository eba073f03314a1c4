//! The append-only change log, written inside each write transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::changes;
use crate::store::{ChangeRecord, StoreResult};

/// Held until commit so that PostgreSQL commits change-log rows in `seq`
/// order: a consumer reading past `seq = n` can never miss a row below `n`.
const CHANGELOG_LOCK_KEY: i64 = 0x5c1_4b0b_0002;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Replace,
    Patch,
    Update,
    Delete,
}

impl From<crate::store::WriteOp> for Operation {
    fn from(op: crate::store::WriteOp) -> Self {
        match op {
            crate::store::WriteOp::Replace => Operation::Replace,
            crate::store::WriteOp::Patch => Operation::Patch,
        }
    }
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Replace => "replace",
            Operation::Patch => "patch",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = changes)]
struct NewChange<'a> {
    resource_type: &'a str,
    resource_id: &'a str,
    operation: &'a str,
    version: i64,
    changed_at: NaiveDateTime,
    actor: &'a str,
}

pub struct Change<'a> {
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    pub operation: Operation,
    pub version: i64,
    pub at: DateTime<Utc>,
    pub actor: &'a str,
}

pub fn append(conn: &mut DbConnection, change: Change<'_>) -> StoreResult<()> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query(format!(
            "SELECT pg_advisory_xact_lock({CHANGELOG_LOCK_KEY})"
        ))
        .execute(pg)?;
    }
    diesel::insert_into(changes::table)
        .values(NewChange {
            resource_type: change.resource_type,
            resource_id: change.resource_id,
            operation: change.operation.as_str(),
            version: change.version,
            changed_at: change.at.naive_utc(),
            actor: change.actor,
        })
        .execute(conn)?;
    Ok(())
}

/// Appends many rows at once (bulk imports), in order.
pub fn append_many(conn: &mut DbConnection, batch: &[Change<'_>]) -> StoreResult<()> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query(format!(
            "SELECT pg_advisory_xact_lock({CHANGELOG_LOCK_KEY})"
        ))
        .execute(pg)?;
    }
    let rows: Vec<NewChange<'_>> = batch
        .iter()
        .map(|c| NewChange {
            resource_type: c.resource_type,
            resource_id: c.resource_id,
            operation: c.operation.as_str(),
            version: c.version,
            changed_at: c.at.naive_utc(),
            actor: c.actor,
        })
        .collect();
    for chunk in rows.chunks(500) {
        super::connection::per_backend!(conn, c => diesel::insert_into(changes::table).values(chunk).execute(c))?;
    }
    Ok(())
}

type ChangeRow = (i64, String, String, String, i64, NaiveDateTime, String);

pub fn after(conn: &mut DbConnection, seq: i64, limit: u32) -> StoreResult<Vec<ChangeRecord>> {
    let rows: Vec<ChangeRow> = changes::table
        .filter(changes::seq.gt(seq))
        .order(changes::seq.asc())
        .limit(i64::from(limit))
        .select((
            changes::seq,
            changes::resource_type,
            changes::resource_id,
            changes::operation,
            changes::version,
            changes::changed_at,
            changes::actor,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(seq, resource_type, resource_id, operation, version, at, actor)| ChangeRecord {
                seq,
                resource_type,
                resource_id,
                operation,
                version,
                changed_at: at.and_utc(),
                actor,
            },
        )
        .collect())
}
