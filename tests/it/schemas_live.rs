//! Extension schemas the way an admin drives them: `scimhub schema …`
//! against the database of a running `scimhub serve`, a restart, and a
//! target mapping that carries an extension attribute to a second scimhub
//! with the same schema. Each server is a process of its own, with its own
//! registry.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::lifecycle::{Source, admin_token, source_database};
use crate::on_both_sources;
use crate::support::live::LiveServer;
use crate::support::{Backend, USER_SCHEMA, eventually};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:CustomApp:2.0:User";

fn definition(attributes: Value) -> Value {
    json!({"id": EXT, "name": "CustomApp", "resourceType": "User", "attributes": attributes})
}

fn json_file(dir: &tempfile::TempDir, name: &str, value: &Value) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path.display().to_string()
}

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// One request to a live server with `token`: (status, body).
async fn call(
    base: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/scim+json")
            .body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn failed_with(server: &LiveServer, args: &[&str]) -> String {
    let out = server.cli(args);
    assert!(!out.status.success(), "scimhub {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn the_cli_reaches_a_running_server_and_schemas_survive_a_restart(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = source_database(backend, &dir) else {
        return;
    };
    let fast = [("SCIMHUB_SCHEMA_REFRESH_SECS", "1")];
    let server = LiveServer::start(&db, &fast);
    let token = admin_token(&server);
    let first = definition(json!([
        {"name": "costCode", "type": "string"},
        {"name": "level", "type": "integer"},
    ]));
    let added = server.cli_json(&[
        "schema",
        "add",
        "--file",
        &json_file(&dir, "a.json", &first),
    ]);
    assert_eq!(
        (&added["id"], &added["meta"]["source"]),
        (&json!(EXT), &json!("admin"))
    );

    // The running server picks the schema up without a restart.
    let base = server.base.clone();
    eventually("the server to serve the new schema", || {
        let (base, token) = (base.clone(), token.clone());
        async move {
            let (status, _) = call(
                &base,
                &token,
                Method::GET,
                &format!("/scim/v2/Schemas/{EXT}"),
                None,
            )
            .await;
            (status == StatusCode::OK).then_some(())
        }
    })
    .await;
    let user = json!({"schemas": [USER_SCHEMA, EXT], "userName": "ann", EXT: {"costCode": "C-1", "level": 2}});
    let (status, created) = call(&base, &token, Method::POST, "/scim/v2/Users", Some(user)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();

    let listed = server.cli_json(&["schema", "list"]);
    assert_eq!(listed["schemas"][0]["id"], EXT, "{listed}");
    let shown = server.cli_ok(&["schema", "show", EXT]);
    assert!(
        shown.contains("costCode  string") && shown.contains("level  integer"),
        "{shown}"
    );

    // Adding an attribute to the schema in use, then using it.
    let mut second = first.clone();
    second["attributes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "team", "type": "string"}));
    server.cli_ok(&[
        "schema",
        "update",
        EXT,
        "--file",
        &json_file(&dir, "b.json", &second),
    ]);
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": format!("{EXT}:team"), "value": "blue"}]});
    eventually("the server to take the new attribute", || {
        let (base, token, patch, id) = (base.clone(), token.clone(), patch.clone(), id.clone());
        async move {
            let (status, body) = call(
                &base,
                &token,
                Method::PATCH,
                &format!("/scim/v2/Users/{id}"),
                Some(patch),
            )
            .await;
            (status == StatusCode::OK && body[EXT]["team"] == "blue").then_some(())
        }
    })
    .await;

    // Removing `level`, which ann holds: refused, then forced.
    let mut third = second.clone();
    third["attributes"].as_array_mut().unwrap().remove(1);
    let third_file = json_file(&dir, "c.json", &third);
    let refused = failed_with(&server, &["schema", "update", EXT, "--file", &third_file]);
    assert!(
        refused.contains("1 User resources") && refused.contains("--force"),
        "{refused}"
    );
    let forced = server.cli_json(&["schema", "update", EXT, "--file", &third_file, "--force"]);
    assert_eq!(forced["meta"]["resourcesChanged"], 1, "{forced}");
    assert_eq!(forced["meta"]["version"], 3, "{forced}");

    // A restart: the schema and the values are still there.
    drop(server);
    let server = LiveServer::start(&db, &fast);
    let (status, ann) = call(
        &server.base,
        &token,
        Method::GET,
        &format!("/scim/v2/Users/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ann}");
    assert_eq!(ann[EXT], json!({"costCode": "C-1", "team": "blue"}));
    let filter = q(&format!("{EXT}:team eq \"blue\""));
    let (_, found) = call(
        &server.base,
        &token,
        Method::GET,
        &format!("/scim/v2/Users?filter={filter}"),
        None,
    )
    .await;
    assert_eq!(found["totalResults"], 1, "{found}");

    // Removing the schema while ann holds values: refused, then forced.
    let refused = failed_with(&server, &["schema", "remove", EXT]);
    assert!(refused.contains("--force"), "{refused}");
    let removed = server.cli_json(&["schema", "remove", EXT, "--force"]);
    assert_eq!(removed, json!({"id": EXT, "resourcesChanged": 1}));
    let base = server.base.clone();
    eventually("the server to drop the schema", || {
        let (base, token) = (base.clone(), token.clone());
        async move {
            let (status, _) = call(
                &base,
                &token,
                Method::GET,
                &format!("/scim/v2/Schemas/{EXT}"),
                None,
            )
            .await;
            (status == StatusCode::NOT_FOUND).then_some(())
        }
    })
    .await;
    let trail = server.cli_json(&["audit", "list", "--limit", "20"]);
    let events: Vec<&str> = trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event"].as_str().filter(|e| e.starts_with("schema.")))
        .collect();
    assert_eq!(
        events,
        [
            "schema.remove",
            "schema.update",
            "schema.update",
            "schema.add"
        ]
    );
}

/// A target mapping reads an extension attribute (and the identity base
/// copies the extension) into a second scimhub that has the same schema.
async fn a_mapping_carries_extension_attributes_downstream(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let down = Source::start(Backend::Sqlite).expect("SQLite always starts");
    let schema = definition(json!([
        {"name": "badge", "type": "string"},
        {"name": "clearance", "type": "string", "canonicalValues": ["low", "high"]},
    ]));
    for side in [&source, &down] {
        let (status, body) = call(
            &side.server.base,
            &side.token,
            Method::POST,
            "/admin/v1/schemas",
            Some(schema.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let user = json!({"schemas": [USER_SCHEMA, EXT], "userName": "ann",
        EXT: {"badge": "B-7", "clearance": "high"}});
    let ann = source.send(Method::POST, "/Users", Some(user)).await;
    let ann = ann["id"].as_str().unwrap().to_string();

    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("mapping.toml");
    std::fs::write(
        &mapping,
        format!(
            "[users]\nbase = \"identity\"\n[[users.rules]]\ntarget = \"title\"\n\
             value = 'concat(\"Clearance \", {EXT}:clearance)'\n"
        ),
    )
    .unwrap();
    let url = format!("{}/scim/v2", down.server.base);
    let mapping = mapping.display().to_string();
    source.server.cli_ok(&[
        "target",
        "add",
        "--name",
        "down",
        "--url",
        &url,
        "--token",
        &down.token,
        "--mapping",
        &mapping,
    ]);
    let run = source.server.cli_json(&["sync", "run", "down"]);
    assert_eq!(run["counts"]["created"], 1, "{run}");

    let downstream = |filter: String| {
        let (base, token) = (down.server.base.clone(), down.token.clone());
        async move {
            let path = format!("/scim/v2/Users?filter={}", q(&filter));
            call(&base, &token, Method::GET, &path, None).await.1
        }
    };
    let found = downstream(format!("{EXT}:badge eq \"B-7\"")).await;
    assert_eq!(found["totalResults"], 1, "{found}");
    let copy = &found["Resources"][0];
    assert_eq!(copy["title"], "Clearance high");
    assert_eq!(copy[EXT], json!({"badge": "B-7", "clearance": "high"}));

    // A later change reaches the target through the real-time worker.
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": format!("{EXT}:clearance"), "value": "low"}]});
    source
        .send(Method::PATCH, &format!("/Users/{ann}"), Some(patch))
        .await;
    eventually("the change to reach the target", || {
        let found = downstream("userName eq \"ann\"".to_string());
        async move {
            let found = found.await;
            let copy = &found["Resources"][0];
            (copy["title"] == "Clearance low" && copy[EXT]["clearance"] == "low").then_some(())
        }
    })
    .await;
}

on_both_sources!(
    the_cli_reaches_a_running_server_and_schemas_survive_a_restart,
    a_mapping_carries_extension_attributes_downstream,
);
