//! Extension schemas defined by administrators (in the configuration or over
//! the admin API): their definition document — RFC 7643 §7's Schema
//! representation plus the `resourceType` it extends — checked and turned
//! into registry definitions, and what a change of definition takes away
//! from stored resources.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::error::ScimError;
use super::filter::parse_attr_path;
use super::registry::{Extension, ResourceKind, is_built_in};
use super::schema::{
    AttrType, AttributeDef, Mutability, Returned, SchemaDef, Uniqueness, mutability_named,
    returned_named, type_named, uniqueness_named,
};

/// Longest schema id accepted.
const MAX_ID_BYTES: usize = 256;
/// Most attributes (and sub-attributes of one attribute) a schema may have.
const MAX_ATTRIBUTES: usize = 200;
/// Longest attribute name accepted.
const MAX_NAME_BYTES: usize = 128;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SchemaDocument {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    resource_type: String,
    attributes: Vec<AttributeDocument>,
    /// As `/Schemas` answers them: accepted and ignored, so a schema can be
    /// copied from another server.
    #[serde(default, rename = "schemas")]
    _schemas: Option<Value>,
    #[serde(default, rename = "meta")]
    _meta: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AttributeDocument {
    name: String,
    #[serde(rename = "type")]
    attr_type: String,
    #[serde(default)]
    multi_valued: bool,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    case_exact: bool,
    #[serde(default)]
    mutability: Option<String>,
    #[serde(default)]
    returned: Option<String>,
    #[serde(default)]
    uniqueness: Option<String>,
    #[serde(default)]
    canonical_values: Vec<String>,
    #[serde(default)]
    reference_types: Vec<String>,
    #[serde(default)]
    sub_attributes: Vec<AttributeDocument>,
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

fn leak_all(values: &[String]) -> &'static [&'static str] {
    Box::leak(
        values
            .iter()
            .map(|v| leak(v))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::invalid_value(detail)
}

/// Checks a definition document and builds the extension it defines. The
/// definition's strings are leaked: parse a document once per change.
pub fn parse(document: &Value) -> Result<Extension, ScimError> {
    let doc: SchemaDocument = serde_json::from_value(document.clone())
        .map_err(|e| invalid(format!("bad schema definition: {e}")))?;
    let id = doc.id.trim();
    check_id(id)?;
    let kind = match ResourceKind::parse(doc.resource_type.trim()) {
        Some(k @ (ResourceKind::User | ResourceKind::Group)) => k,
        _ => {
            return Err(invalid(format!(
                "resourceType {:?}: extension schemas extend User or Group",
                doc.resource_type
            )));
        }
    };
    if doc.attributes.is_empty() {
        return Err(invalid(format!(
            "schema {id:?} needs at least one attribute"
        )));
    }
    let attributes = attributes(&doc.attributes, None)?;
    let name = doc.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    Ok(Extension {
        kind,
        schema: SchemaDef {
            id: leak(id),
            name: leak(name.unwrap_or(id)),
            description: leak(doc.description.as_deref().unwrap_or_default()),
            attributes,
        },
    })
}

/// The document an extension is stored and shown as (the shape `parse` reads).
pub fn document(extension: &Extension) -> Value {
    let s = &extension.schema;
    let attributes: Vec<Value> = s.attributes.iter().map(AttributeDef::to_json).collect();
    json!({
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "resourceType": extension.kind.as_str(),
        "attributes": attributes,
    })
}

/// A schema id is a URN that attribute paths (`URN:attribute`) can name,
/// and that is not scimhub's own.
fn check_id(id: &str) -> Result<(), ScimError> {
    let urn_chars = id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '-'));
    let prefixed = id.len() > 4 && id[..4].eq_ignore_ascii_case("urn:");
    let addressable = parse_attr_path(&format!("{id}:probe"))
        .is_ok_and(|p| p.uri.as_deref() == Some(id) && p.name == "probe");
    if !(prefixed && urn_chars && addressable && id.len() <= MAX_ID_BYTES) {
        return Err(invalid(format!(
            "schema id {id:?} must be a URN (letters, digits and : . _ -, at most {MAX_ID_BYTES} \
             bytes, not ending in ':'), such as \
             \"urn:ietf:params:scim:schemas:extension:CustomApp:2.0:User\""
        )));
    }
    if is_built_in(id) {
        return Err(invalid(format!(
            "schema id {id:?} is one of scimhub's own schemas"
        )));
    }
    Ok(())
}

/// Checks attribute documents (`parent`: the complex attribute they are the
/// sub-attributes of).
fn attributes(
    docs: &[AttributeDocument],
    parent: Option<&str>,
) -> Result<Vec<AttributeDef>, ScimError> {
    if docs.len() > MAX_ATTRIBUTES {
        return Err(invalid(format!(
            "at most {MAX_ATTRIBUTES} attributes per schema or complex attribute"
        )));
    }
    let mut out: Vec<AttributeDef> = Vec::with_capacity(docs.len());
    for doc in docs {
        let def = attribute(doc, parent)?;
        if out.iter().any(|a| a.name.eq_ignore_ascii_case(def.name)) {
            return Err(invalid(format!(
                "attribute {:?} is defined twice (names ignore case)",
                shown(parent, def.name)
            )));
        }
        out.push(def);
    }
    Ok(out)
}

fn shown(parent: Option<&str>, name: &str) -> String {
    parent.map_or_else(|| name.to_string(), |p| format!("{p}.{name}"))
}

fn attribute(doc: &AttributeDocument, parent: Option<&str>) -> Result<AttributeDef, ScimError> {
    let name = doc.name.trim();
    let at = shown(parent, name);
    let valid_name = name.len() <= MAX_NAME_BYTES
        && name.chars().enumerate().all(|(i, c)| match i {
            0 => c.is_ascii_alphabetic() || (c == '$' && parent.is_some()),
            _ => c.is_ascii_alphanumeric() || c == '_' || c == '-',
        })
        && !name.is_empty()
        && (!name.starts_with('$') || name == "$ref");
    if !valid_name {
        return Err(invalid(format!(
            "attribute name {at:?} must start with a letter and hold only letters, digits, _ and - \
             (at most {MAX_NAME_BYTES} bytes; `$ref` only as a sub-attribute)"
        )));
    }
    let attr_type = type_named(doc.attr_type.trim()).ok_or_else(|| {
        invalid(format!(
            "attribute {at:?}: type {:?} is none of string, boolean, decimal, integer, dateTime, \
             reference, complex, binary",
            doc.attr_type
        ))
    })?;
    let mutability = match &doc.mutability {
        None => Mutability::ReadWrite,
        Some(m) => mutability_named(m.trim()).ok_or_else(|| {
            invalid(format!(
                "attribute {at:?}: mutability {m:?} is none of readOnly, readWrite, immutable"
            ))
        })?,
    };
    if mutability == Mutability::WriteOnly {
        return Err(invalid(format!(
            "attribute {at:?}: writeOnly is not offered for extension attributes (only the \
             password is kept write-only)"
        )));
    }
    let returned = match &doc.returned {
        None => Returned::Default,
        Some(r) => returned_named(r.trim()).ok_or_else(|| {
            invalid(format!(
                "attribute {at:?}: returned {r:?} is none of always, never, default, request"
            ))
        })?,
    };
    let uniqueness = match &doc.uniqueness {
        None => Uniqueness::None,
        Some(u) => uniqueness_named(u.trim()).ok_or_else(|| {
            invalid(format!(
                "attribute {at:?}: uniqueness {u:?} is none of none, server, global"
            ))
        })?,
    };
    if returned != Returned::Default && parent.is_some() {
        return Err(invalid(format!(
            "attribute {at:?}: returned applies to top-level attributes (a sub-attribute is \
             returned with its attribute)"
        )));
    }
    let textual = matches!(attr_type, AttrType::String | AttrType::Reference);
    if uniqueness != Uniqueness::None && (parent.is_some() || !(textual || number(attr_type))) {
        return Err(invalid(format!(
            "attribute {at:?}: uniqueness applies to top-level string, reference, integer or \
             decimal attributes"
        )));
    }
    if !doc.canonical_values.is_empty() && !textual {
        return Err(invalid(format!(
            "attribute {at:?}: canonicalValues are for string and reference attributes"
        )));
    }
    if doc.canonical_values.iter().any(|v| v.is_empty()) {
        return Err(invalid(format!(
            "attribute {at:?}: canonicalValues must not be empty strings"
        )));
    }
    if !doc.reference_types.is_empty() && attr_type != AttrType::Reference {
        return Err(invalid(format!(
            "attribute {at:?}: referenceTypes are for reference attributes"
        )));
    }
    let subs = match (attr_type, parent) {
        (AttrType::Complex, Some(_)) => {
            return Err(invalid(format!(
                "attribute {at:?}: a sub-attribute cannot be complex (RFC 7643 §2.3.8)"
            )));
        }
        (AttrType::Complex, None) if doc.sub_attributes.is_empty() => {
            return Err(invalid(format!(
                "attribute {at:?}: a complex attribute needs subAttributes"
            )));
        }
        (AttrType::Complex, None) => attributes(&doc.sub_attributes, Some(name))?,
        _ if !doc.sub_attributes.is_empty() => {
            return Err(invalid(format!(
                "attribute {at:?}: only complex attributes have subAttributes"
            )));
        }
        _ => Vec::new(),
    };
    Ok(AttributeDef {
        name: leak(name),
        attr_type,
        multi_valued: doc.multi_valued,
        description: leak(doc.description.as_deref().unwrap_or_default()),
        required: doc.required,
        case_exact: doc.case_exact,
        mutability,
        returned,
        uniqueness,
        canonical_values: leak_all(&doc.canonical_values),
        canonical_enforced: !doc.canonical_values.is_empty(),
        reference_types: leak_all(&doc.reference_types),
        sub_attributes: subs,
    })
}

fn number(t: AttrType) -> bool {
    matches!(t, AttrType::Integer | AttrType::Decimal)
}

/// Values a new definition no longer holds: a removed attribute, one whose
/// type or multiValued changed (by exact name: a name spelled differently is
/// a new attribute), or a removed or retyped sub-attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub attribute: String,
    pub sub: Option<String>,
}

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sub {
            Some(sub) => write!(f, "{}.{sub}", self.attribute),
            None => f.write_str(&self.attribute),
        }
    }
}

fn same_shape(a: &AttributeDef, b: &AttributeDef) -> bool {
    a.attr_type == b.attr_type && a.multi_valued == b.multi_valued
}

/// What replacing `old` with `new` (None: removing it) drops from stored values.
pub fn dropped(old: &SchemaDef, new: Option<&SchemaDef>) -> Vec<Dropped> {
    let mut out = Vec::new();
    for a in &old.attributes {
        let kept = new.and_then(|n| n.attributes.iter().find(|b| b.name == a.name));
        let Some(b) = kept.filter(|b| same_shape(a, b)) else {
            out.push(Dropped {
                attribute: a.name.to_string(),
                sub: None,
            });
            continue;
        };
        for sa in &a.sub_attributes {
            let kept = b.sub_attributes.iter().find(|sb| sb.name == sa.name);
            if !kept.is_some_and(|sb| same_shape(sa, sb)) {
                out.push(Dropped {
                    attribute: a.name.to_string(),
                    sub: Some(sa.name.to_string()),
                });
            }
        }
    }
    out
}

/// Those of `dropped` that `new` does not define at all (no longer any
/// value of them is valid; a retyped attribute's new values are).
pub fn undefined(dropped: &[Dropped], new: Option<&SchemaDef>) -> Vec<Dropped> {
    dropped
        .iter()
        .filter(|d| {
            let attribute = new.and_then(|n| n.attributes.iter().find(|a| a.name == d.attribute));
            match (attribute, &d.sub) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(a), Some(sub)) => !a.sub_attributes.iter().any(|s| s.name == *sub),
            }
        })
        .cloned()
        .collect()
}

/// Whether a resource's stored attributes hold any of `dropped` under `urn`.
pub fn holds(attributes: &Map<String, Value>, urn: &str, dropped: &[Dropped]) -> bool {
    let Some(Value::Object(ext)) = attributes.get(urn) else {
        return false;
    };
    dropped
        .iter()
        .any(|d| match (ext.get(&d.attribute), &d.sub) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(v), Some(sub)) => elements(v).any(|e| e.get(sub).is_some()),
        })
}

fn elements(v: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match v {
        Value::Array(items) => Box::new(items.iter()),
        other => Box::new(std::iter::once(other)),
    }
}

/// Takes `dropped` out of a resource's stored attributes (an extension or
/// complex value left empty goes too); true when anything changed.
pub fn strip(attributes: &mut Map<String, Value>, urn: &str, dropped: &[Dropped]) -> bool {
    let Some(Value::Object(ext)) = attributes.get_mut(urn) else {
        return false;
    };
    let mut changed = false;
    for d in dropped {
        let Some(sub) = &d.sub else {
            changed |= ext.remove(&d.attribute).is_some();
            continue;
        };
        let Some(value) = ext.get_mut(&d.attribute) else {
            continue;
        };
        let emptied = match value {
            Value::Array(items) => {
                for item in items.iter_mut() {
                    if let Value::Object(o) = item {
                        changed |= o.remove(sub).is_some();
                    }
                }
                items.retain(|i| i.as_object().is_none_or(|o| !o.is_empty()));
                items.is_empty()
            }
            Value::Object(o) => {
                changed |= o.remove(sub).is_some();
                o.is_empty()
            }
            _ => false,
        };
        if emptied {
            ext.remove(&d.attribute);
        }
    }
    if ext.is_empty() {
        attributes.remove(urn);
    }
    changed
}

#[cfg(test)]
mod tests;
