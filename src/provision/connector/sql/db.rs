//! One connection to the target database (PostgreSQL or SQLite, by URL)
//! and the few statements the connector needs. Table and column names come
//! only from checked settings and the table's own catalog; every value is
//! a bound parameter.

use std::collections::HashMap;

use diesel::backend::Backend;
use diesel::connection::SimpleConnection;
use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::result::{ConnectionError, DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Nullable, Text};
use diesel::sqlite::Sqlite;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use serde_json::{Map, Value};

use crate::provision::connector::ConnectorError;

pub enum Db {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// A column as the database's catalog declares it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Column {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub sql_type: String,
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Text)]
    j: String,
}

/// A parameter: text, or SQL NULL.
pub type Param = Option<String>;

/// `"name"` (or `"schema"."name"`), safe because names were checked.
pub fn quoted(name: &str) -> String {
    name.split('.')
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(".")
}

fn unavailable(e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::Unavailable {
        attempts: 1,
        last: e.to_string(),
    }
}

/// Refusals the engine acts on: a duplicate key (409, the run adopts the
/// existing row), other constraint failures (400); anything else means the
/// database is not usable now.
pub fn refused(e: DieselError) -> ConnectorError {
    match e {
        DieselError::DatabaseError(kind, info) => {
            let detail = info.message().to_string();
            match kind {
                DatabaseErrorKind::UniqueViolation => ConnectorError::Rejected {
                    status: 409,
                    scim_type: Some("uniqueness".into()),
                    detail,
                    http: false,
                },
                DatabaseErrorKind::ForeignKeyViolation
                | DatabaseErrorKind::NotNullViolation
                | DatabaseErrorKind::CheckViolation => ConnectorError::Rejected {
                    status: 400,
                    scim_type: None,
                    detail,
                    http: false,
                },
                DatabaseErrorKind::ClosedConnection => unavailable(detail),
                _ => ConnectorError::Rejected {
                    status: 400,
                    scim_type: None,
                    detail,
                    http: false,
                },
            }
        }
        other => unavailable(other),
    }
}

fn bound<'a, DB>(sql: String, params: &'a [Param]) -> BoxedSqlQuery<'a, DB, SqlQuery>
where
    DB: Backend + diesel::sql_types::HasSqlType<Nullable<Text>>,
    Option<&'a str>: diesel::serialize::ToSql<Nullable<Text>, DB>,
{
    let mut query = diesel::sql_query(sql).into_boxed::<DB>();
    for p in params {
        query = query.bind::<Nullable<Text>, _>(p.as_deref());
    }
    query
}

impl Db {
    /// Connects; a PostgreSQL URL gets `credentials` (user, password) put in.
    pub fn open(url: &str, credentials: Option<(&str, &str)>) -> Result<Self, ConnectorError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let mut conn = SqliteConnection::establish(path).map_err(connect_error)?;
            conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                .map_err(unavailable)?;
            return Ok(Db::Sqlite(conn));
        }
        let mut parsed = url::Url::parse(url)
            .map_err(|_| ConnectorError::Config(format!("{url:?} is not a database URL")))?;
        if let Some((user, password)) = credentials {
            let set =
                parsed.set_username(user).is_ok() && parsed.set_password(Some(password)).is_ok();
            if !set {
                return Err(ConnectorError::Config(
                    "the database URL cannot take a user name".into(),
                ));
            }
        }
        PgConnection::establish(parsed.as_str())
            .map(Db::Pg)
            .map_err(connect_error)
    }

    fn placeholder(&self, n: usize) -> String {
        match self {
            Db::Pg(_) => format!("${n}"),
            // Numbered, so a statement can use a parameter twice.
            Db::Sqlite(_) => format!("?{n}"),
        }
    }

    /// A placeholder that PostgreSQL reads as the column's own type (every
    /// value is sent as text).
    pub fn typed_placeholder(&self, n: usize, column: Option<&Column>) -> String {
        match (self, column) {
            (Db::Pg(_), Some(c)) if !matches!(c.sql_type.as_str(), "ARRAY" | "USER-DEFINED") => {
                format!("CAST(${n} AS {})", c.sql_type)
            }
            _ => self.placeholder(n),
        }
    }

    /// The table's columns by name; empty when the table does not exist.
    pub fn columns(&mut self, table: &str) -> Result<HashMap<String, Column>, ConnectorError> {
        let (schema, name) = table
            .split_once('.')
            .map_or((None, table), |(s, n)| (Some(s), n));
        let columns: Vec<Column> = match self {
            Db::Pg(conn) => {
                let params = [Some(name.to_string()), schema.map(str::to_string)];
                bound::<Pg>(
                    "SELECT column_name::text AS name, data_type::text AS sql_type \
                     FROM information_schema.columns WHERE table_name = $1 \
                     AND table_schema = COALESCE($2, current_schema())"
                        .into(),
                    &params,
                )
                .load(conn)
                .map_err(refused)?
            }
            Db::Sqlite(conn) => {
                let params = [Some(name.to_string())];
                bound::<Sqlite>(
                    "SELECT name, type AS sql_type FROM pragma_table_info(?)".into(),
                    &params,
                )
                .load(conn)
                .map_err(refused)?
            }
        };
        Ok(columns.into_iter().map(|c| (c.name.clone(), c)).collect())
    }

    /// Rows as JSON objects: `SELECT … FROM table [WHERE where_sql]`.
    pub fn rows(
        &mut self,
        table: &str,
        columns: &HashMap<String, Column>,
        where_sql: &str,
        params: &[Param],
    ) -> Result<Vec<Map<String, Value>>, ConnectorError> {
        let clause = if where_sql.is_empty() {
            String::new()
        } else {
            format!(" WHERE {where_sql}")
        };
        let rows: Vec<JsonRow> = match self {
            Db::Pg(conn) => {
                let sql = format!(
                    "SELECT row_to_json(t)::text AS j FROM {} t{clause}",
                    quoted(table)
                );
                bound::<Pg>(sql, params).load(conn).map_err(refused)?
            }
            Db::Sqlite(conn) => {
                let pairs: Vec<String> = columns
                    .keys()
                    .map(|c| format!("'{c}', {}", quoted(c)))
                    .collect();
                let sql = format!(
                    "SELECT json_object({}) AS j FROM {}{clause}",
                    pairs.join(", "),
                    quoted(table)
                );
                bound::<Sqlite>(sql, params).load(conn).map_err(refused)?
            }
        };
        rows.into_iter()
            .map(|r| match serde_json::from_str(&r.j) {
                Ok(Value::Object(mut row)) => {
                    if matches!(self, Db::Sqlite(_)) {
                        booleans(&mut row, columns);
                    }
                    Ok(row)
                }
                _ => Err(ConnectorError::Protocol(format!(
                    "a row that is not an object: {}",
                    r.j
                ))),
            })
            .collect()
    }

    /// Runs one statement; returns the rows it touched.
    pub fn execute(&mut self, sql: String, params: &[Param]) -> Result<usize, ConnectorError> {
        match self {
            Db::Pg(conn) => bound::<Pg>(sql, params).execute(conn),
            Db::Sqlite(conn) => bound::<Sqlite>(sql, params).execute(conn),
        }
        .map_err(refused)
    }

    /// `work` in one transaction: all of it or none.
    pub fn transaction<T>(
        &mut self,
        work: impl FnOnce(&mut Db) -> Result<T, ConnectorError>,
    ) -> Result<T, ConnectorError> {
        self.execute("BEGIN".into(), &[])?;
        match work(self) {
            Ok(value) => {
                self.execute("COMMIT".into(), &[])?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.execute("ROLLBACK".into(), &[]);
                Err(e)
            }
        }
    }

    /// The placeholder of the `n`th parameter (1-based).
    pub fn param(&self, n: usize) -> String {
        self.placeholder(n)
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Db::Sqlite(_))
    }
}

/// SQLite keeps booleans as 0/1: columns declared boolean read back as JSON booleans.
fn booleans(row: &mut Map<String, Value>, columns: &HashMap<String, Column>) {
    for (name, value) in row.iter_mut() {
        let boolean = columns
            .get(name)
            .is_some_and(|c| c.sql_type.to_ascii_uppercase().contains("BOOL"));
        if boolean && let Some(n) = value.as_i64() {
            *value = Value::Bool(n != 0);
        }
    }
}

fn connect_error(e: ConnectionError) -> ConnectorError {
    let text = e.to_string();
    if text.contains("password authentication failed") || text.contains("no password supplied") {
        return ConnectorError::Unauthorized {
            status: 401,
            detail: text,
        };
    }
    unavailable(format!("cannot connect to the database: {text}"))
}

/// A JSON value as the text parameter the column gets (SQLite booleans as 1/0).
pub fn param(value: &Value, sqlite: bool) -> Param {
    match value {
        Value::Null => None,
        Value::Bool(b) if sqlite => Some(if *b { "1" } else { "0" }.into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_text_parameters() {
        assert_eq!(param(&Value::Null, false), None);
        assert_eq!(param(&Value::Bool(true), false).as_deref(), Some("true"));
        assert_eq!(param(&Value::Bool(true), true).as_deref(), Some("1"));
        assert_eq!(param(&serde_json::json!(3), true).as_deref(), Some("3"));
        assert_eq!(
            param(&serde_json::json!({"a": 1}), false).as_deref(),
            Some(r#"{"a":1}"#)
        );
        assert_eq!(quoted("hr.people"), "\"hr\".\"people\"");
    }

    #[test]
    fn sqlite_rows_read_back_with_booleans() {
        let mut db = Db::open("sqlite://:memory:", None).unwrap();
        db.execute(
            "CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT, active BOOLEAN)".into(),
            &[],
        )
        .unwrap();
        db.execute(
            "INSERT INTO people (id, name, active) VALUES (?, ?, ?)".into(),
            &[
                Some("p1".into()),
                Some("Ada".into()),
                param(&Value::Bool(true), true),
            ],
        )
        .unwrap();
        let columns = db.columns("people").unwrap();
        assert_eq!(columns.len(), 3);
        let rows = db.rows("people", &columns, "", &[]).unwrap();
        assert_eq!(rows[0]["active"], Value::Bool(true));
        assert_eq!(rows[0]["name"], "Ada");
        let dup = db.execute(
            "INSERT INTO people (id) VALUES (?)".into(),
            &[Some("p1".into())],
        );
        assert!(matches!(
            dup,
            Err(ConnectorError::Rejected { status: 409, .. })
        ));
    }
}
