//! Crash safety: `kill -9` of `scimhub sync run` in the middle of 5,000
//! users, then a rerun: every user reaches the target exactly once (the id
//! map and matching make the retry idempotent; no duplicate creates).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Backend, TestApp};
use crate::sync::{key, rig_with};
use scimhub::provision::target::TargetSettings;
use scimhub::store::SyncStore;

const USERS: usize = 5000;

async fn seed(app: &TestApp) {
    for chunk in 0..USERS / 1000 {
        let ops: Vec<_> = (0..1000)
            .map(|i| {
                let n = chunk * 1000 + i;
                json!({"method": "POST", "bulkId": format!("u{n}"), "path": "/Users",
                    "data": crate::support::user_body(&format!("crash-{n}"))})
            })
            .collect();
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops});
        let r = app.post("/Bulk", &body).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

fn sync_run(database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimhub"));
    cmd.env_remove("SCIMHUB_DATABASE_URL")
        .env("SCIMHUB_SECRET_KEY", hex::encode(key().0))
        .env("SCIMHUB_LOG", "warn")
        // The killed run's lease must expire before the rerun may start.
        .env("SCIMHUB_SYNC_RUN_LEASE_SECS", "2")
        .args([
            "sync",
            "run",
            "downstream",
            "--json",
            "--database",
            database_url,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

async fn remote_count(target: &TestApp) -> u64 {
    target.get("/Users?count=1").await.body["totalResults"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sync_run_resumes_without_duplicates() {
    let source = TestApp::start(Backend::Sqlite).await.unwrap();
    seed(&source).await;
    let rig = rig_with(source, None, None, TargetSettings::default()).await;

    let mut child = sync_run(&rig.source.database_url).spawn().unwrap();
    let start = Instant::now();
    loop {
        let n = remote_count(&rig.target).await;
        if n >= 500 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the run made no progress"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = remote_count(&rig.target).await;
    assert!(
        at_kill < USERS as u64,
        "killed too late to prove anything ({at_kill})"
    );

    // At once, the dead run's lease still holds the target…
    let early = sync_run(&rig.source.database_url).output().unwrap();
    assert!(!early.status.success());
    assert!(String::from_utf8_lossy(&early.stderr).contains("already in progress"));
    // …until it expires.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let out = sync_run(&rig.source.database_url).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let counts = &report["counts"];
    // Accounts created before the kill but not yet in the id map are
    // matched and linked (counted as unchanged and linked), not re-created.
    let covered = counts["created"].as_u64().unwrap()
        + counts["updated"].as_u64().unwrap()
        + counts["unchanged"].as_u64().unwrap();
    assert_eq!(covered, USERS as u64, "{counts}");
    assert_eq!(counts["failed"], 0);

    // Exactly one account per user, each created exactly once.
    assert_eq!(remote_count(&rig.target).await, USERS as u64);
    let creates = rig
        .target
        .store
        .changes_after(0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|c| c.resource_type == "User" && c.operation == "create")
        .count();
    assert_eq!(creates, USERS);
    let target = rig.db.find_target("downstream").unwrap().unwrap();
    let links = rig.db.links(&target.id, "User").unwrap();
    assert_eq!(links.len(), USERS);
}
