//! The shipped conformance suite against the in-process server (with SCIM
//! events signed, so the events cases run): every case passes, twice in a
//! row (unique names), and leaves no user or group behind (cleanup); every
//! assertion in it can fail; cases needing what a server lacks are skipped
//! with the reason; and the CLI reports.

use std::process::Command;

use reqwest::Method;

use scimhub::conformance::{Outcome, Runner, Suite, Target, load, mutate};
use scimhub::store::ListQuery;

use crate::on_both_backends;
use crate::support::events::SigningKey;
use crate::support::{Backend, TestApp};

/// A server on `backend` that signs SCIM events (the key file is read at
/// start, so it may go once the server runs).
async fn start_with_events(backend: Backend) -> Option<TestApp> {
    let key = SigningKey::ec();
    TestApp::start_with(backend, |c| key.configure(c)).await
}

fn target(app: &TestApp) -> Target {
    Target {
        base_url: format!("{}/scim/v2", app.base),
        token: app.token.clone(),
        read_token: Some(app.token_with("conformance-reader", &["scim:read"])),
    }
}

/// No user or group is left in the store.
fn assert_empty(app: &TestApp) {
    let all = ListQuery::all();
    let users = app.store.list_users(&all).unwrap();
    let groups = app.store.list_groups(&all).unwrap();
    let names: Vec<_> = users
        .items
        .iter()
        .map(|u| u.attributes["userName"].to_string())
        .chain(
            groups
                .items
                .iter()
                .map(|g| g.attributes["displayName"].to_string()),
        )
        .collect();
    assert!(names.is_empty(), "left behind: {names:?}");
    let departments = app.store.department_subtree(None).unwrap();
    assert!(
        departments.is_empty(),
        "departments left behind: {departments:?}"
    );
    for kind in scimhub::scim::registry::registry().plain_kinds() {
        let left = app.store.list_resources(kind, &all).unwrap();
        assert!(left.items.is_empty(), "{kind:?} left behind");
    }
}

/// The extension schema `extensions/entra-custom-extension` needs, defined
/// as an administrator would.
async fn define_the_conformance_extension(app: &TestApp) {
    let admin = app.token_with("conformance-admin", &["admin"]);
    let definition = serde_json::json!({
        "id": "urn:ietf:params:scim:schemas:extension:Conformance:2.0:User",
        "name": "Conformance",
        "resourceType": "User",
        "attributes": [
            {"name": "badge", "type": "string", "caseExact": true},
            {"name": "floor", "type": "integer"},
        ],
    });
    let body = Some(definition.to_string().into_bytes());
    let r = app
        .send(Method::POST, "/admin/v1/schemas", Some(&admin), body)
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.text);
}

async fn every_case_passes_twice_and_cleans_up(default: TestApp) {
    let app = start_with_events(default.backend).await.unwrap();
    drop(default);
    define_the_conformance_extension(&app).await;
    let cases = load(None).unwrap();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let runner = Runner::new(target(&app)).unwrap();
    for round in 1..=2 {
        let report = runner.run(&cases).await;
        assert!(
            report.failed() == 0 && report.skipped() == 0,
            "round {round} on {:?}:\n{report}",
            app.backend
        );
        assert_empty(&app);
    }
}

on_both_backends!(every_case_passes_twice_and_cleans_up);

/// Each assertion, negated alone, makes its case fail: none is vacuous or
/// skipped by the runner, and cleanup still runs after a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_assertion_can_fail() {
    let app = start_with_events(Backend::Sqlite).await.unwrap();
    define_the_conformance_extension(&app).await;
    let runner = Runner::new(target(&app)).unwrap();
    let mut mutants = 0;
    for case in load(None).unwrap() {
        for (what, mutant) in mutate::negations(&case) {
            let result = runner.run_case(&mutant).await;
            assert!(
                matches!(result.outcome, Outcome::Fail(_)),
                "{} still passes with {what} negated",
                case.id
            );
            mutants += 1;
        }
    }
    eprintln!("{mutants} assertions negated, each failed its case");
    assert!(mutants > 300, "only {mutants} assertions");
    assert_empty(&app);
}

/// A case needing a resource type or schema the server does not list is
/// skipped, saying which, and sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_needing_what_the_server_lacks_is_skipped() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let runner = Runner::new(target(&app)).unwrap();
    let mut case = load(None)
        .unwrap()
        .into_iter()
        .find(|c| c.id == "extensions/departments-tree")
        .unwrap();
    case.requires.resource_types.push("Spaceship".into());
    let result = runner.run_case(&case).await;
    match result.outcome {
        Outcome::Skip(why) => assert!(why.contains("Spaceship"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(app.store.department_subtree(None).unwrap().is_empty());
    case.requires.resource_types.clear();
    case.requires
        .schemas
        .push("urn:example:params:scim:schemas:extension:Nothing:2.0:User".into());
    match runner.run_case(&case).await.outcome {
        Outcome::Skip(why) => assert!(why.contains("Nothing"), "{why}"),
        other => panic!("{other:?}"),
    }
    case.requires.schemas.clear();
    assert!(matches!(
        runner.run_case(&case).await.outcome,
        Outcome::Pass
    ));
    assert_empty(&app);
}

/// Against a server that signs no SCIM events (its JWKS lists no key)
/// every events case is skipped, saying so; with a key they all pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cases_are_skipped_where_the_server_offers_no_events() {
    let cases = load(Some(Suite::Events)).unwrap();
    assert!(cases.len() >= 2, "only {} events cases", cases.len());
    assert!(
        cases.iter().all(|c| c.requires.events),
        "every case requires events"
    );

    let unsigned = TestApp::start(Backend::Sqlite).await.unwrap();
    let report = Runner::new(target(&unsigned)).unwrap().run(&cases).await;
    assert_eq!(report.skipped(), cases.len(), "{report}");
    for result in &report.results {
        match &result.outcome {
            Outcome::Skip(why) => assert_eq!(
                why,
                "the server offers no SCIM events (RFC 9967): /.well-known/jwks.json lists no \
                 signing key",
                "{}",
                result.id
            ),
            other => panic!("{}: {other:?}", result.id),
        }
    }

    // The CLI says so too, and skipping is no failure.
    let scim = format!("{}/scim/v2", unsigned.base);
    let token = unsigned.token.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_scimhub"))
            .args(["conformance", "--url", &scim, "--only", "events"])
            .env("SCIMHUB_CONFORMANCE_TOKEN", token)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("SKIP    events/jwks-"), "{stdout}");
    assert!(
        stdout.contains("offers no SCIM events (RFC 9967)"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(&format!("0 passed, 0 failed, {} skipped\n", cases.len())),
        "{stdout}"
    );

    let signed = start_with_events(Backend::Sqlite).await.unwrap();
    let report = Runner::new(target(&signed)).unwrap().run(&cases).await;
    assert_eq!(report.passed(), cases.len(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_prints_the_table_and_fails_on_failures() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let scim = format!("{}/scim/v2", app.base);
    let run = move |token: String| {
        let scim = scim.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_scimhub"))
                .args(["conformance", "--url", &scim, "--only", "okta"])
                .env("SCIMHUB_CONFORMANCE_TOKEN", token)
                .output()
                .unwrap()
        })
    };
    let good = run(app.token.clone()).await.unwrap();
    let stdout = String::from_utf8_lossy(&good.stdout);
    assert!(good.status.success(), "{stdout}");
    assert!(stdout.starts_with("RESULT  CASE"), "{stdout}");
    assert!(stdout.contains("PASS    okta/"), "{stdout}");
    assert!(!stdout.contains("rfc7644/"), "--only okta: {stdout}");

    let bad = run("not-a-token".into()).await.unwrap();
    let stdout = String::from_utf8_lossy(&bad.stdout);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL    okta/"), "{stdout}");
    assert!(stdout.contains("got 401"), "{stdout}");
    assert!(stderr.contains("conformance cases failed"), "{stderr}");
}
