//! The id map of each target.

use diesel::prelude::*;

use super::connection::{DbConnection, per_backend};
use super::now;
use super::schema::sync_links as l;
use crate::store::{LinkRecord, StoreResult};

pub fn list(conn: &mut DbConnection, target: &str, kind: &str) -> StoreResult<Vec<LinkRecord>> {
    let rows: Vec<(String, String, String)> = l::table
        .filter(l::target_id.eq(target))
        .filter(l::resource_type.eq(kind))
        .order(l::local_id.asc())
        .select((l::local_id, l::remote_id, l::state_hash))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(local_id, remote_id, state_hash)| LinkRecord {
            local_id,
            remote_id,
            state_hash,
        })
        .collect())
}

/// Ids per statement: well under both backends' bind-parameter limits.
const CHUNK: usize = 500;

pub fn list_of(
    conn: &mut DbConnection,
    target: &str,
    kind: &str,
    local_ids: &[String],
) -> StoreResult<Vec<LinkRecord>> {
    let mut out = Vec::new();
    for chunk in local_ids.chunks(CHUNK) {
        let rows: Vec<(String, String, String)> = l::table
            .filter(l::target_id.eq(target))
            .filter(l::resource_type.eq(kind))
            .filter(l::local_id.eq_any(chunk))
            .select((l::local_id, l::remote_id, l::state_hash))
            .load(conn)?;
        out.extend(
            rows.into_iter()
                .map(|(local_id, remote_id, state_hash)| LinkRecord {
                    local_id,
                    remote_id,
                    state_hash,
                }),
        );
    }
    Ok(out)
}

pub fn count(conn: &mut DbConnection, target: &str) -> StoreResult<usize> {
    let n: i64 = l::table
        .filter(l::target_id.eq(target))
        .count()
        .get_result(conn)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Delete-then-insert (`put_many` of one): the enum connection cannot
/// express an upsert, and a remote id now held by another local id
/// (re-linked) is freed first.
pub fn put(
    conn: &mut DbConnection,
    target: &str,
    kind: &str,
    link: &LinkRecord,
) -> StoreResult<()> {
    put_many(conn, target, kind, std::slice::from_ref(link))
}

#[derive(Insertable)]
#[diesel(table_name = l)]
struct Row<'a> {
    target_id: &'a str,
    resource_type: &'a str,
    local_id: &'a str,
    remote_id: &'a str,
    state_hash: &'a str,
    updated: chrono::NaiveDateTime,
}

/// Rows per insert: well under both backends' bind-parameter limits.
const INSERT_CHUNK: usize = 200;

/// `put` for many links: per chunk, the rows of those local or remote ids
/// go, then the new rows come in one statement.
pub fn put_many(
    conn: &mut DbConnection,
    target: &str,
    kind: &str,
    links: &[LinkRecord],
) -> StoreResult<()> {
    let at = now().naive_utc();
    for chunk in links.chunks(INSERT_CHUNK) {
        let locals: Vec<&str> = chunk.iter().map(|r| r.local_id.as_str()).collect();
        let remotes: Vec<&str> = chunk.iter().map(|r| r.remote_id.as_str()).collect();
        // Two statements: with `IN … OR IN …` SQLite scans every row of
        // the target's kind instead of using either index.
        let mine = || {
            l::table
                .filter(l::target_id.eq(target))
                .filter(l::resource_type.eq(kind))
        };
        diesel::delete(mine().filter(l::local_id.eq_any(&locals))).execute(conn)?;
        diesel::delete(mine().filter(l::remote_id.eq_any(&remotes))).execute(conn)?;
        let rows: Vec<Row<'_>> = chunk
            .iter()
            .map(|r| Row {
                target_id: target,
                resource_type: kind,
                local_id: &r.local_id,
                remote_id: &r.remote_id,
                state_hash: &r.state_hash,
                updated: at,
            })
            .collect();
        per_backend!(conn, c => diesel::insert_into(l::table).values(&rows).execute(c))?;
    }
    Ok(())
}

pub fn remove(
    conn: &mut DbConnection,
    target: &str,
    kind: &str,
    local_id: &str,
) -> StoreResult<()> {
    diesel::delete(
        l::table
            .filter(l::target_id.eq(target))
            .filter(l::resource_type.eq(kind))
            .filter(l::local_id.eq(local_id)),
    )
    .execute(conn)?;
    Ok(())
}

pub fn get(
    conn: &mut DbConnection,
    target: &str,
    kind: &str,
    local_id: &str,
) -> StoreResult<Option<LinkRecord>> {
    let row: Option<(String, String, String)> = l::table
        .filter(l::target_id.eq(target))
        .filter(l::resource_type.eq(kind))
        .filter(l::local_id.eq(local_id))
        .select((l::local_id, l::remote_id, l::state_hash))
        .get_result(conn)
        .optional()?;
    Ok(row.map(|(local_id, remote_id, state_hash)| LinkRecord {
        local_id,
        remote_id,
        state_hash,
    }))
}
