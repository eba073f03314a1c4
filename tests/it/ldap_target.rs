//! An LDAP directory as a sync target, driven the way an admin does it: a
//! live `scimhub serve` with its workers, the CLI against the same
//! database, and a real OpenLDAP `slapd` (tests/it/support/slapd.rs) as
//! the downstream system, read back with LDAP searches.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use ldap3::SearchEntry;
use serde_json::{Value, json};

use crate::lifecycle::Source;
use crate::on_both_sources;
use crate::support::live::LiveServer;
use crate::support::slapd::{ADMIN_DN, ADMIN_PASSWORD, BASE_DN, Slapd};
use crate::support::{Backend, eventually};

const PEOPLE: &str = "ou=people,dc=example,dc=org";

/// scimhub's users and groups as inetOrgPerson and groupOfNames entries.
const MAPPING: &str = r#"
[users]
base = "none"
rules = [
  { target = "uid", value = "userName" },
  { target = "cn", value = "coalesce(displayName, userName)" },
  { target = "sn", value = "name.familyName" },
  { target = "givenName", value = "name.givenName" },
  { target = "mail", value = 'emails[type eq "work"].value' },
  { target = "title", value = "title" },
  { target = "active", value = "active" },
  { target = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    value = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager" },
]

[groups]
base = "none"
rules = [{ target = "cn", value = "displayName" }]
"#;

/// A directory, and the mapping file the target is added with.
struct Directory {
    slapd: Slapd,
    mapping: tempfile::NamedTempFile,
}

impl Directory {
    fn start() -> Option<Directory> {
        let slapd = Slapd::start()?;
        let mut mapping = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        mapping.write_all(MAPPING.as_bytes()).unwrap();
        Some(Directory { slapd, mapping })
    }

    /// `target add --kind ldap` with the options every scenario shares.
    fn add_args<'a>(&'a self, password: &'a str) -> Vec<&'a str> {
        vec![
            "target",
            "add",
            "--name",
            "dir",
            "--kind",
            "ldap",
            "--url",
            &self.slapd.url,
            "--bind-dn",
            ADMIN_DN,
            "--bind-password",
            password,
            "--base-dn",
            BASE_DN,
            "--user-dn",
            "uid={uid},ou=people,dc=example,dc=org",
            "--group-dn",
            "cn={cn},ou=groups,dc=example,dc=org",
            "--disable-attribute",
            "employeeType=disabled",
            "--mapping",
            self.mapping.path().to_str().unwrap(),
        ]
    }

    /// Adds the target; a `--disable-…` in `extra` replaces the attribute.
    fn add(&self, server: &LiveServer, extra: &[&str]) {
        let mut args = self.add_args(ADMIN_PASSWORD);
        if extra.iter().any(|a| a.starts_with("--disable-")) {
            let at = args
                .iter()
                .position(|a| *a == "--disable-attribute")
                .unwrap();
            args.drain(at..at + 2);
        }
        args.extend_from_slice(extra);
        server.cli_ok(&args);
    }

    /// inetOrgPerson entries by uid (with their entryUUID).
    async fn people(&self) -> BTreeMap<String, SearchEntry> {
        self.slapd
            .search(BASE_DN, "(objectClass=inetOrgPerson)", &["*", "entryUUID"])
            .await
            .into_values()
            .map(|e| (first(&e, "uid").unwrap(), e))
            .collect()
    }

    /// groupOfNames entries by cn: the first RDN value of each member DN.
    async fn groups(&self) -> BTreeMap<String, BTreeSet<String>> {
        self.slapd
            .search(BASE_DN, "(objectClass=groupOfNames)", &["*"])
            .await
            .into_values()
            .map(|e| {
                let members = values(&e, "member")
                    .iter()
                    .filter(|m| !m.is_empty())
                    .map(|m| rdn_value(m))
                    .collect();
                (first(&e, "cn").unwrap(), members)
            })
            .collect()
    }
}

fn values(e: &SearchEntry, attr: &str) -> Vec<String> {
    e.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn first(e: &SearchEntry, attr: &str) -> Option<String> {
    values(e, attr).into_iter().next()
}

/// `ann` of `uid=ann,ou=people,…`.
fn rdn_value(dn: &str) -> String {
    let rdn = dn.split(',').next().unwrap();
    rdn.split_once('=').unwrap().1.to_string()
}

fn status(server: &LiveServer) -> Value {
    server.cli_json(&["target", "show", "dir"])["status"].clone()
}

async fn patch(source: &Source, path: &str, operations: Value) {
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": operations});
    source.send(reqwest::Method::PATCH, path, Some(body)).await;
}

async fn an_ldap_target_is_tested_planned_and_filled_by_a_full_run(backend: Backend) {
    let Some(directory) = Directory::start() else {
        return;
    };
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    let boss = source.user("boss", None).await;
    let mut staff = Vec::new();
    for name in ["ann", "lee, bo"] {
        staff.push(source.user(name, Some(&boss)).await);
    }
    let leads = source.group("leads", &[&boss]).await;
    source.group("staff", &[&staff[0], &staff[1]]).await;
    source.group("everyone", &[&leads, &staff[0]]).await;

    // A wrong password is refused by the test, and nothing is stored.
    let refused = server.cli(&directory.add_args("not-the-password"));
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("authentication") && said.contains("invalidCredentials"),
        "{said}"
    );
    assert!(
        server.cli_json(&["target", "list"])["targets"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    directory.add(server, &[]);
    let shown = server.cli_json(&["target", "show", "dir"]);
    assert_eq!(shown["settings"]["kind"], "ldap", "{shown}");
    assert_eq!(shown["settings"]["auth"], "basic");
    assert_eq!(
        shown["settings"]["matching"], "uid",
        "the user RDN attribute"
    );
    let ldap = &shown["settings"]["ldap"];
    assert_eq!(ldap["base_dn"], BASE_DN);
    assert_eq!(ldap["users"]["object_classes"], json!(["inetOrgPerson"]));
    assert_eq!(
        ldap["deactivate"],
        json!({"by": "attribute", "attribute": "employeeType",
                                           "value": "disabled", "active_value": null})
    );
    assert!(
        !shown.to_string().contains(ADMIN_PASSWORD),
        "no password shown: {shown}"
    );
    let text = server.cli_ok(&["target", "show", "dir"]);
    assert!(text.contains("\"kind\": \"ldap\"") && !text.contains(ADMIN_PASSWORD));

    let tested = server.cli_json(&["target", "test", "dir"]);
    assert_eq!(tested["ok"], true, "{tested}");
    let steps: Vec<&str> = tested["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "reachability",
            "authentication",
            "base_dn",
            "schemas",
            "mapping"
        ]
    );

    // A mapping the directory would refuse fails the test of the update,
    // and nothing changes.
    let unknown = mapping_file(&MAPPING.replace(
        r#"{ target = "title", value = "title" },"#,
        r#"{ target = "shoeSize", value = "title" },"#,
    ));
    let no_sn =
        mapping_file(&MAPPING.replace(r#"{ target = "sn", value = "name.familyName" },"#, ""));
    for (file, want) in [
        (&unknown, "the directory has no attribute 'shoeSize'"),
        (&no_sn, "require 'sn'"),
    ] {
        let path = file.path().to_str().unwrap();
        let out = server.cli(&["target", "update", "dir", "--mapping", path]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && said.contains(want),
            "{want}: {said}"
        );
        assert_eq!(
            server.cli_json(&["target", "show", "dir"])["mapping"],
            shown["mapping"]
        );
    }

    // Already in the directory: ann (to be linked, not duplicated) and a
    // ghost nothing here accounts for.
    let person = ["inetOrgPerson"];
    for uid in ["ann", "ghost"] {
        let dn = format!("uid={uid},{PEOPLE}");
        let attrs: [(&str, &[&str]); 5] = [
            ("objectClass", &person),
            ("uid", &[uid]),
            ("cn", &[uid]),
            ("sn", &[uid]),
            ("title", &["Old title"]),
        ];
        directory.slapd.add(&dn, &attrs).await;
    }
    let ann_uuid = first(&directory.people().await["ann"], "entryUUID");

    // The dry run plans every entry and writes none.
    let plan = server.cli_json(&["sync", "run", "dir", "--dry-run"]);
    assert_eq!(plan["status"], "planned", "{plan}");
    assert_eq!(plan["counts"]["created"], 5, "{plan}");
    let people = directory.people().await;
    assert_eq!(people.len(), 2, "a dry run wrote entries: {people:?}");
    assert!(directory.groups().await.is_empty());

    let run = server.cli_json(&["sync", "run", "dir"]);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["counts"]["linked"], 1, "ann is linked: {run}");
    let orphans = run["orphans"].as_array().unwrap();
    assert_eq!(orphans.len(), 1, "{run}");
    assert_eq!(orphans[0]["name"], format!("uid=ghost,{PEOPLE}"));
    let mut people = directory.people().await;
    assert!(
        people.remove("ghost").is_some(),
        "an orphan is reported, left alone"
    );
    assert_eq!(
        first(&people["ann"], "entryUUID"),
        ann_uuid,
        "ann was updated in place"
    );
    assert_eq!(
        people.keys().collect::<Vec<_>>(),
        ["ann", "boss", "lee, bo"],
        "{people:?}"
    );
    let ann = &people["ann"];
    assert_eq!(ann.dn, format!("uid=ann,{PEOPLE}"));
    assert_eq!(first(ann, "sn").as_deref(), Some("ann"));
    assert_eq!(first(ann, "mail").as_deref(), Some("ann@example.com"));
    assert_eq!(first(ann, "manager"), Some(people["boss"].dn.clone()));
    assert_eq!(
        first(&people["lee, bo"], "manager"),
        Some(people["boss"].dn.clone())
    );
    assert_eq!(first(ann, "employeeType"), None, "active");
    let groups = directory.groups().await;
    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(groups["leads"], set(&["boss"]));
    assert_eq!(groups["staff"].len(), 2, "{groups:?}");
    assert!(groups["staff"].contains("ann"));
    assert_eq!(
        groups["everyone"],
        set(&["leads", "ann"]),
        "a group as a member"
    );

    // What the run wrote reads back the same: nothing left to do.
    let again = server.cli_json(&["sync", "run", "dir", "--dry-run"]);
    let counts = &again["counts"];
    assert_eq!(
        (
            counts["created"].clone(),
            counts["updated"].clone(),
            counts["deactivated"].clone()
        ),
        (json!(0), json!(0), json!(0)),
        "{again}"
    );
    assert!(
        again["changes"].as_array().is_none_or(Vec::is_empty),
        "{again}"
    );
}

async fn the_worker_pushes_creates_renames_memberships_and_deactivations(backend: Backend) {
    let Some(directory) = Directory::start() else {
        return;
    };
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    let boss = source.user("boss", None).await;
    let team = source.group("team", &[&boss]).await;
    source.group("all", &[&team]).await;
    // Groups leaving are deleted; users are deactivated.
    directory.add(server, &["--actions", "create,update,deactivate,delete"]);
    server.cli_json(&["sync", "run", "dir"]);

    let newcomer = source.user("newcomer", Some(&boss)).await;
    let created = eventually("the newcomer's entry", || async {
        directory.people().await.remove("newcomer")
    })
    .await;
    assert_eq!(
        first(&created, "manager").unwrap(),
        format!("uid=boss,{PEOPLE}")
    );
    let uuid = first(&created, "entryUUID").unwrap();

    patch(
        &source,
        &format!("/Users/{newcomer}"),
        json!([{"op": "replace", "path": "title", "value": "Engineer"}]),
    )
    .await;
    eventually("the title in the directory", || async {
        let people = directory.people().await;
        (first(&people["newcomer"], "title").as_deref() == Some("Engineer")).then_some(())
    })
    .await;
    patch(
        &source,
        &format!("/Groups/{team}"),
        json!([{"op": "add", "path": "members", "value": [{"value": newcomer}]}]),
    )
    .await;
    eventually("the member DN in the group", || async {
        directory.groups().await["team"]
            .contains("newcomer")
            .then_some(())
    })
    .await;

    // A new userName renames the entry (modrdn): same entry, new DN, and
    // the groups listing it follow.
    patch(
        &source,
        &format!("/Users/{newcomer}"),
        json!([{"op": "replace", "path": "userName", "value": "renamed"}]),
    )
    .await;
    let renamed = eventually("the renamed entry", || async {
        directory.people().await.remove("renamed")
    })
    .await;
    assert_eq!(renamed.dn, format!("uid=renamed,{PEOPLE}"));
    assert_eq!(
        first(&renamed, "entryUUID").unwrap(),
        uuid,
        "renamed, not re-created"
    );
    assert_eq!(
        values(&renamed, "uid"),
        ["renamed"],
        "the old RDN value is gone"
    );
    assert!(!directory.people().await.contains_key("newcomer"));
    // The connector rewrites the referring groups right after the modrdn.
    let expected: BTreeSet<String> = ["boss", "renamed"].map(String::from).into();
    eventually("the member DN to follow the rename", || async {
        (directory.groups().await["team"] == expected).then_some(())
    })
    .await;

    // A renamed manager: the reports' manager DN follows.
    patch(
        &source,
        &format!("/Users/{boss}"),
        json!([{"op": "replace", "path": "userName", "value": "chief"}]),
    )
    .await;
    eventually("the report's manager DN renamed", || async {
        let people = directory.people().await;
        let manager = first(people.get("renamed")?, "manager")?;
        (manager == format!("uid=chief,{PEOPLE}")).then_some(())
    })
    .await;

    patch(
        &source,
        &format!("/Users/{newcomer}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;
    eventually("the account disabled", || async {
        let people = directory.people().await;
        (first(&people["renamed"], "employeeType").as_deref() == Some("disabled")).then_some(())
    })
    .await;
    patch(
        &source,
        &format!("/Users/{newcomer}"),
        json!([{"op": "replace", "path": "active", "value": true}]),
    )
    .await;
    eventually("the account enabled again", || async {
        let people = directory.people().await;
        first(&people["renamed"], "employeeType")
            .is_none()
            .then_some(())
    })
    .await;

    // A deleted group is deleted, and the group listing it no longer does.
    source
        .send(reqwest::Method::DELETE, &format!("/Groups/{team}"), None)
        .await;
    let groups = eventually("the group deleted", || async {
        let groups = directory.groups().await;
        (!groups.contains_key("team")).then_some(groups)
    })
    .await;
    assert!(groups["all"].is_empty(), "{groups:?}");

    // On demand, a dry run records the LDAP operations and sends none.
    server.cli_ok(&["target", "pause", "dir"]);
    let late = source.user("late", None).await;
    let report = server.cli_json(&["sync", "user", "dir", &late, "--dry-run"]);
    let requests: Vec<&Value> = report["objects"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == "request")
        .collect();
    let add = requests
        .iter()
        .find(|r| r["method"] == "ADD")
        .unwrap_or_else(|| panic!("no ADD in {report}"));
    assert_eq!(add["sent"], false, "{add}");
    assert_eq!(add["path"], format!("uid=late,{PEOPLE}"));
    assert!(!directory.people().await.contains_key("late"));
    assert_eq!(status(server)["state"], "paused");
}

async fn deprovisions_wait_for_approval_and_refused_writes_queue(backend: Backend) {
    let Some(directory) = Directory::start() else {
        return;
    };
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(source.user(&format!("u{i}"), None).await);
    }
    // Every deprovision waits for a person; deactivated users move to an OU.
    let disabled_ou = "ou=disabled,dc=example,dc=org";
    directory.add(
        server,
        &["--guard-max", "0", "--disable-move-to", disabled_ou],
    );
    server.cli_json(&["sync", "run", "dir"]);
    for id in &ids[..3] {
        source
            .send(reqwest::Method::DELETE, &format!("/Users/{id}"), None)
            .await;
    }
    let held = eventually("three held deprovisions", || async {
        let held = server.cli_json(&["sync", "held", "dir"])["approvals"].clone();
        (held[0]["pending"].as_array().map(Vec::len) == Some(3)).then_some(held)
    })
    .await;
    let names: BTreeSet<&str> = held[0]["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<String> = (0..3).map(|i| format!("uid=u{i},{PEOPLE}")).collect();
    assert_eq!(names, expected.iter().map(String::as_str).collect());
    let in_ou = |people: &BTreeMap<String, SearchEntry>, ou: &str| -> BTreeSet<String> {
        people
            .iter()
            .filter(|(_, p)| p.dn.ends_with(ou))
            .map(|(uid, _)| uid.clone())
            .collect()
    };
    let people = directory.people().await;
    assert!(
        in_ou(&people, disabled_ou).is_empty(),
        "nothing disabled before the approval"
    );
    let approved = server.cli_json(&["sync", "approve", held[0]["id"].as_str().unwrap()]);
    assert_eq!(approved["counts"]["deactivated"], 3, "{approved}");
    let people = directory.people().await;
    let moved: BTreeSet<String> = ["u0", "u1", "u2"].map(String::from).into();
    assert_eq!(in_ou(&people, disabled_ou), moved);
    assert_eq!(people["u0"].dn, format!("uid=u0,{disabled_ou}"));

    // Disabled at the source, then enabled: moved out and back.
    let active = |on: bool| json!([{"op": "replace", "path": "active", "value": on}]);
    patch(&source, &format!("/Users/{}", ids[3]), active(false)).await;
    eventually("u3 moved to the disabled OU", || async {
        let people = directory.people().await;
        in_ou(&people, disabled_ou).contains("u3").then_some(())
    })
    .await;
    patch(&source, &format!("/Users/{}", ids[3]), active(true)).await;
    eventually("u3 back among the people", || async {
        let people = directory.people().await;
        (people["u3"].dn == format!("uid=u3,{PEOPLE}")).then_some(())
    })
    .await;

    // inetOrgPerson requires sn: a user without a family name is refused
    // (objectClassViolation) and waits in the failure queue.
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                      "userName": "nameless"});
    let nameless = source
        .send(reqwest::Method::POST, "/Users", Some(body))
        .await;
    let failures = eventually("the refused create in the queue", || async {
        let listed = server.cli_json(&["failures", "list", "--target", "dir"]);
        let failures = listed["failures"].as_array().cloned().unwrap_or_default();
        (!failures.is_empty()).then_some(failures)
    })
    .await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["localId"], nameless["id"]);
    assert_eq!(failures[0]["operation"], "create");
    assert_eq!(failures[0]["status"], "permanent");
    let error = failures[0]["lastError"].as_str().unwrap();
    assert!(error.contains("objectClassViolation"), "{error}");
    assert!(!directory.people().await.contains_key("nameless"));
    // Other changes keep flowing.
    source.user("after", None).await;
    eventually("a later user in the directory", || async {
        directory.people().await.contains_key("after").then_some(())
    })
    .await;
    assert_eq!(status(server)["state"], "active");
}

async fn a_stopped_directory_and_a_refused_bind_quarantine_the_target(backend: Backend) {
    let Some(mut directory) = Directory::start() else {
        return;
    };
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    source.user("before", None).await;
    directory.add(server, &[]);
    server.cli_json(&["sync", "run", "dir"]);

    directory.slapd.stop();
    for i in 0..3 {
        source.user(&format!("while-down-{i}"), None).await;
    }
    let quarantined = eventually("quarantine", || async {
        let s = status(server);
        (s["state"] == "quarantined").then_some(s)
    })
    .await;
    let reason = quarantined["quarantine"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("unreachable"), "{reason}");
    assert_eq!(
        status(server)["queueDepth"],
        0,
        "a down target queues nothing per object"
    );

    directory.slapd.restart();
    eventually("release and delivery", || async {
        let people = directory.people().await;
        let all = (0..3).all(|i| people.contains_key(&format!("while-down-{i}")));
        (all && status(server)["state"] == "active").then_some(())
    })
    .await;

    // A password the directory refuses: the credentials are refused, the
    // target is quarantined, and nothing is written.
    server.cli_ok(&[
        "target",
        "update",
        "dir",
        "--bind-dn",
        ADMIN_DN,
        "--bind-password",
        "rotated-wrongly",
        "--no-test",
    ]);
    source.user("while-refused", None).await;
    let quarantined = eventually("quarantine for the credentials", || async {
        let s = status(server);
        (s["state"] == "quarantined").then_some(s)
    })
    .await;
    let reason = quarantined["quarantine"]["reason"].as_str().unwrap();
    assert!(reason.contains("refused the credentials"), "{reason}");
    let tested = server.cli(&["target", "test", "dir"]);
    assert!(!tested.status.success());
    assert!(String::from_utf8_lossy(&tested.stdout).contains("invalidCredentials"));
    assert!(!directory.people().await.contains_key("while-refused"));

    server.cli_ok(&[
        "target",
        "update",
        "dir",
        "--bind-dn",
        ADMIN_DN,
        "--bind-password",
        ADMIN_PASSWORD,
    ]);
    eventually("release and delivery with the right password", || async {
        let delivered = directory.people().await.contains_key("while-refused");
        (delivered && status(server)["state"] == "active").then_some(())
    })
    .await;
}

/// A mapping file holding `text`.
fn mapping_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

async fn bad_ldap_targets_are_refused_with_nothing_stored(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    let good = mapping_file(MAPPING);
    let identity = mapping_file("[users]\nrules = [{ target = \"uid\", value = \"userName\" }]\n");
    let no_uid = mapping_file(&MAPPING.replace(r#"{ target = "uid", value = "userName" },"#, ""));
    let dead = format!("ldap://127.0.0.1:{}", crate::support::live::free_port());
    let args = |changes: &[(&str, &str)], dropped: &[&str]| -> Vec<String> {
        let mut pairs: Vec<(String, String)> = [
            ("--name", "dir"),
            ("--kind", "ldap"),
            ("--url", dead.as_str()),
            ("--bind-dn", ADMIN_DN),
            ("--bind-password", ADMIN_PASSWORD),
            ("--base-dn", BASE_DN),
            ("--user-dn", "uid={uid},ou=people,dc=example,dc=org"),
            ("--group-dn", "cn={cn},ou=groups,dc=example,dc=org"),
            ("--disable-attribute", "employeeType=disabled"),
            ("--mapping", good.path().to_str().unwrap()),
        ]
        .iter()
        .filter(|(flag, _)| !dropped.contains(flag))
        .map(|(f, v)| (f.to_string(), v.to_string()))
        .collect();
        for (flag, value) in changes {
            pairs.retain(|(f, _)| f != flag);
            pairs.push((flag.to_string(), value.to_string()));
        }
        let mut out = vec!["target".to_string(), "add".into(), "--no-test".into()];
        out.extend(pairs.into_iter().flat_map(|(f, v)| [f, v]));
        out
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (args(&[], &["--mapping"]), "needs a mapping"),
        (
            args(&[("--url", "https://ldap.example.org")], &[]),
            "ldap://host",
        ),
        (
            args(&[("--token", "t")], &["--bind-dn", "--bind-password"]),
            "binds with a DN and a password",
        ),
        (args(&[], &["--disable-attribute"]), "deactivates users by"),
        (
            args(&[("--mapping", identity.path().to_str().unwrap())], &[]),
            "base = \"none\"",
        ),
        (
            args(&[("--user-dn", "uid={uid},ou=people,dc=elsewhere")], &[]),
            "is not below the base DN",
        ),
        (
            args(&[("--mapping", no_uid.path().to_str().unwrap())], &[]),
            "no rule sets 'uid'",
        ),
    ];
    for (args, want) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = server.cli(&args);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && said.contains(want),
            "{want}: {said}"
        );
        let listed = server.cli_json(&["target", "list"]);
        assert!(
            listed["targets"].as_array().unwrap().is_empty(),
            "{want}: {listed}"
        );
    }

    // Stored untested; its kind cannot change afterwards.
    let good_args = args(&[], &[]);
    server.cli_ok(&good_args.iter().map(String::as_str).collect::<Vec<_>>());
    let before = server.cli_json(&["target", "show", "dir"]);
    let response = source
        .client
        .patch(format!("{}/admin/v1/targets/dir", server.base))
        .bearer_auth(&source.token)
        .json(&json!({"settings": {"kind": "scim"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("kind cannot change"),
        "{body}"
    );
    let after = server.cli_json(&["target", "show", "dir"]);
    assert_eq!(after["settings"], before["settings"]);
}

on_both_sources!(
    bad_ldap_targets_are_refused_with_nothing_stored,
    an_ldap_target_is_tested_planned_and_filled_by_a_full_run,
    the_worker_pushes_creates_renames_memberships_and_deactivations,
    deprovisions_wait_for_approval_and_refused_writes_queue,
    a_stopped_directory_and_a_refused_bind_quarantine_the_target,
);
