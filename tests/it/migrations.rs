//! The SQLite and PostgreSQL migration sets must describe the same tables.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::support::{Backend, TestApp};

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
}

type Layout = BTreeMap<String, Vec<(String, bool)>>;

fn layout(columns: Vec<Column>) -> Layout {
    let mut out: Layout = BTreeMap::new();
    for c in columns {
        if c.table_name.starts_with("__diesel") || c.table_name.starts_with("sqlite_") {
            continue;
        }
        out.entry(c.table_name)
            .or_default()
            .push((c.column_name, c.not_null));
    }
    for cols in out.values_mut() {
        cols.sort();
    }
    out
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_match() {
    let sqlite = TestApp::start(Backend::Sqlite).await.unwrap();
    let Some(pg) = TestApp::start(Backend::Postgres).await else {
        return;
    };

    let path = sqlite.database_url.trim_start_matches("sqlite://");
    let mut conn = SqliteConnection::establish(path).unwrap();
    let sqlite_cols: Vec<Column> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, (p.\"notnull\" = 1 OR p.pk > 0) AS not_null \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'",
    )
    .load(&mut conn)
    .unwrap();

    let mut conn = PgConnection::establish(&pg.database_url).unwrap();
    let pg_cols: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, \
         (is_nullable = 'NO') AS not_null FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .load(&mut conn)
    .unwrap();

    let (s, p) = (layout(sqlite_cols), layout(pg_cols));
    assert!(
        s.contains_key("users") && s.contains_key("group_members") && s.contains_key("changes")
    );
    assert_eq!(s, p);
}
