//! `scimhub backup` of a live SQLite store under write load, and `restore`
//! into an empty one, with nothing acknowledged lost.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use crate::support::live::LiveServer;
use crate::support::{Backend, TestApp, eventually, user_body};

fn names(app_users: &serde_json::Value) -> BTreeSet<String> {
    app_users["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_string())
        .collect()
}

async fn reader(db: &str) -> TestApp {
    let url = db.to_string();
    TestApp::start_with(Backend::Sqlite, move |c| c.database_url = url)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_restores_everything_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("live.db").display());
    let server = LiveServer::start(&db, &[]);
    let token = server
        .cli_ok(&["token", "create", "--name", "loader"])
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (acked, stop, base) = (acknowledged.clone(), stop.clone(), server.base.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let name = format!("load{i:05}");
                let r = client
                    .post(format!("{base}/scim/v2/Users"))
                    .bearer_auth(&token)
                    .header("content-type", "application/scim+json")
                    .body(user_body(&name).to_string())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                acked.lock().unwrap().push(name);
                i += 1;
            }
        })
    };
    eventually("some writes", || async {
        (acknowledged.lock().unwrap().len() >= 50).then_some(())
    })
    .await;
    let before: BTreeSet<String> = acknowledged.lock().unwrap().iter().cloned().collect();
    let file = dir.path().join("backup.db");
    let file_arg = file.to_str().unwrap();
    let out = server.cli_ok(&["backup", file_arg]);
    assert!(out.contains("Backed up"), "{out}");
    let during = acknowledged.lock().unwrap().len();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.unwrap();
    assert!(during > before.len(), "writes went on during the backup");

    // A second backup into the same file is refused and leaves it alone.
    let size = std::fs::metadata(&file).unwrap().len();
    let again = server.cli(&["backup", file_arg]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::metadata(&file).unwrap().len(), size);

    let restored_db = format!("sqlite://{}", dir.path().join("restored.db").display());
    let out = crate::support::live::scimhub()
        .args(["restore", file_arg, "--database", &restored_db])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = reader(&restored_db).await;
    let users = names(&restored.get("/Users?count=100000").await.body);
    assert!(
        before.is_subset(&users),
        "acknowledged before the backup: all there"
    );
    let all: BTreeSet<String> = acknowledged.lock().unwrap().iter().cloned().collect();
    assert!(users.is_subset(&all), "nothing that was not written");
    assert!(text.contains(&format!("{} users", users.len())), "{text}");

    // Restoring over a store that holds data is refused, and changes nothing.
    let live = reader(&db).await;
    let live_count = names(&live.get("/Users?count=100000").await.body).len();
    let refused = crate::support::live::scimhub()
        .args(["restore", file_arg, "--database", &db])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("empty store"));
    let after = names(&live.get("/Users?count=100000").await.body).len();
    assert_eq!(after, live_count);
}

#[test]
fn restore_refuses_what_is_not_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, just text").unwrap();
    let target = dir.path().join("new.db");
    let out = crate::support::live::scimhub()
        .args([
            "restore",
            junk.to_str().unwrap(),
            "--database",
            &format!("sqlite://{}", target.display()),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("junk.db"), "{err}");
    assert!(!target.exists(), "nothing written");
}
