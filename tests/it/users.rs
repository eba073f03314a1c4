use reqwest::StatusCode;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{ENTERPRISE, TestApp, USER_SCHEMA, user_body};

async fn create_read_replace_delete(app: TestApp) {
    let boss = app.create_user("boss").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut body = user_body("ann");
    body["password"] = json!("correct horse battery");
    body["active"] = json!(true);
    body[ENTERPRISE] = json!({"employeeNumber": "701", "department": "R&D", "manager": boss});
    let created = app.post("/Users", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let user = &created.body;
    let id = user["id"].as_str().unwrap();
    assert_eq!(
        created.header("location"),
        user["meta"]["location"].as_str()
    );
    assert_eq!(created.header("etag"), Some("W/\"1\""));
    assert_eq!(user["meta"]["version"], "W/\"1\"");
    assert_eq!(user["meta"]["resourceType"], "User");
    assert!(
        user["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/scim/v2/Users/{id}"))
    );
    assert!(user.get("password").is_none(), "password is never returned");
    assert!(!created.text.contains("correct horse"));
    assert_eq!(user["schemas"], json!([USER_SCHEMA, ENTERPRISE]));
    assert_eq!(user[ENTERPRISE]["manager"], json!({"value": boss}));
    assert!(
        created
            .header("content-type")
            .unwrap()
            .starts_with("application/scim+json")
    );

    let read = app.get(&format!("/Users/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, created.body);

    // PUT replaces: omitted attributes are cleared, `active` is kept.
    let put = app
        .put(
            &format!("/Users/{id}"),
            &json!({"schemas": [USER_SCHEMA], "userName": "ann", "title": "CTO"}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.body["title"], "CTO");
    assert!(put.body.get("emails").is_none());
    assert!(put.body.get(ENTERPRISE).is_none());
    assert_eq!(put.body["active"], true);
    assert_eq!(put.body["meta"]["version"], "W/\"2\"");
    assert_eq!(put.header("etag"), Some("W/\"2\""));
    assert_eq!(put.body["meta"]["created"], user["meta"]["created"]);

    let deleted = app.delete(&format!("/Users/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&format!("/Users/{id}"))
        .await
        .assert_error(404, None);
    app.delete(&format!("/Users/{id}"))
        .await
        .assert_error(404, None);
}

async fn password_is_stored_as_argon2_hash_only(app: TestApp) {
    use diesel::prelude::*;
    let mut body = user_body("pat");
    body["password"] = json!("hunter2-but-longer");
    let id = app.post("/Users", &body).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hash = stored_password_hash(&app, &id);
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("hunter2"));

    // A PUT without a password keeps it; a PUT with one stores a fresh hash.
    app.put(&format!("/Users/{id}"), &user_body("pat")).await;
    assert_eq!(stored_password_hash(&app, &id), hash);
    let mut with_new = user_body("pat");
    with_new["password"] = json!("another-secret");
    app.put(&format!("/Users/{id}"), &with_new).await;
    assert_ne!(stored_password_hash(&app, &id), hash);

    fn stored_password_hash(app: &TestApp, id: &str) -> String {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            password_hash: Option<String>,
        }
        let sql = format!("SELECT password_hash FROM users WHERE id = '{id}'");
        let rows: Vec<Row> = if app.database_url.starts_with("postgres") {
            let mut c = diesel::PgConnection::establish(&app.database_url).unwrap();
            diesel::sql_query(sql).load(&mut c).unwrap()
        } else {
            let path = app.database_url.trim_start_matches("sqlite://");
            let mut c = diesel::SqliteConnection::establish(path).unwrap();
            diesel::sql_query(sql).load(&mut c).unwrap()
        };
        rows[0].password_hash.clone().unwrap()
    }
}

async fn put_keeps_inactive_account_inactive_when_active_is_omitted(app: TestApp) {
    let mut body = user_body("ina");
    body["active"] = json!("False"); // Entra's string boolean
    let created = app.post("/Users", &body).await;
    assert_eq!(created.body["active"], false);
    let id = created.body["id"].as_str().unwrap();
    let put = app.put(&format!("/Users/{id}"), &user_body("ina")).await;
    assert_eq!(put.body["active"], false);
}

async fn list_pages_with_exact_totals(app: TestApp) {
    for i in 0..5 {
        app.create_user(&format!("user{i}")).await;
    }
    // The default order: created, then id (users created in the same
    // millisecond are ordered by id).
    let all = app.get("/Users?count=100").await;
    let ids: Vec<String> = all.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let created = |i: usize| {
        all.body["Resources"][i]["meta"]["created"]
            .as_str()
            .unwrap()
    };
    assert!(
        (1..5).all(|i| created(i - 1) <= created(i)),
        "creation order"
    );
    let page = app.get("/Users?startIndex=2&count=2").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    let got: Vec<&str> = page.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![ids[1].as_str(), ids[2].as_str()]);

    let zero = app.get("/Users?count=0").await;
    assert_eq!(zero.body["totalResults"], 5);
    assert_eq!(
        zero.body["Resources"],
        json!([]),
        "count=0 keeps an empty Resources"
    );

    let past_end = app.get("/Users?startIndex=10").await;
    assert_eq!(past_end.body["totalResults"], 5);
    assert_eq!(past_end.body["Resources"], json!([]));

    let negative = app.get("/Users?startIndex=-3&count=-1").await;
    assert_eq!(negative.body["startIndex"], 1);
    assert_eq!(negative.body["itemsPerPage"], 0);
    assert_eq!(negative.body["Resources"], json!([]));
}

async fn count_is_clamped_to_max_results(default: TestApp) {
    let app = TestApp::start_with(default.backend, |c| c.max_page_size = 3)
        .await
        .unwrap();
    for i in 0..5 {
        app.create_user(&format!("u{i}")).await;
    }
    let page = app.get("/Users?count=100").await;
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["itemsPerPage"], 3);
    let spc = app.get("/ServiceProviderConfig").await;
    assert_eq!(spc.body["filter"]["maxResults"], 3);
}

async fn unknown_attributes_and_schemas_are_ignored_not_echoed(app: TestApp) {
    let mut body = user_body("tolerant");
    body["schemas"] = json!([
        USER_SCHEMA,
        "urn:example:params:scim:schemas:extension:acme:2.0:User"
    ]);
    body["shoeSize"] = json!(44);
    body["urn:example:params:scim:schemas:extension:acme:2.0:User"] = json!({"badge": "x"});
    body["id"] = json!("chosen-by-client");
    body["meta"] = json!({"version": "W/\"99\""});
    body["groups"] = json!([{"value": "nope"}]);
    let r = app.post("/Users", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_ne!(r.body["id"], "chosen-by-client", "id is server-assigned");
    assert_eq!(r.body["meta"]["version"], "W/\"1\"");
    assert!(r.body.get("shoeSize").is_none());
    assert!(
        r.body.get("groups").is_none(),
        "groups is readOnly and derived"
    );
    assert!(!r.text.contains("acme"));
}

async fn attribute_names_are_case_insensitive_on_input(app: TestApp) {
    let r = app
        .post(
            "/Users",
            &json!({"SCHEMAS": [USER_SCHEMA.to_uppercase()], "USERNAME": "caps", "Name": {"FamilyName": "C"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["userName"], "caps");
    assert_eq!(r.body["name"]["familyName"], "C");
}

on_both_backends!(
    create_read_replace_delete,
    password_is_stored_as_argon2_hash_only,
    put_keeps_inactive_account_inactive_when_active_is_omitted,
    list_pages_with_exact_totals,
    count_is_clamped_to_max_results,
    unknown_attributes_and_schemas_are_ignored_not_echoed,
    attribute_names_are_case_insensitive_on_input,
);
