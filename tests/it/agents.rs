//! Agents and AgenticApplications (the IETF SCIM agent extension) over the
//! generic resource path: discovery, CRUD with ETags, PUT, PATCH, filters,
//! sorting and paging, change-log and audit rows, references checked,
//! `name` unique per type, /Bulk and the root /.search.

use reqwest::{Method, StatusCode};
use scimhub::store::AuditQuery;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::TestApp;
use crate::support::app::Response;

const AGENT: &str = "urn:ietf:params:scim:schemas:core:2.0:Agent";
const APPLICATION: &str = "urn:ietf:params:scim:schemas:core:2.0:AgenticApplication";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const NOWHERE: &str = "0d5a7f0e-0000-4000-8000-00000000dead";

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn agent(name: &str) -> Value {
    json!({"schemas": [AGENT], "name": name})
}

async fn create(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.post(path, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

async fn with_header(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    header: (&str, &str),
) -> Response {
    let mut req = app
        .client()
        .request(method, app.url(path))
        .bearer_auth(&app.token)
        .header(header.0, header.1);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/scim+json")
            .body(b.to_string());
    }
    app.raw(req).await
}

async fn patch(app: &TestApp, path: &str, ops: Value) -> Response {
    let body = json!({"schemas": [PATCH_OP], "Operations": ops});
    app.send(
        Method::PATCH,
        path,
        Some(&app.token),
        Some(body.to_string().into_bytes()),
    )
    .await
}

fn names(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn discovery_lists_both_types(app: TestApp) {
    // The draft's un-namespaced `agentExtension` is not added: strict clients
    // (scim2-tester) refuse a ServiceProviderConfig with unknown attributes.
    let spc = app.get("/ServiceProviderConfig").await;
    assert_eq!(spc.status, StatusCode::OK);
    assert!(spc.body.get("agentExtension").is_none());
    let types = app.get("/ResourceTypes").await;
    assert_eq!(types.status, StatusCode::OK);
    let all = types.body["Resources"].as_array().unwrap();
    let find = |name: &str| all.iter().find(|t| t["name"] == name).cloned();
    let agent = find("Agent").expect("Agent resource type");
    assert_eq!(agent["endpoint"], "/Agents");
    assert_eq!(agent["schema"], AGENT);
    let application = find("AgenticApplication").expect("AgenticApplication resource type");
    assert_eq!(application["endpoint"], "/AgenticApplications");
    assert_eq!(application["schema"], APPLICATION);
    let one = app.get("/ResourceTypes/Agent").await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);

    let schema = app.get(&format!("/Schemas/{AGENT}")).await;
    assert_eq!(schema.status, StatusCode::OK, "{}", schema.text);
    let attrs = schema.body["attributes"].as_array().unwrap();
    let attr = |n: &str| attrs.iter().find(|a| a["name"] == n).cloned().unwrap();
    assert_eq!(attr("name")["required"], true);
    assert_eq!(attr("name")["uniqueness"], "server");
    assert_eq!(attr("owners")["multiValued"], true);
    let owner_ref = attr("owners")["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "$ref")
        .cloned()
        .unwrap();
    assert_eq!(owner_ref["referenceTypes"], json!(["User", "Group"]));
    assert_eq!(attr("protocols")["multiValued"], true);
    assert_eq!(attr("parent")["multiValued"], false);
    let listed = app.get("/Schemas").await;
    let ids: Vec<&str> = listed.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(
        ids.contains(&AGENT) && ids.contains(&APPLICATION),
        "{ids:?}"
    );
}

async fn crud_with_etags_and_put(app: TestApp) {
    let owner = app.create_user("owner@example.com").await;
    let team = app.create_group("agent owners", &[]).await;
    let helpdesk = create(
        &app,
        "/AgenticApplications",
        json!({"schemas": [APPLICATION], "name": "Helpdesk",
               "applicationUrls": [{"type": "homepage", "value": "https://desk.example.org"}]}),
    )
    .await;
    let body = json!({
        "schemas": [AGENT],
        "name": "Helpdesk bot",
        "displayName": "Helpdesk",
        "agentType": "Assistant",
        "active": true,
        "subject": "spiffe://example.org/helpdesk",
        "protocols": [{"type": "MCP-Server", "specificationUrl": "https://example.org/mcp.json"}],
        "owners": [{"value": id(&owner), "display": "The owner"}, {"value": id(&team)}],
        "applications": [{"value": id(&helpdesk)}],
        "roles": [{"value": "triage"}],
    });
    let r = app.post("/Agents", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let created = r.body.clone();
    let path = format!("/Agents/{}", id(&created));
    assert_eq!(created["meta"]["resourceType"], "Agent");
    assert_eq!(created["schemas"], json!([AGENT]));
    assert_eq!(created["owners"], body["owners"], "kept as sent");
    assert_eq!(created["protocols"], body["protocols"]);
    let etag = r.header("etag").expect("ETag").to_string();
    assert!(r.header("location").unwrap().ends_with(&path));

    let got = app.get(&path).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, created);
    let unchanged = with_header(&app, Method::GET, &path, None, ("if-none-match", &etag)).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);

    // PUT with a stale ETag: 412 and nothing changed.
    let before = app.snapshot();
    let stale = with_header(
        &app,
        Method::PUT,
        &path,
        Some(json!({"schemas": [AGENT], "name": "Helpdesk bot", "active": false})),
        ("if-match", "W/\"99\""),
    )
    .await;
    stale.assert_error(412, None);
    assert_eq!(app.snapshot(), before);

    let put = with_header(
        &app,
        Method::PUT,
        &path,
        Some(json!({"schemas": [AGENT], "name": "Helpdesk bot", "active": false})),
        ("if-match", &etag),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.body["active"], false);
    assert!(
        put.body.get("owners").is_none(),
        "PUT replaces: {}",
        put.text
    );
    assert_eq!(put.body["meta"]["version"], "W/\"2\"");
    assert_eq!(app.get(&path).await.body, put.body);

    let gone = with_header(&app, Method::DELETE, &path, None, ("if-match", &etag)).await;
    gone.assert_error(412, None);
    let deleted = app.delete(&path).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&path).await.assert_error(404, None);
    // An Agent id is no AgenticApplication.
    app.get(&format!("/AgenticApplications/{}", id(&created)))
        .await
        .assert_error(404, None);
}

async fn patch_adds_replaces_and_removes(app: TestApp) {
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    let parent = create(&app, "/Agents", agent("orchestrator")).await;
    let mut body = agent("worker");
    body["owners"] = json!([{"value": id(&a)}]);
    body["protocols"] = json!([{"type": "A2A"}, {"type": "OpenAPI"}]);
    let created = create(&app, "/Agents", body).await;
    let path = format!("/Agents/{}", id(&created));

    let r = patch(
        &app,
        &path,
        json!([
            {"op": "add", "path": "owners", "value": [{"value": id(&b)}]},
            {"op": "replace", "path": "displayName", "value": "Worker"},
            {"op": "add", "path": "parent", "value": {"value": id(&parent)}},
            {"op": "remove", "path": "protocols[type eq \"A2A\"]"},
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["owners"],
        json!([{"value": id(&a)}, {"value": id(&b)}])
    );
    assert_eq!(r.body["displayName"], "Worker");
    assert_eq!(r.body["parent"], json!({"value": id(&parent)}));
    assert_eq!(r.body["protocols"], json!([{"type": "OpenAPI"}]));
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
    assert_eq!(app.get(&path).await.body, r.body);

    let r = patch(
        &app,
        &path,
        json!([
            {"op": "remove", "path": format!("owners[value eq \"{}\"]", id(&a))},
            {"op": "remove", "path": "displayName"},
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["owners"], json!([{"value": id(&b)}]));
    assert!(r.body.get("displayName").is_none());

    // A PATCH naming a missing owner, or the agent as its own parent, changes nothing.
    let before = app.snapshot();
    patch(
        &app,
        &path,
        json!([{"op": "add", "path": "owners", "value": [{"value": NOWHERE}]}]),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    patch(
        &app,
        &path,
        json!([{"op": "replace", "path": "parent", "value": {"value": id(&created)}}]),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    // Nor one that would put the orchestrator under its own worker.
    patch(
        &app,
        &format!("/Agents/{}", id(&parent)),
        json!([{"op": "add", "path": "parent", "value": {"value": id(&created)}}]),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    assert_eq!(app.snapshot(), before);
}

async fn filters_sort_and_page(app: TestApp) {
    let owner = app.create_user("owner@example.com").await;
    for (name, kind, protocol) in [
        ("delta", "Researcher", "A2A"),
        ("alpha", "Assistant", "MCP-Server"),
        ("Charlie", "Assistant", "A2A"),
        ("bravo", "Researcher", "MCP-Server"),
        ("echo", "Assistant", "OpenAPI"),
    ] {
        let mut body = agent(name);
        body["agentType"] = json!(kind);
        body["protocols"] = json!([{"type": protocol}]);
        if name == "bravo" {
            body["owners"] = json!([{"value": id(&owner)}]);
        }
        create(&app, "/Agents", body).await;
    }
    let list = |q: String| {
        let app = &app;
        async move {
            let r = app.get(&format!("/Agents?{q}")).await;
            assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
            r.body
        }
    };
    let by_name = list("filter=name%20eq%20%22CHARLIE%22".into()).await;
    assert_eq!(names(&by_name), ["Charlie"], "name is not case-exact");
    let mcp = list("filter=protocols.type%20eq%20%22MCP-Server%22&sortBy=name".into()).await;
    assert_eq!(names(&mcp), ["alpha", "bravo"]);
    let owned = list(format!(
        "filter=owners%5Bvalue%20eq%20%22{}%22%5D",
        id(&owner)
    ))
    .await;
    assert_eq!(names(&owned), ["bravo"]);
    let sorted = list("sortBy=name&sortOrder=descending".into()).await;
    assert_eq!(
        names(&sorted),
        ["echo", "delta", "Charlie", "bravo", "alpha"]
    );
    let page =
        list("filter=agentType%20eq%20%22Assistant%22&sortBy=name&startIndex=2&count=1".into())
            .await;
    assert_eq!(page["totalResults"], 3);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(names(&page), ["Charlie"]);
    // Default order is creation order, paged in SQL.
    let first = list("count=2".into()).await;
    assert_eq!(first["totalResults"], 5);
    assert_eq!(names(&first), ["delta", "alpha"]);
    // Cursor paging walks them all once.
    let mut seen = Vec::new();
    let mut next = Some(String::new());
    while let Some(cursor) = next {
        let page = list(format!("count=2&cursor={cursor}")).await;
        seen.extend(names(&page));
        next = page["nextCursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen, ["delta", "alpha", "Charlie", "bravo", "echo"]);
    // The POST search and the projection work as on Users.
    let searched = app
        .post(
            "/Agents/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": "name sw \"e\"", "attributes": ["name"]}),
        )
        .await;
    assert_eq!(searched.status, StatusCode::OK, "{}", searched.text);
    assert_eq!(names(&searched.body), ["echo"]);
    assert!(searched.body["Resources"][0].get("agentType").is_none());
    // Users are not Agents: the user filter finds no agent.
    let none = list("filter=userName%20eq%20%22owner%40example.com%22".into()).await;
    assert_eq!(none["totalResults"], 0);
}

async fn writes_leave_change_log_and_audit_rows(app: TestApp) {
    let start = app.store.latest_change().unwrap();
    let created = create(
        &app,
        "/AgenticApplications",
        json!({"schemas": [APPLICATION], "name": "desk"}),
    )
    .await;
    let path = format!("/AgenticApplications/{}", id(&created));
    let r = patch(
        &app,
        &path,
        json!([{"op": "replace", "path": "description", "value": "The desk"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // A PATCH that changes nothing writes no version and no row.
    let same = patch(
        &app,
        &path,
        json!([{"op": "replace", "path": "description", "value": "The desk"}]),
    )
    .await;
    assert_eq!(same.body["meta"]["version"], "W/\"2\"");
    assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);

    let rows = app.store.changes_after(start, 100).unwrap();
    let seen: Vec<(&str, &str, i64, Vec<String>)> = rows
        .iter()
        .map(|c| {
            (
                c.resource_type.as_str(),
                c.operation.as_str(),
                c.version,
                c.attributes.clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("AgenticApplication", "create", 1, vec!["name".to_string()]),
            (
                "AgenticApplication",
                "patch",
                2,
                vec!["description".to_string()]
            ),
            ("AgenticApplication", "delete", 3, vec![]),
        ]
    );
    assert!(rows.iter().all(|c| c.resource_id == id(&created)));
    let audit = app
        .store
        .audit(&AuditQuery {
            resource_id: Some(id(&created)),
            limit: 10,
            ..AuditQuery::default()
        })
        .unwrap();
    let events: Vec<&str> = audit.iter().map(|a| a.event.as_str()).collect();
    assert_eq!(
        events,
        ["resource.delete", "resource.patch", "resource.create"]
    );
    assert!(
        audit
            .iter()
            .all(|a| a.resource_type.as_deref() == Some("AgenticApplication"))
    );
    // The pull API shows them with the resource as it is now (gone: null).
    let feed = app.get(&format!("/Changes?since={start}")).await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.text);
    let events = feed.body["changes"].as_array().expect("changes");
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|e| e["resourceType"].as_str())
        .collect();
    assert_eq!(kinds, ["AgenticApplication"; 3], "{}", feed.text);
    assert!(events.iter().all(|e| e["resource"].is_null()), "gone now");
}

async fn bad_input_changes_nothing(app: TestApp) {
    let first = create(&app, "/Agents", agent("Helpdesk bot")).await;
    let before = app.snapshot();
    // Missing the required name.
    app.post("/Agents", &json!({"schemas": [AGENT], "displayName": "x"}))
        .await
        .assert_error(400, Some("invalidValue"));
    // The name is taken (ignoring case).
    app.post("/Agents", &agent("HELPDESK BOT"))
        .await
        .assert_error(409, Some("uniqueness"));
    // References to nothing, or to the wrong type.
    let mut unknown_owner = agent("other");
    unknown_owner["owners"] = json!([{"value": NOWHERE}]);
    app.post("/Agents", &unknown_owner)
        .await
        .assert_error(400, Some("invalidValue"));
    let mut agent_as_application = agent("other");
    agent_as_application["applications"] = json!([{"value": id(&first)}]);
    app.post("/Agents", &agent_as_application)
        .await
        .assert_error(400, Some("invalidValue"));
    // A name that is no string.
    app.post("/Agents", &json!({"schemas": [AGENT], "name": 7}))
        .await
        .assert_error(400, Some("invalidValue"));
    assert_eq!(app.snapshot(), before);

    // Renaming onto a taken name is refused too, and changes nothing.
    let second = create(&app, "/Agents", agent("second")).await;
    let before = app.snapshot();
    patch(
        &app,
        &format!("/Agents/{}", id(&second)),
        json!([{"op": "replace", "path": "name", "value": "helpdesk BOT"}]),
    )
    .await
    .assert_error(409, Some("uniqueness"));
    app.put(
        &format!("/Agents/{}", id(&second)),
        &json!({"schemas": [AGENT], "name": "Helpdesk Bot"}),
    )
    .await
    .assert_error(409, Some("uniqueness"));
    assert_eq!(app.snapshot(), before);
    // The same name under the other type is fine.
    create(
        &app,
        "/AgenticApplications",
        json!({"schemas": [APPLICATION], "name": "Helpdesk bot"}),
    )
    .await;
}

async fn bulk_and_root_search_reach_agents(app: TestApp) {
    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "POST", "path": "/AgenticApplications", "bulkId": "app",
             "data": {"schemas": [APPLICATION], "name": "desk"}},
            {"method": "POST", "path": "/Agents", "bulkId": "bot",
             "data": {"schemas": [AGENT], "name": "desk bot",
                      "applications": [{"value": "bulkId:app"}]}},
        ]
    });
    let r = app.post("/Bulk", &bulk).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ops = r.body["Operations"].as_array().unwrap();
    assert!(ops.iter().all(|o| o["status"] == "201"), "{}", r.text);
    let location = ops[1]["location"].as_str().unwrap();
    assert!(location.contains("/Agents/"), "{location}");
    let bot = app
        .get(&format!("/Agents/{}", location.rsplit('/').next().unwrap()))
        .await;
    let app_id = ops[0]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    assert_eq!(bot.body["applications"], json!([{"value": app_id}]));

    let search = app
        .post(
            "/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": "name eq \"desk bot\""}),
        )
        .await;
    assert_eq!(search.status, StatusCode::OK, "{}", search.text);
    assert_eq!(search.body["totalResults"], 1, "{}", search.text);
    assert_eq!(search.body["Resources"][0]["meta"]["resourceType"], "Agent");
}

/// The attribute named `name` of a `/Schemas` entry's attribute list.
fn attribute(attrs: &Value, name: &str) -> Value {
    attrs
        .as_array()
        .expect("attributes")
        .iter()
        .find(|a| a["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no attribute {name} in {attrs}"))
}

/// The characteristics draft-abbey-scim-agent-extension's schema JSON gives.
async fn schemas_follow_the_draft(app: TestApp) {
    let agent = app.get(&format!("/Schemas/{AGENT}")).await.body;
    assert_eq!(agent["description"], "An AI agent");
    let attrs = &agent["attributes"];
    let names: Vec<&str> = attrs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    for expected in [
        "name",
        "displayName",
        "active",
        "description",
        "agentType",
        "entitlements",
        "roles",
        "groups",
        "applications",
        "subject",
        "x509Certificates",
        "protocols",
        "parent",
        "owners",
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    assert!(!names.contains(&"type"), "the draft names it agentType");
    let groups = attribute(attrs, "groups");
    assert_eq!(groups["mutability"], "readOnly");
    assert_eq!(groups["multiValued"], true);
    assert_eq!(
        attribute(&groups["subAttributes"], "type")["canonicalValues"],
        json!(["direct", "indirect"])
    );
    let certificates = attribute(attrs, "x509Certificates");
    assert_eq!(
        attribute(&certificates["subAttributes"], "value")["type"],
        "binary"
    );
    let protocols = attribute(attrs, "protocols");
    assert_eq!(
        attribute(&protocols["subAttributes"], "type")["canonicalValues"],
        json!(["A2A", "OpenAPI", "MCP-Server"])
    );
    assert_eq!(
        attribute(&protocols["subAttributes"], "specificationUrl")["type"],
        "string"
    );
    assert_eq!(attribute(attrs, "subject")["caseExact"], false);
    let parent = attribute(attrs, "parent");
    assert_eq!(
        attribute(&parent["subAttributes"], "value")["required"],
        false
    );
    assert_eq!(
        attribute(&parent["subAttributes"], "$ref")["referenceTypes"],
        json!(["Agent"])
    );

    let application = app.get(&format!("/Schemas/{APPLICATION}")).await.body;
    let attrs = &application["attributes"];
    assert!(
        !attrs
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "owners"),
        "the draft gives applications no owners"
    );
    let urls = attribute(attrs, "applicationUrls");
    assert_eq!(
        attribute(&urls["subAttributes"], "type")["canonicalValues"],
        json!(["ssoEndpoint", "loginPage", "api", "homepage"])
    );
    let last = attribute(attrs, "lastAccessed");
    assert_eq!(
        (last["type"].clone(), last["mutability"].clone()),
        (json!("dateTime"), json!("readOnly"))
    );
    let oauth = attribute(attrs, "oAuthConfiguration");
    let redirect = attribute(&oauth["subAttributes"], "redirectUri");
    assert_eq!(redirect["multiValued"], true);
    assert_eq!(redirect["referenceTypes"], json!(["uri"]));
    let agents = attribute(attrs, "agents");
    assert_eq!(
        attribute(&agents["subAttributes"], "type")["canonicalValues"],
        json!(["owned", "authorized", "guest"])
    );
    assert_eq!(
        attribute(&agents["subAttributes"], "$ref")["referenceTypes"],
        json!(["Agent"])
    );
    let identifiers = attribute(attrs, "externalIdentifiers");
    assert_eq!(identifiers["multiValued"], true);
    let types = app.get("/ResourceTypes/AgenticApplication").await.body;
    assert_eq!(
        types["description"],
        "Applications that host or provide access to agents"
    );
}

/// The draft's AgenticApplication attributes round-trip, readOnly ones are
/// ignored on input, `agents` must name Agents, and the filters the draft
/// recommends (name, externalId, applicationUrls.value) find it.
async fn agentic_applications_carry_the_draft_attributes(app: TestApp) {
    let bot = create(&app, "/Agents", agent("support bot")).await;
    let body = json!({
        "schemas": [APPLICATION],
        "externalId": "app-123456",
        "name": "AI Assistant Platform",
        "active": true,
        "applicationUrls": [{"type": "homepage", "primary": true, "value": "https://assistant.example.com"}],
        "oAuthConfiguration": [{"clientId": "0oa1qwerty", "issuerUri": "https://idp.example.com",
                                "redirectUri": ["https://assistant.example.com/cb"]}],
        "agents": [{"value": id(&bot), "type": "owned"}],
        "externalIdentifiers": [{"type": "ssoTenantId", "value": "00abc123", "system": "https://idp.example.com"}],
        "lastAccessed": "2024-06-20T17:45:00Z",
    });
    let created = create(&app, "/AgenticApplications", body.clone()).await;
    for kept in [
        "applicationUrls",
        "oAuthConfiguration",
        "agents",
        "externalIdentifiers",
    ] {
        assert_eq!(created[kept], body[kept], "{kept}");
    }
    assert!(created.get("lastAccessed").is_none(), "readOnly: ignored");
    for filter in [
        "name%20eq%20%22ai%20assistant%20platform%22",
        "externalId%20eq%20%22app-123456%22",
        "applicationUrls.value%20eq%20%22https%3A%2F%2Fassistant.example.com%22",
        "oAuthConfiguration.redirectUri%20eq%20%22https%3A%2F%2Fassistant.example.com%2Fcb%22",
    ] {
        let r = app
            .get(&format!("/AgenticApplications?filter={filter}"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.text);
        assert_eq!(names(&r.body), ["AI Assistant Platform"], "{filter}");
    }

    let before = app.snapshot();
    let mut unknown_agent = body.clone();
    unknown_agent["name"] = json!("other");
    unknown_agent["agents"] = json!([{"value": NOWHERE}]);
    app.post("/AgenticApplications", &unknown_agent)
        .await
        .assert_error(400, Some("invalidValue"));
    let mut odd_kind = body.clone();
    odd_kind["name"] = json!("other");
    odd_kind["lastAccessed"] = json!("yesterday");
    odd_kind["applicationUrls"] = json!([{"primary": "often"}]);
    app.post("/AgenticApplications", &odd_kind)
        .await
        .assert_error(400, Some("invalidValue"));
    // Groups are computed by the server: a client's value is ignored.
    let mut grouped = agent("grouped");
    grouped["groups"] = json!([{"value": NOWHERE}]);
    grouped["agentType"] = json!("Researcher");
    assert_eq!(app.snapshot(), before);
    let r = app.post("/Agents", &grouped).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.body.get("groups").is_none(), "{}", r.text);
    assert_eq!(r.body["agentType"], "Researcher");
}

/// Stores an Agent as releases before the draft's `agentType` did (under
/// `type`, no search document), then runs the renaming migration's SQL.
fn store_as_legacy_and_migrate(app: &TestApp, id: &str) {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    #[derive(QueryableByName)]
    struct Stored {
        #[diesel(sql_type = Text)]
        data: String,
    }
    let legacy = |data: String| -> String {
        let mut v: Value = serde_json::from_str(&data).unwrap();
        let kind = v.as_object_mut().unwrap().remove("agentType").unwrap();
        v["type"] = kind;
        v.to_string()
    };
    match app.backend {
        crate::support::Backend::Sqlite => {
            let path = app.database_url.trim_start_matches("sqlite://");
            let mut conn = SqliteConnection::establish(path).unwrap();
            let stored: Stored = diesel::sql_query("SELECT data FROM resources WHERE id = ?")
                .bind::<Text, _>(id)
                .get_result(&mut conn)
                .unwrap();
            diesel::sql_query("UPDATE resources SET data = ?, search = NULL WHERE id = ?")
                .bind::<Text, _>(legacy(stored.data))
                .bind::<Text, _>(id)
                .execute(&mut conn)
                .unwrap();
            conn.batch_execute(include_str!(
                "../../migrations/sqlite/2026-12-28-000001_agent_type/up.sql"
            ))
            .unwrap();
        }
        crate::support::Backend::Postgres => {
            let mut conn = PgConnection::establish(&app.database_url).unwrap();
            let stored: Stored = diesel::sql_query("SELECT data FROM resources WHERE id = $1")
                .bind::<Text, _>(id)
                .get_result(&mut conn)
                .unwrap();
            diesel::sql_query("UPDATE resources SET data = $1, search = NULL WHERE id = $2")
                .bind::<Text, _>(legacy(stored.data))
                .bind::<Text, _>(id)
                .execute(&mut conn)
                .unwrap();
            conn.batch_execute(include_str!(
                "../../migrations/postgres/2026-12-28-000001_agent_type/up.sql"
            ))
            .unwrap();
        }
    }
}

/// Agents stored under the pre-draft `type` keep their value as `agentType`
/// after the upgrade, filterable once the server has started again.
async fn agents_stored_under_the_old_type_name_are_migrated(app: TestApp) {
    let mut body = agent("legacy-bot");
    body["agentType"] = json!("Researcher");
    body["description"] = json!("kept as it was");
    let agent_id = id(&create(&app, "/Agents", body).await);
    let other = id(&create(&app, "/Agents", agent("current-bot")).await);
    let untouched = app.get(&format!("/Agents/{other}")).await.body;
    store_as_legacy_and_migrate(&app, &agent_id);
    // The search documents are rebuilt when a store opens.
    scimhub::store::diesel::DieselStore::open(&app.database_url, 1).unwrap();
    let got = app.get(&format!("/Agents/{agent_id}")).await.body;
    assert_eq!(got["agentType"], "Researcher", "{got}");
    assert!(got.get("type").is_none(), "{got}");
    assert_eq!(got["description"], "kept as it was");
    assert_eq!(app.get(&format!("/Agents/{other}")).await.body, untouched);
    let found = app
        .get("/Agents?filter=agentType%20eq%20%22researcher%22")
        .await
        .body;
    assert_eq!(found["totalResults"], 1, "{found}");
    assert_eq!(found["Resources"][0]["id"], agent_id.as_str());
}

on_both_backends!(
    agents_stored_under_the_old_type_name_are_migrated,
    discovery_lists_both_types,
    schemas_follow_the_draft,
    agentic_applications_carry_the_draft_attributes,
    crud_with_etags_and_put,
    patch_adds_replaces_and_removes,
    filters_sort_and_page,
    writes_leave_change_log_and_audit_rows,
    bad_input_changes_nothing,
    bulk_and_root_search_reach_agents,
);

/// The real binary serves the agent types, and the CLI's audit trail shows
/// their writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_server_serves_agents_and_the_cli_audits_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("live.db").display());
    let server = crate::support::live::LiveServer::start(&db, &[]);
    let token = server
        .cli_ok(&["token", "create", "--name", "agents"])
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let client = reqwest::Client::new();
    let send = |method: Method, path: String, body: Value| {
        client
            .request(method, format!("{}/scim/v2{path}", server.base))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
    };
    let created = send(Method::POST, "/Agents".into(), agent("live bot"))
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let agent_id = id(&created);
    let patched = send(
        Method::PATCH,
        format!("/Agents/{agent_id}"),
        json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "add", "path": "protocols", "value": [{"type": "A2A"}]}]}),
    )
    .await
    .unwrap();
    assert_eq!(patched.status(), 200);
    let listed: Value = send(
        Method::GET,
        "/Agents?filter=name%20eq%20%22LIVE%20BOT%22".into(),
        Value::Null,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(listed["totalResults"], 1, "{listed}");
    assert_eq!(
        listed["Resources"][0]["protocols"],
        json!([{"type": "A2A"}])
    );

    let trail = server.cli_ok(&["audit", "list", "--resource", &agent_id]);
    let lines: Vec<&str> = trail.lines().skip(1).collect();
    assert_eq!(lines.len(), 2, "{trail}");
    assert!(
        lines[0].contains("resource.patch") && lines[0].contains(&format!("Agent/{agent_id}")),
        "{trail}"
    );
    assert!(
        lines[1].contains("resource.create") && lines[1].contains("name"),
        "{trail}"
    );
}
