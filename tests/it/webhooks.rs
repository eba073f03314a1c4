//! Signed webhooks against a wiremock receiver: notifications through the
//! outbox (signed, retried, dead on refusal) and change-event
//! subscriptions (in order, cursor moved only after a 2xx, no loss).

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use scimhub::config::Config;
use scimhub::crypto::SecretKey;
use scimhub::provision::runs::{RunOptions, RunStatus, SyncEngine};
use scimhub::provision::target::{self, Credentials, NewTarget, TargetSettings};
use scimhub::provision::webhook::deliverer::Deliverer;
use scimhub::provision::webhook::signing::{self, verify};
use scimhub::provision::webhook::subscription_worker::SubscriptionWorker;
use scimhub::provision::webhook::{Notification, Notifier};
use scimhub::provision::worker::WorkerContext;
use scimhub::settings::NotifyEndpoint;
use scimhub::store::diesel::DieselStore;
use scimhub::store::{DeliveryStatus, Store, SyncStore};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::on_both_backends;
use crate::support::TestApp;

const SECRET: &str = "notify-secret-0123456789";

/// Millisecond timing so retries are seen within a test.
fn fast(config: &mut Config) {
    config.webhooks.retry_base_ms = 1;
    config.webhooks.retry_max_ms = 5;
    config.webhooks.poll_interval_ms = 10;
    config.webhooks.subscription_poll_interval_ms = 10;
    config.webhooks.timeout_ms = 2000;
    config.secret_key = Some(SecretKey([5; 32]));
}

async fn start(default: &TestApp, customize: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::start_with(default.backend, |c| {
        fast(c);
        customize(c);
    })
    .await
    .unwrap()
}

fn endpoint(server: &MockServer) -> NotifyEndpoint {
    NotifyEndpoint {
        url: format!("{}/hook", server.uri()),
        secret: Some(SECRET.into()),
        secret_file: None,
        events: Vec::new(),
    }
}

fn quarantined() -> Notification {
    Notification::TargetQuarantined {
        target: "crm".into(),
        reason: "10 failed runs in a row".into(),
    }
}

fn deliverer(app: &TestApp) -> Deliverer {
    Deliverer::new(app.hooks.clone(), &app.config.notify, &app.config.webhooks).unwrap()
}

async fn notify(app: &TestApp, event: Notification) {
    Notifier::new(app.hooks.clone(), app.config.notify.clone())
        .notify_async(event)
        .await;
}

/// Checks the signature headers of a received request with `secret`.
#[track_caller]
fn assert_signed(req: &wiremock::Request, secret: &[u8]) {
    let header = |n: &str| req.headers.get(n).unwrap().to_str().unwrap().to_string();
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        verify(
            secret,
            &header(signing::TIMESTAMP_HEADER),
            &header(signing::SIGNATURE_HEADER),
            &req.body,
            now,
            300
        ),
        Ok(())
    );
    assert!(
        verify(
            b"another-secret",
            &header(signing::TIMESTAMP_HEADER),
            &header(signing::SIGNATURE_HEADER),
            &req.body,
            now,
            300
        )
        .is_err()
    );
}

async fn mount(server: &MockServer, status: u16, times: Option<u64>) {
    let mock = Mock::given(method("POST")).respond_with(ResponseTemplate::new(status));
    let mock = match times {
        Some(n) => mock.up_to_n_times(n).with_priority(1),
        None => mock.with_priority(5),
    };
    mock.mount(server).await;
}

async fn a_notification_is_delivered_signed(default: TestApp) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let app = start(&default, |c| c.notify = vec![endpoint(&server)]).await;
    notify(&app, quarantined()).await;
    assert_eq!(deliverer(&app).run_once().await.unwrap(), 1);

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let req = &received[0];
    assert_signed(req, SECRET.as_bytes());
    assert_eq!(
        req.headers.get(signing::EVENT_HEADER).unwrap(),
        "target.quarantined"
    );
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["type"], "target.quarantined");
    assert_eq!(
        body["data"],
        json!({"target": "crm", "reason": "10 failed runs in a row"})
    );
    let rows = app.hooks.list_deliveries(10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        req.headers.get(signing::DELIVERY_HEADER).unwrap(),
        rows[0].id.as_str()
    );
    assert_eq!(
        (rows[0].status, rows[0].attempts),
        (DeliveryStatus::Delivered, 1)
    );
    // Nothing is due any more.
    assert_eq!(deliverer(&app).run_once().await.unwrap(), 0);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

async fn a_500_is_retried_and_delivered_once(default: TestApp) {
    let server = MockServer::start().await;
    mount(&server, 500, Some(1)).await;
    mount(&server, 200, None).await;
    let app = start(&default, |c| c.notify = vec![endpoint(&server)]).await;
    notify(&app, quarantined()).await;
    let deliverer = deliverer(&app);
    assert_eq!(deliverer.run_once().await.unwrap(), 1);
    let row = app.hooks.list_deliveries(10).unwrap().remove(0);
    assert_eq!((row.status, row.attempts), (DeliveryStatus::Pending, 1));
    assert_eq!(row.last_error.as_deref(), Some("the receiver answered 500"));

    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(deliverer.run_once().await.unwrap(), 1);
    let row = app.hooks.list_deliveries(10).unwrap().remove(0);
    assert_eq!((row.status, row.attempts), (DeliveryStatus::Delivered, 2));
    assert_eq!(row.last_error, None);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(deliverer.run_once().await.unwrap(), 0);
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2, "one failure, one delivery");
    // A retry is the same delivery: same id, same body.
    assert_eq!(
        received[0].headers.get(signing::DELIVERY_HEADER),
        received[1].headers.get(signing::DELIVERY_HEADER)
    );
    assert_eq!(received[0].body, received[1].body);
}

async fn a_400_goes_dead_after_one_try(default: TestApp) {
    let server = MockServer::start().await;
    mount(&server, 400, None).await;
    let app = start(&default, |c| c.notify = vec![endpoint(&server)]).await;
    notify(&app, quarantined()).await;
    let deliverer = deliverer(&app);
    assert_eq!(deliverer.run_once().await.unwrap(), 1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(deliverer.run_once().await.unwrap(), 0);
    let row = app.hooks.list_deliveries(10).unwrap().remove(0);
    assert_eq!((row.status, row.attempts), (DeliveryStatus::Dead, 1));
    assert_eq!(row.last_error.as_deref(), Some("the receiver answered 400"));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

async fn a_failing_receiver_goes_dead_after_max_attempts(default: TestApp) {
    let server = MockServer::start().await;
    mount(&server, 503, None).await;
    let app = start(&default, |c| {
        c.notify = vec![endpoint(&server)];
        c.webhooks.max_attempts = 3;
    })
    .await;
    notify(&app, quarantined()).await;
    let deliverer = deliverer(&app);
    for _ in 0..5 {
        deliverer.run_once().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let row = app.hooks.list_deliveries(10).unwrap().remove(0);
    assert_eq!((row.status, row.attempts), (DeliveryStatus::Dead, 3));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

async fn endpoints_get_only_the_events_they_filter_for(default: TestApp) {
    let server = MockServer::start().await;
    mount(&server, 200, None).await;
    let mut only_runs = endpoint(&server);
    only_runs.events = vec!["sync.run.failed".into()];
    let app = start(&default, |c| c.notify = vec![only_runs]).await;
    notify(&app, quarantined()).await;
    assert!(app.hooks.list_deliveries(10).unwrap().is_empty());
    notify(
        &app,
        Notification::TargetReleased {
            target: "crm".into(),
            reason: None,
        },
    )
    .await;
    assert!(app.hooks.list_deliveries(10).unwrap().is_empty());
    notify(
        &app,
        Notification::RunFailed {
            target: "crm".into(),
            run_id: "r1".into(),
            error: Some("unreachable".into()),
            counts: Default::default(),
        },
    )
    .await;
    let queued = app.hooks.list_deliveries(10).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].event, "sync.run.failed");
}

/// A sync run that fails (the target refuses the credentials) notifies
/// through the engine's hook.
async fn a_failed_sync_run_is_notified(default: TestApp) {
    let receiver = MockServer::start().await;
    mount(&receiver, 200, None).await;
    let app = start(&default, |c| c.notify = vec![endpoint(&receiver)]).await;
    let target_server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&target_server)
        .await;
    let db = Arc::new(DieselStore::open(&app.database_url, 2).unwrap());
    let key = SecretKey([5; 32]);
    target::add(
        db.as_ref(),
        Some(&key),
        NewTarget {
            name: "crm".into(),
            base_url: format!("{}/scim/v2", target_server.uri()),
            credentials: Credentials::Bearer { token: "t".into() },
            mapping: None,
            scope: None,
            settings: TargetSettings::default(),
        },
    )
    .unwrap();
    // Worker tests follow the change log from its start.
    target::resume(db.as_ref(), "crm", 0).unwrap();
    let engine = SyncEngine::new(db.clone() as Arc<dyn Store>, db.clone(), Some(key))
        .with_notifier(Notifier::new(app.hooks.clone(), app.config.notify.clone()));
    let report = engine
        .run("crm", RunOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(report.head.status, RunStatus::Failed);
    deliverer(&app).run_once().await.unwrap();
    let received = receiver.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body["type"], "sync.run.failed");
    assert_eq!(body["data"]["target"], "crm");
    assert_eq!(body["data"]["runId"], report.head.id);
    assert!(body["data"]["error"].is_string(), "{body}");
}

/// The sync workers' quarantine alerts go out as notifications.
async fn quarantine_alerts_are_notified(default: TestApp) {
    let receiver = MockServer::start().await;
    mount(&receiver, 200, None).await;
    let app = start(&default, |c| c.notify = vec![endpoint(&receiver)]).await;
    let db = Arc::new(DieselStore::open(&app.database_url, 2).unwrap());
    let key = SecretKey([5; 32]);
    target::add(
        db.as_ref(),
        Some(&key),
        NewTarget {
            name: "crm".into(),
            base_url: "https://crm.example/scim/v2".into(),
            credentials: Credentials::Bearer { token: "t".into() },
            mapping: None,
            scope: None,
            settings: TargetSettings::default(),
        },
    )
    .unwrap();
    // Worker tests follow the change log from its start.
    target::resume(db.as_ref(), "crm", 0).unwrap();
    let record = db.find_target("crm").unwrap().unwrap();
    let ctx = WorkerContext::new(db.clone(), db, Some(key), app.config.sync.clone())
        .with_notifier(Notifier::new(app.hooks.clone(), app.config.notify.clone()));
    ctx.alert(&record, Some("credentials refused")).await;
    ctx.alert(&record, None).await;
    assert_eq!(deliverer(&app).run_once().await.unwrap(), 2);
    let mut got: Vec<(String, String)> = receiver
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            (
                body["type"].as_str().unwrap().to_string(),
                body["data"]["target"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("target.quarantined".to_string(), "crm".to_string()),
            ("target.released".to_string(), "crm".to_string())
        ]
    );
}

/// Creates a subscription through the admin API; returns (id, secret).
async fn subscribe(app: &TestApp, server: &MockServer, types: Value) -> (String, String) {
    let admin = app.token_with("admin", &["admin"]);
    let r = app
        .send(
            reqwest::Method::POST,
            "/admin/v1/subscriptions",
            Some(&admin),
            Some(
                json!({"name": "crm", "url": format!("{}/changes", server.uri()), "resourceTypes": types})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let secret = r.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    // Never shown again.
    let listed = app
        .send(
            reqwest::Method::GET,
            "/admin/v1/subscriptions",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(!listed.text.contains(&secret));
    assert!(listed.body["subscriptions"][0].get("secret").is_none());
    (r.body["id"].as_str().unwrap().to_string(), secret)
}

fn worker(app: &TestApp) -> SubscriptionWorker {
    SubscriptionWorker::new(
        app.store.clone(),
        app.hooks.clone(),
        app.config.secret_key.clone(),
        &app.config.webhooks,
        format!("{}/scim/v2", app.base),
    )
    .unwrap()
}

fn cursor_of(app: &TestApp) -> i64 {
    app.hooks.list_subscriptions().unwrap()[0].change_cursor
}

/// Every event the receiver answered 2xx for, in order.
async fn acknowledged(server: &MockServer, secret: &str) -> Vec<Value> {
    let mut events = Vec::new();
    for req in server.received_requests().await.unwrap() {
        assert_signed(&req, secret.as_bytes());
        assert_eq!(
            req.headers.get(signing::EVENT_HEADER).unwrap(),
            "scim.changes"
        );
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let batch = body["events"].as_array().unwrap().clone();
        // Past the last event sent (and past any filtered out after it).
        let cursor = |v: &Value| v.as_str().unwrap().parse::<i64>().unwrap();
        assert!(cursor(&body["nextCursor"]) >= cursor(&batch.last().unwrap()["cursor"]));
        events.push((req, batch));
    }
    events.into_iter().flat_map(|(_, b)| b).collect()
}

async fn a_subscription_receives_created_users_in_order(default: TestApp) {
    let server = MockServer::start().await;
    mount(&server, 200, None).await;
    let app = start(&default, |_| {}).await;
    app.create_user("before").await;
    let (_, secret) = subscribe(&app, &server, json!(["Users"])).await;
    let mut ids = Vec::new();
    for name in ["ann", "bob", "cyd"] {
        ids.push(
            app.create_user(name).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    app.create_group("Ignored", &[]).await;
    let mut worker = worker(&app);
    worker.run_once().await.unwrap();

    let events = acknowledged(&server, &secret).await;
    let got: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["operation"].as_str().unwrap(),
                e["id"].as_str().unwrap(),
                e["resource"]["userName"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("create", ids[0].as_str(), "ann"),
            ("create", ids[1].as_str(), "bob"),
            ("create", ids[2].as_str(), "cyd")
        ]
    );
    // The same shape as the pull API.
    let pulled = app
        .get(&format!(
            "/Changes?since={}",
            events[0]["cursor"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .unwrap()
                - 1
        ))
        .await;
    assert_eq!(pulled.body["changes"][0], events[0]);
    // The cursor is past the group too (filtered out, not pending).
    let latest = app.store.latest_change().unwrap();
    let sent: Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(sent["nextCursor"], latest.to_string());
    assert_eq!(cursor_of(&app), latest);
    worker.run_once().await.unwrap();
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "nothing new"
    );
}

async fn a_failing_subscriber_loses_nothing(default: TestApp) {
    let server = MockServer::start().await;
    let app = start(&default, |_| {}).await;
    let (_, secret) = subscribe(&app, &server, json!([])).await;
    let start_cursor = cursor_of(&app);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    for name in ["ann", "bob"] {
        app.create_user(name).await;
    }
    let mut worker = worker(&app);
    worker.run_once().await.unwrap();
    assert_eq!(cursor_of(&app), start_cursor, "not acknowledged, not moved");
    let sub = app.hooks.list_subscriptions().unwrap().remove(0);
    assert_eq!(sub.last_error.as_deref(), Some("the receiver answered 503"));
    app.create_user("cyd").await;

    server.reset().await;
    mount(&server, 200, None).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    worker.run_once().await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    worker.run_once().await.unwrap();

    let names: Vec<String> = acknowledged(&server, &secret)
        .await
        .iter()
        .map(|e| e["resource"]["userName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["ann", "bob", "cyd"], "all, once, in order");
    assert_eq!(cursor_of(&app), app.store.latest_change().unwrap());
    assert_eq!(app.hooks.list_subscriptions().unwrap()[0].last_error, None);
}

async fn subscriptions_are_managed_through_the_admin_api(default: TestApp) {
    let server = MockServer::start().await;
    let app = start(&default, |_| {}).await;
    let admin = app.token_with("admin", &["admin"]);
    let post = |body: Value| {
        app.send(
            reqwest::Method::POST,
            "/admin/v1/subscriptions",
            Some(&admin),
            Some(body.to_string().into_bytes()),
        )
    };
    // Refused requests store nothing.
    post(json!({"name": "x", "url": "ftp://nowhere"}))
        .await
        .assert_error(400, Some("invalidValue"));
    post(json!({"name": "x", "url": server.uri(), "resourceTypes": ["Widgets"]}))
        .await
        .assert_error(400, Some("invalidValue"));
    post(json!({"name": "x", "url": server.uri(), "secret": "short"}))
        .await
        .assert_error(400, Some("invalidValue"));
    post(json!({"name": "x", "url": server.uri(), "extra": 1}))
        .await
        .assert_error(400, Some("invalidValue"));
    assert!(app.hooks.list_subscriptions().unwrap().is_empty());

    // A given secret is not echoed.
    let r =
        post(json!({"name": "mine", "url": server.uri(), "secret": "my-own-secret-123456"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.body.get("secret").is_none() && !r.text.contains("my-own-secret"));
    assert_eq!(r.body["resourceTypes"], json!([]));
    post(json!({"name": "mine", "url": server.uri()}))
        .await
        .assert_error(409, Some("uniqueness"));

    let id = r.body["id"].as_str().unwrap();
    let gone = app
        .send(
            reqwest::Method::DELETE,
            &format!("/admin/v1/subscriptions/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert!(app.hooks.list_subscriptions().unwrap().is_empty());
    app.send(
        reqwest::Method::DELETE,
        &format!("/admin/v1/subscriptions/{id}"),
        Some(&admin),
        None,
    )
    .await
    .assert_error(404, None);
}

/// The background tasks `serve` runs deliver on their own and stop on request.
async fn the_workers_deliver_and_stop(default: TestApp) {
    let server = MockServer::start().await;
    mount(&server, 200, None).await;
    let app = start(&default, |c| c.notify = vec![endpoint(&server)]).await;
    let (_, _secret) = subscribe(&app, &server, json!([])).await;
    let workers = scimhub::service::notifications::start_workers(
        app.store.clone(),
        app.hooks.clone(),
        &app.config,
        None,
    )
    .unwrap();
    notify(&app, quarantined()).await;
    app.create_user("ann").await;
    let mut paths = Vec::new();
    for _ in 0..200 {
        paths = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| r.url.path().to_string())
            .collect::<Vec<_>>();
        if paths.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    paths.sort();
    assert_eq!(paths, ["/changes", "/hook"]);
    tokio::time::timeout(Duration::from_secs(5), workers.stop())
        .await
        .expect("stops promptly");
}

/// A prune keeps the changes a subscriber has not read (and says so); once
/// read they go; `force` removes them unread.
async fn pruning_keeps_what_a_subscriber_has_not_read(default: TestApp) {
    let server = MockServer::start().await;
    let app = start(&default, |_| {}).await;
    app.create_user("before").await;
    let (_, secret) = subscribe(&app, &server, json!([])).await;
    let from = cursor_of(&app);
    for name in ["ann", "bob"] {
        app.create_user(name).await;
    }
    let later = chrono::Utc::now() + chrono::Duration::seconds(5);
    let pruned = app.store.prune_changes(later, false).unwrap();
    assert_eq!(pruned.kept_for, ["webhook subscription crm"]);
    assert_eq!(app.store.changes_pruned_through().unwrap(), from);

    mount(&server, 200, None).await;
    worker(&app).run_once().await.unwrap();
    let names: Vec<String> = acknowledged(&server, &secret)
        .await
        .iter()
        .map(|e| e["resource"]["userName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["ann", "bob"], "nothing lost to the prune");

    let read = app.store.prune_changes(later, false).unwrap();
    assert!(read.kept_for.is_empty(), "{read:?}");
    assert!(read.removed >= 2, "{read:?}");
    app.create_user("cyd").await;
    let later = chrono::Utc::now() + chrono::Duration::seconds(5);
    let forced = app.store.prune_changes(later, true).unwrap();
    assert_eq!((forced.removed, forced.kept_for.len()), (1, 0));
    assert_eq!(
        app.store.changes_pruned_through().unwrap(),
        app.store.latest_change().unwrap()
    );
}

on_both_backends!(
    pruning_keeps_what_a_subscriber_has_not_read,
    a_notification_is_delivered_signed,
    a_500_is_retried_and_delivered_once,
    a_400_goes_dead_after_one_try,
    a_failing_receiver_goes_dead_after_max_attempts,
    endpoints_get_only_the_events_they_filter_for,
    a_failed_sync_run_is_notified,
    quarantine_alerts_are_notified,
    a_subscription_receives_created_users_in_order,
    a_failing_subscriber_loses_nothing,
    subscriptions_are_managed_through_the_admin_api,
    the_workers_deliver_and_stop,
);

/// `scimhub subscription add|list|remove`: the generated secret is printed
/// once, never listed; a given secret (from the environment) is not echoed.
#[test]
fn subscription_commands_add_list_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_scimhub"));
        cmd.env_remove("SCIMHUB_DATABASE_URL")
            .env_remove("SCIMHUB_SUBSCRIPTION_SECRET")
            .env("SCIMHUB_SECRET_KEY", "11".repeat(32))
            .args(args)
            .args(["--database", &db]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + "\n"
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    };
    let (ok, text) = run(
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
        &[],
    );
    assert!(ok, "{text}");
    let secret = text
        .lines()
        .find(|l| l.starts_with("whsec_"))
        .unwrap_or_default()
        .to_string();
    assert_eq!(text.matches(&secret).count(), 1, "printed once: {text}");
    assert!(secret.starts_with("whsec_"), "{text}");
    let (ok, text) = run(
        &[
            "subscription",
            "add",
            "--name",
            "hr",
            "--url",
            "https://hr.example/hook",
        ],
        &[("SCIMHUB_SUBSCRIPTION_SECRET", "from-the-environment-1234")],
    );
    assert!(
        ok && !text.contains("from-the-environment") && !text.contains("whsec_"),
        "{text}"
    );
    let (ok, bad) = run(
        &[
            "subscription",
            "add",
            "--name",
            "x",
            "--url",
            "https://x.example",
            "--types",
            "Widgets",
        ],
        &[],
    );
    assert!(!ok && bad.contains("Widgets"), "{bad}");

    let (ok, listed) = run(&["subscription", "list"], &[]);
    assert!(ok, "{listed}");
    assert!(listed.contains("crm") && listed.contains("hr") && !listed.contains(" x "));
    assert!(!listed.contains(&secret) && !listed.contains("from-the-environment"));
    let (ok, text) = run(&["subscription", "remove", "crm"], &[]);
    assert!(ok, "{text}");
    let (_, listed) = run(&["subscription", "list"], &[]);
    assert!(!listed.contains("crm") && listed.contains("hr"), "{listed}");
    let (ok, _) = run(&["subscription", "remove", "crm"], &[]);
    assert!(!ok, "already gone");
}
