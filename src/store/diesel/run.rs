//! Statements executed on the concrete connection inside `DbConnection`.
//!
//! Diesel's multi-backend connection renders a statement's whole SQL text
//! on every execution, even when the prepared statement is cached (it hands
//! the text to the inner connection): 20,000-90,000 instructions per
//! statement, more than SQLite spends running most of them. The concrete
//! connections find a cached statement by its Rust type instead. The hot
//! paths (reading a user, the statements of a user or member write) run
//! through these; the rest may keep the shorter multi-backend form.

use diesel::pg::PgConnection;
use diesel::query_dsl::methods::{ExecuteDsl, LoadQuery};
use diesel::sqlite::SqliteConnection;
use diesel::{QueryResult, RunQueryDsl};

use super::connection::DbConnection;

/// `query.get_result(conn)`: the first row (`NotFound` when there is none).
pub fn get_result<'q, Q, U>(conn: &mut DbConnection, query: Q) -> QueryResult<U>
where
    Q: RunQueryDsl<SqliteConnection>
        + RunQueryDsl<PgConnection>
        + LoadQuery<'q, SqliteConnection, U>
        + LoadQuery<'q, PgConnection, U>,
{
    match conn {
        DbConnection::Sqlite(c) => query.get_result(c),
        DbConnection::Pg(c) => query.get_result(c),
    }
}

/// `query.load(conn)`: every row.
pub fn load<'q, Q, U>(conn: &mut DbConnection, query: Q) -> QueryResult<Vec<U>>
where
    Q: RunQueryDsl<SqliteConnection>
        + RunQueryDsl<PgConnection>
        + LoadQuery<'q, SqliteConnection, U>
        + LoadQuery<'q, PgConnection, U>,
{
    match conn {
        DbConnection::Sqlite(c) => query.load(c),
        DbConnection::Pg(c) => query.load(c),
    }
}

/// `statement.execute(conn)`: how many rows it touched.
pub fn execute<Q>(conn: &mut DbConnection, statement: Q) -> QueryResult<usize>
where
    Q: RunQueryDsl<SqliteConnection>
        + RunQueryDsl<PgConnection>
        + ExecuteDsl<SqliteConnection>
        + ExecuteDsl<PgConnection>,
{
    match conn {
        DbConnection::Sqlite(c) => statement.execute(c),
        DbConnection::Pg(c) => statement.execute(c),
    }
}
