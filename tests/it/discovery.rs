use reqwest::{Method, StatusCode};

use crate::on_both_backends;
use crate::support::TestApp;

async fn discovery_documents_come_from_the_registry(app: TestApp) {
    let spc = app.get("/ServiceProviderConfig").await;
    assert_eq!(spc.status, StatusCode::OK);
    assert_eq!(
        spc.body["schemas"][0],
        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    );
    // Only what is implemented is advertised.
    assert_eq!(spc.body["patch"]["supported"], true);
    assert_eq!(spc.body["bulk"]["supported"], true);
    assert_eq!(spc.body["filter"]["supported"], true);
    assert_eq!(spc.body["sort"]["supported"], true);
    assert_eq!(spc.body["pagination"]["cursor"], true);
    assert_eq!(spc.body["pagination"]["defaultPaginationMethod"], "index");
    assert_eq!(spc.body["etag"]["supported"], true);
    assert_eq!(spc.body["filter"]["maxResults"], 1000);
    assert_eq!(
        spc.body["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );

    let rts = app.get("/ResourceTypes").await;
    assert_eq!(rts.body["totalResults"], 5);
    let names: Vec<&str> = rts.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["User", "Group", "Department", "Agent", "AgenticApplication"]
    );
    let user = app.get("/ResourceTypes/User").await;
    assert_eq!(user.body["endpoint"], "/Users");
    assert_eq!(
        user.body["schemaExtensions"][0]["schema"],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    );
    assert!(
        user.body["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with("/scim/v2/ResourceTypes/User")
    );

    // The seven built-in schemas (tests running beside this one in the same
    // process may publish extension schemas of their own).
    let schemas = app.get("/Schemas").await;
    let ids: Vec<&str> = schemas.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(schemas.body["totalResults"], ids.len());
    assert_eq!(
        ids[..7],
        [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:core:2.0:Group",
            "urn:scimhub:params:scim:schemas:core:2.0:Department",
            "urn:scimhub:params:scim:schemas:extension:organization:2.0:User",
            "urn:ietf:params:scim:schemas:core:2.0:Agent",
            "urn:ietf:params:scim:schemas:core:2.0:AgenticApplication",
        ]
    );
    let user_schema = app
        .get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
        .await;
    let attrs = user_schema.body["attributes"].as_array().unwrap();
    let user_name = attrs.iter().find(|a| a["name"] == "userName").unwrap();
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["caseExact"], false);
    let password = attrs.iter().find(|a| a["name"] == "password").unwrap();
    assert_eq!(password["returned"], "never");
    assert_eq!(password["mutability"], "writeOnly");

    app.get("/Schemas/urn:example:nope")
        .await
        .assert_error(404, None);
    app.get("/ResourceTypes/Widget")
        .await
        .assert_error(404, None);
}

async fn discovery_is_read_only(app: TestApp) {
    for path in [
        "/ServiceProviderConfig",
        "/ResourceTypes",
        "/Schemas",
        "/ResourceTypes/User",
    ] {
        for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
            let r = app
                .send(method.clone(), path, Some(&app.token), Some(b"{}".to_vec()))
                .await;
            r.assert_error(405, None);
        }
    }
}

on_both_backends!(
    discovery_documents_come_from_the_registry,
    discovery_is_read_only
);
