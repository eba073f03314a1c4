//! The enterprise `manager.value` names an existing User, as group members
//! must: anything else is 400 `invalidValue` naming the value, nothing stored.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::app::Response;
use crate::support::{ENTERPRISE, TestApp, USER_SCHEMA, user_body};

const NOBODY: &str = "0d5a7f0e-0000-4000-8000-00000000abcd";

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn managed_by(user_name: &str, manager: &str) -> Value {
    let mut body = user_body(user_name);
    body["schemas"] = json!([USER_SCHEMA, ENTERPRISE]);
    body[ENTERPRISE] = json!({"manager": {"value": manager}});
    body
}

#[track_caller]
fn assert_unknown_manager(r: &Response) {
    r.assert_error(400, Some("invalidValue"));
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(NOBODY),
        "the detail names the value: {detail}"
    );
}

async fn patch(app: &TestApp, path: &str, ops: Value) -> Response {
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    app.send(
        Method::PATCH,
        path,
        Some(&app.token),
        Some(body.to_string().into_bytes()),
    )
    .await
}

async fn unknown_managers_are_refused_and_nothing_changes(app: TestApp) {
    let boss = id(&app.create_user("boss").await);
    let ann = id(&app.create_user("ann").await);
    let group = id(&app.create_group("Team", &[]).await);
    let before = app.snapshot();

    assert_unknown_manager(&app.post("/Users", &managed_by("bob", NOBODY)).await);
    assert_unknown_manager(
        &app.put(&format!("/Users/{ann}"), &managed_by("ann", NOBODY))
            .await,
    );
    let add = json!([{"op": "add", "path": format!("{ENTERPRISE}:manager"), "value": NOBODY}]);
    assert_unknown_manager(&patch(&app, &format!("/Users/{ann}"), add).await);
    // A group id is not a User either.
    app.post("/Users", &managed_by("carl", &group))
        .await
        .assert_error(400, Some("invalidValue"));
    assert_eq!(app.snapshot(), before, "nothing was stored");

    // An existing User is a manager.
    let r = app.post("/Users", &managed_by("dave", &boss)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body[ENTERPRISE]["manager"]["value"], boss.as_str());
}

fn bulk(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})
}

/// The status of each operation; the refused ones must be about `NOBODY`.
#[track_caller]
fn outcomes(r: &Response) -> Vec<String> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ops = r.body["Operations"].as_array().unwrap();
    for op in ops.iter().filter(|o| o["status"] == "400") {
        assert_eq!(op["response"]["scimType"], "invalidValue", "{}", r.text);
        let detail = op["response"]["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(NOBODY), "{detail}");
    }
    ops.iter()
        .map(|o| o["status"].as_str().unwrap().to_string())
        .collect()
}

async fn bulk_refuses_unknown_managers_per_operation(app: TestApp) {
    let ann = id(&app.create_user("ann").await);
    let before = app.snapshot();
    let refused = app
        .post(
            "/Bulk",
            &bulk(json!([
                {"method": "POST", "bulkId": "bob", "path": "/Users", "data": managed_by("bob", NOBODY)},
                {"method": "PUT", "path": format!("/Users/{ann}"), "data": managed_by("ann", NOBODY)},
                {"method": "PATCH", "path": format!("/Users/{ann}"), "data": {
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "add", "path": format!("{ENTERPRISE}:manager.value"), "value": NOBODY}]}},
            ])),
        )
        .await;
    assert_eq!(outcomes(&refused), ["400", "400", "400"]);
    assert_eq!(app.snapshot(), before, "nothing was stored");

    // Reference-free creations run as one batch: each gets its own outcome.
    let mixed = app
        .post(
            "/Bulk",
            &bulk(json!([
                {"method": "POST", "bulkId": "bob", "path": "/Users", "data": managed_by("bob", NOBODY)},
                {"method": "POST", "bulkId": "eve", "path": "/Users", "data": managed_by("eve", &ann)},
            ])),
        )
        .await;
    assert_eq!(outcomes(&mixed), ["400", "201"]);
    let bob = app.get("/Users?filter=userName%20eq%20%22bob%22").await;
    assert_eq!(bob.body["totalResults"], 0, "{}", bob.text);
    let eve = app.get("/Users?filter=userName%20eq%20%22eve%22").await;
    assert_eq!(
        eve.body["Resources"][0][ENTERPRISE]["manager"]["value"],
        ann.as_str()
    );
}

async fn a_manager_deleted_later_does_not_block_other_changes(app: TestApp) {
    let boss = id(&app.create_user("boss").await);
    let ann = id(&app.create_user("ann").await);
    let set = json!([{"op": "add", "path": format!("{ENTERPRISE}:manager"), "value": boss}]);
    assert_eq!(
        patch(&app, &format!("/Users/{ann}"), set).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.delete(&format!("/Users/{boss}")).await.status,
        StatusCode::NO_CONTENT
    );
    let title = json!([{"op": "add", "path": "title", "value": "Lead"}]);
    let r = patch(&app, &format!("/Users/{ann}"), title).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body[ENTERPRISE]["manager"]["value"], boss.as_str());
}

on_both_backends!(
    unknown_managers_are_refused_and_nothing_changes,
    bulk_refuses_unknown_managers_per_operation,
    a_manager_deleted_later_does_not_block_other_changes,
);
