//! The resources a resource names: every core attribute whose `$ref`
//! sub-attribute lists resource types (`referenceTypes`), read from the
//! registry, so a new resource type's references are checked without code.

use serde_json::{Map, Value};

use super::registry::{ResourceKind, registry};

/// One reference a resource makes: the id it names, and the types it may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub attribute: &'static str,
    pub id: String,
    pub types: Vec<ResourceKind>,
    /// A single-valued reference to the resource's own type (an Agent's
    /// `parent`): following it must never lead back (no cycles).
    pub hierarchy: bool,
}

/// The references in `attributes` (a resource of `kind`), in schema order.
pub fn named(kind: ResourceKind, attributes: &Map<String, Value>) -> Vec<Reference> {
    let schema = registry().core_schema(kind);
    let mut found = Vec::new();
    for def in &schema.attributes {
        let Some(reference) = def.sub_attribute("$ref") else {
            continue;
        };
        let types: Vec<ResourceKind> = reference
            .reference_types
            .iter()
            .filter_map(|t| ResourceKind::parse(t))
            .collect();
        if types.is_empty() {
            continue;
        }
        let hierarchy = !def.multi_valued && types == [kind];
        let values = match attributes.get(def.name) {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => Vec::new(),
        };
        for v in values {
            if let Some(id) = v.get("value").and_then(Value::as_str) {
                found.push(Reference {
                    attribute: def.name,
                    id: id.to_string(),
                    types: types.clone(),
                    hierarchy,
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::agents::{AGENT, AGENTIC_APPLICATION};
    use serde_json::json;

    #[test]
    fn agent_references_come_from_the_schema() {
        let attrs = json!({
            "name": "a",
            "owners": [{"value": "u1"}, {"value": "g1"}],
            "parent": {"value": "p1"},
            "applications": [{"value": "app1"}],
            "protocols": [{"type": "A2A", "specificationUrl": "https://x"}]
        });
        let refs = named(AGENT, attrs.as_object().unwrap());
        let ids: Vec<(&str, &str)> = refs.iter().map(|r| (r.attribute, r.id.as_str())).collect();
        assert_eq!(
            ids,
            vec![
                ("applications", "app1"),
                ("parent", "p1"),
                ("owners", "u1"),
                ("owners", "g1")
            ]
        );
        assert_eq!(refs[0].types, vec![AGENTIC_APPLICATION]);
        assert_eq!(refs[1].types, vec![AGENT]);
        assert_eq!(refs[2].types, vec![ResourceKind::User, ResourceKind::Group]);
        let hierarchy: Vec<bool> = refs.iter().map(|r| r.hierarchy).collect();
        assert_eq!(hierarchy, [false, true, false, false], "only parent");
    }
}
