//! A SQL database as a sync target, driven the way an admin does it: a
//! live `scimhub serve` with its workers, the CLI, and a real PostgreSQL
//! database holding an HR system's tables, read back with SQL.

use std::io::Write;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use serde_json::json;

use crate::lifecycle::Source;
use crate::on_both_sources;
use crate::support::{Backend, eventually, postgres};

const SCHEMA: &str = "
CREATE TABLE people (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    surname TEXT,
    mail TEXT CHECK (mail NOT LIKE '%@refused.example'),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    boss TEXT
);
CREATE TABLE teams (id TEXT PRIMARY KEY, title TEXT NOT NULL);
CREATE TABLE team_members (team TEXT NOT NULL, person TEXT NOT NULL, PRIMARY KEY (team, person));
";

const SETTINGS: &str = r#"
[sql.users]
table = "people"
id_column = "id"
active_column = "active"
manager_column = "boss"

[sql.groups]
table = "teams"

[sql.memberships]
table = "team_members"
group_column = "team"
member_column = "person"
"#;

const MAPPING: &str = r#"
[users]
base = "none"
rules = [
  { target = "login", value = "userName" },
  { target = "surname", value = "name.familyName" },
  { target = "mail", value = 'emails[type eq "work"].value' },
  { target = "active", value = "active" },
  { target = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    value = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager" },
]

[groups]
base = "none"
rules = [{ target = "title", value = "displayName" }]
"#;

#[derive(QueryableByName, Debug, PartialEq)]
struct Person {
    #[diesel(sql_type = diesel::sql_types::Text)]
    login: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    active: bool,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    boss_login: Option<String>,
}

#[derive(QueryableByName, Debug)]
struct Membership {
    #[diesel(sql_type = diesel::sql_types::Text)]
    title: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    login: String,
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn people(url: &str) -> Vec<Person> {
    let mut conn = PgConnection::establish(url).unwrap();
    diesel::sql_query(
        "SELECT p.login, p.active, b.login AS boss_login FROM people p \
         LEFT JOIN people b ON b.id = p.boss ORDER BY p.login",
    )
    .load(&mut conn)
    .unwrap()
}

fn memberships(url: &str) -> Vec<(String, String)> {
    let mut conn = PgConnection::establish(url).unwrap();
    let rows: Vec<Membership> = diesel::sql_query(
        "SELECT t.title, p.login FROM team_members m JOIN teams t ON t.id = m.team \
         JOIN people p ON p.id = m.person ORDER BY 1, 2",
    )
    .load(&mut conn)
    .unwrap();
    rows.into_iter().map(|r| (r.title, r.login)).collect()
}

async fn a_sql_target_is_filled_by_runs_and_follows_changes(backend: Backend) {
    let Some(pg) = postgres::server() else {
        return;
    };
    let Some(source) = Source::start(backend) else {
        return;
    };
    let hr = pg.fresh_database();
    PgConnection::establish(&hr)
        .unwrap()
        .batch_execute(SCHEMA)
        .unwrap();
    let server = &source.server;
    let boss = source.user("boss", None).await;
    let ann = source.user("ann", Some(&boss)).await;
    source.group("ops", &[&boss, &ann]).await;

    let (settings, mapping) = (file(SETTINGS), file(MAPPING));
    let add = |settings: &str| {
        vec![
            "target".to_string(),
            "add".into(),
            "--name".into(),
            "hr".into(),
            "--kind".into(),
            "sql".into(),
            "--url".into(),
            hr.clone(),
            "--no-credentials".into(),
            "--guard-percent".into(),
            "10".into(),
            "--guard-min".into(),
            "2".into(),
            "--connector-settings".into(),
            settings.to_string(),
            "--mapping".into(),
            mapping.path().to_str().unwrap().to_string(),
        ]
    };
    // Settings naming a table the database does not have: the test fails,
    // nothing is stored.
    let wrong = file(&SETTINGS.replacen("table = \"people\"", "table = \"staff\"", 1));
    let args = add(wrong.path().to_str().unwrap());
    let out = server.cli(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("no table staff"),
        "{said}"
    );
    assert!(
        server.cli_json(&["target", "list"])["targets"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let args = add(settings.path().to_str().unwrap());
    server.cli_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let shown = server.cli_json(&["target", "show", "hr"]);
    assert_eq!(shown["settings"]["kind"], "sql", "{shown}");
    assert_eq!(shown["settings"]["sql"]["users"]["table"], "people");
    let tested = server.cli_json(&["target", "test", "hr"]);
    assert_eq!(tested["ok"], true, "{tested}");

    let plan = server.cli_json(&["sync", "run", "hr", "--dry-run"]);
    assert_eq!(plan["status"], "planned", "{plan}");
    assert_eq!(
        plan["counts"]["created"], 3,
        "two users and a group: {plan}"
    );
    assert!(people(&hr).is_empty(), "a dry run wrote rows");

    let run = server.cli_json(&["sync", "run", "hr"]);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        people(&hr),
        [
            Person {
                login: "ann".into(),
                active: true,
                boss_login: Some("boss".into())
            },
            Person {
                login: "boss".into(),
                active: true,
                boss_login: None
            },
        ]
    );
    assert_eq!(
        memberships(&hr),
        [
            ("ops".to_string(), "ann".to_string()),
            ("ops".into(), "boss".into())
        ]
    );
    let again = server.cli_json(&["sync", "run", "hr"]);
    assert_eq!(
        again["counts"]["updated"], 0,
        "a second run changes nothing: {again}"
    );

    // Real time: a new hire, a deactivation, a refused write that queues.
    source.user("cy", Some(&boss)).await;
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}]});
    source
        .send(reqwest::Method::PATCH, &format!("/Users/{ann}"), Some(body))
        .await;
    let mut refused = crate::support::user_body("dee");
    refused["emails"] = json!([{"value": "dee@refused.example", "type": "work"}]);
    source
        .send(reqwest::Method::POST, "/Users", Some(refused))
        .await;
    eventually("cy in the table and ann inactive", || async {
        let rows = people(&hr);
        let cy = rows
            .iter()
            .any(|p| p.login == "cy" && p.boss_login.as_deref() == Some("boss"));
        let ann_off = rows.iter().any(|p| p.login == "ann" && !p.active);
        (cy && ann_off).then_some(())
    })
    .await;
    let failures = eventually("dee's refused insert queued", || async {
        let f = server.cli_json(&["failures", "list", "--target", "hr"]);
        (f["failures"].as_array().is_some_and(|a| !a.is_empty())).then_some(f)
    })
    .await;
    assert!(
        failures.to_string().contains("mail"),
        "the check constraint is named: {failures}"
    );
    assert!(!people(&hr).iter().any(|p| p.login == "dee"));

    // Two leavers at once with a guard of 10% (at least 2): the second waits
    // for approval.
    assert_eq!(people(&hr).len(), 3);
    for id in [&boss, &ann] {
        source
            .send(reqwest::Method::DELETE, &format!("/Users/{id}"), None)
            .await;
    }
    let held = eventually("a deprovision held by the guard", || async {
        let held = server.cli_json(&["sync", "held", "hr"])["approvals"].clone();
        held[0]["pending"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
            .then_some(held)
    })
    .await;
    let approved = server.cli_json(&["sync", "approve", held[0]["id"].as_str().unwrap()]);
    assert_eq!(approved["status"], "succeeded", "{approved}");
    let inactive: Vec<String> = people(&hr)
        .into_iter()
        .filter(|p| !p.active)
        .map(|p| p.login)
        .collect();
    assert_eq!(inactive, ["ann", "boss"]);

    // The database moves away: the target is quarantined, nothing queued per object.
    let gone = format!(
        "postgres://scimhub@127.0.0.1:{}/hr",
        crate::support::live::free_port()
    );
    server.cli_ok(&["target", "update", "hr", "--url", &gone, "--no-test"]);
    source.user("while-down", None).await;
    let status = eventually("quarantine", || async {
        let s = server.cli_json(&["target", "show", "hr"])["status"].clone();
        (s["state"] == "quarantined").then_some(s)
    })
    .await;
    let reason = status["quarantine"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("unreachable"), "{reason}");
}

on_both_sources!(a_sql_target_is_filled_by_runs_and_follows_changes);
