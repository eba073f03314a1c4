//! The sync center over the admin API: targets (add, list, show, update,
//! pause, resume, remove; bad input changes nothing; credentials never come
//! back), runs started in the background and polled, listed across targets,
//! overlap refused, the deletion guard's held deprovisions listed, approved
//! or rejected over HTTP, the audit trail, and the CLI's `--json` lists
//! equal to the API's answers.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use scimhub::config::Config;
use scimhub::crypto::SecretKey;
use scimhub::store::AuditQuery;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::on_both_backends;
use crate::support::app::Response;
use crate::support::{Backend, TestApp};

const TARGETS: &str = "/admin/v1/targets";
const SECRET: &str = "downstream-secret-9f8e7d";

fn with_key(config: &mut Config) {
    config.secret_key = Some(SecretKey([5; 32]));
}

/// An admin client that keeps every answer, to check none leaks a secret.
struct Admin<'a> {
    app: &'a TestApp,
    token: String,
    seen: std::cell::RefCell<Vec<String>>,
}

impl<'a> Admin<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            token: app.token_with("ops", &["admin"]),
            app,
            seen: Default::default(),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> Response {
        let mut req = self
            .app
            .client()
            .request(method, self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let r = self.app.raw(req).await;
        self.seen.borrow_mut().push(r.text.clone());
        r
    }

    async fn get(&self, path: &str) -> Response {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: &Value) -> Response {
        self.call(Method::POST, path, Some(body.to_string().into_bytes()))
            .await
    }

    async fn delete(&self, path: &str) -> Response {
        self.call(Method::DELETE, path, None).await
    }

    async fn patch(&self, path: &str, body: &Value) -> Response {
        self.call(Method::PATCH, path, Some(body.to_string().into_bytes()))
            .await
    }

    async fn targets(&self) -> Value {
        let r = self.get(TARGETS).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["targets"].clone()
    }

    /// Starts a run and polls its report until it is no longer running.
    async fn run(&self, target: &str, body: Option<&Value>) -> Value {
        let path = format!("{TARGETS}/{target}/runs");
        let body = body.map(|b| b.to_string().into_bytes());
        let started = self.call(Method::POST, &path, body).await;
        assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
        assert_eq!(started.body["status"], "running");
        let id = started.body["id"].as_str().unwrap().to_string();
        let location = format!("/admin/v1/runs/{id}");
        assert_eq!(started.header("location"), Some(location.as_str()));
        self.finished(&location).await
    }

    async fn finished(&self, location: &str) -> Value {
        for _ in 0..600 {
            let r = self.get(location).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            if r.body["status"] != "running" {
                return r.body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("run {location} did not finish");
    }

    /// No answer so far carried the downstream credentials.
    fn assert_no_secret_seen(&self, secrets: &[&str]) {
        for text in self.seen.borrow().iter() {
            for secret in secrets {
                assert!(!text.contains(secret), "a response leaked a secret: {text}");
            }
        }
    }
}

/// Untested (`"test": false`): most of these targets are mocks or unreachable.
fn target_body(name: &str, url: &str, token: &str) -> Value {
    json!({"name": name, "url": url, "credentials": {"kind": "bearer", "token": token},
           "test": false})
}

/// Sync-center audit rows as (event, actor), oldest first.
fn sync_audit(app: &TestApp) -> Vec<(String, String)> {
    let query = AuditQuery {
        limit: 1000,
        ..AuditQuery::default()
    };
    let mut rows: Vec<_> = app
        .store
        .audit(&query)
        .unwrap()
        .into_iter()
        .filter(|r| r.event.starts_with("sync."))
        .map(|r| (r.event, r.actor))
        .collect();
    rows.reverse();
    rows
}

fn pair(event: &str) -> (String, String) {
    (event.to_string(), "ops".to_string())
}

async fn targets_are_added_listed_shown_and_removed(app: TestApp) {
    let admin = Admin::new(&app);
    assert_eq!(admin.targets().await, json!([]));

    let mut body = target_body("crm", "https://crm.example/scim/v2/", SECRET);
    body["mapping"] =
        json!("[users]\n[[users.rules]]\ntarget = \"userName\"\nvalue = \"lower(userName)\"\n");
    body["scope"] = json!("active eq true");
    body["settings"] = json!({"guard": {"max_percent": 5.0, "min_count": 2, "max_count": 50},
                              "actions": {"delete": true}, "deprovision": "delete",
                              "resource_types": ["users"], "timeout_secs": 12});
    let added = admin.post(TARGETS, &body).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(added.header("location"), Some("/admin/v1/targets/crm"));
    assert_eq!(added.body["name"], "crm");
    assert_eq!(added.body["base_url"], "https://crm.example/scim/v2");
    assert_eq!(added.body["scope"], "active eq true");
    assert_eq!(added.body["settings"]["auth"], "bearer");
    assert_eq!(added.body["settings"]["resource_types"], json!(["Users"]));
    assert_eq!(added.body["settings"]["deprovision"], "delete");
    assert_eq!(added.body["settings"]["guard"]["max_count"], 50);
    assert_eq!(added.body["settings"]["timeout_secs"], 12);
    assert_eq!(
        added.body["mapping"]["users"]["rules"][0]["value"],
        "lower(userName)"
    );
    assert!(added.body.get("credentials").is_none());

    // The JSON form of a mapping and the other auth kinds.
    let mut body = target_body("hr", "https://hr.example/scim/v2", "unused");
    body["credentials"] = json!({"kind": "oauth2", "token_url": "https://login.example/token",
                                 "client_id": "scimhub", "client_secret": SECRET});
    body["mapping"] = json!({"users": {"base": "identity", "exclude": ["phoneNumbers"]}});
    let added = admin.post(TARGETS, &body).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(added.body["settings"]["auth"], "oauth2");
    assert_eq!(
        added.body["mapping"]["users"]["exclude"],
        json!(["phoneNumbers"])
    );

    let listed = admin.targets().await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["crm", "hr"]);
    let shown = admin.get(&format!("{TARGETS}/crm")).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body, listed[0]);

    admin
        .get(&format!("{TARGETS}/nope"))
        .await
        .assert_error(404, None);
    admin
        .delete(&format!("{TARGETS}/nope"))
        .await
        .assert_error(404, None);
    let removed = admin.delete(&format!("{TARGETS}/hr")).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    admin
        .get(&format!("{TARGETS}/hr"))
        .await
        .assert_error(404, None);
    assert_eq!(admin.targets().await, json!([listed[0]]));

    assert_eq!(
        sync_audit(&app),
        [
            pair("sync.target.add"),
            pair("sync.target.add"),
            pair("sync.target.remove")
        ]
    );
    admin.assert_no_secret_seen(&[SECRET]);
}

async fn bad_targets_are_refused_and_nothing_is_stored(app: TestApp) {
    let admin = Admin::new(&app);
    let good = target_body("app", "https://app.example/scim/v2", SECRET);
    assert_eq!(admin.post(TARGETS, &good).await.status, StatusCode::CREATED);
    let before = admin.targets().await;
    let audit_before = sync_audit(&app);

    let with = |field: &str, value: Value| {
        let mut body = target_body("other", "https://other.example/scim/v2", SECRET);
        body[field] = value;
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (with("name", json!("bad name!")), "target names are"),
        (with("url", json!("ftp://other.example/scim")), "http"),
        (
            with("credentials", json!({"kind": "bearer", "token": " "})),
            "the token is empty",
        ),
        (
            with("credentials", json!({"kind": "kerberos", "ticket": SECRET})),
            "unknown variant `kerberos`",
        ),
        (
            with("credentials", json!({"kind": "basic", "username": "u"})),
            "missing field `password`",
        ),
        (with("credentials", json!(SECRET)), "credentials:"),
        (
            with(
                "credentials",
                json!({"kind": "bearer", "token": 42, "x": SECRET}),
            ),
            "credentials:",
        ),
        (with("extra", json!(true)), "unknown field `extra`"),
        (
            with(
                "mapping",
                json!(
                    "[users]\n[[users.rules]]\ntarget = \"userName\"\nvalue = \"shout(userName)\"\n"
                ),
            ),
            "shout",
        ),
        (with("mapping", json!(["not", "a", "mapping"])), "mapping:"),
        (with("scope", json!("(userName eq \"a\"")), "invalid scope"),
        (with("scope", json!("userName eq")), "invalid scope"),
        (with("settings", json!({"timeout_secs": 0})), "timeout"),
        (
            with("settings", json!({"rate_limit": 0})),
            "rate limit must be 1 to 10000",
        ),
        (
            with("settings", json!({"max_concurrency": 1000})),
            "concurrency",
        ),
        (
            with("settings", json!({"deprovision": "delete"})),
            "delete action",
        ),
        (
            with("settings", json!({"resource_types": ["Devices"]})),
            "Devices",
        ),
        (with("settings", json!({"wat": 1})), "unknown field `wat`"),
        (
            with(
                "settings",
                json!({"headers": {"Authorization": "Bearer x"}}),
            ),
            "Authorization",
        ),
        (json!({"name": "other"}), "missing field"),
    ];
    for (body, expected) in cases {
        let r = admin.post(TARGETS, &body).await;
        r.assert_error(400, Some("invalidValue"));
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.contains(expected),
            "{body}: {detail:?} should mention {expected:?}"
        );
    }
    // Broken and empty bodies, another media type.
    admin
        .call(Method::POST, TARGETS, Some(b"{\"name\": ".to_vec()))
        .await
        .assert_error(400, Some("invalidSyntax"));
    admin
        .call(Method::POST, TARGETS, Some(Vec::new()))
        .await
        .assert_error(400, Some("invalidSyntax"));
    let r = app
        .raw(
            app.client()
                .post(app.url(TARGETS))
                .bearer_auth(&admin.token)
                .header("content-type", "text/plain")
                .body(good.to_string()),
        )
        .await;
    r.assert_error(415, None);
    // A taken name.
    let mut dup = good.clone();
    dup["url"] = json!("https://elsewhere.example/scim/v2");
    admin
        .post(TARGETS, &dup)
        .await
        .assert_error(409, Some("uniqueness"));

    assert_eq!(admin.targets().await, before);
    assert_eq!(sync_audit(&app), audit_before);
    admin.assert_no_secret_seen(&[SECRET]);
}

/// Runs into a second scimhub: dry run, run, listing, the guard's held
/// deprovisions approved and then rejected, and the 404s and 409s.
async fn runs_are_started_polled_approved_and_rejected(app: TestApp) {
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    let admin = Admin::new(&app);
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(
            app.create_user(&format!("u{i}")).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let url = format!("{}/scim/v2", downstream.base);
    let added = admin
        .post(TARGETS, &target_body("down", &url, &downstream.token))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let remote_users = || async {
        downstream.get("/Users?count=1000").await.body["Resources"]
            .as_array()
            .unwrap()
            .clone()
    };

    let dry = admin.run("down", Some(&json!({"dryRun": true}))).await;
    assert_eq!(dry["status"], "planned", "{dry}");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["counts"]["created"], 40);
    assert_eq!(dry["changes"].as_array().unwrap().len(), 40);
    assert!(remote_users().await.is_empty(), "a dry run writes nothing");

    let first = admin.run("down", None).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    assert_eq!(first["dry_run"], false);
    assert_eq!(first["counts"]["created"], 40);
    assert!(first["finished"].is_string());
    assert_eq!(remote_users().await.len(), 40);

    // The report over HTTP is the engine's stored report.
    let engine = scimhub::provision::runs::SyncEngine::new(
        app.store.clone(),
        std::sync::Arc::new(
            scimhub::store::diesel::DieselStore::open(&app.database_url, 2).unwrap(),
        ),
        None,
    );
    let stored = engine.report(first["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(serde_json::to_value(&stored).unwrap(), first);

    let listed = admin.get(&format!("{TARGETS}/down/runs")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let runs = listed.body["runs"].as_array().unwrap();
    let order: Vec<&Value> = runs.iter().map(|r| &r["id"]).collect();
    assert_eq!(order, [&first["id"], &dry["id"]], "newest first");
    assert_eq!(runs[0]["status"], "succeeded");
    assert_eq!(runs[0]["counts"]["created"], 40);
    assert_eq!(runs[1]["dry_run"], true);
    let one = admin.get(&format!("{TARGETS}/down/runs?limit=1")).await;
    assert_eq!(one.body["runs"].as_array().unwrap().len(), 1);
    for bad in ["0", "101", "ten", "-1"] {
        admin
            .get(&format!("{TARGETS}/down/runs?limit={bad}"))
            .await
            .assert_error(400, Some("invalidValue"));
    }

    // Deleting 12 of 40 trips the guard; approval deactivates them.
    for id in &ids[..12] {
        assert_eq!(app.delete(&format!("/Users/{id}")).await.status, 204);
    }
    let held = admin.run("down", None).await;
    assert_eq!(held["status"], "awaiting_approval", "{held}");
    assert_eq!(held["pending"].as_array().unwrap().len(), 12);
    let inactive = |users: Vec<Value>| users.iter().filter(|u| u["active"] == false).count();
    assert_eq!(inactive(remote_users().await), 0);
    let held_id = held["id"].as_str().unwrap();
    let approved = admin
        .post(&format!("/admin/v1/runs/{held_id}/approve"), &json!({}))
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.body["status"], "succeeded");
    assert_eq!(approved.body["counts"]["deactivated"], 12);
    assert_eq!(inactive(remote_users().await), 12);
    for decision in ["approve", "reject"] {
        admin
            .post(&format!("/admin/v1/runs/{held_id}/{decision}"), &json!({}))
            .await
            .assert_error(409, None);
    }
    // A succeeded run cannot be approved either.
    let first_id = first["id"].as_str().unwrap();
    admin
        .post(&format!("/admin/v1/runs/{first_id}/approve"), &json!({}))
        .await
        .assert_error(409, None);

    // Deleting 12 more trips it again; rejection leaves them active.
    for id in &ids[12..24] {
        assert_eq!(app.delete(&format!("/Users/{id}")).await.status, 204);
    }
    let held = admin.run("down", None).await;
    assert_eq!(held["status"], "awaiting_approval", "{held}");
    let held_id = held["id"].as_str().unwrap();

    // Pending approvals and runs across targets, as the CLI lists them.
    let approvals = admin.get("/admin/v1/approvals").await;
    assert_eq!(approvals.status, StatusCode::OK, "{}", approvals.text);
    let pending = approvals.body["approvals"].as_array().unwrap();
    assert_eq!(pending.len(), 1, "{}", approvals.text);
    assert_eq!(pending[0]["id"], held["id"]);
    assert_eq!(pending[0]["pending"].as_array().unwrap().len(), 12);
    assert_eq!(
        admin.get("/admin/v1/approvals?target=down").await.body,
        approvals.body
    );
    assert_eq!(app.cli_json(&["sync", "held"]).await, approvals.body);
    assert_eq!(
        app.cli_json(&["sync", "held", "down"]).await,
        approvals.body
    );
    let awaiting = admin.get("/admin/v1/runs?status=awaiting_approval").await;
    assert_eq!(awaiting.status, StatusCode::OK, "{}", awaiting.text);
    let ids: Vec<&Value> = awaiting.body["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&held["id"]]);
    assert_eq!(awaiting.body["runs"][0]["held"], 12);
    assert_eq!(
        app.cli_json(&["sync", "runs", "--status", "awaiting_approval"])
            .await,
        awaiting.body
    );
    let all_runs = admin.get("/admin/v1/runs?target=down").await;
    assert_eq!(all_runs.body["runs"].as_array().unwrap().len(), 4);
    assert_eq!(app.cli_json(&["sync", "runs", "down"]).await, all_runs.body);
    assert_eq!(
        admin.get(&format!("{TARGETS}/down/runs")).await.body,
        all_runs.body,
        "the same runs under the target"
    );
    let newest = admin.get("/admin/v1/runs?target=down&limit=2").await;
    assert_eq!(
        newest.body["runs"],
        json!(all_runs.body["runs"].as_array().unwrap()[..2])
    );
    assert_eq!(newest.body["runs"][0]["id"], held["id"], "newest first");
    let failed = admin.get("/admin/v1/runs?status=failed").await;
    assert_eq!(failed.body["runs"], json!([]));
    for bad in [
        "status=bogus",
        "status=",
        "limit=0",
        "limit=101",
        "limit=ten",
        "target=down&limit=-1",
    ] {
        admin
            .get(&format!("/admin/v1/runs?{bad}"))
            .await
            .assert_error(400, Some("invalidValue"));
    }
    admin
        .get("/admin/v1/runs?target=nope")
        .await
        .assert_error(404, None);
    admin
        .get("/admin/v1/approvals?target=nope")
        .await
        .assert_error(404, None);

    let rejected = admin
        .post(&format!("/admin/v1/runs/{held_id}/reject"), &json!({}))
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    assert_eq!(rejected.body["status"], "rejected");
    assert_eq!(inactive(remote_users().await), 12);
    admin
        .post(&format!("/admin/v1/runs/{held_id}/reject"), &json!({}))
        .await
        .assert_error(409, None);
    let none_left = admin.get("/admin/v1/approvals").await;
    assert_eq!(none_left.body, json!({"approvals": []}));
    assert_eq!(app.cli_json(&["sync", "held"]).await, none_left.body);

    // Unknown runs and targets.
    for (m, p) in [
        (Method::GET, "/admin/v1/runs/no-such-run"),
        (Method::POST, "/admin/v1/runs/no-such-run/approve"),
        (Method::POST, "/admin/v1/runs/no-such-run/reject"),
        (Method::POST, "/admin/v1/targets/nope/runs"),
        (Method::GET, "/admin/v1/targets/nope/runs"),
    ] {
        admin.call(m, p, None).await.assert_error(404, None);
    }
    admin
        .post(&format!("{TARGETS}/down/runs"), &json!({"dryRun": "yes"}))
        .await
        .assert_error(400, Some("invalidValue"));

    let audit = sync_audit(&app);
    let events: Vec<&str> = audit.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        events,
        [
            "sync.target.add",
            "sync.run.start",
            "sync.run.start",
            "sync.run.start",
            "sync.run.approve",
            "sync.run.start",
            "sync.run.reject"
        ]
    );
    assert!(audit.iter().all(|(_, actor)| actor == "ops"), "{audit:?}");
    admin.assert_no_secret_seen(&[&downstream.token]);
}

/// A slow target keeps a run going: a second start is refused until it
/// ends (the run lease).
async fn runs_of_one_target_do_not_overlap(app: TestApp) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/ServiceProviderConfig"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/scim+json")
                .set_body_json(json!({"patch": {"supported": true},
                    "filter": {"supported": true, "maxResults": 100},
                    "bulk": {"supported": false}}))
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/scim+json")
                .set_body_json(json!({"totalResults": 0, "startIndex": 1,
                    "itemsPerPage": 0, "Resources": []})),
        )
        .mount(&server)
        .await;
    let admin = Admin::new(&app);
    let mut body = target_body("slow", &format!("{}/scim/v2", server.uri()), SECRET);
    body["settings"] = json!({"resource_types": ["Users"]});
    assert_eq!(admin.post(TARGETS, &body).await.status, StatusCode::CREATED);

    let runs = format!("{TARGETS}/slow/runs");
    let started = admin.call(Method::POST, &runs, None).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let id = started.body["id"].as_str().unwrap().to_string();
    admin
        .call(Method::POST, &runs, None)
        .await
        .assert_error(409, None);
    let listed = admin.get(&runs).await;
    assert_eq!(
        listed.body["runs"].as_array().unwrap().len(),
        1,
        "no second run"
    );
    assert_eq!(listed.body["runs"][0]["status"], "running");

    let done = admin.finished(&format!("/admin/v1/runs/{id}")).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let again = admin.run("slow", None).await;
    assert_eq!(again["status"], "succeeded", "{again}");
    admin.assert_no_secret_seen(&[SECRET]);
}

/// `PATCH /admin/v1/targets/{name}`: settings merged key by key, scope
/// cleared with null, credentials rotated (never echoed), bad input 400
/// with nothing changed, an unknown target 404; pause and resume; each
/// change an audit row with the admin token's name.
async fn targets_are_patched_paused_and_resumed(app: TestApp) {
    const ROTATED: &str = "rotated-password-5a4b3c";
    let admin = Admin::new(&app);
    let mut body = target_body("app", "https://app.example/scim/v2", SECRET);
    body["scope"] = json!("active eq true");
    body["settings"] = json!({"guard": {"min_count": 3}, "timeout_secs": 12});
    assert_eq!(admin.post(TARGETS, &body).await.status, StatusCode::CREATED);
    let path = format!("{TARGETS}/app");

    let r = admin
        .patch(&path, &json!({"settings": {"guard": {"max_percent": 5.0}}}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let settings = &r.body["settings"];
    assert_eq!(settings["guard"]["max_percent"], 5.0);
    assert_eq!(settings["guard"]["min_count"], 3, "the rest of guard stays");
    assert_eq!(settings["timeout_secs"], 12, "other settings stay");
    assert_eq!(r.body["scope"], "active eq true");
    assert_eq!(r.body["reconcileNeeded"], false);
    // A null setting goes back to its default.
    let r = admin
        .patch(&path, &json!({"settings": {"timeout_secs": null}}))
        .await;
    assert_eq!(r.body["settings"]["timeout_secs"], 30, "{}", r.text);
    assert_eq!(r.body["settings"]["guard"]["max_percent"], 5.0);
    let r = admin.patch(&path, &json!({"scope": null})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["scope"], Value::Null);
    assert_eq!(
        r.body["reconcileNeeded"], true,
        "a scope change needs a run"
    );

    // Rotated credentials (untested: app.example is not a real target).
    let r = admin
        .patch(
            &path,
            &json!({"credentials": {"kind": "basic", "username": "svc", "password": ROTATED},
                    "test": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["settings"]["auth"], "basic");
    assert!(r.body["settings"].get("test").is_none(), "{}", r.text);
    let db = scimhub::store::diesel::DieselStore::open(&app.database_url, 2).unwrap();
    let stored = scimhub::store::SyncStore::find_target(&db, "app")
        .unwrap()
        .unwrap();
    assert!(!stored.settings.contains("test"), "{}", stored.settings);
    assert_eq!(
        scimhub::provision::target::credentials(&SecretKey([5; 32]), &stored).unwrap(),
        scimhub::provision::target::Credentials::Basic {
            username: "svc".into(),
            password: ROTATED.into()
        }
    );
    let shown = admin.get(&path).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body["settings"], r.body["settings"]);
    // The CLI's JSON is the API's.
    assert_eq!(app.cli_json(&["target", "show", "app"]).await, shown.body);
    assert_eq!(
        app.cli_json(&["target", "list"]).await,
        json!({"targets": admin.targets().await})
    );

    // Bad updates: 400, nothing changed.
    let before = admin.targets().await;
    let audit_before = sync_audit(&app);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"scope": "userName eq"}), "invalid scope"),
        (json!({"scope": 3}), "scope:"),
        (
            json!({"settings": {"group_scope": "displayName eq"}}),
            "group",
        ),
        (json!({"name": "other"}), "unknown field `name`"),
        (json!({"settings": {"timeout_secs": 0}}), "timeout"),
        (json!({"settings": {"wat": 1}}), "unknown field `wat`"),
        (json!({"settings": {"test": false}}), "unknown field `test`"),
        (json!({"settings": [1]}), "settings:"),
        (json!({"url": "ftp://app.example/scim"}), "http"),
        (json!({"test": "no"}), "bad target update"),
        (
            json!({"credentials": {"kind": "bearer", "token": 42, "x": SECRET}}),
            "credentials:",
        ),
        (json!({"mapping": 7}), "mapping:"),
    ];
    for (body, expected) in cases {
        let r = admin.patch(&path, &body).await;
        r.assert_error(400, Some("invalidValue"));
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.contains(expected),
            "{body}: {detail:?} should mention {expected:?}"
        );
    }
    admin
        .patch(&format!("{TARGETS}/nope"), &json!({"settings": {}}))
        .await
        .assert_error(404, None);
    for action in ["pause", "resume"] {
        admin
            .post(&format!("{TARGETS}/nope/{action}"), &json!({}))
            .await
            .assert_error(404, None);
    }
    // A new target pushes nothing yet: there is nothing to pause.
    let r = admin.post(&format!("{path}/pause"), &json!({})).await;
    r.assert_error(400, Some("invalidValue"));
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains("scimhub sync run app"), "{detail}");
    assert_eq!(admin.targets().await, before);
    assert_eq!(sync_audit(&app), audit_before);

    // Resuming a new target follows the change log from its head.
    app.create_user("ann").await;
    app.create_user("bob").await;
    let head = app.store.latest_change().unwrap();
    assert!(head > 0);
    let r = admin.post(&format!("{path}/resume"), &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "active");
    assert_eq!(r.body["change_cursor"], head);
    assert_eq!(admin.get(&path).await.body["change_cursor"], head);
    // Paused, then resumed: from its own cursor, not the head.
    let r = admin.post(&format!("{path}/pause"), &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "paused");
    app.create_user("cyd").await;
    let r = admin.post(&format!("{path}/resume"), &json!({})).await;
    assert_eq!(r.body["state"], "active", "{}", r.text);
    assert_eq!(
        r.body["change_cursor"], head,
        "what changed meanwhile waits"
    );

    assert_eq!(
        sync_audit(&app),
        [
            pair("sync.target.add"),
            pair("sync.target.update"),
            pair("sync.target.update"),
            pair("sync.target.update"),
            pair("sync.target.update"),
            pair("sync.target.resume"),
            pair("sync.target.pause"),
            pair("sync.target.resume"),
        ]
    );
    admin.assert_no_secret_seen(&[SECRET, ROTATED]);
}

on_both_backends!(
    config = super::with_key;
    targets_are_added_listed_shown_and_removed,
    targets_are_patched_paused_and_resumed,
    bad_targets_are_refused_and_nothing_is_stored,
    runs_are_started_polled_approved_and_rejected,
    runs_of_one_target_do_not_overlap,
);

/// Without `secret_key` nothing can be stored or run: 503, nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_secret_key_targets_and_runs_are_unavailable() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let admin = Admin::new(&app);
    let r = admin
        .post(
            TARGETS,
            &target_body("app", "https://app.example/scim/v2", SECRET),
        )
        .await;
    r.assert_error(503, None);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("SCIMHUB_SECRET_KEY")
    );
    assert_eq!(admin.targets().await, json!([]));
    // A target stored by another instance that has the key.
    let db = scimhub::store::diesel::DieselStore::open(&app.database_url, 2).unwrap();
    scimhub::provision::target::add(
        &db,
        Some(&SecretKey([5; 32])),
        scimhub::provision::target::NewTarget {
            name: "app".into(),
            base_url: "https://app.example/scim/v2".into(),
            credentials: scimhub::provision::target::Credentials::Bearer {
                token: SECRET.into(),
            },
            mapping: None,
            scope: None,
            settings: Default::default(),
        },
    )
    .unwrap();
    // Worker tests follow the change log from its start.
    scimhub::provision::target::resume(&db, "app", 0).unwrap();
    let r = admin
        .call(Method::POST, &format!("{TARGETS}/app/runs"), None)
        .await;
    r.assert_error(503, None);
    let runs = admin.get(&format!("{TARGETS}/app/runs")).await;
    assert_eq!(runs.body["runs"], json!([]), "no run was recorded");
    let tested = admin
        .call(Method::POST, &format!("{TARGETS}/app/test"), None)
        .await;
    tested.assert_error(503, None);
    assert!(
        tested.text.contains("no target can be tested"),
        "{}",
        tested.text
    );
    admin
        .call(Method::POST, &format!("{TARGETS}/nope/test"), None)
        .await
        .assert_error(404, None);
    admin
        .post("/admin/v1/runs/no-such-run/approve", &json!({}))
        .await
        .assert_error(404, None);
    assert!(sync_audit(&app).is_empty());
    admin.assert_no_secret_seen(&[SECRET]);
}

/// A SCIM read/write token reaches none of it (the route walk in
/// `access.rs` covers every route; this is the explicit case).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_tokens_cannot_manage_the_sync_center() {
    let app = TestApp::start_with(Backend::Sqlite, with_key)
        .await
        .unwrap();
    let body = target_body("app", "https://app.example/scim/v2", SECRET).to_string();
    for (m, p, b) in [
        (Method::GET, TARGETS, None),
        (Method::POST, TARGETS, Some(body)),
        (Method::POST, "/admin/v1/targets/app/runs", None),
    ] {
        app.send(m, p, Some(&app.token), b.map(String::into_bytes))
            .await
            .assert_error(403, None);
    }
    let admin = Admin::new(&app);
    assert_eq!(admin.targets().await, json!([]));
}
