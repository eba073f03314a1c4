//! PATCH, ETags and membership changes through the real API.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{ENTERPRISE, TestApp, user_body};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn ops(list: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": list})
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn patch(app: &TestApp, path: &str, body: &Value) -> crate::support::app::Response {
    app.send(
        Method::PATCH,
        path,
        Some(&app.token),
        Some(body.to_string().into_bytes()),
    )
    .await
}

async fn patch_if(
    app: &TestApp,
    path: &str,
    body: &Value,
    etag: &str,
) -> crate::support::app::Response {
    let req = app
        .client()
        .patch(app.url(path))
        .bearer_auth(&app.token)
        .header("content-type", "application/scim+json")
        .header("if-match", etag)
        .body(body.to_string());
    app.raw(req).await
}

async fn entra_user_patches(app: TestApp) {
    let boss = id(&app.create_user("boss").await);
    let user = id(&app.create_user("worker").await);
    let body = ops(json!([
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Replace", "value": {"name.familyName": "Lovelace", format!("{ENTERPRISE}:department"): "R&D"}},
        {"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": boss},
        {"op": "Replace", "path": "emails[type eq \"home\"].value", "value": "w@home.example"},
    ]));
    let r = patch(&app, &format!("/Users/{user}"), &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["name"]["familyName"], "Lovelace");
    assert_eq!(r.body[ENTERPRISE]["department"], "R&D");
    assert_eq!(r.body[ENTERPRISE]["manager"]["value"], boss.as_str());
    let emails = r.body["emails"].as_array().unwrap();
    assert!(
        emails
            .iter()
            .any(|e| e["type"] == "home" && e["value"] == "w@home.example")
    );
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    let last = app.store.changes_after(0, 100).unwrap().pop().unwrap();
    assert_eq!(
        (
            last.operation.as_str(),
            last.version,
            last.resource_id.as_str()
        ),
        ("patch", 2, user.as_str())
    );
    // A PATCH that changes nothing keeps the version.
    let noop = patch(
        &app,
        &format!("/Users/{user}"),
        &ops(json!([{"op": "remove", "path": "emails[type eq \"fax\"]"}])),
    )
    .await;
    assert_eq!(noop.header("etag"), Some("W/\"2\""), "{}", noop.text);
    // Okta's deactivation and the password.
    let r = patch(
        &app,
        &format!("/Users/{user}"),
        &ops(json!([{"op": "replace", "value": {"active": true, "password": "n3w-secret!"}}])),
    )
    .await;
    assert_eq!(r.body["active"], true);
    assert!(!r.text.contains("n3w-secret"));
}

async fn bad_patches_change_nothing(app: TestApp) {
    let user = id(&app.create_user("steady").await);
    let group = id(&app.create_group("Steady", &[&user]).await);
    let cases = [
        (
            format!("/Users/{user}"),
            ops(json!([{"op": "remove"}])),
            400,
            Some("noTarget"),
        ),
        (
            format!("/Users/{user}"),
            ops(json!([{"op": "replace", "path": "id", "value": "x"}])),
            400,
            Some("mutability"),
        ),
        (
            format!("/Users/{user}"),
            ops(json!([{"op": "replace", "path": "shoeSize", "value": 1}])),
            400,
            Some("invalidPath"),
        ),
        (
            format!("/Users/{user}"),
            ops(json!([{"op": "replace", "path": "active", "value": "maybe"}])),
            400,
            Some("invalidValue"),
        ),
        (
            format!("/Users/{user}"),
            ops(json!([{"op": "remove", "path": "userName"}])),
            400,
            Some("mutability"),
        ),
        (
            format!("/Users/{user}"),
            json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]}),
            400,
            Some("invalidSyntax"),
        ),
        (
            format!("/Users/{user}"),
            ops(json!([{"op": "jump", "path": "title"}])),
            400,
            Some("invalidSyntax"),
        ),
        // The first operation is valid; the second fails: nothing applies.
        (
            format!("/Users/{user}"),
            ops(
                json!([{"op": "add", "path": "title", "value": "x"}, {"op": "replace", "path": "active", "value": "maybe"}]),
            ),
            400,
            Some("invalidValue"),
        ),
        (
            format!("/Groups/{group}"),
            ops(json!([{"op": "add", "path": "members", "value": [{"value": "ghost"}]}])),
            400,
            Some("invalidValue"),
        ),
        (
            format!("/Groups/{group}"),
            ops(json!([{"op": "add", "path": "members", "value": [{"value": group}]}])),
            400,
            Some("invalidValue"),
        ),
        (
            "/Users/no-such-user".to_string(),
            ops(json!([{"op": "add", "path": "title", "value": "x"}])),
            404,
            None,
        ),
    ];
    for (path, body, status, scim_type) in cases {
        let before = app.snapshot();
        let r = patch(&app, &path, &body).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.text);
        r.assert_error(status, scim_type);
        assert_eq!(app.snapshot(), before, "{body} changed the store");
    }
}

async fn group_member_patches(app: TestApp) {
    let a = id(&app.create_user("a").await);
    let b = id(&app.create_user("b").await);
    let c = id(&app.create_user("c").await);
    let g = id(&app.create_group("Team", &[&a]).await);
    let path = format!("/Groups/{g}");
    let add = ops(
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": b}, {"value": c}]}]),
    );
    let r = patch(&app, &path, &add).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    // Adding existing members is idempotent: no new version, no change-log row.
    let changes_before = app.store.changes_after(0, 1000).unwrap().len();
    let again = patch(&app, &path, &add).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    assert_eq!(
        again.header("etag"),
        Some("W/\"2\""),
        "nothing changed, so the version stays"
    );
    assert_eq!(
        app.store.changes_after(0, 1000).unwrap().len(),
        changes_before
    );
    let members = |v: &Value| -> Vec<String> {
        let mut m: Vec<String> = v["members"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x["value"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        m.sort();
        m
    };
    let mut all = vec![a.clone(), b.clone(), c.clone()];
    all.sort();
    assert_eq!(members(&app.get(&path).await.body), all);
    // Okta removes by filter; Entra by value array; with attributes asked the answer is 200.
    let r = patch(
        &app,
        &format!("{path}?attributes=members"),
        &ops(json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}])),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(members(&r.body).len(), 2);
    patch(
        &app,
        &path,
        &ops(json!([{"op": "Remove", "path": "members", "value": [{"value": b}]}])),
    )
    .await;
    assert_eq!(members(&app.get(&path).await.body), vec![c.clone()]);
    // Rename by path-less replace (Okta sends the id along).
    patch(
        &app,
        &path,
        &ops(json!([{"op": "replace", "value": {"id": g, "displayName": "Renamed"}}])),
    )
    .await;
    assert_eq!(app.get(&path).await.body["displayName"], "Renamed");
    let user_groups = app.get(&format!("/Users/{c}")).await.body;
    assert_eq!(user_groups["groups"][0]["display"], "Renamed");
}

async fn etags_guard_writes(app: TestApp) {
    let user = id(&app.create_user("tagged").await);
    let path = format!("/Users/{user}");
    let before = app.snapshot();
    let r = patch_if(
        &app,
        &path,
        &ops(json!([{"op": "add", "path": "title", "value": "x"}])),
        "W/\"7\"",
    )
    .await;
    r.assert_error(412, None);
    let put = app
        .raw(
            app.client()
                .put(app.url(&path))
                .bearer_auth(&app.token)
                .header("if-match", "W/\"7\"")
                .header("content-type", "application/scim+json")
                .body(user_body("tagged").to_string()),
        )
        .await;
    put.assert_error(412, None);
    let del = app
        .raw(
            app.client()
                .delete(app.url(&path))
                .bearer_auth(&app.token)
                .header("if-match", "\"7\""),
        )
        .await;
    del.assert_error(412, None);
    assert_eq!(app.snapshot(), before);
    // The right tag (or *) passes.
    let ok = patch_if(
        &app,
        &path,
        &ops(json!([{"op": "add", "path": "title", "value": "x"}])),
        "W/\"1\"",
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    let ok = patch_if(
        &app,
        &path,
        &ops(json!([{"op": "add", "path": "title", "value": "y"}])),
        "*",
    )
    .await;
    assert_eq!(ok.header("etag"), Some("W/\"3\""));
    // If-None-Match: 304 while unchanged, 200 after a change.
    let cond = |tag: &str| {
        app.client()
            .get(app.url(&path))
            .bearer_auth(&app.token)
            .header("if-none-match", tag.to_string())
    };
    let r = app.raw(cond("W/\"3\"")).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert_eq!(r.header("etag"), Some("W/\"3\""));
    assert_eq!(app.raw(cond("W/\"2\"")).await.status, StatusCode::OK);
}

async fn two_writers_with_one_etag_exactly_one_wins(app: TestApp) {
    let user = id(&app.create_user("raced").await);
    let path = format!("/Users/{user}");
    let mut tasks = Vec::new();
    for i in 0..8 {
        let body = ops(json!([{"op": "replace", "path": "title", "value": format!("writer {i}")}]));
        let req = app
            .client()
            .patch(app.url(&path))
            .bearer_auth(&app.token)
            .header("if-match", "W/\"1\"")
            .header("content-type", "application/scim+json")
            .body(body.to_string());
        tasks.push(tokio::spawn(
            async move { req.send().await.unwrap().status() },
        ));
    }
    let mut won = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => won += 1,
            StatusCode::PRECONDITION_FAILED => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((won, refused), (1, 7));
    assert_eq!(app.get(&path).await.body["meta"]["version"], "W/\"2\"");
}

async fn concurrent_member_adds_lose_nothing(app: TestApp) {
    let group = id(&app.create_group("Crowd", &[]).await);
    let mut users = Vec::new();
    for i in 0..32 {
        users.push(id(&app.create_user(&format!("crowd{i}")).await));
    }
    let mut tasks = Vec::new();
    for u in &users {
        let body = ops(json!([{"op": "add", "path": "members", "value": [{"value": u}]}]));
        let req = app
            .client()
            .patch(app.url(&format!("/Groups/{group}")))
            .bearer_auth(&app.token)
            .header("content-type", "application/scim+json")
            .body(body.to_string());
        tasks.push(tokio::spawn(
            async move { req.send().await.unwrap().status() },
        ));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::NO_CONTENT);
    }
    let g = app.get(&format!("/Groups/{group}")).await.body;
    assert_eq!(g["members"].as_array().unwrap().len(), 32);
    assert_eq!(
        g["meta"]["version"], "W/\"33\"",
        "every add is its own version"
    );
}

on_both_backends!(
    entra_user_patches,
    bad_patches_change_nothing,
    group_member_patches,
    etags_guard_writes,
    two_writers_with_one_etag_exactly_one_wins,
    concurrent_member_adds_lose_nothing,
);
