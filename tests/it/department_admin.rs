//! `scimhub dept` and `/admin/v1/departments`: the same tree, the same
//! rules, every change audited with the door's actor.

use reqwest::{Method, StatusCode};
use scimhub::store::AuditQuery;
use serde_json::{Value, json};

use crate::departments::ORG;
use crate::on_both_backends;
use crate::support::{TestApp, USER_SCHEMA, user_body};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn person(app: &TestApp, user_name: &str, department: &str) {
    let mut body = user_body(user_name);
    body["schemas"] = json!([USER_SCHEMA, ORG]);
    body[ORG] = json!({"primaryDepartment": {"value": department}});
    let r = app.post("/Users", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn the_cli_prints_and_changes_the_tree(app: TestApp) {
    let acme = id(&app.cli_json(&["dept", "add", "--name", "Acme"]).await);
    let rnd = app
        .cli_json(&[
            "dept", "add", "--name", "R&D", "--parent", &acme, "--code", "RD",
        ])
        .await;
    assert_eq!(rnd["parent"]["display"], "Acme");
    let rnd = id(&rnd);
    let sales = id(&app
        .cli_json(&[
            "dept",
            "add",
            "--name",
            "Sales",
            "--parent",
            &acme,
            "--ordering",
            "-1",
        ])
        .await);
    let lab = id(&app
        .cli_json(&["dept", "add", "--name", "Lab", "--parent", &rnd])
        .await);
    person(&app, "ann", &lab).await;
    person(&app, "bob", &lab).await;
    person(&app, "carl", &acme).await;

    let out = app.cli(&["dept", "tree"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout(&out),
        format!(
            "Acme  1 person (3 in all)  {acme}\n  Sales  0 people (0 in all)  {sales}\n  \
             R&D [RD]  0 people (2 in all)  {rnd}\n    Lab  2 people (2 in all)  {lab}\n"
        )
    );
    let sub = app.cli_json(&["dept", "tree", &rnd]).await;
    assert_eq!(sub["departments"][0]["displayName"], "R&D");
    assert_eq!(sub["departments"][0]["peopleInAll"], 2);
    assert_eq!(sub["departments"][0]["children"][0]["id"], lab.as_str());

    // A move under its own subtree is refused, with the reason.
    let out = app.cli(&["dept", "move", &rnd, "--parent", &lab]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cycle") && err.contains(&lab), "{err}");
    let moved = app.cli_json(&["dept", "move", &lab, "--root"]).await;
    assert_eq!(moved["path"], format!("/{lab}/"));
    let updated = app
        .cli_json(&[
            "dept",
            "update",
            &rnd,
            "--name",
            "Research",
            "--ordering",
            "5",
        ])
        .await;
    assert_eq!(updated["displayName"], "Research");
    assert_eq!(updated["ordering"], 5);
    let shown = app.cli(&["dept", "show", &rnd]).await;
    assert!(stdout(&shown).contains("Research"), "{}", stdout(&shown));

    // Removal: refused with people, moved with --move-to.
    let out = app.cli(&["dept", "remove", &lab]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 person(s)"));
    let removal = app
        .cli_json(&["dept", "remove", &lab, "--move-to", &sales])
        .await;
    assert_eq!(
        removal,
        json!({"removed": [lab], "movedDepartments": 0, "people": 2})
    );
    let tree = app.cli_json(&["dept", "tree"]).await;
    let sales_node = &tree["departments"][0]["children"][0];
    assert_eq!(sales_node["id"], sales.as_str());
    assert_eq!(sales_node["people"], 2);

    // Audited as the CLI's actor.
    let audit = app
        .store
        .audit(&AuditQuery {
            resource_id: Some(rnd.clone()),
            limit: 10,
            ..AuditQuery::default()
        })
        .unwrap();
    assert!(audit.len() >= 2, "{audit:?}");
    assert!(audit.iter().all(|a| a.actor == "cli:tester"), "{audit:?}");
}

async fn the_admin_api_works_on_the_same_tree(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let call = |method: Method, path: &str, body: Option<Value>| {
        let req = app
            .client()
            .request(method, app.url(path))
            .bearer_auth(&admin);
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(b.to_string()),
            None => req,
        };
        app.raw(req)
    };
    let r = call(
        Method::POST,
        "/admin/v1/departments",
        Some(json!({"displayName": "Acme"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let acme = id(&r.body);
    let r = call(
        Method::POST,
        "/admin/v1/departments",
        Some(json!({"displayName": "R&D", "parent": acme, "code": "RD"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let rnd = id(&r.body);
    // The SCIM door sees it, and the admin API sees SCIM writes.
    let scim = app.get(&format!("/Departments/{rnd}")).await;
    assert_eq!(scim.body["code"], "RD");
    person(&app, "ann", &rnd).await;
    let tree = call(Method::GET, "/admin/v1/departments", None).await;
    assert_eq!(tree.body["departments"][0]["peopleInAll"], 1);

    let r = call(
        Method::PATCH,
        &format!("/admin/v1/departments/{rnd}"),
        Some(json!({"displayName": "Research", "code": null})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["displayName"], "Research");
    assert!(r.body.get("code").is_none());
    let ann = app.get("/Users?filter=userName%20eq%20%22ann%22").await;
    assert_eq!(
        ann.body["Resources"][0]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "Research"
    );
    let before = app.snapshot();
    let r = call(
        Method::POST,
        &format!("/admin/v1/departments/{acme}/move"),
        Some(json!({"parent": rnd})),
    )
    .await;
    r.assert_error(400, Some("invalidValue"));
    let r = call(
        Method::DELETE,
        &format!("/admin/v1/departments/{acme}"),
        None,
    )
    .await;
    r.assert_error(409, None);
    assert_eq!(app.snapshot(), before, "nothing changed");
    let r = call(
        Method::DELETE,
        &format!("/admin/v1/departments/{acme}?cascade=true"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["removed"], json!([rnd, acme]));
    assert_eq!(r.body["people"], 1);
    // A SCIM token is not an admin token.
    let r = app.get("/admin/v1/departments").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

on_both_backends!(
    the_cli_prints_and_changes_the_tree,
    the_admin_api_works_on_the_same_tree,
);
