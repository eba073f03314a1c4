//! The console's Sources pages: in headless Chromium against a live
//! `scimhub serve` (a file source added with the CLI, dry-run, run, its
//! refused record read as text, its deletion guard tripped and approved),
//! and over plain HTTP (forms without the session's CSRF token change
//! nothing; hostile values are escaped).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::Value;

use crate::console_browser::{IMG, SCRIPT, no_alert_opened, sign_in, until_text};
use crate::lifecycle::Source;
use crate::on_both_backends;
use crate::support::browser::Browser;
use crate::support::console::ConsoleClient;
use crate::support::{Backend, TestApp, eventually};

const HEADER: &str = "externalId;userName;name.givenName;name.familyName;\
emails[type eq \"work\"].value;displayName;active";

/// An HR export with `staff` people, mallory (a hostile displayName, valid)
/// and eve (an invalid e-mail and a hostile displayName: refused).
fn export(staff: usize) -> String {
    let mut text = format!("{HEADER}\n");
    for i in 1..=staff {
        text.push_str(&format!(
            "{i};user{i:02};User;Number{i};user{i:02}@example.org;User {i};true\n"
        ));
    }
    text.push_str(&format!(
        "90;mallory;Mal;Lory;mallory@example.org;{SCRIPT};true\n"
    ));
    let quoted = format!("\"{}\"", IMG.replace('"', "\"\""));
    text.push_str(&format!("91;eve;Eve;Dropper;not-an-email;{quoted};true\n"));
    text
}

/// `source add --name hr` reading `file`, with a guard that trips at 3.
fn add_args(file: &str) -> Vec<&str> {
    vec![
        "source",
        "add",
        "--name",
        "hr",
        "--kind",
        "file",
        "--path",
        file,
        "--guard-percent",
        "20",
        "--guard-min",
        "3",
    ]
}

/// A named pipe as the source's export: a run reading it waits until it is
/// written. Dropped unwritten (a test failed), it is closed empty so the
/// run, and the server under test, can end.
struct Pipe {
    path: PathBuf,
    written: bool,
}

impl Pipe {
    fn make(path: &Path) -> Self {
        let made = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(made.success());
        Self {
            path: path.to_path_buf(),
            written: false,
        }
    }

    /// Writes `text` on a thread of its own (it waits for the reader).
    fn write(mut self, text: String) -> std::thread::JoinHandle<std::io::Result<()>> {
        self.written = true;
        let path = self.path.clone();
        std::thread::spawn(move || std::fs::write(path, text))
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        if !self.written {
            let path = self.path.clone();
            std::thread::spawn(move || std::fs::write(path, ""));
        }
    }
}

/// userName → active, of every user of a SCIM server's list.
fn activity(list: &Value) -> BTreeMap<String, bool> {
    list["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            (
                u["userName"].as_str().unwrap_or_default().to_string(),
                u["active"] != false,
            )
        })
        .collect()
}

/// The scenario on one backend; screenshots from the SQLite run.
async fn an_admin_imports_a_source_from_the_console(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let Some(b) = Browser::start(backend == Backend::Sqlite).await else {
        return;
    };
    let base = source.server.base.clone();
    sign_in(&b, &base, &source.token).await;

    // Nothing yet: the page says where to start.
    b.goto(&format!("{base}/console/sources")).await;
    assert!(b.text("#no-sources").await.contains("scimhub source add"));
    b.shot("empty-sources").await;
    for path in ["/console/sources/nope", "/console/source-runs/nope"] {
        b.goto(&format!("{base}{path}")).await;
        assert_eq!(b.text("h1").await, "Not Found", "{path}");
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(&file, export(12)).unwrap();
    let path = file.to_string_lossy().to_string();
    source.server.cli_ok(&add_args(&path));

    // The list, then the source's page.
    b.goto(&format!("{base}/console")).await;
    b.click("a[href='/console/sources']").await;
    let row = b.text("#source-hr").await;
    assert!(row.contains("file") && row.contains("manual"), "{row}");
    assert!(row.contains("never run"), "{row}");
    b.shot("sources").await;
    b.click("#source-hr a").await;
    assert_eq!(b.text("#source-kind").await, "file");
    assert_eq!(b.text("#source-credentials").await, "none");
    assert!(b.text("#settings").await.contains(&path));
    assert!(b.exists("#no-runs").await);
    b.shot("source").await;

    // A dry run: the plan, the refused record, nothing written.
    b.click("#dry-run").await;
    until_text(&b, "#run-status", "the dry run to end", |s| s == "planned").await;
    assert_eq!(b.text("#run-trigger").await, "console");
    assert_eq!(b.text("[data-count='created']").await, "13");
    assert_eq!(b.text("[data-count='refused']").await, "1");
    let create = b.text("#plan-create").await;
    assert!(
        create.contains("user01") && create.contains("mallory"),
        "{create}"
    );
    assert!(!create.contains("eve"), "refused, not planned: {create}");
    let refused = b.text("#refused").await;
    assert!(refused.contains("invalid email"), "{refused}");
    b.shot("source-dry-run").await;
    let users = source
        .send(reqwest::Method::GET, "/Users?count=100", None)
        .await;
    assert!(activity(&users).is_empty(), "a dry run writes nothing");

    // The run: counts, and the refused record in the failure list as text.
    b.click("a[href='/console/sources/hr']").await;
    b.click("#run").await;
    until_text(&b, "#run-status", "the run to end", |s| {
        s == "completed_with_failures"
    })
    .await;
    assert_eq!(b.text("[data-count='created']").await, "13");
    assert_eq!(b.text("[data-count='refused']").await, "1");
    b.shot("source-run").await;
    b.click("#to-failure-list").await;
    let failures = b.text("#failures").await;
    assert!(failures.contains("invalid email"), "{failures}");
    assert!(failures.contains("not-an-email"), "{failures}");
    assert!(failures.contains(IMG), "the raw record as text: {failures}");
    assert!(failures.contains("people.csv line"), "{failures}");
    assert!(!b.exists("#failures img").await && !b.exists("main script").await);
    no_alert_opened(&b).await;
    b.shot("source-failures").await;
    let users = source
        .send(reqwest::Method::GET, "/Users?count=100", None)
        .await;
    assert_eq!(activity(&users).len(), 13);

    // Eight of thirteen leave the export: the guard holds them for approval.
    std::fs::write(&file, export(4)).unwrap();
    b.goto(&format!("{base}/console/sources/hr")).await;
    b.click("#run").await;
    until_text(&b, "#run-status", "the run to be held", |s| {
        s == "awaiting_approval"
    })
    .await;
    let held = b.text("#held-records").await;
    assert!(held.contains("user05") && held.contains("user12"), "{held}");
    let run_page = b.path().await;
    b.shot("source-run-held").await;
    let users = source
        .send(reqwest::Method::GET, "/Users?count=100", None)
        .await;
    assert!(
        activity(&users).values().all(|active| *active),
        "nobody deactivated unasked"
    );
    b.goto(&format!("{base}/console")).await;
    assert!(b.text("#pending").await.contains("source hr"));
    assert_eq!(b.text("#pending-count").await, "1");
    assert!(b.text("#sources").await.contains("awaiting_approval"));
    b.shot("overview-sources").await;
    b.click("#pending a").await;
    assert_eq!(b.path().await, run_page);
    b.click("#approve").await;
    assert!(b.text(".notice").await.contains("approved"));
    assert_eq!(b.text("#decided-by").await, "console:admin");
    assert_eq!(b.text("[data-count='deactivated']").await, "8");
    let users = activity(
        &source
            .send(reqwest::Method::GET, "/Users?count=100", None)
            .await,
    );
    let inactive: Vec<&String> = users.iter().filter(|(_, a)| !**a).map(|(n, _)| n).collect();
    assert_eq!(inactive.len(), 8, "{inactive:?}");
    assert!(users["user01"] && users["mallory"]);

    // A run still reading (the export is a pipe still being written) is
    // watched on its page, which shows the report by itself when it ends.
    std::fs::remove_file(&file).unwrap();
    let pipe = Pipe::make(&file);
    b.goto(&format!("{base}/console/sources/hr")).await;
    b.click("#run").await;
    until_text(&b, "[data-progress-text]", "the run to be reading", |s| {
        s == "reading the source"
    })
    .await;
    assert_eq!(b.text("#run-status").await, "running");
    b.shot("source-run-progress").await;
    let writer = pipe.write(export(4));
    until_text(&b, "#run-status", "the page to show the ended run", |s| {
        s == "completed_with_failures"
    })
    .await;
    writer.join().unwrap().unwrap();
    assert_eq!(b.text("[data-count='unchanged']").await, "5");

    // The audit trail names the console's actor.
    b.goto(&format!("{base}/console/audit?actor=console:admin"))
        .await;
    let events = b.text("#events").await;
    for event in ["source.run.start", "source.run.approve"] {
        assert!(events.contains(event), "{event} in {events}");
    }
    no_alert_opened(&b).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_admin_imports_a_source_from_the_console() {
    an_admin_imports_a_source_from_the_console(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_admin_imports_a_source_from_the_console() {
    an_admin_imports_a_source_from_the_console(Backend::Postgres).await;
}

/// The source's runs, as the CLI lists them.
async fn runs(app: &TestApp) -> Vec<Value> {
    app.cli_json(&["source", "runs", "hr"]).await["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn audited(app: &TestApp, event: &str) -> Vec<String> {
    app.store
        .audit(&scimhub::store::AuditQuery {
            limit: 1000,
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .filter(|r| r.event == event)
        .map(|r| r.actor)
        .collect()
}

/// A run, an approval and a rejection without the session's CSRF token are
/// refused and change nothing; with it they work, audited with the actor.
async fn source_forms_need_the_sessions_token(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(&file, export(12)).unwrap();
    let path = file.to_string_lossy().to_string();
    let out = app.cli(&add_args(&path)).await;
    assert!(out.status.success(), "{out:?}");
    let admin = app.token_with("ops", &["admin"]);
    let console = ConsoleClient::signed_in(&app.base, &admin).await;

    let before = app.snapshot();
    for fields in [vec![], vec![("csrf", "forged")]] {
        let mut form = fields.clone();
        form.push(("dry_run", "on"));
        for sent in [&fields, &form] {
            let page = console.post_raw("/console/sources/hr/runs", sent).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
        }
    }
    assert!(runs(&app).await.is_empty(), "no run was started");
    assert_eq!(app.snapshot(), before, "nothing changed");
    assert!(audited(&app, "source.run.start").await.is_empty());

    // With the token: a run, in the background, then its page.
    let page = console.post("/console/sources/hr/runs", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let at = page.header("location").unwrap().to_string();
    assert!(at.starts_with("/console/source-runs/"), "{at}");
    eventually("the console's run to end", || async {
        let page = console.get(&at).await;
        page.body
            .contains("id=\"run-status\">completed_with_failures<")
            .then_some(())
    })
    .await;
    assert_eq!(audited(&app, "source.run.start").await, ["console:ops"]);
    let progress = console.get(&format!("{at}/progress")).await;
    let progress: Value = serde_json::from_str(&progress.body).unwrap();
    assert_eq!(progress["status"], "completed_with_failures");
    assert_eq!(progress["text"], "completed with failures");
    let listed = runs(&app).await;
    assert_eq!(listed[0]["trigger"], "console");

    // Hostile values in the report and the failure list are escaped.
    for page in [
        console.get(&at).await,
        console.get("/console/sources/hr/failures").await,
    ] {
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("<img src=x"), "{}", page.body);
        assert!(!page.body.contains("<script>alert"), "{}", page.body);
    }
    let failures = console.get("/console/sources/hr/failures").await;
    assert!(
        failures
            .body
            .contains("&#34;&#62;&#60;img src=x onerror=alert(1)&#62;"),
        "escaped, not dropped: {}",
        failures.body
    );

    // Held: approving or rejecting without the token leaves it held.
    std::fs::write(&file, export(4)).unwrap();
    let (_, held) = crate::sources::cli_report(&app, &["source", "run", "hr"]).await;
    assert_eq!(held["status"], "awaiting_approval", "{held}");
    let id = held["id"].as_str().unwrap();
    let before = app.snapshot();
    for action in ["approve", "reject"] {
        let path = format!("/console/source-runs/{id}/{action}");
        for fields in [vec![], vec![("csrf", "forged")]] {
            let page = console.post_raw(&path, &fields).await;
            assert_eq!(
                page.status,
                StatusCode::FORBIDDEN,
                "{action}: {}",
                page.body
            );
        }
    }
    assert_eq!(app.snapshot(), before, "nothing changed");
    let report = app.cli_json(&["source", "report", id]).await;
    assert_eq!(report["status"], "awaiting_approval");
    let overview = console.get("/console").await;
    assert!(overview.body.contains("source hr: 8 held deprovision(s)"));
    let approvals = console.get("/console/approvals").await;
    assert!(
        approvals
            .body
            .contains(&format!("/console/source-runs/{id}")),
        "{}",
        approvals.body
    );

    // Rejected with the token: still nobody deactivated, and audited.
    let page = console
        .post(&format!("/console/source-runs/{id}/reject"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        page.header("location"),
        Some(format!("/console/source-runs/{id}?notice=rejected").as_str())
    );
    assert_eq!(app.snapshot(), before, "a rejection deactivates nobody");
    assert_eq!(audited(&app, "source.run.reject").await, ["console:ops"]);
    let report = app.cli_json(&["source", "report", id]).await;
    assert_eq!(report["decidedBy"], "console:ops");
    // A decided run cannot be approved any more.
    let again = console
        .post(&format!("/console/source-runs/{id}/approve"), &[])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(app.snapshot(), before);
}

/// While an import runs, its report carries its progress (the admin API
/// and the console's run page read the same), and only while it runs.
async fn a_running_import_reports_its_progress(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    // A pipe: the run reads until the export is written whole.
    let pipe = Pipe::make(&file);
    let path = file.to_string_lossy().to_string();
    let out = app.cli(&add_args(&path)).await;
    assert!(out.status.success(), "{out:?}");
    let admin = app.token_with("ops", &["admin"]);
    let console = ConsoleClient::signed_in(&app.base, &admin).await;
    let page = console.post("/console/sources/hr/runs", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let at = page.header("location").unwrap().to_string();
    let id = at.trim_start_matches("/console/source-runs/").to_string();
    let report = format!("/admin/v1/source-runs/{id}");
    let reading = eventually("the run's progress", || async {
        let r = app
            .send(reqwest::Method::GET, &report, Some(&admin), None)
            .await;
        (r.body["progress"]["phase"] == "reading").then_some(r.body)
    })
    .await;
    assert_eq!(reading["status"], "running", "{reading}");
    let live = console.get(&format!("{at}/progress")).await;
    let live: Value = serde_json::from_str(&live.body).unwrap();
    assert_eq!(live["status"], "running");
    assert_eq!(live["phase"], "reading");
    assert_eq!(live["text"], "reading the source");
    let page = console.get(&at).await;
    assert!(
        page.body.contains("data-progress-text>reading the source<"),
        "{}",
        page.body
    );

    // A second run meanwhile is refused on the source's page.
    let again = console.post("/console/sources/hr/runs", &[]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again
            .body
            .contains("a run of source &#34;hr&#34; is going on"),
        "{}",
        again.body
    );

    let writer = pipe.write(export(12));
    let done = eventually("the run to end", || async {
        let r = app
            .send(reqwest::Method::GET, &report, Some(&admin), None)
            .await;
        (r.body["status"] != "running").then_some(r.body)
    })
    .await;
    writer.join().unwrap().unwrap();
    assert_eq!(done["status"], "completed_with_failures", "{done}");
    assert!(done.get("progress").is_none(), "only while it runs: {done}");
    assert_eq!(done["counts"]["created"], 13);
    assert_eq!(runs(&app).await.len(), 1, "the refused run never started");
}

on_both_backends!(
    source_forms_need_the_sessions_token,
    a_running_import_reports_its_progress,
);
