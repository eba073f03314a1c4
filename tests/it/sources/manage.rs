//! Sources are managed like targets (CLI and admin API, credentials
//! sealed and never shown, every change audited), and two sources feed one
//! person by the attributes each owns.

use reqwest::Method;
use serde_json::{Value, json};

use super::{by_external_id, cli_ok, cli_report};
use crate::on_both_backends;
use crate::support::TestApp;
use scimhub::store::SourceStore;
use scimhub::store::diesel::DieselStore;

const TOKEN: &str = "upstream-scim-token-4711";
const BIND_PASSWORD: &str = "bind-password-0815";

async fn sources_are_managed_like_targets(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let out = cli_ok(
        &app,
        &[
            "source",
            "add",
            "--name",
            "idp",
            "--kind",
            "scim",
            "--url",
            "https://idp.example/scim/v2/",
            "--token",
            TOKEN,
        ],
    )
    .await;
    assert!(!out.contains(TOKEN));
    let shown = app.cli_json(&["source", "show", "idp"]).await;
    assert_eq!(shown["settings"]["auth"], "bearer");
    assert_eq!(shown["settings"]["url"], "https://idp.example/scim/v2");
    assert!(!shown.to_string().contains(TOKEN));

    let body = json!({"name": "ad", "kind": "ldap",
        "settings": {"url": "ldap://127.0.0.1:1", "base_dn": "dc=example,dc=org"},
        "credentials": {"kind": "basic", "username": "cn=admin,dc=example,dc=org", "password": BIND_PASSWORD}});
    let added = app
        .send(
            Method::POST,
            "/admin/v1/sources",
            Some(&admin),
            Some(body.to_string().into_bytes()),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.text);
    assert_eq!(added.header("location"), Some("/admin/v1/sources/ad"));
    assert!(!added.text.contains(BIND_PASSWORD));
    assert_eq!(added.body["settings"]["auth"], "basic");

    // Sealed at rest: the stored credentials are neither secret in the clear.
    let db = DieselStore::open(&app.database_url, 1).unwrap();
    for (name, secret) in [("idp", TOKEN), ("ad", BIND_PASSWORD)] {
        let sealed = db.find_source(name).unwrap().unwrap().credentials.unwrap();
        assert!(!sealed.contains(secret), "{name}");
    }

    let listed = app
        .send(Method::GET, "/admin/v1/sources", Some(&admin), None)
        .await;
    assert_eq!(listed.body, app.cli_json(&["source", "list"]).await);
    assert_eq!(listed.body["sources"].as_array().unwrap().len(), 2);

    let patched = app
        .send(
            Method::PATCH,
            "/admin/v1/sources/ad",
            Some(&admin),
            Some(
                json!({"settings": {"guard": {"max_percent": 5}}})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["settings"]["guard"]["max_percent"], 5.0);
    assert_eq!(patched.body["settings"]["guard"]["min_count"], 10);

    // Refused changes change nothing.
    let before = app.cli_json(&["source", "list"]).await;
    for (method, path, body, status) in [
        (
            Method::PATCH,
            "/admin/v1/sources/ad",
            json!({"settings": {"user_filter": "(objectClass=person"}}),
            400,
        ),
        (
            Method::PATCH,
            "/admin/v1/sources/ad",
            json!({"settings": {"path": "/tmp/x.csv"}}),
            400,
        ),
        (
            Method::PATCH,
            "/admin/v1/sources/ad",
            json!({"credentials": {"kind": "bearer", "token": "t"}}),
            400,
        ),
        (
            Method::POST,
            "/admin/v1/sources",
            json!({"name": "ad", "kind": "file"}),
            409,
        ),
        (
            Method::POST,
            "/admin/v1/sources",
            json!({"name": "bad name", "kind": "file"}),
            400,
        ),
        (
            Method::POST,
            "/admin/v1/sources",
            json!({"name": "x", "kind": "nfs"}),
            400,
        ),
        (
            Method::POST,
            "/admin/v1/sources",
            json!({"name": "x", "kind": "file", "credentials": {"kind": "bearer", "token": "t"}}),
            400,
        ),
        (
            Method::POST,
            "/admin/v1/sources",
            json!({"name": "x", "kind": "scim", "settings": {"url": "https://a.example"}}),
            400,
        ),
        (
            Method::POST,
            "/admin/v1/sources",
            json!({"name": "x", "kind": "file", "settings": {"path": "relative.csv"}}),
            400,
        ),
        (
            Method::PATCH,
            "/admin/v1/sources/nope",
            json!({"settings": {}}),
            404,
        ),
    ] {
        let r = app
            .send(
                method.clone(),
                path,
                Some(&admin),
                Some(body.to_string().into_bytes()),
            )
            .await;
        assert_eq!(
            r.status.as_u16(),
            status,
            "{method} {path} {body}: {}",
            r.text
        );
        assert!(!r.text.contains(BIND_PASSWORD));
    }
    assert_eq!(app.cli_json(&["source", "list"]).await, before);

    let removed = app
        .send(Method::DELETE, "/admin/v1/sources/ad", Some(&admin), None)
        .await;
    assert_eq!(removed.status, 204);
    let gone = app
        .send(Method::GET, "/admin/v1/sources/ad", Some(&admin), None)
        .await;
    gone.assert_error(404, None);
    cli_ok(&app, &["source", "remove", "idp"]).await;
    assert_eq!(
        app.cli_json(&["source", "list"]).await,
        json!({"sources": []})
    );

    let audit = app
        .store
        .audit(&scimhub::store::AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    let events: Vec<(&str, &str)> = audit
        .iter()
        .filter(|a| a.event.starts_with("source."))
        .map(|a| (a.event.as_str(), a.actor.as_str()))
        .collect();
    assert_eq!(
        events,
        vec![
            ("source.remove", "cli:tester"),
            ("source.remove", "ops"),
            ("source.update", "ops"),
            ("source.add", "ops"),
            ("source.add", "cli:tester"),
        ]
    );
    assert!(
        audit
            .iter()
            .all(|a| !a.detail.clone().unwrap_or_default().contains(TOKEN))
    );
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().to_string()
}

async fn two_sources_feed_one_person_by_what_each_owns(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let hr = write(
        &dir,
        "hr.csv",
        "externalId,userName,name.givenName,name.familyName\n1,ann,Ann,Lee\n2,bob,Bob,Ray\n",
    );
    let titles = write(&dir, "titles.csv", "userName,title\nann,CTO\n");
    cli_ok(
        &app,
        &[
            "source", "add", "--name", "hr", "--kind", "file", "--path", &hr,
        ],
    )
    .await;
    cli_ok(
        &app,
        &[
            "source",
            "add",
            "--name",
            "titles",
            "--kind",
            "file",
            "--path",
            &titles,
            "--owns",
            "title",
            "--join-existing",
            "true",
        ],
    )
    .await;
    cli_report(&app, &["source", "run", "hr"]).await;
    let (ok, report) = cli_report(&app, &["source", "run", "titles"]).await;
    assert!(ok, "{report}");
    assert_eq!(report["counts"]["linked"], 1);
    let users = by_external_id(&app, "Users").await;
    let ann = &users["1"];
    assert_eq!(ann["title"], "CTO");
    assert_eq!(
        ann["name"]["givenName"], "Ann",
        "the titles source owns only the title"
    );

    // HR changes the name: the title the other source owns stays.
    write(
        &dir,
        "hr.csv",
        "externalId,userName,name.givenName,name.familyName\n1,ann,Anne,Lee\n2,bob,Bob,Ray\n",
    );
    let (_, report) = cli_report(&app, &["source", "run", "hr"]).await;
    assert_eq!(report["counts"]["updated"], 1, "{report}");
    let ann = &by_external_id(&app, "Users").await["1"];
    assert_eq!(
        (ann["name"]["givenName"].clone(), ann["title"].clone()),
        (json!("Anne"), json!("CTO"))
    );

    // A third source claiming a userName without joining is a reported conflict.
    let other = write(
        &dir,
        "other.csv",
        "externalId,userName,title\nz9,bob,Boss\n",
    );
    cli_ok(
        &app,
        &[
            "source", "add", "--name", "other", "--kind", "file", "--path", &other,
        ],
    )
    .await;
    let before = app.snapshot();
    let (ok, report) = cli_report(&app, &["source", "run", "other"]).await;
    assert!(!ok);
    assert_eq!(report["failures"][0]["reason"], "conflict", "{report}");
    assert!(
        report["failures"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("userName \"bob\" is supplied by source \"hr\""),
        "{report}"
    );
    assert_eq!(app.snapshot(), before, "no silent merge");
    let bob = &by_external_id(&app, "Users").await["2"];
    assert_eq!(bob["title"], Value::Null);
}

on_both_backends!(
    config = crate::sources::with_key;
    sources_are_managed_like_targets,
    two_sources_feed_one_person_by_what_each_owns,
);
