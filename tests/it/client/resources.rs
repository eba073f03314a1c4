//! Reading and writing resources: paging (and targets that page badly),
//! ServiceProviderConfig discovery, and what 404/204 mean per call.

use scimhub::provision::client::{DEFAULT_PAGE_SIZE, ScimClient, TargetLimits};
use scimhub::provision::connector::ConnectorError;
use scimhub::scim::ResourceKind;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::{client, hits, user};

const USERS: &str = "/scim/v2/Users";

fn list(total: Option<usize>, start: usize, ids: &[&str]) -> ResponseTemplate {
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "startIndex": start,
        "itemsPerPage": ids.len(),
        "Resources": ids.iter().map(|id| user(id)).collect::<Vec<_>>(),
    });
    if let Some(total) = total {
        body["totalResults"] = json!(total);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

async fn page(server: &MockServer, start: &str, count: &str, reply: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(USERS))
        .and(query_param("startIndex", start))
        .and(query_param("count", count))
        .respond_with(reply)
        .mount(server)
        .await;
}

fn ids(resources: &[Value]) -> Vec<&str> {
    resources
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn list_all_walks_every_page() {
    let server = MockServer::start().await;
    page(&server, "1", "2", list(Some(5), 1, &["a", "b"])).await;
    page(&server, "3", "2", list(Some(5), 3, &["c", "d"])).await;
    page(&server, "5", "2", list(Some(5), 5, &["e"])).await;
    let all = client(&server)
        .list_all(ResourceKind::User, 2)
        .await
        .unwrap();
    assert_eq!(ids(&all), ["a", "b", "c", "d", "e"]);
    assert_eq!(hits(&server, USERS).await, 3);
}

#[tokio::test]
async fn list_all_follows_total_results_when_the_target_caps_the_page() {
    let server = MockServer::start().await;
    // Asked for 10 a page, the target gives 2: totalResults says there is more.
    page(&server, "1", "10", list(Some(3), 1, &["a", "b"])).await;
    page(&server, "3", "10", list(Some(3), 3, &["c"])).await;
    let all = client(&server)
        .list_all(ResourceKind::User, 10)
        .await
        .unwrap();
    assert_eq!(ids(&all), ["a", "b", "c"]);
}

#[tokio::test]
async fn list_all_stops_on_a_short_or_empty_page_without_total_results() {
    let server = MockServer::start().await;
    page(&server, "1", "2", list(None, 1, &["a", "b"])).await;
    page(&server, "3", "2", list(None, 3, &["c"])).await;
    let all = client(&server)
        .list_all(ResourceKind::User, 2)
        .await
        .unwrap();
    assert_eq!(ids(&all), ["a", "b", "c"]);
    assert_eq!(hits(&server, USERS).await, 2);

    let empty = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Groups"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"totalResults": 0})))
        .mount(&empty)
        .await;
    let none = client(&empty)
        .list_all(ResourceKind::Group, 0)
        .await
        .unwrap();
    assert!(none.is_empty());
    let asked = &empty.received_requests().await.unwrap()[0];
    assert!(
        asked
            .url
            .query()
            .unwrap()
            .contains(&format!("count={DEFAULT_PAGE_SIZE}"))
    );
}

#[tokio::test]
async fn targets_that_ignore_start_index_or_never_end_are_cut_off() {
    let server = MockServer::start().await;
    // Always the first page.
    Mock::given(method("GET"))
        .and(path(USERS))
        .respond_with(list(Some(1_000_000), 1, &["a", "b"]))
        .mount(&server)
        .await;
    let err = client(&server)
        .list_all(ResourceKind::User, 2)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Protocol(m) if m.contains("startIndex 3 repeats the previous one")),
        "{err:?}"
    );

    // Fresh ids on every page, forever.
    let endless = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(USERS))
        .respond_with(|r: &Request| {
            let start: usize = r
                .url
                .query_pairs()
                .find(|(k, _)| k == "startIndex")
                .map(|(_, v)| v.parse().unwrap())
                .unwrap();
            list(
                Some(usize::MAX / 2),
                start,
                &[&format!("u{start}"), &format!("u{}", start + 1)],
            )
        })
        .mount(&endless)
        .await;
    let err = client(&endless)
        .with_max_pages(5)
        .list_all(ResourceKind::User, 2)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Protocol(m) if m.contains("still paging after 5 pages")),
        "{err:?}"
    );
    assert_eq!(hits(&endless, USERS).await, 5);
}

fn cursor_page(ids: &[&str], next: Option<&str>) -> ResponseTemplate {
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 5,
        "itemsPerPage": ids.len(),
        "Resources": ids.iter().map(|id| user(id)).collect::<Vec<_>>(),
    });
    if let Some(next) = next {
        body["nextCursor"] = json!(next);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

async fn at_cursor(server: &MockServer, cursor: &str, reply: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(USERS))
        .and(query_param("cursor", cursor))
        .and(query_param("count", "2"))
        .respond_with(reply)
        .mount(server)
        .await;
}

#[tokio::test]
async fn list_all_by_cursor_follows_next_cursor_until_there_is_none() {
    let server = MockServer::start().await;
    at_cursor(&server, "", cursor_page(&["a", "b"], Some("c2"))).await;
    at_cursor(&server, "c2", cursor_page(&["c", "d"], Some("c3"))).await;
    at_cursor(&server, "c3", cursor_page(&["e"], None)).await;
    let all = client(&server)
        .list_all_by_cursor(ResourceKind::User, 2)
        .await
        .unwrap();
    assert_eq!(ids(&all), ["a", "b", "c", "d", "e"]);
    assert_eq!(hits(&server, USERS).await, 3);

    // A target that hands out the same cursor again is cut off.
    let stuck = MockServer::start().await;
    at_cursor(&stuck, "", cursor_page(&["a", "b"], Some("c2"))).await;
    at_cursor(&stuck, "c2", cursor_page(&["c", "d"], Some("c2"))).await;
    let err = client(&stuck)
        .list_all_by_cursor(ResourceKind::User, 2)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Protocol(m) if m.contains("same nextCursor")),
        "{err:?}"
    );
    assert_eq!(hits(&stuck, USERS).await, 2);
}

#[tokio::test]
async fn search_sends_the_filter_and_returns_one_page() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(USERS))
        .and(query_param("filter", "userName eq \"a&b@example.com\""))
        .respond_with(list(Some(1), 1, &["a"]))
        .mount(&server)
        .await;
    let found = client(&server)
        .search(ResourceKind::User, "userName eq \"a&b@example.com\"")
        .await
        .unwrap();
    assert_eq!(ids(&found), ["a"]);
}

#[tokio::test]
async fn discovery_reads_the_service_provider_config() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/ServiceProviderConfig"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "bulk": {"supported": true, "maxOperations": 100, "maxPayloadSize": 1048576},
            "filter": {"supported": true, "maxResults": 50},
            "etag": {"supported": true},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
        })))
        .mount(&server)
        .await;
    let limits = client(&server).discover().await.unwrap();
    assert_eq!(
        limits,
        TargetLimits {
            patch: true,
            bulk: true,
            bulk_max_operations: 100,
            bulk_max_payload: 1_048_576,
            filter: true,
            max_results: 50,
            cursor_page: None,
            etag: true,
        }
    );
}

#[tokio::test]
async fn discovery_without_a_service_provider_config_is_conservative() {
    let server = MockServer::start().await;
    let limits = client(&server).discover().await.unwrap();
    assert_eq!(limits, TargetLimits::default());
    assert!(!limits.patch && !limits.bulk && !limits.filter && !limits.etag);
    assert_eq!(limits.max_results, DEFAULT_PAGE_SIZE);
    assert_eq!(hits(&server, "/scim/v2/ServiceProviderConfig").await, 1);
}

#[tokio::test]
async fn not_found_means_none_for_get_done_for_delete_and_refused_for_writes() {
    let server = MockServer::start().await;
    let c = client(&server);
    assert_eq!(c.get(ResourceKind::User, "gone").await.unwrap(), None);
    c.delete(ResourceKind::Group, "gone").await.unwrap();
    let err = c
        .patch(
            ResourceKind::User,
            "gone",
            vec![json!({"op": "replace", "path": "active", "value": false})],
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let err = c
        .replace(ResourceKind::User, "gone", &user("gone"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    // Ids are one path segment, whatever they contain.
    assert_eq!(c.get(ResourceKind::User, "a/b c").await.unwrap(), None);
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(paths.last().unwrap(), "/scim/v2/Users/a%2Fb%20c");
}

#[tokio::test]
async fn patch_sends_a_patch_op_and_reads_204_as_no_body() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Groups/g1"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Users/u1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("u1")))
        .mount(&server)
        .await;
    let c = client(&server);
    let ops = vec![json!({"op": "add", "path": "members", "value": [{"value": "u1"}]})];
    assert_eq!(
        c.patch(ResourceKind::Group, "g1", ops.clone())
            .await
            .unwrap(),
        None
    );
    let patched = c
        .patch(ResourceKind::User, "u1", ops.clone())
        .await
        .unwrap();
    assert_eq!(patched.unwrap()["id"], "u1");
    let sent: Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(
        sent,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
    );
}

#[tokio::test]
async fn answers_that_are_not_scim_are_protocol_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(USERS))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"userName": "no id"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users/u1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>login</html>"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users/moved"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("Location", "https://elsewhere.example/"),
        )
        .mount(&server)
        .await;
    let c: ScimClient = client(&server);
    let no_id = c.create(ResourceKind::User, &user("x")).await.unwrap_err();
    assert!(
        matches!(&no_id, ConnectorError::Protocol(m) if m.contains("without an id")),
        "{no_id:?}"
    );
    let html = c.get(ResourceKind::User, "u1").await.unwrap_err();
    assert!(
        matches!(&html, ConnectorError::Protocol(m) if m.contains("not JSON")),
        "{html:?}"
    );
    let moved = c.get(ResourceKind::User, "moved").await.unwrap_err();
    assert!(
        matches!(&moved, ConnectorError::Protocol(m) if m.contains("redirect") && m.contains("elsewhere.example")),
        "{moved:?}"
    );
    assert_eq!(hits(&server, "/scim/v2/Users/moved").await, 1);
}
