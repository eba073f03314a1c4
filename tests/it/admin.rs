//! The admin API's token management: list, create (secret shown once),
//! revoke; bad requests change nothing; every change is audited.

use reqwest::{Method, StatusCode};
use scimhub::store::AuditQuery;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::TestApp;
use crate::support::app::Response;

const TOKENS: &str = "/admin/v1/tokens";

async fn admin_call(
    app: &TestApp,
    admin: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Response {
    let body = body.map(|b| b.to_string().into_bytes());
    let mut req = app
        .client()
        .request(method, app.url(path))
        .bearer_auth(admin);
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b);
    }
    app.raw(req).await
}

/// Token management events in the audit trail, oldest first.
fn token_audit(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    let query = AuditQuery {
        limit: 1000,
        ..AuditQuery::default()
    };
    let mut rows: Vec<_> = app
        .store
        .audit(&query)
        .unwrap()
        .into_iter()
        .filter(|r| r.event.starts_with("token."))
        .map(|r| (r.event, r.actor, r.detail))
        .collect();
    rows.reverse();
    rows
}

async fn tokens_are_created_listed_and_revoked(app: TestApp) {
    let admin = app.token_with("ops-admin", &["admin"]);
    let audit_before = token_audit(&app).len();

    let created = admin_call(
        &app,
        &admin,
        Method::POST,
        TOKENS,
        Some(&json!({"name": "okta", "scopes": ["scim:read", "scim:write"]})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let secret = created.body["token"].as_str().unwrap().to_string();
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with(&format!("scimhub_{id}_")));
    assert_eq!(created.body["name"], "okta");
    assert_eq!(created.body["scopes"], json!(["scim:read", "scim:write"]));
    assert!(created.body["created"].is_string());
    assert_eq!(created.body["revoked"], Value::Null);

    // The new token works, for exactly its scopes.
    let r = app.send(Method::GET, "/Users", Some(&secret), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    admin_call(&app, &secret, Method::GET, TOKENS, None)
        .await
        .assert_error(403, None);

    // The list shows it without any secret material.
    let listed = admin_call(&app, &admin, Method::GET, TOKENS, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let stored = app.store.find_token(&id).unwrap().unwrap();
    assert!(!listed.text.contains(&stored.secret_hash));
    // The secret may itself contain '_': strip the known prefix, not split.
    let secret_part = secret.strip_prefix(&format!("scimhub_{id}_")).unwrap();
    assert!(!listed.text.contains(secret_part));
    assert!(!listed.text.contains("\"token\""));
    let tokens = listed.body["tokens"].as_array().unwrap();
    let names: Vec<&str> = tokens.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["test-admin", "ops-admin", "okta"]);
    let okta = &tokens[2];
    assert_eq!(okta["id"], id.as_str());
    assert!(okta["lastUsed"].is_string(), "used above: {okta}");
    assert_eq!(
        okta.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["id", "name", "scopes", "created", "lastUsed", "revoked"]
    );

    // Revoking takes effect at once; a second revoke finds no live token.
    let revoked = admin_call(
        &app,
        &admin,
        Method::DELETE,
        &format!("{TOKENS}/{id}"),
        None,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    let r = app.send(Method::GET, "/Users", Some(&secret), None).await;
    r.assert_error(401, None);
    admin_call(
        &app,
        &admin,
        Method::DELETE,
        &format!("{TOKENS}/{id}"),
        None,
    )
    .await
    .assert_error(404, None);
    let listed = admin_call(&app, &admin, Method::GET, TOKENS, None).await;
    assert!(listed.body["tokens"][2]["revoked"].is_string());

    // Both changes are in the audit trail with the admin as actor.
    let audit = token_audit(&app);
    assert_eq!(audit.len(), audit_before + 2);
    let (event, actor, detail) = &audit[audit_before];
    assert_eq!(
        (event.as_str(), actor.as_str()),
        ("token.create", "ops-admin")
    );
    assert!(detail.as_deref().unwrap().contains("okta"));
    let (event, actor, detail) = &audit[audit_before + 1];
    assert_eq!(
        (event.as_str(), actor.as_str()),
        ("token.revoke", "ops-admin")
    );
    assert!(detail.as_deref().unwrap().contains(&id));
    assert!(!format!("{audit:?}").contains(&secret));
}

async fn bad_token_requests_change_nothing(app: TestApp) {
    let admin = app.token_with("ops-admin", &["admin"]);
    let live = app.token_with("taken", &["scim:read"]);
    let before = (
        app.store.list_tokens().unwrap().len(),
        token_audit(&app),
        app.snapshot(),
    );
    let bad: Vec<(&str, Value, u16, &str)> = vec![
        (
            "unknown scope",
            json!({"name": "a", "scopes": ["scim:root"]}),
            400,
            "invalidValue",
        ),
        (
            "no scope",
            json!({"name": "a", "scopes": []}),
            400,
            "invalidValue",
        ),
        (
            "two scopes in one",
            json!({"name": "a", "scopes": ["scim:read,admin"]}),
            400,
            "invalidValue",
        ),
        (
            "empty name",
            json!({"name": "", "scopes": ["scim:read"]}),
            400,
            "invalidValue",
        ),
        (
            "name too long",
            json!({"name": "n".repeat(65), "scopes": ["scim:read"]}),
            400,
            "invalidValue",
        ),
        (
            "name with spaces",
            json!({"name": "a b", "scopes": ["scim:read"]}),
            400,
            "invalidValue",
        ),
        (
            "unknown field",
            json!({"name": "a", "scopes": ["scim:read"], "userId": "x"}),
            400,
            "invalidValue",
        ),
        ("missing scopes", json!({"name": "a"}), 400, "invalidValue"),
        (
            "scopes not a list",
            json!({"name": "a", "scopes": "scim:read"}),
            400,
            "invalidValue",
        ),
        ("not an object", json!(["a"]), 400, "invalidValue"),
        (
            "live name taken",
            json!({"name": "taken", "scopes": ["scim:read"]}),
            409,
            "uniqueness",
        ),
    ];
    for (why, body, status, scim_type) in bad {
        let r = admin_call(&app, &admin, Method::POST, TOKENS, Some(&body)).await;
        assert_eq!(r.status.as_u16(), status, "{why}: {}", r.text);
        r.assert_error(status, Some(scim_type));
    }
    let raw = app
        .raw(
            app.client()
                .post(app.url(TOKENS))
                .bearer_auth(&admin)
                .header("content-type", "application/json")
                .body("{\"name\": \"a\", \"name\": \"b\", \"scopes\": [\"admin\"]}"),
        )
        .await;
    raw.assert_error(400, Some("invalidSyntax"));
    let wrong_type = app
        .raw(
            app.client()
                .post(app.url(TOKENS))
                .bearer_auth(&admin)
                .header("content-type", "text/plain")
                .body("{}"),
        )
        .await;
    wrong_type.assert_error(415, None);
    for id in ["0000000000000000", "not-an-id", "%27%20OR%201%3D1"] {
        admin_call(
            &app,
            &admin,
            Method::DELETE,
            &format!("{TOKENS}/{id}"),
            None,
        )
        .await
        .assert_error(404, None);
    }
    admin_call(&app, &admin, Method::PUT, TOKENS, Some(&json!({})))
        .await
        .assert_error(405, None);
    admin_call(&app, &admin, Method::GET, "/admin/v1/nothing", None)
        .await
        .assert_error(404, None);
    let after = (
        app.store.list_tokens().unwrap().len(),
        token_audit(&app),
        app.snapshot(),
    );
    assert_eq!(after, before, "nothing changed");
    let r = app.send(Method::GET, "/Users", Some(&live), None).await;
    assert_eq!(r.status, StatusCode::OK, "the existing token still works");
}

on_both_backends!(
    tokens_are_created_listed_and_revoked,
    bad_token_requests_change_nothing
);
