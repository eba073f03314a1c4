//! Filtering, sorting, paging, projection and search through the real API,
//! including the exact sequences Okta and Entra send.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{ENTERPRISE, TestApp, USER_SCHEMA};

const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

fn ids(body: &Value) -> Vec<String> {
    body["Resources"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|x| x["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn seed(app: &TestApp) -> Vec<String> {
    let people = [
        ("alice@example.com", "Alice", "Zephyr", "E-1", "R&D", "work"),
        ("Bob@Example.com", "Bob", "Young", "e-1", "Sales", "home"),
        ("carol@example.org", "Carol", "Xu", "E-3", "R&D", "work"),
        ("dave_%@example.org", "Dave", "Young", "E-4", "Ops", "other"),
    ];
    let mut ids = Vec::new();
    for (i, (user_name, given, family, ext, dept, email_type)) in people.iter().enumerate() {
        let body = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE], "userName": user_name, "externalId": ext,
            "name": {"givenName": given, "familyName": family}, "active": i != 2, "title": if i == 0 { "" } else { "Engineer" },
            "emails": [{"value": user_name.to_lowercase(), "type": email_type, "primary": true}],
            ENTERPRISE: {"department": dept, "employeeNumber": format!("{}", 100 + i)},
        });
        let r = app.post("/Users", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    ids
}

async fn filters_real_clients_send(app: TestApp) {
    let u = seed(&app).await;
    // Okta: userName eq, case-insensitively.
    let r = app
        .get(&format!(
            "/Users?filter={}",
            q(r#"userName eq "BOB@example.COM""#)
        ))
        .await;
    assert_eq!(ids(&r.body), vec![u[1].clone()], "{}", r.text);
    assert_eq!(r.body["totalResults"], 1);
    // Entra: externalId eq is case-exact.
    let r = app
        .get(&format!("/Users?filter={}", q(r#"externalId eq "E-1""#)))
        .await;
    assert_eq!(ids(&r.body), vec![u[0].clone()]);
    // Entra: work email.
    let r = app
        .get(&format!(
            "/Users?filter={}",
            q(r#"emails[type eq "work"].value eq "CAROL@example.org""#)
        ))
        .await;
    assert_eq!(ids(&r.body), vec![u[2].clone()]);
    let r = app
        .get(&format!(
            "/Users?filter={}",
            q(r#"emails[type eq "home"].value eq "carol@example.org""#)
        ))
        .await;
    assert_eq!(
        ids(&r.body),
        Vec::<String>::new(),
        "the value filter binds to one email"
    );
    // LIKE wildcards in values are literal.
    let r = app
        .get(&format!("/Users?filter={}", q(r#"userName sw "dave_%""#)))
        .await;
    assert_eq!(ids(&r.body), vec![u[3].clone()]);
    let r = app
        .get(&format!("/Users?filter={}", q(r#"userName co "%""#)))
        .await;
    assert_eq!(ids(&r.body), vec![u[3].clone()]);
    // Logic, precedence, enterprise URNs, booleans, pr on empty strings.
    let f = format!(r#"{ENTERPRISE}:department eq "r&d" and not (active eq false)"#);
    let r = app.get(&format!("/Users?filter={}", q(&f))).await;
    assert_eq!(ids(&r.body), vec![u[0].clone()]);
    let r = app
        .get(&format!(
            "/Users?filter={}",
            q(r#"name.familyName eq "young" or title pr and active eq false"#)
        ))
        .await;
    let mut got = ids(&r.body);
    got.sort();
    let mut want = vec![u[1].clone(), u[2].clone(), u[3].clone()];
    want.sort();
    assert_eq!(got, want);
    // An attribute SQL cannot answer (evaluated in memory) gives the same kind of answer.
    let r = app
        .get(&format!(
            "/Users?filter={}",
            q(r#"name.givenName sw "c" and emails.primary eq true"#)
        ))
        .await;
    assert_eq!(ids(&r.body), vec![u[2].clone()]);
    let r = app
        .get(&format!(
            "/Users?filter={}",
            q(r#"nickName pr or shoeSize eq 3"#)
        ))
        .await;
    assert_eq!(r.body["totalResults"], 0);
    // Dates compare chronologically.
    let created = app.get(&format!("/Users/{}", u[2])).await.body["meta"]["created"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .get(&format!(
            "/Users?filter={}",
            q(&format!(r#"meta.created ge "{created}""#))
        ))
        .await;
    assert_eq!(ids(&r.body), vec![u[2].clone(), u[3].clone()]);
}

async fn group_membership_checks(app: TestApp) {
    let u = seed(&app).await;
    let big = app.create_group("Engineering", &[&u[0], &u[1]]).await;
    let gid = big["id"].as_str().unwrap().to_string();
    app.create_group("Empty", &[]).await;
    // Entra: displayName eq with members excluded.
    let r = app
        .get(&format!(
            "/Groups?excludedAttributes=members&filter={}",
            q(r#"displayName eq "engineering""#)
        ))
        .await;
    assert_eq!(ids(&r.body), vec![gid.clone()]);
    assert!(r.body["Resources"][0].get("members").is_none());
    assert_eq!(r.body["Resources"][0]["displayName"], "Engineering");
    // Membership check.
    let f = format!(r#"id eq "{gid}" and members[value eq "{}"]"#, u[1]);
    assert_eq!(
        ids(&app.get(&format!("/Groups?filter={}", q(&f))).await.body),
        vec![gid.clone()]
    );
    let f = format!(r#"id eq "{gid}" and members[value eq "{}"]"#, u[2]);
    assert_eq!(
        app.get(&format!("/Groups?filter={}", q(&f))).await.body["totalResults"],
        0
    );
    let r = app
        .get(&format!("/Groups?filter={}", q("members pr")))
        .await;
    assert_eq!(ids(&r.body), vec![gid.clone()]);
    // GET by id honours projection too.
    let r = app
        .get(&format!("/Groups/{gid}?attributes=displayName"))
        .await;
    assert_eq!(
        r.body
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        vec!["schemas", "id", "displayName"]
    );
    // A user's groups can be filtered on (evaluated in memory).
    let r = app
        .get(&format!(
            "/Users?filter={}",
            q(&format!(r#"groups.value eq "{gid}""#))
        ))
        .await;
    let mut got = ids(&r.body);
    got.sort();
    let mut want = vec![u[0].clone(), u[1].clone()];
    want.sort();
    assert_eq!(got, want);
}

async fn sorting_is_total_and_stable(app: TestApp) {
    let u = seed(&app).await;
    let r = app
        .get("/Users?sortBy=name.familyName&sortOrder=descending")
        .await;
    let got = ids(&r.body);
    // Zephyr, Young (two, by id descending), Xu.
    let (y1, y2) = if u[1] > u[3] {
        (&u[1], &u[3])
    } else {
        (&u[3], &u[1])
    };
    assert_eq!(
        got,
        vec![u[0].clone(), y1.clone(), y2.clone(), u[2].clone()]
    );
    // Missing values last ascending: only alice has title "" (present, sorts first), none missing.
    let r = app.get("/Users?sortBy=nickName").await;
    assert_eq!(
        ids(&r.body).len(),
        4,
        "sorting by a missing attribute keeps everything"
    );
    // Multi-valued sorts by the primary value (in memory) and agrees with SQL order on userName.
    let by_email = ids(&app.get("/Users?sortBy=emails").await.body);
    let by_name = ids(&app.get("/Users?sortBy=userName").await.body);
    assert_eq!(by_email, by_name);
    assert_eq!(
        by_name,
        vec![u[0].clone(), u[1].clone(), u[2].clone(), u[3].clone()]
    );
}

async fn index_paging_counts_the_filtered_set(app: TestApp) {
    let u = seed(&app).await;
    let r = app
        .get(&format!(
            "/Users?sortBy=userName&startIndex=2&count=2&filter={}",
            q("title pr")
        ))
        .await;
    assert_eq!(r.body["totalResults"], 3);
    assert_eq!(ids(&r.body), vec![u[2].clone(), u[3].clone()]);
    // The in-memory path pages the same way.
    let r = app
        .get(&format!(
            "/Users?sortBy=userName&startIndex=2&count=1&filter={}",
            q("emails.primary eq true")
        ))
        .await;
    assert_eq!(r.body["totalResults"], 4);
    assert_eq!(ids(&r.body), vec![u[1].clone()]);
}

async fn cursor_paging_is_stable_under_changes(app: TestApp) {
    seed(&app).await;
    for i in 0..4 {
        app.create_user(&format!("zz{i}")).await;
    }
    // The default order is (created, id): users created in the same
    // millisecond are ordered by id, so take the order from a full listing.
    let u = ids(&app.get("/Users?count=100").await.body);
    assert_eq!(u.len(), 8);
    let first = app.get("/Users?cursor=&count=3").await;
    assert_eq!(ids(&first.body), u[0..3].to_vec(), "{}", first.text);
    assert_eq!(first.body["totalResults"], 8);
    assert!(first.body.get("previousCursor").is_none());
    let next = first.body["nextCursor"].as_str().unwrap().to_string();
    // Delete the next item and add one: the cursor still continues right after u[2].
    app.delete(&format!("/Users/{}", u[3])).await;
    let added = app.create_user("zz-new").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let second = app
        .get(&format!("/Users?count=3&cursor={}", q(&next)))
        .await;
    assert_eq!(ids(&second.body), u[4..7].to_vec(), "{}", second.text);
    let back = second.body["previousCursor"].as_str().unwrap().to_string();
    let before = app
        .get(&format!("/Users?count=3&cursor={}", q(&back)))
        .await;
    assert_eq!(ids(&before.body), u[0..3].to_vec());
    let third = app
        .get(&format!(
            "/Users?count=3&cursor={}",
            q(second.body["nextCursor"].as_str().unwrap())
        ))
        .await;
    // u[7] and the new user, in the server's order (they may share a millisecond).
    let now = ids(&app.get("/Users?count=100").await.body);
    assert_eq!(now.len(), 8);
    assert_eq!(ids(&third.body), now[6..].to_vec());
    assert!(now[6..].contains(&u[7]) && now[6..].contains(&added));
    assert!(third.body.get("nextCursor").is_none());
    // A cursor belongs to its query.
    app.get(&format!("/Users?sortBy=userName&cursor={}", q(&next)))
        .await
        .assert_error(400, Some("invalidCursor"));
    // Cursors with sortBy and an in-memory filter page through the same order.
    let sorted = app
        .get(&format!(
            "/Users?sortBy=userName&cursor=&count=5&filter={}",
            q("emails.primary eq true")
        ))
        .await;
    let rest = app
        .get(&format!(
            "/Users?sortBy=userName&count=5&filter={}&cursor={}",
            q("emails.primary eq true"),
            q(sorted.body["nextCursor"].as_str().unwrap())
        ))
        .await;
    let all = app
        .get(&format!(
            "/Users?sortBy=userName&filter={}",
            q("emails.primary eq true")
        ))
        .await;
    let mut paged = ids(&sorted.body);
    paged.extend(ids(&rest.body));
    assert_eq!(paged, ids(&all.body));
}

async fn search_endpoints(app: TestApp) {
    let u = seed(&app).await;
    let g = app.create_group("Young Team", &[&u[1]]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"schemas": [SEARCH], "filter": "name.familyName eq \"Young\"", "sortBy": "userName",
                      "attributes": ["userName"], "startIndex": 1, "count": 10});
    let r = app.post("/Users/.search", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ids(&r.body), vec![u[1].clone(), u[3].clone()]);
    assert!(r.body["Resources"][0].get("name").is_none());
    let r = app.post("/Groups/.search", &json!({"schemas": [SEARCH], "filter": "displayName sw \"young\"", "excludedAttributes": ["members"]})).await;
    assert_eq!(ids(&r.body), vec![g.clone()]);
    let department = app
        .post(
            "/Departments",
            &json!({"schemas": ["urn:scimhub:params:scim:schemas:core:2.0:Department"], "displayName": "Team Europe"}),
        )
        .await;
    assert_eq!(
        department.status,
        StatusCode::CREATED,
        "{}",
        department.text
    );
    let r = app.post("/.search", &json!({"schemas": [SEARCH], "filter": "externalId pr or displayName co \"team\"", "count": 10})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["totalResults"], 6);
    // Users first, then groups, then departments; users created in the same millisecond
    // are ordered by id, not by creation.
    let got = ids(&r.body);
    let mut users: Vec<String> = got[..4].to_vec();
    users.sort();
    let mut want = u.clone();
    want.sort();
    assert_eq!(users, want);
    assert_eq!(got[4], g);
    assert_eq!(got[5], department.body["id"].as_str().unwrap());
}

on_both_backends!(
    filters_real_clients_send,
    group_membership_checks,
    sorting_is_total_and_stable,
    index_paging_counts_the_filtered_set,
    cursor_paging_is_stable_under_changes,
    search_endpoints,
);
