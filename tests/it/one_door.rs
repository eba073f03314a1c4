//! One door, one audit trail: the CLI goes through the admin API's
//! services, so each of its changes is an audit row with `cli:<OS user>`
//! as actor, and its `--json` lists are the admin API's answers.

use chrono::Utc;
use reqwest::{Method, StatusCode};
use scimhub::config::Config;
use scimhub::crypto::SecretKey;
use scimhub::store::diesel::DieselStore;
use scimhub::store::{AuditQuery, QueueRecord, SyncStore};
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::TestApp;

fn with_key(config: &mut Config) {
    config.secret_key = Some(SecretKey([7; 32]));
}

/// An admin API GET, asserting 200.
async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let r = app.send(Method::GET, path, Some(token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    r.body
}

/// Runs a CLI command, asserting success; returns stdout.
async fn cli_ok(app: &TestApp, args: &[&str]) -> String {
    let out = app.cli(args).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "scimhub {args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn queued(target_id: &str, local_id: &str) -> QueueRecord {
    QueueRecord {
        id: format!("f-{local_id}"),
        target_id: target_id.into(),
        resource_type: "User".into(),
        local_id: local_id.into(),
        operation: "create".into(),
        payload: Some(json!({"userName": local_id}).to_string()),
        status: "permanent".into(),
        attempts: 3,
        next_attempt: Utc::now() + chrono::Duration::hours(1),
        last_status: Some(400),
        last_error: "the target said no".into(),
        created: Utc::now(),
        updated: Utc::now(),
    }
}

async fn cli_changes_are_audited_with_the_os_user(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);

    // Subscriptions: the generated secret is printed once, and listed never.
    let said = cli_ok(
        &app,
        &[
            "subscription",
            "add",
            "--name",
            "crm",
            "--url",
            "https://crm.example/hook",
            "--types",
            "Users",
        ],
    )
    .await;
    let secret = said
        .lines()
        .find(|l| l.starts_with("whsec_"))
        .unwrap_or_else(|| panic!("no secret printed: {said}"))
        .to_string();
    assert_eq!(said.matches(&secret).count(), 1, "{said}");
    assert!(said.contains("Added subscription \"crm\""), "{said}");
    let created = app
        .send(
            Method::POST,
            "/admin/v1/subscriptions",
            Some(&admin),
            Some(
                json!({"name": "hr", "url": "https://hr.example/hook"})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let listed = get(&app, &admin, "/admin/v1/subscriptions").await;
    let names: Vec<&str> = listed["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{listed}");
    assert!(names.contains(&"crm") && names.contains(&"hr"), "{listed}");
    assert_eq!(app.cli_json(&["subscription", "list"]).await, listed);
    assert!(!listed.to_string().contains(&secret));
    cli_ok(&app, &["subscription", "remove", "crm"]).await;
    let again = app.cli(&["subscription", "remove", "crm"]).await;
    assert!(!again.status.success(), "already gone");
    let listed = get(&app, &admin, "/admin/v1/subscriptions").await;
    assert_eq!(listed["subscriptions"].as_array().unwrap().len(), 1);
    assert_eq!(app.cli_json(&["subscription", "list"]).await, listed);

    // The failure queue.
    cli_ok(
        &app,
        &[
            "target",
            "add",
            "--name",
            "app",
            "--url",
            "https://app.example/scim/v2",
            "--token",
            "t",
            "--no-test",
        ],
    )
    .await;
    let db = DieselStore::open(&app.database_url, 2).unwrap();
    let target_id = db.find_target("app").unwrap().unwrap().id;
    for local in ["a", "b"] {
        db.queue_put(&queued(&target_id, local)).unwrap();
    }
    let failures = get(&app, &admin, "/admin/v1/failures").await;
    assert_eq!(failures["failures"].as_array().unwrap().len(), 2);
    assert_eq!(app.cli_json(&["failures", "list"]).await, failures);
    assert_eq!(
        app.cli_json(&["failures", "list", "--target", "app"]).await,
        get(&app, &admin, "/admin/v1/failures?target=app").await
    );
    cli_ok(&app, &["failures", "retry", "f-a"]).await;
    let retried = db.queue_get("f-a").unwrap().unwrap();
    assert_eq!(retried.status, "retrying");
    assert!(retried.next_attempt <= Utc::now());
    cli_ok(&app, &["failures", "retry", "--all"]).await;
    cli_ok(&app, &["failures", "discard", "f-b"]).await;
    assert!(db.queue_get("f-b").unwrap().is_none());

    // The change log and tokens.
    cli_ok(&app, &["changes", "prune", "--older-than-days", "30"]).await;
    cli_ok(&app, &["token", "create", "--name", "script"]).await;
    cli_ok(&app, &["token", "revoke", "script"]).await;

    // The trail `audit list --json` prints, newest first: every change
    // above with the CLI's actor (or the admin token's).
    let trail = app.cli_json(&["audit", "list"]).await;
    let mut rows: Vec<(String, String)> = trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] != "system")
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.reverse();
    let cli = |event: &str| (event.to_string(), "cli:tester".to_string());
    assert_eq!(
        rows,
        [
            cli("subscription.add"),
            ("subscription.add".to_string(), "ops".to_string()),
            cli("subscription.remove"),
            cli("sync.target.add"),
            cli("sync.failure.retry"),
            cli("sync.failure.retry"),
            cli("sync.failure.discard"),
            cli("changes.prune"),
            cli("token.create"),
            cli("token.revoke"),
        ]
    );
    assert!(!trail.to_string().contains(&secret), "{trail}");
    let mine = app
        .cli_json(&["audit", "list", "--actor", "cli:tester"])
        .await;
    assert_eq!(mine["events"].as_array().unwrap().len(), 9, "{mine}");
    let table = cli_ok(&app, &["audit", "list"]).await;
    assert!(
        table.contains("cli:tester") && table.contains("subscription.remove"),
        "{table}"
    );
}

on_both_backends!(
    config = super::with_key;
    cli_changes_are_audited_with_the_os_user,
);

/// `audit list --json` prints the stored rows as they are, filters included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_list_json_is_the_stored_trail() {
    let app = TestApp::start(crate::support::Backend::Sqlite)
        .await
        .unwrap();
    let created = app.create_user("listed").await;
    let id = created["id"].as_str().unwrap();
    let printed = app
        .cli_json(&["audit", "list", "--resource", id, "--limit", "5"])
        .await;
    let stored = app
        .store
        .audit(&AuditQuery {
            resource_id: Some(id.to_string()),
            limit: 5,
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(printed, json!({ "events": stored }));
    let event = &printed["events"][0];
    assert_eq!(event["event"], "resource.create");
    assert_eq!(event["actor"], "test-admin");
    assert_eq!(
        (&event["resourceType"], &event["resourceId"]),
        (&json!("User"), &json!(id))
    );
    assert!(event["requestId"].is_string() && event["at"].is_string());
    assert!(
        event["attributes"]
            .as_array()
            .unwrap()
            .contains(&json!("userName"))
    );
}
