//! The durable audit trail: every change with actor, request id, source and
//! changed attribute names; authentication failures; token management —
//! and never a secret.

use reqwest::{Method, StatusCode};
use scimhub::store::AuditQuery;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{TestApp, user_body};

async fn changes_and_failures_are_audited_without_secrets(app: TestApp) {
    let mut body = user_body("audited");
    body["password"] = json!("Sup3r-Secret-Pa55");
    let created = app.post("/Users", &body).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap().to_string();
    let request_id = created.header("x-request-id").unwrap().to_string();
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "title", "value": "Boss"}, {"op": "replace", "path": "password", "value": "An0ther-Secret"}]});
    app.send(
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(&app.token),
        Some(patch.to_string().into_bytes()),
    )
    .await;
    app.delete(&format!("/Users/{id}")).await;
    let refused = app
        .send(
            Method::GET,
            "/Users",
            Some("scimhub_0123456789abcdef_not-the-secret"),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let rows = app
        .store
        .audit(&AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .unwrap();
    let find = |event: &str| {
        rows.iter()
            .find(|r| r.event == event)
            .unwrap_or_else(|| panic!("no {event} in {rows:?}"))
    };
    let create = find("resource.create");
    assert_eq!(create.actor, "test-admin");
    assert_eq!(
        create.request_id.as_deref(),
        Some(request_id.as_str()),
        "the audit row names the request"
    );
    assert_eq!(create.source.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        (
            create.resource_type.as_deref(),
            create.resource_id.as_deref()
        ),
        (Some("User"), Some(id.as_str()))
    );
    assert!(
        create.attributes.contains(&"userName".to_string())
            && create.attributes.contains(&"password".to_string())
    );
    let patched = find("resource.patch");
    assert_eq!(
        patched.attributes,
        vec!["title".to_string(), "password".to_string()]
    );
    assert_eq!(
        find("resource.delete").resource_id.as_deref(),
        Some(id.as_str())
    );
    let failed = find("auth.failed");
    assert_eq!(failed.source.as_deref(), Some("127.0.0.1"));
    assert!(failed.detail.as_deref().unwrap().contains("not valid"));
    assert!(
        rows.iter()
            .any(|r| r.event == "token.create"
                && r.detail.as_deref().unwrap().contains("test-admin"))
    );

    let everything = format!("{rows:?}{:?}", app.store.changes_after(0, 1000).unwrap());
    for secret in [
        "Sup3r-Secret-Pa55",
        "An0ther-Secret",
        "not-the-secret",
        &app.token[25..],
    ] {
        assert!(
            !everything.contains(secret),
            "a secret reached the audit trail or change log"
        );
    }
    // Filters.
    let by_resource = app
        .store
        .audit(&AuditQuery {
            resource_id: Some(id.clone()),
            limit: 100,
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(by_resource.len(), 3);
    assert!(
        by_resource.windows(2).all(|w| w[0].seq > w[1].seq),
        "newest first"
    );
}

/// A proxy's or client's `X-Request-Id` follows the request into the answer
/// and the audit row; one that is not a plain token is replaced.
async fn incoming_request_ids_are_kept_when_valid(app: TestApp) {
    let send = |id: &'static str, name: &'static str| {
        app.raw(
            app.client()
                .post(app.url("/Users"))
                .bearer_auth(&app.token)
                .header("content-type", "application/scim+json")
                .header("x-request-id", id)
                .body(user_body(name).to_string()),
        )
    };
    let kept = send("lb-7f3a.42:edge_1", "traced").await;
    assert_eq!(kept.status, StatusCode::CREATED, "{}", kept.text);
    assert_eq!(kept.header("x-request-id"), Some("lb-7f3a.42:edge_1"));
    let replaced = send("bad id <script>", "untraced").await;
    assert_eq!(replaced.status, StatusCode::CREATED);
    let new_id = replaced.header("x-request-id").unwrap();
    assert_ne!(new_id, "bad id <script>");
    assert!(new_id.bytes().all(|b| b.is_ascii_hexdigit()), "{new_id}");
    let rows = app
        .store
        .audit(&AuditQuery {
            since: None,
            actor: None,
            resource_id: kept.body["id"].as_str().map(str::to_string),
            limit: 10,
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(rows[0].request_id.as_deref(), Some("lb-7f3a.42:edge_1"));
}

on_both_backends!(
    changes_and_failures_are_audited_without_secrets,
    incoming_request_ids_are_kept_when_valid
);

#[tokio::test]
async fn audit_list_reads_the_trail() {
    let app = TestApp::start(crate::support::Backend::Sqlite)
        .await
        .unwrap();
    app.create_user("listed").await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimhub"))
        .args([
            "audit",
            "list",
            "--actor",
            "test-admin",
            "--database",
            &app.database_url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("resource.create") && text.contains("test-admin"),
        "{text}"
    );
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_scimhub"))
        .args([
            "audit",
            "list",
            "--since",
            "yesterday",
            "--database",
            &app.database_url,
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

/// `X-Forwarded-*` from a trusted proxy set the links and the audited
/// address; from anyone else they change nothing.
#[tokio::test]
async fn forwarded_headers_count_only_from_trusted_proxies() {
    async fn create(app: &TestApp, name: &str) -> crate::support::app::Response {
        app.raw(
            app.client()
                .post(app.url("/Users"))
                .bearer_auth(&app.token)
                .header("content-type", "application/scim+json")
                .header("x-forwarded-proto", "https")
                .header("x-forwarded-host", "id.example.com")
                .header("x-forwarded-for", "203.0.113.9")
                .body(user_body(name).to_string()),
        )
        .await
    }
    let source_of = |app: &TestApp, id: &str| {
        app.store
            .audit(&AuditQuery {
                since: None,
                actor: None,
                resource_id: Some(id.to_string()),
                limit: 1,
                ..AuditQuery::default()
            })
            .unwrap()[0]
            .source
            .clone()
    };
    let open = TestApp::start(crate::support::Backend::Sqlite)
        .await
        .unwrap();
    let forged = create(&open, "forged").await;
    let location = forged.header("location").unwrap();
    assert!(location.starts_with(&open.base), "{location}");
    let id = forged.body["id"].as_str().unwrap();
    assert_eq!(source_of(&open, id).as_deref(), Some("127.0.0.1"));

    let behind = TestApp::start_with(crate::support::Backend::Sqlite, |c| {
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await
    .unwrap();
    let proxied = create(&behind, "proxied").await;
    let location = proxied.header("location").unwrap();
    assert!(
        location.starts_with("https://id.example.com/scim/v2/Users/"),
        "{location}"
    );
    let id = proxied.body["id"].as_str().unwrap();
    assert_eq!(source_of(&behind, id).as_deref(), Some("203.0.113.9"));
}
