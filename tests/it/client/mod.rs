//! The outbound SCIM client against wiremock targets: retries, auth,
//! paging, discovery. Delays are milliseconds so the suite stays fast.

mod auth;
mod resources;
mod retries;

use std::collections::BTreeMap;
use std::time::Duration;

use scimhub::provision::client::{ClientOptions, RetryPolicy, ScimClient};
use scimhub::provision::target::Credentials;
use serde_json::{Value, json};
use wiremock::MockServer;

pub const TOKEN: &str = "target-token-1";

pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(20),
    }
}

pub fn options(server: &MockServer) -> ClientOptions {
    ClientOptions {
        base_url: format!("{}/scim/v2", server.uri()),
        credentials: Credentials::Bearer {
            token: TOKEN.into(),
        },
        headers: BTreeMap::new(),
        timeout: Duration::from_secs(5),
        retry: fast_retry(4),
    }
}

pub fn client(server: &MockServer) -> ScimClient {
    ScimClient::new(options(server)).unwrap()
}

pub fn user(id: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": id,
        "userName": format!("{id}@example.com"),
    })
}

/// How many requests the server got for `path`.
pub async fn hits(server: &MockServer, path: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == path)
        .count()
}

/// The executor runs calls on spawned tasks: every future must be `Send`.
#[test]
fn every_call_can_run_on_a_spawned_task() {
    fn send<T: Send>(_: T) {}
    let c = ScimClient::new(ClientOptions {
        base_url: "http://127.0.0.1:9/scim".into(),
        credentials: Credentials::Bearer {
            token: TOKEN.into(),
        },
        headers: BTreeMap::new(),
        timeout: Duration::from_secs(1),
        retry: RetryPolicy::default(),
    })
    .unwrap();
    let kind = scimhub::scim::ResourceKind::User;
    let body = user("u1");
    send(c.discover());
    send(c.list_all(kind, 10));
    send(c.search(kind, "userName eq \"a\""));
    send(c.get(kind, "u1"));
    send(c.create(kind, &body));
    send(c.replace(kind, "u1", &body));
    send(c.patch(kind, "u1", vec![]));
    send(c.delete(kind, "u1"));
    fn shared<T: Send + Sync + Clone>(_: &T) {}
    shared(&c);
}
