//! An LDAP directory as a source: make_org.py's organization as LDIF in a
//! real slapd, read with paged searches (pages smaller than the directory),
//! then incrementally by modifyTimestamp; its organizational units as the
//! department tree, with people in the OU their entry sits in; a refused
//! bind and a directory that is not there fail the run and change nothing.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{ENTERPRISE, ORGANIZATION, by_external_id, cli_ok, cli_report};
use crate::on_both_backends;
use crate::support::live::free_port;
use crate::support::org::Org;
use crate::support::slapd::{ADMIN_DN, ADMIN_PASSWORD, BASE_DN, Slapd};
use crate::support::{TestApp, eventually};

/// Users by employeeNumber.
async fn by_employee_number(app: &TestApp) -> BTreeMap<String, Value> {
    by_external_id(app, "Users")
        .await
        .into_values()
        .filter_map(|u| Some((u[ENTERPRISE]["employeeNumber"].as_str()?.to_string(), u)))
        .collect()
}

async fn an_ldap_directory_imports_then_follows_changes(app: TestApp) {
    let org = Org::make(200, 8);
    let Some(ldap) = Slapd::start_with(&org.file("org.ldif")) else {
        return;
    };
    cli_ok(
        &app,
        &[
            "source",
            "add",
            "--name",
            "dir",
            "--kind",
            "ldap",
            "--url",
            &ldap.url,
            "--base-dn",
            BASE_DN,
            "--bind-dn",
            ADMIN_DN,
            "--password",
            ADMIN_PASSWORD,
            "--phone-region",
            "US",
            "--page-size",
            "50",
        ],
    )
    .await;
    let (ok, report) = cli_report(&app, &["source", "run", "dir"]).await;
    assert!(!ok);
    assert_eq!(report["status"], "completed_with_failures", "{report}");
    let mut refused: Vec<(String, String)> = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["locator"]
                    .as_str()
                    .unwrap()
                    .split(',')
                    .next()
                    .unwrap()
                    .to_string(),
                f["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    refused.sort();
    assert_eq!(
        refused,
        vec![
            ("uid=X500002".to_string(), "duplicate_email".to_string()),
            ("uid=X500005".to_string(), "unknown_manager".to_string()),
        ]
    );

    let users = by_employee_number(&app).await;
    assert_eq!(
        users.len(),
        org.valid().len(),
        "more than a page of entries"
    );
    for (emp, want) in org.valid() {
        let u = &users[emp];
        assert_eq!(u["emails"][0]["value"], want["email"], "{emp}");
        assert_eq!(u["phoneNumbers"][0]["value"], want["phone"], "{emp}");
        assert_eq!(u[ENTERPRISE]["department"], want["department_id"], "{emp}");
        let manager = want["manager_employee_id"]
            .as_str()
            .map(|m| users[m]["id"].clone());
        assert_eq!(
            u[ENTERPRISE]["manager"]["value"],
            manager.unwrap_or(Value::Null),
            "{emp}"
        );
    }
    // Each department's staff group lists its people.
    let groups = by_external_id(&app, "Groups").await;
    let staff = groups
        .values()
        .find(|g| g["displayName"] == "staff-d0001")
        .unwrap_or_else(|| panic!("{groups:?}"));
    let members = app
        .get(&format!("/Groups/{}", staff["id"].as_str().unwrap()))
        .await
        .body["members"]
        .as_array()
        .unwrap()
        .len();
    let in_d0001 = org
        .valid()
        .values()
        .filter(|p| p["department_id"] == "D0001")
        .count();
    assert_eq!(members, in_d0001);

    // Changes in the directory: an incremental run follows them.
    let first = "E100002";
    let entry = ldap_dn(&org, first);
    next_second().await;
    ldap.modify(&format!(
        "dn: {entry}\nchangetype: modify\nreplace: title\ntitle: Chief of Staff\n\n\
         dn: uid=E999999,{BASE_DN}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: E999999\n\
         cn: New Hire\nsn: Hire\ngivenName: New\nmail: new.hire@example.org\n\
         employeeNumber: E999999\nmanager: {entry}\n"
    ));
    // (It reads again what changed in the second the last run's newest
    // entry changed: here, maybe the whole load.)
    let (_, report) = cli_report(&app, &["source", "run", "dir", "--incremental"]).await;
    assert_eq!(report["mode"], "incremental");
    assert_eq!(
        (
            report["counts"]["updated"].as_u64(),
            report["counts"]["created"].as_u64()
        ),
        (Some(1), Some(1)),
        "{report}"
    );
    let users = by_employee_number(&app).await;
    assert_eq!(users[first]["title"], "Chief of Staff");
    assert_eq!(
        users["E999999"][ENTERPRISE]["manager"]["value"],
        users[first]["id"]
    );
    // The next incremental run reads only what changed since.
    let second = ldap_dn(&org, "E100003");
    next_second().await;
    ldap.modify(&format!(
        "dn: {second}\nchangetype: modify\nreplace: title\ntitle: Counsel\n"
    ));
    let (_, report) = cli_report(&app, &["source", "run", "dir", "--incremental"]).await;
    assert_eq!(report["counts"]["updated"], 1, "{report}");
    assert!(report["counts"]["read"].as_u64().unwrap() <= 3, "{report}");

    // A refused bind and a directory that is not there: the run fails, nothing changes.
    let before = app.snapshot();
    cli_ok(
        &app,
        &[
            "source",
            "update",
            "dir",
            "--bind-dn",
            ADMIN_DN,
            "--password",
            "wrong",
        ],
    )
    .await;
    let (_, failed) = cli_report(&app, &["source", "run", "dir"]).await;
    assert_eq!(failed["status"], "failed");
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.contains("refused the bind as \"cn=admin,dc=example,dc=org\""),
        "{error}"
    );
    assert!(!error.contains("wrong"));
    let gone = format!("ldap://127.0.0.1:{}", free_port());
    cli_ok(&app, &["source", "update", "dir", "--url", &gone]).await;
    let (_, failed) = cli_report(&app, &["source", "run", "dir"]).await;
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot reach the LDAP server"),
        "{failed}"
    );
    assert_eq!(app.snapshot(), before);
}

/// Departments by displayName (the OU's name: make_org.py's code).
async fn departments_by_name(app: &TestApp) -> BTreeMap<String, Value> {
    by_external_id(app, "Departments")
        .await
        .into_values()
        .map(|d| (d["displayName"].as_str().unwrap().to_string(), d))
        .collect()
}

async fn organizational_units_become_the_department_tree(app: TestApp) {
    let org = Org::make(80, 8);
    let Some(ldap) = Slapd::start_with(&org.file("org.ldif")) else {
        return;
    };
    cli_ok(
        &app,
        &[
            "source",
            "add",
            "--name",
            "dir",
            "--kind",
            "ldap",
            "--url",
            &ldap.url,
            "--base-dn",
            BASE_DN,
            "--departments-base",
            BASE_DN,
            "--bind-dn",
            ADMIN_DN,
            "--password",
            ADMIN_PASSWORD,
            "--phone-region",
            "US",
        ],
    )
    .await;
    let preview = app
        .cli_json(&["source", "test", "dir", "--limit", "1"])
        .await;
    assert_eq!(
        preview["records"][0]["resourceType"], "Department",
        "{preview}"
    );
    let (_, report) = cli_report(&app, &["source", "run", "dir"]).await;
    assert_eq!(report["status"], "completed_with_failures", "{report}");

    // Each OU is a department under the OU above it.
    let rows = org.departments();
    let departments = departments_by_name(&app).await;
    assert_eq!(departments.len(), rows.len(), "{departments:?}");
    for r in rows.values() {
        let d = &departments[&r.code];
        let parent = r
            .parent
            .as_ref()
            .map(|p| departments[&rows[p].code]["id"].clone());
        assert_eq!(
            d["parent"]["value"],
            parent.unwrap_or(Value::Null),
            "{}",
            r.code
        );
    }
    // Each person in the department of the OU its entry sits in.
    let users = by_employee_number(&app).await;
    assert_eq!(users.len(), org.valid().len());
    for (emp, want) in org.valid() {
        let code = &rows[want["department_id"].as_str().unwrap()].code;
        let o = &users[emp][ORGANIZATION];
        assert_eq!(
            o["primaryDepartment"]["value"], departments[code]["id"],
            "{emp}"
        );
        assert_eq!(o["departmentPath"], departments[code]["path"], "{emp}");
    }

    // An OU moved in the directory: an incremental run moves the department
    // with what is under it.
    let (moved, to) = rows
        .iter()
        .find_map(|(id, r)| {
            let home = r.parent.as_deref()?;
            let other = ["D0001", "D0002", "D0003"]
                .into_iter()
                .find(|root| *root != home && !under(&rows, root, id))?;
            Some((id.clone(), other))
        })
        .unwrap();
    let dn = ou_dn(&org, &rows[&moved].code);
    let superior = ou_dn(&org, &rows[to].code);
    next_second().await;
    ldap.modify(&format!(
        "dn: {dn}
changetype: modrdn
newrdn: ou={}
deleteoldrdn: 1
newsuperior: {superior}
",
        rows[&moved].code
    ));
    let (_, report) = cli_report(&app, &["source", "run", "dir", "--incremental"]).await;
    assert_eq!(report["counts"]["departments"]["moved"], 1, "{report}");
    let after = departments_by_name(&app).await;
    let d = &after[&rows[&moved].code];
    let new_parent = &after[&rows[to].code];
    assert_eq!(d["parent"]["value"], new_parent["id"]);
    assert!(
        d["path"]
            .as_str()
            .unwrap()
            .starts_with(new_parent["path"].as_str().unwrap())
    );
    let users = by_employee_number(&app).await;
    for (emp, want) in org.valid() {
        let code = &rows[want["department_id"].as_str().unwrap()].code;
        assert_eq!(
            users[emp][ORGANIZATION]["departmentPath"], after[code]["path"],
            "{emp}"
        );
    }
}

/// Whether department `inner` is `outer` or under it.
fn under(
    rows: &BTreeMap<String, crate::support::org::DepartmentRow>,
    inner: &str,
    outer: &str,
) -> bool {
    let mut at = Some(inner);
    while let Some(d) = at {
        if d == outer {
            return true;
        }
        at = rows[d].parent.as_deref();
    }
    false
}

/// An OU's DN in the LDIF.
fn ou_dn(org: &Org, code: &str) -> String {
    let ldif = std::fs::read_to_string(org.file("org.ldif")).unwrap();
    let prefix = format!("dn: ou={code},");
    ldif.lines()
        .find_map(|l| l.strip_prefix("dn: ").filter(|_| l.starts_with(&prefix)))
        .unwrap()
        .to_string()
}

/// modifyTimestamp counts seconds: waits (bounded) until the clock is in
/// a later second than now, so what changes next is told apart from what
/// changed before.
async fn next_second() {
    let now = chrono::Utc::now().timestamp();
    eventually("the next second", || async {
        (chrono::Utc::now().timestamp() > now).then_some(())
    })
    .await;
}

/// A person's DN in the LDIF.
fn ldap_dn(org: &Org, emp: &str) -> String {
    let ldif = std::fs::read_to_string(org.file("org.ldif")).unwrap();
    let prefix = format!("dn: uid={emp},");
    ldif.lines()
        .find_map(|l| l.strip_prefix("dn: ").filter(|_| l.starts_with(&prefix)))
        .unwrap()
        .to_string()
}

on_both_backends!(
    config = crate::sources::with_key;
    an_ldap_directory_imports_then_follows_changes,
    organizational_units_become_the_department_tree,
);
