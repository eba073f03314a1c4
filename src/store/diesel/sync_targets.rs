//! Sync targets (credentials arrive sealed; this file never decrypts).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::sync_targets as t;
use super::unique_violation;
use crate::scim::ScimError;
use crate::store::{StoreError, StoreResult, TargetRecord, TargetState};

type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    NaiveDateTime,
    NaiveDateTime,
    String,
);

const ROW: (
    t::id,
    t::name,
    t::base_url,
    t::credentials,
    t::settings,
    t::mapping,
    t::scope,
    t::change_cursor,
    t::created,
    t::updated,
    t::state,
) = (
    t::id,
    t::name,
    t::base_url,
    t::credentials,
    t::settings,
    t::mapping,
    t::scope,
    t::change_cursor,
    t::created,
    t::updated,
    t::state,
);

fn from_row(r: Row) -> TargetRecord {
    let (
        id,
        name,
        base_url,
        credentials,
        settings,
        mapping,
        scope,
        change_cursor,
        created,
        updated,
        state,
    ) = r;
    TargetRecord {
        id,
        name,
        base_url,
        credentials,
        settings,
        mapping,
        scope,
        change_cursor,
        created: created.and_utc(),
        updated: updated.and_utc(),
        // An unknown word (a newer version's) pauses rather than pushes.
        state: TargetState::parse(&state).unwrap_or(TargetState::Paused),
    }
}

fn name_taken(name: &str) -> StoreError {
    StoreError::Rejected(ScimError::uniqueness(format!(
        "a target named \"{name}\" already exists"
    )))
}

pub fn create(conn: &mut DbConnection, r: TargetRecord) -> StoreResult<()> {
    let taken: i64 = t::table
        .filter(t::name.eq(&r.name))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(name_taken(&r.name));
    }
    diesel::insert_into(t::table)
        .values((
            t::id.eq(&r.id),
            t::name.eq(&r.name),
            t::base_url.eq(&r.base_url),
            t::credentials.eq(&r.credentials),
            t::settings.eq(&r.settings),
            t::mapping.eq(&r.mapping),
            t::scope.eq(&r.scope),
            t::change_cursor.eq(r.change_cursor),
            t::created.eq(r.created.naive_utc()),
            t::updated.eq(r.updated.naive_utc()),
            t::state.eq(r.state.as_str()),
        ))
        .execute(conn)
        .map_err(|e| unique_violation(e, || name_taken(&r.name)))?;
    Ok(())
}

pub fn update(conn: &mut DbConnection, r: &TargetRecord) -> StoreResult<()> {
    diesel::update(t::table.find(&r.id))
        .set((
            t::base_url.eq(&r.base_url),
            t::credentials.eq(&r.credentials),
            t::settings.eq(&r.settings),
            t::mapping.eq(&r.mapping),
            t::scope.eq(&r.scope),
            t::updated.eq(r.updated.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_state(
    conn: &mut DbConnection,
    id: &str,
    state: TargetState,
    cursor: Option<i64>,
) -> StoreResult<()> {
    diesel::update(t::table.find(id))
        .set(t::state.eq(state.as_str()))
        .execute(conn)?;
    if let Some(seq) = cursor {
        set_cursor(conn, id, seq)?;
    }
    Ok(())
}

pub fn finish_initial_sync(conn: &mut DbConnection, id: &str, cursor: i64) -> StoreResult<bool> {
    let changed = diesel::update(
        t::table
            .find(id)
            .filter(t::state.eq(TargetState::New.as_str())),
    )
    .set(t::state.eq(TargetState::Active.as_str()))
    .execute(conn)?;
    if changed > 0 {
        set_cursor(conn, id, cursor)?;
    }
    Ok(changed > 0)
}

pub fn find(conn: &mut DbConnection, name: &str) -> StoreResult<Option<TargetRecord>> {
    let row: Option<Row> = t::table
        .filter(t::name.eq(name))
        .select(ROW)
        .get_result(conn)
        .optional()?;
    Ok(row.map(from_row))
}

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> StoreResult<Option<TargetRecord>> {
    let row: Option<Row> = t::table.find(id).select(ROW).get_result(conn).optional()?;
    Ok(row.map(from_row))
}

pub fn list(conn: &mut DbConnection) -> StoreResult<Vec<TargetRecord>> {
    let rows: Vec<Row> = t::table.order(t::name.asc()).select(ROW).load(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Children go first: SQLite only cascades with `foreign_keys` on, and
/// being explicit costs nothing.
pub fn delete(conn: &mut DbConnection, name: &str) -> StoreResult<bool> {
    use super::schema::{
        sync_deprovisions as d, sync_failures as f, sync_links as l, sync_quarantine as qt,
        sync_queue as q, sync_queue_alerts as qa, sync_runs as r,
    };
    let Some(id) = t::table
        .filter(t::name.eq(name))
        .select(t::id)
        .get_result::<String>(conn)
        .optional()?
    else {
        return Ok(false);
    };
    let runs: Vec<String> = r::table
        .filter(r::target_id.eq(&id))
        .select(r::id)
        .load(conn)?;
    diesel::delete(f::table.filter(f::run_id.eq_any(&runs))).execute(conn)?;
    diesel::delete(r::table.filter(r::target_id.eq(&id))).execute(conn)?;
    diesel::delete(l::table.filter(l::target_id.eq(&id))).execute(conn)?;
    diesel::delete(q::table.filter(q::target_id.eq(&id))).execute(conn)?;
    diesel::delete(qt::table.filter(qt::target_id.eq(&id))).execute(conn)?;
    diesel::delete(d::table.filter(d::target_id.eq(&id))).execute(conn)?;
    diesel::delete(qa::table.filter(qa::target_id.eq(&id))).execute(conn)?;
    super::sync_department_members::clear(conn, &id)?;
    diesel::delete(t::table.filter(t::id.eq(&id))).execute(conn)?;
    Ok(true)
}

/// Only forwards: two writers racing never move a cursor back.
pub fn set_cursor(conn: &mut DbConnection, id: &str, seq: i64) -> StoreResult<()> {
    diesel::update(t::table.find(id).filter(t::change_cursor.lt(seq)))
        .set(t::change_cursor.eq(seq))
        .execute(conn)?;
    Ok(())
}
