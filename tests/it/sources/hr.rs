//! An HR export (make_org.py's people.csv and departments.csv) through a
//! file source: the import reaches the truth, refused rows are kept with
//! their reason and raw record, a no-change re-run writes nothing, a fixed
//! row leaves the failure list, and a source that suddenly lists far fewer
//! people waits for approval before anyone is deactivated.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use super::{ENTERPRISE, ORGANIZATION, add_hr_source, by_external_id, cli_ok, cli_report};
use crate::on_both_backends;
use crate::support::TestApp;
use crate::support::org::Org;

fn admin(app: &TestApp) -> String {
    app.token_with("hr-admin", &["admin"])
}

/// (employee_id, reason) of the failure list as the CLI prints it.
fn failure_set(failures: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = failures["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["record"]["employee_id"].as_str().unwrap().to_string(),
                f["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn an_hr_export_imports_to_the_truth(app: TestApp) {
    let org = Org::make(300, 12);
    add_hr_source(&app, &org, &[]).await;
    let before = app.snapshot();

    // The dry run: four lists, nothing written.
    let (ok, dry) = cli_report(&app, &["source", "run", "hr", "--dry-run"]).await;
    assert!(ok, "{dry}");
    assert_eq!(dry["status"], "planned");
    assert_eq!(
        dry["counts"]["created"], 312,
        "300 people and 12 departments"
    );
    assert_eq!(dry["counts"]["failed"], 6);
    assert_eq!(dry["plan"]["create"].as_array().unwrap().len(), 312);
    assert_eq!(dry["plan"]["deactivate"], serde_json::json!([]));
    assert_eq!(app.snapshot(), before, "a dry run writes nothing");

    let (ok, report) = cli_report(&app, &["source", "run", "hr"]).await;
    assert!(!ok, "refused rows make the run exit 1");
    assert_eq!(report["status"], "completed_with_failures", "{report}");
    assert_eq!(report["counts"]["created"], 312);
    assert_eq!(report["counts"]["failed"], 6);

    let users = by_external_id(&app, "Users").await;
    let departments = by_external_id(&app, "Departments").await;
    let rows = org.departments();
    assert_eq!(users.len(), org.valid().len());
    assert_eq!(departments.len(), 12);
    assert!(
        by_external_id(&app, "Groups").await.is_empty(),
        "departments are no groups"
    );
    let id_of = |emp: &str| users[emp]["id"].as_str().unwrap().to_string();
    for (emp, want) in org.valid() {
        let u = &users[emp];
        assert_eq!(u["userName"], want["email"], "{emp}");
        assert_eq!(u["emails"][0]["value"], want["email"], "{emp}");
        assert_eq!(u["phoneNumbers"][0]["value"], want["phone"], "{emp}");
        assert_eq!(u["active"], want["active"], "{emp}");
        assert_eq!(u["name"]["givenName"], want["name"]["givenName"], "{emp}");
        assert_eq!(u["name"]["familyName"], want["name"]["familyName"], "{emp}");
        let dept = want["department_id"].as_str().unwrap();
        assert_eq!(
            u[ORGANIZATION]["primaryDepartment"]["value"], departments[dept]["id"],
            "{emp}"
        );
        assert_eq!(u[ENTERPRISE]["department"], rows[dept].name, "{emp}");
        let manager = want["manager_employee_id"].as_str().map(id_of);
        assert_eq!(
            u[ENTERPRISE]["manager"]["value"]
                .as_str()
                .map(str::to_string),
            manager,
            "{emp}"
        );
    }
    // The department tree: each department under its parent.
    for (id, row) in &rows {
        let d = &departments[id];
        assert_eq!(d["displayName"], row.name);
        assert_eq!(d["code"], row.code);
        let parent = row.parent.as_ref().map(|p| departments[p]["id"].clone());
        assert_eq!(d["parent"]["value"], parent.unwrap_or(Value::Null), "{id}");
    }

    // Refused rows are kept with the reason and the record as read.
    let failures = app.cli_json(&["source", "failures", "hr"]).await;
    assert_eq!(failure_set(&failures), org.rejected());
    let invalid = failures["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["reason"] == "invalid_email")
        .unwrap();
    assert_eq!(invalid["record"]["email"], "bad0 at example.org");
    assert!(
        invalid["locator"]
            .as_str()
            .unwrap()
            .starts_with("people.csv line ")
    );
    let token = admin(&app);
    let api = app
        .send(
            Method::GET,
            "/admin/v1/sources/hr/failures",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        api.body, failures,
        "the CLI prints what the admin API answers"
    );

    // Imported changes are in the change log as the source's, and the run is audited.
    let changes = app.store.changes_after(0, u32::MAX).unwrap();
    assert!(changes.len() >= 312);
    assert!(
        changes.iter().all(|c| c.actor == "source:hr"),
        "{:?}",
        changes[0]
    );
    let audit = app
        .store
        .audit(&scimhub::store::AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.event == "source.run" && a.actor == "cli:tester"),
        "{audit:?}"
    );

    // A re-run of the same export writes nothing.
    let (_, again) = cli_report(&app, &["source", "run", "hr"]).await;
    assert_eq!(again["counts"]["unchanged"], 312, "{again}");
    assert_eq!(again["counts"]["created"], 0);
    assert_eq!(again["counts"]["updated"], 0);
    assert_eq!(again["counts"]["member_patches"], 0);
    assert_eq!(
        app.store.changes_after(0, u32::MAX).unwrap().len(),
        changes.len()
    );
    assert_eq!(
        by_external_id(&app, "Users").await,
        users,
        "ids and data are stable"
    );

    // The same export as a JSON array reads to the same records.
    let json = org.path("people.json");
    let (_, same) = cli_report(&app, &["source", "run", "hr", "--file", &json]).await;
    assert_eq!(same["counts"]["unchanged"], 312, "{same}");
    assert_eq!(same["counts"]["failed"], 6);
    assert_eq!(
        app.store.changes_after(0, u32::MAX).unwrap().len(),
        changes.len()
    );
}

async fn fixing_a_refused_row_clears_its_entry(app: TestApp) {
    let org = Org::make(40, 4);
    add_hr_source(&app, &org, &[]).await;
    cli_report(&app, &["source", "run", "hr"]).await;
    assert_eq!(
        failure_set(&app.cli_json(&["source", "failures", "hr"]).await),
        org.rejected()
    );

    let fixed: Vec<String> = org
        .people_lines()
        .into_iter()
        .map(|l| {
            if l.contains("bad0 at example.org") {
                l.replace("bad0 at example.org", "fixed0@example.org")
            } else if l.starts_with("E100002,") {
                // A promotion and a move to another department.
                let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
                cells[5] = "Chief Engineer".into();
                cells[6] = if cells[6] == "D0001" {
                    "D0002"
                } else {
                    "D0001"
                }
                .into();
                cells.join(",")
            } else if l.starts_with("X500006,") {
                // The row whose last name was missing.
                let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
                cells[2] = "Nakamura".into();
                cells.join(",")
            } else {
                l
            }
        })
        .collect();
    org.write_people(&fixed);
    let moved_from = org.valid()["E100002"]["department_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, report) = cli_report(&app, &["source", "run", "hr"]).await;
    assert_eq!(report["counts"]["created"], 2, "{report}");
    assert_eq!(report["counts"]["updated"], 1, "{report}");
    assert_eq!(report["counts"]["member_patches"], 0, "{report}");
    let left = failure_set(&app.cli_json(&["source", "failures", "hr"]).await);
    let want: Vec<(String, String)> = org
        .rejected()
        .into_iter()
        .filter(|(_, r)| r != "invalid_email" && r != "missing_attribute")
        .collect();
    assert_eq!(left, want);
    let users = by_external_id(&app, "Users").await;
    assert_eq!(users["X500001"]["userName"], "fixed0@example.org");
    assert_eq!(users["X500006"]["name"]["familyName"], "Nakamura");
    let moved = &users["E100002"];
    assert_eq!(moved["title"], "Chief Engineer");
    let departments = by_external_id(&app, "Departments").await;
    let to = if moved_from == "D0001" {
        "D0002"
    } else {
        "D0001"
    };
    assert_eq!(
        moved[ORGANIZATION]["primaryDepartment"]["value"],
        departments[to]["id"]
    );
    assert_eq!(moved[ENTERPRISE]["department"], org.departments()[to].name);
}

async fn a_source_losing_many_people_waits_for_approval(app: TestApp) {
    let org = Org::make(60, 4);
    add_hr_source(&app, &org, &[]).await;
    cli_report(&app, &["source", "run", "hr"]).await;
    let all = org.people_lines();
    // The export suddenly lists 40% fewer people.
    let kept: Vec<String> = all[..all.len() * 3 / 5].to_vec();
    org.write_people(&kept);
    let active_before = by_external_id(&app, "Users").await;

    let (ok, held) = cli_report(&app, &["source", "run", "hr"]).await;
    assert!(!ok);
    assert_eq!(held["status"], "awaiting_approval", "{held}");
    let held_keys: BTreeSet<String> = held["held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["key"].as_str().unwrap().to_string())
        .collect();
    assert!(held_keys.len() >= 20, "{held_keys:?}");
    assert_eq!(
        by_external_id(&app, "Users").await,
        active_before,
        "nobody deactivated unasked"
    );

    // Rejected: they stay as they are.
    let id = held["id"].as_str().unwrap();
    let (_, rejected) = cli_report(&app, &["source", "reject", id]).await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["decidedBy"], "cli:tester");
    assert_eq!(by_external_id(&app, "Users").await, active_before);

    // Held again, approved over the admin API: now they go.
    let (_, held) = cli_report(&app, &["source", "run", "hr"]).await;
    assert_eq!(held["status"], "awaiting_approval");
    let token = admin(&app);
    let approved = app
        .send(
            Method::POST,
            &format!(
                "/admin/v1/source-runs/{}/approve",
                held["id"].as_str().unwrap()
            ),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["decidedBy"], "hr-admin");
    let users = by_external_id(&app, "Users").await;
    let gone: Vec<&String> = users
        .iter()
        .filter(|(k, u)| held_keys.contains(*k) && u["active"] == true)
        .map(|(k, _)| k)
        .collect();
    assert!(gone.is_empty(), "still active: {gone:?}");
    assert_eq!(approved.body["counts"]["deactivated"], held_keys.len());
    // A second approval is refused: nothing is held any more.
    let again = app
        .send(
            Method::POST,
            &format!(
                "/admin/v1/source-runs/{}/approve",
                held["id"].as_str().unwrap()
            ),
            Some(&token),
            None,
        )
        .await;
    again.assert_error(409, None);
    // The report says the same through the admin API.
    let shown = app
        .send(
            Method::GET,
            &format!("/admin/v1/source-runs/{}", held["id"].as_str().unwrap()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(shown.body, approved.body);
}

/// Runs get ids, persist, and list newest first; `source show` carries the last run.
async fn runs_are_listed_and_shown(app: TestApp) {
    let org = Org::make(20, 3);
    add_hr_source(&app, &org, &[]).await;
    let (_, first) = cli_report(&app, &["source", "run", "hr", "--dry-run"]).await;
    let (_, second) = cli_report(&app, &["source", "run", "hr"]).await;
    let runs = app.cli_json(&["source", "runs", "hr"]).await;
    let ids: Vec<&Value> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, vec![&second["id"], &first["id"]]);
    let shown = app.cli_json(&["source", "show", "hr"]).await;
    assert_eq!(shown["lastRun"]["id"], second["id"]);
    assert_eq!(shown["failures"], org.rejected().len());
    let report = app
        .cli_json(&["source", "report", second["id"].as_str().unwrap()])
        .await;
    assert_eq!(report, second);
    let text = cli_ok(&app, &["source", "list"]).await;
    assert!(
        text.contains("hr") && text.contains("completed_with_failures"),
        "{text}"
    );
}

on_both_backends!(
    an_hr_export_imports_to_the_truth,
    fixing_a_refused_row_clears_its_entry,
    a_source_losing_many_people_waits_for_approval,
    runs_are_listed_and_shown,
);
