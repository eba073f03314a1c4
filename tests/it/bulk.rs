//! `/Bulk` and `/Me` through the real API.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{TestApp, USER_SCHEMA};

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn statuses(body: &Value) -> Vec<(String, String)> {
    body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["bulkId"].as_str().unwrap_or("-").to_string(),
                o["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn bulk_resolves_references_in_any_order(app: TestApp) {
    let body = json!({"schemas": [BULK], "Operations": [
        {"method": "POST", "bulkId": "team", "path": "/Groups",
         "data": {"schemas": [GROUP], "displayName": "Bulk Team", "members": [{"value": "bulkId:ann"}, {"value": "bulkId:bob"}]}},
        {"method": "POST", "bulkId": "bob", "path": "/Users",
         "data": {"schemas": [USER_SCHEMA], "userName": "bob", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "bulkId:ann"}}}},
        {"method": "POST", "bulkId": "ann", "path": "/Users", "data": {"schemas": [USER_SCHEMA], "userName": "ann"}},
        {"method": "PATCH", "path": "/Users/bulkId:ann", "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "title", "value": "Lead"}]}},
        {"method": "POST", "bulkId": "x", "path": "/Users", "data": {"schemas": [USER_SCHEMA], "userName": "x", "nickName": "bulkId:y"}},
        {"method": "POST", "bulkId": "y", "path": "/Users", "data": {"schemas": [USER_SCHEMA], "userName": "y", "nickName": "bulkId:x"}},
        {"method": "POST", "bulkId": "dup", "path": "/Users", "data": {"schemas": [USER_SCHEMA], "userName": "ANN"}},
    ]});
    let r = app.post("/Bulk", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
    );
    let got = statuses(&r.body);
    let want: Vec<(String, String)> = [
        ("team", "201"),
        ("bob", "201"),
        ("ann", "201"),
        ("-", "200"),
        ("x", "409"),
        ("y", "409"),
        ("dup", "409"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want, "{}", r.text);
    let ops = r.body["Operations"].as_array().unwrap();
    assert_eq!(ops[6]["response"]["scimType"], "uniqueness");
    let team = app
        .get(
            ops[0]["location"]
                .as_str()
                .unwrap()
                .split("/scim/v2")
                .nth(1)
                .unwrap(),
        )
        .await
        .body;
    assert_eq!(team["members"].as_array().unwrap().len(), 2);
    let ann_path = ops[2]["location"]
        .as_str()
        .unwrap()
        .split("/scim/v2")
        .nth(1)
        .unwrap()
        .to_string();
    let ann = app.get(&ann_path).await.body;
    assert_eq!(ann["title"], "Lead");
    let bob = app
        .get(
            ops[1]["location"]
                .as_str()
                .unwrap()
                .split("/scim/v2")
                .nth(1)
                .unwrap(),
        )
        .await
        .body;
    assert_eq!(
        bob["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"],
        ann["id"]
    );
}

async fn bulk_fail_on_errors_and_limits(app: TestApp) {
    let op = |i: usize| json!({"method": "POST", "bulkId": format!("b{i}"), "path": "/Users", "data": {"schemas": [USER_SCHEMA]}});
    let body = json!({"schemas": [BULK], "failOnErrors": 2, "Operations": (0..5).map(op).collect::<Vec<_>>()});
    let r = app.post("/Bulk", &body).await;
    assert_eq!(
        r.body["Operations"].as_array().unwrap().len(),
        2,
        "stops after two errors: {}",
        r.text
    );
    let too_many = json!({"schemas": [BULK], "Operations": (0..1001).map(op).collect::<Vec<_>>()});
    let before = app.snapshot();
    app.post("/Bulk", &too_many).await.assert_error(413, None);
    app.post("/Bulk", &json!({"Operations": []}))
        .await
        .assert_error(400, Some("invalidSyntax"));
    assert_eq!(app.snapshot(), before);
    let spc = app.get("/ServiceProviderConfig").await.body;
    assert_eq!(
        spc["bulk"],
        json!({"supported": true, "maxOperations": 1000, "maxPayloadSize": 1048576})
    );
}

async fn batched_creations_report_each_operation(app: TestApp) {
    app.create_user("taken").await;
    let user = |b: &str, name: Option<&str>| {
        let mut data = json!({"schemas": [USER_SCHEMA]});
        if let Some(n) = name {
            data["userName"] = json!(n);
        }
        json!({"method": "POST", "bulkId": b, "path": "/Users", "data": data})
    };
    let body = json!({"schemas": [BULK], "Operations": [
        user("a", Some("fresh")), user("b", None), user("c", Some("FRESH")), user("d", Some("second")), user("e", Some("Taken")),
    ]});
    let before = app
        .store
        .list_users(&scimhub::store::ListQuery::all())
        .unwrap()
        .total;
    let r = app.post("/Bulk", &body).await;
    let got: Vec<String> = statuses(&r.body).into_iter().map(|(_, s)| s).collect();
    assert_eq!(got, vec!["201", "400", "409", "201", "409"], "{}", r.text);
    let after = app
        .store
        .list_users(&scimhub::store::ListQuery::all())
        .unwrap()
        .total;
    assert_eq!(after, before + 2);
    let changes = app.store.changes_after(0, 1000).unwrap();
    assert_eq!(
        changes.iter().filter(|c| c.operation == "create").count() as u64,
        after
    );
}

/// PATCHes of distinct groups in a row are queued together (SQLite's write
/// lane): each still gets its own outcome, in request order, and a refused
/// one changes nothing.
async fn group_patches_in_a_row_each_report_and_apply(app: TestApp) {
    let id = |v: Value| v["id"].as_str().unwrap().to_string();
    let users: Vec<String> = [
        app.create_user("pa").await,
        app.create_user("pb").await,
        app.create_user("pc").await,
    ]
    .into_iter()
    .map(id)
    .collect();
    let g1 = id(app.create_group("patched one", &[]).await);
    let g2 = id(app.create_group("patched two", &[]).await);
    let g3 = id(app.create_group("untouched", &[]).await);
    let g3_before = app.get(&format!("/Groups/{g3}")).await.body;
    let add = |group: &str, member: &str| {
        json!({"method": "PATCH", "path": format!("/Groups/{group}"), "data": {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": member}]}]}})
    };
    let mut stale = add(&g2, &users[2]);
    stale["version"] = json!("W/\"stale\"");
    let body = json!({"schemas": [BULK], "Operations": [
        add(&g1, &users[0]),
        add(&g2, &users[1]),
        add("no-such-group", &users[0]),
        add(&g3, "no-such-user"),
        add(&g1, &users[2]),
        stale,
    ]});
    let r = app.post("/Bulk", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let got: Vec<String> = statuses(&r.body).into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        got,
        vec!["200", "200", "404", "400", "200", "412"],
        "{}",
        r.text
    );
    let members = |body: &Value| -> Vec<String> {
        let mut ids: Vec<String> = body["members"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|m| m["value"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    };
    let mut want = vec![users[0].clone(), users[2].clone()];
    want.sort();
    assert_eq!(members(&app.get(&format!("/Groups/{g1}")).await.body), want);
    assert_eq!(
        members(&app.get(&format!("/Groups/{g2}")).await.body),
        vec![users[1].clone()]
    );
    assert_eq!(app.get(&format!("/Groups/{g3}")).await.body, g3_before);
    let group_updates = app
        .store
        .changes_after(0, 1000)
        .unwrap()
        .iter()
        .filter(|c| c.resource_type == "Group" && c.operation == "patch")
        .count();
    assert_eq!(group_updates, 3);
}

async fn me_serves_the_bound_user(app: TestApp) {
    let user = app.create_user("myself").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bound = scimhub::service::tokens::create(
        app.store.as_ref(),
        "me",
        vec!["scim:read".into(), "scim:write".into()],
        Some(user.clone()),
    )
    .unwrap();
    let r = app.send(Method::GET, "/Me", Some(&bound), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["id"], user.as_str());
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "password", "value": "my-new-password"}]});
    let r = app
        .send(
            Method::PATCH,
            "/Me",
            Some(&bound),
            Some(patch.to_string().into_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(!r.text.contains("my-new-password"));
    app.send(Method::GET, "/Me", Some(&app.token), None)
        .await
        .assert_error(501, None);
    app.send(Method::DELETE, "/Me", Some(&bound), None)
        .await
        .assert_error(405, None);
}

on_both_backends!(
    bulk_resolves_references_in_any_order,
    bulk_fail_on_errors_and_limits,
    batched_creations_report_each_operation,
    group_patches_in_a_row_each_report_and_apply,
    me_serves_the_bound_user,
);
