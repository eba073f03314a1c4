//! Groups: the JSON resource (without members) plus indexed columns; the
//! members live in `group_members` (see `members.rs`).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::changelog::{self, Change, Operation};
use super::connection::DbConnection;
use super::regrouped;
use super::schema::scim_groups;
use super::{members, now, parse_data, run, unique_violation, written};
use crate::scim::ScimError;
use crate::scim::etag::TagList;
use crate::scim::render::ResourceMeta;
use crate::store::{
    Actor, MemberKind, MembersWrite, ResourceWrite, Rewrite, StoreError, StoreResult, StoredGroup,
    WriteOp,
};

const RESOURCE_TYPE: &str = "Group";

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = scim_groups, treat_none_as_null = true)]
struct GroupColumns {
    display_name: String,
    display_name_lower: String,
    external_id: Option<String>,
    data: String,
    last_modified: NaiveDateTime,
    version: i64,
}

fn columns(
    attrs: &Map<String, Value>,
    at: DateTime<Utc>,
    version: i64,
) -> StoreResult<GroupColumns> {
    let display_name = attrs
        .get("displayName")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            StoreError::Rejected(ScimError::invalid_value(
                "attribute 'displayName' is required",
            ))
        })?
        .to_string();
    Ok(GroupColumns {
        display_name_lower: display_name.to_lowercase(),
        display_name,
        external_id: attrs
            .get("externalId")
            .and_then(Value::as_str)
            .map(str::to_string),
        data: serde_json::to_string(attrs).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        last_modified: at.naive_utc(),
        version,
    })
}

fn taken(display_name: &str) -> StoreError {
    StoreError::Rejected(ScimError::uniqueness(format!(
        "a group named \"{display_name}\" already exists (displayName is unique, ignoring case)"
    )))
}

fn ensure_name_free(
    conn: &mut DbConnection,
    display_name: &str,
    except: Option<&str>,
) -> StoreResult<()> {
    let holder: Option<String> = run::get_result(
        conn,
        scim_groups::table
            .filter(scim_groups::display_name_lower.eq(display_name.to_lowercase()))
            .select(scim_groups::id),
    )
    .optional()?;
    match holder {
        Some(id) if Some(id.as_str()) != except => Err(taken(display_name)),
        _ => Ok(()),
    }
}

type GroupRow = super::query::Row;

pub const ROW: (
    scim_groups::id,
    scim_groups::data,
    scim_groups::created,
    scim_groups::last_modified,
    scim_groups::version,
) = (
    scim_groups::id,
    scim_groups::data,
    scim_groups::created,
    scim_groups::last_modified,
    scim_groups::version,
);

/// A row as a group; `with_members: false` skips loading members.
pub fn load_row(
    conn: &mut DbConnection,
    row: GroupRow,
    with_members: bool,
) -> StoreResult<StoredGroup> {
    let (id, data, created, last_modified, version) = row;
    Ok(StoredGroup {
        members: if with_members {
            members::members_of(conn, &id)?
        } else {
            Vec::new()
        },
        attributes: parse_data(&data)?,
        meta: ResourceMeta {
            created: created.and_utc(),
            last_modified: last_modified.and_utc(),
            version,
        },
        id,
    })
}

pub fn get(conn: &mut DbConnection, id: &str) -> StoreResult<StoredGroup> {
    get_with(conn, id, true)
}

pub fn get_with(conn: &mut DbConnection, id: &str, with_members: bool) -> StoreResult<StoredGroup> {
    let row: Option<GroupRow> =
        run::get_result(conn, scim_groups::table.find(id).select(ROW)).optional()?;
    load_row(conn, row.ok_or(StoreError::NotFound)?, with_members)
}

pub fn create(
    conn: &mut DbConnection,
    id: &str,
    write: ResourceWrite,
    actor: &Actor,
) -> StoreResult<StoredGroup> {
    let mut names = changelog::changed_names(None, &write.attributes);
    if matches!(&write.members, MembersWrite::Set(m) if !m.is_empty()) {
        names.push("members".into());
    }
    let at = now();
    let cols = columns(&write.attributes, at, 1)?;
    ensure_name_free(conn, &cols.display_name, None)?;
    diesel::insert_into(scim_groups::table)
        .values((
            &cols,
            scim_groups::id.eq(id),
            scim_groups::created.eq(at.naive_utc()),
        ))
        .execute(conn)
        .map_err(|e| unique_violation(e, || taken(&cols.display_name)))?;
    let added = match &write.members {
        MembersWrite::Set(refs) => {
            let resolved = members::resolve(conn, id, refs)?;
            members::set_members(conn, id, &resolved)?
        }
        MembersWrite::Change { .. } => Vec::new(),
    };
    let added_users = members::users_under(conn, &added)?;
    regrouped::record(conn, &added_users, actor, at)?;
    let row = Change::new(RESOURCE_TYPE, id, Operation::Create, 1, at, actor, names);
    changelog::append(conn, row)?;
    get(conn, id)
}

pub fn replace(
    conn: &mut DbConnection,
    id: &str,
    rewrite: Rewrite<'_, StoredGroup>,
    actor: &Actor,
    op: WriteOp,
    with_members: bool,
) -> StoreResult<StoredGroup> {
    let current = written::locked(conn, "scim_groups", id, None, |c| get_with(c, id, false))?;
    let write = rewrite(&current)?;
    let mut names = changelog::changed_names(Some(&current.attributes), &write.attributes);
    let at = now();
    let version = current.meta.version + 1;
    let cols = columns(&write.attributes, at, version)?;
    if names.iter().any(|n| n == "displayName") {
        ensure_name_free(conn, &cols.display_name, Some(id))?;
    }
    let changed_members = match &write.members {
        MembersWrite::Set(refs) => {
            let resolved = members::resolve(conn, id, refs)?;
            members::set_members(conn, id, &resolved)?
        }
        MembersWrite::Change {
            remove_all,
            remove,
            add,
        } => members::change_members(conn, id, *remove_all, remove, add)?,
    };
    if !changed_members.is_empty() {
        names.push("members".into());
    }
    // A write that changes nothing keeps the version (an idempotent member
    // add from Entra must not churn the ETag or the change log).
    if names.is_empty() {
        return get_with(conn, id, with_members);
    }
    run::execute(conn, diesel::update(scim_groups::table.find(id)).set(&cols))
        .map_err(|e| unique_violation(e, || taken(&cols.display_name)))?;
    // Members' `groups` show this group's name, directly or indirectly.
    let mut regrouped_ids = members::users_under(conn, &changed_members)?;
    if names.iter().any(|n| n == "displayName") {
        let under_this = [(id.to_string(), MemberKind::Group)];
        regrouped_ids.extend(members::users_under(conn, &under_this)?);
    }
    regrouped::record(conn, &regrouped_ids, actor, at)?;
    let row = Change::new(RESOURCE_TYPE, id, op.into(), version, at, actor, names);
    changelog::append(conn, row)?;
    // What was just stored, without reading the row back.
    Ok(StoredGroup {
        members: if with_members {
            members::members_of(conn, id)?
        } else {
            Vec::new()
        },
        id: id.to_string(),
        attributes: write.attributes,
        meta: ResourceMeta {
            created: current.meta.created,
            last_modified: at,
            version,
        },
    })
}

pub fn delete(
    conn: &mut DbConnection,
    id: &str,
    actor: &Actor,
    if_match: Option<&TagList>,
) -> StoreResult<()> {
    let current = written::locked(conn, "scim_groups", id, if_match, |c| {
        get_with(c, id, false)
    })?;
    let at = now();
    // Every user under this group loses it (and the groups above it).
    let removed = members::set_members(conn, id, &[])?;
    let removed_users = members::users_under(conn, &removed)?;
    regrouped::record(conn, &removed_users, actor, at)?;
    members::remove_member_everywhere(conn, id, actor, at)?;
    diesel::delete(scim_groups::table.find(id)).execute(conn)?;
    written::log_deleted(conn, RESOURCE_TYPE, id, &current, at, actor)
}
