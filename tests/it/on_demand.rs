//! Provisioning one user on demand, as an admin does it: `scimhub sync user`
//! and `POST /admin/v1/targets/{name}/provision` against a live `scimhub
//! serve`, with a second scimhub as the downstream app.

use std::collections::{BTreeMap, BTreeSet};

use scimhub::store::diesel::DieselStore;
use scimhub::store::{LinkRecord, SyncStore};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::lifecycle::{Source, add_target, groups_of, status, users_of};
use crate::support::{Backend, TestApp, eventually};

/// The downstream app's change-log head: it moves with every write.
fn writes_so_far(app: &TestApp) -> i64 {
    app.store.latest_change().unwrap()
}

/// Every object's name → outcome.
fn outcomes(report: &Value) -> BTreeMap<String, String> {
    report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap().to_string(),
                o["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn object<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

fn steps<'a>(object: &'a Value, kind: &str) -> Vec<&'a Value> {
    object["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == kind)
        .collect()
}

/// "METHOD path" of every request but reads, in order.
fn write_requests(report: &Value) -> Vec<String> {
    report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| steps(o, "request"))
        .filter(|r| r["method"] != "GET")
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect()
}

fn expected(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn provision_over_http(source: &Source, target: &str, body: Value) -> (u16, Value) {
    let resp = source
        .client
        .post(format!(
            "{}/admin/v1/targets/{target}/provision",
            source.server.base
        ))
        .bearer_auth(&source.token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn id_map(store: &DieselStore, target_id: &str, kind: &str) -> BTreeMap<String, String> {
    store
        .links(target_id, kind)
        .unwrap()
        .into_iter()
        .map(
            |LinkRecord {
                 local_id,
                 remote_id,
                 ..
             }| (local_id, remote_id),
        )
        .collect()
}

async fn one_user_and_its_groups_are_pushed_now(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let (db, server) = (&source.db, &source.server);
    let alice = source.user("alice", None).await;
    let bob = source.user("bob", None).await;
    let outsider = source.user("outsider", None).await;
    source.group("staff", &[&alice, &bob]).await;
    source.group("leads", &[&alice]).await;
    source.group("secret", &[&alice]).await;
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    add_target(
        server,
        &downstream,
        &[
            "--scope",
            "userName ne \"outsider\"",
            "--group-scope",
            "displayName ne \"secret\"",
        ],
    );
    assert_eq!(status(server)["state"], "new");
    let store = DieselStore::open(db, 2).unwrap();
    let target_id = store.find_target("down").unwrap().unwrap().id;
    let before = writes_so_far(&downstream);

    // The dry run shows every step and writes nothing, anywhere.
    let plan = server.cli_json(&["sync", "user", "down", "alice", "--dry-run"]);
    assert_eq!(plan["dryRun"], true, "{plan}");
    assert_eq!(plan["ok"], true, "{plan}");
    assert_eq!(plan["targetState"], "new");
    assert!(
        plan["notes"][0].as_str().unwrap().contains("is new"),
        "{plan}"
    );
    let all_created = [
        ("alice", "created"),
        ("staff", "created"),
        ("leads", "created"),
        ("secret", "out_of_scope"),
    ];
    assert_eq!(outcomes(&plan), expected(&all_created));
    let user = object(&plan, "alice");
    assert_eq!(steps(user, "scope")[0]["inScope"], true);
    assert_eq!(steps(user, "resource")[0]["resource"]["userName"], "alice");
    assert_eq!(steps(user, "match")[0]["how"], "create");
    let lookup = &steps(user, "request")[0];
    assert_eq!(lookup["method"], "GET");
    assert_eq!(lookup["path"], "/Users?filter=userName eq \"alice\"");
    assert_eq!(
        (lookup["sent"].clone(), lookup["found"].clone()),
        (json!(true), json!(0))
    );
    let create = &steps(user, "request")[1];
    assert_eq!(create["method"], "POST");
    assert_eq!(create["sent"], false, "a dry run sends no write");
    assert_eq!(create["body"]["userName"], "alice");
    assert_eq!(create["remoteId"], user["remoteId"]);
    let staff = object(&plan, "staff");
    let patch = steps(staff, "request")
        .into_iter()
        .find(|r| r["method"] == "PATCH")
        .unwrap_or_else(|| panic!("no member PATCH: {staff}"));
    assert_eq!(patch["sent"], false);
    assert_eq!(
        patch["body"]["Operations"][0]["value"],
        json!([{"value": user["remoteId"]}]),
        "only alice, by her (would-be) target id: {patch}"
    );
    let secret = object(&plan, "secret");
    assert_eq!(steps(secret, "scope")[0]["inScope"], false);
    assert!(
        steps(secret, "scope")[0]["reason"]
            .as_str()
            .unwrap()
            .contains("does not match the scope"),
        "{secret}"
    );
    assert!(steps(secret, "request").is_empty());
    assert_eq!(
        writes_so_far(&downstream),
        before,
        "the dry run wrote downstream"
    );
    assert!(id_map(&store, &target_id, "User").is_empty());
    assert!(id_map(&store, &target_id, "Group").is_empty());
    assert_eq!(status(server)["state"], "new");

    // For real: the user and its two memberships, by downstream ids.
    let done = server.cli_json(&["sync", "user", "down", "alice"]);
    assert_eq!(done["ok"], true, "{done}");
    assert_eq!(done["dryRun"], false);
    assert_eq!(outcomes(&done), expected(&all_created));
    assert_eq!(
        write_requests(&done)
            .iter()
            .map(|r| r.split(' ').next().unwrap())
            .collect::<Vec<_>>(),
        ["POST", "POST", "PATCH", "POST", "PATCH"],
        "{done}"
    );
    let down_users = users_of(&downstream).await;
    assert_eq!(down_users.keys().collect::<Vec<_>>(), ["alice"]);
    let alice_remote = object(&done, "alice")["remoteId"]
        .as_str()
        .unwrap()
        .to_string();
    let down_alice = downstream.get(&format!("/Users/{alice_remote}")).await;
    assert_eq!(down_alice.body["userName"], "alice");
    let alice_set = BTreeSet::from(["alice".to_string()]);
    assert_eq!(
        groups_of(&downstream).await,
        BTreeMap::from([
            ("leads".to_string(), alice_set.clone()),
            ("staff".to_string(), alice_set),
        ])
    );
    let staff_remote = object(&done, "staff")["remoteId"].as_str().unwrap();
    let down_staff = downstream.get(&format!("/Groups/{staff_remote}")).await;
    assert_eq!(
        down_staff.body["members"][0]["value"],
        alice_remote.as_str()
    );
    assert_eq!(
        id_map(&store, &target_id, "User"),
        BTreeMap::from([(alice.clone(), alice_remote.clone())])
    );
    assert_eq!(id_map(&store, &target_id, "Group").len(), 2);

    // Again: unchanged, nothing written.
    let pushed = writes_so_far(&downstream);
    let again = server.cli_json(&["sync", "user", "down", "alice"]);
    assert_eq!(
        outcomes(&again),
        expected(&[
            ("alice", "unchanged"),
            ("staff", "unchanged"),
            ("leads", "unchanged"),
            ("secret", "out_of_scope"),
        ])
    );
    assert!(write_requests(&again).is_empty(), "{again}");
    let text = server.cli_ok(&["sync", "user", "down", "alice"]);
    assert!(text.contains("=> unchanged"), "{text}");
    assert!(!text.contains("POST") && !text.contains("PATCH"), "{text}");
    // The admin API gives the same report (the user named by id).
    let (code, over_http) = provision_over_http(&source, "down", json!({"user": alice})).await;
    assert_eq!(code, 200, "{over_http}");
    assert_eq!(over_http, again);
    assert_eq!(writes_so_far(&downstream), pushed);

    // Out of scope: reported, nothing written.
    let out = server.cli_json(&["sync", "user", "down", &outsider]);
    assert_eq!(out["ok"], true);
    assert_eq!(outcomes(&out), expected(&[("outsider", "out_of_scope")]));
    let scope = &steps(&out["objects"][0], "scope")[0];
    assert_eq!(scope["inScope"], false);
    assert!(
        scope["reason"].as_str().unwrap().contains("userName ne"),
        "{out}"
    );
    assert!(write_requests(&out).is_empty());

    // Unknown user or target: errors, nothing changed.
    let links_before = (
        id_map(&store, &target_id, "User"),
        id_map(&store, &target_id, "Group"),
    );
    let unknown = server.cli(&["sync", "user", "down", "nobody"]);
    assert_eq!(unknown.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("no user") && stderr.contains("nobody"),
        "{stderr}"
    );
    let no_target = server.cli(&["sync", "user", "elsewhere", "alice"]);
    assert_eq!(no_target.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&no_target.stderr).contains("no target"));
    let (code, _) = provision_over_http(&source, "down", json!({"user": "nobody"})).await;
    assert_eq!(code, 404);
    let (code, _) = provision_over_http(&source, "elsewhere", json!({"user": "alice"})).await;
    assert_eq!(code, 404);
    let (code, body) = provision_over_http(&source, "down", json!({"dryRun": true})).await;
    assert_eq!(code, 400, "{body}");
    let (code, _) =
        provision_over_http(&source, "down", json!({"user": "alice", "extra": 1})).await;
    assert_eq!(code, 400);
    assert_eq!(writes_so_far(&downstream), pushed);
    assert_eq!(
        (
            id_map(&store, &target_id, "User"),
            id_map(&store, &target_id, "Group"),
        ),
        links_before
    );

    // A full run finds them linked: only bob is new.
    let run = server.cli_json(&["sync", "run", "down"]);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["counts"]["created"], 1, "{run}");
    assert_eq!(run["counts"]["linked"], 0, "{run}");
    assert_eq!(users_of(&downstream).await.len(), 2);
    let audit = server.cli_ok(&["audit", "list"]);
    assert!(audit.contains("sync.provision"), "{audit}");
}

async fn paused_and_quarantined_targets(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let (db, server) = (&source.db, &source.server);
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    add_target(server, &downstream, &[]);
    server.cli_ok(&["target", "resume", "down"]);
    server.cli_ok(&["target", "pause", "down"]);
    // Changes made while paused wait behind the cursor…
    let alice = source.user("alice", None).await;
    source.group("team", &[&alice]).await;
    // …but a push on demand goes now.
    let done = server.cli_json(&["sync", "user", "down", "alice"]);
    assert_eq!(done["targetState"], "paused", "{done}");
    assert!(
        done["notes"][0].as_str().unwrap().contains("paused"),
        "{done}"
    );
    assert_eq!(
        outcomes(&done),
        expected(&[("alice", "created"), ("team", "created")])
    );
    assert_eq!(
        groups_of(&downstream).await,
        BTreeMap::from([("team".to_string(), BTreeSet::from(["alice".to_string()]))])
    );

    // A quarantined target is refused unless forced.
    let store = DieselStore::open(db, 2).unwrap();
    let target_id = store.find_target("down").unwrap().unwrap().id;
    store
        .set_quarantine(&target_id, Some("the target refused the credentials (401)"))
        .unwrap();
    source.user("bob", None).await;
    let pushed = writes_so_far(&downstream);
    let refused = server.cli(&["sync", "user", "down", "bob"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("quarantined") && stderr.contains("--force"),
        "{stderr}"
    );
    let (code, body) = provision_over_http(&source, "down", json!({"user": "bob"})).await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(writes_so_far(&downstream), pushed);
    assert_eq!(id_map(&store, &target_id, "User").len(), 1);

    let forced = server.cli_json(&["sync", "user", "down", "bob", "--force"]);
    assert_eq!(forced["targetState"], "quarantined");
    assert!(
        forced["notes"][0].as_str().unwrap().contains("forced"),
        "{forced}"
    );
    assert_eq!(outcomes(&forced), expected(&[("bob", "created")]));
    assert!(users_of(&downstream).await.contains_key("bob"));

    // Released and resumed, the worker reads those changes and pushes
    // nothing again: the id map already holds what it would push.
    store.set_quarantine(&target_id, None).unwrap();
    let pushed = writes_so_far(&downstream);
    server.cli_ok(&["target", "resume", "down"]);
    eventually("the worker to catch up", || async {
        (status(server)["lag"] == 0).then_some(())
    })
    .await;
    assert_eq!(
        writes_so_far(&downstream),
        pushed,
        "the worker pushed again"
    );
}

/// A target refusing the create: the step fails, the report says so, the
/// command exits 1 and the id map stays empty.
async fn a_refused_write_fails_the_report(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let (db, server) = (&source.db, &source.server);
    let alice = source.user("alice", None).await;
    source.group("team", &[&alice]).await;
    let target = MockServer::start().await;
    // No ServiceProviderConfig (404): no filtering, so no lookup before the create.
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "409", "scimType": "uniqueness", "detail": "userName taken"})))
        .mount(&target)
        .await;
    let url = format!("{}/scim/v2", target.uri());
    let add = [
        "target",
        "add",
        "--name",
        "mock",
        "--url",
        &url,
        "--token",
        "t",
        "--no-test",
    ];
    server.cli_ok(&add);

    let out = server.cli(&["sync", "user", "mock", "alice", "--json"]);
    assert_eq!(out.status.code(), Some(1), "a failed step exits 1");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(outcomes(&report), expected(&[("alice", "failed")]));
    let user = object(&report, "alice");
    let create = &steps(user, "request")[0];
    assert_eq!(
        (create["method"].clone(), create["status"].clone()),
        (json!("POST"), json!(409))
    );
    let failed = &steps(user, "failed")[0];
    assert_eq!(failed["operation"], "create");
    assert!(
        failed["error"].as_str().unwrap().contains("userName taken"),
        "{report}"
    );
    assert!(
        report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("group")),
        "its group is not pushed: {report}"
    );
    let text = server.cli(&["sync", "user", "mock", "alice"]);
    assert_eq!(text.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&text.stdout).contains("FAILED"));
    let (code, over_http) = provision_over_http(&source, "mock", json!({"user": "alice"})).await;
    assert_eq!(
        (code, over_http["ok"].clone()),
        (200, json!(false)),
        "{over_http}"
    );
    let store = DieselStore::open(db, 2).unwrap();
    let target_id = store.find_target("mock").unwrap().unwrap().id;
    assert!(id_map(&store, &target_id, "User").is_empty());
    assert!(id_map(&store, &target_id, "Group").is_empty());
}

mod sqlite {
    use crate::support::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_user_and_its_groups_are_pushed_now() {
        super::one_user_and_its_groups_are_pushed_now(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn paused_and_quarantined_targets() {
        super::paused_and_quarantined_targets(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_write_fails_the_report() {
        super::a_refused_write_fails_the_report(Backend::Sqlite).await;
    }
}

mod postgres_backend {
    use crate::support::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_user_and_its_groups_are_pushed_now() {
        super::one_user_and_its_groups_are_pushed_now(Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn paused_and_quarantined_targets() {
        super::paused_and_quarantined_targets(Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_write_fails_the_report() {
        super::a_refused_write_fails_the_report(Backend::Postgres).await;
    }
}
