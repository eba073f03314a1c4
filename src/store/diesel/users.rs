//! Users: the JSON resource plus the indexed columns filters and sorts use.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::changelog::{self, Change, Operation};
use super::connection::{DbConnection, per_backend};
use super::schema::{user_emails, users};
use super::stamp::Stamp;
use super::{members, now, run, unique_violation, user_org, written};
use crate::scim::ScimError;
use crate::scim::etag::TagList;
use crate::scim::registry::{ENTERPRISE_USER_SCHEMA, ORGANIZATION_USER_SCHEMA};
use crate::scim::render::ResourceMeta;
use crate::store::{
    Actor, MemberKind, PasswordWrite, ResourceWrite, StoreError, StoreResult, StoredUser,
    StoredUserText, UserKey, WriteOp,
};

const RESOURCE_TYPE: &str = "User";

/// The searchable projection of a user's attributes. `*_lower` columns hold
/// Unicode lower-case values for attributes that are not case-exact.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
struct UserColumns {
    user_name: String,
    user_name_lower: String,
    external_id: Option<String>,
    display_name: Option<String>,
    display_name_lower: Option<String>,
    given_name_lower: Option<String>,
    family_name_lower: Option<String>,
    title_lower: Option<String>,
    active: bool,
    employee_number_lower: Option<String>,
    department_lower: Option<String>,
    cost_center_lower: Option<String>,
    manager_id: Option<String>,
    department_id: Option<String>,
    department_path: Option<String>,
    data: String,
    last_modified: NaiveDateTime,
    version: i64,
}

/// A whole new row.
#[derive(Insertable)]
#[diesel(table_name = users, treat_none_as_null = true)]
struct NewUserRow {
    id: String,
    created: NaiveDateTime,
    password_hash: Option<String>,
    #[diesel(embed)]
    cols: UserColumns,
}

/// The columns of an update that differ from the stored ones (None: keep),
/// so SQLite rewrites only the index entries of changed columns.
#[derive(AsChangeset, Default)]
#[diesel(table_name = users)]
struct ChangedColumns {
    user_name: Option<String>,
    user_name_lower: Option<String>,
    external_id: Option<Option<String>>,
    display_name: Option<Option<String>>,
    display_name_lower: Option<Option<String>>,
    given_name_lower: Option<Option<String>>,
    family_name_lower: Option<Option<String>>,
    title_lower: Option<Option<String>>,
    active: Option<bool>,
    employee_number_lower: Option<Option<String>>,
    department_lower: Option<Option<String>>,
    cost_center_lower: Option<Option<String>>,
    manager_id: Option<Option<String>>,
    department_id: Option<Option<String>>,
    department_path: Option<Option<String>>,
    data: Option<String>,
    last_modified: Option<NaiveDateTime>,
    version: Option<i64>,
    password_hash: Option<Option<String>>,
}

impl ChangedColumns {
    /// `new` where it differs from `old`; `data`, `last_modified` and
    /// `version` always.
    fn between(old: &UserColumns, new: UserColumns) -> Self {
        fn diff<T: PartialEq>(old: &T, new: T) -> Option<T> {
            (*old != new).then_some(new)
        }
        Self {
            user_name: diff(&old.user_name, new.user_name),
            user_name_lower: diff(&old.user_name_lower, new.user_name_lower),
            external_id: diff(&old.external_id, new.external_id),
            display_name: diff(&old.display_name, new.display_name),
            display_name_lower: diff(&old.display_name_lower, new.display_name_lower),
            given_name_lower: diff(&old.given_name_lower, new.given_name_lower),
            family_name_lower: diff(&old.family_name_lower, new.family_name_lower),
            title_lower: diff(&old.title_lower, new.title_lower),
            active: diff(&old.active, new.active),
            employee_number_lower: diff(&old.employee_number_lower, new.employee_number_lower),
            department_lower: diff(&old.department_lower, new.department_lower),
            cost_center_lower: diff(&old.cost_center_lower, new.cost_center_lower),
            manager_id: diff(&old.manager_id, new.manager_id),
            department_id: diff(&old.department_id, new.department_id),
            department_path: diff(&old.department_path, new.department_path),
            data: Some(new.data),
            last_modified: Some(new.last_modified),
            version: Some(new.version),
            password_hash: None,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = user_emails)]
struct EmailRow<'a> {
    user_id: &'a str,
    position: i32,
    value_lower: Option<String>,
    type_lower: Option<String>,
    is_primary: bool,
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn lower(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_lowercase)
}

fn columns(
    attrs: &Map<String, Value>,
    at: DateTime<Utc>,
    version: i64,
) -> StoreResult<UserColumns> {
    let data = serde_json::to_string(attrs).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    columns_with(attrs, data, at, version)
}

/// `columns` with `data` given (empty when only the indexed columns matter).
fn columns_with(
    attrs: &Map<String, Value>,
    data: String,
    at: DateTime<Utc>,
    version: i64,
) -> StoreResult<UserColumns> {
    let user_name = text(attrs.get("userName")).ok_or_else(|| {
        StoreError::Rejected(ScimError::invalid_value("attribute 'userName' is required"))
    })?;
    let name = attrs.get("name");
    let ext = attrs.get(ENTERPRISE_USER_SCHEMA);
    let ext_attr = |key: &str| ext.and_then(|e| e.get(key));
    let org = attrs.get(ORGANIZATION_USER_SCHEMA);
    let org_attr = |key: &str| org.and_then(|o| o.get(key));
    Ok(UserColumns {
        user_name_lower: user_name.to_lowercase(),
        user_name,
        external_id: text(attrs.get("externalId")),
        display_name: text(attrs.get("displayName")),
        display_name_lower: lower(attrs.get("displayName")),
        given_name_lower: lower(name.and_then(|n| n.get("givenName"))),
        family_name_lower: lower(name.and_then(|n| n.get("familyName"))),
        title_lower: lower(attrs.get("title")),
        active: attrs.get("active").and_then(Value::as_bool).unwrap_or(true),
        employee_number_lower: lower(ext_attr("employeeNumber")),
        department_lower: lower(ext_attr("department")),
        cost_center_lower: lower(ext_attr("costCenter")),
        manager_id: lower(ext_attr("manager").and_then(|m| m.get("value"))),
        department_id: text(org_attr("primaryDepartment").and_then(|p| p.get("value"))),
        department_path: text(org_attr("departmentPath")),
        data,
        last_modified: at.naive_utc(),
        version,
    })
}

/// The `user_emails` rows of a user's `emails` (a new user has none to
/// delete first).
fn write_emails(
    conn: &mut DbConnection,
    id: &str,
    attrs: &Map<String, Value>,
    replacing: bool,
) -> StoreResult<()> {
    if replacing {
        run::execute(
            conn,
            diesel::delete(user_emails::table.filter(user_emails::user_id.eq(id))),
        )?;
    }
    let Some(Value::Array(emails)) = attrs.get("emails") else {
        return Ok(());
    };
    let rows: Vec<EmailRow<'_>> = emails
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            Some(EmailRow {
                user_id: id,
                position: i32::try_from(i).ok()?,
                value_lower: lower(e.get("value")),
                type_lower: lower(e.get("type")),
                is_primary: e.get("primary").and_then(Value::as_bool).unwrap_or(false),
            })
        })
        .collect();
    match rows.as_slice() {
        [] => {}
        [one] => {
            run::execute(conn, diesel::insert_into(user_emails::table).values(one))?;
        }
        _ => {
            per_backend!(conn, c => diesel::insert_into(user_emails::table).values(&rows).execute(c))?;
        }
    }
    Ok(())
}

/// The enterprise `manager.value`, if the user names a manager.
pub fn manager_of(attrs: &Map<String, Value>) -> Option<&str> {
    attrs
        .get(ENTERPRISE_USER_SCHEMA)?
        .get("manager")?
        .get("value")?
        .as_str()
}

pub fn unknown_manager(value: &str) -> ScimError {
    ScimError::invalid_value(format!("manager \"{value}\" is not an existing User"))
}

/// A manager the write names must be an existing User, checked in the write
/// transaction as group members are (`members::resolve`). A manager the
/// user already had is not checked again, so a user whose manager was
/// deleted can still be changed.
fn check_manager(
    conn: &mut DbConnection,
    before: Option<&Map<String, Value>>,
    after: &Map<String, Value>,
) -> StoreResult<()> {
    let Some(manager) = manager_of(after) else {
        return Ok(());
    };
    if before.and_then(manager_of) == Some(manager) {
        return Ok(());
    }
    if members::existing_ids(conn, MemberKind::User, &[manager])?.is_empty() {
        return Err(unknown_manager(manager).into());
    }
    Ok(())
}

pub fn taken(user_name: &str) -> StoreError {
    StoreError::Rejected(ScimError::uniqueness(format!(
        "userName \"{user_name}\" is already taken (userName is unique, ignoring case)"
    )))
}

type UserRow = super::query::Row;

/// A row as a user; `with_groups: false` skips deriving `groups`.
pub fn load_row(
    conn: &mut DbConnection,
    row: UserRow,
    with_groups: bool,
) -> StoreResult<StoredUser> {
    load_text(conn, row, with_groups)?.parse()
}

/// A row as a user whose attributes stay JSON text.
fn load_text(
    conn: &mut DbConnection,
    row: UserRow,
    with_groups: bool,
) -> StoreResult<StoredUserText> {
    let (id, data, created, last_modified, version) = row;
    let groups = if with_groups {
        members::groups_of(conn, &id)?
    } else {
        Vec::new()
    };
    Ok(StoredUserText {
        data,
        meta: ResourceMeta {
            created: created.and_utc(),
            last_modified: last_modified.and_utc(),
            version,
        },
        groups,
        id,
    })
}

pub const ROW: (
    users::id,
    users::data,
    users::created,
    users::last_modified,
    users::version,
) = (
    users::id,
    users::data,
    users::created,
    users::last_modified,
    users::version,
);

pub fn get_with(conn: &mut DbConnection, id: &str, with_groups: bool) -> StoreResult<StoredUser> {
    get_text(conn, UserKey::Id(id), with_groups)?.parse()
}

/// A user with its attributes as the stored JSON text (for reads that only render).
pub fn get_text(
    conn: &mut DbConnection,
    key: UserKey<'_>,
    with_groups: bool,
) -> StoreResult<StoredUserText> {
    type TextRow = (String, String, Stamp, Stamp, i64);
    let row: Option<TextRow> = match key {
        UserKey::Id(id) => run::get_result(conn, users::table.find(id).select(ROW)),
        UserKey::UserNameLower(name) => run::get_result(
            conn,
            users::table
                .filter(users::user_name_lower.eq(name))
                .select(ROW),
        ),
    }
    .optional()?;
    let (id, data, Stamp(created), Stamp(last_modified), version) =
        row.ok_or(StoreError::NotFound)?;
    load_text(
        conn,
        (id, data, created, last_modified, version),
        with_groups,
    )
}

pub fn create(
    conn: &mut DbConnection,
    id: &str,
    mut write: ResourceWrite,
    actor: &Actor,
) -> StoreResult<StoredUserText> {
    user_org::derive(conn, None, &mut write.attributes)?;
    let mut names = changelog::changed_names(None, &write.attributes);
    if matches!(write.password, PasswordWrite::Set(_)) {
        names.push("password".into());
    }
    let at = now();
    let cols = columns(&write.attributes, at, 1)?;
    let user_name = cols.user_name.clone();
    let row = NewUserRow {
        id: id.to_string(),
        created: at.naive_utc(),
        password_hash: match write.password {
            PasswordWrite::Set(hash) => Some(hash),
            PasswordWrite::Keep => None,
        },
        cols,
    };
    // The unique index is the userName check: a taken name fails the insert
    // (and the write's savepoint or transaction undoes nothing else).
    run::execute(conn, diesel::insert_into(users::table).values(&row))
        .map_err(|e| unique_violation(e, || taken(&user_name)))?;
    check_manager(conn, None, &write.attributes)?;
    write_emails(conn, id, &write.attributes, false)?;
    user_org::write_links(conn, id, &write.attributes, false)?;
    let active = changelog::active_change(&names, &write.attributes);
    let change = Change::new(RESOURCE_TYPE, id, Operation::Create, 1, at, actor, names);
    changelog::append(conn, Change { active, ..change })?;
    // What was just stored, without reading it back: a new user is in no
    // group yet.
    Ok(StoredUserText {
        id: row.id,
        data: row.cols.data,
        meta: ResourceMeta {
            created: at,
            last_modified: at,
            version: 1,
        },
        groups: Vec::new(),
    })
}

/// Inserts many new users in the caller's transaction (seeding, bulk
/// imports): batched statements, change-log rows included. The caller has
/// checked names and managers (`create_users`); seeding trusts its input.
pub fn insert_many(
    conn: &mut DbConnection,
    new: Vec<(String, ResourceWrite)>,
    actor: &Actor,
) -> StoreResult<DateTime<Utc>> {
    let at = now();
    let mut rows = Vec::with_capacity(new.len());
    let mut emails: Vec<(String, Map<String, Value>)> = Vec::new();
    for (id, write) in new {
        let cols = columns(&write.attributes, at, 1)?;
        let password_hash = match write.password {
            PasswordWrite::Set(hash) => Some(hash),
            PasswordWrite::Keep => None,
        };
        emails.push((id.clone(), write.attributes));
        rows.push(NewUserRow {
            id,
            created: at.naive_utc(),
            password_hash,
            cols,
        });
    }
    for chunk in rows.chunks(200) {
        per_backend!(conn, c => diesel::insert_into(users::table).values(chunk).execute(c))
            .map_err(|e| unique_violation(e, || taken("(one of the batch)")))?;
    }
    let mut email_rows = Vec::new();
    for (id, attrs) in &emails {
        if let Some(Value::Array(list)) = attrs.get("emails") {
            for (i, e) in list.iter().enumerate() {
                email_rows.push(EmailRow {
                    user_id: id,
                    position: i32::try_from(i).unwrap_or(i32::MAX),
                    value_lower: lower(e.get("value")),
                    type_lower: lower(e.get("type")),
                    is_primary: e.get("primary").and_then(Value::as_bool).unwrap_or(false),
                });
            }
        }
    }
    for chunk in email_rows.chunks(500) {
        per_backend!(conn, c => diesel::insert_into(user_emails::table).values(chunk).execute(c))?;
    }
    user_org::insert_links(conn, &emails)?;
    let changes: Vec<Change<'_>> = emails
        .iter()
        .map(|(id, attrs)| {
            let names = changelog::changed_names(None, attrs);
            let active = changelog::active_change(&names, attrs);
            let row = Change::new(RESOURCE_TYPE, id, Operation::Create, 1, at, actor, names);
            Change { active, ..row }
        })
        .collect();
    changelog::append_many(conn, &changes)?;

    Ok(at)
}

/// Of these user names (already lower-cased), the ones taken in the store.
pub fn taken_names(
    conn: &mut DbConnection,
    lower_names: &[String],
) -> StoreResult<std::collections::HashSet<String>> {
    let mut taken = std::collections::HashSet::new();
    for chunk in lower_names.chunks(500) {
        let rows: Vec<String> = users::table
            .filter(users::user_name_lower.eq_any(chunk))
            .select(users::user_name_lower)
            .load(conn)?;
        taken.extend(rows);
    }
    Ok(taken)
}

pub fn replace(
    conn: &mut DbConnection,
    id: &str,
    rewrite: crate::store::Rewrite<'_, StoredUser>,
    actor: &Actor,
    op: WriteOp,
) -> StoreResult<StoredUserText> {
    let current = written::locked(conn, "users", id, None, |c| get_with(c, id, false))?;
    let mut write = rewrite(&current)?;
    user_org::derive(conn, Some(&current.attributes), &mut write.attributes)?;
    let mut names = changelog::changed_names(Some(&current.attributes), &write.attributes);
    if matches!(write.password, PasswordWrite::Set(_)) {
        names.push("password".into());
    }
    // A write that changes nothing keeps the version (no ETag churn, nothing to sync).
    if names.is_empty() {
        return get_text(conn, UserKey::Id(id), true);
    }
    let at = now();
    let version = current.meta.version + 1;
    let stored = columns_with(
        &current.attributes,
        String::new(),
        current.meta.last_modified,
        current.meta.version,
    )?;
    let cols = columns(&write.attributes, at, version)?;
    let user_name = cols.user_name.clone();
    let mut changed = ChangedColumns::between(&stored, cols);
    if let PasswordWrite::Set(hash) = write.password {
        changed.password_hash = Some(Some(hash));
    }
    // The unique index is the userName check, as in `create`.
    run::execute(conn, diesel::update(users::table.find(id)).set(&changed))
        .map_err(|e| unique_violation(e, || taken(&user_name)))?;
    check_manager(conn, Some(&current.attributes), &write.attributes)?;
    if names.iter().any(|n| n == "emails") {
        write_emails(conn, id, &write.attributes, true)?;
    }
    if names.iter().any(|n| user_org::names_links(n)) {
        user_org::write_links(conn, id, &write.attributes, true)?;
    }
    let active = changelog::active_change(&names, &write.attributes);
    let row = Change::new(RESOURCE_TYPE, id, op.into(), version, at, actor, names);
    changelog::append(conn, Change { active, ..row })?;
    // What was just stored, without reading it back; only the derived
    // `groups` are read.
    Ok(StoredUserText {
        groups: members::groups_of(conn, id)?,
        id: id.to_string(),
        data: changed.data.unwrap_or_default(),
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
    let current = written::locked(conn, "users", id, if_match, |c| get_with(c, id, false))?;
    let at = now();
    members::remove_member_everywhere(conn, id, actor, at)?;
    diesel::delete(user_emails::table.filter(user_emails::user_id.eq(id))).execute(conn)?;
    user_org::delete_links(conn, id)?;
    diesel::delete(users::table.find(id)).execute(conn)?;
    written::log_deleted(conn, RESOURCE_TYPE, id, &current, at, actor)
}

/// A user's attributes rewritten by a change elsewhere (its department
/// renamed, moved or removed), to store as `version`.
pub struct Restamp {
    pub id: String,
    pub attributes: Map<String, Value>,
    pub version: i64,
}

/// Rows per batched statement of `restamp_many` (6 parameters each).
const RESTAMP_CHUNK: usize = 200;

/// Stores users rewritten by a department change: their `data`, the next
/// version and the columns such a change can move (department id and
/// path, the enterprise department), in one statement per 200 users, so a
/// move costs the same few statements for 10 people or 1,000. The caller
/// holds the rows (`user_org`) and logs the changes.
pub fn restamp_many(
    conn: &mut DbConnection,
    batch: &[Restamp],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
    for chunk in batch.chunks(RESTAMP_CHUNK) {
        let cols: Vec<(&str, UserColumns)> = chunk
            .iter()
            .map(|r| Ok((r.id.as_str(), columns(&r.attributes, at, r.version)?)))
            .collect::<StoreResult<_>>()?;
        let pg = matches!(conn, DbConnection::Pg(_));
        // Numbered parameters: `$N` on PostgreSQL, `?N` on SQLite.
        let mark = if pg { "$" } else { "?" };
        let mut n = 1;
        let mut next = || {
            n += 1;
            format!("{mark}{n}")
        };
        let rows: Vec<String> = cols
            .iter()
            .map(|_| {
                let p: Vec<String> = (0..6).map(|_| next()).collect();
                let version = if pg {
                    format!("{}::bigint", p[5])
                } else {
                    p[5].clone()
                };
                format!(
                    "({}, {}, {}, {}, {}, {version})",
                    p[0], p[1], p[2], p[3], p[4]
                )
            })
            .collect();
        let first = format!("{mark}1");
        let sql = format!(
            "WITH v (id, department_id, department_path, department_lower, data, version) AS \
             (VALUES {}) UPDATE users SET department_id = v.department_id, \
             department_path = v.department_path, department_lower = v.department_lower, \
             data = v.data, version = v.version, last_modified = {first} FROM v \
             WHERE users.id = v.id",
            rows.join(", ")
        );
        macro_rules! bound {
            ($backend:ty, $c:expr) => {{
                let mut q = diesel::sql_query(sql.as_str())
                    .into_boxed::<$backend>()
                    .bind::<Timestamp, _>(at.naive_utc());
                for (id, c) in &cols {
                    q = q
                        .bind::<Text, _>(*id)
                        .bind::<Nullable<Text>, _>(c.department_id.as_deref())
                        .bind::<Nullable<Text>, _>(c.department_path.as_deref())
                        .bind::<Nullable<Text>, _>(c.department_lower.as_deref())
                        .bind::<Text, _>(c.data.as_str())
                        .bind::<BigInt, _>(c.version);
                }
                q.execute($c)?
            }};
        }
        match conn {
            DbConnection::Sqlite(c) => bound!(diesel::sqlite::Sqlite, c),
            DbConnection::Pg(c) => bound!(diesel::pg::Pg, c),
        };
    }
    Ok(())
}
