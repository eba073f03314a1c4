//! Admin-defined extension schemas (`SchemaStore`): one row per schema, and
//! the one-row generation every change bumps in the same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::connection::DbConnection;
use super::schema::{schema_extensions as x, schema_generation, scim_groups, users};
use super::{DieselStore, now, parse_data, unique_violation};
use crate::scim::{ResourceKind, ScimError};
use crate::store::{SchemaRecord, SchemaStore, StoreError, StoreResult};

type Row = (String, String, String, i64, NaiveDateTime, NaiveDateTime);

const ROW: (
    x::id,
    x::resource_type,
    x::definition,
    x::version,
    x::created,
    x::updated,
) = (
    x::id,
    x::resource_type,
    x::definition,
    x::version,
    x::created,
    x::updated,
);

fn from_row(r: Row) -> SchemaRecord {
    let (id, resource_type, definition, version, created, updated) = r;
    SchemaRecord {
        id,
        resource_type,
        definition,
        version,
        created: created.and_utc(),
        updated: updated.and_utc(),
    }
}

fn taken(id: &str) -> StoreError {
    StoreError::Rejected(ScimError::uniqueness(format!(
        "an extension schema {id:?} already exists (schema ids ignore case)"
    )))
}

fn bump_generation(conn: &mut DbConnection) -> StoreResult<()> {
    diesel::update(schema_generation::table.find(1))
        .set(schema_generation::generation.eq(schema_generation::generation + 1))
        .execute(conn)?;
    Ok(())
}

fn find(conn: &mut DbConnection, id: &str) -> StoreResult<SchemaRecord> {
    let row: Option<Row> = x::table.find(id).select(ROW).get_result(conn).optional()?;
    row.map(from_row).ok_or(StoreError::NotFound)
}

/// Why a compare-and-set on `id` at `version` touched no row.
fn not_at(conn: &mut DbConnection, id: &str) -> StoreError {
    match find(conn, id) {
        Ok(_) => StoreError::Rejected(ScimError::new(
            409,
            None,
            format!("extension schema {id:?} was changed meanwhile; read it again and retry"),
        )),
        Err(e) => e,
    }
}

/// `%"urn"%` as a LIKE pattern (`\` escapes).
fn key_pattern(urn: &str) -> String {
    let escaped = urn
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%\"{escaped}\"%")
}

impl SchemaStore for DieselStore {
    fn schema_extensions(&self) -> StoreResult<Vec<SchemaRecord>> {
        let rows: Vec<Row> = x::table
            .order((x::created.asc(), x::id.asc()))
            .select(ROW)
            .load(&mut *self.conn()?)?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    fn schema_generation(&self) -> StoreResult<i64> {
        let generation: Option<i64> = schema_generation::table
            .find(1)
            .select(schema_generation::generation)
            .get_result(&mut *self.conn()?)
            .optional()?;
        Ok(generation.unwrap_or_default())
    }

    fn add_schema_extension(
        &self,
        id: &str,
        resource_type: &str,
        definition: &str,
    ) -> StoreResult<SchemaRecord> {
        self.write(|c| {
            let at = now().naive_utc();
            diesel::insert_into(x::table)
                .values((
                    x::id.eq(id),
                    x::id_lower.eq(id.to_lowercase()),
                    x::resource_type.eq(resource_type),
                    x::definition.eq(definition),
                    x::version.eq(1_i64),
                    x::created.eq(at),
                    x::updated.eq(at),
                ))
                .execute(c)
                .map_err(|e| unique_violation(e, || taken(id)))?;
            bump_generation(c)?;
            find(c, id)
        })
    }

    fn replace_schema_extension(
        &self,
        id: &str,
        version: i64,
        definition: &str,
    ) -> StoreResult<SchemaRecord> {
        self.write(|c| {
            let n = diesel::update(x::table.find(id).filter(x::version.eq(version)))
                .set((
                    x::definition.eq(definition),
                    x::version.eq(version + 1),
                    x::updated.eq(now().naive_utc()),
                ))
                .execute(c)?;
            if n == 0 {
                return Err(not_at(c, id));
            }
            bump_generation(c)?;
            find(c, id)
        })
    }

    fn remove_schema_extension(&self, id: &str, version: i64) -> StoreResult<()> {
        self.write(|c| {
            let n = diesel::delete(x::table.find(id).filter(x::version.eq(version))).execute(c)?;
            if n == 0 {
                return Err(not_at(c, id));
            }
            bump_generation(c)
        })
    }

    fn resources_with_extension(
        &self,
        kind: ResourceKind,
        urn: &str,
    ) -> StoreResult<Vec<(String, Map<String, Value>)>> {
        let pattern = key_pattern(urn);
        let conn = &mut *self.conn()?;
        // The pattern narrows to the rows whose JSON mentions the URN; the
        // parsed data decides.
        let rows: Vec<(String, String)> = match kind {
            ResourceKind::User => users::table
                .filter(users::data.like(&pattern).escape('\\'))
                .select((users::id, users::data))
                .load(conn)?,
            ResourceKind::Group => scim_groups::table
                .filter(scim_groups::data.like(&pattern).escape('\\'))
                .select((scim_groups::id, scim_groups::data))
                .load(conn)?,
            ResourceKind::Department | ResourceKind::Plain(_) => Vec::new(),
        };
        let mut out = Vec::new();
        for (id, data) in rows {
            let data = parse_data(&data)?;
            if data.contains_key(urn) {
                out.push((id, data));
            }
        }
        Ok(out)
    }
}
