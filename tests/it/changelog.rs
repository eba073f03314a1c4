use crate::on_both_backends;
use crate::support::{TestApp, user_body};

async fn every_write_appends_a_change_in_order(app: TestApp) {
    let user = app.create_user("logged").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.put(&format!("/Users/{user}"), &{
        let mut b = user_body("logged");
        b["title"] = serde_json::json!("Changed");
        b
    })
    .await;
    let group = app.create_group("Logged", &[&user]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.delete(&format!("/Users/{user}")).await;
    app.delete(&format!("/Groups/{group}")).await;

    let changes = app.store.changes_after(0, 100).unwrap();
    let summary: Vec<(&str, &str, &str, i64)> = changes
        .iter()
        .map(|c| {
            (
                c.resource_type.as_str(),
                c.resource_id.as_str(),
                c.operation.as_str(),
                c.version,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("User", user.as_str(), "create", 1),
            ("User", user.as_str(), "replace", 2),
            ("User", user.as_str(), "update", 3), // its groups changed…
            ("Group", group.as_str(), "create", 1), // …as the group came (members first)
            ("Group", group.as_str(), "update", 2), // lost its member
            ("User", user.as_str(), "delete", 4), // tombstone
            ("Group", group.as_str(), "delete", 3),
        ]
    );
    assert!(
        changes.windows(2).all(|w| w[0].seq < w[1].seq),
        "monotonic sequence"
    );
    assert!(changes.iter().all(|c| c.actor == "test-admin"));
    assert!(
        changes
            .windows(2)
            .all(|w| w[0].changed_at <= w[1].changed_at)
    );
    let after_third = app.store.changes_after(changes[2].seq, 100).unwrap();
    assert_eq!(after_third.len(), 4);
}

on_both_backends!(every_write_appends_a_change_in_order);
