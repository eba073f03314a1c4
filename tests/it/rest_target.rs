//! A REST API as a sync target, driven the way an admin does it: a live
//! `scimhub serve` with its workers, the CLI, and a contacts API like an
//! IM tool's (tests/it/support/contacts_app.rs) as the downstream system.

use std::io::Write;

use serde_json::{Value, json};

use crate::lifecycle::Source;
use crate::on_both_sources;
use crate::support::contacts_app::{ContactsApp, TOKEN};
use crate::support::{Backend, eventually};

const MAPPING: &str = r#"
[users]
base = "none"
rules = [
  { target = "name", value = "name.familyName" },
  { target = "email", value = 'emails[type eq "work"].value' },
]

[groups]
base = "none"
rules = [{ target = "name", value = "displayName" }]
"#;

fn file(suffix: &str, text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

/// name → enable (1 or 0) of the API's users.
fn users(app: &ContactsApp) -> std::collections::BTreeMap<String, i64> {
    let state = app.state.lock().unwrap();
    state
        .users
        .values()
        .map(|u| {
            (
                u["name"].as_str().unwrap().to_string(),
                u["enable"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn a_rest_target_is_filled_follows_changes_and_holds_mass_deprovisions(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let app = ContactsApp::start();
    let server = &source.server;
    let mut ids = Vec::new();
    for name in ["ann", "bo", "cy", "di", "ed"] {
        ids.push(source.user(name, None).await);
    }
    source.group("ops", &[&ids[0], &ids[1]]).await;
    // Already in the API: ann (adopted by e-mail, not duplicated).
    app.state.lock().unwrap().users.insert(
        "legacy-ann".into(),
        json!({"userid": "legacy-ann", "name": "Ann (old)", "email": "ann@example.com", "enable": 1}),
    );

    let settings = file(
        ".json",
        &json!({"rest": ContactsApp::settings()}).to_string(),
    );
    let mapping = file(".toml", MAPPING);
    let args = |token: &str| -> Vec<String> {
        [
            "target",
            "add",
            "--name",
            "im",
            "--kind",
            "rest",
            "--url",
            &app.url,
            "--token",
            token,
            "--matching",
            "email",
            "--guard-percent",
            "10",
            "--guard-min",
            "3",
            "--connector-settings",
            settings.path().to_str().unwrap(),
            "--mapping",
            mapping.path().to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    // A wrong token: the test fails on authentication, nothing is stored.
    let wrong = args("not-the-token");
    let out = server.cli(&wrong.iter().map(String::as_str).collect::<Vec<_>>());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("40014"), "{said}");
    assert!(
        server.cli_json(&["target", "list"])["targets"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let good = args(TOKEN);
    server.cli_ok(&good.iter().map(String::as_str).collect::<Vec<_>>());
    let shown = server.cli_json(&["target", "show", "im"]);
    assert_eq!(shown["settings"]["kind"], "rest", "{shown}");
    assert!(
        !shown.to_string().contains(TOKEN),
        "the token is never shown"
    );

    let before = users(&app);
    let plan = server.cli_json(&["sync", "run", "im", "--dry-run"]);
    assert_eq!(plan["status"], "planned", "{plan}");
    assert_eq!(users(&app), before, "a dry run wrote nothing");

    let run = server.cli_json(&["sync", "run", "im"]);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["counts"]["linked"], 1, "ann adopted by e-mail: {run}");
    let names: Vec<String> = users(&app).into_keys().collect();
    assert_eq!(
        names,
        ["ann", "bo", "cy", "di", "ed"],
        "ann's name updated in place"
    );
    {
        let state = app.state.lock().unwrap();
        let ops = state.departments.values().next().unwrap().clone();
        assert_eq!(ops["name"], "ops");
        let members: Vec<&Value> = ops["userids"].as_array().unwrap().iter().collect();
        assert_eq!(members.len(), 2, "{ops}");
        assert!(members.contains(&&json!("legacy-ann")));
    }

    // Real time: a new hire appears; four leavers at once trip the guard.
    source.user("fay", None).await;
    eventually("fay in the API", || async {
        users(&app).contains_key("fay").then_some(())
    })
    .await;
    for id in &ids[1..5] {
        source
            .send(reqwest::Method::DELETE, &format!("/Users/{id}"), None)
            .await;
    }
    let held = eventually("deprovisions held past the guard", || async {
        let held = server.cli_json(&["sync", "held", "im"])["approvals"].clone();
        let n = held[0]["pending"].as_array().map_or(0, Vec::len);
        (n > 0 && users(&app).values().filter(|e| **e == 0).count() + n == 4).then_some(held)
    })
    .await;
    let run_id = held[0]["id"].as_str().unwrap();
    let approved = server.cli_json(&["sync", "approve", run_id]);
    assert_eq!(approved["status"], "succeeded", "{approved}");
    let disabled: Vec<String> = users(&app)
        .into_iter()
        .filter(|(_, enable)| *enable == 0)
        .map(|(name, _)| name)
        .collect();
    assert_eq!(disabled, ["bo", "cy", "di", "ed"]);

    // A write the API refuses (its own error code) waits in the failure queue.
    let mut no_email = crate::support::user_body("gus");
    no_email.as_object_mut().unwrap().remove("emails");
    source
        .send(reqwest::Method::POST, "/Users", Some(no_email))
        .await;
    let failures = eventually("gus's refused create queued", || async {
        let f = server.cli_json(&["failures", "list", "--target", "im"]);
        (f["failures"].as_array().is_some_and(|a| !a.is_empty())).then_some(f)
    })
    .await;
    assert!(
        failures.to_string().contains("email required"),
        "{failures}"
    );
}

on_both_sources!(a_rest_target_is_filled_follows_changes_and_holds_mass_deprovisions);
