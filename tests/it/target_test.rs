//! `scimhub target test` and `POST /admin/v1/targets/{name}/test`: a real
//! second scimhub passes every step; mocks (fault injection) fail each
//! step with its reason; `target add` refuses (storing nothing) a target
//! that fails, and `target update` a new URL or new credentials that fail,
//! unless told not to test.

use std::process::Output;

use reqwest::StatusCode;
use scimhub::config::Config;
use scimhub::crypto::SecretKey;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::on_both_backends;
use crate::support::app::Response;
use crate::support::{Backend, TestApp};

const TARGETS: &str = "/admin/v1/targets";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn with_key(config: &mut Config) {
    config.secret_key = Some(SecretKey([1; 32]));
}

/// Admin API calls with one `admin`-scoped token.
struct Admin<'a> {
    app: &'a TestApp,
    token: String,
}

impl<'a> Admin<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            token: app.token_with("ops", &["admin"]),
            app,
        }
    }

    async fn post(&self, path: &str, body: Option<&Value>) -> Response {
        let mut req = self
            .app
            .client()
            .post(self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").json(b);
        }
        self.app.raw(req).await
    }

    async fn patch(&self, path: &str, body: &Value) -> Response {
        let req = self
            .app
            .client()
            .patch(self.app.url(path))
            .bearer_auth(&self.token)
            .json(body);
        self.app.raw(req).await
    }

    async fn targets(&self) -> Value {
        let req = self
            .app
            .client()
            .get(self.app.url(TARGETS))
            .bearer_auth(&self.token);
        let r = self.app.raw(req).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["targets"].clone()
    }
}

fn bearer(name: &str, url: &str, token: &str) -> Value {
    json!({"name": name, "url": url, "credentials": {"kind": "bearer", "token": token}})
}

/// `scimhub ARGS --database DB` with the server's secret key.
async fn cli(app: &TestApp, args: &[&str]) -> Output {
    app.cli(args).await
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn statuses(report: &Value) -> Vec<(String, String)> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn steps(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn a_real_scimhub_passes_every_step(app: TestApp) {
    let admin = Admin::new(&app);
    let target = TestApp::start(Backend::Sqlite).await.unwrap();
    app.create_user("ann").await;
    let url = format!("{}/scim/v2", target.base);
    // Added with its test (the default).
    let added = admin
        .post(TARGETS, Some(&bearer("down", &url, &target.token)))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);

    let r = admin.post(&format!("{TARGETS}/down/test"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let report = r.body;
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(
        statuses(&report),
        steps(&[
            ("reachability", "ok"),
            ("authentication", "ok"),
            ("service_provider_config", "ok"),
            ("schemas", "ok"),
            ("mapping", "ok"),
        ])
    );
    let spc = &report["steps"][2]["features"];
    assert_eq!(
        (spc["patch"].clone(), spc["filter"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(spc["bulk"], true);
    let schemas = report["steps"][3]["schemas"].as_array().unwrap();
    assert!(schemas.contains(&json!(USER_SCHEMA)) && schemas.contains(&json!(GROUP_SCHEMA)));
    assert!(
        report["steps"][4]["detail"]
            .as_str()
            .unwrap()
            .contains("tried on 1 local resources"),
        "{report:#}"
    );
    assert!(
        !r.text.contains(&target.token),
        "the report never quotes credentials"
    );

    let out = cli(&app, &["target", "test", "down", "--json"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(statuses(&printed), statuses(&report));
    let out = cli(&app, &["target", "test", "down"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Test passed."), "{}", text(&out));

    let unknown = admin.post(&format!("{TARGETS}/nope/test"), None).await;
    unknown.assert_error(404, None);
    let out = cli(&app, &["target", "test", "nope"]).await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no target named \"nope\""),
        "{}",
        text(&out)
    );
}

/// A mock that refuses every credential (401), as a wrong token gets.
async fn refusing_target() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"status": "401", "detail": "invalid token"})),
        )
        .mount(&server)
        .await;
    server
}

async fn refused_credentials_fail_and_nothing_is_stored(app: TestApp) {
    let admin = Admin::new(&app);
    let server = refusing_target().await;
    let url = format!("{}/scim/v2", server.uri());
    let r = admin
        .post(TARGETS, Some(&bearer("app", &url, "wrong")))
        .await;
    r.assert_error(422, None);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("nothing was stored")
            && detail.contains(
                "authentication: the target refused the credentials (HTTP 401): invalid token"
            ),
        "{detail}"
    );
    assert_eq!(admin.targets().await, json!([]));

    // Stored untested on request; the test then reports the refusal.
    let mut untested = bearer("app", &url, "wrong");
    untested["test"] = json!(false);
    let r = admin.post(TARGETS, Some(&untested)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = admin.post(&format!("{TARGETS}/app/test"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["ok"], false);
    assert_eq!(
        statuses(&r.body),
        steps(&[
            ("reachability", "ok"),
            ("authentication", "failed"),
            ("service_provider_config", "skipped"),
            ("schemas", "skipped"),
            ("mapping", "skipped"),
        ])
    );
    let out = cli(&app, &["target", "test", "app"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("HTTP 401"), "{}", text(&out));
}

/// A mock SCIM server whose User schema types `active` as a boolean.
async fn typed_target() -> MockServer {
    let server = MockServer::start().await;
    let json = |body: Value| {
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/scim+json")
            .set_body_json(body)
    };
    Mock::given(method("GET"))
        .and(path("/scim/v2/ServiceProviderConfig"))
        .respond_with(json(json!({"patch": {"supported": true},
            "filter": {"supported": true, "maxResults": 50}, "bulk": {"supported": false}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(json(json!({"totalResults": 0, "Resources": []})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Schemas"))
        .respond_with(json(json!({"totalResults": 1, "Resources": [{
        "id": USER_SCHEMA,
        "attributes": [
            {"name": "userName", "type": "string", "multiValued": false},
            {"name": "active", "type": "boolean", "multiValued": false},
        ]}]})))
        .mount(&server)
        .await;
    server
}

const YES_INTO_ACTIVE: &str = "[users]\nbase = \"none\"\n\
    [[users.rules]]\ntarget = \"userName\"\nvalue = \"userName\"\n\
    [[users.rules]]\ntarget = \"active\"\nvalue = '\"yes\"'\n";

async fn a_mapping_that_does_not_fit_the_schemas_is_refused(app: TestApp) {
    let admin = Admin::new(&app);
    let server = typed_target().await;
    let url = format!("{}/scim/v2", server.uri());
    let mut body = bearer("typed", &url, "t");
    body["mapping"] = json!(YES_INTO_ACTIVE);
    body["settings"] = json!({"resource_types": ["Users"]});
    let r = admin.post(TARGETS, Some(&body)).await;
    r.assert_error(422, None);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains(
            "mapping: users rule active = \"yes\": produces the string \"yes\", \
             but the target's 'active' is a boolean"
        ),
        "{detail}"
    );
    assert_eq!(admin.targets().await, json!([]));

    // The same from the command line: refused, then stored with --no-test.
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("map.toml");
    std::fs::write(&mapping, YES_INTO_ACTIVE).unwrap();
    let add = [
        "target",
        "add",
        "--name",
        "typed",
        "--url",
        &url,
        "--token",
        "t",
        "--resource-types",
        "Users",
        "--mapping",
        mapping.to_str().unwrap(),
    ];
    let out = cli(&app, &add).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("users rule active = \"yes\""), "{said}");
    assert!(
        said.contains("nothing was stored") && said.contains("--no-test"),
        "{said}"
    );
    assert_eq!(admin.targets().await, json!([]));

    let untested: Vec<&str> = add.iter().copied().chain(["--no-test"]).collect();
    let out = cli(&app, &untested).await;
    assert!(out.status.success(), "{}", text(&out));
    let out = cli(&app, &["target", "test", "typed", "--json"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        statuses(&report),
        steps(&[
            ("reachability", "ok"),
            ("authentication", "ok"),
            ("service_provider_config", "ok"),
            ("schemas", "ok"),
            ("mapping", "failed"),
        ])
    );
    let problem = &report["steps"][4]["problems"][0];
    assert_eq!(problem["severity"], "error");
    assert_eq!(
        (problem["target"].as_str(), problem["value"].as_str()),
        (Some("active"), Some("\"yes\""))
    );
    assert_eq!(report["steps"][2]["features"]["max_results"], 50);

    // A mapping change is type-checked too: the fitting one is stored, the
    // bad one brought back is refused and changes nothing.
    let path = format!("{TARGETS}/typed");
    let fits =
        "[users]\nbase = \"none\"\n[[users.rules]]\ntarget = \"userName\"\nvalue = \"userName\"\n";
    let r = admin.patch(&path, &json!({"mapping": fits})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let shown = app.cli_json(&["target", "show", "typed"]).await;
    let r = admin
        .patch(&path, &json!({"mapping": YES_INTO_ACTIVE}))
        .await;
    r.assert_error(422, None);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("users rule active = \"yes\""),
        "{}",
        r.text
    );
    assert_eq!(app.cli_json(&["target", "show", "typed"]).await, shown);
}

async fn unreachable_targets_say_why(app: TestApp) {
    let admin = Admin::new(&app);
    // Nothing listens on a port just released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    // Connected but never answered (the backlog accepts, nobody reads).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let plain_http = MockServer::start().await;
    let tls_url = plain_http.uri().replace("http://", "https://");
    let cases = [
        (
            "closed",
            format!("http://127.0.0.1:{closed_port}/scim"),
            "refused",
        ),
        (
            "silent",
            format!("http://127.0.0.1:{silent_port}/scim"),
            "timeout",
        ),
        ("tls", format!("{tls_url}/scim"), "tls"),
        ("dns", "http://no-such-host.invalid/scim".to_string(), "dns"),
    ];
    for (name, url, why) in &cases {
        let mut body = bearer(name, url, "t");
        body["settings"] = json!({"timeout_secs": 1});
        let refused = admin.post(TARGETS, Some(&body)).await;
        refused.assert_error(422, None);
        assert!(
            refused.body["detail"]
                .as_str()
                .unwrap()
                .contains("reachability: "),
            "{name}: {}",
            refused.text
        );
        body["test"] = json!(false);
        let added = admin.post(TARGETS, Some(&body)).await;
        assert_eq!(added.status, StatusCode::CREATED, "{name}: {}", added.text);
        let r = admin.post(&format!("{TARGETS}/{name}/test"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let first = &r.body["steps"][0];
        assert_eq!(first["status"], "failed", "{name}: {}", r.text);
        assert_eq!(first["unreachable"], *why, "{name}: {}", r.text);
        assert_eq!(r.body["ok"], false);
        assert!(
            r.body["steps"].as_array().unwrap()[1..]
                .iter()
                .all(|s| s["status"] == "skipped" && s["detail"] == "the target cannot be reached"),
            "{name}: {}",
            r.text
        );
    }
    drop(silent);
    let names: Vec<Value> = admin
        .targets()
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(
        names.len(),
        cases.len(),
        "only the untested adds were stored"
    );
}

/// `sync.target.update` audit rows' actors, oldest first.
fn update_actors(app: &TestApp) -> Vec<String> {
    let query = scimhub::store::AuditQuery {
        limit: 1000,
        ..Default::default()
    };
    let mut actors: Vec<String> = app
        .store
        .audit(&query)
        .unwrap()
        .into_iter()
        .filter(|r| r.event == "sync.target.update")
        .map(|r| r.actor)
        .collect();
    actors.reverse();
    actors
}

/// A new URL or new credentials are tested before they are stored: a
/// failing test changes nothing through either door (`--no-test` /
/// `"test": false` skip it); other changes are not tested.
async fn an_update_that_fails_its_test_changes_nothing(app: TestApp) {
    let admin = Admin::new(&app);
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    let refusing = refusing_target().await;
    let good_url = format!("{}/scim/v2", downstream.base);
    let bad_url = format!("{}/scim/v2", refusing.uri());
    let added = admin
        .post(TARGETS, Some(&bearer("down", &good_url, &downstream.token)))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let db = scimhub::store::diesel::DieselStore::open(&app.database_url, 2).unwrap();
    let sealed = || {
        scimhub::store::SyncStore::find_target(&db, "down")
            .unwrap()
            .unwrap()
            .credentials
    };
    let sealed_before = sealed();
    let shown = app.cli_json(&["target", "show", "down"]).await;
    let path = format!("{TARGETS}/down");

    let refused = "authentication: the target refused the credentials (HTTP 401)";
    for body in [
        json!({"url": bad_url}),
        json!({"credentials": {"kind": "bearer", "token": "wrong"}}),
        json!({"url": bad_url, "settings": {"timeout_secs": 5}}),
    ] {
        let r = admin.patch(&path, &body).await;
        r.assert_error(422, None);
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("nothing was changed") && detail.contains(refused),
            "{body}: {detail}"
        );
        assert_eq!(app.cli_json(&["target", "show", "down"]).await, shown);
        assert_eq!(sealed(), sealed_before);
    }
    for flags in [["--url", bad_url.as_str()], ["--token", "wrong"]] {
        let args: Vec<&str> = ["target", "update", "down"]
            .into_iter()
            .chain(flags)
            .collect();
        let out = cli(&app, &args).await;
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let said = text(&out);
        assert!(
            said.contains("nothing was changed")
                && said.contains(refused)
                && said.contains("--no-test"),
            "{said}"
        );
        assert_eq!(app.cli_json(&["target", "show", "down"]).await, shown);
        assert_eq!(sealed(), sealed_before);
    }
    assert!(
        update_actors(&app).is_empty(),
        "a refused update is not audited"
    );

    // Untested on request; then a settings change is not tested (it would fail).
    let r = admin
        .patch(&path, &json!({"url": bad_url, "test": false}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["base_url"], bad_url.as_str());
    let r = admin
        .patch(&path, &json!({"settings": {"timeout_secs": 7}}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let out = cli(
        &app,
        &["target", "update", "down", "--token", "other", "--no-test"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert_ne!(sealed(), sealed_before);
    // Back to the real target: the test passes and the change is stored.
    let back = json!({"url": good_url,
                      "credentials": {"kind": "bearer", "token": downstream.token}});
    let r = admin.patch(&path, &back).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let now = app.cli_json(&["target", "show", "down"]).await;
    assert_eq!(now["base_url"], good_url.as_str());
    assert_eq!(now["settings"]["timeout_secs"], 7);
    assert!(!r.text.contains(&downstream.token));
    assert_eq!(update_actors(&app), ["ops", "ops", "cli:tester", "ops"]);
}

on_both_backends!(
    config = super::with_key;
    a_real_scimhub_passes_every_step,
    an_update_that_fails_its_test_changes_nothing,
    refused_credentials_fail_and_nothing_is_stored,
    a_mapping_that_does_not_fit_the_schemas_is_refused,
    unreachable_targets_say_why,
);
