//! The SQL connector against real databases: a SQLite file and a fresh
//! PostgreSQL database, each with the tables an HR or payroll system might
//! have (typed columns, a soft-delete column, a membership table).

use std::sync::Arc;

use scimhub::provision::connector::sql::{
    MembershipSettings, SqlConnector, SqlSettings, TableSettings,
};
use scimhub::provision::connector::{Connector, ConnectorError};
use scimhub::provision::plan::MatchKey;
use scimhub::scim::ResourceKind;
use serde_json::{Value, json};

use crate::support::postgres;

/// A database of the kind, its URL, and a connection to look at it with.
struct Database {
    url: String,
    _dir: Option<tempfile::TempDir>,
}

const SCHEMA: &str = "
CREATE TABLE people (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    full_name TEXT,
    mail TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    age INTEGER,
    boss TEXT,
    deleted_at TIMESTAMP
);
CREATE TABLE teams (id TEXT PRIMARY KEY, title TEXT NOT NULL);
CREATE TABLE team_members (team TEXT NOT NULL, person TEXT NOT NULL, PRIMARY KEY (team, person));
";

fn sqlite() -> Database {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hr.db");
    let url = format!("sqlite://{}", path.display());
    let mut conn =
        <diesel::SqliteConnection as diesel::Connection>::establish(path.to_str().unwrap())
            .unwrap();
    diesel::connection::SimpleConnection::batch_execute(&mut conn, SCHEMA).unwrap();
    Database {
        url,
        _dir: Some(dir),
    }
}

fn pg() -> Option<Database> {
    let url = postgres::server()?.fresh_database();
    let mut conn = <diesel::PgConnection as diesel::Connection>::establish(&url).unwrap();
    diesel::connection::SimpleConnection::batch_execute(&mut conn, SCHEMA).unwrap();
    Some(Database { url, _dir: None })
}

fn settings(soft_delete: bool) -> SqlSettings {
    SqlSettings {
        users: TableSettings {
            table: "people".into(),
            id_column: "id".into(),
            active_column: Some("active".into()),
            deleted_column: soft_delete.then(|| "deleted_at".into()),
            manager_column: Some("boss".into()),
        },
        groups: Some(TableSettings {
            table: "teams".into(),
            id_column: "id".into(),
            active_column: None,
            deleted_column: None,
            manager_column: None,
        }),
        memberships: Some(MembershipSettings {
            table: "team_members".into(),
            group_column: "team".into(),
            member_column: "person".into(),
        }),
    }
}

fn connector(db: &Database, soft_delete: bool) -> Arc<dyn Connector> {
    Arc::new(SqlConnector::new(&db.url, None, settings(soft_delete)))
}

async fn each_database(test: impl AsyncFn(Database)) {
    test(sqlite()).await;
    if let Some(db) = pg() {
        test(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_rows_created_updated_found_and_deactivated() {
    each_database(async |db| {
        let c = connector(&db, false);
        let caps = c.capabilities().await.unwrap();
        assert!(caps.lookup);
        c.probe().await.unwrap();

        let ada = json!({"login": "ada", "full_name": "Ada L", "mail": "ada@example.com", "age": 36, "active": true});
        let id = c.create(ResourceKind::User, &ada).await.unwrap();
        let got = c.get(ResourceKind::User, &id).await.unwrap().unwrap();
        assert_eq!(
            (got["id"].as_str(), got["login"].as_str(), got["age"].as_i64(), got["active"].as_bool()),
            (Some(id.as_str()), Some("ada"), Some(36), Some(true)),
            "{got}"
        );
        // A retried create with the same key is the same row (upsert).
        let keyed = json!({"id": "p-2", "login": "bob", "full_name": "Bob"});
        assert_eq!(c.create(ResourceKind::User, &keyed).await.unwrap(), "p-2");
        assert_eq!(c.create(ResourceKind::User, &keyed).await.unwrap(), "p-2");
        assert_eq!(c.list(ResourceKind::User).await.unwrap().len(), 2);

        let key = MatchKey::parse("login").unwrap();
        let found = c.find(ResourceKind::User, &key, "ADA").await.unwrap();
        assert_eq!(found.len(), 1, "login matches ignoring case");
        assert_eq!(found[0]["id"], Value::String(id.clone()));

        let changed = json!({"login": "ada", "full_name": "Ada Lovelace", "mail": "x@example.com"});
        c.update(ResourceKind::User, &id, &changed, Some(&["full_name".to_string()]))
            .await
            .unwrap();
        let got = c.get(ResourceKind::User, &id).await.unwrap().unwrap();
        assert_eq!((got["full_name"].as_str(), got["mail"].as_str()), (Some("Ada Lovelace"), Some("ada@example.com")));

        c.set_manager(&id, "p-2").await.unwrap();
        c.deactivate(&id).await.unwrap();
        let got = c.get(ResourceKind::User, &id).await.unwrap().unwrap();
        assert_eq!((got["boss"].as_str(), got["active"].as_bool()), (Some("p-2"), Some(false)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_the_problem_and_change_nothing() {
    each_database(async |db| {
        let c = connector(&db, false);
        let id = c
            .create(ResourceKind::User, &json!({"login": "ada", "full_name": "Ada"}))
            .await
            .unwrap();
        let before = c.list(ResourceKind::User).await.unwrap();

        let unknown = c
            .update(ResourceKind::User, &id, &json!({"shoe_size": 9}), None)
            .await
            .unwrap_err();
        assert!(
            matches!(&unknown, ConnectorError::Rejected { status: 400, detail, .. } if detail.contains("shoe_size")),
            "{unknown}"
        );
        let duplicate = c
            .create(ResourceKind::User, &json!({"login": "ada"}))
            .await
            .unwrap_err();
        assert!(
            matches!(duplicate, ConnectorError::Rejected { status: 409, .. }),
            "a second account with the same unique login: {duplicate}"
        );
        let missing = c
            .update(ResourceKind::User, "nobody", &json!({"full_name": "X"}), None)
            .await
            .unwrap_err();
        assert_eq!(missing.status(), Some(404));
        assert_eq!(c.list(ResourceKind::User).await.unwrap(), before);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_keep_their_members_in_the_membership_table() {
    each_database(async |db| {
        let c = connector(&db, false);
        let a = c
            .create(ResourceKind::User, &json!({"login": "a"}))
            .await
            .unwrap();
        let b = c
            .create(ResourceKind::User, &json!({"login": "b"}))
            .await
            .unwrap();
        let team = c
            .create(ResourceKind::Group, &json!({"title": "Ops"}))
            .await
            .unwrap();
        c.change_members(&team, &[a.clone(), b.clone()], &[])
            .await
            .unwrap();
        c.change_members(&team, std::slice::from_ref(&a), std::slice::from_ref(&b))
            .await
            .unwrap();
        let got = c.get(ResourceKind::Group, &team).await.unwrap().unwrap();
        assert_eq!(got["members"], json!([{"value": a}]), "{got}");
        assert_eq!(got["title"], "Ops");

        // Deleting a person also drops their memberships; deleting again is fine.
        c.delete(ResourceKind::User, &a).await.unwrap();
        c.delete(ResourceKind::User, &a).await.unwrap();
        let got = c.get(ResourceKind::Group, &team).await.unwrap().unwrap();
        assert_eq!(got["members"], json!([]));
        assert!(c.get(ResourceKind::User, &a).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_deleted_rows_are_gone_for_the_engine_but_kept_in_the_table() {
    each_database(async |db| {
        let c = connector(&db, true);
        let id = c
            .create(ResourceKind::User, &json!({"id": "p-9", "login": "gone"}))
            .await
            .unwrap();
        c.delete(ResourceKind::User, &id).await.unwrap();
        assert!(c.get(ResourceKind::User, &id).await.unwrap().is_none());
        assert!(c.list(ResourceKind::User).await.unwrap().is_empty());
        // Still in the table, marked deleted: a hard-delete connector sees it.
        let raw = connector(&db, false);
        let row = raw.get(ResourceKind::User, &id).await.unwrap().unwrap();
        assert!(!row["deleted_at"].is_null(), "{row}");
        // Created again, the same key comes back to life.
        c.create(ResourceKind::User, &json!({"id": "p-9", "login": "gone"}))
            .await
            .unwrap();
        assert!(c.get(ResourceKind::User, &id).await.unwrap().is_some());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_unavailable_and_a_missing_table_is_named() {
    let port = crate::support::live::free_port();
    let down = SqlConnector::new(
        &format!("postgres://scimhub@127.0.0.1:{port}/hr"),
        None,
        settings(false),
    );
    let e = down.probe().await.unwrap_err();
    assert!(e.is_unreachable(), "{e}");

    let db = sqlite();
    let mut wrong = settings(false);
    wrong.users.table = "staff".into();
    let c = SqlConnector::new(&db.url, None, wrong);
    let e = c.probe().await.unwrap_err();
    assert!(e.to_string().contains("no table staff"), "{e}");
}
