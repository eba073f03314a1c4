//! Sync runs against a mock target (wiremock) that misbehaves: 500s and
//! 429 with Retry-After are retried, a 400 fails only its object with the
//! target's detail, a 409 on create adopts the existing account, and
//! refused credentials fail the run.

use std::sync::Arc;

use scimhub::crypto::SecretKey;
use scimhub::provision::runs::{RunOptions, RunStatus, SyncEngine};
use scimhub::provision::target::{self, Credentials, NewTarget, TargetSettings};
use scimhub::store::diesel::DieselStore;
use scimhub::store::{Store, SyncStore};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Backend, TestApp};

pub fn scim(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/scim+json")
        .set_body_json(body)
}

pub fn error(status: u16, scim_type: &str, detail: &str) -> ResponseTemplate {
    scim(
        status,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": status.to_string(), "scimType": scim_type, "detail": detail}),
    )
}

pub fn empty_list() -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
}

pub async fn mock_target() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/ServiceProviderConfig"))
        .respond_with(scim(
            200,
            json!({"patch": {"supported": true}, "filter": {"supported": true, "maxResults": 200},
                "bulk": {"supported": false}, "etag": {"supported": false}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim(200, empty_list()))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

pub(crate) async fn engine_for(
    source: &TestApp,
    server: &MockServer,
) -> (SyncEngine, Arc<DieselStore>) {
    let db = Arc::new(DieselStore::open(&source.database_url, 2).unwrap());
    let key = SecretKey([9; 32]);
    target::add(
        db.as_ref(),
        Some(&key),
        NewTarget {
            name: "mock".into(),
            base_url: format!("{}/scim/v2", server.uri()),
            credentials: Credentials::Bearer { token: "t".into() },
            mapping: None,
            scope: None,
            settings: TargetSettings {
                resource_types: vec!["Users".into()],
                ..TargetSettings::default()
            },
        },
    )
    .unwrap();
    // Worker tests follow the change log from its start.
    target::resume(db.as_ref(), "mock", 0).unwrap();
    let engine = SyncEngine::new(db.clone() as Arc<dyn Store>, db.clone(), Some(key));
    (engine, db)
}

fn created(id: &str) -> ResponseTemplate {
    scim(201, json!({"id": id, "userName": id}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_fail_only_their_object_and_retries_recover() {
    let source = TestApp::start(Backend::Sqlite).await.unwrap();
    for name in ["a", "b", "c", "d"] {
        source.create_user(name).await;
    }
    let server = mock_target().await;
    let post = |user: &str| {
        Mock::given(method("POST"))
            .and(path("/scim/v2/Users"))
            .and(body_partial_json(json!({ "userName": user })))
    };
    post("a")
        .respond_with(error(500, "", "try later"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    post("a").respond_with(created("r-a")).mount(&server).await;
    post("b")
        .respond_with(error(400, "invalidValue", "userName b is reserved here"))
        .mount(&server)
        .await;
    post("c")
        .respond_with(error(409, "uniqueness", "userName c exists"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param("filter", "userName eq \"c\""))
        .respond_with(scim(
            200,
            json!({"totalResults": 1, "startIndex": 1, "itemsPerPage": 1,
                "Resources": [{"id": "r-c", "userName": "c", "active": true,
                    "name": {"givenName": "Test", "familyName": "c"},
                    "emails": [{"value": "c@example.com", "type": "work", "primary": true}]}]}),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    post("d")
        .respond_with(error(429, "", "slow down").insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    post("d").respond_with(created("r-d")).mount(&server).await;

    let (engine, db) = engine_for(&source, &server).await;
    let report = engine
        .run("mock", RunOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(
        report.head.status,
        RunStatus::CompletedWithFailures,
        "{report:#?}"
    );
    assert_eq!(report.head.counts.created, 2, "{:?}", report.head.counts);
    assert_eq!(report.head.counts.linked, 1);
    assert_eq!(report.head.counts.failed, 1);
    let failure = &report.failures[0];
    assert_eq!(failure.status, Some(400));
    assert!(
        failure.detail.contains("userName b is reserved here"),
        "{failure:?}"
    );
    // b was asked once (a 400 is permanent); a and d were retried.
    let requests = server.received_requests().await.unwrap();
    let posts_for = |name: &str| {
        requests
            .iter()
            .filter(|r| r.method.as_str() == "POST")
            .filter(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["userName"] == name)
            .count()
    };
    assert_eq!((posts_for("a"), posts_for("b"), posts_for("d")), (3, 1, 2));
    let target = db.find_target("mock").unwrap().unwrap();
    let mut remote: Vec<String> = db
        .links(&target.id, "User")
        .unwrap()
        .into_iter()
        .map(|l| l.remote_id)
        .collect();
    remote.sort();
    assert_eq!(remote, ["r-a", "r-c", "r-d"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_fail_the_run() {
    let source = TestApp::start(Backend::Sqlite).await.unwrap();
    for i in 0..20 {
        source.create_user(&format!("u{i}")).await;
    }
    let server = mock_target().await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(error(401, "", "token expired"))
        .mount(&server)
        .await;
    let (engine, db) = engine_for(&source, &server).await;
    let report = engine
        .run("mock", RunOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(report.head.status, RunStatus::Failed);
    assert!(
        report
            .head
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("refused the credentials"),
        "{report:#?}"
    );
    // It stops instead of hammering: at most the in-flight writes were sent.
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert!(
        posts <= TargetSettings::default().max_concurrency,
        "{posts} posts"
    );
    let target = db.find_target("mock").unwrap().unwrap();
    assert!(db.links(&target.id, "User").unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_window_counts_only_deprovisions_that_happened() {
    let source = TestApp::start(Backend::Sqlite).await.unwrap();
    let server = mock_target().await;
    // Two accounts linked to users that are gone here: both deprovisioned.
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim(
            200,
            json!({"totalResults": 2, "startIndex": 1, "itemsPerPage": 2, "Resources": [
                {"id": "r1", "userName": "gone1", "active": true},
                {"id": "r2", "userName": "gone2", "active": true}]}),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Users/r1"))
        .respond_with(scim(
            200,
            json!({"id": "r1", "userName": "gone1", "active": false}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Users/r2"))
        .respond_with(error(400, "mutability", "r2 cannot be deactivated"))
        .mount(&server)
        .await;
    let (engine, db) = engine_for(&source, &server).await;
    let target = db.find_target("mock").unwrap().unwrap();
    for (local, remote) in [("l1", "r1"), ("l2", "r2")] {
        let link = scimhub::store::LinkRecord {
            local_id: local.into(),
            remote_id: remote.into(),
            state_hash: "h".into(),
        };
        db.put_link(&target.id, "User", &link).unwrap();
    }
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let report = engine
        .run("mock", RunOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(
        (report.head.counts.deactivated, report.head.counts.failed),
        (1, 1),
        "{report:#?}"
    );
    assert_eq!(
        db.deprovisions_since(&target.id, since).unwrap(),
        1,
        "the refused deactivation is not counted toward the deletion guard"
    );
}
