//! Files as they come: SCIM-path headers need no mapping (BOM, any
//! delimiter, quotes, managers listed after their reports), NDJSON uploads
//! over the admin API, and files that cannot be read fail the run with the
//! file, line and field named — changing nothing.

use reqwest::Method;
use serde_json::{Value, json};

use super::{ENTERPRISE, add_hr_source, by_external_id, cli_ok, cli_report};
use crate::on_both_backends;
use crate::support::org::Org;
use crate::support::{TestApp, eventually};

const HEADER: &str = "externalId;userName;name.givenName;name.familyName;\
emails[type eq \"work\"].value;phoneNumbers[type eq \"work\"].value;\
urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager;active;title";

async fn scim_path_headers_import_without_a_mapping(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    let text = format!(
        "\u{FEFF}{HEADER}\n\
         2;bob;Bob;\"Builder; Jr\";Bob@Example.ORG;030 901821;1;true;Engineer\n\
         1;ann;Ann;Lee;ann@example.org;+49 30 901820;;true;CTO\n"
    );
    std::fs::write(&path, text).unwrap();
    let file = path.to_string_lossy().to_string();
    cli_ok(
        &app,
        &[
            "source",
            "add",
            "--name",
            "people",
            "--kind",
            "file",
            "--path",
            &file,
            "--phone-region",
            "DE",
        ],
    )
    .await;
    let (ok, report) = cli_report(&app, &["source", "run", "people"]).await;
    assert!(ok, "{report}");
    assert_eq!(report["status"], "succeeded");
    let users = by_external_id(&app, "Users").await;
    let (ann, bob) = (&users["1"], &users["2"]);
    assert_eq!(
        bob[ENTERPRISE]["manager"]["value"], ann["id"],
        "a manager listed after the report"
    );
    assert_eq!(bob["name"]["familyName"], "Builder; Jr");
    assert_eq!(bob["emails"][0]["value"], "bob@example.org");
    assert_eq!(bob["phoneNumbers"][0]["value"], "+4930901821");
    assert_eq!(ann["phoneNumbers"][0]["value"], "+4930901820");

    // An NDJSON upload over the admin API is the next full export.
    let token = app.token_with("uploader", &["admin"]);
    let upload = "{\"externalId\": \"1\", \"userName\": \"ann\", \"title\": \"CEO\", \
                  \"name\": {\"givenName\": \"Ann\", \"familyName\": \"Lee\"}}\n";
    let started = app
        .raw(
            app.client()
                .post(app.url("/admin/v1/sources/people/upload"))
                .bearer_auth(&token)
                .header("content-type", "application/x-ndjson")
                .body(upload),
        )
        .await;
    assert_eq!(started.status, 202, "{}", started.text);
    let location = started.header("location").unwrap().to_string();
    let done = eventually("the upload's run to end", || async {
        let r = app.send(Method::GET, &location, Some(&token), None).await;
        (r.body["status"] != "running").then_some(r.body)
    })
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["trigger"], "upload");
    assert_eq!(done["counts"]["updated"], 1);
    assert_eq!(
        done["counts"]["deactivated"], 1,
        "bob is no longer in the export"
    );
    let users = by_external_id(&app, "Users").await;
    assert_eq!(users["1"]["title"], "CEO");
    assert_eq!(
        users["1"]["emails"][0]["value"], "ann@example.org",
        "not in this file: kept"
    );
    assert_eq!(users["2"]["active"], false);
    // Uploads are for file sources, and audited.
    let audit = app
        .store
        .audit(&scimhub::store::AuditQuery {
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.event == "source.upload" && a.actor == "uploader")
    );
}

async fn bad_files_fail_the_run_and_change_nothing(app: TestApp) {
    let org = Org::make(20, 3);
    add_hr_source(&app, &org, &[]).await;
    cli_report(&app, &["source", "run", "hr"]).await;
    let before = app.snapshot();
    let failures = app.cli_json(&["source", "failures", "hr"]).await;
    let good = org.people_lines();

    // Not UTF-8: the run fails naming the file, the line and the field.
    let mut latin1 = format!("{}\n", good[0]).into_bytes();
    latin1.extend_from_slice(b"E100001,Ren\xE9e,Lee,renee@example.org,,,D0001,,,,active\n");
    std::fs::write(org.file("people.csv"), latin1).unwrap();
    let (ok, failed) = cli_report(&app, &["source", "run", "hr"]).await;
    assert!(!ok);
    assert_eq!(failed["status"], "failed");
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.starts_with("people.csv line 2, field \"first_name\": not UTF-8"),
        "{error}"
    );

    // A JSON syntax error names the line and column.
    let broken = org.file("people.json");
    std::fs::write(
        &broken,
        "[{\"employee_id\": \"E1\"},\n {\"employee_id\" \"E2\"}]",
    )
    .unwrap();
    let broken = broken.to_string_lossy().to_string();
    let (_, failed) = cli_report(&app, &["source", "run", "hr", "--file", &broken]).await;
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .starts_with("people.json line 2 column "),
        "{failed}"
    );
    // A file that is not there.
    std::fs::remove_file(org.file("people.csv")).unwrap();
    let (_, failed) = cli_report(&app, &["source", "run", "hr"]).await;
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot read "),
        "{failed}"
    );

    assert_eq!(app.snapshot(), before, "failed runs change nothing");
    assert_eq!(app.cli_json(&["source", "failures", "hr"]).await, failures);

    // A line with a stray delimiter is one refused record; the rest imports.
    let mut lines = good.clone();
    lines[1] = format!("{},extra", lines[1]);
    org.write_people(&lines);
    let (_, report) = cli_report(&app, &["source", "run", "hr"]).await;
    assert_eq!(report["status"], "completed_with_failures", "{report}");
    let listed = app.cli_json(&["source", "failures", "hr"]).await;
    let stray = listed["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["reason"] == "invalid_record")
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(stray["locator"], "people.csv line 2");
    assert!(
        stray["detail"]
            .as_str()
            .unwrap()
            .contains("has 12 fields, the header has 11")
    );
}

async fn headers_that_are_no_scim_paths_need_a_mapping(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    std::fs::write(&path, "first_name,last_name\nAnn,Lee\n").unwrap();
    let file = path.to_string_lossy().to_string();
    cli_ok(
        &app,
        &[
            "source", "add", "--name", "plain", "--kind", "file", "--path", &file,
        ],
    )
    .await;
    let before = app.snapshot();
    let (_, failed) = cli_report(&app, &["source", "run", "plain"]).await;
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["error"].as_str().unwrap().contains(
            "field \"first_name\" is no User attribute path, so this source needs a mapping"
        ),
        "{failed}"
    );
    // `source test` says the same and exits 1.
    let out = app.cli(&["source", "test", "plain"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("needs a mapping"));
    // A bad mapping is refused when given, naming the rule; nothing is stored.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[users]\n[[users.rules]]\ntarget = \"userName\"\nvalue = \"lowr(x)\"\n",
    )
    .unwrap();
    let out = app
        .cli(&[
            "source",
            "update",
            "plain",
            "--mapping",
            &bad.to_string_lossy(),
        ])
        .await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("users rule 1: value \"lowr(x)\""), "{err}");
    let shown = app.cli_json(&["source", "show", "plain"]).await;
    assert_eq!(shown["mapping"], Value::Null);
    assert_eq!(app.snapshot(), before);
    // `source test` shows the mapped records once there is a mapping.
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[users]\nbase = \"none\"\n[[users.rules]]\ntarget = \"userName\"\nvalue = 'lower(concat(first_name, \".\", last_name))'\n\
         [[users.rules]]\ntarget = \"name.familyName\"\nvalue = \"last_name\"\n",
    )
    .unwrap();
    cli_ok(
        &app,
        &[
            "source",
            "update",
            "plain",
            "--mapping",
            &good.to_string_lossy(),
        ],
    )
    .await;
    let preview = app.cli_json(&["source", "test", "plain"]).await;
    assert_eq!(preview["ok"], true);
    assert_eq!(preview["records"][0]["resource"]["userName"], "ann.lee");
    assert_eq!(preview["records"][0]["key"], json!("ann.lee"));
    assert_eq!(app.snapshot(), before, "a test writes nothing");
}

on_both_backends!(
    scim_path_headers_import_without_a_mapping,
    bad_files_fail_the_run_and_change_nothing,
    headers_that_are_no_scim_paths_need_a_mapping,
);
