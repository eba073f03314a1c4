//! Departments on sync targets, as an admin drives them: a live `scimhub
//! serve` (SQLite or PostgreSQL) with its real-time workers, the CLI, and a
//! second scimhub as the downstream app. A root department limits a target
//! to one subtree; departments go downstream as nested groups, only as the
//! people's `department` attribute, or not at all.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Value, json};

use crate::lifecycle::{Source, groups_of, users_of};
use crate::on_both_sources;
use crate::support::live::LiveServer;
use crate::support::{Backend, ENTERPRISE, TestApp, USER_SCHEMA, eventually};

const DEPARTMENT: &str = "urn:scimhub:params:scim:schemas:core:2.0:Department";
const ORG: &str = "urn:scimhub:params:scim:schemas:extension:organization:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

impl Source {
    pub(crate) async fn department(&self, name: &str, parent: Option<&str>) -> String {
        let mut body = json!({"schemas": [DEPARTMENT], "displayName": name});
        if let Some(p) = parent {
            body["parent"] = json!({"value": p});
        }
        let d = self.send(Method::POST, "/Departments", Some(body)).await;
        d["id"].as_str().unwrap().to_string()
    }

    /// A person in `primary` (if any) and the `further` departments.
    pub(crate) async fn person(
        &self,
        name: &str,
        primary: Option<&str>,
        further: &[&str],
    ) -> String {
        let mut body = crate::support::user_body(name);
        body["schemas"] = json!([USER_SCHEMA, ENTERPRISE, ORG]);
        let mut org = json!({});
        if let Some(p) = primary {
            org["primaryDepartment"] = json!({"value": p});
        }
        if !further.is_empty() {
            let listed: Vec<Value> = further.iter().map(|d| json!({"value": d})).collect();
            org["departments"] = Value::Array(listed);
        }
        body[ORG] = org;
        let u = self.send(Method::POST, "/Users", Some(body)).await;
        u["id"].as_str().unwrap().to_string()
    }

    async fn patch_department(&self, id: &str, path: &str, value: Value) {
        let body = json!({"schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": path, "value": value}]});
        self.send(Method::PATCH, &format!("/Departments/{id}"), Some(body))
            .await;
    }
}

/// Adds target `name` for `downstream` with the given options.
pub(crate) fn add_target(server: &LiveServer, name: &str, downstream: &TestApp, options: &[&str]) {
    let url = format!("{}/scim/v2", downstream.base);
    let mut args = vec!["target", "add", "--name", name, "--url", &url, "--token"];
    args.push(&downstream.token);
    args.extend_from_slice(options);
    server.cli_ok(&args);
}

pub(crate) fn tree(groups: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
    groups
        .iter()
        .map(|(g, members)| {
            let members = members.iter().map(|m| m.to_string()).collect();
            (g.to_string(), members)
        })
        .collect()
}

/// userName → the enterprise `department` string, on a SCIM server.
async fn department_of(app: &TestApp) -> BTreeMap<String, Option<String>> {
    let list = app.get("/Users?count=100").await.body["Resources"].clone();
    list.as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["userName"].as_str().unwrap().to_string(),
                u[ENTERPRISE]["department"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn names(users: &BTreeMap<String, (bool, Option<String>)>, active: bool) -> BTreeSet<&str> {
    users
        .iter()
        .filter(|(_, (a, _))| *a == active)
        .map(|(n, _)| n.as_str())
        .collect()
}

async fn a_root_department_goes_downstream_as_nested_groups_and_follows_the_tree(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    // Two top-level branches; the target gets R&D only.
    let rd = source.department("R&D", None).await;
    let platform = source.department("Platform", Some(&rd)).await;
    let apps = source.department("Apps", Some(&rd)).await;
    let infra = source.department("Infra", Some(&platform)).await;
    let sales = source.department("Sales", None).await;
    let emea = source.department("EMEA", Some(&sales)).await;
    let ann = source.person("ann", Some(&rd), &[]).await;
    source.person("bob", Some(&platform), &[]).await;
    source.person("cy", Some(&infra), &[]).await;
    source.person("dee", Some(&apps), &[]).await;
    source.person("ivy", Some(&infra), &[&apps]).await;
    let eve = source.person("eve", Some(&sales), &[]).await;
    source.person("fay", Some(&emea), &[]).await;
    source.person("gus", None, &[]).await;
    // Primary outside the root, a further department inside: outside.
    source.person("hal", Some(&sales), &[&platform]).await;
    source.group("Friends", &[&ann, &eve]).await;

    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    add_target(
        server,
        "down",
        &downstream,
        &[
            "--root-department",
            &rd,
            "--departments",
            "groups",
            "--actions",
            "create,update,deactivate,delete",
        ],
    );
    let shown = server.cli_json(&["target", "show", "down"]);
    assert_eq!(shown["settings"]["root_department"], rd.as_str());
    assert_eq!(shown["settings"]["departments"], "groups");

    // The dry run lists the department operations and counts them.
    let plan = server.cli_json(&["sync", "run", "down", "--dry-run"]);
    assert_eq!(plan["status"], "planned", "{plan}");
    let planned: BTreeSet<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["resource_type"] == "Department")
        .map(|c| {
            assert_eq!(c["action"], "create", "{c}");
            c["local_id"].as_str().unwrap()
        })
        .collect();
    let in_root: BTreeSet<&str> = [&rd, &platform, &apps, &infra]
        .into_iter()
        .map(String::as_str)
        .collect();
    assert_eq!(planned, in_root);
    assert_eq!(plan["counts"]["departments"]["created"], 4, "{plan}");
    assert_eq!(
        plan["counts"]["created"], 10,
        "5 people, 4 departments, Friends"
    );
    assert!(
        users_of(&downstream).await.is_empty(),
        "a dry run writes nothing"
    );

    let run = server.cli_json(&["sync", "run", "down"]);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["counts"]["departments"]["created"], 4, "{run}");
    assert_eq!(run["counts"]["departments"]["member_patches"], 4, "{run}");
    // Only the subtree: its people, and each group holds exactly its people
    // (primary or further department) and its sub-departments' groups.
    let people = users_of(&downstream).await;
    assert_eq!(
        names(&people, true),
        ["ann", "bob", "cy", "dee", "ivy"].into_iter().collect()
    );
    assert!(names(&people, false).is_empty());
    assert_eq!(
        groups_of(&downstream).await,
        tree(&[
            ("R&D", &["ann", "Platform", "Apps"]),
            ("Platform", &["bob", "Infra"]),
            ("Infra", &["cy", "ivy"]),
            ("Apps", &["dee", "ivy"]),
            ("Friends", &["ann"]),
        ])
    );
    let found = downstream
        .get(&format!("/Groups?filter=externalId%20eq%20%22{infra}%22"))
        .await;
    assert_eq!(
        found.body["Resources"][0]["displayName"], "Infra",
        "{}",
        found.body
    );
    // A re-run finds nothing to do.
    let again = server.cli_json(&["sync", "run", "down"]);
    assert_eq!(again["counts"]["created"], 0, "{again}");
    assert_eq!(again["counts"]["updated"], 0, "{again}");
    assert_eq!(again["counts"]["member_patches"], 0, "{again}");
    assert_eq!(again["counts"]["departments"]["unchanged"], 4, "{again}");

    // Real time: a move, then a rename.
    source
        .patch_department(&infra, "parent", json!({"value": apps}))
        .await;
    eventually("Infra moved under Apps downstream", || async {
        let want = tree(&[
            ("R&D", &["ann", "Platform", "Apps"]),
            ("Platform", &["bob"]),
            ("Infra", &["cy", "ivy"]),
            ("Apps", &["dee", "ivy", "Infra"]),
            ("Friends", &["ann"]),
        ]);
        (groups_of(&downstream).await == want).then_some(())
    })
    .await;
    source
        .patch_department(&apps, "displayName", json!("Applications"))
        .await;
    eventually(
        "Apps renamed downstream, with its people's department",
        || async {
            let want = tree(&[
                ("R&D", &["ann", "Platform", "Applications"]),
                ("Platform", &["bob"]),
                ("Infra", &["cy", "ivy"]),
                ("Applications", &["dee", "ivy", "Infra"]),
                ("Friends", &["ann"]),
            ]);
            let dee = downstream
                .get("/Users?filter=userName%20eq%20%22dee%22")
                .await;
            let renamed = dee.body["Resources"][0][ENTERPRISE]["department"] == "Applications";
            (renamed && groups_of(&downstream).await == want).then_some(())
        },
    )
    .await;

    // Infra's people move to Platform, then Infra goes: its group too.
    server.cli_ok(&["dept", "remove", &infra, "--move-to", &platform]);
    eventually(
        "Infra deleted downstream after its people moved",
        || async {
            let want = tree(&[
                ("R&D", &["ann", "Platform", "Applications"]),
                ("Platform", &["bob", "cy", "ivy"]),
                ("Applications", &["dee", "ivy"]),
                ("Friends", &["ann"]),
            ]);
            (groups_of(&downstream).await == want).then_some(())
        },
    )
    .await;

    // A department write the target refuses goes to the failure queue:
    // the downstream app already has a group named "Friends".
    let clash = source.department("Friends", Some(&rd)).await;
    let failure = eventually("the refused department group queued", || async {
        let listed = server.cli_json(&["failures", "list", "--target", "down"]);
        listed["failures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["localId"] == clash.as_str())
            .cloned()
    })
    .await;
    assert_eq!(failure["resourceType"], "Department", "{failure}");
    assert_eq!(failure["operation"], "create", "{failure}");
    assert_eq!(failure["lastStatus"], 409, "{failure}");

    // A department leaving the root takes its group and people with it.
    source
        .patch_department(&platform, "parent", json!({"value": sales}))
        .await;
    // Its people (ivy's primary department is Platform since Infra went)
    // are out of scope too: deactivated, and out of every department group.
    eventually("Platform out of scope downstream", || async {
        let want = tree(&[
            ("R&D", &["ann", "Applications"]),
            ("Applications", &["dee"]),
            ("Friends", &["ann"]),
        ]);
        let people = users_of(&downstream).await;
        let gone = groups_of(&downstream).await == want
            && names(&people, false) == ["bob", "cy", "ivy"].into_iter().collect();
        gone.then_some(())
    })
    .await;
}

async fn the_deletion_guard_holds_a_run_that_would_delete_many_departments(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    let org = source.department("Org", None).await;
    for i in 0..12 {
        source.department(&format!("Team {i:02}"), Some(&org)).await;
    }
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    add_target(
        server,
        "down",
        &downstream,
        &[
            "--departments",
            "groups",
            "--actions",
            "create,update,deactivate,delete",
        ],
    );
    let run = server.cli_json(&["sync", "run", "down"]);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(groups_of(&downstream).await.len(), 13);
    assert_eq!(groups_of(&downstream).await["Org"].len(), 12);

    // Held away from the worker, the tree goes; the next run must not
    // delete thirteen groups unasked.
    server.cli_ok(&["target", "pause", "down"]);
    server.cli_ok(&["dept", "remove", &org, "--cascade"]);
    let out = server.cli(&["sync", "run", "down", "--json"]);
    assert!(!out.status.success(), "a held run exits 1");
    let held: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(held["status"], "awaiting_approval", "{held}");
    let pending = held["pending"].as_array().unwrap();
    assert_eq!(pending.len(), 13, "{held}");
    assert!(pending.iter().all(|p| p["resource_type"] == "Department"
        && p["mode"] == "delete"
        && p["reason"] == "deleted"));
    assert_eq!(
        pending.last().unwrap()["name"],
        "Org",
        "bottom-up: the parent after its sub-departments"
    );
    assert_eq!(
        groups_of(&downstream).await.len(),
        13,
        "nothing deleted yet"
    );

    let id = held["id"].as_str().unwrap();
    let approved = server.cli_json(&["sync", "approve", id]);
    assert_eq!(approved["status"], "succeeded", "{approved}");
    assert_eq!(
        approved["counts"]["departments"]["deleted"], 13,
        "{approved}"
    );
    assert!(groups_of(&downstream).await.is_empty());
}

async fn attribute_and_none_modes_and_a_department_scope(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    let acme = source.department("Acme", None).await;
    let rd = source.department("R&D", Some(&acme)).await;
    let platform = source.department("Platform", Some(&rd)).await;
    source.person("ann", Some(&rd), &[]).await;
    source.person("bob", Some(&acme), &[]).await;
    source.person("cy", Some(&platform), &[]).await;
    source.person("gus", None, &[]).await;

    // Attribute (the default) with a root: R&D's people, their department
    // as a string, no department groups.
    let attribute = TestApp::start(Backend::Sqlite).await.unwrap();
    add_target(server, "attr", &attribute, &["--root-department", &rd]);
    // The department scope narrows the people: everyone under Platform.
    let scoped = TestApp::start(Backend::Sqlite).await.unwrap();
    add_target(
        server,
        "scoped",
        &scoped,
        &["--department-scope", &platform],
    );
    // None: everyone, and nothing about departments.
    let bare = TestApp::start(Backend::Sqlite).await.unwrap();
    add_target(server, "bare", &bare, &["--departments", "none"]);
    for name in ["attr", "scoped", "bare"] {
        let run = server.cli_json(&["sync", "run", name]);
        assert_eq!(run["status"], "succeeded", "{name}: {run}");
        assert!(run["counts"].get("departments").is_none(), "{run}");
    }
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        department_of(&attribute).await,
        BTreeMap::from([("ann".into(), some("R&D")), ("cy".into(), some("Platform"))])
    );
    assert_eq!(
        department_of(&scoped).await,
        BTreeMap::from([("cy".into(), some("Platform"))])
    );
    assert_eq!(
        department_of(&bare).await,
        ["ann", "bob", "cy", "gus"]
            .into_iter()
            .map(|n| (n.to_string(), None))
            .collect::<BTreeMap<_, _>>()
    );
    for app in [&attribute, &scoped, &bare] {
        assert!(groups_of(app).await.is_empty(), "no department groups");
        let user = app.get("/Users?count=1").await.body["Resources"][0].clone();
        assert!(user.get(ORG).is_none(), "{user}");
    }

    // A rename reaches the attribute in real time, and not the bare target.
    source
        .patch_department(&rd, "displayName", json!("Research"))
        .await;
    eventually("ann's department renamed downstream", || async {
        let seen = department_of(&attribute).await;
        (seen.get("ann") == Some(&some("Research"))).then_some(())
    })
    .await;
    eventually("the bare target caught up", || async {
        let lag = server.cli_json(&["target", "show", "bare"])["status"]["lag"].clone();
        (lag == 0).then_some(())
    })
    .await;
    assert_eq!(department_of(&bare).await["ann"], None);
}

async fn unknown_departments_in_a_targets_settings_are_refused_and_nothing_stored(
    backend: Backend,
) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    let rd = source.department("R&D", None).await;
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    let url = format!("{}/scim/v2", downstream.base);
    let add = |extra: &[&str]| {
        let mut args = vec!["target", "add", "--name", "down", "--url", &url, "--token"];
        args.push(&downstream.token);
        args.extend_from_slice(extra);
        server.cli(&args)
    };
    let out = add(&["--root-department", "no-such-id", "--departments", "groups"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("root department") && stderr.contains("no-such-id"),
        "{stderr}"
    );
    let out = add(&["--department-scope", &format!("{rd},gone")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("department scope") && stderr.contains("\"gone\""),
        "{stderr}"
    );
    let out = add(&["--resource-types", "Users,Departments"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--departments groups"));
    let listed = server.cli_json(&["target", "list"]);
    assert_eq!(listed["targets"], json!([]), "nothing stored");

    // The admin API refuses the same, and stores nothing either.
    let body = json!({"name": "api", "url": url, "test": false,
        "credentials": {"kind": "bearer", "token": downstream.token},
        "settings": {"root_department": "no-such-id", "departments": "groups"}});
    let resp = reqwest::Client::new()
        .post(format!("{}/admin/v1/targets", server.base))
        .bearer_auth(&source.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let error: Value = resp.json().await.unwrap();
    assert!(
        error["detail"].as_str().unwrap().contains("no-such-id"),
        "{error}"
    );
    assert_eq!(server.cli_json(&["target", "list"])["targets"], json!([]));

    // An update naming an unknown root changes nothing.
    add_target(server, "down", &downstream, &["--root-department", &rd]);
    let shown = |server: &LiveServer| {
        let t = server.cli_json(&["target", "show", "down"]);
        (t["settings"].clone(), t["updated"].clone())
    };
    let before = shown(server);
    let out = server.cli(&["target", "update", "down", "--root-department", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
    assert_eq!(shown(server), before);
    // An empty root is the whole tree again.
    server.cli_ok(&["target", "update", "down", "--root-department", ""]);
    let (settings, _) = shown(server);
    assert!(settings.get("root_department").is_none(), "{settings}");
}

on_both_sources!(
    a_root_department_goes_downstream_as_nested_groups_and_follows_the_tree,
    the_deletion_guard_holds_a_run_that_would_delete_many_departments,
    attribute_and_none_modes_and_a_department_scope,
    unknown_departments_in_a_targets_settings_are_refused_and_nothing_stored,
);
