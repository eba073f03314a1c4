//! Admin-defined extension schemas (issue #22) over the admin API and SCIM:
//! discovery, validation on write, filters, sorting, projections, PATCH
//! paths, Entra's custom URNs, schema changes on data in use, and schemas
//! declared in the configuration.
//!
//! Servers of one test process share the registry (each publishes its own
//! schemas into it), so every test names its schemas after itself and
//! its backend.

use reqwest::{Method, StatusCode};
use scimhub::config::{Config, SchemaConfig};
use scimhub::store::AuditQuery;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::app::Response;
use crate::support::{Backend, TestApp, USER_SCHEMA};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn urn(name: &str, app: &TestApp) -> String {
    let backend = match app.backend {
        Backend::Sqlite => "Lite",
        Backend::Postgres => "Pg",
    };
    format!("urn:ietf:params:scim:schemas:extension:{name}{backend}:2.0:User")
}

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A definition with one attribute of every type.
fn every_type(id: &str) -> Value {
    json!({
        "id": id,
        "name": "Badges",
        "description": "Badge office data",
        "resourceType": "User",
        "attributes": [
            {"name": "badge", "type": "string", "uniqueness": "server", "caseExact": true},
            {"name": "clearance", "type": "string", "canonicalValues": ["low", "high"]},
            {"name": "remote", "type": "boolean"},
            {"name": "rate", "type": "decimal"},
            {"name": "floor", "type": "integer", "required": true},
            {"name": "hired", "type": "dateTime", "mutability": "immutable"},
            {"name": "buddy", "type": "reference", "referenceTypes": ["User"]},
            {"name": "photo", "type": "binary", "returned": "request"},
            {"name": "issuedBy", "type": "string", "mutability": "readOnly"},
            {"name": "desks", "type": "complex", "multiValued": true, "subAttributes": [
                {"name": "building", "type": "string", "required": true},
                {"name": "number", "type": "integer"},
            ]},
        ],
    })
}

async fn admin_send(
    app: &TestApp,
    admin: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Response {
    let body = body.map(|b| b.to_string().into_bytes());
    app.send(method, path, Some(admin), body).await
}

async fn define(app: &TestApp, admin: &str, definition: &Value) -> Value {
    let r = admin_send(
        app,
        admin,
        Method::POST,
        "/admin/v1/schemas",
        Some(definition),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

async fn patch(app: &TestApp, path: &str, operations: Value) -> Response {
    let body = json!({"schemas": [PATCH_OP], "Operations": operations});
    app.send(
        Method::PATCH,
        path,
        Some(&app.token),
        Some(body.to_string().into_bytes()),
    )
    .await
}

fn user_with(name: &str, ext: &str, values: Value) -> Value {
    json!({"schemas": [USER_SCHEMA, ext], "userName": name, ext: values})
}

fn names(list: &Response) -> Vec<String> {
    list.body["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("no Resources: {}", list.text))
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_string())
        .collect()
}

fn good_values() -> Value {
    json!({
        "badge": "B-1", "clearance": "HIGH", "remote": "True", "rate": 1.5, "floor": 3,
        "hired": "2024-02-01T09:00:00Z", "buddy": "https://h/scim/v2/Users/x", "photo": "aGk=",
        "issuedBy": "ignored", "desks": [{"building": "North", "number": 12}],
    })
}

async fn every_type_is_discovered_and_validated_on_write(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let ext = urn("Types", &app);
    let shown = define(&app, &admin, &every_type(&ext)).await;
    assert_eq!(shown["meta"]["source"], "admin");
    assert_eq!(shown["meta"]["version"], 1);

    // Discovery: the schema, and an optional extension of User.
    let schema = app.get(&format!("/Schemas/{ext}")).await;
    assert_eq!(schema.status, StatusCode::OK, "{}", schema.text);
    let attrs = schema.body["attributes"].as_array().unwrap();
    let types: Vec<&str> = attrs.iter().map(|a| a["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "string",
            "string",
            "boolean",
            "decimal",
            "integer",
            "dateTime",
            "reference",
            "binary",
            "string",
            "complex"
        ]
    );
    assert_eq!(attrs[1]["canonicalValues"], json!(["low", "high"]));
    assert_eq!(attrs[9]["subAttributes"][0]["required"], true);
    let rt = app.get("/ResourceTypes/User").await;
    let listed = rt.body["schemaExtensions"].as_array().unwrap();
    assert!(
        listed.contains(&json!({"schema": ext, "required": false})),
        "{}",
        rt.text
    );
    let all = app.get("/Schemas").await;
    assert!(
        all.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == ext)
    );

    // A valid write: values are typed and canonical, readOnly input ignored.
    let created = app
        .post("/Users", &user_with("ann", &ext, good_values()))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let ann = created.body["id"].as_str().unwrap().to_string();
    let stored = &created.body[&ext];
    assert_eq!(stored["clearance"], "high");
    assert_eq!(stored["remote"], true);
    assert_eq!(
        stored["desks"],
        json!([{"building": "North", "number": 12}])
    );
    assert!(
        stored.get("issuedBy").is_none() && stored.get("photo").is_none(),
        "{stored}"
    );
    assert!(
        created.body["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(ext))
    );

    // Each invalid value: 400 naming the attribute, nothing stored.
    let before = app.snapshot();
    let bad: Vec<(&str, Value, &str)> = vec![
        ("badge", json!(5), "badge"),
        ("remote", json!("yes"), "remote"),
        ("rate", json!("fast"), "rate"),
        ("floor", json!(1.5), "floor"),
        ("hired", json!("yesterday"), "hired"),
        ("buddy", json!(7), "buddy"),
        ("photo", json!(false), "photo"),
        ("clearance", json!("secret"), "clearance"),
        ("desks", json!("North"), "desks"),
        ("desks", json!([{"number": 1}]), "building"),
        ("floor", Value::Null, "floor"),
    ];
    for (attribute, value, named) in bad {
        let mut values = good_values();
        values["badge"] = json!("B-2");
        values[attribute] = value.clone();
        let r = app.post("/Users", &user_with("bob", &ext, values)).await;
        r.assert_error(400, Some("invalidValue"));
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains(named), "{attribute}={value}: {detail}");
    }
    // A taken unique value is 409, on create, replace and PATCH alike.
    let taken = app
        .post("/Users", &user_with("bob", &ext, good_values()))
        .await;
    taken.assert_error(409, Some("uniqueness"));
    assert!(
        taken.text.contains(&format!("{ext}:badge")),
        "{}",
        taken.text
    );
    assert_eq!(app.snapshot(), before);

    let mut other = good_values();
    other["badge"] = json!("B-9");
    let bob = app
        .post("/Users", &user_with("bob", &ext, other.clone()))
        .await;
    assert_eq!(bob.status, StatusCode::CREATED, "{}", bob.text);
    let bob = bob.body["id"].as_str().unwrap().to_string();
    let before = app.snapshot();
    let mut replaced = other.clone();
    replaced["badge"] = json!("B-1");
    app.put(&format!("/Users/{bob}"), &user_with("bob", &ext, replaced))
        .await
        .assert_error(409, Some("uniqueness"));
    let taken = json!([{"op": "replace", "path": format!("{ext}:badge"), "value": "B-1"}]);
    patch(&app, &format!("/Users/{bob}"), taken)
        .await
        .assert_error(409, Some("uniqueness"));
    // Invalid through PATCH, and an immutable value changed by PUT.
    let wrong = json!([{"op": "add", "path": format!("{ext}:floor"), "value": "third"}]);
    patch(&app, &format!("/Users/{bob}"), wrong)
        .await
        .assert_error(400, Some("invalidValue"));
    let gone = json!([{"op": "remove", "path": format!("{ext}:floor")}]);
    let r = patch(&app, &format!("/Users/{bob}"), gone).await;
    r.assert_error(400, Some("mutability"));
    assert!(r.text.contains("floor"), "{}", r.text);
    let mut moved = other.clone();
    moved["hired"] = json!("2025-01-01T00:00:00Z");
    app.put(&format!("/Users/{bob}"), &user_with("bob", &ext, moved))
        .await
        .assert_error(400, Some("mutability"));
    assert_eq!(app.snapshot(), before);

    // The same user may keep its own unique value on PUT.
    let same = app
        .put(
            &format!("/Users/{ann}"),
            &user_with("ann", &ext, good_values()),
        )
        .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text);
}

async fn extension_attributes_filter_sort_and_project(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let ext = urn("Query", &app);
    define(&app, &admin, &every_type(&ext)).await;
    let people = [
        (
            "ann",
            "A-1",
            3,
            "2020-01-01T00:00:00Z",
            "North",
            Some("low"),
        ),
        ("bob", "A-2", 7, "2022-06-01T00:00:00Z", "South", None),
        (
            "cy",
            "C-3",
            5,
            "2021-03-01T12:00:00+02:00",
            "North",
            Some("high"),
        ),
    ];
    for (name, badge, floor, hired, building, clearance) in people {
        let mut values = json!({"badge": badge, "floor": floor, "hired": hired,
            "desks": [{"building": building}], "photo": "aGk="});
        if let Some(c) = clearance {
            values["clearance"] = json!(c);
        }
        let r = app.post("/Users", &user_with(name, &ext, values)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    app.create_user("dee").await; // no extension at all

    let filtered = |f: String| {
        let app = &app;
        async move {
            let r = app
                .get(&format!("/Users?sortBy=userName&filter={}", q(&f)))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{f}: {}", r.text);
            names(&r)
        }
    };
    assert_eq!(filtered(format!("{ext}:badge eq \"A-2\"")).await, ["bob"]);
    assert_eq!(
        filtered(format!("{ext}:badge eq \"a-2\"")).await,
        Vec::<String>::new()
    ); // caseExact
    assert_eq!(
        filtered(format!("{ext}:badge sw \"A-\"")).await,
        ["ann", "bob"]
    );
    assert_eq!(filtered(format!("{ext}:floor gt 4")).await, ["bob", "cy"]);
    // 2021-03-01T10:00Z: chronological, not textual.
    assert_eq!(
        filtered(format!("{ext}:hired gt \"2021-03-01T11:00:00Z\"")).await,
        ["bob"]
    );
    assert_eq!(filtered(format!("{ext}:clearance pr")).await, ["ann", "cy"]);
    assert_eq!(
        filtered(format!("not ({ext}:clearance pr)")).await,
        ["bob", "dee"]
    );
    assert_eq!(
        filtered(format!("{ext}:desks.building eq \"north\"")).await,
        ["ann", "cy"]
    );
    assert_eq!(
        filtered(format!(
            "{ext}:desks[building eq \"South\"] or userName eq \"dee\""
        ))
        .await,
        ["bob", "dee"]
    );
    let r = app
        .get(&format!(
            "/Users?filter={}",
            q(&format!("{ext}:floor co \"3\""))
        ))
        .await;
    r.assert_error(400, Some("invalidFilter"));

    // Sorting by an integer and a dateTime; unassigned values sort last.
    let sorted = |by: &str, order: &str| {
        let path = format!("/Users?sortBy={}&sortOrder={order}", q(by));
        let app = &app;
        async move { names(&app.get(&path).await) }
    };
    assert_eq!(
        sorted(&format!("{ext}:floor"), "ascending").await,
        ["ann", "cy", "bob", "dee"]
    );
    assert_eq!(
        sorted(&format!("{ext}:floor"), "descending").await,
        ["dee", "bob", "cy", "ann"]
    );
    assert_eq!(
        sorted(&format!("{ext}:hired"), "ascending").await,
        ["ann", "cy", "bob", "dee"]
    );

    // Projection: attribute paths, the whole extension, returned=request.
    let one = format!("/Users?filter={}", q("userName eq \"ann\""));
    let r = app
        .get(&format!("{one}&attributes={}", q(&format!("{ext}:floor"))))
        .await;
    let ann = &r.body["Resources"][0];
    assert_eq!(ann[&ext], json!({"floor": 3}), "{}", r.text);
    assert!(ann.get("name").is_none());
    let r = app
        .get(&format!(
            "{one}&excludedAttributes={}",
            q(&format!("{ext}:badge"))
        ))
        .await;
    let ann = &r.body["Resources"][0];
    assert!(
        ann[&ext].get("badge").is_none() && ann[&ext]["floor"] == 3,
        "{}",
        r.text
    );
    assert!(
        ann[&ext].get("photo").is_none(),
        "photo is returned on request only"
    );
    let r = app
        .get(&format!("{one}&attributes={}", q(&format!("{ext}:photo"))))
        .await;
    assert_eq!(r.body["Resources"][0][&ext]["photo"], "aGk=", "{}", r.text);
    let r = app
        .get(&format!("{one}&excludedAttributes={}", q(&ext)))
        .await;
    assert!(r.body["Resources"][0].get(&ext).is_none(), "{}", r.text);
}

/// Microsoft Entra ID's custom extension URN, as Entra sends it: booleans
/// as strings, `Add`/`Replace` in capitals, URN-prefixed PATCH paths and
/// path-less values keyed by them.
async fn entra_custom_extension_end_to_end(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let ext = "urn:ietf:params:scim:schemas:extension:CustomApp:2.0:User";
    define(
        &app,
        &admin,
        &json!({"id": ext, "name": "CustomApp", "resourceType": "User", "attributes": [
            {"name": "costCode", "type": "string"},
            {"name": "contractor", "type": "boolean"},
            {"name": "badgeNumber", "type": "string"},
        ]}),
    )
    .await;
    let entra = json!({
        "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", ext],
        "externalId": "e-1",
        "userName": "pat@contoso.com",
        "active": "True",
        "displayName": "Pat",
        "emails": [{"primary": true, "type": "work", "value": "pat@contoso.com"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Ops"},
        ext: {"costCode": "CC-7", "contractor": "False"},
    });
    let created = app.post("/Users", &entra).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.body[ext],
        json!({"costCode": "CC-7", "contractor": false})
    );
    let id = created.body["id"].as_str().unwrap();

    let r = patch(
        &app,
        &format!("/Users/{id}"),
        json!([
            {"op": "Add", "path": format!("{ext}:badgeNumber"), "value": "4711"},
            {"op": "Replace", "path": format!("{ext}:contractor"), "value": "True"},
            {"op": "Replace", "value": {format!("{ext}:costCode"): "CC-8", "displayName": "Pat M."}},
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body[ext],
        json!({"costCode": "CC-8", "contractor": true, "badgeNumber": "4711"})
    );
    let found = app
        .get(&format!(
            "/Users?filter={}",
            q(&format!("{ext}:badgeNumber eq \"4711\""))
        ))
        .await;
    assert_eq!(names(&found), ["pat@contoso.com"]);
    let r = patch(
        &app,
        &format!("/Users/{id}"),
        json!([{"op": "Remove", "path": format!("{ext}:costCode")}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body[ext],
        json!({"contractor": true, "badgeNumber": "4711"})
    );
}

async fn schema_changes_on_data_in_use(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let ext = urn("Changes", &app);
    let path = format!("/admin/v1/schemas/{ext}");
    let first = json!({"id": ext, "resourceType": "User", "attributes": [
        {"name": "level", "type": "integer"},
        {"name": "site", "type": "complex", "subAttributes": [
            {"name": "code", "type": "string"}, {"name": "room", "type": "string"}]},
    ]});
    define(&app, &admin, &first).await;
    let u = app
        .post(
            "/Users",
            &user_with(
                "ann",
                &ext,
                json!({"level": 2, "site": {"code": "N", "room": "1"}}),
            ),
        )
        .await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    let id = u.body["id"].as_str().unwrap().to_string();
    app.create_user("bob").await;

    // Adding an attribute: no migration, the schema in use takes it at once.
    let mut second = first.clone();
    second["attributes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "team", "type": "string"}));
    let r = admin_send(&app, &admin, Method::PUT, &path, Some(&second)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["meta"]["version"], 2);
    let set = json!([{"op": "add", "path": format!("{ext}:team"), "value": "blue"}]);
    let r = patch(&app, &format!("/Users/{id}"), set).await;
    assert_eq!(r.body[&ext]["team"], "blue", "{}", r.text);

    // Removing `level` and `site.room`, which ann holds: refused, nothing changes.
    let mut third = second.clone();
    third["attributes"].as_array_mut().unwrap().remove(0);
    third["attributes"][0]["subAttributes"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    let before = app.snapshot();
    let r = admin_send(&app, &admin, Method::PUT, &path, Some(&third)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("1 User resources") && detail.contains("level, site.room"),
        "{detail}"
    );
    assert_eq!(app.snapshot(), before);
    let shown = admin_send(&app, &admin, Method::GET, &path, None).await;
    assert_eq!(shown.body["meta"]["version"], 2);
    assert_eq!(shown.body["attributes"].as_array().unwrap().len(), 3);

    // Forced: the values go, with a change-log row for the user.
    let head = app.store.latest_change().unwrap();
    let r = admin_send(
        &app,
        &admin,
        Method::PUT,
        &format!("{path}?force=true"),
        Some(&third),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["meta"]["resourcesChanged"], 1);
    let ann = app.get(&format!("/Users/{id}")).await;
    assert_eq!(
        ann.body[&ext],
        json!({"site": {"code": "N"}, "team": "blue"}),
        "{}",
        ann.text
    );
    let rows = app.store.changes_after(head, 100).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].resource_id.as_str(), rows[0].actor.as_str()),
        (id.as_str(), "ops")
    );
    let level = json!([{"op": "add", "path": format!("{ext}:level"), "value": 3}]);
    patch(&app, &format!("/Users/{id}"), level)
        .await
        .assert_error(400, Some("invalidPath"));

    // Removing the schema: refused while ann holds values, then forced.
    let before = app.snapshot();
    let r = admin_send(&app, &admin, Method::DELETE, &path, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(app.snapshot(), before);
    let r = admin_send(
        &app,
        &admin,
        Method::DELETE,
        &format!("{path}?force=true"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, json!({"id": ext, "resourcesChanged": 1}));
    let ann = app.get(&format!("/Users/{id}")).await;
    assert!(ann.body.get(&ext).is_none(), "{}", ann.text);
    assert_eq!(ann.body["schemas"], json!([USER_SCHEMA]));
    assert_eq!(
        app.get(&format!("/Schemas/{ext}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin_send(&app, &admin, Method::GET, &path, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let trail: Vec<String> = app
        .store
        .audit(&AuditQuery {
            actor: Some("ops".into()),
            limit: 20,
            ..AuditQuery::default()
        })
        .unwrap()
        .into_iter()
        .filter(|e| e.event.starts_with("schema."))
        .map(|e| e.event)
        .collect();
    assert_eq!(
        trail,
        [
            "schema.remove",
            "schema.update",
            "schema.update",
            "schema.add"
        ]
    );
}

async fn bad_definitions_and_access_are_refused(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let ext = urn("Refused", &app);
    // A SCIM token cannot define schemas.
    let body =
        json!({"id": ext, "resourceType": "User", "attributes": [{"name": "a", "type": "string"}]});
    let r = app
        .send(
            Method::POST,
            "/admin/v1/schemas",
            Some(&app.token),
            Some(body.to_string().into_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let bad =
        json!({"id": ext, "resourceType": "User", "attributes": [{"name": "a", "type": "text"}]});
    let r = admin_send(&app, &admin, Method::POST, "/admin/v1/schemas", Some(&bad)).await;
    r.assert_error(400, Some("invalidValue"));
    assert!(r.text.contains("text"), "{}", r.text);
    define(&app, &admin, &body).await;
    let twice = json!({"id": ext.to_uppercase(), "resourceType": "User", "attributes": [{"name": "a", "type": "string"}]});
    let r = admin_send(
        &app,
        &admin,
        Method::POST,
        "/admin/v1/schemas",
        Some(&twice),
    )
    .await;
    r.assert_error(409, Some("uniqueness"));
    let listed = admin_send(&app, &admin, Method::GET, "/admin/v1/schemas", None).await;
    let ids: Vec<&str> = listed.body["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [ext.as_str()]);
}

/// A Group extension, filtered like a User one.
async fn group_extensions_work_alike(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let ext = urn("Teams", &app).replace(":User", ":Group");
    define(
        &app,
        &admin,
        &json!({"id": ext, "resourceType": "Group", "attributes": [
        {"name": "costCenter", "type": "string", "uniqueness": "server"}]}),
    )
    .await;
    let rt = app.get("/ResourceTypes/Group").await;
    assert!(rt.text.contains(&ext), "{}", rt.text);
    let member = app.create_user("ann").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = |name: &str, cc: &str| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", ext],
        "displayName": name, ext.clone(): {"costCenter": cc}, "members": [{"value": member}]})
    };
    let ops = app.post("/Groups", &body("ops", "CC-1")).await;
    assert_eq!(ops.status, StatusCode::CREATED, "{}", ops.text);
    let ops = ops.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.post("/Groups", &body("dev", "CC-2")).await.status,
        StatusCode::CREATED
    );
    app.post("/Groups", &body("qa", "CC-1"))
        .await
        .assert_error(409, Some("uniqueness"));
    let r = app
        .get(&format!(
            "/Groups?filter={}",
            q(&format!("{ext}:costCenter eq \"CC-2\""))
        ))
        .await;
    let shown: Vec<&str> = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(shown, ["dev"]);

    // A forced removal drops the values and leaves the members alone.
    let path = format!("/admin/v1/schemas/{ext}?force=true");
    let r = admin_send(&app, &admin, Method::DELETE, &path, None).await;
    assert_eq!(r.body["resourcesChanged"], 2, "{}", r.text);
    let ops = app.get(&format!("/Groups/{ops}")).await;
    assert!(ops.body.get(&ext).is_none(), "{}", ops.text);
    assert_eq!(
        ops.body["members"][0]["value"],
        member.as_str(),
        "{}",
        ops.text
    );
}

/// A file source's mapping writes extension attributes; a record whose
/// value breaks the schema is refused like any invalid record.
async fn a_source_mapping_fills_extension_attributes(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let ext = urn("Hr", &app);
    define(
        &app,
        &admin,
        &json!({"id": ext, "resourceType": "User", "attributes": [
        {"name": "badge", "type": "string"},
        {"name": "clearance", "type": "string", "canonicalValues": ["low", "high"]}]}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "id,login,badge_no,level\n1,ann,B-1,High\n2,bob,B-2,secret\n",
    )
    .unwrap();
    let mapping = dir.path().join("hr.toml");
    std::fs::write(
        &mapping,
        format!(
            "[users]\n\
             [[users.rules]]\ntarget = \"externalId\"\nvalue = \"id\"\n\
             [[users.rules]]\ntarget = \"userName\"\nvalue = \"login\"\n\
             [[users.rules]]\ntarget = \"{ext}:badge\"\nvalue = \"badge_no\"\n\
             [[users.rules]]\ntarget = \"{ext}:clearance\"\nvalue = \"level\"\n"
        ),
    )
    .unwrap();
    let (people, mapping) = (people.display().to_string(), mapping.display().to_string());
    let out = app
        .cli(&[
            "source",
            "add",
            "--name",
            "hr",
            "--kind",
            "file",
            "--path",
            &people,
            "--mapping",
            &mapping,
        ])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = app.cli(&["source", "run", "hr", "--json"]).await;
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "completed_with_failures", "{report}");
    let users = app
        .get(&format!("/Users?filter={}", q(&format!("{ext}:badge pr"))))
        .await;
    assert_eq!(names(&users), ["ann"]);
    assert_eq!(
        users.body["Resources"][0][&ext],
        json!({"badge": "B-1", "clearance": "high"})
    );
    let failures = app.cli_json(&["source", "failures", "hr"]).await;
    let refused = &failures["failures"][0];
    assert_eq!(refused["record"]["login"], "bob", "{failures}");
    assert!(refused.to_string().contains("clearance"), "{refused}");
}

on_both_backends!(
    a_source_mapping_fills_extension_attributes,
    every_type_is_discovered_and_validated_on_write,
    extension_attributes_filter_sort_and_project,
    entra_custom_extension_end_to_end,
    schema_changes_on_data_in_use,
    bad_definitions_and_access_are_refused,
    group_extensions_work_alike,
);

const CONFIGURED: &str = "urn:example:params:scim:schemas:extension:Configured:2.0:User";

fn with_configured_schema(config: &mut Config) {
    config.schemas = vec![SchemaConfig {
        id: Some(CONFIGURED.into()),
        name: Some("Configured".into()),
        resource_type: Some("User".into()),
        attributes: vec![
            json!({"name": "shift", "type": "string", "canonicalValues": ["early", "late"]}),
        ],
        ..SchemaConfig::default()
    }];
}

mod configured {
    use super::*;

    async fn a_configured_schema_is_served_and_read_only(app: TestApp) {
        let admin = app.token_with("ops", &["admin"]);
        let schema = app.get(&format!("/Schemas/{CONFIGURED}")).await;
        assert_eq!(schema.status, StatusCode::OK, "{}", schema.text);
        let r = app
            .post(
                "/Users",
                &user_with("ann", CONFIGURED, json!({"shift": "Late"})),
            )
            .await;
        assert_eq!(r.body[CONFIGURED], json!({"shift": "late"}), "{}", r.text);
        app.post(
            "/Users",
            &user_with("bob", CONFIGURED, json!({"shift": "night"})),
        )
        .await
        .assert_error(400, Some("invalidValue"));

        let path = format!("/admin/v1/schemas/{CONFIGURED}");
        let shown = admin_send(&app, &admin, Method::GET, &path, None).await;
        assert_eq!(
            shown.body["meta"]["source"], "configuration",
            "{}",
            shown.text
        );
        let definition = json!({"id": CONFIGURED, "resourceType": "User", "attributes": [{"name": "x", "type": "string"}]});
        for (method, body) in [(Method::PUT, Some(&definition)), (Method::DELETE, None)] {
            let r = admin_send(&app, &admin, method, &path, body).await;
            assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
            assert!(r.text.contains("configuration"), "{}", r.text);
        }
        let r = admin_send(
            &app,
            &admin,
            Method::POST,
            "/admin/v1/schemas",
            Some(&definition),
        )
        .await;
        r.assert_error(409, Some("uniqueness"));
    }

    on_both_backends!(config = super::with_configured_schema; a_configured_schema_is_served_and_read_only);
}
