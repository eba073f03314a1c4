//! Sync run reports and their per-object failures.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::new_id;
use super::schema::{sync_failures as f, sync_runs as r};
use crate::store::{FailureRecord, RunRecord, StoreResult};

type Row = (
    String,
    String,
    String,
    bool,
    NaiveDateTime,
    Option<NaiveDateTime>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub fn create(conn: &mut DbConnection, run: &RunRecord) -> StoreResult<()> {
    diesel::insert_into(r::table)
        .values((
            r::id.eq(&run.id),
            r::target_id.eq(&run.target_id),
            r::status.eq(&run.status),
            r::dry_run.eq(run.dry_run),
            r::started.eq(run.started.naive_utc()),
            r::finished.eq(run.finished.map(|t| t.naive_utc())),
            r::counts.eq(&run.counts),
            r::pending.eq(&run.pending),
            r::summary.eq(&run.summary),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConnection, run: &RunRecord) -> StoreResult<()> {
    diesel::update(r::table.find(&run.id))
        .set((
            r::status.eq(&run.status),
            r::finished.eq(run.finished.map(|t| t.naive_utc())),
            r::counts.eq(&run.counts),
            r::pending.eq(&run.pending),
            r::summary.eq(&run.summary),
        ))
        .execute(conn)?;
    Ok(())
}

const COLUMNS: (
    r::id,
    r::target_id,
    r::status,
    r::dry_run,
    r::started,
    r::finished,
    r::counts,
    r::pending,
    r::summary,
    r::progress,
) = (
    r::id,
    r::target_id,
    r::status,
    r::dry_run,
    r::started,
    r::finished,
    r::counts,
    r::pending,
    r::summary,
    r::progress,
);

fn from_row(row: Row) -> RunRecord {
    let (id, target_id, status, dry_run, started, finished, counts, pending, summary, progress) =
        row;
    RunRecord {
        id,
        target_id,
        status,
        dry_run,
        started: started.and_utc(),
        finished: finished.map(|t| t.and_utc()),
        counts,
        pending,
        summary,
        progress,
    }
}

/// Only a run still `running`: a late write never touches a finished run.
pub fn set_progress(conn: &mut DbConnection, id: &str, progress: &str) -> StoreResult<()> {
    diesel::update(r::table.find(id).filter(r::status.eq("running")))
        .set(r::progress.eq(progress))
        .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: &str) -> StoreResult<Option<RunRecord>> {
    let row: Option<Row> = r::table
        .find(id)
        .select(COLUMNS)
        .get_result(conn)
        .optional()?;
    Ok(row.map(from_row))
}

/// Newest first; runs started in the same millisecond in id order.
pub fn list(conn: &mut DbConnection, target_id: &str, limit: u32) -> StoreResult<Vec<RunRecord>> {
    let rows: Vec<Row> = r::table
        .filter(r::target_id.eq(target_id))
        .order((r::started.desc(), r::id.desc()))
        .limit(i64::from(limit))
        .select(COLUMNS)
        .load(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

pub fn counts(conn: &mut DbConnection) -> StoreResult<Vec<(String, String, i64)>> {
    Ok(r::table
        .group_by((r::target_id, r::status))
        .select((r::target_id, r::status, diesel::dsl::count_star()))
        .load(conn)?)
}

/// Runs of one target or all, of one status or any, newest first.
pub fn find(
    conn: &mut DbConnection,
    target_id: Option<&str>,
    status: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<RunRecord>> {
    let mut query = r::table.into_boxed();
    if let Some(t) = target_id {
        query = query.filter(r::target_id.eq(t));
    }
    if let Some(s) = status {
        query = query.filter(r::status.eq(s));
    }
    let rows: Vec<Row> = query
        .order((r::started.desc(), r::id.desc()))
        .limit(i64::from(limit))
        .select(COLUMNS)
        .load(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

pub fn add_failure(conn: &mut DbConnection, run_id: &str, x: &FailureRecord) -> StoreResult<()> {
    diesel::insert_into(f::table)
        .values((
            f::id.eq(new_id()),
            f::run_id.eq(run_id),
            f::resource_type.eq(&x.resource_type),
            f::local_id.eq(&x.local_id),
            f::action.eq(&x.action),
            f::status.eq(x.status),
            f::detail.eq(&x.detail),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn failures(conn: &mut DbConnection, run_id: &str) -> StoreResult<Vec<FailureRecord>> {
    let rows: Vec<(String, String, String, Option<i32>, String)> = f::table
        .filter(f::run_id.eq(run_id))
        .order((f::resource_type.asc(), f::local_id.asc()))
        .select((
            f::resource_type,
            f::local_id,
            f::action,
            f::status,
            f::detail,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(resource_type, local_id, action, status, detail)| FailureRecord {
                resource_type,
                local_id,
                action,
                status,
                detail,
            },
        )
        .collect())
}
