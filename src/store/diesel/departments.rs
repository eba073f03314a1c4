//! Departments: the organization tree. Each is its JSON resource plus
//! indexed columns; `path` (`/rootId/…/id/`) makes "everything under X" one
//! range of an index, and a move rewrites the paths of the moved subtree
//! and of the people in it only. Every tree write takes one lock on
//! PostgreSQL (SQLite has one writer anyway), so two moves can never build
//! a cycle between them and a child is never added under a moving parent
//! with the parent's old path.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use super::changelog::{self, Operation};
use super::connection::{DbConnection, lock_row};
use super::department_hold;
use super::department_log::Log;
use super::filter_sql::prefix_end;
use super::schema::{departments, user_departments};
use super::user_org::{self, Touched};
use super::{now, parse_data, unique_violation};
use crate::scim::ScimError;
use crate::scim::etag::TagList;
use crate::scim::render::ResourceMeta;
use crate::store::model::org;
use crate::store::{
    Actor, DepartmentRemoval, RemoveMode, ResourceWrite, Rewrite, StoreError, StoreResult,
    StoredDepartment, WriteOp,
};

pub const RESOURCE_TYPE: &str = "Department";

/// Held until commit by every write of the tree on PostgreSQL.
const TREE_LOCK_KEY: i64 = 0x5c1_4b0b_0003;

fn lock_tree(conn: &mut DbConnection) -> StoreResult<()> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({TREE_LOCK_KEY})")).execute(pg)?;
    }
    Ok(())
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = departments, treat_none_as_null = true)]
struct Columns {
    display_name: String,
    display_name_lower: String,
    code: Option<String>,
    external_id: Option<String>,
    parent_id: Option<String>,
    ordering: i64,
    path: String,
    data: String,
    last_modified: NaiveDateTime,
    version: i64,
}

fn text(attrs: &Map<String, Value>, key: &str) -> Option<String> {
    attrs.get(key).and_then(Value::as_str).map(str::to_string)
}

fn parent_ref(attrs: &Map<String, Value>) -> Option<String> {
    attrs
        .get("parent")
        .and_then(org::value_of)
        .map(str::to_string)
}

fn columns(attrs: &Map<String, Value>, at: DateTime<Utc>, version: i64) -> StoreResult<Columns> {
    let display_name = text(attrs, "displayName")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            StoreError::Rejected(ScimError::invalid_value(
                "attribute 'displayName' is required",
            ))
        })?;
    Ok(Columns {
        display_name_lower: display_name.to_lowercase(),
        display_name,
        code: text(attrs, "code"),
        external_id: text(attrs, "externalId"),
        parent_id: parent_ref(attrs),
        ordering: attrs.get("ordering").and_then(Value::as_i64).unwrap_or(0),
        path: text(attrs, "path").unwrap_or_default(),
        data: serde_json::to_string(attrs).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        last_modified: at.naive_utc(),
        version,
    })
}

pub type Row = super::query::Row;

pub const ROW: (
    departments::id,
    departments::data,
    departments::created,
    departments::last_modified,
    departments::version,
) = (
    departments::id,
    departments::data,
    departments::created,
    departments::last_modified,
    departments::version,
);

/// A row as a department (nothing is derived on read: the flag is the
/// list engine's).
pub fn load_row(
    _conn: &mut DbConnection,
    row: Row,
    _derived: bool,
) -> StoreResult<StoredDepartment> {
    let (id, data, created, last_modified, version) = row;
    Ok(StoredDepartment {
        id,
        attributes: parse_data(&data)?,
        meta: ResourceMeta {
            created: created.and_utc(),
            last_modified: last_modified.and_utc(),
            version,
        },
    })
}

pub fn get_with(
    conn: &mut DbConnection,
    id: &str,
    _derived: bool,
) -> StoreResult<StoredDepartment> {
    let row: Option<Row> = departments::table
        .find(id)
        .select(ROW)
        .get_result(conn)
        .optional()?;
    load_row(conn, row.ok_or(StoreError::NotFound)?, false)
}

pub fn get(conn: &mut DbConnection, id: &str) -> StoreResult<StoredDepartment> {
    get_with(conn, id, false)
}

/// What a write elsewhere needs to know of a department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brief {
    pub id: String,
    pub display_name: String,
    pub path: String,
}

/// The named departments that exist, by id. With `for_share` (a user write
/// naming them) PostgreSQL holds them until commit, so a rename or move of
/// one either waits for the user write or is waited for and read after.
pub fn briefs(
    conn: &mut DbConnection,
    ids: &[&str],
    for_share: bool,
) -> StoreResult<HashMap<String, Brief>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let query = || {
        departments::table
            .filter(departments::id.eq_any(ids))
            .select((
                departments::id,
                departments::display_name,
                departments::path,
            ))
    };
    let rows: Vec<(String, String, String)> = match conn {
        DbConnection::Sqlite(c) => query().load(c)?,
        DbConnection::Pg(c) if for_share => query().for_share().load(c)?,
        DbConnection::Pg(c) => query().load(c)?,
    };
    Ok(rows
        .into_iter()
        .map(|(id, display_name, path)| {
            (
                id.clone(),
                Brief {
                    id,
                    display_name,
                    path,
                },
            )
        })
        .collect())
}

fn brief_of(conn: &mut DbConnection, id: &str) -> StoreResult<Option<Brief>> {
    Ok(briefs(conn, &[id], false)?.remove(id))
}

fn brief(d: &StoredDepartment) -> Brief {
    Brief {
        id: d.id.clone(),
        display_name: d.display_name().to_string(),
        path: d.path().to_string(),
    }
}

/// Sets the derived `parent.display` and `path`.
fn set_place(attrs: &mut Map<String, Value>, parent: Option<&Brief>, path: &str) {
    match parent {
        Some(p) => {
            attrs.insert(
                "parent".into(),
                json!({"value": p.id, "display": p.display_name}),
            );
        }
        None => {
            attrs.remove("parent");
        }
    }
    attrs.insert("path".into(), Value::String(path.to_string()));
}

fn path_under(parent: Option<&Brief>, id: &str) -> String {
    format!("{}{id}/", parent.map_or("/", |p| p.path.as_str()))
}

fn rejected(e: ScimError) -> StoreError {
    StoreError::Rejected(e)
}

fn unknown_parent(id: &str) -> StoreError {
    rejected(ScimError::invalid_value(format!(
        "parent \"{id}\" is not an existing Department"
    )))
}

/// Moving `moved` under `parent` must not put it under itself.
fn check_no_cycle(moved: &StoredDepartment, parent: &Brief) -> StoreResult<()> {
    if parent.id == moved.id {
        return Err(rejected(ScimError::invalid_value(format!(
            "department \"{}\" ({}) cannot be its own parent",
            moved.display_name(),
            moved.id
        ))));
    }
    if parent.path.starts_with(moved.path()) {
        return Err(rejected(ScimError::invalid_value(format!(
            "cannot move department \"{}\" ({}) under \"{}\" ({}): \"{}\" is inside \"{}\", \
             so the tree would have a cycle",
            moved.display_name(),
            moved.id,
            parent.display_name,
            parent.id,
            parent.display_name,
            moved.display_name()
        ))));
    }
    Ok(())
}

/// A department's name is unique among its parent's departments, its code
/// among all; checked before writing so the refusal names the clash.
fn ensure_free(conn: &mut DbConnection, cols: &Columns, except: Option<&str>) -> StoreResult<()> {
    let same_name = departments::table
        .filter(departments::display_name_lower.eq(&cols.display_name_lower))
        .select(departments::id);
    let holder: Option<String> = match &cols.parent_id {
        Some(p) => same_name
            .filter(departments::parent_id.eq(p))
            .get_result(conn)
            .optional()?,
        None => same_name
            .filter(departments::parent_id.is_null())
            .get_result(conn)
            .optional()?,
    };
    if holder.is_some_and(|h| Some(h.as_str()) != except) {
        let place = match &cols.parent_id {
            Some(p) => format!("under department {p}"),
            None => "at the root".to_string(),
        };
        return Err(rejected(ScimError::uniqueness(format!(
            "a department named \"{}\" already exists {place} (names are unique among \
             siblings, ignoring case)",
            cols.display_name
        ))));
    }
    if let Some(code) = &cols.code {
        let holder: Option<String> = departments::table
            .filter(departments::code.eq(code))
            .select(departments::id)
            .get_result(conn)
            .optional()?;
        if holder.is_some_and(|h| Some(h.as_str()) != except) {
            return Err(rejected(ScimError::uniqueness(format!(
                "department code \"{code}\" is already taken"
            ))));
        }
    }
    Ok(())
}

fn clash() -> StoreError {
    rejected(ScimError::uniqueness(
        "a department with this name under this parent, or with this code, already exists",
    ))
}

pub fn create(
    conn: &mut DbConnection,
    id: &str,
    write: ResourceWrite,
    actor: &Actor,
) -> StoreResult<StoredDepartment> {
    lock_tree(conn)?;
    let mut attrs = write.attributes;
    let parent = match parent_ref(&attrs) {
        Some(p) => Some(brief_of(conn, &p)?.ok_or_else(|| unknown_parent(&p))?),
        None => None,
    };
    set_place(
        &mut attrs,
        parent.as_ref(),
        &path_under(parent.as_ref(), id),
    );
    let at = now();
    let cols = columns(&attrs, at, 1)?;
    ensure_free(conn, &cols, None)?;
    diesel::insert_into(departments::table)
        .values((
            &cols,
            departments::id.eq(id),
            departments::created.eq(at.naive_utc()),
        ))
        .execute(conn)
        .map_err(|e| unique_violation(e, clash))?;
    let mut log = Log::default();
    let names = changelog::changed_names(None, &attrs);
    log.push(RESOURCE_TYPE, id.to_string(), Operation::Create, 1, names);
    log.flush(conn, actor, at)?;
    Ok(StoredDepartment {
        id: id.to_string(),
        attributes: attrs,
        meta: ResourceMeta {
            created: at,
            last_modified: at,
            version: 1,
        },
    })
}

/// Stores a department's new attributes as its next version.
fn store(
    conn: &mut DbConnection,
    id: &str,
    attrs: &Map<String, Value>,
    version: i64,
    at: DateTime<Utc>,
    check_names: bool,
) -> StoreResult<()> {
    let cols = columns(attrs, at, version)?;
    if check_names {
        ensure_free(conn, &cols, Some(id))?;
    }
    diesel::update(departments::table.find(id))
        .set(&cols)
        .execute(conn)
        .map_err(|e| unique_violation(e, clash))?;
    Ok(())
}

/// PUT or PATCH. A new parent moves the department with everything under
/// it; a new name reaches its children's `parent.display` and the people
/// naming it.
pub fn replace(
    conn: &mut DbConnection,
    id: &str,
    rewrite: Rewrite<'_, StoredDepartment>,
    actor: &Actor,
    op: WriteOp,
) -> StoreResult<StoredDepartment> {
    lock_tree(conn)?;
    let current = get(conn, id)?;
    let mut attrs = rewrite(&current)?.attributes;
    let parent = match parent_ref(&attrs) {
        Some(p) => {
            let parent = brief_of(conn, &p)?.ok_or_else(|| unknown_parent(&p))?;
            check_no_cycle(&current, &parent)?;
            Some(parent)
        }
        None => None,
    };
    let path = path_under(parent.as_ref(), id);
    set_place(&mut attrs, parent.as_ref(), &path);
    let names = changelog::changed_names(Some(&current.attributes), &attrs);
    if names.is_empty() {
        return Ok(current);
    }
    let at = now();
    let version = current.meta.version + 1;
    let renamed = names.iter().any(|n| n == "displayName");
    let moved = path != current.path();
    let mut people = Vec::new();
    if moved {
        people.push(Touched::Under(current.path()));
    }
    if renamed {
        people.push(Touched::Naming(std::slice::from_ref(&current.id)));
    }
    department_hold::hold(conn, current.path(), &people)?;
    store(conn, id, &attrs, version, at, true)?;
    let mut log = Log::default();
    log.push(RESOURCE_TYPE, id.to_string(), op.into(), version, names);
    if moved {
        move_under(conn, current.path(), &path, at, &mut log)?;
    }
    let updated = StoredDepartment {
        id: id.to_string(),
        attributes: attrs,
        meta: ResourceMeta {
            created: current.meta.created,
            last_modified: at,
            version,
        },
    };
    if renamed {
        follow_rename(conn, &brief(&updated), at, &mut log)?;
    }
    log.flush(conn, actor, at)?;
    Ok(updated)
}

/// The departments strictly under `path`, top-down.
fn descendants(conn: &mut DbConnection, path: &str) -> StoreResult<Vec<StoredDepartment>> {
    let Some(end) = prefix_end(path) else {
        return Ok(Vec::new());
    };
    let rows: Vec<Row> = departments::table
        .filter(departments::path.gt(path))
        .filter(departments::path.lt(end))
        .order(departments::path)
        .select(ROW)
        .load(conn)?;
    rows.into_iter().map(|r| load_row(conn, r, false)).collect()
}

/// The subtree at `old` (its root already rewritten by the caller) now
/// sits at `new`: the paths under it and of the people in it follow.
/// Costs one write per department and person in the subtree.
fn move_under(
    conn: &mut DbConnection,
    old: &str,
    new: &str,
    at: DateTime<Utc>,
    log: &mut Log,
) -> StoreResult<()> {
    for mut d in descendants(conn, old)? {
        let moved = format!("{new}{}", &d.path()[old.len()..]);
        d.attributes.insert("path".into(), Value::String(moved));
        let version = d.meta.version + 1;
        store(conn, &d.id, &d.attributes, version, at, false)?;
        log.push(
            RESOURCE_TYPE,
            d.id,
            Operation::Update,
            version,
            vec!["path".into()],
        );
    }
    user_org::rewrite_users(
        conn,
        Touched::Under(old),
        |attrs| user_org::repath(attrs, old, new),
        at,
        log,
    )?;
    Ok(())
}

fn children_of(conn: &mut DbConnection, id: &str) -> StoreResult<Vec<StoredDepartment>> {
    let rows: Vec<Row> = departments::table
        .filter(departments::parent_id.eq(id))
        .order(departments::path)
        .select(ROW)
        .load(conn)?;
    rows.into_iter().map(|r| load_row(conn, r, false)).collect()
}

/// A renamed department's children show its new name as `parent.display`,
/// and so do the people naming it (and their `department` string).
fn follow_rename(
    conn: &mut DbConnection,
    renamed: &Brief,
    at: DateTime<Utc>,
    log: &mut Log,
) -> StoreResult<()> {
    for mut child in children_of(conn, &renamed.id)? {
        let path = child.path().to_string();
        set_place(&mut child.attributes, Some(renamed), &path);
        let version = child.meta.version + 1;
        store(conn, &child.id, &child.attributes, version, at, false)?;
        log.push(
            RESOURCE_TYPE,
            child.id,
            Operation::Update,
            version,
            vec!["parent".into()],
        );
    }
    user_org::rewrite_users(
        conn,
        Touched::Naming(std::slice::from_ref(&renamed.id)),
        |attrs| user_org::rename(attrs, renamed),
        at,
        log,
    )?;
    Ok(())
}

/// Moves `child` (with its subtree) under `parent`.
fn reparent(
    conn: &mut DbConnection,
    mut child: StoredDepartment,
    parent: &Brief,
    at: DateTime<Utc>,
    log: &mut Log,
) -> StoreResult<()> {
    let old = child.path().to_string();
    let new = path_under(Some(parent), &child.id);
    let before = child.attributes.clone();
    set_place(&mut child.attributes, Some(parent), &new);
    let version = child.meta.version + 1;
    store(conn, &child.id, &child.attributes, version, at, true)?;
    let names = changelog::changed_names(Some(&before), &child.attributes);
    log.push(RESOURCE_TYPE, child.id, Operation::Update, version, names);
    move_under(conn, &old, &new, at, log)
}

fn still_holds(d: &StoredDepartment, children: usize, people: u64) -> StoreError {
    rejected(ScimError::new(
        409,
        None,
        format!(
            "department \"{}\" ({}) still has {children} sub-department(s) and {people} \
             person(s): move or remove them first, or delete it with cascade (everything \
             under it is deleted and its people lose those departments) or with moveTo \
             (its sub-departments and people move to that department)",
            d.display_name(),
            d.id
        ),
    ))
}

/// Deletes a department; what is under it is refused, moved or removed as
/// `mode` says. People are never deleted.
pub fn delete(
    conn: &mut DbConnection,
    id: &str,
    actor: &Actor,
    if_match: Option<&TagList>,
    mode: &RemoveMode,
) -> StoreResult<DepartmentRemoval> {
    lock_tree(conn)?;
    let current = get(conn, id)?;
    if let Some(tags) = if_match {
        tags.require(&current.meta)?;
    }
    let at = now();
    let mut log = Log::default();
    let mut removal = DepartmentRemoval::default();
    let this = vec![id.to_string()];
    let mut gone = vec![current.clone()];
    match mode {
        RemoveMode::Refuse => {
            // Held before counting: a user write naming it waits, then
            // finds it gone; one that named it first is counted.
            lock_row(conn, "departments", id)?;
            let children = children_of(conn, id)?.len();
            let people = user_org::people_naming(conn, &this)?;
            if children > 0 || people > 0 {
                return Err(still_holds(&current, children, people));
            }
        }
        RemoveMode::MoveTo(target) => {
            let target = brief_of(conn, target)?.ok_or_else(|| {
                rejected(ScimError::invalid_value(format!(
                    "moveTo \"{target}\" is not an existing Department"
                )))
            })?;
            if target.path.starts_with(current.path()) {
                return Err(rejected(ScimError::invalid_value(format!(
                    "cannot move what is under department \"{}\" ({}) to \"{}\" ({}): it is \
                     that department or inside it",
                    current.display_name(),
                    current.id,
                    target.display_name,
                    target.id
                ))));
            }
            let people = [Touched::Naming(&this), Touched::Under(current.path())];
            department_hold::hold(conn, current.path(), &people)?;
            for child in children_of(conn, id)? {
                reparent(conn, child, &target, at, &mut log)?;
                removal.moved_departments += 1;
            }
            removal.people = user_org::rewrite_users(
                conn,
                Touched::Naming(&this),
                |attrs| user_org::replace_department(attrs, &this, Some(&target)),
                at,
                &mut log,
            )?;
        }
        RemoveMode::Cascade => {
            gone.extend(descendants(conn, current.path())?);
            let ids: Vec<String> = gone.iter().map(|d| d.id.clone()).collect();
            department_hold::hold(conn, current.path(), &[Touched::Naming(&ids)])?;
            removal.people = user_org::rewrite_users(
                conn,
                Touched::Naming(&ids),
                |attrs| user_org::replace_department(attrs, &ids, None),
                at,
                &mut log,
            )?;
        }
    }
    // Deepest first: in path order reversed, every department comes before
    // its parent.
    gone.sort_by(|a, b| b.path().cmp(a.path()));
    let ids: Vec<String> = gone.iter().map(|d| d.id.clone()).collect();
    for chunk in ids.chunks(200) {
        diesel::delete(
            user_departments::table.filter(user_departments::department_id.eq_any(chunk)),
        )
        .execute(conn)?;
    }
    for d in &gone {
        diesel::delete(departments::table.find(&d.id)).execute(conn)?;
        log.push(
            RESOURCE_TYPE,
            d.id.clone(),
            Operation::Delete,
            d.meta.version + 1,
            Vec::new(),
        );
    }
    removal.removed = ids;
    log.flush(conn, actor, at)?;
    Ok(removal)
}

/// `root` and everything under it (every department when None), in path
/// order: each department comes after its parent.
pub fn subtree(conn: &mut DbConnection, root: Option<&str>) -> StoreResult<Vec<StoredDepartment>> {
    let rows: Vec<Row> = match root {
        None => departments::table
            .order(departments::path)
            .select(ROW)
            .load(conn)?,
        Some(id) => {
            let root = get(conn, id)?;
            let mut all = vec![root.clone()];
            all.extend(descendants(conn, root.path())?);
            return Ok(all);
        }
    };
    rows.into_iter().map(|r| load_row(conn, r, false)).collect()
}
