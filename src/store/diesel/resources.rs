//! Resources of the plain types (`ResourceKind::Plain`: Agents,
//! AgenticApplications): one table for all of them, the JSON resource under
//! its type. The type's unique attribute (from its schema) is a column with
//! a unique index per type; the resources it names (the schema's
//! `referenceTypes`) must exist when it is written.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::Connection;
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::changelog::{self, Change, Operation};
use super::connection::DbConnection;
use super::resource_search;
use super::schema::{departments, resources};
use super::{members, now, parse_data, unique_violation, written};
use crate::scim::etag::TagList;
use crate::scim::filter::eval::fold;
use crate::scim::references::{self, Reference};
use crate::scim::registry::registry;
use crate::scim::render::ResourceMeta;
use crate::scim::schema::Uniqueness;
use crate::scim::{ResourceKind, ScimError};
use crate::store::{
    Actor, MemberKind, ResourceWrite, Rewrite, StoreError, StoreResult, StoredResource, WriteOp,
};

pub type Row = super::query::Row;

/// Held until commit on PostgreSQL by a write that sets a hierarchy
/// reference (`parent`), so two such writes never close a cycle between
/// them (SQLite has one writer anyway).
const HIERARCHY_LOCK_KEY: i64 = 0x5c1_4b0b_0004;

pub const ROW: (
    resources::id,
    resources::data,
    resources::created,
    resources::last_modified,
    resources::version,
) = (
    resources::id,
    resources::data,
    resources::created,
    resources::last_modified,
    resources::version,
);

pub fn load_row(kind: ResourceKind, row: Row) -> StoreResult<StoredResource> {
    let (id, data, created, last_modified, version) = row;
    Ok(StoredResource {
        kind,
        id,
        attributes: parse_data(&data)?,
        meta: ResourceMeta {
            created: created.and_utc(),
            last_modified: last_modified.and_utc(),
            version,
        },
    })
}

pub fn get(conn: &mut DbConnection, kind: ResourceKind, id: &str) -> StoreResult<StoredResource> {
    let row: Option<Row> = resources::table
        .filter(resources::id.eq(id))
        .filter(resources::resource_type.eq(kind.as_str()))
        .select(ROW)
        .get_result(conn)
        .optional()?;
    load_row(kind, row.ok_or(StoreError::NotFound)?)
}

/// The attribute whose value is unique among resources of `kind`, if any.
fn unique_attribute(kind: ResourceKind) -> Option<(&'static str, bool)> {
    registry()
        .core_schema(kind)
        .attributes
        .iter()
        .find(|a| a.uniqueness != Uniqueness::None)
        .map(|a| (a.name, a.case_exact))
}

/// The stored form of the unique attribute: as given when case-exact,
/// else lower-cased (so `Bot` and `bot` clash, as the filter `eq` agrees).
fn unique_value(kind: ResourceKind, attrs: &Map<String, Value>) -> Option<(&'static str, String)> {
    let (name, exact) = unique_attribute(kind)?;
    Some((name, fold(attrs.get(name)?.as_str()?, exact)))
}

fn taken(kind: ResourceKind, name: &str, value: &str) -> StoreError {
    StoreError::Rejected(ScimError::uniqueness(format!(
        "an {} with {name} \"{value}\" already exists",
        kind.as_str()
    )))
}

/// Refuses a write whose unique value another resource of the type holds.
fn ensure_free(
    conn: &mut DbConnection,
    kind: ResourceKind,
    attrs: &Map<String, Value>,
    id: &str,
) -> StoreResult<Option<String>> {
    let Some((name, value)) = unique_value(kind, attrs) else {
        return Ok(None);
    };
    let holder: Option<String> = resources::table
        .filter(resources::resource_type.eq(kind.as_str()))
        .filter(resources::unique_value.eq(&value))
        .select(resources::id)
        .get_result(conn)
        .optional()?;
    if holder.is_some_and(|h| h != id) {
        let shown = attrs.get(name).and_then(Value::as_str).unwrap_or_default();
        return Err(taken(kind, name, shown));
    }
    Ok(Some(value))
}

/// Whether a resource of `kind` with this id exists.
fn exists(conn: &mut DbConnection, kind: ResourceKind, id: &str) -> StoreResult<bool> {
    Ok(match kind {
        ResourceKind::User => !members::existing_ids(conn, MemberKind::User, &[id])?.is_empty(),
        ResourceKind::Group => !members::existing_ids(conn, MemberKind::Group, &[id])?.is_empty(),
        ResourceKind::Department => departments::table
            .find(id)
            .select(departments::id)
            .get_result::<String>(conn)
            .optional()?
            .is_some(),
        ResourceKind::Plain(_) => resources::table
            .filter(resources::id.eq(id))
            .filter(resources::resource_type.eq(kind.as_str()))
            .select(resources::id)
            .get_result::<String>(conn)
            .optional()?
            .is_some(),
    })
}

/// Whether following `attribute` up from `start` (a resource of `kind`)
/// reaches `id`: the write would close a cycle.
fn leads_back(
    conn: &mut DbConnection,
    kind: ResourceKind,
    attribute: &str,
    start: &str,
    id: &str,
) -> StoreResult<bool> {
    let mut at = start.to_string();
    // Each step is a resource; a chain never holds more than the table.
    for _ in 0..100_000 {
        if at == id {
            return Ok(true);
        }
        let above = match get(conn, kind, &at) {
            Ok(r) => r
                .attributes
                .get(attribute)
                .and_then(|v| v.get("value"))
                .and_then(Value::as_str)
                .map(str::to_string),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e),
        };
        match above {
            Some(next) => at = next,
            None => return Ok(false),
        }
    }
    Ok(true)
}

/// Every resource the write names must exist, and a hierarchy (`parent`)
/// must not lead back to the resource itself.
fn check_references(
    conn: &mut DbConnection,
    kind: ResourceKind,
    id: &str,
    attrs: &Map<String, Value>,
) -> StoreResult<()> {
    for Reference {
        attribute,
        id: named,
        types,
        hierarchy,
    } in references::named(kind, attrs)
    {
        if named == id && types.contains(&kind) {
            return Err(StoreError::Rejected(ScimError::invalid_value(format!(
                "{attribute}: a resource cannot name itself"
            ))));
        }
        if hierarchy && let DbConnection::Pg(pg) = conn {
            diesel::sql_query(format!(
                "SELECT pg_advisory_xact_lock({HIERARCHY_LOCK_KEY})"
            ))
            .execute(pg)?;
        }
        if hierarchy && leads_back(conn, kind, attribute, &named, id)? {
            return Err(StoreError::Rejected(ScimError::invalid_value(format!(
                "{attribute}: \"{named}\" is under this {} already, so this would be a cycle",
                kind.as_str()
            ))));
        }
        let mut found = false;
        for t in &types {
            if exists(conn, *t, &named)? {
                found = true;
                break;
            }
        }
        if !found {
            let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
            return Err(StoreError::Rejected(ScimError::invalid_value(format!(
                "{attribute}: \"{named}\" is not an existing {}",
                names.join(" or ")
            ))));
        }
    }
    Ok(())
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = resources, treat_none_as_null = true)]
struct Columns {
    unique_value: Option<String>,
    search: String,
    data: String,
    last_modified: NaiveDateTime,
    version: i64,
}

fn columns(
    kind: ResourceKind,
    unique_value: Option<String>,
    attrs: &Map<String, Value>,
    at: DateTime<Utc>,
    version: i64,
) -> StoreResult<Columns> {
    Ok(Columns {
        unique_value,
        search: resource_search::document(kind, attrs),
        data: serde_json::to_string(attrs).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        last_modified: at.naive_utc(),
        version,
    })
}

fn clash(kind: ResourceKind) -> impl FnOnce() -> StoreError {
    move || {
        StoreError::Rejected(ScimError::uniqueness(format!(
            "an {} with this name already exists",
            kind.as_str()
        )))
    }
}

pub fn create(
    conn: &mut DbConnection,
    kind: ResourceKind,
    id: &str,
    write: ResourceWrite,
    actor: &Actor,
) -> StoreResult<StoredResource> {
    let attrs = write.attributes;
    let unique = ensure_free(conn, kind, &attrs, id)?;
    check_references(conn, kind, id, &attrs)?;
    let at = now();
    diesel::insert_into(resources::table)
        .values((
            &columns(kind, unique, &attrs, at, 1)?,
            resources::id.eq(id),
            resources::resource_type.eq(kind.as_str()),
            resources::created.eq(at.naive_utc()),
        ))
        .execute(conn)
        .map_err(|e| unique_violation(e, clash(kind)))?;
    let names = changelog::changed_names(None, &attrs);
    let row = Change::new(kind.as_str(), id, Operation::Create, 1, at, actor, names);
    changelog::append(conn, row)?;
    Ok(StoredResource {
        kind,
        id: id.to_string(),
        attributes: attrs,
        meta: ResourceMeta {
            created: at,
            last_modified: at,
            version: 1,
        },
    })
}

pub fn replace(
    conn: &mut DbConnection,
    kind: ResourceKind,
    id: &str,
    rewrite: Rewrite<'_, StoredResource>,
    actor: &Actor,
    op: WriteOp,
) -> StoreResult<StoredResource> {
    let current = written::locked(conn, "resources", id, None, |c| get(c, kind, id))?;
    let attrs = rewrite(&current)?.attributes;
    let names = changelog::changed_names(Some(&current.attributes), &attrs);
    if names.is_empty() {
        return Ok(current);
    }
    let unique = ensure_free(conn, kind, &attrs, id)?;
    check_references(conn, kind, id, &attrs)?;
    let at = now();
    let version = current.meta.version + 1;
    diesel::update(resources::table.find(id))
        .set(&columns(kind, unique, &attrs, at, version)?)
        .execute(conn)
        .map_err(|e| unique_violation(e, clash(kind)))?;
    let row = Change::new(kind.as_str(), id, op.into(), version, at, actor, names);
    changelog::append(conn, row)?;
    Ok(StoredResource {
        kind,
        id: id.to_string(),
        attributes: attrs,
        meta: ResourceMeta {
            created: current.meta.created,
            last_modified: at,
            version,
        },
    })
}

pub fn delete(
    conn: &mut DbConnection,
    kind: ResourceKind,
    id: &str,
    actor: &Actor,
    if_match: Option<&TagList>,
) -> StoreResult<()> {
    let current = written::locked(conn, "resources", id, if_match, |c| get(c, kind, id))?;
    diesel::delete(resources::table.find(id)).execute(conn)?;
    written::log_deleted(conn, kind.as_str(), id, &current, now(), actor)
}

/// Fills `search` for rows written before it existed or cleared by a
/// migration (at start), in one transaction.
pub fn fill_search(conn: &mut DbConnection) -> StoreResult<()> {
    conn.transaction(|c| {
        let rows: Vec<(String, String, String)> = resources::table
            .filter(resources::search.is_null())
            .select((resources::id, resources::resource_type, resources::data))
            .load(c)?;
        for (id, type_name, data) in rows {
            let Some(kind) = ResourceKind::parse(&type_name) else {
                continue;
            };
            let doc = resource_search::document(kind, &parse_data(&data)?);
            diesel::update(resources::table.filter(resources::id.eq(&id)))
                .set(resources::search.eq(doc))
                .execute(c)?;
        }
        Ok(())
    })
}
