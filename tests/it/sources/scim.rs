//! Another SCIM service provider as a source: a second scimhub (its own
//! `scimhub serve` process and database) is read whole, then incrementally
//! by `meta.lastModified`; users it no longer has are deactivated; its
//! departments come with the people in them; an upstream that cannot be
//! reached or refuses the token fails the run and changes nothing.

use reqwest::Method;
use serde_json::{Value, json};

use super::{ENTERPRISE, ORGANIZATION, by_external_id, cli_ok, cli_report, stored_path};
use crate::lifecycle::Source as Upstream;
use crate::on_both_backends;
use crate::support::TestApp;
use crate::support::live::free_port;

async fn another_scim_server_is_read_whole_then_by_change(app: TestApp) {
    let Some(up) = Upstream::start(app.backend) else {
        return;
    };
    let ann = up.user("ann", None).await;
    let bob = up.user("bob", Some(&ann)).await;
    let eng = up.group("eng", &[&ann, &bob]).await;
    let url = format!("{}/scim/v2", up.server.base);
    cli_ok(
        &app,
        &[
            "source", "add", "--name", "idp", "--kind", "scim", "--url", &url, "--token", &up.token,
        ],
    )
    .await;
    let preview = app
        .cli_json(&["source", "test", "idp", "--limit", "10"])
        .await;
    assert_eq!(preview["ok"], true, "{preview}");
    assert_eq!(preview["records"].as_array().unwrap().len(), 3);

    let (ok, report) = cli_report(&app, &["source", "run", "idp"]).await;
    assert!(ok, "{report}");
    assert_eq!(report["counts"]["created"], 3);
    let users = by_external_id(&app, "Users").await;
    let groups = by_external_id(&app, "Groups").await;
    assert_eq!(
        users[&ann]["userName"], "ann",
        "the upstream id is the externalId"
    );
    assert_eq!(
        users[&bob][ENTERPRISE]["manager"]["value"],
        users[&ann]["id"]
    );
    let members = app
        .get(&format!("/Groups/{}", groups[&eng]["id"].as_str().unwrap()))
        .await
        .body["members"]
        .clone();
    let mut ids: Vec<&str> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want = vec![
        users[&ann]["id"].as_str().unwrap(),
        users[&bob]["id"].as_str().unwrap(),
    ];
    want.sort();
    assert_eq!(ids, want);

    // One change upstream: an incremental run reads it, not everyone.
    up.send(
        Method::PATCH,
        &format!("/Users/{bob}"),
        Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": "Lead"}]}),
        ),
    )
    .await;
    let carol = up.user("carol", Some(&bob)).await;
    let seen = app.store.latest_change().unwrap();
    let (ok, report) = cli_report(&app, &["source", "run", "idp", "--incremental"]).await;
    assert!(ok, "{report}");
    assert_eq!(report["mode"], "incremental");
    assert_eq!(
        (
            report["counts"]["updated"].clone(),
            report["counts"]["created"].clone()
        ),
        (json!(1), json!(1)),
        "{report}"
    );
    let users = by_external_id(&app, "Users").await;
    assert_eq!(users[&bob]["title"], "Lead");
    assert_eq!(
        users[&carol][ENTERPRISE]["manager"]["value"],
        users[&bob]["id"]
    );
    let touched: Vec<String> = app
        .store
        .changes_after(seen, 100)
        .unwrap()
        .into_iter()
        .map(|c| c.resource_id)
        .collect();
    assert!(
        !touched.contains(&users[&ann]["id"].as_str().unwrap().to_string()),
        "ann was not written"
    );

    // Gone upstream: a full run deactivates (few: the guard lets it through).
    up.send(Method::DELETE, &format!("/Users/{carol}"), None)
        .await;
    let (_, report) = cli_report(&app, &["source", "run", "idp"]).await;
    assert_eq!(report["counts"]["deactivated"], 1, "{report}");
    assert_eq!(by_external_id(&app, "Users").await[&carol]["active"], false);

    // Refused credentials and an upstream that is not there fail the run, changing nothing.
    let before = app.snapshot();
    cli_ok(
        &app,
        &["source", "update", "idp", "--token", "not-the-token"],
    )
    .await;
    let (ok, failed) = cli_report(&app, &["source", "run", "idp"]).await;
    assert!(!ok);
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.contains("refused the credentials (HTTP 401)"),
        "{error}"
    );
    assert!(!error.contains("not-the-token"));
    let down = format!("http://127.0.0.1:{}/scim/v2", free_port());
    cli_ok(&app, &["source", "update", "idp", "--url", &down]).await;
    let (_, failed) = cli_report(&app, &["source", "run", "idp"]).await;
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{failed}"
    );
    assert_eq!(app.snapshot(), before);
}

const DEPARTMENT: &str = "urn:scimhub:params:scim:schemas:core:2.0:Department";

/// A department on the upstream; its id.
async fn department(up: &Upstream, name: &str, parent: Option<&str>) -> String {
    let mut body = json!({"schemas": [DEPARTMENT], "displayName": name});
    if let Some(p) = parent {
        body["parent"] = json!({"value": p});
    }
    let d = up.send(Method::POST, "/Departments", Some(body)).await;
    d["id"].as_str().unwrap().to_string()
}

async fn departments_come_from_a_second_scimhub(app: TestApp) {
    let Some(up) = Upstream::start(app.backend) else {
        return;
    };
    let acme = department(&up, "Acme", None).await;
    let rnd = department(&up, "R&D", Some(&acme)).await;
    let sales = department(&up, "Sales", None).await;
    let ann = up.user("ann", None).await;
    up.send(
        Method::PATCH,
        &format!("/Users/{ann}"),
        Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": ORGANIZATION, "value": {
                "primaryDepartment": {"value": rnd}, "departments": [{"value": sales}]}}]}),
        ),
    )
    .await;
    let url = format!("{}/scim/v2", up.server.base);
    cli_ok(
        &app,
        &[
            "source", "add", "--name", "idp", "--kind", "scim", "--url", &url, "--token", &up.token,
        ],
    )
    .await;
    let (ok, report) = cli_report(&app, &["source", "run", "idp"]).await;
    assert!(ok, "{report}");
    assert_eq!(
        report["counts"]["created"], 4,
        "three departments and ann: {report}"
    );
    let departments = by_external_id(&app, "Departments").await;
    let local = |upstream: &str| departments[upstream]["id"].clone();
    assert_eq!(departments[&rnd]["displayName"], "R&D");
    assert_eq!(departments[&rnd]["parent"]["value"], local(&acme));
    assert_eq!(departments[&sales]["parent"], Value::Null);
    let users = by_external_id(&app, "Users").await;
    let o = &users[&ann][ORGANIZATION];
    assert_eq!(o["primaryDepartment"]["value"], local(&rnd));
    assert_eq!(o["departments"][0]["value"], local(&sales));
    assert_eq!(stored_path(&app, &users[&ann]), departments[&rnd]["path"]);
    assert_eq!(users[&ann][ENTERPRISE]["department"], "R&D");

    // Upstream, R&D is renamed and moved under Sales: so it is here.
    up.send(
        Method::PATCH,
        &format!("/Departments/{rnd}"),
        Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Research"},
                           {"op": "replace", "path": "parent", "value": {"value": sales}}]}),
        ),
    )
    .await;
    let (ok, report) = cli_report(&app, &["source", "run", "idp", "--incremental"]).await;
    assert!(ok, "{report}");
    assert_eq!(
        (
            report["counts"]["departments"]["moved"].as_u64(),
            report["counts"]["created"].as_u64()
        ),
        (Some(1), Some(0)),
        "{report}"
    );
    let departments = by_external_id(&app, "Departments").await;
    let research = &departments[&rnd];
    assert_eq!(research["displayName"], "Research");
    assert_eq!(research["parent"]["value"], local(&sales));
    let ann_now = &by_external_id(&app, "Users").await[&ann];
    assert_eq!(stored_path(&app, ann_now), research["path"]);
    assert_eq!(ann_now[ENTERPRISE]["department"], "Research");
}

on_both_backends!(
    config = crate::sources::with_key;
    another_scim_server_is_read_whole_then_by_change,
    departments_come_from_a_second_scimhub,
);
