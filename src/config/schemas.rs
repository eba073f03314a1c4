//! `[[schemas]]`: extension schemas declared in the configuration file,
//! inline or as a JSON file each. Both become the same definition document
//! the admin API takes (`scim::extension_schema`), checked when a server or
//! command starts.

use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchemaConfig {
    /// A JSON file holding one definition document, or an array of them
    /// (instead of the keys below).
    pub file: Option<String>,
    /// The schema's URN.
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// `User` or `Group`.
    pub resource_type: Option<String>,
    /// Attribute definitions, spelled as in RFC 7643 §7 (`multiValued`,
    /// `caseExact`, `subAttributes`, …).
    pub attributes: Vec<Value>,
}

impl SchemaConfig {
    /// The definition documents this entry declares.
    pub fn documents(&self) -> anyhow::Result<Vec<Value>> {
        let inline = self.id.is_some()
            || self.name.is_some()
            || self.description.is_some()
            || self.resource_type.is_some()
            || !self.attributes.is_empty();
        let Some(path) = &self.file else {
            let Some(id) = &self.id else {
                bail!("a [[schemas]] entry needs `id` (or `file`)");
            };
            return Ok(vec![json!({
                "id": id,
                "name": self.name,
                "description": self.description,
                "resourceType": self.resource_type.as_deref().unwrap_or("User"),
                "attributes": self.attributes,
            })]);
        };
        if inline {
            bail!("a [[schemas]] entry with `file = {path:?}` takes no other keys");
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read schema file {path}"))?;
        match serde_json::from_str(&text).with_context(|| format!("schema file {path}"))? {
            Value::Array(documents) => Ok(documents),
            document => Ok(vec![document]),
        }
    }
}
