//! `scimhub serve` runs sources on their schedule and imports the files
//! dropped into a watched directory (then moved to processed/ or failed/).

use reqwest::Method;
use serde_json::Value;

use crate::lifecycle::Source as Hub;
use crate::on_both_backends;
use crate::support::{TestApp, eventually};

async fn user_named(hub: &Hub, name: &str) -> Option<Value> {
    let list = hub
        .send(
            Method::GET,
            &format!("/Users?filter=userName%20eq%20%22{name}%22"),
            None,
        )
        .await;
    list["Resources"].as_array()?.first().cloned()
}

async fn serve_runs_schedules_and_watches_a_directory(app: TestApp) {
    let Some(hub) = Hub::start(app.backend) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people.csv");
    std::fs::write(&people, "externalId,userName,name.familyName\n1,ann,Lee\n").unwrap();
    hub.server.cli_ok(&[
        "source",
        "add",
        "--name",
        "sched",
        "--kind",
        "file",
        "--path",
        &people.to_string_lossy(),
        "--schedule",
        "1",
    ]);
    eventually("the scheduled import", || async {
        user_named(&hub, "ann").await
    })
    .await;
    std::fs::write(
        &people,
        "externalId,userName,name.familyName\n1,ann,Lee-Smith\n",
    )
    .unwrap();
    eventually("the next scheduled import", || async {
        let ann = user_named(&hub, "ann").await?;
        (ann["name"]["familyName"] == "Lee-Smith").then_some(())
    })
    .await;

    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    hub.server.cli_ok(&[
        "source",
        "add",
        "--name",
        "inbox",
        "--kind",
        "file",
        "--watch-dir",
        &inbox.to_string_lossy(),
    ]);
    std::fs::write(inbox.join("001.csv"), "externalId,userName\nw1,walter\n").unwrap();
    std::fs::write(inbox.join("002.csv"), b"externalId,userName\nw2,Ren\xE9\n").unwrap();
    eventually("the watched file's import", || async {
        user_named(&hub, "walter").await
    })
    .await;
    eventually("both files to be moved", || async {
        (inbox.join("processed/001.csv").exists() && inbox.join("failed/002.csv").exists())
            .then_some(())
    })
    .await;
    assert!(!inbox.join("001.csv").exists());
    let runs = hub.server.cli_json(&["source", "runs", "inbox"]);
    let runs = runs["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r["trigger"] == "watch"));
    assert!(runs.iter().any(|r| r["status"] == "failed"));
    let scheduled = hub.server.cli_json(&["source", "runs", "sched"]);
    assert!(
        scheduled["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["trigger"] == "schedule")
    );
}

on_both_backends!(serve_runs_schedules_and_watches_a_directory);
