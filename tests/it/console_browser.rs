//! The console in real headless Chromium, against a live `scimhub serve`
//! (workers on) with a second scimhub as the downstream app: an admin
//! signs in, adds a target with a mapping and previews it, dry-runs, runs
//! and watches the progress, reads the report, approves what the deletion
//! guard held, retries a failure, creates and revokes a token and signs
//! out; hostile display names stay text. Each page is photographed.

use chrono::Utc;
use reqwest::StatusCode;
use scimhub::store::diesel::DieselStore;
use scimhub::store::{QueueRecord, SyncStore};
use serde_json::json;

use crate::lifecycle::{Source, add_target, users_of};
use crate::support::browser::Browser;
use crate::support::{Backend, TestApp, eventually};

pub(crate) const SCRIPT: &str = "<script>alert(1)</script>";
pub(crate) const IMG: &str = "\"><img src=x onerror=alert(1)>";

const MAPPING: &str = "[users]\nbase = \"identity\"\n[[users.rules]]\ntarget = \"title\"\nvalue = \"upper(userName)\"\n";

/// Reloads the page until `css` is on it.
async fn until_shown(b: &Browser, css: &str, what: &str) {
    eventually(what, || async {
        if b.exists(css).await {
            return Some(());
        }
        b.client.refresh().await.ok()?;
        None
    })
    .await;
}

/// Waits until `css`'s text satisfies `ok` (the page may reload itself meanwhile).
pub(crate) async fn until_text(
    b: &Browser,
    css: &str,
    what: &str,
    ok: impl Fn(&str) -> bool,
) -> String {
    eventually(what, || async {
        let found = b.client.find(fantoccini::Locator::Css(css)).await.ok()?;
        let text = found.text().await.ok()?;
        ok(&text).then_some(text)
    })
    .await
}

/// Signs in at the sign-in page with `token`.
pub(crate) async fn sign_in(b: &Browser, base: &str, token: &str) {
    b.goto(&format!("{base}/console/sign-in")).await;
    b.fill("#token", token).await;
    b.click("#sign-in").await;
    assert_eq!(b.text("#actor").await, "console:admin");
}

/// The downstream copy of `user_name`.
async fn downstream_user(downstream: &TestApp, user_name: &str) -> serde_json::Value {
    let found = downstream
        .get(&format!("/Users?filter=userName%20eq%20%22{user_name}%22"))
        .await;
    found.body["Resources"][0].clone()
}

pub(crate) async fn no_alert_opened(b: &Browser) {
    assert!(
        b.client.get_alert_text().await.is_err(),
        "a script from the directory ran"
    );
}

/// The scenario on one backend; screenshots from the SQLite run.
async fn an_admin_runs_the_sync_center_from_the_console(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let Some(b) = Browser::start(backend == Backend::Sqlite).await else {
        return;
    };
    let base = source.server.base.clone();
    let boss = source.user("boss", None).await;
    let mut staff = Vec::new();
    for i in 1..=10 {
        staff.push(source.user(&format!("u{i:02}"), Some(&boss)).await);
    }
    for (name, display) in [("mallory", SCRIPT), ("eve", IMG)] {
        let mut body = crate::support::user_body(name);
        body["displayName"] = json!(display);
        source
            .send(reqwest::Method::POST, "/Users", Some(body))
            .await;
    }
    let members: Vec<&str> = staff.iter().map(String::as_str).collect();
    source.group("staff", &members).await;
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();

    // Signing in: the console sends an unknown visitor to the sign-in page.
    b.goto(&format!("{base}/console/targets")).await;
    assert!(b.path().await.starts_with("/console/sign-in"));
    b.shot("sign-in").await;
    b.fill("#token", "not-a-token").await;
    b.click("#sign-in").await;
    assert!(b.text("#sign-in-error").await.contains("cannot sign in"));
    b.fill("#token", &source.token).await;
    b.click("#sign-in").await;
    assert_eq!(b.text("#actor").await, "console:admin");
    assert_eq!(
        b.path().await,
        "/console/targets",
        "back where it was going"
    );
    assert!(b.exists("#no-targets").await, "the empty state");
    b.shot("targets-empty").await;
    b.click("a[href='/console']").await;
    assert_eq!(b.text("#users-count").await, "13");

    // People: hostile names are text.
    b.goto(&format!("{base}/console/users?q=alert")).await;
    let rows = b.text("#results").await;
    assert!(rows.contains(SCRIPT) && rows.contains(IMG), "{rows}");
    assert!(!b.exists("#results img").await && !b.exists("main script").await);
    no_alert_opened(&b).await;
    b.shot("people").await;
    b.goto(&format!("{base}/console/users?q=u01")).await;
    b.click("#results a").await;
    assert_eq!(b.text("#user-name").await, "u01");
    assert!(
        b.text("#managers").await.contains("boss"),
        "the manager chain"
    );
    assert!(b.text("#groups").await.contains("staff"));
    b.shot("person").await;

    // A target with a mapping, previewed before it is saved.
    b.goto(&format!("{base}/console/new-target")).await;
    b.fill("#name", "down").await;
    b.fill("#url", &format!("{}/scim/v2", downstream.base))
        .await;
    b.fill("#token", &downstream.token).await;
    b.fill("#mapping", MAPPING).await;
    b.fill("#preview_user", "u01").await;
    // Live: the preview follows the editor without a click.
    until_text(&b, "#preview-result", "the live preview", |p| {
        p.contains("\"title\": \"U01\"")
    })
    .await;
    b.fill("#preview_user", "nobody").await;
    until_text(&b, "#preview-error", "the live preview's error", |e| {
        e.contains("no user \"nobody\"")
    })
    .await;
    // The button does the same without the script.
    b.fill("#preview_user", "u01").await;
    b.click("#preview").await;
    let preview = b.text("#preview-result").await;
    assert!(preview.contains("\"title\": \"U01\""), "{preview}");
    assert!(
        !b.find("#token")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
            .contains("scimhub_"),
        "the token is not sent back"
    );
    b.shot_at("target-preview", "#preview-result").await;
    b.fill("#token", &downstream.token).await;
    b.fill("#guard_percent", "10").await;
    b.fill("#guard_min", "3").await;
    // Paced, so the run takes long enough to watch.
    b.fill("#rate_limit", "10").await;
    b.click("#save").await;
    assert_eq!(b.text("#target-name span").await, "new");
    assert!(b.text(".notice").await.contains("added"));
    b.click("#test").await;
    assert!(b.text("#test-report h2").await.contains("passed"));
    b.shot("target").await;
    b.shot_at("target-test", "#test-report").await;

    // Dry run, then the run, watched.
    b.click("#dry-run").await;
    until_text(&b, "#run-status", "the dry run to finish", |s| {
        s == "planned"
    })
    .await;
    assert!(b.text("#changes").await.contains("create"));
    b.shot("dry-run").await;
    // One planned change in detail: what would be sent, with the values.
    b.click("#changes button").await;
    let push = b.text("#push-report").await;
    assert!(push.contains("would send: POST /Users"), "{push}");
    b.shot_at("push-dry-run", "#push-report").await;
    assert!(
        users_of(&downstream).await.is_empty(),
        "a dry run writes nothing"
    );

    b.goto(&format!("{base}/console/targets/down")).await;
    b.click("#run").await;
    let progress = until_text(&b, "[data-progress-text]", "progress of the run", |s| {
        s.contains(" of ")
    })
    .await;
    b.shot("run-progress").await;
    assert!(progress.contains(':'), "{progress}");
    until_text(&b, "#run-status", "the run to finish", |s| s == "succeeded").await;
    assert_eq!(
        b.text("[data-count='created']").await,
        "14",
        "13 users and a group"
    );
    b.shot("run-report").await;
    assert_eq!(users_of(&downstream).await.len(), 13);

    // Someone edits an account on the target: a dry run shows the value
    // there and the one it would send, both as text.
    let mut edited = downstream_user(&downstream, "mallory").await;
    edited["displayName"] = json!(IMG);
    let id = edited["id"].as_str().unwrap().to_string();
    assert_eq!(
        downstream
            .put(&format!("/Users/{id}"), &edited)
            .await
            .status,
        200
    );
    b.goto(&format!("{base}/console/targets/down")).await;
    b.click("#dry-run").await;
    until_text(&b, "#run-status", "the second dry run to finish", |s| {
        s == "planned"
    })
    .await;
    assert_eq!(
        b.text("#changes table.diff th[scope='row']").await,
        "displayName"
    );
    assert_eq!(b.text("#changes td.before").await, IMG);
    assert_eq!(b.text("#changes td.after").await, SCRIPT);
    assert!(!b.exists("#changes img").await && !b.exists("main script").await);
    no_alert_opened(&b).await;
    b.shot_at("dry-run-diff", "#changes").await;
    // The run puts it right.
    b.goto(&format!("{base}/console/targets/down")).await;
    b.click("#run").await;
    until_text(&b, "#run-status", "the correcting run to finish", |s| {
        s == "succeeded"
    })
    .await;
    assert_eq!(b.text("[data-count='updated']").await, "1");
    assert_eq!(
        downstream_user(&downstream, "mallory").await["displayName"],
        SCRIPT
    );
    b.goto(&format!("{base}/console")).await;
    b.shot("overview").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&format!("{base}/console")).await;
    let fits = b
        .client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
            vec![],
        )
        .await
        .unwrap();
    b.shot("overview-phone").await;
    assert_eq!(fits, json!(true), "the overview fits a phone-width screen");
    b.client.set_window_size(1280, 800).await.unwrap();

    // Five leave at once: the deletion guard holds them for approval.
    for id in &staff[5..] {
        source
            .send(reqwest::Method::DELETE, &format!("/Users/{id}"), None)
            .await;
    }
    b.goto(&format!("{base}/console/approvals")).await;
    // The guard lets the first ones through, then holds the rest.
    let held = eventually("all five applied or held", || async {
        b.client.refresh().await.ok()?;
        let rows = b
            .client
            .find_all(fantoccini::Locator::Css("table.held tbody tr"))
            .await
            .ok()?
            .len();
        let down = users_of(&downstream).await;
        let inactive = down.values().filter(|(active, _)| !active).count();
        (rows > 0 && rows + inactive == 5).then_some(rows)
    })
    .await;
    let names = b.text("table.held").await;
    assert!(names.contains("u10"), "held by name: {names}");
    assert!(held >= 3, "the guard trips at 3 (min_count)");
    b.shot("approvals").await;
    b.click("button[id^='approve-']").await;
    assert!(b.text(".notice").await.contains("approved"));
    eventually("the five deactivated downstream", || async {
        let down = users_of(&downstream).await;
        let inactive = down.values().filter(|(active, _)| !active).count();
        (inactive == 5).then_some(())
    })
    .await;
    b.goto(&format!("{base}/console/approvals")).await;
    assert!(b.exists("#no-approvals").await);

    // A failure in the queue, retried from the console.
    let db = DieselStore::open(&source.db, 1).unwrap();
    let target = db.find_target("down").unwrap().unwrap();
    db.queue_put(&QueueRecord {
        id: "console-f1".into(),
        target_id: target.id.clone(),
        resource_type: "User".into(),
        local_id: staff[0].clone(),
        operation: "update".into(),
        payload: Some(json!({"userName": "u01"}).to_string()),
        status: "permanent".into(),
        attempts: 5,
        next_attempt: Utc::now() + chrono::Duration::hours(1),
        last_status: Some(400),
        last_error: "the target refused it".into(),
        created: Utc::now(),
        updated: Utc::now(),
    })
    .unwrap();
    b.goto(&format!("{base}/console/failures")).await;
    assert!(
        b.text("#failure-console-f1")
            .await
            .contains("the target refused it")
    );
    b.shot("failures").await;
    b.click("#failure-console-f1 button.retry").await;
    assert!(b.text(".notice").await.contains("retry"));
    until_shown(&b, "#no-failures", "the retried failure to clear").await;

    // A token made (shown once) and revoked.
    b.goto(&format!("{base}/console/tokens")).await;
    b.fill("#token-name", "ci-bot").await;
    b.click("input[name='scim:read']").await;
    b.click("#create-token").await;
    let secret = b.text("#new-token-secret").await;
    assert!(secret.starts_with("scimhub_"), "{secret}");
    b.shot("tokens").await;
    let users = format!("{base}/scim/v2/Users");
    let call = || async {
        reqwest::Client::new()
            .get(&users)
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(call().await, StatusCode::OK);
    b.goto(&format!("{base}/console/tokens")).await;
    assert!(!b.exists("#new-token-secret").await, "shown once");
    b.click("button[aria-label='Revoke ci-bot']").await;
    assert!(b.text(".notice").await.contains("revoked"));
    assert_eq!(call().await, StatusCode::UNAUTHORIZED);

    // The rest of the pages, and what the audit trail says.
    b.goto(&format!("{base}/console/subscriptions")).await;
    assert!(b.exists("#no-subscriptions").await);
    b.shot("subscriptions").await;
    b.goto(&format!("{base}/console/runs")).await;
    b.shot("runs").await;
    b.goto(&format!("{base}/console/groups")).await;
    b.shot("groups").await;
    b.click("#results a").await;
    assert_eq!(b.text("#group-name").await, "staff");
    b.shot("group").await;
    b.goto(&format!("{base}/console/audit?actor=console:admin"))
        .await;
    let events = b.text("#events").await;
    for event in [
        "console.sign_in",
        "sync.target.add",
        "sync.run.start",
        "sync.run.approve",
        "sync.failure.retry",
        "token.create",
        "token.revoke",
    ] {
        assert!(events.contains(event), "{event} in {events}");
    }
    b.shot("audit").await;

    b.click("#sign-out").await;
    assert!(b.text(".notice").await.contains("signed out"));
    b.goto(&format!("{base}/console")).await;
    assert!(b.path().await.starts_with("/console/sign-in"));
    no_alert_opened(&b).await;
    b.close().await;
}

/// A console on a fresh server: every page says there is nothing yet (and
/// where to start), an unknown page or id is a 404 page naming the request,
/// and a sent form shows that it is under way.
async fn a_fresh_console_shows_empty_states_and_error_pages(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let Some(b) = Browser::start(backend == Backend::Sqlite).await else {
        return;
    };
    let base = source.server.base.clone();
    sign_in(&b, &base, &source.token).await;
    b.goto(&format!("{base}/console")).await;
    assert_eq!(b.text("#users-count").await, "0");
    for id in ["#no-targets", "#no-approvals", "#no-runs"] {
        assert!(b.exists(id).await, "{id} on the overview");
    }
    assert_eq!(
        b.find("#no-targets a")
            .await
            .attr("href")
            .await
            .unwrap()
            .as_deref(),
        Some("/console/new-target")
    );
    b.shot("empty-overview").await;
    for (path, id, shot) in [
        ("/console/users", "#no-results", "empty-people"),
        ("/console/groups", "#no-results", "empty-groups"),
        ("/console/targets", "#no-targets", "empty-targets"),
        ("/console/runs", "#no-runs", "empty-runs"),
        ("/console/approvals", "#no-approvals", "empty-approvals"),
        ("/console/failures", "#no-failures", "empty-failures"),
        (
            "/console/subscriptions",
            "#no-subscriptions",
            "empty-subscriptions",
        ),
        ("/console/audit?actor=nobody", "#no-events", "empty-audit"),
    ] {
        b.goto(&format!("{base}{path}")).await;
        assert!(b.exists(id).await, "{id} on {path}");
        b.shot(shot).await;
    }
    // A search that finds nothing offers the way back.
    b.goto(&format!("{base}/console/users?q=nobody")).await;
    assert!(b.text("#no-results").await.contains("Nothing matches"));

    // Unknown ids and pages: a 404 page with the request id, no detail.
    for path in [
        "/console/users/no-such-user",
        "/console/groups/no-such-group",
        "/console/targets/no-such-target",
        "/console/runs/no-such-run",
        "/console/no-such-page",
    ] {
        b.goto(&format!("{base}{path}")).await;
        assert_eq!(b.text("h1").await, "Not Found", "{path}");
        assert!(!b.text("#request-id").await.is_empty(), "{path}");
    }
    b.shot("not-found").await;

    // A sent form is marked busy and is not sent twice.
    b.goto(&format!("{base}/console/runs")).await;
    let busy = b
        .client
        .execute(
            "var f = document.querySelector('form.filters'); var sent = 0; \
             f.addEventListener('submit', function (e) { if (!e.defaultPrevented) { sent++; } e.preventDefault(); }); \
             f.requestSubmit(); f.requestSubmit(); \
             return [f.getAttribute('aria-busy'), f.classList.contains('loading'), sent];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(busy, json!(["true", true, 1]));
    b.close().await;
}

/// A run started with the CLI (another process) is watched in the
/// console: its progress moves without the page being reloaded.
async fn a_cli_run_is_watched_live_in_the_console(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let Some(b) = Browser::start(backend == Backend::Sqlite).await else {
        return;
    };
    let base = source.server.base.clone();
    for i in 0..40 {
        source.user(&format!("slow{i:02}"), None).await;
    }
    // No /Bulk downstream (it would carry the forty creates in one
    // request), and ten requests a second: the run takes about four seconds.
    let downstream = TestApp::start_with(Backend::Sqlite, |c| c.bulk_max_operations = 0)
        .await
        .unwrap();
    add_target(&source.server, &downstream, &["--rate-limit", "10"]);
    sign_in(&b, &base, &source.token).await;
    let mut cli = source.server.cli_spawn(&["sync", "run", "down"]);
    let id = eventually("the CLI's run to be running", || async {
        let runs = source
            .server
            .cli_json(&["sync", "runs", "down", "--status", "running"]);
        runs["runs"][0]["id"].as_str().map(str::to_string)
    })
    .await;
    b.goto(&format!("{base}/console/runs/{id}")).await;
    b.client
        .execute("window.scimhubWatched = true; return true;", vec![])
        .await
        .unwrap();
    let first = until_text(&b, "[data-progress-text]", "the users phase", |s| {
        s.starts_with("users: ") && !s.starts_with("users: 0 ")
    })
    .await;
    b.shot("run-progress-cli").await;
    let later = until_text(&b, "[data-progress-text]", "the progress to move", |s| {
        s.starts_with("users: ") && s != first
    })
    .await;
    assert!(later.contains(" of 40 planned"), "{later}");
    let same_page = b
        .client
        .execute("return window.scimhubWatched === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, json!(true), "the page was not reloaded");
    until_text(&b, "#run-status", "the run to finish", |s| s == "succeeded").await;
    assert_eq!(b.text("[data-count='created']").await, "40");
    let status =
        crate::support::eventually_blocking("the CLI run to end", || cli.try_wait().unwrap());
    assert!(status.success());
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_fresh_console_shows_empty_states_and_error_pages() {
    a_fresh_console_shows_empty_states_and_error_pages(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_fresh_console_shows_empty_states_and_error_pages() {
    a_fresh_console_shows_empty_states_and_error_pages(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_cli_run_is_watched_live_in_the_console() {
    a_cli_run_is_watched_live_in_the_console(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_cli_run_is_watched_live_in_the_console() {
    a_cli_run_is_watched_live_in_the_console(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_admin_runs_the_sync_center_from_the_console() {
    an_admin_runs_the_sync_center_from_the_console(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_admin_runs_the_sync_center_from_the_console() {
    an_admin_runs_the_sync_center_from_the_console(Backend::Postgres).await;
}
