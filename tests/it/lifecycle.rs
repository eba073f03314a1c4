//! A target's life as an admin drives it: a live `scimhub serve` with its
//! real-time workers, the CLI against the same database, and a second
//! scimhub as the downstream app.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};

use crate::on_both_sources;
use crate::support::live::LiveServer;
use crate::support::{Backend, ENTERPRISE, TestApp, eventually, postgres};

/// A fresh source database of `backend` (None: PostgreSQL not available).
pub(crate) fn source_database(backend: Backend, dir: &tempfile::TempDir) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(format!(
            "sqlite://{}",
            dir.path().join("source.db").display()
        )),
        Backend::Postgres => Some(postgres::server()?.fresh_database()),
    }
}

/// An admin-scoped token of the live server, made with the CLI.
pub(crate) fn admin_token(server: &LiveServer) -> String {
    let out = server.cli_ok(&[
        "token",
        "create",
        "--name",
        "admin",
        "--scopes",
        "scim:read,scim:write,admin",
    ]);
    out.lines().last().unwrap().trim().to_string()
}

/// A live source: a fresh database of one backend, `scimhub serve` on it,
/// and an admin token to write through its SCIM API.
pub(crate) struct Source {
    pub db: String,
    pub server: LiveServer,
    pub token: String,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Source {
    /// None when the backend is PostgreSQL and none can be started here.
    pub fn start(backend: Backend) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let db = source_database(backend, &dir)?;
        let server = LiveServer::start(&db, &[]);
        Some(Self {
            token: admin_token(&server),
            db,
            server,
            client: reqwest::Client::new(),
            _dir: dir,
        })
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .client
            .request(method, format!("{}/scim/v2{path}", self.server.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    pub async fn user(&self, name: &str, manager: Option<&str>) -> String {
        let mut body = crate::support::user_body(name);
        body["schemas"] = json!([crate::support::USER_SCHEMA, ENTERPRISE]);
        if let Some(m) = manager {
            body[ENTERPRISE] = json!({"manager": {"value": m}});
        }
        let u = self.send(reqwest::Method::POST, "/Users", Some(body)).await;
        u["id"].as_str().unwrap().to_string()
    }

    pub async fn group(&self, name: &str, members: &[&str]) -> String {
        let body = crate::support::group_body(name, members);
        let g = self
            .send(reqwest::Method::POST, "/Groups", Some(body))
            .await;
        g["id"].as_str().unwrap().to_string()
    }
}

/// userName → (active, manager's userName) on a SCIM server.
pub(crate) async fn users_of(app: &TestApp) -> BTreeMap<String, (bool, Option<String>)> {
    let list = app.get("/Users?count=1000").await.body["Resources"].clone();
    let list = list.as_array().cloned().unwrap_or_default();
    let name_of: BTreeMap<String, String> = list
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap().to_string(),
                u["userName"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    list.iter()
        .map(|u| {
            let manager = u[ENTERPRISE]["manager"]["value"]
                .as_str()
                .and_then(|id| name_of.get(id).cloned());
            (
                u["userName"].as_str().unwrap().to_string(),
                (u["active"] != false, manager),
            )
        })
        .collect()
}

/// displayName → member names (users by userName, groups by displayName).
pub(crate) async fn groups_of(app: &TestApp) -> BTreeMap<String, BTreeSet<String>> {
    let users = app.get("/Users?count=1000").await.body["Resources"].clone();
    let groups = app.get("/Groups?count=1000").await.body["Resources"].clone();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for u in users.as_array().cloned().unwrap_or_default() {
        names.insert(
            u["id"].as_str().unwrap().into(),
            u["userName"].as_str().unwrap().into(),
        );
    }
    let groups = groups.as_array().cloned().unwrap_or_default();
    for g in &groups {
        names.insert(
            g["id"].as_str().unwrap().into(),
            g["displayName"].as_str().unwrap().into(),
        );
    }
    groups
        .iter()
        .map(|g| {
            let members = g["members"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|m| names[m["value"].as_str().unwrap()].clone())
                .collect();
            (g["displayName"].as_str().unwrap().to_string(), members)
        })
        .collect()
}

/// The source's view through its own store (a TestApp-like reader).
async fn source_app(database_url: &str) -> TestApp {
    let url = database_url.to_string();
    TestApp::start_with(Backend::Sqlite, move |c| c.database_url = url)
        .await
        .unwrap()
}

pub(crate) fn add_target(server: &LiveServer, downstream: &TestApp, extra: &[&str]) {
    let url = format!("{}/scim/v2", downstream.base);
    let mut args = vec!["target", "add", "--name", "down", "--url", &url, "--token"];
    args.push(&downstream.token);
    args.extend_from_slice(extra);
    server.cli_ok(&args);
}

pub(crate) fn status(server: &LiveServer) -> Value {
    server.cli_json(&["target", "show", "down"])["status"].clone()
}

async fn new_target_waits_for_its_initial_run_then_follows(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let (db, server) = (&source.db, &source.server);
    let boss = source.user("boss", None).await;
    let mut staff = Vec::new();
    for i in 0..5 {
        staff.push(source.user(&format!("staff{i}"), Some(&boss)).await);
    }
    let leads = source.group("leads", &[&boss]).await;
    let all: Vec<&str> = staff.iter().map(String::as_str).collect();
    source.group("staff", &all).await;
    source.group("everyone", &[&leads, &staff[0]]).await;

    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    add_target(server, &downstream, &[]);
    assert_eq!(status(server)["state"], "new");
    // The dry run plans everything; nothing was pushed by the workers.
    let plan = server.cli_json(&["sync", "run", "down", "--dry-run"]);
    assert_eq!(plan["status"], "planned");
    assert_eq!(plan["counts"]["created"], 9, "{plan}");
    assert!(
        users_of(&downstream).await.is_empty(),
        "pushed before the initial run"
    );

    let run = server.cli_json(&["sync", "run", "down"]);
    assert_eq!(run["status"], "succeeded", "{run}");
    let upstream = source_app(db).await;
    assert_eq!(users_of(&downstream).await, users_of(&upstream).await);
    assert_eq!(groups_of(&downstream).await, groups_of(&upstream).await);
    let shown = status(server);
    assert_eq!(shown["state"], "active", "{shown}");

    // Caught up, the worker pushes nothing twice…
    eventually("the worker to catch up", || async {
        (status(server)["lag"] == 0).then_some(())
    })
    .await;
    let writes_after_run = downstream.store.latest_change().unwrap();
    // …and follows new changes.
    let newcomer = source.user("newcomer", Some(&boss)).await;
    source
        .send(
            reqwest::Method::PATCH,
            &format!("/Groups/{leads}"),
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": newcomer}]}]}),
            ),
        )
        .await;
    eventually("the newcomer and membership downstream", || async {
        let same = groups_of(&downstream).await == groups_of(&upstream).await
            && users_of(&downstream).await == users_of(&upstream).await;
        same.then_some(())
    })
    .await;
    eventually("the worker to catch up", || async {
        (status(server)["lag"] == 0).then_some(())
    })
    .await;
    // One create (with its manager) and one member PATCH (which also moves
    // the member's version downstream): nothing re-pushed.
    let changes = downstream
        .store
        .changes_after(writes_after_run, 100)
        .unwrap();
    let ops: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| (c.resource_type.as_str(), c.operation.as_str()))
        .collect();
    assert_eq!(
        ops.iter()
            .filter(|(t, op)| *t == "User" && *op == "create")
            .count(),
        1,
        "{changes:?}"
    );
    assert_eq!(
        ops.iter().filter(|(t, _)| *t == "Group").count(),
        1,
        "{changes:?}"
    );
    assert!(
        changes.len() <= 3,
        "only the newcomer's create, its groups and the member PATCH: {changes:?}"
    );
}

async fn a_trickle_of_deletions_ends_held(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(source.user(&format!("u{i:02}"), None).await);
    }
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    add_target(
        server,
        &downstream,
        &["--guard-percent", "10", "--guard-min", "3"],
    );
    server.cli_json(&["sync", "run", "down"]);
    // Ten deletions (25%), one every half second, as IdPs deprovision.
    for id in &ids[..10] {
        source
            .send(reqwest::Method::DELETE, &format!("/Users/{id}"), None)
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // 4 of 40 is 10%: the fifth crosses the limit; it and the rest wait.
    let held = eventually("six held deprovisions", || async {
        let held = server.cli_json(&["sync", "held", "down"])["approvals"].clone();
        (held[0]["pending"].as_array().map(Vec::len) == Some(6)).then_some(held)
    })
    .await;
    assert_eq!(
        held.as_array().unwrap().len(),
        1,
        "one pending approval: {held}"
    );
    let names: BTreeSet<&str> = held[0]["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<String> = (4..10).map(|i| format!("u{i:02}")).collect();
    assert_eq!(names, expected.iter().map(String::as_str).collect());
    assert!(held[0]["pending"][0]["held_at"].is_string());
    assert_eq!(held[0]["pending"][0]["reason"], "deleted");
    let down = users_of(&downstream).await;
    let inactive: BTreeSet<&str> = down
        .iter()
        .filter(|(_, (active, _))| !active)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(inactive, ["u00", "u01", "u02", "u03"].into_iter().collect());
    assert_eq!(status(server)["state"], "awaiting_approval");

    // Other changes keep flowing while deprovisions wait.
    source.user("late", None).await;
    eventually("late downstream", || async {
        users_of(&downstream)
            .await
            .contains_key("late")
            .then_some(())
    })
    .await;

    let run = held[0]["id"].as_str().unwrap();
    let approved = server.cli_json(&["sync", "approve", run]);
    assert_eq!(approved["counts"]["deactivated"], 6, "{approved}");
    let down = users_of(&downstream).await;
    assert_eq!(down.values().filter(|(active, _)| !active).count(), 10);
    let audit = server.cli_ok(&["audit", "list"]);
    assert!(
        audit.contains("sync.run.approve") && audit.contains("cli"),
        "{audit}"
    );
}

async fn a_target_is_edited_in_place(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    for i in 0..6 {
        source.user(&format!("p{i}"), None).await;
    }
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    add_target(server, &downstream, &[]);
    server.cli_json(&["sync", "run", "down"]);
    let rotated = downstream.token_with("rotated", &["scim:read", "scim:write"]);

    // A bad update changes nothing.
    let bad = server.cli(&["target", "update", "down", "--scope", "userName eq"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("scope"));
    assert!(status(server)["state"] == "active");

    let updated = server.cli_json(&[
        "target",
        "update",
        "down",
        "--token",
        &rotated,
        "--scope",
        "userName ne \"p5\"",
    ]);
    assert_eq!(updated["reconcileNeeded"], true, "{updated}");
    let plan = server.cli_json(&["sync", "run", "down", "--dry-run"]);
    assert_eq!(plan["counts"]["created"], 0, "{plan}");
    assert_eq!(plan["counts"]["deactivated"], 1, "{plan}");
    let run = server.cli_json(&["sync", "run", "down"]);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["counts"]["created"], 0);
    assert!(run["orphans"].as_array().is_none_or(Vec::is_empty), "{run}");
    let down = users_of(&downstream).await;
    assert_eq!(down.len(), 6, "no duplicates: {down:?}");
    assert!(!down["p5"].0);
    // The rotated token is the one used now.
    let audit = downstream.get("/Users?count=1").await;
    assert_eq!(audit.status, 200);
    let runs = server.cli_json(&["sync", "runs", "down"]);
    assert_eq!(
        runs["runs"].as_array().unwrap().len(),
        3,
        "history kept: {runs}"
    );
}

async fn a_downed_target_is_quarantined_fast_and_catches_up(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    source.user("before", None).await;
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    add_target(server, &downstream, &[]);
    server.cli_json(&["sync", "run", "down"]);
    let real_url = format!("{}/scim/v2", downstream.base);
    // Nothing listens there: connection refused.
    let dead = format!(
        "http://127.0.0.1:{}/scim/v2",
        crate::support::live::free_port()
    );
    // Untested: the test would refuse a URL nothing answers.
    server.cli_ok(&["target", "update", "down", "--url", &dead, "--no-test"]);
    let writes_before = downstream.store.latest_change().unwrap();
    let first_change = std::time::Instant::now();
    for i in 0..3 {
        source.user(&format!("while-down-{i}"), None).await;
    }
    let quarantined = eventually("quarantine", || async {
        let s = status(server);
        (s["state"] == "quarantined").then_some(s)
    })
    .await;
    assert!(
        first_change.elapsed() <= Duration::from_secs(10),
        "quarantined after {:?}",
        first_change.elapsed()
    );
    let reason = quarantined["quarantine"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("unreachable"), "{reason}");
    assert_eq!(
        status(server)["queueDepth"],
        0,
        "a down target queues nothing per object"
    );

    // Back up: the probe releases it and the waiting changes arrive once.
    server.cli_ok(&["target", "update", "down", "--url", &real_url]);
    eventually("release and delivery", || async {
        let names = users_of(&downstream).await;
        let all = (0..3).all(|i| names.contains_key(&format!("while-down-{i}")));
        (all && status(server)["state"] == "active").then_some(())
    })
    .await;
    eventually("the worker to catch up", || async {
        (status(server)["lag"] == 0).then_some(())
    })
    .await;
    let changes = downstream.store.changes_after(writes_before, 100).unwrap();
    assert_eq!(changes.len(), 3, "each change delivered once: {changes:?}");
}

async fn orphans_are_reported_and_deprovisioned_by_policy(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    for name in ["kept", "adopted"] {
        source.user(name, None).await;
    }
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    // Already downstream: one account a user here matches, one nothing matches.
    downstream.create_user("adopted").await;
    downstream.create_user("ghost").await;
    add_target(server, &downstream, &[]);
    let run = server.cli_json(&["sync", "run", "down"]);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["counts"]["linked"], 1, "adopted by userName: {run}");
    assert_eq!(run["counts"]["created"], 1, "{run}");
    let orphans = run["orphans"].as_array().unwrap();
    assert_eq!(orphans.len(), 1, "{run}");
    assert_eq!(orphans[0]["name"], "ghost");
    assert!(
        users_of(&downstream).await["ghost"].0,
        "reported, left alone"
    );

    server.cli_ok(&["target", "update", "down", "--orphans", "deprovision"]);
    let plan = server.cli_json(&["sync", "run", "down", "--dry-run"]);
    let change = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["reason"] == "orphan")
        .cloned()
        .unwrap_or_else(|| panic!("no orphan in the plan: {plan}"));
    assert_eq!(change["action"], "deactivate");
    assert!(
        users_of(&downstream).await["ghost"].0,
        "a dry run writes nothing"
    );
    let run = server.cli_json(&["sync", "run", "down"]);
    assert_eq!(run["counts"]["deactivated"], 1, "{run}");
    let down = users_of(&downstream).await;
    assert!(
        !down["ghost"].0 && down["adopted"].0 && down["kept"].0,
        "{down:?}"
    );
}

async fn a_rejected_hold_leaves_the_accounts_alone(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    let leaver = source.user("leaver", None).await;
    source.user("stayer", None).await;
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    // Every deprovision waits for a person.
    add_target(server, &downstream, &["--guard-max", "0"]);
    server.cli_json(&["sync", "run", "down"]);
    source
        .send(reqwest::Method::DELETE, &format!("/Users/{leaver}"), None)
        .await;
    let held = eventually("the held deprovision", || async {
        let held = server.cli_json(&["sync", "held", "down"])["approvals"].clone();
        (held.as_array().map(Vec::len) == Some(1)).then_some(held)
    })
    .await;
    assert_eq!(held[0]["pending"][0]["name"], "leaver");
    let run = held[0]["id"].as_str().unwrap();
    let rejected = server.cli_json(&["sync", "reject", run]);
    assert_eq!(rejected["status"], "rejected");
    assert!(users_of(&downstream).await["leaver"].0, "left untouched");
    assert_eq!(status(server)["state"], "active");
    assert!(
        server.cli_json(&["sync", "held", "down"])["approvals"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let audit = server.cli_ok(&["audit", "list"]);
    assert!(audit.contains("sync.run.reject"), "{audit}");
}

/// A dry run names each attribute it would change with the target's value
/// now and the new one, in its JSON and text report and in the stored run.
async fn a_dry_run_shows_each_changed_attribute_before_and_after(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    source.user("ann", None).await;
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    add_target(server, &downstream, &[]);
    assert_eq!(
        server.cli_json(&["sync", "run", "down"])["status"],
        "succeeded"
    );
    // Someone edits the account on the target.
    let found = downstream
        .get("/Users?filter=userName%20eq%20%22ann%22")
        .await;
    let remote = found.body["Resources"][0].clone();
    let mut edited = remote.clone();
    edited["name"] = json!({"givenName": "Test", "familyName": "<b>Old</b>"});
    let put = downstream
        .put(
            &format!("/Users/{}", remote["id"].as_str().unwrap()),
            &edited,
        )
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);

    let plan = server.cli_json(&["sync", "run", "down", "--dry-run"]);
    assert_eq!(plan["counts"]["updated"], 1, "{plan}");
    let change = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "update")
        .cloned()
        .unwrap_or_else(|| panic!("no update in {plan}"));
    assert_eq!(change["changed"], json!(["name"]), "{change}");
    let diff = change["diff"].as_array().unwrap();
    assert_eq!(diff.len(), 1, "{change}");
    assert_eq!(diff[0]["attribute"], "name");
    assert_eq!(diff[0]["before"]["familyName"], "<b>Old</b>", "{change}");
    assert_eq!(diff[0]["after"]["familyName"], "ann", "{change}");
    // Kept with the run.
    let id = plan["id"].as_str().unwrap();
    let stored = server.cli_json(&["sync", "show", id]);
    assert_eq!(stored["changes"], plan["changes"]);
    // The terminal report.
    let text = server.cli_ok(&["sync", "run", "down", "--dry-run"]);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("name: "))
        .unwrap_or_else(|| panic!("no diff line in {text}"));
    assert!(
        line.contains(r#""familyName":"<b>Old</b>""#)
            && line.contains(" → ")
            && line.contains(r#""familyName":"ann""#),
        "{line}"
    );
    // Nothing was written.
    let after = downstream
        .get("/Users?filter=userName%20eq%20%22ann%22")
        .await;
    assert_eq!(
        after.body["Resources"][0]["name"]["familyName"],
        "<b>Old</b>"
    );
}

/// A run's progress is on its row while it runs, for every door to read:
/// here a CLI run watched through the admin API of the server.
async fn a_cli_run_shows_its_progress_to_the_admin_api(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    for i in 0..30 {
        source.user(&format!("slow{i:02}"), None).await;
    }
    // No /Bulk downstream (it would carry the thirty creates in one
    // request), and ten requests a second: the run takes about three seconds.
    let downstream = TestApp::start_with(Backend::Sqlite, |c| c.bulk_max_operations = 0)
        .await
        .unwrap();
    add_target(server, &downstream, &["--rate-limit", "10"]);
    let mut cli = server.cli_spawn(&["sync", "run", "down"]);
    let admin = |path: String| {
        let (client, token) = (source.client.clone(), source.token.clone());
        let url = format!("{}/admin/v1{path}", server.base);
        async move {
            let resp = client.get(url).bearer_auth(token).send().await.ok()?;
            resp.json::<Value>().await.ok()
        }
    };
    let id = eventually("the CLI's run to be running", || async {
        let runs = admin("/runs?status=running".into()).await?;
        runs["runs"][0]["id"].as_str().map(str::to_string)
    })
    .await;
    let first = eventually("progress in the users phase", || async {
        let run = admin(format!("/runs/{id}")).await?;
        let p = run["progress"].clone();
        (p["phase"] == "users" && p["completed"].as_u64()? > 0).then_some(p)
    })
    .await;
    assert_eq!(first["planned"], 30, "{first}");
    assert_eq!(first["total"], 30, "{first}");
    let later = eventually("the progress to move on", || async {
        let run = admin(format!("/runs/{id}")).await?;
        let p = run["progress"].clone();
        (p["completed"].as_u64()? > first["completed"].as_u64()?).then_some(p)
    })
    .await;
    assert!(later["done"].as_u64() <= later["total"].as_u64(), "{later}");
    let status =
        crate::support::poll::eventually_blocking("the CLI run to end", || cli.try_wait().unwrap());
    assert!(status.success());
    let done = admin(format!("/runs/{id}")).await.unwrap();
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(done.get("progress").is_none(), "only while it runs: {done}");
    assert_eq!(users_of(&downstream).await.len(), 30);
}

on_both_sources!(
    a_dry_run_shows_each_changed_attribute_before_and_after,
    a_cli_run_shows_its_progress_to_the_admin_api,
    new_target_waits_for_its_initial_run_then_follows,
    a_trickle_of_deletions_ends_held,
    a_target_is_edited_in_place,
    a_downed_target_is_quarantined_fast_and_catches_up,
    orphans_are_reported_and_deprovisioned_by_policy,
    a_rejected_hold_leaves_the_accounts_alone,
);
