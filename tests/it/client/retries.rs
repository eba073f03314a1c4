//! 429 with Retry-After, 5xx with backoff, timeouts, and refusals that are
//! never retried.

use std::time::{Duration, Instant};

use scimhub::provision::client::ScimClient;
use scimhub::provision::connector::ConnectorError;
use scimhub::scim::ResourceKind;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{client, fast_retry, hits, options, user};

const USER: &str = "/scim/v2/Users/u1";

async fn answers_then_ok(server: &MockServer, first: ResponseTemplate, times: u64) {
    Mock::given(method("GET"))
        .and(path(USER))
        .respond_with(first)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(USER))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("u1")))
        .mount(server)
        .await;
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after_capped_at_the_policy_maximum() {
    let server = MockServer::start().await;
    // The target asks for 1 s; the policy caps waits at 150 ms; backoff alone would be ≤ 1 ms.
    answers_then_ok(
        &server,
        ResponseTemplate::new(429).insert_header("Retry-After", "1"),
        1,
    )
    .await;
    let mut opts = options(&server);
    opts.retry.max_delay = Duration::from_millis(150);
    let c = ScimClient::new(opts).unwrap();
    let started = Instant::now();
    let got = c.get(ResourceKind::User, "u1").await.unwrap().unwrap();
    let waited = started.elapsed();
    assert_eq!(got["id"], "u1");
    assert_eq!(hits(&server, USER).await, 2);
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
    assert!(waited < Duration::from_millis(900), "{waited:?}");
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let server = MockServer::start().await;
    answers_then_ok(&server, ResponseTemplate::new(503), 2).await;
    let got = client(&server).get(ResourceKind::User, "u1").await.unwrap();
    assert_eq!(got.unwrap()["userName"], "u1@example.com");
    assert_eq!(hits(&server, USER).await, 3);
}

#[tokio::test]
async fn server_errors_forever_end_unavailable_after_the_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(USER))
        .respond_with(ResponseTemplate::new(500).set_body_string("database on fire"))
        .mount(&server)
        .await;
    let err = client(&server)
        .get(ResourceKind::User, "u1")
        .await
        .unwrap_err();
    let ConnectorError::Unavailable { attempts, last } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*attempts, 4);
    assert_eq!(last, "HTTP 500: database on fire");
    assert!(!err.is_permanent());
    assert_eq!(hits(&server, USER).await, 4);
}

#[tokio::test]
async fn slow_answers_time_out_and_count_as_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(USER))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(user("u1"))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let mut opts = options(&server);
    opts.timeout = Duration::from_millis(100);
    opts.retry = fast_retry(2);
    let started = Instant::now();
    let err = ScimClient::new(opts)
        .unwrap()
        .get(ResourceKind::User, "u1")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Unavailable { attempts: 2, last } if last.contains("timed out")),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(hits(&server, USER).await, 2);
}

#[tokio::test]
async fn connection_errors_are_retried_then_unavailable() {
    let server = MockServer::start().await;
    let mut opts = options(&server);
    // A port nobody listens on (wiremock keeps its servers alive in a pool).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    opts.base_url = format!("http://{}/scim/v2", closed.local_addr().unwrap());
    drop(closed);
    opts.retry = fast_retry(3);
    let err = ScimClient::new(opts)
        .unwrap()
        .get(ResourceKind::User, "u1")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Unavailable { attempts: 3, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_scim_refusal_is_rejected_with_its_detail_after_one_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "409",
            "scimType": "uniqueness",
            "detail": "userName u1@example.com is taken",
        })))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(USER))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_string(format!("<html>{}</html>", "oops ".repeat(2000))),
        )
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c.create(ResourceKind::User, &user("u1")).await.unwrap_err();
    let ConnectorError::Rejected {
        status,
        scim_type,
        detail,
        http,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(*http, "an HTTP answer");
    assert!(
        err.to_string().contains("(HTTP 409, scimType uniqueness)"),
        "{err}"
    );
    assert_eq!(*status, 409);
    assert_eq!(scim_type.as_deref(), Some("uniqueness"));
    assert_eq!(detail, "userName u1@example.com is taken");
    assert!(err.is_permanent());
    assert_eq!(err.status(), Some(409));
    assert_eq!(hits(&server, "/scim/v2/Users").await, 1);

    let err = c
        .replace(ResourceKind::User, "u1", &user("u1"))
        .await
        .unwrap_err();
    let ConnectorError::Rejected { detail, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(detail.starts_with("<html>oops oops"), "{detail}");
    assert!(detail.len() < 300, "a short excerpt, not the whole body");
    assert_eq!(hits(&server, USER).await, 1);
}

#[tokio::test]
async fn refused_credentials_are_unauthorized_and_not_retried() {
    for status in [401, 403] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(USER))
            .respond_with(
                ResponseTemplate::new(status).set_body_json(json!({"detail": "bad token"})),
            )
            .mount(&server)
            .await;
        let err = client(&server)
            .get(ResourceKind::User, "u1")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ConnectorError::Unauthorized { status: s, detail } if *s == status && detail == "bad token"),
            "{err:?}"
        );
        assert!(err.is_permanent());
        assert_eq!(hits(&server, USER).await, 1);
    }
}
