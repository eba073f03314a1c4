//! The tolerated variants of requests (README "Tolerated variants") over
//! the real API, and the clear errors for requests that are wrong.

use reqwest::{Method, StatusCode};
use scimhub::service::tokens;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::app::Response;
use crate::support::{GROUP_SCHEMA, TestApp, user_body};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn ids(body: &Value) -> Vec<String> {
    let mut all: Vec<String> = body["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("no Resources: {body}"))
        .iter()
        .map(id)
        .collect();
    all.sort();
    all
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn send(app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> Response {
    let bytes = body.map(|b| b.to_string().into_bytes());
    app.send(method, path, Some(&app.token), bytes).await
}

async fn filter(app: &TestApp, text: &str) -> Response {
    app.get(&format!("/Users?filter={}", q(text))).await
}

async fn endpoint_names_in_any_case_and_a_trailing_slash_reach_their_routes(app: TestApp) {
    let base = format!("{}/scim/v2", app.base);
    let created = send(&app, Method::POST, "/users", Some(&user_body("casey"))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let uid = id(&created.body);
    let canonical = format!("{base}/Users/{uid}");
    assert_eq!(created.body["meta"]["location"], canonical.as_str());
    assert_eq!(created.header("location"), Some(canonical.as_str()));

    for path in [
        format!("/USERS/{uid}"),
        format!("/Users/{uid}/"),
        format!("/users/{uid}/"),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert_eq!(r.body["id"], uid.as_str(), "{path}");
        assert_eq!(r.body["meta"]["location"], canonical.as_str(), "{path}");
    }
    for path in ["/users", "/Users/", "/USERS/?count=5"] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert_eq!(ids(&r.body), vec![uid.clone()], "{path}");
        assert_eq!(
            r.body["Resources"][0]["meta"]["location"],
            canonical.as_str()
        );
    }
    let group = send(
        &app,
        Method::POST,
        "/groups/",
        Some(&json!({"schemas": [GROUP_SCHEMA], "displayName": "Any Case", "members": [{"value": uid}]})),
    )
    .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.text);
    let gid = id(&group.body);
    assert_eq!(
        group.body["meta"]["location"],
        format!("{base}/Groups/{gid}").as_str()
    );
    assert_eq!(
        app.get(&format!("/GROUPS/{gid}/")).await.body["members"][0]["value"],
        uid.as_str()
    );

    for (path, field) in [
        ("/serviceproviderconfig", "patch"),
        ("/SERVICEPROVIDERCONFIG/", "patch"),
        ("/schemas", "Resources"),
        ("/resourcetypes/", "Resources"),
        ("/resourcetypes/User", "endpoint"),
        (
            "/schemas/urn:ietf:params:scim:schemas:core:2.0:User/",
            "attributes",
        ),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert!(r.body.get(field).is_some(), "{path}: {}", r.text);
    }

    let search = json!({"schemas": [SEARCH], "filter": "userName eq \"casey\""});
    for path in ["/users/.SEARCH", "/.search/", "/.SEARCH"] {
        let r = send(&app, Method::POST, path, Some(&search)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert_eq!(ids(&r.body), vec![uid.clone()], "{path}");
    }

    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{"method": "PATCH", "path": format!("/users/{uid}/"), "data":
            {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "Bulk"}]}}]
    });
    let r = send(&app, Method::POST, "/bulk", Some(&bulk)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["Operations"][0]["status"], "200", "{}", r.text);
    assert_eq!(
        app.get(&format!("/Users/{uid}")).await.body["title"],
        "Bulk"
    );

    let me = tokens::create(
        app.store.as_ref(),
        "casey-self",
        vec![tokens::SCOPE_READ.into()],
        Some(uid.clone()),
    )
    .unwrap();
    let r = app.send(Method::GET, "/me/", Some(&me), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["id"], uid.as_str());
    assert_eq!(r.body["meta"]["location"], canonical.as_str());

    let patched = send(
        &app,
        Method::PATCH,
        &format!("/USERS/{uid}/"),
        Some(&json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "Any"}]})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["title"], "Any");
    let r = send(&app, Method::DELETE, &format!("/groups/{gid}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = send(&app, Method::DELETE, &format!("/users/{uid}/"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    app.get(&format!("/Users/{uid}"))
        .await
        .assert_error(404, None);

    // Other misspellings stay unknown, and the ids stay case-exact.
    for path in ["/Userz", "/Users//", "/SCIM/V2/Users"] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
    }
}

/// `/USERS` is `/Users` behind the same guard: no token is 401, a read-only
/// token may read but not write, and a refused write changes nothing.
async fn variant_spellings_keep_their_routes_guard(app: TestApp) {
    app.create_user("guarded").await;
    let reader = app.token_with("reader", &[tokens::SCOPE_READ]);
    let before = app.snapshot();
    for path in ["/USERS", "/users/", "/Users/"] {
        let r = app.send(Method::GET, path, None, None).await;
        r.assert_error(401, None);
        let body = user_body(&format!("sneaky{}", path.len()))
            .to_string()
            .into_bytes();
        let r = app.send(Method::POST, path, None, Some(body.clone())).await;
        r.assert_error(401, None);
        let r = app
            .send(Method::POST, path, Some(&reader), Some(body))
            .await;
        r.assert_error(403, None);
        assert!(
            r.body["detail"].as_str().unwrap().contains("scim:write"),
            "{}",
            r.text
        );
        let r = app.send(Method::GET, path, Some(&reader), None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
    assert_eq!(app.snapshot(), before, "nothing changed");
}

async fn unquoted_filter_values_are_read_where_unambiguous(app: TestApp) {
    let mut people = Vec::new();
    for (user_name, family) in [
        ("Olga", "Employee"),
        ("oscar", "Contractor"),
        ("Uma", "Employee"),
    ] {
        let mut body = user_body(user_name);
        body["name"]["familyName"] = json!(family);
        let r = app.post("/Users", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        people.push(id(&r.body));
    }
    let (olga, oscar, uma) = (&people[0], &people[1], &people[2]);
    for (unquoted, quoted, expected) in [
        ("userName sw O", r#"userName sw "O""#, vec![olga, oscar]),
        (
            "name.familyName eq Employee",
            r#"name.familyName eq "Employee""#,
            vec![olga, uma],
        ),
        (
            "meta.created gt 2015-10-10T14:38:21.86-07:00",
            r#"meta.created gt "2015-10-10T14:38:21.86-07:00""#,
            vec![olga, oscar, uma],
        ),
        (
            "meta.created lt 2015-10-10T14:38:21Z",
            r#"meta.created lt "2015-10-10T14:38:21Z""#,
            vec![],
        ),
        (
            "emails[type eq work] and not (userName eq uma)",
            r#"emails[type eq "work"] and not (userName eq "uma")"#,
            vec![olga, oscar],
        ),
    ] {
        let expected = sorted(expected.into_iter().cloned().collect());
        for text in [unquoted, quoted] {
            let r = filter(&app, text).await;
            assert_eq!(r.status, StatusCode::OK, "{text}: {}", r.text);
            assert_eq!(ids(&r.body), expected, "{text}");
            assert_eq!(r.body["totalResults"], expected.len(), "{text}");
        }
    }
    // Keywords and numbers keep their meaning; a real syntax error is still
    // refused with its position.
    let r = filter(&app, "active eq true and userName sw o").await;
    assert_eq!(ids(&r.body), sorted(vec![olga.clone(), oscar.clone()]));
    let r = filter(&app, "userName eq and").await;
    r.assert_error(400, Some("invalidFilter"));
    assert!(
        r.body["detail"].as_str().unwrap().contains("character 13"),
        "{}",
        r.text
    );
    let r = filter(&app, "userName eq O\"Malley\"").await;
    r.assert_error(400, Some("invalidFilter"));
}

/// Entra's string booleans mean booleans in filters too, pushed down to SQL
/// or evaluated in memory alike.
async fn string_booleans_in_filters_mean_booleans(app: TestApp) {
    let on = app.create_user("on").await;
    let mut off_body = user_body("off");
    off_body["active"] = json!(false);
    let off = app.post("/Users", &off_body).await.body;
    let (on, off) = (id(&on), id(&off));
    for (text, expected) in [
        (r#"active eq "True""#, vec![on.clone()]),
        (r#"active eq "false""#, vec![off.clone()]),
        (r#"active ne "FALSE""#, vec![on.clone()]),
        // `or` with a condition SQL cannot answer: evaluated in memory.
        (
            r#"active eq "false" or emails[primary eq "TRUE" and type eq "none"]"#,
            vec![off.clone()],
        ),
    ] {
        let r = filter(&app, text).await;
        assert_eq!(r.status, StatusCode::OK, "{text}: {}", r.text);
        assert_eq!(ids(&r.body), expected, "{text}");
    }
}

/// A comparison that could only ever match nothing because the value is of
/// the wrong kind is a 400 naming the value (it was a silent empty list).
async fn comparisons_with_a_value_of_the_wrong_kind_are_refused(app: TestApp) {
    app.create_user("kind").await;
    let before = app.snapshot();
    for (text, named) in [
        (r#"meta.created gt "yesterday""#, r#""yesterday""#),
        ("meta.lastModified lt soon", r#""soon""#),
        ("meta.created eq 2015", "2015"),
        (r#"active eq "maybe""#, r#""maybe""#),
        ("active eq 1", "1"),
        (r#"emails[primary eq "yes"]"#, r#""yes""#),
    ] {
        for r in [
            filter(&app, text).await,
            app.post(
                "/Users/.search",
                &json!({"schemas": [SEARCH], "filter": text}),
            )
            .await,
        ] {
            r.assert_error(400, Some("invalidFilter"));
            let detail = r.body["detail"].as_str().unwrap();
            assert!(
                detail.contains(&format!("compared with {named}")),
                "{text}: {detail}"
            );
            assert!(r.body.get("Resources").is_none(), "{text}");
        }
    }
    let r = app
        .get(&format!(
            "/Groups?filter={}",
            q(r#"meta.created ge "last week""#)
        ))
        .await;
    r.assert_error(400, Some("invalidFilter"));
    assert_eq!(app.snapshot(), before, "nothing changed");
}

async fn a_value_filter_in_attributes_selects_those_values(app: TestApp) {
    let mut body = user_body("filtered");
    body["emails"] = json!([
        {"value": "f@work.example", "type": "work", "primary": true},
        {"value": "f@home.example", "type": "home"}
    ]);
    let uid = id(&app.post("/Users", &body).await.body);
    let work = json!([{"value": "f@work.example", "type": "work", "primary": true}]);
    let attributes = q(r#"emails[type eq "work"]"#);

    let one = app
        .get(&format!("/Users/{uid}?attributes={attributes}"))
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.body["emails"], work);
    assert!(one.body.get("userName").is_none(), "{}", one.text);
    assert_eq!(one.body["id"], uid.as_str());

    let list = app
        .get(&format!("/Users?attributes={attributes},userName"))
        .await;
    assert_eq!(list.body["Resources"][0]["emails"], work, "{}", list.text);
    assert_eq!(list.body["Resources"][0]["userName"], "filtered");

    let values = q(r#"emails[type eq home].value"#);
    let r = app.get(&format!("/Users/{uid}?attributes={values}")).await;
    assert_eq!(
        r.body["emails"],
        json!([{"value": "f@home.example"}]),
        "{}",
        r.text
    );

    let search = json!({"schemas": [SEARCH], "attributes": [r#"emails[type eq "home"]"#]});
    let r = app.post("/Users/.search", &search).await;
    assert_eq!(
        r.body["Resources"][0]["emails"][0]["type"], "home",
        "{}",
        r.text
    );

    let before = app.snapshot();
    for (list, scim_type) in [
        (r#"userName[type eq "work"]"#, "invalidValue"),
        (r#"emails[type eq "work""#, "invalidFilter"),
        (r#"emails[primary eq "yes"]"#, "invalidFilter"),
    ] {
        let r = app
            .get(&format!("/Users/{uid}?attributes={}", q(list)))
            .await;
        r.assert_error(400, Some(scim_type));
        let patched = app
            .send(
                Method::PATCH,
                &format!("/Users/{uid}?attributes={}", q(list)),
                Some(&app.token),
                Some(
                    json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "no"}]})
                        .to_string()
                        .into_bytes(),
                ),
            )
            .await;
        patched.assert_error(400, Some(scim_type));
    }
    assert_eq!(app.snapshot(), before, "nothing changed");
}

async fn a_bare_string_is_a_member_in_a_patch(app: TestApp) {
    let a = id(&app.create_user("member-a").await);
    let b = id(&app.create_user("member-b").await);
    let gid = id(&app.create_group("Bare", &[]).await);
    let path = format!("/Groups/{gid}");
    let patch = |ops: Value| {
        let app = &app;
        let path = path.clone();
        async move {
            send(
                app,
                Method::PATCH,
                &path,
                Some(&json!({"schemas": [PATCH_OP], "Operations": ops})),
            )
            .await
        }
    };
    let members = |app: &TestApp| {
        let group = app.store.get_group(&gid, true).unwrap();
        sorted(group.members.into_iter().map(|m| m.id).collect())
    };
    let r = patch(json!([{"op": "add", "path": "members", "value": a}])).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(members(&app), vec![a.clone()]);
    let r = patch(json!([{"op": "Add", "path": "members", "value": [b]}])).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(members(&app), sorted(vec![a.clone(), b.clone()]));
    let r = patch(json!([{"op": "remove", "path": "members", "value": a}])).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(members(&app), vec![b.clone()]);
    let r = patch(json!([{"op": "replace", "value": {"members": a}}])).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(members(&app), vec![a.clone()]);
    let user_groups = app.get(&format!("/Users/{a}")).await.body["groups"].clone();
    assert_eq!(user_groups[0]["value"], gid.as_str(), "{user_groups}");

    let before = app.snapshot();
    for (value, scim_type) in [
        (json!(""), "invalidValue"),
        (json!([b, " "]), "invalidValue"),
        (json!("no-such-user"), "invalidValue"),
    ] {
        let r = patch(json!([{"op": "add", "path": "members", "value": value}])).await;
        r.assert_error(400, Some(scim_type));
    }
    assert_eq!(app.snapshot(), before, "nothing changed");
}

async fn count_zero_still_carries_an_empty_resources_array(app: TestApp) {
    app.create_user("counted").await;
    for r in [
        app.get("/Users?count=0").await,
        app.get("/Users?count=-1").await,
        app.get("/Groups?count=0").await,
        app.get("/Users?cursor=&count=0").await,
        app.post("/Users/.search", &json!({"schemas": [SEARCH], "count": 0}))
            .await,
        app.post("/.search", &json!({"schemas": [SEARCH], "count": 0}))
            .await,
    ] {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["Resources"], json!([]), "{}", r.text);
        assert_eq!(r.body["itemsPerPage"], 0, "{}", r.text);
    }
    assert_eq!(app.get("/Users?count=0").await.body["totalResults"], 1);
    assert_eq!(
        app.get(&format!("/Users?filter={}", q("userName eq nobody")))
            .await
            .body["Resources"],
        json!([])
    );
}

on_both_backends!(
    endpoint_names_in_any_case_and_a_trailing_slash_reach_their_routes,
    variant_spellings_keep_their_routes_guard,
    unquoted_filter_values_are_read_where_unambiguous,
    string_booleans_in_filters_mean_booleans,
    comparisons_with_a_value_of_the_wrong_kind_are_refused,
    a_value_filter_in_attributes_selects_those_values,
    a_bare_string_is_a_member_in_a_patch,
    count_zero_still_carries_an_empty_resources_array,
);
