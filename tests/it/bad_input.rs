//! Malformed and hostile requests: each is refused with the right status and
//! `scimType`, and the store is exactly as it was before.

use reqwest::Method;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{ENTERPRISE, GROUP_SCHEMA, TestApp, USER_SCHEMA, group_body, user_body};

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    body: Option<Vec<u8>>,
    content_type: &'static str,
    status: u16,
    scim_type: Option<&'static str>,
}

fn case(
    name: &'static str,
    method: Method,
    path: &str,
    body: Vec<u8>,
    status: u16,
    scim_type: Option<&'static str>,
) -> Case {
    Case {
        name,
        method,
        path: path.into(),
        body: Some(body),
        content_type: "application/scim+json",
        status,
        scim_type,
    }
}

fn get_case(name: &'static str, path: &str, status: u16, scim_type: Option<&'static str>) -> Case {
    Case {
        body: None,
        ..case(name, Method::GET, path, Vec::new(), status, scim_type)
    }
}

fn json_case(
    name: &'static str,
    method: Method,
    path: &str,
    body: Value,
    status: u16,
    scim_type: Option<&'static str>,
) -> Case {
    case(
        name,
        method,
        path,
        body.to_string().into_bytes(),
        status,
        scim_type,
    )
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

fn cases(user: &str, group: &str) -> Vec<Case> {
    use Method as M;
    let u = |body: Value| body;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    let mut no_user_name = user_body("x");
    no_user_name.as_object_mut().unwrap().remove("userName");
    let mut no_schemas = user_body("x");
    no_schemas.as_object_mut().unwrap().remove("schemas");
    vec![
        case(
            "truncated JSON",
            M::POST,
            "/Users",
            b"{\"schemas\":".to_vec(),
            400,
            Some("invalidSyntax"),
        ),
        case(
            "not JSON at all",
            M::POST,
            "/Users",
            b"userName=ann".to_vec(),
            400,
            Some("invalidSyntax"),
        ),
        case(
            "empty body",
            M::POST,
            "/Users",
            Vec::new(),
            400,
            Some("invalidSyntax"),
        ),
        case(
            "non-UTF-8 bytes",
            M::POST,
            "/Users",
            [
                b"{\"schemas\":[\"".as_slice(),
                USER_SCHEMA.as_bytes(),
                b"\"],\"userName\":\"\xff\xfe\"}",
            ]
            .concat(),
            400,
            Some("invalidSyntax"),
        ),
        case(
            "100,000-deep nesting",
            M::POST,
            "/Users",
            deep,
            400,
            Some("invalidSyntax"),
        ),
        json_case(
            "array body",
            M::POST,
            "/Users",
            json!([user_body("x")]),
            400,
            Some("invalidSyntax"),
        ),
        json_case(
            "missing schemas",
            M::POST,
            "/Users",
            no_schemas,
            400,
            Some("invalidSyntax"),
        ),
        json_case(
            "empty schemas",
            M::POST,
            "/Users",
            with(user_body("x"), "schemas", json!([])),
            400,
            Some("invalidSyntax"),
        ),
        json_case(
            "schemas not an array",
            M::POST,
            "/Users",
            with(user_body("x"), "schemas", json!(USER_SCHEMA)),
            400,
            Some("invalidSyntax"),
        ),
        json_case(
            "Group schema on /Users",
            M::POST,
            "/Users",
            with(user_body("x"), "schemas", json!([GROUP_SCHEMA])),
            400,
            Some("invalidSyntax"),
        ),
        json_case(
            "missing userName",
            M::POST,
            "/Users",
            no_user_name,
            400,
            Some("invalidValue"),
        ),
        json_case(
            "blank userName",
            M::POST,
            "/Users",
            with(user_body("x"), "userName", json!("  ")),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "numeric userName",
            M::POST,
            "/Users",
            with(user_body("x"), "userName", json!(42)),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "userName differing only in case",
            M::POST,
            "/Users",
            u(user_body("EXISTING")),
            409,
            Some("uniqueness"),
        ),
        json_case(
            "emails not an array",
            M::POST,
            "/Users",
            with(user_body("x"), "emails", json!("x@example.com")),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "name as a string",
            M::POST,
            "/Users",
            with(user_body("x"), "name", json!("Ann Smith")),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "active not a boolean",
            M::POST,
            "/Users",
            with(user_body("x"), "active", json!("maybe")),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "two primary emails",
            M::POST,
            "/Users",
            with(
                user_body("x"),
                "emails",
                json!([{"value": "a@x.org", "primary": true}, {"value": "b@x.org", "primary": true}]),
            ),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "NUL in a value",
            M::POST,
            "/Users",
            with(user_body("x"), "displayName", json!("a\u{0}b")),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "enterprise extension not an object",
            M::POST,
            "/Users",
            with(user_body("x"), ENTERPRISE, json!("R&D")),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "very long attribute value",
            M::POST,
            "/Users",
            with(user_body("x"), "title", json!("t".repeat(70_000))),
            400,
            Some("invalidValue"),
        ),
        case(
            "body over the size limit",
            M::POST,
            "/Users",
            with(
                user_body("x"),
                "nickName",
                json!("n".repeat(2 * 1024 * 1024)),
            )
            .to_string()
            .into_bytes(),
            413,
            None,
        ),
        Case {
            content_type: "text/plain",
            ..json_case(
                "wrong media type",
                M::POST,
                "/Users",
                user_body("x"),
                415,
                None,
            )
        },
        json_case(
            "PUT with mismatching id",
            M::PUT,
            &format!("/Users/{user}"),
            with(user_body("existing"), "id", json!("other")),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "PUT to an unknown id",
            M::PUT,
            "/Users/00000000-0000-0000-0000-000000000000",
            user_body("x"),
            404,
            None,
        ),
        json_case(
            "PUT taking another user's name",
            M::PUT,
            &format!("/Users/{user}"),
            user_body("OTHER"),
            409,
            Some("uniqueness"),
        ),
        json_case(
            "group without displayName",
            M::POST,
            "/Groups",
            json!({"schemas": [GROUP_SCHEMA]}),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "member pointing at an unknown id",
            M::POST,
            "/Groups",
            group_body("New", &["no-such-id"]),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "member without a value",
            M::POST,
            "/Groups",
            json!({"schemas": [GROUP_SCHEMA], "displayName": "New", "members": [{"display": "x"}]}),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "member type that lies",
            M::POST,
            "/Groups",
            json!({"schemas": [GROUP_SCHEMA], "displayName": "New", "members": [{"value": user, "type": "Group"}]}),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "member type that does not exist",
            M::POST,
            "/Groups",
            json!({"schemas": [GROUP_SCHEMA], "displayName": "New", "members": [{"value": user, "type": "Robot"}]}),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "group name differing only in case",
            M::POST,
            "/Groups",
            group_body("ADMINS", &[]),
            409,
            Some("uniqueness"),
        ),
        json_case(
            "group PUT with an unknown member",
            M::PUT,
            &format!("/Groups/{group}"),
            group_body("Admins", &["ghost"]),
            400,
            Some("invalidValue"),
        ),
        json_case(
            "unknown resource type",
            M::POST,
            "/Widgets",
            json!({}),
            404,
            None,
        ),
        Case {
            body: None,
            ..json_case(
                "GET unknown id",
                M::GET,
                "/Users/does-not-exist",
                json!({}),
                404,
                None,
            )
        },
        Case {
            body: None,
            ..json_case(
                "DELETE unknown id",
                M::DELETE,
                "/Groups/does-not-exist",
                json!({}),
                404,
                None,
            )
        },
        get_case("NUL in an id", "/Users/%00abc", 404, None),
        case(
            "duplicate JSON keys",
            M::POST,
            "/Users",
            [
                b"{\"schemas\":[\"",
                USER_SCHEMA.as_bytes(),
                b"\"],\"userName\":\"a\",\"userName\":\"b\"}",
            ]
            .concat(),
            400,
            Some("invalidSyntax"),
        ),
        case(
            "a number beyond any range",
            M::POST,
            "/Users",
            [
                b"{\"schemas\":[\"",
                USER_SCHEMA.as_bytes(),
                b"\"],\"userName\":\"n\",\"title\":1e400}",
            ]
            .concat(),
            400,
            Some("invalidSyntax"),
        ),
        json_case(
            "a huge integer where a string belongs",
            M::POST,
            "/Users",
            with(user_body("x"), "title", json!(u64::MAX)),
            400,
            Some("invalidValue"),
        ),
        get_case(
            "SQL in sortBy",
            "/Users?sortBy=userName%3B%20DROP%20TABLE%20users",
            400,
            Some("invalidValue"),
        ),
        get_case(
            "SQL in attributes",
            "/Users?attributes=userName')%20--",
            400,
            Some("invalidValue"),
        ),
        get_case(
            "SQL in excludedAttributes",
            "/Users?excludedAttributes=x%22%3B--",
            400,
            Some("invalidValue"),
        ),
        get_case(
            "NUL in a filter literal",
            "/Users?filter=userName%20eq%20%22a%5Cu0000%22",
            400,
            Some("invalidFilter"),
        ),
        case(
            "DELETE with NUL in the id",
            Method::DELETE,
            "/Groups/x%00",
            Vec::new(),
            404,
            None,
        ),
        get_case(
            "unparseable filter",
            "/Users?filter=userName%20eq",
            400,
            Some("invalidFilter"),
        ),
        get_case(
            "filter on the password",
            "/Users?filter=password%20eq%20%22guess%22",
            400,
            Some("invalidFilter"),
        ),
        get_case(
            "ordering a boolean",
            "/Users?filter=active%20gt%20true",
            400,
            Some("invalidFilter"),
        ),
        get_case(
            "filter nested too deep",
            &format!(
                "/Users?filter={}userName%20pr{}",
                "(".repeat(40),
                ")".repeat(40)
            ),
            400,
            Some("invalidFilter"),
        ),
        get_case(
            "bad sortOrder",
            "/Users?sortBy=userName&sortOrder=sideways",
            400,
            Some("invalidValue"),
        ),
        get_case(
            "bad sortBy",
            "/Users?sortBy=na%20me",
            400,
            Some("invalidValue"),
        ),
        get_case(
            "forged cursor",
            "/Users?cursor=abc.def",
            400,
            Some("invalidCursor"),
        ),
        get_case(
            "negative cursor count",
            "/Users?cursor=&count=-1",
            400,
            Some("invalidCount"),
        ),
        get_case(
            "bad attributes list",
            "/Users?attributes=na%20me",
            400,
            Some("invalidValue"),
        ),
        json_case(
            "SearchRequest without its schema",
            M::POST,
            "/Users/.search",
            json!({"filter": "userName pr"}),
            400,
            Some("invalidSyntax"),
        ),
        json_case(
            "SearchRequest with a bad filter",
            M::POST,
            "/Groups/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "displayName eq"}),
            400,
            Some("invalidFilter"),
        ),
        Case {
            body: None,
            ..json_case(
                "startIndex not a number",
                M::GET,
                "/Users?startIndex=abc",
                json!({}),
                400,
                Some("invalidValue"),
            )
        },
        Case {
            body: None,
            ..json_case(
                "SQL in an id",
                M::GET,
                "/Users/1'%20OR%20'1'='1",
                json!({}),
                404,
                None,
            )
        },
    ]
}

async fn malformed_requests_are_refused_and_change_nothing(app: TestApp) {
    let user = app.create_user("existing").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.create_user("other").await;
    let group = app.create_group("Admins", &[&user]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let all = cases(&user, &group);
    assert!(all.len() >= 25);
    for c in all {
        let before = app.snapshot();
        let mut req = app
            .client()
            .request(c.method.clone(), app.url(&c.path))
            .bearer_auth(&app.token);
        if let Some(body) = c.body {
            req = req.header("content-type", c.content_type).body(body);
        }
        let r = app.raw(req).await;
        assert_eq!(r.status.as_u16(), c.status, "{}: {}", c.name, r.text);
        assert_eq!(
            r.body["scimType"].as_str(),
            c.scim_type,
            "{}: {}",
            c.name,
            r.text
        );
        r.assert_error(c.status, c.scim_type);
        assert_eq!(app.snapshot(), before, "{} changed the store", c.name);
    }
    let health = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status.as_u16(), 200, "still healthy");
}

on_both_backends!(malformed_requests_are_refused_and_change_nothing);
