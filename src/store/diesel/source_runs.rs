//! Import runs of the sources and their failure list.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::{DbConnection, per_backend};
use super::schema::{source_failures as f, source_runs as r};
use crate::store::{SourceFailureRecord, SourceRunRecord, StoreResult};

type RunRow = (
    String,
    String,
    String,
    bool,
    NaiveDateTime,
    Option<NaiveDateTime>,
    String,
);

const RUN: (
    r::id,
    r::source_id,
    r::status,
    r::dry_run,
    r::started,
    r::finished,
    r::report,
) = (
    r::id,
    r::source_id,
    r::status,
    r::dry_run,
    r::started,
    r::finished,
    r::report,
);

fn run_from(row: RunRow) -> SourceRunRecord {
    let (id, source_id, status, dry_run, started, finished, report) = row;
    SourceRunRecord {
        id,
        source_id,
        status,
        dry_run,
        started: started.and_utc(),
        finished: finished.map(|t| t.and_utc()),
        report,
    }
}

pub fn create_run(conn: &mut DbConnection, run: &SourceRunRecord) -> StoreResult<()> {
    diesel::insert_into(r::table)
        .values((
            r::id.eq(&run.id),
            r::source_id.eq(&run.source_id),
            r::status.eq(&run.status),
            r::dry_run.eq(run.dry_run),
            r::started.eq(run.started.naive_utc()),
            r::finished.eq(run.finished.map(|t| t.naive_utc())),
            r::report.eq(&run.report),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn update_run(conn: &mut DbConnection, run: &SourceRunRecord) -> StoreResult<()> {
    diesel::update(r::table.find(&run.id))
        .set((
            r::status.eq(&run.status),
            r::finished.eq(run.finished.map(|t| t.naive_utc())),
            r::report.eq(&run.report),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn get_run(conn: &mut DbConnection, id: &str) -> StoreResult<Option<SourceRunRecord>> {
    let row: Option<RunRow> = r::table.find(id).select(RUN).get_result(conn).optional()?;
    Ok(row.map(run_from))
}

pub fn list_runs(
    conn: &mut DbConnection,
    source: &str,
    limit: u32,
) -> StoreResult<Vec<SourceRunRecord>> {
    let rows: Vec<RunRow> = r::table
        .filter(r::source_id.eq(source))
        .order((r::started.desc(), r::id.desc()))
        .limit(i64::from(limit))
        .select(RUN)
        .load(conn)?;
    Ok(rows.into_iter().map(run_from).collect())
}

/// Every source's runs in `status`, newest first, at most `limit`.
pub fn runs_in_status(
    conn: &mut DbConnection,
    status: &str,
    limit: u32,
) -> StoreResult<Vec<SourceRunRecord>> {
    let rows: Vec<RunRow> = r::table
        .filter(r::status.eq(status))
        .order((r::started.desc(), r::id.desc()))
        .limit(i64::from(limit))
        .select(RUN)
        .load(conn)?;
    Ok(rows.into_iter().map(run_from).collect())
}

type FailureRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
    NaiveDateTime,
);

#[derive(Insertable)]
#[diesel(table_name = f)]
struct NewFailure<'a> {
    source_id: &'a str,
    resource_type: &'a str,
    record_key: &'a str,
    locator: &'a str,
    reason: &'a str,
    detail: &'a str,
    raw: &'a str,
    run_id: &'a str,
    first_seen: NaiveDateTime,
    last_seen: NaiveDateTime,
}

const CHUNK: usize = 300;

/// First-seen times of the source's current entries, by (type, key).
fn first_seen(
    conn: &mut DbConnection,
    source: &str,
) -> StoreResult<HashMap<(String, String), NaiveDateTime>> {
    let rows: Vec<(String, String, NaiveDateTime)> = f::table
        .filter(f::source_id.eq(source))
        .select((f::resource_type, f::record_key, f::first_seen))
        .load(conn)?;
    Ok(rows.into_iter().map(|(t, k, at)| ((t, k), at)).collect())
}

fn insert(
    conn: &mut DbConnection,
    source: &str,
    failures: &[SourceFailureRecord],
    seen: &HashMap<(String, String), NaiveDateTime>,
) -> StoreResult<()> {
    for chunk in failures.chunks(CHUNK) {
        let rows: Vec<NewFailure<'_>> = chunk
            .iter()
            .map(|x| NewFailure {
                source_id: source,
                resource_type: &x.resource_type,
                record_key: &x.record_key,
                locator: &x.locator,
                reason: &x.reason,
                detail: &x.detail,
                raw: &x.raw,
                run_id: &x.run_id,
                first_seen: seen
                    .get(&(x.resource_type.clone(), x.record_key.clone()))
                    .copied()
                    .unwrap_or_else(|| x.first_seen.naive_utc()),
                last_seen: x.last_seen.naive_utc(),
            })
            .collect();
        per_backend!(conn, c => diesel::insert_into(f::table).values(&rows).execute(c))?;
    }
    Ok(())
}

pub fn replace_failures(
    conn: &mut DbConnection,
    source: &str,
    failures: &[SourceFailureRecord],
) -> StoreResult<()> {
    let seen = first_seen(conn, source)?;
    diesel::delete(f::table.filter(f::source_id.eq(source))).execute(conn)?;
    insert(conn, source, failures, &seen)
}

pub fn merge_failures(
    conn: &mut DbConnection,
    source: &str,
    failures: &[SourceFailureRecord],
    cleared: &[(String, String)],
) -> StoreResult<()> {
    let seen = first_seen(conn, source)?;
    // Refreshed entries are deleted and inserted again.
    let mut keys: HashMap<&str, Vec<&str>> = HashMap::new();
    for (kind, key) in cleared.iter().map(|(t, k)| (t.as_str(), k.as_str())).chain(
        failures
            .iter()
            .map(|x| (x.resource_type.as_str(), x.record_key.as_str())),
    ) {
        keys.entry(kind).or_default().push(key);
    }
    for (kind, keys) in keys {
        for chunk in keys.chunks(CHUNK) {
            diesel::delete(
                f::table
                    .filter(f::source_id.eq(source))
                    .filter(f::resource_type.eq(kind))
                    .filter(f::record_key.eq_any(chunk)),
            )
            .execute(conn)?;
        }
    }
    insert(conn, source, failures, &seen)
}

pub fn failures(conn: &mut DbConnection, source: &str) -> StoreResult<Vec<SourceFailureRecord>> {
    let rows: Vec<FailureRow> = f::table
        .filter(f::source_id.eq(source))
        .order((f::resource_type.desc(), f::record_key.asc()))
        .select((
            f::resource_type,
            f::record_key,
            f::locator,
            f::reason,
            f::detail,
            f::raw,
            f::run_id,
            f::first_seen,
            f::last_seen,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(resource_type, record_key, locator, reason, detail, raw, run_id, first, last)| {
                SourceFailureRecord {
                    resource_type,
                    record_key,
                    locator,
                    reason,
                    detail,
                    raw,
                    run_id,
                    first_seen: first.and_utc(),
                    last_seen: last.and_utc(),
                }
            },
        )
        .collect())
}
