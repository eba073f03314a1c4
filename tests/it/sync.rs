//! Full sync runs into a second scimhub (a real SCIM server): creation with
//! managers three levels deep and nested groups, idempotent re-runs,
//! changes, the deletion guard with approval and rejection, dry runs and
//! per-object failures with the target's error.

use std::collections::HashMap;
use std::sync::Arc;

use reqwest::Method;
use scimhub::crypto::SecretKey;
use scimhub::provision::runs::{RunOptions, RunReport, RunStatus, SyncEngine};
use scimhub::provision::target::{self, Credentials, NewTarget, TargetSettings};
use scimhub::store::Store;
use scimhub::store::diesel::DieselStore;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{Backend, TestApp};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub fn key() -> SecretKey {
    SecretKey([7; 32])
}

/// A target scimhub and the source's engine with `target` registered.
pub struct Rig {
    pub source: TestApp,
    pub target: TestApp,
    pub engine: SyncEngine,
    pub db: Arc<DieselStore>,
}

async fn rig(source: TestApp, mapping: Option<&str>, settings: TargetSettings) -> Rig {
    rig_with(source, mapping, None, settings).await
}

pub async fn rig_with(
    source: TestApp,
    mapping: Option<&str>,
    scope: Option<&str>,
    settings: TargetSettings,
) -> Rig {
    let target = TestApp::start(Backend::Sqlite).await.unwrap();
    let db = Arc::new(DieselStore::open(&source.database_url, 2).unwrap());
    target::add(
        db.as_ref(),
        Some(&key()),
        NewTarget {
            name: "downstream".into(),
            base_url: format!("{}/scim/v2", target.base),
            credentials: Credentials::Bearer {
                token: target.token.clone(),
            },
            mapping: mapping.map(str::to_string),
            scope: scope.map(str::to_string),
            settings,
        },
    )
    .unwrap();
    // Worker tests follow the change log from its start.
    target::resume(db.as_ref(), "downstream", 0).unwrap();
    let engine = SyncEngine::new(db.clone() as Arc<dyn Store>, db.clone(), Some(key()));
    Rig {
        source,
        target,
        engine,
        db,
    }
}

impl Rig {
    async fn run(&self, dry_run: bool) -> RunReport {
        self.engine
            .run("downstream", RunOptions { dry_run }, None)
            .await
            .unwrap()
    }

    /// Every resource of a kind on the target, by id.
    pub async fn remote(&self, path: &str) -> HashMap<String, Value> {
        let r = self.target.get(&format!("{path}?count=10000")).await;
        r.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["id"].as_str().unwrap().to_string(), v.clone()))
            .collect()
    }
}

pub async fn create_user(app: &TestApp, name: &str, manager: Option<&str>) -> String {
    let mut body = crate::support::user_body(name);
    body["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]);
    body[ENTERPRISE] = json!({"employeeNumber": name});
    if let Some(m) = manager {
        body[ENTERPRISE]["manager"] = json!({"value": m});
    }
    let r = app.post("/Users", &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// 1 + 9 + 90 + `ics` users: managers three levels deep. Returns ids by userName.
async fn seed_org(app: &TestApp, ics: usize) -> Vec<(String, String)> {
    let mut users = vec![("ceo".to_string(), create_user(app, "ceo", None).await)];
    let mut level: Vec<String> = vec![users[0].1.clone()];
    for (depth, width) in [(1, 9), (2, 90)] {
        let mut next = Vec::new();
        for i in 0..width {
            let name = format!("l{depth}-{i}");
            let id = create_user(app, &name, Some(&level[i % level.len()])).await;
            users.push((name, id.clone()));
            next.push(id);
        }
        level = next;
    }
    for i in 0..ics {
        let name = format!("ic-{i}");
        let id = create_user(app, &name, Some(&level[i % level.len()])).await;
        users.push((name, id));
    }
    users
}

/// 20 groups: overlapping slices of users; groups 15..20 nest groups 0..5.
async fn seed_groups(app: &TestApp, users: &[(String, String)]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for g in 0..20usize {
        let mut members: Vec<&str> = users
            .iter()
            .enumerate()
            .filter(|(i, _)| (i + g) % 7 == 0 || i % 20 == g)
            .map(|(_, (_, id))| id.as_str())
            .collect();
        if g >= 15 {
            members.push(ids[g - 15].as_str());
        }
        let owned: Vec<String> = members.iter().map(|s| s.to_string()).collect();
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        let group = app.create_group(&format!("group-{g}"), &refs).await;
        ids.push(group["id"].as_str().unwrap().to_string());
    }
    ids
}

/// The source and the target agree: same userNames, active flags, managers
/// (by userName) and group members (by name).
async fn assert_converged(rig: &Rig) {
    let source_users = rig.source.get("/Users?count=10000").await.body["Resources"].clone();
    let remote_users = rig.remote("/Users").await;
    let name_of = |users: &HashMap<String, Value>, id: &str| {
        users[id]["userName"].as_str().unwrap().to_string()
    };
    let local_by_id: HashMap<String, Value> = source_users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["id"].as_str().unwrap().to_string(), u.clone()))
        .collect();
    let remote_by_name: HashMap<String, &Value> = remote_users
        .values()
        .map(|u| (u["userName"].as_str().unwrap().to_string(), u))
        .collect();
    for (id, u) in &local_by_id {
        let name = name_of(&local_by_id, id);
        let r = remote_by_name
            .get(&name)
            .unwrap_or_else(|| panic!("{name} missing downstream"));
        assert_eq!(r["displayName"], u["displayName"], "{name}");
        assert_eq!(r["active"], u["active"], "{name}");
        let local_manager = u[ENTERPRISE]["manager"]["value"].as_str();
        let remote_manager = r[ENTERPRISE]["manager"]["value"].as_str();
        assert_eq!(
            local_manager.map(|m| name_of(&local_by_id, m)),
            remote_manager.map(|m| name_of(&remote_users, m)),
            "manager of {name}"
        );
    }
    let remote_groups = rig.remote("/Groups").await;
    let source_groups = rig.source.get("/Groups?count=1000").await.body["Resources"].clone();
    let remote_group_names: HashMap<String, String> = remote_groups
        .iter()
        .map(|(id, g)| (id.clone(), g["displayName"].as_str().unwrap().to_string()))
        .collect();
    let local_group_names: HashMap<String, String> = source_groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["id"].as_str().unwrap().to_string(),
                g["displayName"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(remote_groups.len(), local_group_names.len());
    let member_names =
        |g: &Value, users: &HashMap<String, Value>, groups: &HashMap<String, String>| {
            let mut names: Vec<String> = g["members"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|m| {
                    let id = m["value"].as_str().unwrap();
                    groups
                        .get(id)
                        .cloned()
                        .unwrap_or_else(|| name_of(users, id))
                })
                .collect();
            names.sort();
            names
        };
    for g in source_groups.as_array().unwrap() {
        let name = g["displayName"].as_str().unwrap();
        let r = remote_groups
            .values()
            .find(|r| r["displayName"] == name)
            .unwrap_or_else(|| panic!("group {name} missing downstream"));
        assert_eq!(
            member_names(r, &remote_users, &remote_group_names),
            member_names(g, &local_by_id, &local_group_names),
            "members of {name}"
        );
    }
}

async fn full_sync_changes_guard_and_approval(source: TestApp) {
    let users = seed_org(&source, 900).await;
    let groups = seed_groups(&source, &users).await;
    let rig = rig(source, None, TargetSettings::default()).await;

    // Dry run: the whole plan, not one write downstream.
    let before = rig.target.store.latest_change().unwrap();
    let dry = rig.run(true).await;
    assert_eq!(dry.head.status, RunStatus::Planned);
    assert_eq!(dry.head.counts.created, 1020);
    assert_eq!(dry.changes.len(), 1020);
    assert_eq!(rig.target.store.latest_change().unwrap(), before);

    let first = rig.run(false).await;
    assert_eq!(first.head.status, RunStatus::Succeeded, "{first:#?}");
    assert_eq!(first.head.counts.created, 1020);
    assert_eq!(first.head.counts.manager_updates, 999);
    assert!(first.failures.is_empty());
    assert_converged(&rig).await;

    // Idempotent: a second run writes nothing downstream.
    let settled = rig.target.store.latest_change().unwrap();
    let again = rig.run(false).await;
    assert_eq!(again.head.status, RunStatus::Succeeded);
    assert_eq!(again.head.counts.unchanged, 1020, "{:?}", again.head.counts);
    assert_eq!(
        (
            again.head.counts.created,
            again.head.counts.updated,
            again.head.counts.member_patches
        ),
        (0, 0, 0)
    );
    assert_eq!(rig.target.store.latest_change().unwrap(), settled);

    // Changes: renames, a membership change, a new manager.
    for (name, id) in &users[10..15] {
        let r = rig
            .source
            .send(
                Method::PATCH,
                &format!("/Users/{id}"),
                Some(&rig.source.token),
                Some(
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "path": "displayName", "value": format!("Renamed {name}")}]})
                    .to_string()
                    .into_bytes(),
                ),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = rig
        .source
        .send(
            Method::PATCH,
            &format!("/Groups/{}", groups[0]),
            Some(&rig.source.token),
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "add", "path": "members", "value": [{"value": users[1].1}]}]})
                .to_string()
                .into_bytes(),
            ),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let changed = rig.run(false).await;
    assert_eq!(changed.head.status, RunStatus::Succeeded, "{changed:#?}");
    assert_eq!(changed.head.counts.updated, 5);
    assert_eq!(changed.head.counts.member_patches, 1);
    assert_eq!(changed.head.counts.created, 0);
    assert_converged(&rig).await;

    // Deleting 300 of 1020 linked trips the guard: nothing deprovisioned.
    for (_, id) in &users[700..1000] {
        assert_eq!(rig.source.delete(&format!("/Users/{id}")).await.status, 204);
    }
    let held = rig.run(false).await;
    assert_eq!(held.head.status, RunStatus::AwaitingApproval);
    assert_eq!(held.pending.len(), 300);
    assert_eq!(held.head.counts.deactivated, 0);
    let remote = rig.remote("/Users").await;
    assert_eq!(remote.values().filter(|u| u["active"] == false).count(), 0);
    let stored = rig.engine.report(&held.head.id).await.unwrap();
    assert_eq!(stored, held);

    let approved = rig
        .engine
        .approve(&held.head.id, "test", None)
        .await
        .unwrap();
    assert_eq!(approved.head.status, RunStatus::Succeeded, "{approved:#?}");
    assert_eq!(approved.head.counts.deactivated, 300);
    let remote = rig.remote("/Users").await;
    assert_eq!(
        remote.values().filter(|u| u["active"] == false).count(),
        300
    );
    // A decided run cannot be decided again.
    assert!(
        rig.engine
            .approve(&held.head.id, "test", None)
            .await
            .is_err()
    );
    let after = rig.run(false).await;
    assert_eq!(after.head.status, RunStatus::Succeeded);
    assert_eq!(
        (after.head.counts.deactivated, after.head.counts.updated),
        (0, 0)
    );
}

async fn rejected_deprovisions_stay(source: TestApp) {
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(create_user(&source, &format!("u{i}"), None).await);
    }
    let rig = rig(source, None, TargetSettings::default()).await;
    assert_eq!(rig.run(false).await.head.counts.created, 20);
    for id in &ids[..12] {
        rig.source.delete(&format!("/Users/{id}")).await;
    }
    let held = rig.run(false).await;
    assert_eq!(held.head.status, RunStatus::AwaitingApproval);
    let rejected = rig.engine.reject(&held.head.id, "test").await.unwrap();
    assert_eq!(rejected.head.status, RunStatus::Rejected);
    let remote = rig.remote("/Users").await;
    assert_eq!(remote.values().filter(|u| u["active"] == true).count(), 20);
    assert!(rig.engine.reject(&held.head.id, "test").await.is_err());
}

/// The target refuses some writes: those objects fail with its error, the
/// rest go through, and the run says so.
async fn per_object_failures_carry_the_target_error(source: TestApp) {
    for i in 0..5 {
        create_user(&source, &format!("same-{i}"), None).await;
    }
    let mapping = "[users]\n[[users.rules]]\ntarget = \"userName\"\nvalue = '\"everyone\"'\n";
    let rig = rig(source, Some(mapping), TargetSettings::default()).await;
    let report = rig.run(false).await;
    assert_eq!(
        report.head.status,
        RunStatus::CompletedWithFailures,
        "{report:#?}"
    );
    assert_eq!(report.head.counts.created, 1, "{report:#?}");
    assert_eq!(report.head.counts.failed, 4, "{report:#?}");
    assert!(
        report.failures.iter().all(|f| f.status == Some(409)
            && f.action == "create"
            && f.detail.contains("everyone")),
        "{:#?}",
        report.failures
    );
    let stored = rig.engine.report(&report.head.id).await.unwrap();
    assert_eq!(stored.failures.len(), 4);
}

on_both_backends!(
    full_sync_changes_guard_and_approval,
    rejected_deprovisions_stay,
    per_object_failures_carry_the_target_error,
);

#[tokio::test]
async fn unknown_targets_and_runs_are_errors() {
    let source = TestApp::start(Backend::Sqlite).await.unwrap();
    let rig = rig(source, None, TargetSettings::default()).await;
    let e = rig
        .engine
        .run("nope", RunOptions::default(), None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no target named"), "{e}");
    assert!(rig.engine.report("missing").await.is_err());
}

/// `scimhub bench sync` end to end at a tiny scale: both runs succeed (the
/// bench refuses anything else) and every change arrives.
#[test]
fn the_sync_benchmark_runs_end_to_end() {
    let numbers = scimhub::bench::run_sync_bench(&scimhub::bench::SyncBench {
        users: 60,
        groups: 3,
        members: 10,
        propagation_samples: 3,
        print: false,
    })
    .unwrap();
    assert!(numbers.full > std::time::Duration::ZERO);
    assert!(numbers.propagation_p50 <= numbers.propagation_p99);
}

/// A run of the target in progress elsewhere (its lease is held): another
/// run is refused, a dry run still plans.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_of_one_target_never_overlap() {
    use scimhub::store::SyncStore;
    let source = TestApp::start(Backend::Sqlite).await.unwrap();
    create_user(&source, "solo", None).await;
    let rig = rig(source, None, TargetSettings::default()).await;
    let id = rig.db.find_target("downstream").unwrap().unwrap().id;
    assert!(
        rig.db
            .try_lease(
                &format!("run:{id}"),
                "another-instance",
                chrono::Duration::seconds(60)
            )
            .unwrap()
    );
    let refused = rig
        .engine
        .run("downstream", RunOptions::default(), None)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("already in progress"),
        "{refused}"
    );
    assert_eq!(rig.run(true).await.head.status, RunStatus::Planned);
    rig.db
        .release_lease(&format!("run:{id}"), "another-instance")
        .unwrap();
    assert_eq!(rig.run(false).await.head.status, RunStatus::Succeeded);
    // The lease is released after a run.
    assert_eq!(rig.run(false).await.head.status, RunStatus::Succeeded);
}
