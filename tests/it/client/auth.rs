//! Credentials on the wire: bearer, basic, OAuth client credentials (cached,
//! renewed, refreshed once on 401), extra headers and bad options.

use std::collections::BTreeMap;
use std::time::Duration;

use scimhub::provision::client::{ClientOptions, ScimClient};
use scimhub::provision::connector::ConnectorError;
use scimhub::provision::target::Credentials;
use scimhub::scim::ResourceKind;
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{TOKEN, hits, options, user};

const USER: &str = "/scim/v2/Users/u1";

async fn user_ok(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(USER))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("u1")))
        .mount(server)
        .await;
}

fn oauth(server: &MockServer) -> ClientOptions {
    ClientOptions {
        credentials: Credentials::OAuth2 {
            token_url: format!("{}/oauth/token", server.uri()),
            client_id: "scimhub".into(),
            client_secret: "s&cret".into(),
            scope: Some("scim.write".into()),
        },
        ..options(server)
    }
}

fn token(access_token: &str, expires_in: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": access_token, "token_type": "Bearer", "expires_in": expires_in,
    }))
}

async fn auth_headers(server: &MockServer, path: &str) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == path)
        .map(|r| r.headers["authorization"].to_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn bearer_and_scim_headers_and_extra_headers_are_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(ResponseTemplate::new(201).set_body_json(user("u1")))
        .mount(&server)
        .await;
    let mut opts = options(&server);
    opts.headers = BTreeMap::from([
        ("X-Tenant".to_string(), "acme".to_string()),
        ("X-Trace".to_string(), "on".to_string()),
    ]);
    let created = ScimClient::new(opts)
        .unwrap()
        .create(ResourceKind::User, &user("new"))
        .await
        .unwrap();
    assert_eq!(created["id"], "u1");
    let requests = server.received_requests().await.unwrap();
    let r = &requests[0];
    assert_eq!(
        r.headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
    assert_eq!(r.headers["content-type"], "application/scim+json");
    assert!(
        r.headers["accept"]
            .to_str()
            .unwrap()
            .contains("application/scim+json")
    );
    assert_eq!(r.headers["x-tenant"], "acme");
    assert_eq!(r.headers["x-trace"], "on");
    assert_eq!(r.body_json::<serde_json::Value>().unwrap(), user("new"));
}

#[tokio::test]
async fn basic_auth_sends_the_encoded_user_and_password() {
    let server = MockServer::start().await;
    user_ok(&server).await;
    let opts = ClientOptions {
        credentials: Credentials::Basic {
            username: "svc".into(),
            password: "p@ss word".into(),
        },
        ..options(&server)
    };
    ScimClient::new(opts)
        .unwrap()
        .get(ResourceKind::User, "u1")
        .await
        .unwrap()
        .unwrap();
    // base64("svc:p@ss word")
    assert_eq!(
        auth_headers(&server, USER).await,
        ["Basic c3ZjOnBAc3Mgd29yZA=="]
    );
}

#[tokio::test]
async fn oauth_tokens_are_fetched_once_cached_and_refreshed_once_on_401() {
    let server = MockServer::start().await;
    // Client authentication by HTTP basic: base64("scimhub:s%26cret").
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", "Basic c2NpbWh1YjpzJTI2Y3JldA=="))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("scope=scim.write"))
        .respond_with(token("tok-1", 3600))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(token("tok-2", 3600))
        .mount(&server)
        .await;
    // The target takes tok-1 twice, then refuses it; tok-2 always works.
    Mock::given(method("GET"))
        .and(path(USER))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("u1")))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(USER))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("u1")))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(USER))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;

    let c = ScimClient::new(oauth(&server)).unwrap();
    let clone = c.clone();
    c.get(ResourceKind::User, "u1").await.unwrap().unwrap();
    clone.get(ResourceKind::User, "u1").await.unwrap().unwrap();
    assert_eq!(
        hits(&server, "/oauth/token").await,
        1,
        "cached, shared by clones"
    );
    c.get(ResourceKind::User, "u1").await.unwrap().unwrap();
    assert_eq!(
        hits(&server, "/oauth/token").await,
        2,
        "refreshed after a 401"
    );
    assert_eq!(
        auth_headers(&server, USER).await,
        [
            "Bearer tok-1",
            "Bearer tok-1",
            "Bearer tok-1",
            "Bearer tok-2"
        ]
    );
}

#[tokio::test]
async fn a_refreshed_token_refused_again_is_unauthorized() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(token("revoked", 3600))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(USER))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"detail": "token revoked"})))
        .mount(&server)
        .await;
    let err = ScimClient::new(oauth(&server))
        .unwrap()
        .get(ResourceKind::User, "u1")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Unauthorized { status: 401, detail } if detail == "token revoked"),
        "{err:?}"
    );
    assert_eq!(hits(&server, "/oauth/token").await, 2);
    assert_eq!(hits(&server, USER).await, 2);
}

#[tokio::test]
async fn oauth_tokens_are_renewed_shortly_before_they_expire() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(token("short", 1))
        .mount(&server)
        .await;
    user_ok(&server).await;
    let c = ScimClient::new(oauth(&server)).unwrap();
    c.get(ResourceKind::User, "u1").await.unwrap();
    c.get(ResourceKind::User, "u1").await.unwrap();
    assert_eq!(hits(&server, "/oauth/token").await, 1);
    // A 1 s token is renewed after 0.9 s.
    tokio::time::sleep(Duration::from_millis(950)).await;
    c.get(ResourceKind::User, "u1").await.unwrap();
    assert_eq!(hits(&server, "/oauth/token").await, 2);
}

#[tokio::test]
async fn token_endpoints_refusing_basic_client_auth_get_the_form_and_that_is_remembered() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_client"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("client_id=scimhub"))
        .and(body_string_contains("client_secret=s%26cret"))
        .respond_with(token("form-token", 3600))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(USER))
        .and(header("authorization", "Bearer form-token"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    // The first token is refused by the target, so a second one is fetched.
    let err = ScimClient::new(oauth(&server))
        .unwrap()
        .get(ResourceKind::User, "u1")
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    let token_requests: Vec<bool> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/oauth/token")
        .map(|r| r.headers.contains_key("authorization"))
        .collect();
    assert_eq!(
        token_requests,
        [true, false, false],
        "basic, form, then form only"
    );
}

#[tokio::test]
async fn a_token_endpoint_refusing_the_client_is_unauthorized_without_calling_the_target() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client", "error_description": "unknown client",
        })))
        .mount(&server)
        .await;
    user_ok(&server).await;
    let err = ScimClient::new(oauth(&server))
        .unwrap()
        .get(ResourceKind::User, "u1")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Unauthorized { status: 401, detail } if detail.contains("unknown client")),
        "{err:?}"
    );
    assert!(!format!("{err}").contains("s&cret"));
    assert_eq!(hits(&server, USER).await, 0);
}

#[tokio::test]
async fn bad_options_are_refused_before_any_request() {
    let server = MockServer::start().await;
    let with_header = |name: &str, value: &str| ClientOptions {
        headers: BTreeMap::from([(name.to_string(), value.to_string())]),
        ..options(&server)
    };
    let cases = [
        (
            with_header("Authorization", "Bearer other"),
            "cannot be overridden",
        ),
        (
            with_header("Content-Type", "text/plain"),
            "cannot be overridden",
        ),
        (with_header("bad header", "x"), "not a valid header name"),
        (with_header("X-A", "a\nb"), "not a valid header value"),
        (
            ClientOptions {
                base_url: format!("http://user:pw@{}/scim", server.address()),
                ..options(&server)
            },
            "credentials belong in the auth options",
        ),
        (
            ClientOptions {
                base_url: "ftp://x.example".into(),
                ..options(&server)
            },
            "must be http(s)",
        ),
        (
            ClientOptions {
                credentials: Credentials::Bearer { token: " ".into() },
                ..options(&server)
            },
            "the token is empty",
        ),
        (
            ClientOptions {
                credentials: Credentials::Bearer {
                    token: "line\nbreak".into(),
                },
                ..options(&server)
            },
            "not allowed in a header",
        ),
        (
            ClientOptions {
                timeout: Duration::ZERO,
                ..options(&server)
            },
            "timeout",
        ),
    ];
    for (opts, want) in cases {
        let err = ScimClient::new(opts.clone()).err().unwrap();
        assert!(
            matches!(&err, ConnectorError::Config(m) if m.contains(want)),
            "{opts:?}: {err}"
        );
        assert!(!format!("{err}").contains("line\nbreak"));
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    // The options' Debug never shows secrets or header values.
    let shown = format!("{:?}", with_header("X-Api", "hidden-value"));
    assert!(
        !shown.contains(TOKEN) && !shown.contains("hidden-value"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_on_spawned_tasks_share_one_token_fetch() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(token("shared", 3600).set_delay(Duration::from_millis(50)))
        .mount(&server)
        .await;
    user_ok(&server).await;
    let c = ScimClient::new(oauth(&server)).unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.get(ResourceKind::User, "u1").await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap().unwrap();
    }
    assert_eq!(hits(&server, "/oauth/token").await, 1);
    assert_eq!(auth_headers(&server, USER).await, vec!["Bearer shared"; 8]);
}
