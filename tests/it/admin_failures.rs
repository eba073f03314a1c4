//! The failure queue and quarantine over the admin API: list (all or one
//! target), retry one or all, discard, release; unknown ids are 404 and
//! change nothing.

use chrono::Utc;
use reqwest::Method;
use scimhub::crypto::SecretKey;
use scimhub::provision::target::{self, Credentials, NewTarget, TargetSettings};
use scimhub::store::diesel::DieselStore;
use scimhub::store::{QueueRecord, SyncStore};
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::TestApp;

fn add_target(db: &DieselStore, name: &str) -> String {
    target::add(
        db,
        Some(&SecretKey([1; 32])),
        NewTarget {
            name: name.into(),
            base_url: "https://app.example/scim/v2".into(),
            credentials: Credentials::Bearer { token: "t".into() },
            mapping: None,
            scope: None,
            settings: TargetSettings::default(),
        },
    )
    .unwrap();
    // Worker tests follow the change log from its start.
    target::resume(db, name, 0).unwrap();
    db.find_target(name).unwrap().unwrap().id
}

fn entry(target_id: &str, local_id: &str, status: &str) -> QueueRecord {
    let later = Utc::now() + chrono::Duration::hours(1);
    QueueRecord {
        id: format!("f-{local_id}"),
        target_id: target_id.into(),
        resource_type: "User".into(),
        local_id: local_id.into(),
        operation: "create".into(),
        payload: Some(json!({"userName": local_id}).to_string()),
        status: status.into(),
        attempts: 3,
        next_attempt: later,
        last_status: Some(400),
        last_error: "the target said no".into(),
        created: Utc::now(),
        updated: Utc::now(),
    }
}

async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
) -> crate::support::app::Response {
    app.send(method, &format!("/admin/v1{path}"), Some(token), None)
        .await
}

async fn failures_and_quarantine_over_http(app: TestApp) {
    let db = DieselStore::open(&app.database_url, 2).unwrap();
    let (crm, hr) = (add_target(&db, "crm"), add_target(&db, "hr"));
    db.queue_put(&entry(&crm, "a", "permanent")).unwrap();
    db.queue_put(&entry(&crm, "b", "retrying")).unwrap();
    db.queue_put(&entry(&hr, "c", "permanent")).unwrap();
    let admin = app.token_with("admin", &["admin"]);

    let all = call(&app, &admin, Method::GET, "/failures").await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(all.body["failures"].as_array().unwrap().len(), 3);
    let crm_only = call(&app, &admin, Method::GET, "/failures?target=crm").await;
    let listed: Vec<&Value> = crm_only.body["failures"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|f| f["target"] == "crm" && f["lastStatus"] == 400)
    );
    assert_eq!(listed[0]["payload"]["userName"], listed[0]["localId"]);
    call(&app, &admin, Method::GET, "/failures?target=nope")
        .await
        .assert_error(404, None);

    // Unknown ids: 404, nothing changed.
    let before = db.queue_list(None).unwrap();
    call(&app, &admin, Method::POST, "/failures/missing/retry")
        .await
        .assert_error(404, None);
    call(&app, &admin, Method::DELETE, "/failures/missing")
        .await
        .assert_error(404, None);
    assert_eq!(db.queue_list(None).unwrap(), before);

    // Retry one: due now and retrying again (a permanent one too).
    let r = call(&app, &admin, Method::POST, "/failures/f-a/retry").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let a = db.queue_get("f-a").unwrap().unwrap();
    assert_eq!(a.status, "retrying");
    assert!(a.next_attempt <= Utc::now());
    let c = db.queue_get("f-c").unwrap().unwrap();
    assert_eq!(c.status, "permanent", "other entries untouched");

    // Retry all of one target.
    let r = call(&app, &admin, Method::POST, "/failures/retry?target=hr").await;
    assert_eq!(r.body["retrying"], 1);
    assert_eq!(db.queue_get("f-c").unwrap().unwrap().status, "retrying");

    let r = call(&app, &admin, Method::DELETE, "/failures/f-b").await;
    assert_eq!(r.status, 204);
    assert!(db.queue_get("f-b").unwrap().is_none());

    // Release.
    db.set_quarantine(&crm, Some("the target refused the credentials (401)"))
        .unwrap();
    let r = call(&app, &admin, Method::POST, "/targets/crm/release").await;
    assert_eq!(r.body["released"], true, "{}", r.text);
    assert!(db.quarantine(&crm).unwrap().is_none());
    let r = call(&app, &admin, Method::POST, "/targets/crm/release").await;
    assert_eq!(r.body["released"], false);
    call(&app, &admin, Method::POST, "/targets/nope/release")
        .await
        .assert_error(404, None);

    // The SCIM token has no admin scope.
    let token = app.token.clone();
    call(&app, &token, Method::GET, "/failures")
        .await
        .assert_error(403, None);
}

/// A target's status counts its queue and shows the error of the entry
/// updated last, whatever order the entries were queued in.
async fn target_status_counts_the_queue_and_shows_its_newest_error(app: TestApp) {
    let db = DieselStore::open(&app.database_url, 2).unwrap();
    let (crm, hr) = (add_target(&db, "crm"), add_target(&db, "hr"));
    add_target(&db, "idle");
    let at = |minutes: i64| Utc::now() - chrono::Duration::minutes(minutes);
    for (local_id, updated, error) in [("a", 30, "old"), ("b", 1, "newest"), ("c", 10, "middle")] {
        let mut e = entry(&crm, local_id, "retrying");
        (e.updated, e.last_error) = (at(updated), error.to_string());
        db.queue_put(&e).unwrap();
    }
    db.queue_put(&entry(&hr, "d", "permanent")).unwrap();
    let admin = app.token_with("admin", &["admin"]);

    let crm_status = call(&app, &admin, Method::GET, "/targets/crm").await;
    assert_eq!(crm_status.status, 200, "{}", crm_status.text);
    assert_eq!(crm_status.body["status"]["queueDepth"], 3);
    assert_eq!(crm_status.body["status"]["lastError"], "newest");
    let hr_status = call(&app, &admin, Method::GET, "/targets/hr").await;
    assert_eq!(hr_status.body["status"]["queueDepth"], 1);
    assert_eq!(hr_status.body["status"]["lastError"], "the target said no");
    let idle = call(&app, &admin, Method::GET, "/targets/idle").await;
    assert_eq!(idle.body["status"]["queueDepth"], 0);
    assert!(
        idle.body["status"].get("lastError").is_none(),
        "{}",
        idle.text
    );

    // Draining an entry lowers the depth; the listing agrees.
    db.queue_remove_id("f-b").unwrap();
    let crm_status = call(&app, &admin, Method::GET, "/targets/crm").await;
    assert_eq!(crm_status.body["status"]["queueDepth"], 2);
    assert_eq!(crm_status.body["status"]["lastError"], "middle");
    let listed = call(&app, &admin, Method::GET, "/targets").await;
    let depths: Vec<(&str, i64)> = listed.body["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["status"]["queueDepth"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(depths, [("crm", 2), ("hr", 1), ("idle", 0)]);
}

on_both_backends!(
    failures_and_quarantine_over_http,
    target_status_counts_the_queue_and_shows_its_newest_error
);
