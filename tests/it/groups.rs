use reqwest::StatusCode;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{GROUP_SCHEMA, TestApp, group_body};

fn id(v: &serde_json::Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn members_are_rows_with_derived_user_groups(app: TestApp) {
    let ann = id(&app.create_user("ann").await);
    let bob = id(&app.create_user("bob").await);
    let inner = app.create_group("Engineering", &[&ann]).await;
    let inner_id = id(&inner);
    assert_eq!(inner["members"][0]["value"], ann.as_str());
    assert_eq!(inner["members"][0]["type"], "User");
    assert!(
        inner["members"][0].get("display").is_none(),
        "members come back as sent"
    );
    assert!(
        inner["members"][0]["$ref"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/Users/{ann}"))
    );

    let outer = app.create_group("Everyone", &[&inner_id, &bob]).await;
    let outer_id = id(&outer);
    let kinds: Vec<(&str, &str)> = outer["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["value"].as_str().unwrap(), m["type"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&(inner_id.as_str(), "Group")));
    assert!(kinds.contains(&(bob.as_str(), "User")));

    let user = app.get(&format!("/Users/{ann}")).await.body;
    let mut groups: Vec<(String, String)> = user["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["value"].as_str().unwrap().to_string(),
                g["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    groups.sort();
    let mut expected = vec![
        (inner_id.clone(), "direct".to_string()),
        (outer_id.clone(), "indirect".to_string()),
    ];
    expected.sort();
    assert_eq!(groups, expected);

    // groups is readOnly: a PUT cannot change it.
    let mut put = crate::support::user_body("ann");
    put["groups"] = json!([]);
    let after = app.put(&format!("/Users/{ann}"), &put).await;
    assert_eq!(after.body["groups"].as_array().unwrap().len(), 2);
}

async fn put_replaces_members_and_bumps_version(app: TestApp) {
    let a = id(&app.create_user("a").await);
    let b = id(&app.create_user("b").await);
    let g = app.create_group("Team", &[&a]).await;
    let gid = id(&g);
    let put = app
        .put(
            &format!("/Groups/{gid}"),
            &group_body("Team Renamed", &[&b]),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.body["displayName"], "Team Renamed");
    assert_eq!(
        put.body["members"],
        json!([{
            "value": b, "$ref": put.body["members"][0]["$ref"], "type": "User"
        }])
    );
    assert_eq!(put.body["meta"]["version"], "W/\"2\"");
    let a_groups = app.get(&format!("/Users/{a}")).await.body;
    assert!(a_groups.get("groups").is_none(), "a left the group");
}

async fn deleting_a_member_removes_its_memberships(app: TestApp) {
    let a = id(&app.create_user("a").await);
    let b = id(&app.create_user("b").await);
    let inner = id(&app.create_group("Inner", &[&a]).await);
    let g = id(&app.create_group("G", &[&a, &b, &inner]).await);
    assert_eq!(
        app.delete(&format!("/Users/{a}")).await.status,
        StatusCode::NO_CONTENT
    );
    let group = app.get(&format!("/Groups/{g}")).await.body;
    let members: Vec<&str> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members.len(), 2);
    assert!(!members.contains(&a.as_str()));
    assert_eq!(
        group["meta"]["version"], "W/\"2\"",
        "membership change bumps the version"
    );

    assert_eq!(
        app.delete(&format!("/Groups/{inner}")).await.status,
        StatusCode::NO_CONTENT
    );
    let group = app.get(&format!("/Groups/{g}")).await.body;
    assert_eq!(group["members"].as_array().unwrap().len(), 1);
    assert_eq!(group["members"][0]["value"], b.as_str());
    assert!(
        app.get(&format!("/Users/{b}"))
            .await
            .body
            .get("groups")
            .is_some()
    );
}

async fn nested_groups_cannot_form_a_cycle(app: TestApp) {
    let a = id(&app.create_group("A", &[]).await);
    let b = id(&app.create_group("B", &[&a]).await);
    let c = id(&app.create_group("C", &[&b]).await);
    let before = app.snapshot();
    app.put(&format!("/Groups/{a}"), &group_body("A", &[&c]))
        .await
        .assert_error(400, Some("invalidValue"));
    app.put(&format!("/Groups/{a}"), &group_body("A", &[&a]))
        .await
        .assert_error(400, Some("invalidValue"));
    assert_eq!(app.snapshot(), before);
}

async fn group_list_and_extra_schemas(app: TestApp) {
    // Entra sends unknown extra schema URIs on POST /Groups.
    let r = app
        .post(
            "/Groups",
            &json!({"schemas": [GROUP_SCHEMA, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                    "displayName": "Sales", "externalId": "e-1", "members": []}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["schemas"], json!([GROUP_SCHEMA]));
    assert_eq!(r.body["externalId"], "e-1");
    app.create_group("Support", &[]).await;
    let list = app.get("/Groups?startIndex=1&count=100").await;
    assert_eq!(list.body["totalResults"], 2);
    let mut names = [0, 1].map(|i| list.body["Resources"][i]["displayName"].clone());
    names.sort_by_key(|n| n.to_string());
    assert_eq!(names, [json!("Sales"), json!("Support")]);
}

on_both_backends!(
    members_are_rows_with_derived_user_groups,
    put_replaces_members_and_bumps_version,
    deleting_a_member_removes_its_memberships,
    nested_groups_cannot_form_a_cycle,
    group_list_and_extra_schemas,
);
