//! Configured limits, each refused with a SCIM error and nothing changed;
//! and no route outside the protected scope answers without a token.

use std::io::{Read, Write};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::on_both_backends;
use crate::support::TestApp;

async fn oversized_requests_are_refused(app: TestApp) {
    let before = app.snapshot();
    let long = format!("/Users?filter={}", "a".repeat(9000));
    app.get(&long).await.assert_error(414, None);
    let big = app
        .raw(
            app.client()
                .get(app.url("/Users"))
                .bearer_auth(&app.token)
                .header("x-padding", "p".repeat(17_000)),
        )
        .await;
    big.assert_error(431, None);
    assert_eq!(app.snapshot(), before);
}

async fn patch_operation_count_is_bounded(default: TestApp) {
    let app = TestApp::start_with(default.backend, |c| c.max_patch_operations = 2)
        .await
        .unwrap();
    let id = app.create_user("bounded").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = app.snapshot();
    let ops: Vec<_> = (0..3)
        .map(|i| json!({"op": "replace", "path": "title", "value": format!("t{i}")}))
        .collect();
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let r = app
        .send(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(&app.token),
            Some(body.to_string().into_bytes()),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    assert_eq!(app.snapshot(), before);
}

async fn slow_request_heads_time_out(default: TestApp) {
    let app = TestApp::start_with(default.backend, |c| c.request_timeout_secs = 1)
        .await
        .unwrap();
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = std::time::Instant::now();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the server dropped the slow client in time"
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

async fn nothing_answers_without_a_token(app: TestApp) {
    let paths = [
        "/",
        "/admin",
        "/admin/v1",
        "/admin/v1/",
        "/admin/v1/targets",
        "/admin/v1/tokens",
        "/admin/v1/tokens/0000000000000000",
        "/ADMIN/V1/tokens",
        "/metrics",
        "/scim",
        "/scim/v1/Users",
        "/Users",
        "/scim/v2",
        "/scim/v2/",
        "/scim/v2/Users/../../etc/passwd",
        "/scim/v2/Me",
        "/scim/v2/Bulk",
        "/scim/v2/.search",
        "/scim/v2/Schemas",
        "/scim/v2/ServiceProviderConfig",
        "/SCIM/V2/Users",
        "/healthz/x",
    ];
    for path in paths {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            let r = app
                .send(method.clone(), path, None, Some(b"{}".to_vec()))
                .await;
            let ok = matches!(r.status.as_u16(), 401 | 404 | 405);
            assert!(ok, "{method} {path} answered {} without a token", r.status);
            assert_eq!(
                r.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
                "{method} {path}"
            );
            let guarded = path.starts_with("/scim/v2") || path.starts_with("/admin/v1");
            if guarded && !path.contains("..") {
                assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}");
            }
        }
    }
}

on_both_backends!(
    oversized_requests_are_refused,
    patch_operation_count_is_bounded,
    slow_request_heads_time_out,
    nothing_answers_without_a_token,
);
