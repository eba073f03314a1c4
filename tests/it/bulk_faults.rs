//! Batched creates through `/Bulk` against a mock target (wiremock) that
//! misbehaves: one refused operation fails only its object, a 409 in a
//! bulk answer adopts the existing account, a `/Bulk` request the target
//! cannot answer (503) is retried like a single write, then fails its
//! objects without losing them (the next run creates them); a busy
//! operation, and every write of a bulk request refused as such (413), go
//! on their own.

use std::sync::Arc;

use scimhub::provision::runs::{RunOptions, RunStatus};
use scimhub::store::SyncStore;
use scimhub::store::diesel::DieselStore;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{Backend, TestApp};
use crate::sync_faults::{empty_list, engine_for, error, scim};

/// A target offering bulk: PATCH, filters, 100 operations per request.
async fn bulk_target() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/ServiceProviderConfig"))
        .respond_with(scim(
            200,
            json!({"patch": {"supported": true}, "filter": {"supported": true, "maxResults": 200},
                "bulk": {"supported": true, "maxOperations": 100, "maxPayloadSize": 1_048_576},
                "etag": {"supported": false}}),
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

/// Answers a BulkRequest operation by operation: userName "b" refused
/// (400), "c" taken (409), every other user created as `r-{userName}`.
struct Answers;

impl Respond for Answers {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let ops: Vec<Value> = body["Operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|op| {
                assert_eq!(
                    (&op["method"], &op["path"]),
                    (&json!("POST"), &json!("/Users"))
                );
                let name = op["data"]["userName"].as_str().unwrap();
                let (status, response) = match name {
                    "b" => (
                        "400",
                        json!({"status": "400", "scimType": "invalidValue",
                        "detail": "userName b is reserved here"}),
                    ),
                    "c" => (
                        "409",
                        json!({"status": "409", "scimType": "uniqueness",
                        "detail": "userName c exists"}),
                    ),
                    _ => ("201", json!({"id": format!("r-{name}"), "userName": name})),
                };
                let mut answer = json!({"method": "POST", "bulkId": op["bulkId"],
                    "status": status, "response": response});
                if status == "201" {
                    answer["location"] = json!(format!("https://t.example/scim/v2/Users/r-{name}"));
                }
                answer
            })
            .collect();
        scim(
            200,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"],
                "Operations": ops}),
        )
    }
}

fn requests_to<'a>(requests: &'a [Request], verb: &str, at: &str) -> Vec<&'a Request> {
    requests
        .iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == at)
        .collect()
}

async fn linked(db: &Arc<DieselStore>) -> Vec<String> {
    let target = db.find_target("mock").unwrap().unwrap();
    let mut remote: Vec<String> = db
        .links(&target.id, "User")
        .unwrap()
        .into_iter()
        .map(|l| l.remote_id)
        .collect();
    remote.sort();
    remote
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_bulk_operation_fails_only_its_object_and_a_409_adopts() {
    let source = TestApp::start(Backend::Sqlite).await.unwrap();
    for name in ["a", "b", "c", "d", "e"] {
        source.create_user(name).await;
    }
    let server = bulk_target().await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Bulk"))
        .respond_with(Answers)
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
    let counts = &report.head.counts;
    assert_eq!(
        (counts.created, counts.linked, counts.failed),
        (3, 1, 1),
        "{counts:?}"
    );
    let failure = &report.failures[0];
    assert_eq!(failure.status, Some(400), "{failure:?}");
    assert_eq!(failure.action, "create");
    assert!(
        failure.detail.contains("userName b is reserved here"),
        "{failure:?}"
    );
    // One request carried the five creates; none went on its own.
    let requests = server.received_requests().await.unwrap();
    let bulks = requests_to(&requests, "POST", "/scim/v2/Bulk");
    assert_eq!(bulks.len(), 1);
    let sent: Value = serde_json::from_slice(&bulks[0].body).unwrap();
    assert_eq!(sent["Operations"].as_array().unwrap().len(), 5);
    assert!(requests_to(&requests, "POST", "/scim/v2/Users").is_empty());
    assert_eq!(linked(&db).await, ["r-a", "r-c", "r-d", "r-e"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_request_the_target_cannot_answer_loses_nothing() {
    let source = TestApp::start(Backend::Sqlite).await.unwrap();
    for name in ["a", "d", "e"] {
        source.create_user(name).await;
    }
    let server = bulk_target().await;
    let attempts = scimhub::provision::client::RetryPolicy::default().max_attempts as u64;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Bulk"))
        .respond_with(error(503, "", "down for maintenance"))
        .up_to_n_times(attempts)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Bulk"))
        .respond_with(Answers)
        .mount(&server)
        .await;

    let (engine, db) = engine_for(&source, &server).await;
    let report = engine
        .run("mock", RunOptions::default(), None)
        .await
        .unwrap();
    // Retried as a single write is, then each object fails for now.
    assert_eq!(
        report.head.status,
        RunStatus::CompletedWithFailures,
        "{report:#?}"
    );
    assert_eq!(
        (report.head.counts.created, report.head.counts.failed),
        (0, 3)
    );
    assert!(
        report
            .failures
            .iter()
            .all(|f| f.action == "create" && f.detail.contains("unavailable")),
        "{:#?}",
        report.failures
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests_to(&requests, "POST", "/scim/v2/Bulk").len() as u64,
        attempts
    );
    assert!(
        linked(&db).await.is_empty(),
        "nothing linked that was not made"
    );

    // The target is back: the next run creates them all.
    let again = engine
        .run("mock", RunOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(again.head.status, RunStatus::Succeeded, "{again:#?}");
    assert_eq!(again.head.counts.created, 3);
    assert_eq!(linked(&db).await, ["r-a", "r-d", "r-e"]);
}

/// Answers every operation with 201, except userName "busy": 503.
struct BusyOne;

impl Respond for BusyOne {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let ops: Vec<Value> = body["Operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|op| {
                let name = op["data"]["userName"].as_str().unwrap();
                if name == "busy" {
                    return json!({"method": "POST", "bulkId": op["bulkId"], "status": "503",
                        "response": {"status": "503", "detail": "try later"}});
                }
                json!({"method": "POST", "bulkId": op["bulkId"], "status": "201",
                    "location": format!("https://t.example/scim/v2/Users/r-{name}")})
            })
            .collect();
        scim(200, json!({"Operations": ops}))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_operation_and_a_refused_bulk_request_go_singly() {
    // One operation the target found busy: sent again on its own.
    let source = TestApp::start(Backend::Sqlite).await.unwrap();
    for name in ["a", "busy", "e"] {
        source.create_user(name).await;
    }
    let server = bulk_target().await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Bulk"))
        .respond_with(BusyOne)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim(201, json!({"id": "r-busy", "userName": "busy"})))
        .mount(&server)
        .await;
    let (engine, db) = engine_for(&source, &server).await;
    let report = engine
        .run("mock", RunOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(report.head.status, RunStatus::Succeeded, "{report:#?}");
    assert_eq!(report.head.counts.created, 3);
    let requests = server.received_requests().await.unwrap();
    let singles = requests_to(&requests, "POST", "/scim/v2/Users");
    assert_eq!(singles.len(), 1);
    let sent: Value = serde_json::from_slice(&singles[0].body).unwrap();
    assert_eq!(sent["userName"], "busy");
    assert_eq!(linked(&db).await, ["r-a", "r-busy", "r-e"]);

    // A target that refuses the /Bulk request as such (413): every create
    // goes alone.
    let source = TestApp::start(Backend::Sqlite).await.unwrap();
    for name in ["a", "d"] {
        source.create_user(name).await;
    }
    let server = bulk_target().await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Bulk"))
        .respond_with(error(413, "tooLarge", "the request is too large"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(|r: &Request| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            let name = body["userName"].as_str().unwrap().to_string();
            scim(201, json!({"id": format!("r-{name}"), "userName": name}))
        })
        .mount(&server)
        .await;
    let (engine, db) = engine_for(&source, &server).await;
    let report = engine
        .run("mock", RunOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(report.head.status, RunStatus::Succeeded, "{report:#?}");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests_to(&requests, "POST", "/scim/v2/Bulk").len(), 1);
    assert_eq!(requests_to(&requests, "POST", "/scim/v2/Users").len(), 2);
    assert_eq!(linked(&db).await, ["r-a", "r-d"]);
}
