//! Real-time incremental sync: workers follow the change log into a second
//! scimhub (scope moves, memberships, deletions, coalesced bursts), queue
//! failures for retry, quarantine a target that refuses credentials and
//! deliver what waited after release, and share targets across instances.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use scimhub::provision::target::{self, Credentials, NewTarget, TargetSettings};
use scimhub::provision::worker::{WorkerContext, Workers};
use scimhub::settings::SyncWorkerConfig;
use scimhub::store::SyncStore;
use scimhub::store::diesel::DieselStore;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::on_both_backends;
use crate::support::{Backend, TestApp, eventually};
use crate::sync::{Rig, create_user, key, rig_with};
use crate::sync_faults::{empty_list, error, mock_target, scim};

fn fast() -> SyncWorkerConfig {
    SyncWorkerConfig {
        poll_ms: 20,
        coalesce_ms: 30,
        lease_secs: 2,
        probe_secs: 1,
        retry_base_secs: 1,
        retry_cap_secs: 1,
        ..SyncWorkerConfig::default()
    }
}

fn workers(db: &Arc<DieselStore>) -> Workers {
    let ctx = WorkerContext::new(db.clone(), db.clone(), Some(key()), fast());
    Workers::start(ctx).unwrap()
}

async fn remote_user(app: &TestApp, user_name: &str) -> Option<Value> {
    let r = app
        .get(&format!("/Users?filter=userName eq \"{user_name}\""))
        .await;
    r.body["Resources"].get(0).cloned()
}

async fn patch(app: &TestApp, path: &str, op: Value) {
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [op]});
    let r = app
        .send(
            Method::PATCH,
            path,
            Some(&app.token),
            Some(body.to_string().into_bytes()),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
}

async fn changes_reach_the_target(source: TestApp) {
    let scope = r#"not (title eq "contractor")"#;
    let rig: Rig = rig_with(source, None, Some(scope), TargetSettings::default()).await;
    let running = workers(&rig.db);
    let one = create_user(&rig.source, "rt-1", None).await;
    let target = &rig.target;
    eventually("rt-1 downstream", || remote_user(target, "rt-1")).await;

    // Leaving the scope deactivates downstream.
    patch(
        &rig.source,
        &format!("/Users/{one}"),
        json!({"op": "replace", "path": "title", "value": "contractor"}),
    )
    .await;
    eventually("rt-1 deactivated", || async {
        remote_user(target, "rt-1")
            .await
            .filter(|u| u["active"] == false)
    })
    .await;

    // Memberships follow through the id map.
    let two = create_user(&rig.source, "rt-2", None).await;
    rig.source.create_group("rt-g", &[&two]).await;
    let remote_two = eventually("rt-2 downstream", || remote_user(target, "rt-2")).await;
    eventually("rt-g with its member", || async {
        let r = target.get("/Groups?filter=displayName eq \"rt-g\"").await;
        let g = r.body["Resources"].get(0).cloned()?;
        (g["members"][0]["value"] == remote_two["id"]).then_some(())
    })
    .await;

    // Deletion deactivates (the default deprovision mode).
    assert_eq!(
        rig.source.delete(&format!("/Users/{two}")).await.status,
        204
    );
    eventually("rt-2 deactivated", || async {
        remote_user(target, "rt-2")
            .await
            .filter(|u| u["active"] == false)
    })
    .await;
    running.stop();
    let t = rig.db.find_target("downstream").unwrap().unwrap();
    assert_eq!(t.change_cursor, rig.source.store.latest_change().unwrap());
}

/// Joining a target's scope group changes the user's `groups`, so the
/// worker provisions the user at once; leaving it deactivates the user.
async fn joining_a_scope_group_provisions_the_user(source: TestApp) {
    let staff = source.create_group("Staff", &[]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let settings = TargetSettings {
        scope_groups: vec!["Staff".into()],
        ..TargetSettings::default()
    };
    let rig = rig_with(source, None, None, settings).await;
    let running = workers(&rig.db);
    let ann = create_user(&rig.source, "sg-ann", None).await;
    let latest = rig.source.store.latest_change().unwrap();
    eventually("the worker past sg-ann's creation", || async {
        let t = rig.db.find_target("downstream").unwrap()?;
        (t.change_cursor >= latest).then_some(())
    })
    .await;
    let target = &rig.target;
    assert!(
        remote_user(target, "sg-ann").await.is_none(),
        "not in scope yet"
    );

    let staff_path = format!("/Groups/{staff}");
    patch(
        &rig.source,
        &staff_path,
        json!({"op": "add", "path": "members", "value": [{"value": ann}]}),
    )
    .await;
    eventually("sg-ann downstream", || remote_user(target, "sg-ann")).await;

    patch(
        &rig.source,
        &staff_path,
        json!({"op": "remove", "path": format!("members[value eq \"{ann}\"]")}),
    )
    .await;
    eventually("sg-ann deactivated", || async {
        remote_user(target, "sg-ann")
            .await
            .filter(|u| u["active"] == false)
    })
    .await;
    running.stop();
}

/// Ten changes to one user while no worker runs become one write.
async fn bursts_coalesce_into_one_write(source: TestApp) {
    let rig = rig_with(source, None, None, TargetSettings::default()).await;
    let id = create_user(&rig.source, "burst", None).await;
    let running = workers(&rig.db);
    let target = &rig.target;
    let remote = eventually("burst downstream", || remote_user(target, "burst")).await;
    running.stop();
    let before = target.store.latest_change().unwrap();
    for i in 0..10 {
        patch(
            &rig.source,
            &format!("/Users/{id}"),
            json!({"op": "replace", "path": "displayName", "value": format!("v{i}")}),
        )
        .await;
    }
    let running = workers(&rig.db);
    eventually("the last value downstream", || async {
        remote_user(target, "burst")
            .await
            .filter(|u| u["displayName"] == "v9")
    })
    .await;
    running.stop();
    let writes: Vec<_> = target
        .store
        .changes_after(before, 100)
        .unwrap()
        .into_iter()
        .filter(|c| c.resource_id == remote["id"].as_str().unwrap())
        .collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
}

/// Answers a create with an id made from the userName.
struct Echo;

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let name = body["userName"].as_str().unwrap_or("x");
        scim(201, json!({"id": format!("r-{name}"), "userName": name}))
    }
}

pub async fn mount_echo(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(Echo)
        .with_priority(5)
        .mount(server)
        .await;
}

async fn source_with_mock(
    source: TestApp,
    server: &MockServer,
) -> (TestApp, Arc<DieselStore>, String) {
    let db = Arc::new(DieselStore::open(&source.database_url, 4).unwrap());
    target::add(
        db.as_ref(),
        Some(&key()),
        NewTarget {
            name: "mock".into(),
            base_url: format!("{}/scim/v2", server.uri()),
            credentials: Credentials::Bearer { token: "t".into() },
            mapping: None,
            scope: None,
            settings: TargetSettings {
                resource_types: vec!["Users".into()],
                ..TargetSettings::default()
            },
        },
    )
    .unwrap();
    // Worker tests follow the change log from its start.
    target::resume(db.as_ref(), "mock", 0).unwrap();
    let id = db.find_target("mock").unwrap().unwrap().id;
    (source, db, id)
}

fn posts_for(requests: &[Request], user_name: &str) -> usize {
    requests
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .filter(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap_or_default()["userName"] == user_name
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_queue_quarantine_and_delivery_after_release() {
    let server = mock_target().await;
    for (user, status) in [("flaky", 500), ("refused", 400)] {
        Mock::given(method("POST"))
            .and(path("/scim/v2/Users"))
            .and(wiremock::matchers::body_partial_json(
                json!({"userName": user}),
            ))
            .respond_with(error(status, "invalidValue", &format!("{user} says no")))
            .with_priority(1)
            .mount(&server)
            .await;
    }
    mount_echo(&server).await;
    let source = TestApp::start(Backend::Sqlite).await.unwrap();
    let (source, db, target_id) = source_with_mock(source, &server).await;
    for name in ["good-1", "flaky", "refused", "good-2"] {
        source.create_user(name).await;
    }
    let running = workers(&db);
    // One failing object never blocks the others.
    eventually("good users linked", || async {
        (db.links(&target_id, "User").unwrap().len() == 2).then_some(())
    })
    .await;
    let entries = eventually("both failures queued", || async {
        let q = db.queue_list(Some(&target_id)).unwrap();
        (q.len() == 2 && q.iter().any(|e| e.attempts >= 2)).then_some(q)
    })
    .await;
    let refused = entries.iter().find(|e| e.last_status == Some(400)).unwrap();
    assert_eq!(
        (refused.status.as_str(), refused.attempts),
        ("permanent", 1)
    );
    assert!(
        refused.last_error.contains("refused says no"),
        "{refused:?}"
    );
    let flaky = entries.iter().find(|e| e.last_status != Some(400)).unwrap();
    assert_eq!(flaky.status, "retrying");
    assert_eq!(flaky.operation, "create");

    // The target starts refusing the credentials: quarantine.
    server.reset().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(error(401, "", "token revoked"))
        .mount(&server)
        .await;
    source.create_user("late").await;
    eventually("quarantine", || async {
        db.quarantine(&target_id).unwrap()
    })
    .await;
    let cursor_in_quarantine = db.find_target("mock").unwrap().unwrap().change_cursor;
    assert!(cursor_in_quarantine < source.store.latest_change().unwrap());

    // It recovers: the probe releases it and what waited is delivered, and
    // the transient failure is retried to success.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim(200, empty_list()))
        .mount(&server)
        .await;
    mount_echo(&server).await;
    eventually("release and delivery", || async {
        let linked = db.links(&target_id, "User").unwrap();
        (db.quarantine(&target_id).unwrap().is_none() && linked.len() == 4).then_some(())
    })
    .await;
    running.stop();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(posts_for(&requests, "late"), 1);
    // Only the permanent failure is left, waiting for an admin.
    let left = db.queue_list(Some(&target_id)).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].last_status, Some(400));
}

/// Two instances on one database (PostgreSQL is the scale-out case).
async fn two_instances_deliver_each_change_once(source: TestApp) {
    let server = mock_target().await;
    mount_echo(&server).await;
    let (source, db, target_id) = source_with_mock(source, &server).await;
    let first = workers(&db);
    let second = workers(&db);
    for i in 0..30 {
        source.create_user(&format!("pair-{i}")).await;
    }
    eventually("all delivered", || async {
        (db.links(&target_id, "User").unwrap().len() == 30).then_some(())
    })
    .await;
    // The lease holder stops; the other takes over once the lease expires.
    first.stop();
    source.create_user("after-handover").await;
    eventually("delivered by the other instance", || async {
        (db.links(&target_id, "User").unwrap().len() == 31).then_some(())
    })
    .await;
    second.stop();
    let requests = server.received_requests().await.unwrap();
    for i in 0..30 {
        assert_eq!(posts_for(&requests, &format!("pair-{i}")), 1, "pair-{i}");
    }
    assert_eq!(posts_for(&requests, "after-handover"), 1);
}

#[test]
fn leases_exclude_other_holders_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let db = DieselStore::open(
        &format!("sqlite://{}", dir.path().join("l.db").display()),
        2,
    )
    .unwrap();
    let ttl = chrono::Duration::milliseconds(300);
    assert!(db.try_lease("worker:t", "a", ttl).unwrap());
    assert!(!db.try_lease("worker:t", "b", ttl).unwrap());
    assert!(
        db.try_lease("worker:t", "a", ttl).unwrap(),
        "the holder renews"
    );
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        db.try_lease("worker:t", "b", ttl).unwrap(),
        "an expired lease is taken over"
    );
    assert!(!db.try_lease("worker:t", "a", ttl).unwrap());
    db.release_lease("worker:t", "b").unwrap();
    assert!(db.try_lease("worker:t", "a", ttl).unwrap());
}

on_both_backends!(
    changes_reach_the_target,
    joining_a_scope_group_provisions_the_user,
    bursts_coalesce_into_one_write,
    two_instances_deliver_each_change_once,
);

/// An instance died holding the target's worker lease: nothing is pushed
/// until the lease expires, then a live instance takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_instances_lease_expires_and_another_takes_over() {
    let server = mock_target().await;
    mount_echo(&server).await;
    let source = TestApp::start(Backend::Sqlite).await.unwrap();
    let (source, db, target_id) = source_with_mock(source, &server).await;
    let lease = format!("worker:{target_id}");
    assert!(
        db.try_lease(&lease, "crashed-instance", chrono::Duration::seconds(3))
            .unwrap()
    );
    let running = workers(&db);
    source.create_user("waiting").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        db.links(&target_id, "User").unwrap().is_empty(),
        "pushed under another's lease"
    );
    eventually("delivery after the lease expired", || async {
        (db.links(&target_id, "User").unwrap().len() == 1).then_some(())
    })
    .await;
    running.stop();
}
