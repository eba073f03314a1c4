//! A user's organization extension: the departments it names are checked
//! and their `display`, the primary one's `departmentPath` and the
//! enterprise `department` string are derived in the write transaction;
//! further departments are rows in `user_departments`. Department writes
//! that change what users show (a rename, a move, a removal) rewrite those
//! users through `locked_users` and the pure edits below.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use super::changelog::Operation;
use super::connection::{DbConnection, per_backend};
use super::department_log::Log;
use super::departments::{self, Brief};
use super::filter_sql::prefix_end;
use super::schema::{user_departments, users};
use super::{parse_data, run, users as user_rows};
use crate::scim::ScimError;
use crate::scim::registry::{ENTERPRISE_USER_SCHEMA, ORGANIZATION_USER_SCHEMA as ORG};
use crate::store::{StoreError, StoreResult};

use crate::store::model::org::{FURTHER, PATH, PRIMARY, value_of};
pub use crate::store::model::org::{further as further_of, primary as primary_of};
const DEPARTMENT: &str = "department";

pub fn unknown_department(id: &str) -> StoreError {
    StoreError::Rejected(ScimError::invalid_value(format!(
        "department \"{id}\" is not an existing Department"
    )))
}

/// Checks the departments a user write names and fills in what is derived
/// from them (`before`: the user as it was). The enterprise `department`
/// string becomes the primary department's name when the write sets or
/// changes the primary department; otherwise it stays as written.
pub fn derive(
    conn: &mut DbConnection,
    before: Option<&Map<String, Value>>,
    attrs: &mut Map<String, Value>,
) -> StoreResult<()> {
    if !attrs.contains_key(ORG) {
        return Ok(());
    }
    let primary = primary_of(attrs).map(str::to_string);
    let moved = before.and_then(primary_of) != primary.as_deref();
    let further: Vec<String> = further_of(attrs).into_iter().map(str::to_string).collect();
    let wanted: Vec<&str> = primary.iter().chain(&further).map(String::as_str).collect();
    let known = departments::briefs(conn, &wanted, true)?;
    if let Some(missing) = wanted.iter().find(|id| !known.contains_key(**id)) {
        return Err(unknown_department(missing));
    }
    let department = primary.as_deref().and_then(|id| known.get(id));
    match department {
        Some(d) if !moved => set_reference(attrs, d),
        _ => set_primary(attrs, department),
    }
    let mut seen = Vec::new();
    let further: Vec<Value> = further
        .iter()
        .filter(|id| {
            let first = !seen.contains(id);
            seen.push(*id);
            first
        })
        .filter_map(|id| known.get(id))
        .map(reference)
        .collect();
    if let Some(Value::Object(org)) = attrs.get_mut(ORG) {
        if further.is_empty() {
            org.remove(FURTHER);
        } else {
            org.insert(FURTHER.into(), Value::Array(further));
        }
    }
    drop_empty(attrs);
    Ok(())
}

fn reference(d: &Brief) -> Value {
    json!({"value": d.id, "display": d.display_name})
}

fn drop_empty(attrs: &mut Map<String, Value>) {
    if attrs
        .get(ORG)
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty)
    {
        attrs.remove(ORG);
    }
}

/// Makes `department` the user's primary department (its display, path and
/// the enterprise `department` string), or, with None, takes the primary
/// department and what was derived from it away.
pub fn set_primary(attrs: &mut Map<String, Value>, department: Option<&Brief>) {
    if let Some(d) = department {
        set_reference(attrs, d);
        let enterprise = attrs
            .entry(ENTERPRISE_USER_SCHEMA)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(e) = enterprise {
            e.insert(DEPARTMENT.into(), Value::String(d.display_name.clone()));
        }
        return;
    }
    let org = attrs
        .entry(ORG)
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(org) = org else {
        return;
    };
    let had = org.remove(PRIMARY).is_some();
    org.remove(PATH);
    if had && let Some(Value::Object(e)) = attrs.get_mut(ENTERPRISE_USER_SCHEMA) {
        e.remove(DEPARTMENT);
        if e.is_empty() {
            attrs.remove(ENTERPRISE_USER_SCHEMA);
        }
    }
    drop_empty(attrs);
}

/// The primary department's reference and path, the `department` string
/// left as it is.
fn set_reference(attrs: &mut Map<String, Value>, department: &Brief) {
    let org = attrs
        .entry(ORG)
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(org) = org {
        org.insert(PRIMARY.into(), reference(department));
        org.insert(PATH.into(), Value::String(department.path.clone()));
    }
}

/// A department renamed: its `display` wherever the user names it (and the
/// `department` string when it is the primary one).
pub fn rename(attrs: &mut Map<String, Value>, department: &Brief) {
    if primary_of(attrs) == Some(department.id.as_str()) {
        set_primary(attrs, Some(department));
    }
    if let Some(Value::Array(items)) = attrs.get_mut(ORG).and_then(|o| o.get_mut(FURTHER)) {
        for item in items.iter_mut() {
            if value_of(item) == Some(department.id.as_str()) {
                *item = reference(department);
            }
        }
    }
}

/// The primary department's subtree moved from `old` to `new` (paths).
pub fn repath(attrs: &mut Map<String, Value>, old: &str, new: &str) {
    if let Some(Value::Object(org)) = attrs.get_mut(ORG)
        && let Some(rest) = org
            .get(PATH)
            .and_then(Value::as_str)
            .and_then(|p| p.strip_prefix(old))
    {
        let moved = format!("{new}{rest}");
        org.insert(PATH.into(), Value::String(moved));
    }
}

/// A department is going away: where the user names it, it names `to`
/// instead (None: names nothing there).
pub fn replace_department(attrs: &mut Map<String, Value>, gone: &[String], to: Option<&Brief>) {
    if primary_of(attrs).is_some_and(|p| gone.iter().any(|g| g == p)) {
        set_primary(attrs, to);
    }
    if let Some(Value::Array(items)) = attrs.get_mut(ORG).and_then(|o| o.get_mut(FURTHER)) {
        let mut kept: Vec<Value> = Vec::with_capacity(items.len());
        for item in items.drain(..) {
            let item = match value_of(&item) {
                Some(id) if gone.iter().any(|g| g == id) => match to {
                    Some(to) => reference(to),
                    None => continue,
                },
                _ => item,
            };
            if !kept.iter().any(|k| value_of(k) == value_of(&item)) {
                kept.push(item);
            }
        }
        *items = kept;
    }
    if let Some(Value::Object(org)) = attrs.get_mut(ORG)
        && org
            .get(FURTHER)
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
    {
        org.remove(FURTHER);
    }
    drop_empty(attrs);
}

/// Whether a changed attribute name covers the further departments (whose
/// rows must then be rewritten): the whole extension or `departments`.
pub fn names_links(name: &str) -> bool {
    match name.strip_prefix(ORG) {
        Some("") => true,
        Some(rest) => rest.strip_prefix(':') == Some(FURTHER),
        None => false,
    }
}

#[derive(Insertable)]
#[diesel(table_name = user_departments)]
struct Link<'a> {
    user_id: &'a str,
    department_id: &'a str,
}

/// The `user_departments` rows of a user's further departments.
pub fn write_links(
    conn: &mut DbConnection,
    user_id: &str,
    attrs: &Map<String, Value>,
    replacing: bool,
) -> StoreResult<()> {
    if replacing {
        delete_links(conn, user_id)?;
    }
    let rows: Vec<Link<'_>> = further_of(attrs)
        .into_iter()
        .map(|department_id| Link {
            user_id,
            department_id,
        })
        .collect();
    if !rows.is_empty() {
        per_backend!(conn, c => diesel::insert_into(user_departments::table).values(&rows).execute(c))?;
    }
    Ok(())
}

/// The link rows of many new users (seeding, bulk imports).
pub fn insert_links(
    conn: &mut DbConnection,
    new: &[(String, Map<String, Value>)],
) -> StoreResult<()> {
    let rows: Vec<Link<'_>> = new
        .iter()
        .flat_map(|(user_id, attrs)| {
            further_of(attrs).into_iter().map(|department_id| Link {
                user_id,
                department_id,
            })
        })
        .collect();
    for chunk in rows.chunks(500) {
        per_backend!(conn, c => diesel::insert_into(user_departments::table).values(chunk).execute(c))?;
    }
    Ok(())
}

pub fn delete_links(conn: &mut DbConnection, user_id: &str) -> StoreResult<()> {
    run::execute(
        conn,
        diesel::delete(user_departments::table.filter(user_departments::user_id.eq(user_id))),
    )?;
    Ok(())
}

/// Which users a department change touches.
pub enum Touched<'a> {
    /// Users whose primary department is at or under this path.
    Under(&'a str),
    /// Users naming one of these departments (primary or further).
    Naming(&'a [String]),
}

type UserState = (String, String, i64);

/// Locks the touched users on PostgreSQL without waiting: fails with
/// "could not obtain lock" when a user write holds one (`department_hold`
/// then lets go and tries again).
pub fn lock_users_nowait(conn: &mut DbConnection, touched: &Touched<'_>) -> StoreResult<()> {
    let DbConnection::Pg(c) = conn else {
        return Ok(());
    };
    match touched {
        Touched::Under(path) => {
            let Some(end) = prefix_end(path) else {
                return Ok(());
            };
            users::table
                .filter(users::department_path.ge(*path))
                .filter(users::department_path.lt(end))
                .select(users::id)
                .for_update()
                .no_wait()
                .load::<String>(c)?;
        }
        Touched::Naming(ids) => {
            for chunk in ids.chunks(200) {
                let linked = user_departments::table
                    .filter(user_departments::department_id.eq_any(chunk))
                    .select(user_departments::user_id);
                users::table
                    .filter(
                        users::department_id
                            .eq_any(chunk)
                            .or(users::id.eq_any(linked)),
                    )
                    .select(users::id)
                    .for_update()
                    .no_wait()
                    .load::<String>(c)?;
            }
        }
    }
    Ok(())
}

/// (id, data, version) of the touched users, by id, locked for the rest of
/// the transaction on PostgreSQL (SQLite's write transaction is exclusive).
fn locked_users(conn: &mut DbConnection, touched: &Touched<'_>) -> StoreResult<Vec<UserState>> {
    let columns = (users::id, users::data, users::version);
    macro_rules! locked {
        ($query:expr) => {
            match conn {
                DbConnection::Sqlite(c) => $query.load::<UserState>(c)?,
                DbConnection::Pg(c) => $query.for_update().load::<UserState>(c)?,
            }
        };
    }
    Ok(match touched {
        Touched::Under(path) => {
            let Some(end) = prefix_end(path) else {
                return Ok(Vec::new());
            };
            locked!(
                users::table
                    .filter(users::department_path.ge(*path))
                    .filter(users::department_path.lt(end.clone()))
                    .select(columns)
                    .order(users::id)
            )
        }
        Touched::Naming(ids) => {
            let mut found = Vec::new();
            for chunk in ids.chunks(200) {
                let linked = user_departments::table
                    .filter(user_departments::department_id.eq_any(chunk))
                    .select(user_departments::user_id);
                found.extend(locked!(
                    users::table
                        .filter(
                            users::department_id
                                .eq_any(chunk)
                                .or(users::id.eq_any(linked))
                        )
                        .select(columns)
                        .order(users::id)
                ));
            }
            found.sort_by(|a, b| a.0.cmp(&b.0));
            found.dedup_by(|a, b| a.0 == b.0);
            found
        }
    })
}

/// Rewrites every touched user with `edit`; each one whose attributes
/// changed gets the next version and a change-log entry in `log`.
/// Answers how many changed.
pub fn rewrite_users(
    conn: &mut DbConnection,
    touched: Touched<'_>,
    mut edit: impl FnMut(&mut Map<String, Value>),
    at: DateTime<Utc>,
    log: &mut Log,
) -> StoreResult<u64> {
    let mut batch = Vec::new();
    let mut relinked = Vec::new();
    for (id, data, version) in locked_users(conn, &touched)? {
        let old = parse_data(&data)?;
        let mut new = old.clone();
        edit(&mut new);
        let names = super::changelog::changed_names(Some(&old), &new);
        if names.is_empty() {
            continue;
        }
        if names.iter().any(|n| names_links(n)) {
            relinked.push(batch.len());
        }
        log.push("User", id.clone(), Operation::Update, version + 1, names);
        batch.push(user_rows::Restamp {
            id,
            attributes: new,
            version: version + 1,
        });
    }
    user_rows::restamp_many(conn, &batch, at)?;
    for i in relinked {
        write_links(conn, &batch[i].id, &batch[i].attributes, true)?;
    }
    Ok(batch.len() as u64)
}

/// How many people name each of these departments (primary or further).
pub fn people_naming(conn: &mut DbConnection, ids: &[String]) -> StoreResult<u64> {
    let mut total = 0;
    for chunk in ids.chunks(200) {
        let linked = user_departments::table
            .filter(user_departments::department_id.eq_any(chunk))
            .select(user_departments::user_id);
        let n: i64 = users::table
            .filter(
                users::department_id
                    .eq_any(chunk)
                    .or(users::id.eq_any(linked)),
            )
            .count()
            .get_result(conn)?;
        total += u64::try_from(n).unwrap_or(0);
    }
    Ok(total)
}

/// How many people have each department as their primary one.
pub fn head_counts(conn: &mut DbConnection) -> StoreResult<HashMap<String, u64>> {
    let rows: Vec<(Option<String>, i64)> = users::table
        .filter(users::department_id.is_not_null())
        .group_by(users::department_id)
        .select((users::department_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, n)| Some((id?, u64::try_from(n).ok()?)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brief(id: &str, name: &str, path: &str) -> Brief {
        Brief {
            id: id.into(),
            display_name: name.into(),
            path: path.into(),
        }
    }

    fn attrs(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn primary_department_sets_display_path_and_department_string() {
        let mut a = attrs(json!({"userName": "a", ORG: {PRIMARY: {"value": "d"}}}));
        set_primary(&mut a, Some(&brief("d", "R&D", "/r/d/")));
        assert_eq!(
            Value::Object(a.clone()),
            json!({"userName": "a",
                ORG: {PRIMARY: {"value": "d", "display": "R&D"}, PATH: "/r/d/"},
                ENTERPRISE_USER_SCHEMA: {"department": "R&D"}})
        );
        rename(&mut a, &brief("d", "Research", "/r/d/"));
        assert_eq!(a[ENTERPRISE_USER_SCHEMA]["department"], "Research");
        repath(&mut a, "/r/", "/x/r/");
        assert_eq!(a[ORG][PATH], "/x/r/d/");
        set_primary(&mut a, None);
        assert_eq!(Value::Object(a), json!({"userName": "a"}));
    }

    #[test]
    fn a_department_going_away_is_replaced_or_dropped() {
        let base = attrs(json!({"userName": "a", ORG: {
            PRIMARY: {"value": "d", "display": "D"}, PATH: "/d/",
            FURTHER: [{"value": "d", "display": "D"}, {"value": "e", "display": "E"}]}}));
        let mut moved = base.clone();
        replace_department(&mut moved, &["d".into()], Some(&brief("t", "T", "/t/")));
        assert_eq!(moved[ORG][PRIMARY], json!({"value": "t", "display": "T"}));
        assert_eq!(
            moved[ORG][FURTHER],
            json!([{"value": "t", "display": "T"}, {"value": "e", "display": "E"}])
        );
        let mut dropped = base;
        replace_department(&mut dropped, &["d".into(), "e".into()], None);
        assert_eq!(Value::Object(dropped), json!({"userName": "a"}));
    }
}
