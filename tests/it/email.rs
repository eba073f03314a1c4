//! Operator notifications by e-mail, against a small SMTP server written in
//! the tests: a quarantine, a failed run and a held deletion each mail once
//! from a running `scimhub serve`, with the command to act on it; a growing
//! failure queue is mailed once until it drains; deferred mail is retried,
//! refused mail goes dead; bad settings stop start-up naming the key.

use std::sync::Arc;

use scimhub::config::Config;
use scimhub::crypto::SecretKey;
use scimhub::provision::target::{self, Credentials, NewTarget, TargetSettings};
use scimhub::provision::webhook::Notification;
use scimhub::provision::worker::WorkerContext;
use scimhub::provision::worker::queue_watch::QueueWatch;
use scimhub::service::notifications;
use scimhub::settings::{EmailConfig, SmtpSecurity, SyncWorkerConfig};
use scimhub::store::diesel::DieselStore;
use scimhub::store::{DeliveryRecord, DeliveryStatus, QueueRecord, SyncStore};
use serde_json::{Value, json};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer};

use crate::on_both_backends;
use crate::realtime::mount_echo;
use crate::support::live::{LiveServer, free_port, scimhub};
use crate::support::smtp::{Mail, SmtpServer};
use crate::support::{TestApp, eventually};
use crate::sync_faults::{error, mock_target, scim};

const OPS: &str = "ops@example.com";

/// `serve` (and the CLI beside it) mailing `OPS` through `smtp`.
fn live(app: &TestApp, smtp: &SmtpServer, extra: &[(&str, &str)]) -> LiveServer {
    let port = smtp.port().to_string();
    let mut env = vec![
        ("SCIMHUB_EMAIL_SMTP_HOST", "127.0.0.1"),
        ("SCIMHUB_EMAIL_SMTP_PORT", port.as_str()),
        ("SCIMHUB_EMAIL_SECURITY", "none"),
        ("SCIMHUB_EMAIL_FROM", "scimhub <hub@example.com>"),
        ("SCIMHUB_EMAIL_TO", OPS),
        ("SCIMHUB_PUBLIC_URL", "https://hub.example.com"),
        ("SCIMHUB_WEBHOOK_POLL_INTERVAL_MS", "20"),
    ];
    env.extend_from_slice(extra);
    LiveServer::start(&app.database_url, &env)
}

fn add_target(live: &LiveServer, server: &MockServer, extra: &[&str]) {
    let url = format!("{}/scim/v2", server.uri());
    let mut args = vec![
        "target",
        "add",
        "--name",
        "mock",
        "--url",
        &url,
        "--token",
        "t",
        "--resource-types",
        "Users",
        // The mock answers only what each test needs, not a connection test.
        "--no-test",
    ];
    args.extend_from_slice(extra);
    live.cli_ok(&args);
}

/// The initial full run: a new target's worker pushes only after it.
fn initial_sync(live: &LiveServer) {
    live.cli_ok(&["sync", "run", "mock"]);
}

/// The outbox rows of one event type.
fn rows(app: &TestApp, event: &str) -> Vec<DeliveryRecord> {
    app.hooks
        .list_deliveries(100)
        .unwrap()
        .into_iter()
        .filter(|d| d.event == event)
        .collect()
}

/// Waits for the one mail whose subject contains `subject` and for its
/// outbox row to be delivered; then no other row of `event` may exist.
async fn the_one_mail(app: &TestApp, smtp: &SmtpServer, subject: &str, event: &str) -> Mail {
    let mail = eventually(&format!("a mail about {subject:?}"), || async {
        smtp.mails_about(subject).pop()
    })
    .await;
    eventually("its outbox row delivered", || async {
        let r = rows(app, event);
        r.iter()
            .all(|d| d.status == DeliveryStatus::Delivered)
            .then_some(())
    })
    .await;
    let r = rows(app, event);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].endpoint, format!("mailto:{OPS}"));
    assert_eq!(smtp.mails_about(subject).len(), 1);
    assert_eq!(mail.to, [OPS]);
    assert_eq!(mail.from, "hub@example.com");
    mail
}

/// A target refusing the credentials is quarantined and mailed about once,
/// however often it is probed afterwards.
async fn a_quarantine_is_mailed_once_with_the_release_command(app: TestApp) {
    let smtp = SmtpServer::start().await;
    let server = mock_target().await;
    let live = live(&app, &smtp, &[]);
    add_target(&live, &server, &[]);
    initial_sync(&live);
    // Then the target starts refusing the credentials.
    server.reset().await;
    Mock::given(any())
        .respond_with(error(401, "", "token revoked"))
        .mount(&server)
        .await;
    app.create_user("alice").await;

    let mail = eventually("the quarantine mail", || async {
        smtp.mails_about("is quarantined").pop()
    })
    .await;
    // Probes keep failing (one a second); none is notified again.
    let seen = server.received_requests().await.unwrap().len();
    eventually("three more probes", || async {
        (server.received_requests().await.unwrap().len() >= seen + 3).then_some(())
    })
    .await;
    let again = the_one_mail(&app, &smtp, "is quarantined", "target.quarantined").await;
    assert_eq!(again.data, mail.data);
    assert_eq!(
        mail.header("Subject").unwrap(),
        "[scimhub] Target mock is quarantined"
    );
    let text = mail.text();
    assert!(
        text.contains("Reason:  the target refused the credentials (401)"),
        "{text}"
    );
    assert!(text.contains("    scimhub target release mock\n"), "{text}");
    assert!(
        text.contains("POST https://hub.example.com/admin/v1/targets/mock/release"),
        "{text}"
    );
    let id = &rows(&app, "target.quarantined")[0].id;
    assert_eq!(
        mail.header("Message-ID").unwrap(),
        format!("<{id}@example.com>")
    );
}

/// `scimhub sync run` of a target refusing the credentials fails; the CLI
/// queues one mail and the running server sends it.
async fn a_failed_run_is_mailed_once_with_the_report_command(app: TestApp) {
    let smtp = SmtpServer::start().await;
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(error(401, "", "token revoked"))
        .mount(&server)
        .await;
    let live = live(&app, &smtp, &[]);
    add_target(&live, &server, &[]);
    let out = live.cli(&["sync", "run", "mock", "--json"]);
    assert_eq!(out.status.code(), Some(1), "a failed run exits 1");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "failed");
    let run = report["id"].as_str().unwrap();

    let mail = the_one_mail(&app, &smtp, "Sync run of mock failed", "sync.run.failed").await;
    let text = mail.text();
    assert!(text.contains(&format!("Run:     {run}\n")), "{text}");
    assert!(
        text.contains(&format!("    scimhub sync show {run}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("GET https://hub.example.com/admin/v1/runs/{run}")),
        "{text}"
    );
    assert!(text.contains("Counts:  created 0,"), "{text}");
}

/// The real-time worker holds a deletion for approval: one mail, whose
/// approve command works as written.
async fn a_held_deletion_is_mailed_and_its_approve_command_works(app: TestApp) {
    let smtp = SmtpServer::start().await;
    let server = mock_target().await;
    mount_echo(&server).await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Users/r-leaver"))
        .respond_with(scim(
            200,
            json!({"id": "r-leaver", "userName": "leaver", "active": false}),
        ))
        .mount(&server)
        .await;
    let live = live(&app, &smtp, &[]);
    add_target(
        &live,
        &server,
        &["--guard-min", "1", "--guard-percent", "0"],
    );
    initial_sync(&live);
    let id = app.create_user("leaver").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let db = DieselStore::open(&app.database_url, 2).unwrap();
    let target_id = db.find_target("mock").unwrap().unwrap().id;
    eventually("leaver linked", || async {
        (db.links(&target_id, "User").unwrap().len() == 1).then_some(())
    })
    .await;
    assert_eq!(app.delete(&format!("/Users/{id}")).await.status, 204);

    let mail = the_one_mail(&app, &smtp, "await approval", "sync.guard.tripped").await;
    assert_eq!(
        mail.header("Subject").unwrap(),
        "[scimhub] mock: 1 deprovision(s) await approval"
    );
    let text = mail.text();
    let command = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("scimhub sync approve "))
        .unwrap_or_else(|| panic!("no approve command in {text}"));
    let run = command.trim_start_matches("scimhub sync approve ");
    assert!(
        text.contains(&format!(
            "POST https://hub.example.com/admin/v1/runs/{run}/approve"
        )),
        "{text}"
    );
    let args: Vec<&str> = command.split(' ').skip(1).collect();
    live.cli_ok(&args);
    let report = live.cli_json(&["sync", "show", run]);
    assert_eq!(report["status"], "succeeded", "{report}");
    // A successful approval is not notified.
    assert_eq!(rows(&app, "sync.run.failed").len(), 0);
    assert_eq!(smtp.mails().len(), 1);
}

/// A queue growing past `sync.queue_alert_depth` is mailed by the running
/// server's supervisor, with the command listing the failures.
async fn a_deep_failure_queue_is_mailed_by_the_server(app: TestApp) {
    let smtp = SmtpServer::start().await;
    let server = mock_target().await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(error(400, "invalidValue", "no"))
        .mount(&server)
        .await;
    let live = live(
        &app,
        &smtp,
        &[
            ("SCIMHUB_SYNC_QUEUE_CHECK_SECS", "1"),
            ("SCIMHUB_SYNC_QUEUE_ALERT_DEPTH", "2"),
            ("SCIMHUB_SYNC_QUARANTINE_FAILURE_SHARE", "1"),
        ],
    );
    add_target(&live, &server, &[]);
    initial_sync(&live);
    app.create_user("one").await;
    app.create_user("two").await;

    let mail = the_one_mail(&app, &smtp, "keeps growing", "sync.queue.growing").await;
    assert_eq!(
        mail.header("Subject").unwrap(),
        "[scimhub] Failure queue of mock keeps growing (2 queued)"
    );
    let text = mail.text();
    assert!(text.contains("2 object(s), 2 of them refused"), "{text}");
    assert!(
        text.contains("    scimhub failures list --target mock\n"),
        "{text}"
    );
    assert!(
        text.contains("GET https://hub.example.com/admin/v1/failures?target=mock"),
        "{text}"
    );
    // Both ways the mail names work as written.
    let listed = live.cli_ok(&["failures", "list", "--target", "mock"]);
    assert_eq!(listed.matches("permanent").count(), 2, "{listed}");
    let created = live.cli_ok(&["token", "create", "--name", "ops", "--scopes", "admin"]);
    let token = created.lines().last().unwrap().trim();
    let r = app
        .client()
        .get(format!("{}/admin/v1/failures?target=mock", live.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["failures"].as_array().unwrap().len(), 2, "{body}");
}

fn mail_config(app: &TestApp, port: u16, to: &[&str]) -> Config {
    let mut config = app.config.clone();
    config.webhooks.retry_base_ms = 1;
    config.webhooks.retry_max_ms = 5;
    config.webhooks.timeout_ms = 2000;
    config.email = EmailConfig {
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: Some(port),
        security: SmtpSecurity::None,
        from: Some("scimhub <hub@example.com>".into()),
        to: to.iter().map(|t| t.to_string()).collect(),
        ..EmailConfig::default()
    };
    config
}

fn quarantined() -> Notification {
    Notification::TargetQuarantined {
        target: "crm".into(),
        reason: "the target refused the credentials (401)".into(),
    }
}

/// Connection refused, then 451 (try later), then accepted: three attempts
/// of one delivery, one message.
async fn mail_is_retried_until_the_server_takes_it(app: TestApp) {
    let port = free_port();
    let config = mail_config(&app, port, &[OPS]);
    notifications::notifier(app.hooks.clone(), &config)
        .notify_async(quarantined())
        .await;
    let deliverer = notifications::deliverer(app.hooks.clone(), &config).unwrap();
    let row = || app.hooks.list_deliveries(10).unwrap().remove(0);

    assert_eq!(deliverer.run_once().await.unwrap(), 1);
    let first = row();
    assert_eq!((first.status, first.attempts), (DeliveryStatus::Pending, 1));
    assert!(
        first
            .last_error
            .as_deref()
            .unwrap()
            .contains("could not be sent"),
        "{first:?}"
    );

    let smtp = SmtpServer::start_on(port).await;
    smtp.defer_next(1);
    eventually("the second attempt", || async {
        (deliverer.run_once().await.unwrap() == 1).then_some(())
    })
    .await;
    let second = row();
    assert_eq!(
        (second.status, second.attempts),
        (DeliveryStatus::Pending, 2)
    );
    assert!(
        second.last_error.as_deref().unwrap().contains("451"),
        "{second:?}"
    );
    assert!(smtp.mails().is_empty());

    eventually("the third attempt", || async {
        (deliverer.run_once().await.unwrap() == 1).then_some(())
    })
    .await;
    let third = row();
    assert_eq!(
        (third.status, third.attempts, third.last_error),
        (DeliveryStatus::Delivered, 3, None)
    );
    assert_eq!(deliverer.run_once().await.unwrap(), 0, "nothing due");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, [OPS]);
    assert_eq!(
        mails[0].header("Message-ID").unwrap(),
        format!("<{}@example.com>", first.id),
        "the same delivery on every attempt"
    );
    assert!(mails[0].text().contains("scimhub target release crm"));
}

/// Each recipient is its own delivery: a 550 kills only that one.
async fn a_refused_recipient_goes_dead_and_the_others_still_get_it(app: TestApp) {
    let smtp = SmtpServer::start().await;
    smtp.refuse("gone@example.com");
    let config = mail_config(&app, smtp.port(), &[OPS, "Gone <gone@example.com>"]);
    notifications::notifier(app.hooks.clone(), &config)
        .notify_async(quarantined())
        .await;
    let deliverer = notifications::deliverer(app.hooks.clone(), &config).unwrap();
    assert_eq!(deliverer.run_once().await.unwrap(), 2);
    let mut got: Vec<(String, DeliveryStatus, i32)> = app
        .hooks
        .list_deliveries(10)
        .unwrap()
        .into_iter()
        .map(|d| (d.endpoint, d.status, d.attempts))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            ("mailto:gone@example.com".into(), DeliveryStatus::Dead, 1),
            (format!("mailto:{OPS}"), DeliveryStatus::Delivered, 1),
        ]
    );
    let dead = app
        .hooks
        .list_deliveries(10)
        .unwrap()
        .into_iter()
        .find(|d| d.status == DeliveryStatus::Dead)
        .unwrap();
    assert!(dead.last_error.unwrap().contains("550"));
    assert_eq!(
        deliverer.run_once().await.unwrap(),
        0,
        "dead is not retried"
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, [OPS]);
}

/// The watch notifies a queue that grew at `queue_alert_checks` checks in
/// a row once: not again while it stays raised (a restart included), and
/// again only after it drained.
async fn a_growing_queue_is_notified_once_until_it_drains(app: TestApp) {
    let config = mail_config(&app, free_port(), &[OPS]);
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
    let sync = SyncWorkerConfig {
        queue_alert_checks: 2,
        queue_alert_depth: 0,
        ..SyncWorkerConfig::default()
    };
    let ctx = WorkerContext::new(db.clone(), db.clone(), Some(key), sync.clone())
        .with_notifier(notifications::notifier(app.hooks.clone(), &config));
    let targets = db.list_targets().unwrap();
    let target_id = targets[0].id.clone();
    let mut queued = 0;
    let mut grow = || {
        queued += 1;
        let now = chrono::Utc::now();
        db.queue_put(&QueueRecord {
            id: format!("q{queued}"),
            target_id: target_id.clone(),
            resource_type: "User".into(),
            local_id: format!("u{queued}"),
            operation: "create".into(),
            payload: None,
            status: if queued == 1 { "permanent" } else { "retrying" }.into(),
            attempts: 1,
            next_attempt: now,
            last_status: Some(400),
            last_error: "no".into(),
            created: now,
            updated: now,
        })
        .unwrap();
    };
    let alerts = || rows(&app, "sync.queue.growing");

    let mut watch = QueueWatch::new(&sync);
    watch.check(&ctx, &targets).await.unwrap();
    grow();
    watch.check(&ctx, &targets).await.unwrap();
    assert!(alerts().is_empty(), "one rise is not yet an alert");
    grow();
    watch.check(&ctx, &targets).await.unwrap();
    let raised = alerts();
    assert_eq!(raised.len(), 1);
    let message: Value = serde_json::from_str(&raised[0].body).unwrap();
    assert_eq!(
        message["subject"],
        "[scimhub] Failure queue of crm keeps growing (2 queued)"
    );
    let text = message["text"].as_str().unwrap();
    assert!(text.contains("2 object(s), 1 of them refused"), "{text}");
    assert!(
        text.contains("It grew at each of the last 2 checks."),
        "{text}"
    );
    assert!(
        text.contains("scimhub failures list --target crm"),
        "{text}"
    );

    // Still growing, a restart, another instance: no second notification.
    for _ in 0..2 {
        grow();
        watch.check(&ctx, &targets).await.unwrap();
    }
    let mut restarted = QueueWatch::new(&sync);
    for _ in 0..3 {
        restarted.check(&ctx, &targets).await.unwrap();
        grow();
    }
    restarted.check(&ctx, &targets).await.unwrap();
    assert!(!db.raise_queue_alert(&targets[0].id, 9).unwrap());
    assert_eq!(alerts().len(), 1);

    // Drained: the alert clears, and the next growth is notified again.
    for entry in db.queue_list(Some(&targets[0].id)).unwrap() {
        assert!(db.queue_remove_id(&entry.id).unwrap());
    }
    restarted.check(&ctx, &targets).await.unwrap();
    assert!(db.queue_alerts().unwrap().is_empty());
    grow();
    restarted.check(&ctx, &targets).await.unwrap();
    grow();
    restarted.check(&ctx, &targets).await.unwrap();
    assert_eq!(alerts().len(), 2);
}

on_both_backends!(
    a_quarantine_is_mailed_once_with_the_release_command,
    a_failed_run_is_mailed_once_with_the_report_command,
    a_held_deletion_is_mailed_and_its_approve_command_works,
    a_deep_failure_queue_is_mailed_by_the_server,
    mail_is_retried_until_the_server_takes_it,
    a_refused_recipient_goes_dead_and_the_others_still_get_it,
    a_growing_queue_is_notified_once_until_it_drains,
);

/// Bad e-mail settings stop `serve` before it opens the database, with one
/// error naming the setting.
#[test]
fn bad_email_settings_stop_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("never.db");
    let database = format!("sqlite://{}", db.display());
    let file = dir.path().join("scimhub.toml");
    std::fs::write(&file, "[email]\nsmtp_hots = \"smtp.example.com\"\n").unwrap();
    let good = [
        ("SCIMHUB_EMAIL_SMTP_HOST", "smtp.example.com"),
        ("SCIMHUB_EMAIL_FROM", "hub@example.com"),
        ("SCIMHUB_EMAIL_TO", OPS),
    ];
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Env, bool, &str); 5] = [
        (
            &[("SCIMHUB_EMAIL_TO", "ops@example.com,nobody")],
            false,
            "email.to",
        ),
        (
            &[("SCIMHUB_EMAIL_FROM", "not an address")],
            false,
            "email.from",
        ),
        (
            &[("SCIMHUB_EMAIL_SECURITY", "ssl")],
            false,
            "SCIMHUB_EMAIL_SECURITY",
        ),
        (
            &[("SCIMHUB_EMAIL_USERNAME", "hub")],
            false,
            "email.username",
        ),
        (&[], true, "smtp_hots"),
    ];
    for (env, with_file, key) in cases {
        let mut cmd = scimhub();
        if with_file {
            cmd.arg("--config").arg(&file);
        } else {
            cmd.envs(good);
        }
        let out = cmd
            .envs(env.iter().copied())
            .args(["serve", "--listen", "127.0.0.1:0", "--database", &database])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{env:?}: {stderr}");
        assert!(stderr.contains(key), "{env:?}: {stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{stderr}"
        );
        assert!(!db.exists(), "{env:?}: the database was opened");
    }
}
