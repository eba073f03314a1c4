//! The organization tree over SCIM: `/Departments` (CRUD, filters, sorting,
//! paging, PATCH, ETags), its rules (no cycles, deletions that would
//! orphan people or sub-departments refused unless cascaded or moved), and
//! users' organization extension (department references checked, the
//! enterprise `department` string derived, everyone under a department
//! found with one filter).

use reqwest::{Method, StatusCode};
use scimhub::scim::ResourceKind;
use scimhub::scim::filter::parse_filter;
use scimhub::store::diesel::sql_answers_exactly;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::app::Response;
use crate::support::{ENTERPRISE, TestApp, USER_SCHEMA, user_body};

pub const DEPARTMENT: &str = "urn:scimhub:params:scim:schemas:core:2.0:Department";
pub const ORG: &str = "urn:scimhub:params:scim:schemas:extension:organization:2.0:User";
const NOWHERE: &str = "0d5a7f0e-0000-4000-8000-00000000dead";

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn department(name: &str, parent: Option<&str>) -> Value {
    let mut body = json!({"schemas": [DEPARTMENT], "displayName": name});
    if let Some(p) = parent {
        body["parent"] = json!({"value": p});
    }
    body
}

pub async fn create_department(app: &TestApp, name: &str, parent: Option<&str>) -> Value {
    let r = app.post("/Departments", &department(name, parent)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

fn member_of(user_name: &str, primary: &str) -> Value {
    let mut body = user_body(user_name);
    body["schemas"] = json!([USER_SCHEMA, ORG]);
    body[ORG] = json!({"primaryDepartment": {"value": primary}});
    body
}

async fn patch(app: &TestApp, path: &str, ops: Value, if_match: Option<&str>) -> Response {
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let mut req = app
        .client()
        .request(Method::PATCH, app.url(path))
        .bearer_auth(&app.token)
        .header("content-type", "application/scim+json")
        .body(body.to_string());
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    app.raw(req).await
}

fn ids(r: &Response) -> Vec<String> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect()
}

/// A user with the derived names and path its organization extension
/// returns only on request, and its enterprise `department`.
async fn org_view(app: &TestApp, user: &str) -> Response {
    let attributes = [
        "meta".to_string(),
        format!("{ENTERPRISE}:department"),
        format!("{ORG}:primaryDepartment"),
        format!("{ORG}:primaryDepartment.display"),
        format!("{ORG}:departments"),
        format!("{ORG}:departments.display"),
        format!("{ORG}:departmentPath"),
    ];
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("attributes", &attributes.join(","));
    let r = app.get(&format!("/Users/{user}?{}", q.finish())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r
}

fn filtered(filter: &str) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("filter", filter);
    q.finish()
}

async fn departments_are_scim_resources(app: TestApp) {
    let acme = create_department(&app, "Acme", None).await;
    let acme_id = id(&acme);
    assert_eq!(acme["schemas"], json!([DEPARTMENT]));
    assert_eq!(acme["path"], format!("/{acme_id}/"));
    assert!(acme.get("parent").is_none());
    let rnd = create_department(&app, "R&D", Some(&acme_id)).await;
    let rnd_id = id(&rnd);
    assert_eq!(rnd["parent"]["value"], acme_id.as_str());
    // The parent's name is derived, so shown only when asked for.
    assert!(rnd["parent"].get("display").is_none(), "{rnd}");
    let asked = app
        .get(&format!(
            "/Departments/{rnd_id}?attributes=parent,parent.display"
        ))
        .await;
    assert_eq!(asked.body["parent"]["display"], "Acme", "{}", asked.text);
    assert!(
        rnd["parent"]["$ref"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/scim/v2/Departments/{acme_id}"))
    );
    assert_eq!(rnd["path"], format!("/{acme_id}/{rnd_id}/"));
    let mut platform = department("Platform", Some(&rnd_id));
    platform["code"] = json!("PLT-1");
    platform["ordering"] = json!(2);
    let r = app.post("/Departments", &platform).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let platform_id = id(&r.body);
    let sales_id = id(&create_department(&app, "Sales", Some(&acme_id)).await);

    // Discovery lists the resource type, its schema and the User extension.
    let rt = app.get("/ResourceTypes/Department").await;
    assert_eq!(rt.body["endpoint"], "/Departments");
    assert_eq!(rt.body["schema"], DEPARTMENT);
    let user_rt = app.get("/ResourceTypes/User").await;
    assert!(
        user_rt.body["schemaExtensions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["schema"] == ORG)
    );
    assert_eq!(
        app.get(&format!("/Schemas/{DEPARTMENT}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/Schemas/{ORG}")).await.status,
        StatusCode::OK
    );

    // Filters: children of a department, a whole subtree, by code.
    let children = app
        .get(&format!(
            "/Departments?{}",
            filtered(&format!("parent.value eq \"{acme_id}\""))
        ))
        .await;
    let mut got = ids(&children);
    got.sort();
    let mut want = vec![rnd_id.clone(), sales_id.clone()];
    want.sort();
    assert_eq!(got, want);
    let under = format!("path sw \"/{acme_id}/{rnd_id}/\"");
    assert!(sql_answers_exactly(
        ResourceKind::Department,
        &parse_filter(&under, Default::default()).unwrap()
    ));
    let sorted = app
        .get(&format!(
            "/Departments?{}&sortBy=displayName",
            filtered(&under)
        ))
        .await;
    assert_eq!(ids(&sorted), [platform_id.clone(), rnd_id.clone()]);
    let roots = app
        .get(&format!("/Departments?{}", filtered("not (parent pr)")))
        .await;
    assert_eq!(ids(&roots), [acme_id.as_str()]);
    let coded = app
        .get(&format!("/Departments?{}", filtered("code eq \"PLT-1\"")))
        .await;
    assert_eq!(ids(&coded), [platform_id.as_str()]);
    // Sorting and index paging.
    let page = app
        .get("/Departments?sortBy=displayName&sortOrder=descending&startIndex=2&count=2")
        .await;
    assert_eq!(page.body["totalResults"], 4);
    assert_eq!(ids(&page), [rnd_id.clone(), platform_id.clone()]);
    let projected = app
        .get(&format!("/Departments/{platform_id}?attributes=code"))
        .await;
    assert_eq!(projected.body["code"], "PLT-1");
    assert!(projected.body.get("displayName").is_none());

    // PATCH with ETags: a stale version is refused, the current one accepted.
    let current = app.get(&format!("/Departments/{sales_id}")).await;
    let etag = current.header("etag").unwrap().to_string();
    let rename = json!([{"op": "replace", "path": "displayName", "value": "Sales EMEA"}]);
    patch(
        &app,
        &format!("/Departments/{sales_id}"),
        rename.clone(),
        Some("W/\"99\""),
    )
    .await
    .assert_error(412, None);
    let r = patch(
        &app,
        &format!("/Departments/{sales_id}"),
        rename,
        Some(&etag),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["displayName"], "Sales EMEA");
    assert_ne!(r.header("etag").unwrap(), etag);
    // PUT keeps what it is given; readOnly `path` is the server's.
    let mut put = department("Sales", Some(&acme_id));
    put["path"] = json!("/made/up/");
    put["code"] = json!("S");
    let r = app.put(&format!("/Departments/{sales_id}"), &put).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["code"], "S");
    assert_eq!(r.body["path"], format!("/{acme_id}/{sales_id}/"));

    // A sibling of the same name (any case) or a taken code is refused.
    app.post("/Departments", &department("sales", Some(&acme_id)))
        .await
        .assert_error(409, Some("uniqueness"));
    let mut again = department("Other", None);
    again["code"] = json!("PLT-1");
    app.post("/Departments", &again)
        .await
        .assert_error(409, Some("uniqueness"));
    // The same name elsewhere is fine.
    create_department(&app, "Sales", Some(&rnd_id)).await;
    // An unknown parent is refused.
    app.post("/Departments", &department("Lost", Some(NOWHERE)))
        .await
        .assert_error(400, Some("invalidValue"));

    // Every change is in the change log (and so in the audit trail).
    let changes = app.store.changes_after(0, u32::MAX).unwrap();
    let logged = changes
        .iter()
        .filter(|c| c.resource_type == "Department" && c.resource_id == sales_id)
        .count();
    assert_eq!(logged, 3, "create, patch, put");
}

async fn a_move_under_its_own_subtree_is_refused_and_changes_nothing(app: TestApp) {
    let top = id(&create_department(&app, "Top", None).await);
    let mid = id(&create_department(&app, "Mid", Some(&top)).await);
    let low = id(&create_department(&app, "Low", Some(&mid)).await);
    let before = app.snapshot();
    for parent in [&low, &mid, &top] {
        let moved = json!([{"op": "replace", "path": "parent", "value": {"value": parent}}]);
        let r = patch(&app, &format!("/Departments/{top}"), moved, None).await;
        r.assert_error(400, Some("invalidValue"));
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.contains(&top),
            "names the moved department: {detail}"
        );
        assert!(
            detail.contains(parent.as_str()),
            "names the parent: {detail}"
        );
    }
    let mut put = department("Mid", Some(&low));
    put["id"] = json!(mid);
    app.put(&format!("/Departments/{mid}"), &put)
        .await
        .assert_error(400, Some("invalidValue"));
    assert_eq!(app.snapshot(), before, "nothing changed");

    // A move elsewhere takes the whole subtree along.
    let other = id(&create_department(&app, "Other", None).await);
    let moved = json!([{"op": "replace", "path": "parent.value", "value": other}]);
    let r = patch(&app, &format!("/Departments/{mid}"), moved, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let low_now = app.get(&format!("/Departments/{low}")).await;
    assert_eq!(low_now.body["path"], format!("/{other}/{mid}/{low}/"));
    assert_eq!(low_now.body["meta"]["version"], "W/\"2\"");
    // Removing the parent makes it a root.
    let rooted = json!([{"op": "remove", "path": "parent"}]);
    let r = patch(&app, &format!("/Departments/{mid}"), rooted, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["path"], format!("/{mid}/"));
    let low_now = app.get(&format!("/Departments/{low}")).await;
    assert_eq!(low_now.body["path"], format!("/{mid}/{low}/"));
}

async fn deleting_a_department_with_people_or_children_needs_cascade_or_move(app: TestApp) {
    let top = id(&create_department(&app, "Top", None).await);
    let mid = id(&create_department(&app, "Mid", Some(&top)).await);
    let low = id(&create_department(&app, "Low", Some(&mid)).await);
    let elsewhere = id(&create_department(&app, "Elsewhere", None).await);
    let r = app.post("/Users", &member_of("ann", &mid)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let ann = id(&r.body);
    let r = app.post("/Users", &member_of("bob", &low)).await;
    let bob = id(&r.body);

    let before = app.snapshot();
    let r = app.delete(&format!("/Departments/{mid}")).await;
    r.assert_error(409, None);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("1 sub-department(s) and 1 person(s)"),
        "{detail}"
    );
    app.delete(&format!(
        "/Departments/{mid}?cascade=true&moveTo={elsewhere}"
    ))
    .await
    .assert_error(400, Some("invalidValue"));
    app.delete(&format!("/Departments/{mid}?moveTo={low}"))
        .await
        .assert_error(400, Some("invalidValue"));
    app.delete(&format!("/Departments/{mid}?moveTo={NOWHERE}"))
        .await
        .assert_error(400, Some("invalidValue"));
    assert_eq!(app.snapshot(), before, "nothing changed");

    // moveTo: its sub-departments and people move, then it goes.
    let r = app
        .delete(&format!("/Departments/{mid}?moveTo={elsewhere}"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        app.get(&format!("/Departments/{mid}")).await.status,
        StatusCode::NOT_FOUND
    );
    let low_now = app.get(&format!("/Departments/{low}")).await;
    assert_eq!(low_now.body["path"], format!("/{elsewhere}/{low}/"));
    let ann_now = app.get(&format!("/Users/{ann}")).await;
    assert_eq!(
        ann_now.body[ORG]["primaryDepartment"]["value"],
        elsewhere.as_str()
    );
    assert_eq!(ann_now.body[ENTERPRISE]["department"], "Elsewhere");
    let bob_now = org_view(&app, &bob).await;
    assert_eq!(
        bob_now.body[ORG]["departmentPath"],
        format!("/{elsewhere}/{low}/")
    );

    // cascade: the subtree goes, people stay without those departments.
    let r = app
        .delete(&format!("/Departments/{elsewhere}?cascade=true"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    for gone in [&elsewhere, &low] {
        assert_eq!(
            app.get(&format!("/Departments/{gone}")).await.status,
            StatusCode::NOT_FOUND
        );
    }
    for person in [&ann, &bob] {
        let now = app.get(&format!("/Users/{person}")).await;
        assert_eq!(now.status, StatusCode::OK);
        assert!(now.body.get(ORG).is_none(), "{}", now.text);
        assert!(now.body.get(ENTERPRISE).is_none(), "{}", now.text);
    }
    // An empty department goes without asking.
    let r = app.delete(&format!("/Departments/{top}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
}

async fn people_follow_their_departments(app: TestApp) {
    let acme = id(&create_department(&app, "Acme", None).await);
    let rnd = id(&create_department(&app, "R&D", Some(&acme)).await);
    let lab = id(&create_department(&app, "Lab", Some(&rnd)).await);
    let sales = id(&create_department(&app, "Sales", Some(&acme)).await);

    // A reference to a department that does not exist is refused.
    let before = app.snapshot();
    app.post("/Users", &member_of("nobody", NOWHERE))
        .await
        .assert_error(400, Some("invalidValue"));
    let mut further = user_body("further");
    further["schemas"] = json!([USER_SCHEMA, ORG]);
    further[ORG] = json!({"departments": [{"value": NOWHERE}]});
    app.post("/Users", &further)
        .await
        .assert_error(400, Some("invalidValue"));
    assert_eq!(app.snapshot(), before, "nothing was stored");

    // The display, path and department string are derived.
    let mut body = member_of("ann", &lab);
    body[ENTERPRISE] = json!({"department": "whatever the client says"});
    body[ORG]["departments"] = json!([{"value": sales}]);
    let r = app.post("/Users", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let ann = id(&r.body);
    // By default a reference is what a client writes, with its `$ref`.
    let href = |d: &str| app.url(&format!("/Departments/{d}"));
    assert_eq!(
        r.body[ORG],
        json!({"primaryDepartment": {"value": lab, "$ref": href(&lab)},
               "departments": [{"value": sales, "$ref": href(&sales)}]})
    );
    assert_eq!(r.body[ENTERPRISE]["department"], "Lab");
    let r = org_view(&app, &ann).await;
    assert_eq!(
        r.body[ORG]["primaryDepartment"],
        json!({"value": lab, "$ref": href(&lab), "display": "Lab"})
    );
    assert_eq!(
        r.body[ORG]["departments"],
        json!([{"value": sales, "$ref": href(&sales), "display": "Sales"}])
    );
    assert_eq!(
        r.body[ORG]["departmentPath"],
        format!("/{acme}/{rnd}/{lab}/")
    );
    let bob = id(&app.post("/Users", &member_of("bob", &sales)).await.body);
    let carl = id(&app.post("/Users", &member_of("carl", &rnd)).await.body);
    app.create_user("dora").await;

    // Everyone under a department, transitively, is one SQL filter.
    let everyone_under = |path: String| format!("{ORG}:departmentPath sw \"{path}\"");
    let under_rnd = everyone_under(format!("/{acme}/{rnd}/"));
    assert!(sql_answers_exactly(
        ResourceKind::User,
        &parse_filter(&under_rnd, Default::default()).unwrap()
    ));
    let mut got = ids(&app.get(&format!("/Users?{}", filtered(&under_rnd))).await);
    got.sort();
    let mut want = vec![ann.clone(), carl.clone()];
    want.sort();
    assert_eq!(got, want);
    let in_sales = format!(
        "{ORG}:departments[value eq \"{sales}\"] or {ORG}:primaryDepartment.value eq \"{sales}\""
    );
    let mut got = ids(&app.get(&format!("/Users?{}", filtered(&in_sales))).await);
    got.sort();
    let mut want = vec![ann.clone(), bob.clone()];
    want.sort();
    assert_eq!(got, want);

    // A rename reaches the people's display and department string.
    let ann_version = app.get(&format!("/Users/{ann}")).await.body["meta"]["version"].clone();
    let rename = json!([{"op": "replace", "path": "displayName", "value": "Laboratory"}]);
    let r = patch(&app, &format!("/Departments/{lab}"), rename, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ann_now = org_view(&app, &ann).await;
    assert_eq!(ann_now.body[ENTERPRISE]["department"], "Laboratory");
    assert_eq!(
        ann_now.body[ORG]["primaryDepartment"]["display"],
        "Laboratory"
    );
    assert_ne!(ann_now.body["meta"]["version"], ann_version);
    let by_name = format!("{ENTERPRISE}:department eq \"laboratory\"");
    assert_eq!(
        ids(&app.get(&format!("/Users?{}", filtered(&by_name))).await),
        [ann.as_str()]
    );
    // A move reaches the people's path, and the filter follows.
    let moved = json!([{"op": "replace", "path": "parent", "value": {"value": sales}}]);
    let r = patch(&app, &format!("/Departments/{lab}"), moved, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ann_now = org_view(&app, &ann).await;
    assert_eq!(
        ann_now.body[ORG]["departmentPath"],
        format!("/{acme}/{sales}/{lab}/")
    );
    assert_eq!(
        ids(&app.get(&format!("/Users?{}", filtered(&under_rnd))).await),
        [carl.as_str()]
    );
    let changes = app.store.changes_after(0, u32::MAX).unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c.resource_id == ann && c.operation == "update"),
        "the moved person has a change-log row"
    );

    // A PATCH of the reference moves the person; removing it detaches.
    let set =
        json!([{"op": "replace", "path": format!("{ORG}:primaryDepartment.value"), "value": rnd}]);
    let r = patch(&app, &format!("/Users/{bob}"), set, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body[ENTERPRISE]["department"], "R&D");
    assert_eq!(
        org_view(&app, &bob).await.body[ORG]["departmentPath"],
        format!("/{acme}/{rnd}/")
    );
    let unset = json!([{"op": "remove", "path": format!("{ORG}:primaryDepartment")}]);
    let r = patch(&app, &format!("/Users/{bob}"), unset, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body.get(ORG).is_none(), "{}", r.text);
    // Without a primary department the string is the client's own.
    assert_eq!(r.body[ENTERPRISE]["department"], "R&D");
}

async fn a_put_without_the_extension_leaves_every_department(app: TestApp) {
    let rnd = id(&create_department(&app, "R&D", None).await);
    let guild = id(&create_department(&app, "Guild", None).await);
    let mut body = member_of("ann", &rnd);
    body[ORG]["departments"] = json!([{"value": guild}]);
    let ann = id(&app.post("/Users", &body).await.body);
    app.delete(&format!("/Departments/{guild}"))
        .await
        .assert_error(409, None);
    let r = app.put(&format!("/Users/{ann}"), &user_body("ann")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body.get(ORG).is_none(), "{}", r.text);
    for gone in [&guild, &rnd] {
        let r = app.delete(&format!("/Departments/{gone}")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
}

/// Moves of a subtree racing with people changing departments into and
/// out of it: every request succeeds and every person ends with the path
/// of the department it names.
async fn moves_racing_with_people_keep_every_path_true(app: TestApp) {
    let a = id(&create_department(&app, "A", None).await);
    let x = id(&create_department(&app, "X", None).await);
    let b = id(&create_department(&app, "B", Some(&a)).await);
    let c = id(&create_department(&app, "C", Some(&b)).await);
    let mut people = Vec::new();
    for i in 0..12 {
        people.push(id(&app
            .post("/Users", &member_of(&format!("p{i}"), &c))
            .await
            .body));
    }
    let app = &app;
    let (a, b, c, x) = (&a, &b, &c, &x);
    let mover = async {
        for round in 0..16 {
            let to = if round % 2 == 0 { x } else { a };
            let moved = json!([{"op": "replace", "path": "parent.value", "value": to}]);
            let r = patch(app, &format!("/Departments/{b}"), moved, None).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
    };
    let changers = people.chunks(4).map(|group| async move {
        for round in 0..6 {
            for (k, person) in group.iter().enumerate() {
                let to = [b, c, x][(round + k) % 3];
                let set = json!([{"op": "replace", "path": format!("{ORG}:primaryDepartment"), "value": {"value": to}}]);
                let r = patch(app, &format!("/Users/{person}"), set, None).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            }
        }
    });
    futures_util::future::join(mover, futures_util::future::join_all(changers)).await;
    for person in &people {
        let u = org_view(app, person).await;
        let named = u.body[ORG]["primaryDepartment"]["value"]
            .as_str()
            .unwrap()
            .to_string();
        let d = app.get(&format!("/Departments/{named}")).await;
        assert_eq!(u.body[ORG]["departmentPath"], d.body["path"], "{}", u.text);
    }
}

/// A reference needs its `value` (a `$ref` alone is refused, nothing
/// changed); the enterprise `department` string follows the primary
/// department when a write sets or changes it, and is the client's own
/// otherwise.
async fn references_need_a_value_and_the_department_string(app: TestApp) {
    let acme = id(&create_department(&app, "Acme", None).await);
    let lab = id(&create_department(&app, "Lab", Some(&acme)).await);
    let href = |d: &str| app.url(&format!("/Departments/{d}"));
    let before = app.snapshot();
    let body =
        json!({"schemas": [DEPARTMENT], "displayName": "Ops", "parent": {"$ref": href(&acme)}});
    app.post("/Departments", &body)
        .await
        .assert_error(400, Some("invalidValue"));
    let mut body = user_body("ref-only");
    body["schemas"] = json!([USER_SCHEMA, ORG]);
    body[ORG] = json!({"primaryDepartment": {"$ref": href(&lab)}});
    app.post("/Users", &body)
        .await
        .assert_error(400, Some("invalidValue"));
    assert_eq!(app.snapshot(), before, "nothing was stored");

    let mut body = user_body("both");
    body["schemas"] = json!([USER_SCHEMA, ORG]);
    body[ORG] = json!({"primaryDepartment": {"value": lab, "$ref": href(&lab)},
                       "departments": [{"value": acme}]});
    let r = app.post("/Users", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let user = id(&r.body);
    assert_eq!(r.body[ENTERPRISE]["department"], "Lab");

    // The client's own string stays while the primary department does.
    let own = json!([{"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Research lab"}]);
    let r = patch(&app, &format!("/Users/{user}"), own, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body[ENTERPRISE]["department"], "Research lab");
    let further =
        json!([{"op": "add", "path": format!("{ORG}:departments"), "value": [{"value": lab}]}]);
    let r = patch(&app, &format!("/Users/{user}"), further, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body[ENTERPRISE]["department"], "Research lab");
    assert_eq!(
        r.body[ORG]["departments"],
        json!([{"value": acme, "$ref": href(&acme)}, {"value": lab, "$ref": href(&lab)}]),
        "add appends to the further departments"
    );
    // Changing the primary department renames the string.
    let moved = json!([{"op": "replace", "path": format!("{ORG}:primaryDepartment"), "value": {"value": acme}}]);
    let r = patch(&app, &format!("/Users/{user}"), moved, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body[ENTERPRISE]["department"], "Acme");
}

on_both_backends!(
    references_need_a_value_and_the_department_string,
    moves_racing_with_people_keep_every_path_true,
    a_put_without_the_extension_leaves_every_department,
    departments_are_scim_resources,
    a_move_under_its_own_subtree_is_refused_and_changes_nothing,
    deleting_a_department_with_people_or_children_needs_cascade_or_move,
    people_follow_their_departments,
);
