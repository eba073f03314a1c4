//! The SQL database connector: accounts are rows of a table in PostgreSQL
//! or SQLite (a system without an API of its own), groups rows of another
//! table with their members in a membership table. The mapping's output
//! names columns. Creates are upserts by the key column; every change is
//! one transaction; deletes are row deletes or, with a `deleted_column`,
//! soft deletes.

mod db;
pub mod settings;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use self::db::{Column, Db, Param, param, quoted};
pub use self::settings::{MembershipSettings, SqlSettings, TableSettings};
use super::{Capabilities, Connector, ConnectorError, manager_field};
use crate::blocking::blocking;
use crate::provision::plan::MatchKey;
use crate::scim::ResourceKind;

/// Most member changes written in one transaction.
const MEMBER_BATCH: usize = 1000;

pub struct SqlConnector {
    url: String,
    credentials: Option<(String, String)>,
    settings: SqlSettings,
    /// One connection, opened on first use and again after it failed.
    db: Arc<Mutex<Option<Open>>>,
}

/// A connection and the columns of the tables it has looked at.
struct Open {
    db: Db,
    columns: HashMap<String, HashMap<String, Column>>,
}

impl Open {
    fn columns(&mut self, table: &str) -> Result<HashMap<String, Column>, ConnectorError> {
        if let Some(c) = self.columns.get(table) {
            return Ok(c.clone());
        }
        let found = self.db.columns(table)?;
        if found.is_empty() {
            return Err(ConnectorError::Rejected {
                status: 404,
                scim_type: None,
                detail: format!("the database has no table {table}"),
                http: false,
            });
        }
        self.columns.insert(table.to_string(), found.clone());
        Ok(found)
    }
}

impl SqlConnector {
    pub fn new(url: &str, credentials: Option<(String, String)>, settings: SqlSettings) -> Self {
        Self {
            url: url.to_string(),
            credentials,
            settings,
            db: Arc::new(Mutex::new(None)),
        }
    }

    /// Runs `work` on the blocking pool with the open connection; a
    /// connection that failed is dropped so the next call reconnects.
    async fn with_db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Open, &SqlSettings) -> Result<T, ConnectorError> + Send + 'static,
    ) -> Result<T, ConnectorError> {
        let (shared, url, settings) = (self.db.clone(), self.url.clone(), self.settings.clone());
        let credentials = self.credentials.clone();
        blocking(move || {
            let mut slot = shared.lock().unwrap_or_else(PoisonError::into_inner);
            if slot.is_none() {
                let creds = credentials.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
                *slot = Some(Open {
                    db: Db::open(&url, creds)?,
                    columns: HashMap::new(),
                });
            }
            let Some(open) = slot.as_mut() else {
                return Err(ConnectorError::Protocol("no database connection".into()));
            };
            let result = work(open, &settings);
            if matches!(result, Err(ConnectorError::Unavailable { .. })) {
                *slot = None;
            }
            result
        })
        .await
    }
}

fn table(settings: &SqlSettings, kind: ResourceKind) -> Result<&TableSettings, ConnectorError> {
    match kind {
        ResourceKind::User => Ok(&settings.users),
        ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
            settings.groups.as_ref().ok_or_else(|| {
                ConnectorError::Config("this SQL target has no groups table (sql.groups)".into())
            })
        }
    }
}

fn memberships(settings: &SqlSettings) -> Result<&MembershipSettings, ConnectorError> {
    settings.memberships.as_ref().ok_or_else(|| {
        ConnectorError::Config("this SQL target has no membership table (sql.memberships)".into())
    })
}

/// The WHERE clause that hides soft-deleted rows (and nothing when there is none).
fn live(t: &TableSettings) -> String {
    t.deleted_column
        .as_ref()
        .map(|c| format!("{} IS NULL", quoted(c)))
        .unwrap_or_default()
}

fn and(a: String, b: String) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b,
        (_, true) => a,
        _ => format!("{a} AND {b}"),
    }
}

fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A row as the engines see it: the columns plus `id`; a group also lists its members.
fn object(mut row: Map<String, Value>, t: &TableSettings) -> Option<Value> {
    let id = row.get(&t.id_column).and_then(id_text)?;
    row.insert("id".into(), Value::String(id));
    let mut object = Value::Object(row);
    manager_field::incoming(&mut object, t.manager_column.as_deref());
    Some(object)
}

/// The mapped object's columns that the table has (`id` stands for the key column).
fn values(
    object: &Value,
    t: &TableSettings,
    columns: &HashMap<String, Column>,
    only: Option<&[String]>,
) -> Result<Vec<(String, Value)>, ConnectorError> {
    let mut out = Vec::new();
    let object = match &t.manager_column {
        Some(column) => manager_field::outgoing(object, Some(column)),
        None => object.clone(),
    };
    for (key, value) in object.as_object().into_iter().flatten() {
        if key == "id" || key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let named = |n: &String| {
            n == key || (Some(key) == t.manager_column.as_ref() && n.starts_with("urn:"))
        };
        if only.is_some_and(|o| !o.iter().any(named)) {
            continue;
        }
        if !columns.contains_key(key) {
            return Err(ConnectorError::Rejected {
                status: 400,
                scim_type: Some("invalidValue".into()),
                detail: format!("the table {} has no column {key:?}", t.table),
                http: false,
            });
        }
        out.push((key.clone(), value.clone()));
    }
    Ok(out)
}

fn select(
    open: &mut Open,
    t: &TableSettings,
    where_sql: String,
    params: &[Param],
) -> Result<Vec<Value>, ConnectorError> {
    let columns = open.columns(&t.table)?;
    let clause = and(live(t), where_sql);
    Ok(open
        .db
        .rows(&t.table, &columns, &clause, params)?
        .into_iter()
        .filter_map(|row| object(row, t))
        .collect())
}

fn members_of(
    open: &mut Open,
    m: &MembershipSettings,
    group_id: &str,
) -> Result<Vec<Value>, ConnectorError> {
    let columns = open.columns(&m.table)?;
    let clause = format!("{} = {}", quoted(&m.group_column), open.db.param(1));
    let rows = open
        .db
        .rows(&m.table, &columns, &clause, &[Some(group_id.to_string())])?;
    Ok(rows
        .iter()
        .filter_map(|r| r.get(&m.member_column).and_then(id_text))
        .map(|id| json!({"value": id}))
        .collect())
}

/// `UPDATE table SET … WHERE key = id`; a row that is not there is a 404.
fn update_row(
    open: &mut Open,
    t: &TableSettings,
    id: &str,
    set: Vec<(String, Value)>,
) -> Result<(), ConnectorError> {
    if set.is_empty() {
        return Ok(());
    }
    let columns = open.columns(&t.table)?;
    let sqlite = open.db.is_sqlite();
    let mut params: Vec<Param> = Vec::new();
    let mut assignments = Vec::new();
    for (n, (column, value)) in set.iter().enumerate() {
        let placeholder = open.db.typed_placeholder(n + 1, columns.get(column));
        assignments.push(format!("{} = {placeholder}", quoted(column)));
        params.push(param(value, sqlite));
    }
    params.push(Some(id.to_string()));
    let key = open
        .db
        .typed_placeholder(params.len(), columns.get(&t.id_column));
    let sql = format!(
        "UPDATE {} SET {} WHERE {}",
        quoted(&t.table),
        assignments.join(", "),
        and(live(t), format!("{} = {key}", quoted(&t.id_column)))
    );
    match open.db.execute(sql, &params)? {
        0 => Err(ConnectorError::Rejected {
            status: 404,
            scim_type: None,
            detail: format!("no row {id:?} in {}", t.table),
            http: false,
        }),
        _ => Ok(()),
    }
}

/// Inserts the row, or brings back and overwrites the row with the same key
/// (a retried create, or an account soft-deleted earlier).
fn upsert(
    open: &mut Open,
    t: &TableSettings,
    id: &str,
    mut set: Vec<(String, Value)>,
) -> Result<(), ConnectorError> {
    let columns = open.columns(&t.table)?;
    let sqlite = open.db.is_sqlite();
    set.retain(|(c, _)| c != &t.id_column);
    set.insert(0, (t.id_column.clone(), Value::String(id.to_string())));
    if let Some(deleted) = &t.deleted_column {
        set.push((deleted.clone(), Value::Null));
    }
    let names: Vec<String> = set.iter().map(|(c, _)| quoted(c)).collect();
    let placeholders: Vec<String> = set
        .iter()
        .enumerate()
        .map(|(n, (c, _))| open.db.typed_placeholder(n + 1, columns.get(c)))
        .collect();
    let params: Vec<Param> = set.iter().map(|(_, v)| param(v, sqlite)).collect();
    let updates: Vec<String> = names
        .iter()
        .skip(1)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let on_conflict = if updates.is_empty() {
        "DO NOTHING".to_string()
    } else {
        format!("DO UPDATE SET {}", updates.join(", "))
    };
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) {on_conflict}",
        quoted(&t.table),
        names.join(", "),
        placeholders.join(", "),
        quoted(&t.id_column),
    );
    open.db.execute(sql, &params).map(drop)
}

fn change_members(
    open: &mut Open,
    m: &MembershipSettings,
    group_id: &str,
    add: &[String],
    remove: &[String],
) -> Result<(), ConnectorError> {
    open.columns(&m.table)?;
    let (g, member) = (quoted(&m.group_column), quoted(&m.member_column));
    let table = quoted(&m.table);
    let (p1, p2) = (open.db.param(1), open.db.param(2));
    open.db.transaction(|db| {
        for id in remove {
            let sql = format!("DELETE FROM {table} WHERE {g} = {p1} AND {member} = {p2}");
            db.execute(sql, &[Some(group_id.to_string()), Some(id.clone())])?;
        }
        for id in add {
            let sql = format!(
                "INSERT INTO {table} ({g}, {member}) SELECT {p1}, {p2} WHERE NOT EXISTS \
                 (SELECT 1 FROM {table} WHERE {g} = {p1} AND {member} = {p2})"
            );
            db.execute(sql, &[Some(group_id.to_string()), Some(id.clone())])?;
        }
        Ok(())
    })
}

#[async_trait]
impl Connector for SqlConnector {
    async fn capabilities(&self) -> Result<Capabilities, ConnectorError> {
        Ok(Capabilities {
            lookup: true,
            member_batch: MEMBER_BATCH,
            ..Capabilities::default()
        })
    }

    async fn probe(&self) -> Result<(), ConnectorError> {
        self.with_db(|open, s| open.columns(&s.users.table).map(drop))
            .await
    }

    async fn list(&self, kind: ResourceKind) -> Result<Vec<Value>, ConnectorError> {
        self.with_db(move |open, s| {
            let t = table(s, kind)?.clone();
            let mut objects = select(open, &t, String::new(), &[])?;
            if kind == ResourceKind::Group {
                let m = memberships(s)?.clone();
                for o in &mut objects {
                    let id = o["id"].as_str().unwrap_or_default().to_string();
                    o["members"] = Value::Array(members_of(open, &m, &id)?);
                }
            }
            Ok(objects)
        })
        .await
    }

    async fn get(&self, kind: ResourceKind, id: &str) -> Result<Option<Value>, ConnectorError> {
        let id = id.to_string();
        self.with_db(move |open, s| {
            let t = table(s, kind)?.clone();
            let columns = open.columns(&t.table)?;
            let key = open.db.typed_placeholder(1, columns.get(&t.id_column));
            let clause = format!("{} = {key}", quoted(&t.id_column));
            let Some(mut found) = select(open, &t, clause, &[Some(id.clone())])?.pop() else {
                return Ok(None);
            };
            if kind == ResourceKind::Group {
                let m = memberships(s)?.clone();
                found["members"] = Value::Array(members_of(open, &m, &id)?);
            }
            Ok(Some(found))
        })
        .await
    }

    async fn find(
        &self,
        kind: ResourceKind,
        key: &MatchKey,
        value: &str,
    ) -> Result<Vec<Value>, ConnectorError> {
        let (column, ignore_case, value) = (
            key.path.attr.name.clone(),
            key.ignore_case,
            value.to_string(),
        );
        self.with_db(move |open, s| {
            let t = table(s, kind)?.clone();
            let columns = open.columns(&t.table)?;
            if !columns.contains_key(&column) {
                return Ok(Vec::new());
            }
            let p = open.db.param(1);
            let clause = if ignore_case {
                format!("lower(CAST({} AS TEXT)) = lower({p})", quoted(&column))
            } else {
                format!("CAST({} AS TEXT) = {p}", quoted(&column))
            };
            select(open, &t, clause, &[Some(value)])
        })
        .await
    }

    async fn create(&self, kind: ResourceKind, object: &Value) -> Result<String, ConnectorError> {
        let object = object.clone();
        self.with_db(move |open, s| {
            let t = table(s, kind)?.clone();
            let columns = open.columns(&t.table)?;
            let set = values(&object, &t, &columns, None)?;
            let id = object
                .get(&t.id_column)
                .and_then(id_text)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            // One statement: atomic without a transaction of its own.
            upsert(open, &t, &id, set)?;
            Ok(id)
        })
        .await
    }

    async fn update(
        &self,
        kind: ResourceKind,
        id: &str,
        object: &Value,
        changed: Option<&[String]>,
    ) -> Result<(), ConnectorError> {
        let (id, object) = (id.to_string(), object.clone());
        let changed = changed.map(<[String]>::to_vec);
        self.with_db(move |open, s| {
            let t = table(s, kind)?.clone();
            let columns = open.columns(&t.table)?;
            let mut set = values(&object, &t, &columns, changed.as_deref())?;
            set.retain(|(c, _)| c != &t.id_column);
            update_row(open, &t, &id, set)
        })
        .await
    }

    async fn set_manager(&self, user_id: &str, manager_id: &str) -> Result<(), ConnectorError> {
        let (id, manager) = (user_id.to_string(), manager_id.to_string());
        self.with_db(move |open, s| {
            let column = s.users.manager_column.clone().ok_or_else(|| {
                ConnectorError::Config("set sql.users.manager_column to keep managers".into())
            })?;
            update_row(open, &s.users, &id, vec![(column, Value::String(manager))])
        })
        .await
    }

    async fn deactivate(&self, user_id: &str) -> Result<(), ConnectorError> {
        let id = user_id.to_string();
        self.with_db(move |open, s| {
            let column = s.users.active_column.clone().ok_or_else(|| {
                ConnectorError::Config(
                    "set sql.users.active_column to deactivate accounts (or deprovision by delete)"
                        .into(),
                )
            })?;
            update_row(open, &s.users, &id, vec![(column, Value::Bool(false))])
        })
        .await
    }

    async fn delete(&self, kind: ResourceKind, id: &str) -> Result<(), ConnectorError> {
        let id = id.to_string();
        self.with_db(move |open, s| {
            let t = table(s, kind)?.clone();
            let columns = open.columns(&t.table)?;
            let key = open.db.typed_placeholder(1, columns.get(&t.id_column));
            let row = format!("{} = {key}", quoted(&t.id_column));
            let membership = s.memberships.clone();
            let table_name = quoted(&t.table);
            let deleted = t.deleted_column.clone();
            let deleted_type = deleted.as_ref().and_then(|d| columns.get(d)).map(|c| c.sql_type.clone());
            let p1 = open.db.param(1);
            let sqlite = open.db.is_sqlite();
            open.db.transaction(|db| {
                if let Some(m) = &membership {
                    let side = match kind {
                        ResourceKind::User => &m.member_column,
                        ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => &m.group_column,
                    };
                    let sql = format!("DELETE FROM {} WHERE {} = {p1}", quoted(&m.table), quoted(side));
                    db.execute(sql, &[Some(id.clone())])?;
                }
                let sql = match (&deleted, &deleted_type) {
                    (Some(column), Some(ty)) if !sqlite => format!(
                        "UPDATE {table_name} SET {} = CAST(CURRENT_TIMESTAMP AS {ty}) WHERE {row} AND {} IS NULL",
                        quoted(column),
                        quoted(column)
                    ),
                    (Some(column), _) => format!(
                        "UPDATE {table_name} SET {} = CURRENT_TIMESTAMP WHERE {row} AND {} IS NULL",
                        quoted(column),
                        quoted(column)
                    ),
                    (None, _) => format!("DELETE FROM {table_name} WHERE {row}"),
                };
                // A row already gone counts as deleted.
                db.execute(sql, &[Some(id.clone())]).map(drop)
            })
        })
        .await
    }

    async fn unknown_fields(
        &self,
        kind: ResourceKind,
        object: &Value,
    ) -> Result<Vec<String>, ConnectorError> {
        let object = object.clone();
        self.with_db(move |open, s| {
            let t = table(s, kind)?.clone();
            let columns = open.columns(&t.table)?;
            let object = match &t.manager_column {
                Some(column) => manager_field::outgoing(&object, Some(column)),
                None => object,
            };
            Ok(object
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .filter(|k| *k != "id" && !k.eq_ignore_ascii_case("schemas"))
                .filter(|k| !columns.contains_key(*k))
                .cloned()
                .collect())
        })
        .await
    }

    async fn change_members(
        &self,
        group_id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<(), ConnectorError> {
        let (group, add, remove) = (group_id.to_string(), add.to_vec(), remove.to_vec());
        self.with_db(move |open, s| {
            let m = memberships(s)?.clone();
            change_members(open, &m, &group, &add, &remove)
        })
        .await
    }
}
