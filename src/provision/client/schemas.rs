//! What a target's `/Schemas` (RFC 7643 §7) says about its attributes:
//! names, types, multi-valued or not, mutability and sub-attributes.

use serde_json::Value;

use crate::scim::schema::{AttrType, Mutability, type_name, type_named};

/// One attribute as the target publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedAttribute {
    pub name: String,
    /// `None` for a type name outside RFC 7643 (not checked).
    pub attr_type: Option<AttrType>,
    pub multi_valued: bool,
    pub mutability: Mutability,
    pub sub_attributes: Vec<PublishedAttribute>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedSchema {
    pub id: String,
    pub attributes: Vec<PublishedAttribute>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishedSchemas {
    pub schemas: Vec<PublishedSchema>,
}

fn find<'a>(attributes: &'a [PublishedAttribute], name: &str) -> Option<&'a PublishedAttribute> {
    attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

impl PublishedAttribute {
    pub fn sub_attribute(&self, name: &str) -> Option<&PublishedAttribute> {
        find(&self.sub_attributes, name)
    }

    /// The RFC 7643 name of the type, for messages.
    pub fn type_name(&self) -> &'static str {
        self.attr_type.map_or("of an unknown type", type_name)
    }
}

impl PublishedSchema {
    pub fn attribute(&self, name: &str) -> Option<&PublishedAttribute> {
        find(&self.attributes, name)
    }
}

fn mutability(name: Option<&str>) -> Mutability {
    match name {
        Some(m) if m.eq_ignore_ascii_case("readOnly") => Mutability::ReadOnly,
        Some(m) if m.eq_ignore_ascii_case("immutable") => Mutability::Immutable,
        Some(m) if m.eq_ignore_ascii_case("writeOnly") => Mutability::WriteOnly,
        // RFC 7643 §7: readWrite when not given.
        _ => Mutability::ReadWrite,
    }
}

fn attributes(list: Option<&Value>, within: &str) -> Result<Vec<PublishedAttribute>, String> {
    let items = match list {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(format!("the attributes of {within} are not a list")),
    };
    items
        .iter()
        .map(|a| {
            let name = a
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| format!("an attribute of {within} has no name"))?;
            let path = format!("{within}:{name}");
            Ok(PublishedAttribute {
                name: name.to_string(),
                attr_type: a.get("type").and_then(Value::as_str).and_then(type_named),
                multi_valued: a.get("multiValued").and_then(Value::as_bool) == Some(true),
                mutability: mutability(a.get("mutability").and_then(Value::as_str)),
                sub_attributes: attributes(a.get("subAttributes"), &path)?,
            })
        })
        .collect()
}

impl PublishedSchemas {
    /// Reads a `/Schemas` answer: a ListResponse, or (as some targets
    /// answer) a bare array of schemas.
    pub fn parse(body: &Value) -> Result<Self, String> {
        let list = match body {
            Value::Array(items) => items,
            Value::Object(o) => match o.get("Resources") {
                Some(Value::Array(items)) => items,
                _ => return Err("a /Schemas answer without a \"Resources\" list".into()),
            },
            _ => return Err("a /Schemas answer that is neither a list nor an object".into()),
        };
        let schemas = list
            .iter()
            .map(|s| {
                let id = s
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty())
                    .ok_or("a schema without an id")?;
                Ok(PublishedSchema {
                    id: id.to_string(),
                    attributes: attributes(s.get("attributes"), id)?,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { schemas })
    }

    /// Schema URIs compare case-insensitively (RFC 7643 §2.1).
    pub fn schema(&self, id: &str) -> Option<&PublishedSchema> {
        self.schemas.iter().find(|s| s.id.eq_ignore_ascii_case(id))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_list_responses_and_bare_arrays() {
        let schema = json!({"id": "urn:x:User", "attributes": [
            {"name": "active", "type": "boolean"},
            {"name": "emails", "type": "complex", "multiValued": true, "subAttributes": [
                {"name": "value", "type": "string"}, {"name": "primary", "type": "boolean"}]},
            {"name": "groups", "type": "complex", "multiValued": true, "mutability": "readOnly"},
            {"name": "odd", "type": "uuid"}
        ]});
        let listed = PublishedSchemas::parse(&json!({"Resources": [schema.clone()]})).unwrap();
        assert_eq!(listed, PublishedSchemas::parse(&json!([schema])).unwrap());
        let user = listed.schema("URN:X:USER").unwrap();
        let active = user.attribute("Active").unwrap();
        assert_eq!(active.attr_type, Some(AttrType::Boolean));
        assert!(!active.multi_valued);
        assert_eq!(active.mutability, Mutability::ReadWrite);
        let emails = user.attribute("emails").unwrap();
        assert!(emails.multi_valued);
        assert_eq!(
            emails.sub_attribute("primary").unwrap().attr_type,
            Some(AttrType::Boolean)
        );
        assert_eq!(
            user.attribute("groups").unwrap().mutability,
            Mutability::ReadOnly
        );
        assert_eq!(user.attribute("odd").unwrap().attr_type, None);
    }

    #[test]
    fn malformed_documents_are_refused() {
        for (body, want) in [
            (json!("x"), "neither"),
            (json!({"schemas": []}), "Resources"),
            (json!([{"attributes": []}]), "without an id"),
            (json!([{"id": "u", "attributes": {}}]), "not a list"),
            (
                json!([{"id": "u", "attributes": [{"type": "string"}]}]),
                "no name",
            ),
        ] {
            let e = PublishedSchemas::parse(&body).unwrap_err();
            assert!(e.contains(want), "{body}: {e}");
        }
    }
}
