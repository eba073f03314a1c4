//! Upstream sources (credentials arrive sealed; this file never decrypts).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::sources as s;
use super::unique_violation;
use crate::scim::ScimError;
use crate::store::{SourceRecord, StoreError, StoreResult};

type Row = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    NaiveDateTime,
    NaiveDateTime,
);

const ROW: (
    s::id,
    s::name,
    s::kind,
    s::settings,
    s::credentials,
    s::mapping,
    s::watermark,
    s::created,
    s::updated,
) = (
    s::id,
    s::name,
    s::kind,
    s::settings,
    s::credentials,
    s::mapping,
    s::watermark,
    s::created,
    s::updated,
);

fn from_row(r: Row) -> SourceRecord {
    let (id, name, kind, settings, credentials, mapping, watermark, created, updated) = r;
    SourceRecord {
        id,
        name,
        kind,
        settings,
        credentials,
        mapping,
        watermark,
        created: created.and_utc(),
        updated: updated.and_utc(),
    }
}

fn name_taken(name: &str) -> StoreError {
    StoreError::Rejected(ScimError::uniqueness(format!(
        "a source named \"{name}\" already exists"
    )))
}

pub fn create(conn: &mut DbConnection, r: SourceRecord) -> StoreResult<()> {
    let taken: i64 = s::table
        .filter(s::name.eq(&r.name))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(name_taken(&r.name));
    }
    diesel::insert_into(s::table)
        .values((
            s::id.eq(&r.id),
            s::name.eq(&r.name),
            s::kind.eq(&r.kind),
            s::settings.eq(&r.settings),
            s::credentials.eq(&r.credentials),
            s::mapping.eq(&r.mapping),
            s::watermark.eq(&r.watermark),
            s::created.eq(r.created.naive_utc()),
            s::updated.eq(r.updated.naive_utc()),
        ))
        .execute(conn)
        .map_err(|e| unique_violation(e, || name_taken(&r.name)))?;
    Ok(())
}

pub fn update(conn: &mut DbConnection, r: &SourceRecord) -> StoreResult<()> {
    diesel::update(s::table.find(&r.id))
        .set((
            s::settings.eq(&r.settings),
            s::credentials.eq(&r.credentials),
            s::mapping.eq(&r.mapping),
            s::updated.eq(r.updated.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_watermark(
    conn: &mut DbConnection,
    id: &str,
    watermark: Option<&str>,
) -> StoreResult<()> {
    diesel::update(s::table.find(id))
        .set(s::watermark.eq(watermark))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, name: &str) -> StoreResult<Option<SourceRecord>> {
    let row: Option<Row> = s::table
        .filter(s::name.eq(name))
        .select(ROW)
        .get_result(conn)
        .optional()?;
    Ok(row.map(from_row))
}

pub fn list(conn: &mut DbConnection) -> StoreResult<Vec<SourceRecord>> {
    let rows: Vec<Row> = s::table.order(s::name.asc()).select(ROW).load(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Children first, as for targets: SQLite cascades only with `foreign_keys` on.
pub fn delete(conn: &mut DbConnection, name: &str) -> StoreResult<bool> {
    use super::schema::{source_failures as f, source_links as l, source_runs as r};
    let Some(id) = s::table
        .filter(s::name.eq(name))
        .select(s::id)
        .get_result::<String>(conn)
        .optional()?
    else {
        return Ok(false);
    };
    diesel::delete(f::table.filter(f::source_id.eq(&id))).execute(conn)?;
    diesel::delete(r::table.filter(r::source_id.eq(&id))).execute(conn)?;
    diesel::delete(l::table.filter(l::source_id.eq(&id))).execute(conn)?;
    diesel::delete(s::table.filter(s::id.eq(&id))).execute(conn)?;
    Ok(true)
}
