//! The failure queue of incremental sync.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::now;
use super::schema::sync_queue as q;
use crate::store::{QueueRecord, QueueSummary, StoreResult};

type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i32,
    NaiveDateTime,
    Option<i32>,
    String,
    NaiveDateTime,
    NaiveDateTime,
);

type Columns = (
    q::id,
    q::target_id,
    q::resource_type,
    q::local_id,
    q::operation,
    q::payload,
    q::status,
    q::attempts,
    q::next_attempt,
    q::last_status,
    q::last_error,
    q::created,
    q::updated,
);

const ROW: Columns = (
    q::id,
    q::target_id,
    q::resource_type,
    q::local_id,
    q::operation,
    q::payload,
    q::status,
    q::attempts,
    q::next_attempt,
    q::last_status,
    q::last_error,
    q::created,
    q::updated,
);

fn from_row(r: Row) -> QueueRecord {
    let (
        id,
        target_id,
        resource_type,
        local_id,
        operation,
        payload,
        status,
        attempts,
        next_attempt,
        last_status,
        last_error,
        created,
        updated,
    ) = r;
    QueueRecord {
        id,
        target_id,
        resource_type,
        local_id,
        operation,
        payload,
        status,
        attempts,
        next_attempt: next_attempt.and_utc(),
        last_status,
        last_error,
        created: created.and_utc(),
        updated: updated.and_utc(),
    }
}

/// Delete-then-insert (the enum connection cannot express an upsert).
pub fn put(conn: &mut DbConnection, e: &QueueRecord) -> StoreResult<()> {
    remove(conn, &e.target_id, &e.resource_type, &e.local_id)?;
    diesel::insert_into(q::table)
        .values((
            q::id.eq(&e.id),
            q::target_id.eq(&e.target_id),
            q::resource_type.eq(&e.resource_type),
            q::local_id.eq(&e.local_id),
            q::operation.eq(&e.operation),
            q::payload.eq(&e.payload),
            q::status.eq(&e.status),
            q::attempts.eq(e.attempts),
            q::next_attempt.eq(e.next_attempt.naive_utc()),
            q::last_status.eq(e.last_status),
            q::last_error.eq(&e.last_error),
            q::created.eq(e.created.naive_utc()),
            q::updated.eq(e.updated.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(
    conn: &mut DbConnection,
    target: &str,
    kind: &str,
    local_id: &str,
) -> StoreResult<Option<QueueRecord>> {
    let row: Option<Row> = q::table
        .filter(q::target_id.eq(target))
        .filter(q::resource_type.eq(kind))
        .filter(q::local_id.eq(local_id))
        .select(ROW)
        .get_result(conn)
        .optional()?;
    Ok(row.map(from_row))
}

pub fn due(
    conn: &mut DbConnection,
    target: &str,
    at: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<QueueRecord>> {
    let rows: Vec<Row> = q::table
        .filter(q::target_id.eq(target))
        .filter(q::status.eq("retrying"))
        .filter(q::next_attempt.le(at.naive_utc()))
        .order((q::next_attempt.asc(), q::id.asc()))
        .limit(limit)
        .select(ROW)
        .load(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

pub fn list(conn: &mut DbConnection, target: Option<&str>) -> StoreResult<Vec<QueueRecord>> {
    let mut query = q::table.select(ROW).into_boxed();
    if let Some(t) = target {
        query = query.filter(q::target_id.eq(t.to_string()));
    }
    let rows: Vec<Row> = query.order((q::created.asc(), q::id.asc())).load(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// How many entries a target has, and the error of the one updated last
/// (ties: the one listed last by `list`).
pub fn summary(conn: &mut DbConnection, target: &str) -> StoreResult<QueueSummary> {
    let depth: i64 = q::table
        .filter(q::target_id.eq(target))
        .count()
        .get_result(conn)?;
    if depth == 0 {
        return Ok(QueueSummary::default());
    }
    let newest_error: Option<String> = q::table
        .filter(q::target_id.eq(target))
        .order((q::updated.desc(), q::created.desc(), q::id.desc()))
        .select(q::last_error)
        .limit(1)
        .get_result(conn)
        .optional()?;
    Ok(QueueSummary {
        depth: usize::try_from(depth).unwrap_or(usize::MAX),
        newest_error,
    })
}

pub fn get(conn: &mut DbConnection, id: &str) -> StoreResult<Option<QueueRecord>> {
    let row: Option<Row> = q::table.find(id).select(ROW).get_result(conn).optional()?;
    Ok(row.map(from_row))
}

pub fn remove(
    conn: &mut DbConnection,
    target: &str,
    kind: &str,
    local_id: &str,
) -> StoreResult<bool> {
    let n = diesel::delete(
        q::table
            .filter(q::target_id.eq(target))
            .filter(q::resource_type.eq(kind))
            .filter(q::local_id.eq(local_id)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

pub fn remove_id(conn: &mut DbConnection, id: &str) -> StoreResult<bool> {
    Ok(diesel::delete(q::table.find(id)).execute(conn)? > 0)
}

pub fn retry(
    conn: &mut DbConnection,
    id: Option<&str>,
    target: Option<&str>,
) -> StoreResult<usize> {
    let at = now().naive_utc();
    let mut query = diesel::update(q::table).into_boxed();
    if let Some(id) = id {
        query = query.filter(q::id.eq(id.to_string()));
    }
    if let Some(t) = target {
        query = query.filter(q::target_id.eq(t.to_string()));
    }
    Ok(query
        .set((q::status.eq("retrying"), q::next_attempt.eq(at)))
        .execute(conn)?)
}
