//! Output: assembles the SCIM JSON of a stored resource.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::registry::{ResourceKind, registry};

/// Server-maintained facts about a stored resource (RFC 7643 §3.1 `meta`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMeta {
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub version: i64,
}

impl ResourceMeta {
    /// The weak entity tag carried in `meta.version` and the `ETag` header.
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }
}

pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `base_url` is the absolute SCIM base (for example `https://h/scim/v2`).
pub fn location(base_url: &str, kind: ResourceKind, id: &str) -> String {
    format!("{base_url}/{}/{id}", kind.endpoint())
}

/// Renders a resource. `attributes` is the canonical stored form
/// (see `resource::ValidatedResource`); `derived` holds server-computed
/// attributes such as `groups` or `members`.
pub fn render(
    kind: ResourceKind,
    id: &str,
    attributes: &Map<String, Value>,
    derived: Map<String, Value>,
    meta: &ResourceMeta,
    base_url: &str,
) -> Value {
    let reg = registry();
    let mut schemas = vec![Value::String(reg.core_schema(kind).id.into())];
    let mut out = Map::new();
    out.insert("schemas".into(), Value::Null); // keeps `schemas` first
    out.insert("id".into(), Value::String(id.into()));
    let mut extensions = Map::new();
    for (name, value) in attributes {
        if reg.extensions(kind).any(|s| s.id == name) {
            schemas.push(Value::String(name.clone()));
            extensions.insert(name.clone(), value.clone());
        } else {
            out.insert(name.clone(), value.clone());
        }
    }
    out.extend(derived);
    out.extend(extensions);
    out.insert(
        "meta".into(),
        json!({
            "resourceType": kind.as_str(),
            "created": format_time(&meta.created),
            "lastModified": format_time(&meta.last_modified),
            "location": location(base_url, kind, id),
            "version": meta.etag(),
        }),
    );
    out.insert("schemas".into(), Value::Array(schemas));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::registry::ENTERPRISE_USER_SCHEMA;
    use chrono::TimeZone;

    #[test]
    fn renders_schemas_meta_and_extensions() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let meta = ResourceMeta {
            created: t,
            last_modified: t,
            version: 3,
        };
        let attrs = json!({"userName": "a", ENTERPRISE_USER_SCHEMA: {"department": "R&D"}});
        let Value::Object(attrs) = attrs else {
            unreachable!()
        };
        let v = render(
            ResourceKind::User,
            "u1",
            &attrs,
            Map::new(),
            &meta,
            "http://h/scim/v2",
        );
        assert_eq!(
            v["schemas"],
            json!([
                "urn:ietf:params:scim:schemas:core:2.0:User",
                ENTERPRISE_USER_SCHEMA
            ])
        );
        assert_eq!(v["meta"]["location"], "http://h/scim/v2/Users/u1");
        assert_eq!(v["meta"]["version"], "W/\"3\"");
        assert_eq!(v["meta"]["created"], "2026-01-02T03:04:05.000Z");
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.first().map(|k| k.as_str()), Some("schemas"));
    }
}
