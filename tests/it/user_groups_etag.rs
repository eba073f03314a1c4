//! A user's `groups` is part of its representation (RFC 7643 §4.1.2): every
//! membership change that alters it moves the user's version, ETag and
//! lastModified, and logs a change for the user.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::app::Response;
use crate::support::{GROUP_SCHEMA, TestApp, group_body};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn patch(app: &TestApp, path: &str, ops: Value) -> Response {
    let body = json!({"schemas": [PATCH_OP], "Operations": ops});
    let r = app
        .send(
            Method::PATCH,
            path,
            Some(&app.token),
            Some(body.to_string().into_bytes()),
        )
        .await;
    // A group PATCH answers 204 unless attributes are asked for.
    assert!(r.status.is_success(), "{}", r.text);
    r
}

/// The user's ETag header and `meta`, as a client reads them.
async fn read(app: &TestApp, user: &str) -> (String, Value) {
    let r = app.get(&format!("/Users/{user}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    (r.header("etag").unwrap().to_string(), r.body)
}

async fn version(app: &TestApp, user: &str) -> String {
    read(app, user).await.0
}

/// The change-log rows about `user`, as (operation, version).
fn user_changes(app: &TestApp, user: &str) -> Vec<(String, i64)> {
    app.store
        .changes_after(0, u32::MAX)
        .unwrap()
        .into_iter()
        .filter(|c| c.resource_type == "User" && c.resource_id == user)
        .map(|c| (c.operation, c.version))
        .collect()
}

async fn adding_to_a_group_moves_the_users_etag(app: TestApp) {
    let ann = id(&app.create_user("ann").await);
    let team = id(&app.create_group("Team", &[]).await);
    let (etag_a, _) = read(&app, &ann).await;

    patch(
        &app,
        &format!("/Groups/{team}"),
        json!([{"op": "add", "path": "members", "value": [{"value": ann}]}]),
    )
    .await;
    let group = app.get(&format!("/Groups/{team}")).await;
    let (etag_b, after) = read(&app, &ann).await;
    assert_ne!(etag_a, etag_b, "the user's groups changed");
    assert_eq!(after["meta"]["version"], etag_b.as_str());
    assert_eq!(after["groups"][0]["value"], team.as_str());
    assert_eq!(
        after["meta"]["lastModified"], group.body["meta"]["lastModified"],
        "the user changed when the group did"
    );

    // A client holding the old ETag gets the new view, and cannot write over it.
    let user_path = format!("/Users/{ann}");
    let cond = app
        .client()
        .get(app.url(&user_path))
        .bearer_auth(&app.token)
        .header("if-none-match", etag_a.clone());
    let fresh = app.raw(cond).await;
    assert_eq!(fresh.status, StatusCode::OK, "not a stale 304");
    assert_eq!(fresh.body["groups"][0]["value"], team.as_str());
    let put = app
        .client()
        .put(app.url(&user_path))
        .bearer_auth(&app.token)
        .header("if-match", etag_a.clone())
        .header("content-type", "application/scim+json")
        .body(crate::support::user_body("ann").to_string());
    let before_put = app.snapshot();
    app.raw(put).await.assert_error(412, None);
    assert_eq!(app.snapshot(), before_put, "the refused PUT wrote nothing");

    // Consumers of the change log see the user change too.
    assert_eq!(
        user_changes(&app, &ann),
        [("create".to_string(), 1), ("update".to_string(), 2)]
    );
}

async fn only_the_changed_members_move(app: TestApp) {
    let mut members = Vec::new();
    for i in 0..5 {
        members.push(id(&app.create_user(&format!("member{i}")).await));
    }
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let team = id(&app.create_group("Team", &refs).await);
    let newcomer = id(&app.create_user("newcomer").await);
    let mut before = Vec::new();
    for m in &members {
        before.push(version(&app, m).await);
    }
    let newcomer_before = version(&app, &newcomer).await;
    let changes_before = app.store.latest_change().unwrap();

    patch(
        &app,
        &format!("/Groups/{team}"),
        json!([{"op": "add", "path": "members", "value": [{"value": newcomer}]}]),
    )
    .await;
    let mut after = Vec::new();
    for m in &members {
        after.push(version(&app, m).await);
    }
    assert_eq!(after, before, "members already there are not touched");
    assert_ne!(version(&app, &newcomer).await, newcomer_before);
    let logged: Vec<(String, String)> = app
        .store
        .changes_after(changes_before, u32::MAX)
        .unwrap()
        .into_iter()
        .map(|c| (c.resource_type, c.resource_id))
        .collect();
    assert_eq!(
        logged,
        [
            ("User".to_string(), newcomer.clone()),
            ("Group".to_string(), team.clone())
        ],
        "one user row, before the group's (a worker pushes members first)"
    );

    // Adding a member again changes nothing, so nobody's ETag moves.
    let unchanged = version(&app, &newcomer).await;
    patch(
        &app,
        &format!("/Groups/{team}"),
        json!([{"op": "add", "path": "members", "value": [{"value": newcomer}]}]),
    )
    .await;
    assert_eq!(version(&app, &newcomer).await, unchanged);

    // Removing one member moves only that member.
    patch(
        &app,
        &format!("/Groups/{team}"),
        json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", members[0])}]),
    )
    .await;
    assert_ne!(version(&app, &members[0]).await, after[0]);
    assert_eq!(version(&app, &members[1]).await, after[1]);
    assert_eq!(version(&app, &newcomer).await, unchanged);
}

async fn put_rename_nesting_and_delete_move_the_users_etag(app: TestApp) {
    let ann = id(&app.create_user("ann").await);
    let bob = id(&app.create_user("bob").await);
    let inner = id(&app.create_group("Inner", &[&ann]).await);
    let outer = id(&app.create_group("Outer", &[]).await);

    // Nesting: ann gains Outer indirectly.
    let v = version(&app, &ann).await;
    let bob_v = version(&app, &bob).await;
    let r = app
        .put(&format!("/Groups/{outer}"), &group_body("Outer", &[&inner]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (v2, body) = read(&app, &ann).await;
    assert_ne!(v2, v);
    assert_eq!(body["groups"].as_array().unwrap().len(), 2);
    assert_eq!(version(&app, &bob).await, bob_v, "bob is in no group");

    // Renaming Outer changes the `display` ann's groups show.
    let r = app
        .put(
            &format!("/Groups/{outer}"),
            &group_body("Outer Renamed", &[&inner]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (v3, body) = read(&app, &ann).await;
    assert_ne!(v3, v2);
    let shown: Vec<&str> = body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    assert!(shown.contains(&"Outer Renamed"), "{shown:?}");

    // A PUT of the same group is no change at all.
    let r = app
        .put(
            &format!("/Groups/{outer}"),
            &group_body("Outer Renamed", &[&inner]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(version(&app, &ann).await, v3);

    // Deleting Inner takes both groups away from ann.
    assert_eq!(
        app.delete(&format!("/Groups/{inner}")).await.status,
        StatusCode::NO_CONTENT
    );
    let (v4, body) = read(&app, &ann).await;
    assert_ne!(v4, v3);
    assert!(body.get("groups").is_none(), "{body}");
    assert_eq!(
        user_changes(&app, &ann).len(),
        5,
        "created, then one change per ETag move: into Inner, Outer, renamed, deleted"
    );
}

async fn a_bulk_membership_change_moves_the_users_etag(app: TestApp) {
    let ann = id(&app.create_user("ann").await);
    let before = version(&app, &ann).await;
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{
            "method": "POST", "bulkId": "g", "path": "/Groups",
            "data": {"schemas": [GROUP_SCHEMA], "displayName": "Bulk", "members": [{"value": ann}]}
        }]
    });
    let r = app.post("/Bulk", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["Operations"][0]["status"], "201", "{}", r.text);
    assert_ne!(version(&app, &ann).await, before);
}

on_both_backends!(
    adding_to_a_group_moves_the_users_etag,
    only_the_changed_members_move,
    put_rename_nesting_and_delete_move_the_users_etag,
    a_bulk_membership_change_moves_the_users_etag,
);
