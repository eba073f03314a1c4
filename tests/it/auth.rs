use reqwest::{Method, StatusCode};

use crate::on_both_backends;
use crate::support::{TestApp, user_body};

async fn scopes_separate_reads_from_writes(app: TestApp) {
    let reader = app.token_with("reader", &["scim:read"]);
    let writer = app.token_with("writer", &["scim:write"]);
    let body = Some(user_body("scoped").to_string().into_bytes());

    let r = app.send(Method::GET, "/Users", Some(&reader), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let before = app.snapshot();
    app.send(Method::POST, "/Users", Some(&reader), body.clone())
        .await
        .assert_error(403, None);
    assert_eq!(app.snapshot(), before);
    // .search is a read: not refused for scope (it is not implemented yet).
    let search = app
        .send(
            Method::POST,
            "/Users/.search",
            Some(&reader),
            Some(b"{}".to_vec()),
        )
        .await;
    assert_ne!(search.status, StatusCode::FORBIDDEN);

    app.send(Method::GET, "/Users", Some(&writer), None)
        .await
        .assert_error(403, None);
    let created = app.send(Method::POST, "/Users", Some(&writer), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let changes = app.store.changes_after(0, 100).unwrap();
    assert_eq!(
        changes.last().unwrap().actor,
        "writer",
        "the token name is the actor"
    );
}

async fn tokens_record_last_use(app: TestApp) {
    let token = app.token_with("tracked", &["scim:read"]);
    let before = app.store.list_tokens().unwrap();
    assert!(
        before
            .iter()
            .find(|t| t.name == "tracked")
            .unwrap()
            .last_used
            .is_none()
    );
    app.send(Method::GET, "/Users", Some(&token), None).await;
    let after = app.store.list_tokens().unwrap();
    let tracked = after.iter().find(|t| t.name == "tracked").unwrap();
    assert!(tracked.last_used.is_some());
    assert!(!tracked.secret_hash.is_empty() && !token.contains(&tracked.secret_hash));
}

async fn health_needs_no_token(app: TestApp) {
    let r = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ok");
    assert!(r.header("x-request-id").is_some());
    let live = app.send(Method::GET, "/livez", None, None).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.body, serde_json::json!({"status": "ok"}));
    assert!(live.header("x-request-id").is_some());
}

async fn each_credential_is_rate_limited(default: TestApp) {
    let app = TestApp::start_with(default.backend, |c| {
        c.rate_limit_per_second = 0.5;
        c.rate_limit_burst = 2.0;
    })
    .await
    .unwrap();
    let other = app.token_with("other", &["scim:read"]);
    assert_eq!(app.get("/Users").await.status, StatusCode::OK);
    assert_eq!(app.get("/Users").await.status, StatusCode::OK);
    let limited = app.get("/Users").await;
    limited.assert_error(429, None);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    let r = app.send(Method::GET, "/Users", Some(&other), None).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "another credential has its own budget"
    );
}

on_both_backends!(
    each_credential_is_rate_limited,
    scopes_separate_reads_from_writes,
    tokens_record_last_use,
    health_needs_no_token,
);
