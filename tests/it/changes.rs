//! The downstream pull API over the change log.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::TestApp;

fn ops(body: &Value) -> Vec<(String, String)> {
    body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["operation"].as_str().unwrap().to_string(),
                c["resourceType"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn pull_changes_in_order_with_tombstones(app: TestApp) {
    let kept = app.create_user("kept").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let gone = app.create_user("gone").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "title", "value": "Now"}]});
    app.send(
        Method::PATCH,
        &format!("/Users/{kept}"),
        Some(&app.token),
        Some(patch.to_string().into_bytes()),
    )
    .await;
    app.delete(&format!("/Users/{gone}")).await;

    let reader = app.token_with("puller", &["scim:read"]);
    let all = app.send(Method::GET, "/Changes", Some(&reader), None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(
        ops(&all.body),
        vec![
            ("create".into(), "User".into()),
            ("create".into(), "User".into()),
            ("patch".into(), "User".into()),
            ("delete".into(), "User".into())
        ]
    );
    let changes = all.body["changes"].as_array().unwrap();
    assert_eq!(
        changes[0]["resource"]["title"], "Now",
        "upserts carry the resource as it is now"
    );
    assert!(
        changes[1]["resource"].is_null() && changes[3]["resource"].is_null(),
        "deleted: tombstones"
    );
    assert_eq!(changes[3]["id"], gone.as_str());

    // Paging by cursor; an exhausted cursor stays put.
    let first = app.get("/Changes?count=3").await;
    assert_eq!(first.body["changes"].as_array().unwrap().len(), 3);
    let next = first.body["nextCursor"].as_str().unwrap().to_string();
    let rest = app.get(&format!("/Changes?since={next}")).await;
    assert_eq!(ops(&rest.body), vec![("delete".into(), "User".into())]);
    let end = rest.body["nextCursor"].as_str().unwrap().to_string();
    let none = app.get(&format!("/Changes?since={end}")).await;
    assert_eq!(none.body["changes"], json!([]));
    assert_eq!(none.body["nextCursor"], end.as_str());

    // `latest` skips history.
    let latest = app.get("/Changes?since=latest").await;
    assert_eq!(latest.body["changes"], json!([]));
    app.create_user("after").await;
    let after = app
        .get(&format!(
            "/Changes?since={}",
            latest.body["nextCursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(ops(&after.body), vec![("create".into(), "User".into())]);

    app.get("/Changes?since=abc")
        .await
        .assert_error(400, Some("invalidValue"));

    // After pruning, an old cursor is 410 and says what to do.
    let pruned = app
        .store
        .prune_changes(chrono::Utc::now() + chrono::Duration::seconds(5), false)
        .unwrap();
    assert!(pruned.removed >= 5);
    assert!(pruned.kept_for.is_empty(), "no consumer: {pruned:?}");
    let gone_cursor = app.get("/Changes?since=0").await;
    gone_cursor.assert_error(410, None);
    assert!(
        gone_cursor.body["detail"]
            .as_str()
            .unwrap()
            .contains("since=latest")
    );
    assert_eq!(
        app.get("/Changes?since=latest").await.status,
        StatusCode::OK
    );
}

on_both_backends!(pull_changes_in_order_with_tombstones);
