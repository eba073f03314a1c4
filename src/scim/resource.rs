//! Input validation: turns a client's JSON body into the canonical form the
//! store keeps (attribute names as the schema spells them, types checked,
//! readOnly and unknown attributes dropped, extensions under their URN).

use serde_json::{Map, Value};

use super::error::ScimError;
use super::registry::{ResourceKind, registry};
use super::schema::{AttrType, AttributeDef, Mutability};

/// Common attributes (RFC 7643 §3.1) that are not part of any schema.
const ID: &str = "id";
const META: &str = "meta";
const EXTERNAL_ID: &str = "externalId";
const SCHEMAS: &str = "schemas";

/// Largest string value accepted for one attribute (in bytes).
pub const MAX_STRING_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedResource {
    pub kind: ResourceKind,
    /// Canonical attributes: core attributes and `externalId` at the top level,
    /// extension attributes in an object under the extension's schema URN.
    /// Never contains `id`, `meta`, `schemas` or write-only attributes.
    pub attributes: Map<String, Value>,
    /// The cleartext password, if one was given (write-only: hash and drop it).
    pub password: Option<String>,
    /// Attributes and schemas that were not recognised and were ignored.
    pub ignored: Vec<String>,
}

/// Validates a POST or PUT body for `kind`.
pub fn validate(kind: ResourceKind, body: &Value) -> Result<ValidatedResource, ScimError> {
    let Value::Object(body) = body else {
        return Err(ScimError::invalid_syntax(
            "the request body must be a JSON object",
        ));
    };
    let reg = registry();
    let core = reg.core_schema(kind);
    check_schemas(kind, body)?;

    let mut out = ValidatedResource {
        kind,
        attributes: Map::new(),
        password: None,
        ignored: Vec::new(),
    };
    for (key, value) in body {
        if [SCHEMAS, ID, META]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(key))
        {
            continue; // schemas checked above; id and meta are readOnly and ignored
        }
        if key.eq_ignore_ascii_case(EXTERNAL_ID) {
            let def = external_id_def();
            if let Some(v) = coerce(&def, value, EXTERNAL_ID)? {
                out.attributes.insert(EXTERNAL_ID.into(), v);
            }
            continue;
        }
        if let Some(ext) = reg
            .extensions(kind)
            .find(|s| s.id.eq_ignore_ascii_case(key))
        {
            let Value::Object(ext_body) = value else {
                if value.is_null() {
                    continue;
                }
                return Err(ScimError::invalid_value(format!(
                    "'{}' must be a JSON object",
                    ext.id
                )));
            };
            let mut ext_attrs = Map::new();
            for (name, v) in ext_body {
                match ext.attribute(name) {
                    Some(def) => {
                        let path = format!("{}:{}", ext.id, def.name);
                        if let Some(v) = coerce_top(def, v, &path, &mut out.password)? {
                            ext_attrs.insert(def.name.into(), v);
                        }
                    }
                    None => out.ignored.push(format!("{}:{name}", ext.id)),
                }
            }
            if !ext_attrs.is_empty() {
                out.attributes
                    .insert(ext.id.into(), Value::Object(ext_attrs));
            }
            continue;
        }
        match core.attribute(key) {
            Some(def) => {
                if let Some(v) = coerce_top(def, value, def.name, &mut out.password)? {
                    out.attributes.insert(def.name.into(), v);
                }
            }
            None => out.ignored.push(key.clone()),
        }
    }

    for def in core.attributes.iter().filter(|a| a.required) {
        let present = match out.attributes.get(def.name) {
            Some(Value::String(s)) => !s.trim().is_empty(),
            other => other.is_some(),
        };
        if !present {
            return Err(ScimError::invalid_value(format!(
                "attribute '{}' is required",
                def.name
            )));
        }
    }
    if let Some(path) = missing_extension_attribute(kind, &out.attributes) {
        return Err(ScimError::invalid_value(format!(
            "attribute '{path}' is required"
        )));
    }
    Ok(out)
}

/// The first required attribute (`URN:name`) missing from an extension a
/// resource carries: a required extension attribute binds only resources
/// that have the extension.
pub fn missing_extension_attribute(
    kind: ResourceKind,
    attributes: &Map<String, Value>,
) -> Option<String> {
    registry().extensions(kind).find_map(|ext| {
        let Some(Value::Object(values)) = attributes.get(ext.id) else {
            return None;
        };
        ext.attributes
            .iter()
            .filter(|a| a.required)
            .find(|a| match values.get(a.name) {
                Some(Value::String(s)) => s.trim().is_empty(),
                other => other.is_none_or(Value::is_null),
            })
            .map(|a| format!("{}:{}", ext.id, a.name))
    })
}

/// Rejects a change to an immutable attribute that already has a value (PUT).
pub fn check_immutable(
    kind: ResourceKind,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<(), ScimError> {
    let reg = registry();
    let scopes = std::iter::once((None, reg.core_schema(kind)))
        .chain(reg.extensions(kind).map(|s| (Some(s.id), s)));
    for (urn, schema) in scopes {
        let pick = |m: &Map<String, Value>, name: &str| -> Option<Value> {
            match urn {
                None => m.get(name).cloned(),
                Some(u) => m.get(u).and_then(|e| e.get(name)).cloned(),
            }
        };
        for def in schema
            .attributes
            .iter()
            .filter(|a| a.mutability == Mutability::Immutable)
        {
            let before = pick(old, def.name);
            if before.is_some() && pick(new, def.name) != before {
                return Err(ScimError::mutability(format!(
                    "attribute '{}' is immutable",
                    def.name
                )));
            }
        }
    }
    Ok(())
}

fn external_id_def() -> AttributeDef {
    AttributeDef::string(
        EXTERNAL_ID,
        "An identifier for the resource as defined by the client.",
    )
    .case_exact()
}

fn check_schemas(kind: ResourceKind, body: &Map<String, Value>) -> Result<(), ScimError> {
    let core = registry().core_schema(kind).id;
    let schemas = super::json::member(body, SCHEMAS);
    let Some(Value::Array(list)) = schemas else {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' must be an array that includes \"{core}\""
        )));
    };
    let mut has_core = false;
    for item in list {
        let Value::String(uri) = item else {
            return Err(ScimError::invalid_syntax(
                "'schemas' must contain only strings",
            ));
        };
        has_core |= uri.eq_ignore_ascii_case(core);
    }
    if !has_core {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' must include \"{core}\""
        )));
    }
    Ok(())
}

/// A top-level (or extension-level) attribute: readOnly ones are ignored on
/// input, write-only ones are taken out of the stored attributes.
fn coerce_top(
    def: &AttributeDef,
    value: &Value,
    path: &str,
    password: &mut Option<String>,
) -> Result<Option<Value>, ScimError> {
    match def.mutability {
        Mutability::ReadOnly => Ok(None),
        Mutability::WriteOnly => {
            if let Some(Value::String(s)) = coerce(def, value, path)? {
                *password = Some(s);
            }
            Ok(None)
        }
        _ => coerce(def, value, path),
    }
}

/// Checks and normalizes one attribute value. `None` means "unassigned"
/// (null, an empty array, or a complex value with nothing left in it).
pub fn coerce(def: &AttributeDef, value: &Value, path: &str) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if !def.multi_valued {
        return coerce_single(def, value, path);
    }
    let Value::Array(items) = value else {
        return Err(ScimError::invalid_value(format!(
            "'{path}' is multi-valued and must be an array"
        )));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(v) = coerce_single(def, item, path)? {
            out.push(v);
        }
    }
    let primaries = out
        .iter()
        .filter(|v| v.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(ScimError::invalid_value(format!(
            "at most one value of '{path}' may be primary"
        )));
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

fn coerce_single(
    def: &AttributeDef,
    value: &Value,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    let wrong = |expected: &str| ScimError::invalid_value(format!("'{path}' must be {expected}"));
    match (def.attr_type, value) {
        (_, Value::Null) => Ok(None),
        (AttrType::String | AttrType::Reference, Value::String(s)) if def.canonical_enforced => {
            check_string(s, path)?;
            canonical(def, s, path).map(|c| Some(Value::String(c.into())))
        }
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(s)) => {
            check_string(s, path)?;
            Ok(Some(Value::String(s.clone())))
        }
        (AttrType::String | AttrType::Reference | AttrType::Binary, _) => Err(wrong("a string")),
        (AttrType::Boolean, Value::Bool(b)) => Ok(Some(Value::Bool(*b))),
        // Microsoft Entra ID sends booleans as "True"/"False".
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(Some(Value::Bool(true)))
        }
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(Some(Value::Bool(false)))
        }
        (AttrType::Boolean, _) => Err(wrong("a boolean")),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() => Ok(Some(value.clone())),
        (AttrType::Integer, _) => Err(wrong("an integer")),
        (AttrType::Decimal, Value::Number(_)) => Ok(Some(value.clone())),
        (AttrType::Decimal, _) => Err(wrong("a number")),
        (AttrType::DateTime, Value::String(s)) => {
            chrono::DateTime::parse_from_rfc3339(s)
                .map_err(|_| wrong("an RFC 3339 dateTime such as \"2026-01-31T12:00:00Z\""))?;
            Ok(Some(value.clone()))
        }
        (AttrType::DateTime, _) => Err(wrong("a dateTime string")),
        (AttrType::Complex, Value::Object(fields)) => coerce_complex(def, fields, path),
        // Entra sends a bare id for `manager`: read it as `{"value": id}`.
        (AttrType::Complex, Value::String(s)) if def.sub_attribute("value").is_some() => {
            check_string(s, path)?;
            Ok((!s.is_empty()).then(|| serde_json::json!({ "value": s })))
        }
        (AttrType::Complex, _) => Err(wrong("a JSON object")),
    }
}

/// One of an attribute's canonical values, as the schema spells it
/// (matched ignoring case unless the attribute is caseExact).
fn canonical(def: &AttributeDef, s: &str, path: &str) -> Result<&'static str, ScimError> {
    def.canonical_values
        .iter()
        .copied()
        .find(|c| *c == s || (!def.case_exact && c.eq_ignore_ascii_case(s)))
        .ok_or_else(|| {
            ScimError::invalid_value(format!(
                "'{path}' must be one of {}",
                def.canonical_values
                    .iter()
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

fn coerce_complex(
    def: &AttributeDef,
    fields: &Map<String, Value>,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    let mut out = Map::new();
    for (name, v) in fields {
        // Unknown sub-attributes are dropped like unknown attributes.
        let Some(sub) = def.sub_attribute(name) else {
            continue;
        };
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        if let Some(v) = coerce(sub, v, &format!("{path}.{}", sub.name))? {
            out.insert(sub.name.into(), v);
        }
    }
    if let Some(missing) = def
        .sub_attributes
        .iter()
        .find(|s| s.required && !out.contains_key(s.name))
    {
        return Err(ScimError::invalid_value(format!(
            "every value of '{path}' needs '{}'",
            missing.name
        )));
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

fn check_string(s: &str, path: &str) -> Result<(), ScimError> {
    if s.len() > MAX_STRING_BYTES {
        return Err(ScimError::invalid_value(format!(
            "'{path}' is longer than {MAX_STRING_BYTES} bytes"
        )));
    }
    if s.contains('\0') {
        return Err(ScimError::invalid_value(format!(
            "'{path}' must not contain NUL characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::registry::{ENTERPRISE_USER_SCHEMA, USER_SCHEMA};
    use serde_json::json;

    fn user(body: Value) -> Result<ValidatedResource, ScimError> {
        validate(ResourceKind::User, &body)
    }

    #[test]
    fn canonicalizes_names_and_drops_read_only_and_unknown() {
        let v = user(json!({
            "SCHEMAS": [USER_SCHEMA.to_uppercase(), "urn:example:unknown"],
            "id": "client-chosen", "meta": {"version": "x"},
            "USERNAME": "ann", "Name": {"GIVENNAME": "Ann", "bogus": 1},
            "groups": [{"value": "g1"}], "shoeSize": 42,
            "externalid": "E1",
        }))
        .unwrap();
        assert_eq!(
            Value::Object(v.attributes.clone()),
            json!({"userName": "ann", "name": {"givenName": "Ann"}, "externalId": "E1"})
        );
        assert_eq!(v.ignored, vec!["shoeSize".to_string()]);
    }

    #[test]
    fn password_is_taken_out_of_the_attributes() {
        let v =
            user(json!({"schemas": [USER_SCHEMA], "userName": "a", "password": "s3cret"})).unwrap();
        assert_eq!(v.password.as_deref(), Some("s3cret"));
        assert!(!v.attributes.contains_key("password"));
    }

    #[test]
    fn extension_goes_under_its_urn_and_entra_booleans_are_coerced() {
        let v = user(json!({
            "schemas": [USER_SCHEMA], "userName": "a", "active": "False",
            ENTERPRISE_USER_SCHEMA: {"employeeNumber": "7", "manager": {"value": "m1", "displayName": "x"}},
        }))
        .unwrap();
        assert_eq!(v.attributes["active"], json!(false));
        assert_eq!(
            v.attributes[ENTERPRISE_USER_SCHEMA],
            json!({"employeeNumber": "7", "manager": {"value": "m1"}})
        );
    }

    #[test]
    fn rejects_bad_shapes_with_the_right_scim_type() {
        use super::super::error::ScimType::*;
        let cases = [
            (json!([]), InvalidSyntax),
            (json!({"userName": "a"}), InvalidSyntax),
            (json!({"schemas": [], "userName": "a"}), InvalidSyntax),
            (json!({"schemas": [USER_SCHEMA]}), InvalidValue),
            (
                json!({"schemas": [USER_SCHEMA], "userName": "  "}),
                InvalidValue,
            ),
            (
                json!({"schemas": [USER_SCHEMA], "userName": 5}),
                InvalidValue,
            ),
            (
                json!({"schemas": [USER_SCHEMA], "userName": "a", "emails": "x@y"}),
                InvalidValue,
            ),
            (
                json!({"schemas": [USER_SCHEMA], "userName": "a", "active": "yes"}),
                InvalidValue,
            ),
            (
                json!({"schemas": [USER_SCHEMA], "userName": "a\u{0}b"}),
                InvalidValue,
            ),
            (
                json!({"schemas": [USER_SCHEMA], "userName": "a",
                    "emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]}),
                InvalidValue,
            ),
        ];
        for (body, expected) in cases {
            let err = user(body.clone()).unwrap_err();
            assert_eq!(err.scim_type, Some(expected), "{body}");
            assert_eq!(err.status, 400);
        }
    }

    #[test]
    fn empty_values_count_as_unassigned() {
        let v =
            user(json!({"schemas": [USER_SCHEMA], "userName": "a", "emails": [], "title": null}))
                .unwrap();
        assert_eq!(Value::Object(v.attributes), json!({"userName": "a"}));
    }
}
