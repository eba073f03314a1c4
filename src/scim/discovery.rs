//! Discovery documents (RFC 7644 §4), generated from the registry and from
//! the capabilities actually enforced, so they never advertise more.

use serde_json::{Value, json};

use super::event_uris::EVENT_URIS;
use super::list::{PageRequest, list_response};
use super::registry::{ResourceTypeDef, registry};
use super::schema::SchemaDef;

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// What this server enforces; each field feeds the ServiceProviderConfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    pub max_results: u64,
    pub max_payload_bytes: u64,
    pub default_page_size: u64,
    pub cursor_timeout_secs: i64,
    pub bulk_max_operations: u64,
    /// SCIM events are signed and served (RFC 9967 §4: `securityEvents`
    /// is absent otherwise).
    pub security_events: bool,
}

pub fn service_provider_config(caps: &Capabilities, base_url: &str) -> Value {
    let mut spc = json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": true},
        "bulk": {"supported": true, "maxOperations": caps.bulk_max_operations, "maxPayloadSize": caps.max_payload_bytes},
        "filter": {"supported": true, "maxResults": caps.max_results},
        "changePassword": {"supported": true},
        "sort": {"supported": true},
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": caps.default_page_size,
            "maxPageSize": caps.max_results,
            "cursorTimeout": caps.cursor_timeout_secs,
        },
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token issued by `scimhub token create`.",
            "specUri": "https://datatracker.ietf.org/doc/html/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base_url}/ServiceProviderConfig"),
        },
    });
    if caps.security_events {
        // Requests always complete synchronously (no `Prefer: respond-async`).
        spc["securityEvents"] = json!({"asyncRequest": "none", "eventUris": EVENT_URIS});
    }
    spc
}

fn resource_type_json(rt: &ResourceTypeDef, base_url: &str) -> Value {
    let name = rt.kind.as_str();
    let extensions: Vec<Value> = rt
        .extensions
        .iter()
        .map(|e| json!({"schema": e.schema, "required": e.required}))
        .collect();
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": name,
        "name": name,
        "endpoint": format!("/{}", rt.kind.endpoint()),
        "description": rt.description,
        "schema": rt.schema,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base_url}/ResourceTypes/{name}"),
        },
    })
}

fn schema_json(schema: &SchemaDef, base_url: &str) -> Value {
    let attributes: Vec<Value> = schema.attributes.iter().map(|a| a.to_json()).collect();
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": attributes,
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base_url}/Schemas/{}", schema.id),
        },
    })
}

fn whole_list(items: Vec<Value>) -> Value {
    let page = PageRequest {
        start_index: 1,
        count: items.len() as u64,
    };
    list_response(items.len() as u64, page, items)
}

pub fn resource_types(base_url: &str) -> Value {
    let items = registry()
        .resource_types
        .iter()
        .map(|rt| resource_type_json(rt, base_url))
        .collect();
    whole_list(items)
}

/// One resource type by its id (`User`, `Group`), compared case-insensitively.
pub fn resource_type(id: &str, base_url: &str) -> Option<Value> {
    registry()
        .resource_types
        .iter()
        .find(|rt| rt.kind.as_str().eq_ignore_ascii_case(id))
        .map(|rt| resource_type_json(rt, base_url))
}

pub fn schemas(base_url: &str) -> Value {
    let items = registry()
        .schemas
        .iter()
        .map(|s| schema_json(s, base_url))
        .collect();
    whole_list(items)
}

pub fn schema(id: &str, base_url: &str) -> Option<Value> {
    registry().schema(id).map(|s| schema_json(s, base_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertises_what_is_enforced() {
        let caps = Capabilities {
            max_results: 500,
            max_payload_bytes: 1024,
            default_page_size: 50,
            cursor_timeout_secs: 60,
            bulk_max_operations: 7,
            security_events: false,
        };
        let spc = service_provider_config(&caps, "http://h/scim/v2");
        // RFC 9967 §4: absent when events are not configured.
        assert!(spc.get("securityEvents").is_none());
        let with_events = service_provider_config(
            &Capabilities {
                security_events: true,
                ..caps.clone()
            },
            "http://h/scim/v2",
        );
        assert_eq!(with_events["securityEvents"]["asyncRequest"], "none");
        assert_eq!(
            with_events["securityEvents"]["eventUris"]
                .as_array()
                .map(Vec::len),
            Some(EVENT_URIS.len())
        );
        assert_eq!(spc["filter"]["maxResults"], 500);
        assert_eq!(spc["bulk"]["maxPayloadSize"], 1024);
        assert_eq!(spc["bulk"]["maxOperations"], 7);
        assert_eq!(spc["etag"]["supported"], true);
        assert_eq!(spc["pagination"]["maxPageSize"], 500);
        assert_eq!(spc["pagination"]["cursorTimeout"], 60);
    }

    #[test]
    fn resource_types_and_schemas_come_from_the_registry() {
        let rts = resource_types("http://h/scim/v2");
        assert_eq!(rts["totalResults"], 5);
        let user = resource_type("user", "http://h/scim/v2").unwrap();
        assert_eq!(user["endpoint"], "/Users");
        assert_eq!(
            user["schemaExtensions"][1]["schema"],
            "urn:scimhub:params:scim:schemas:extension:organization:2.0:User"
        );
        let department = resource_type("Department", "http://h/scim/v2").unwrap();
        assert_eq!(department["endpoint"], "/Departments");
        let agent = resource_type("agent", "http://h/scim/v2").unwrap();
        assert_eq!(agent["endpoint"], "/Agents");
        assert_eq!(
            agent["schema"],
            "urn:ietf:params:scim:schemas:core:2.0:Agent"
        );
        assert_eq!(schemas("b")["totalResults"], 7);
        let s = schema("urn:ietf:params:scim:schemas:core:2.0:group", "b").unwrap();
        assert_eq!(s["name"], "Group");
    }
}
