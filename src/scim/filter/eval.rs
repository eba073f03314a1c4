//! The meaning of a filter, evaluated over a rendered resource. This is the
//! reference: the SQL pushdown in `store` must give the same answers.
//!
//! Rules (RFC 7644 §3.4.2.2): string comparisons honour the attribute's
//! `caseExact`; a multi-valued attribute matches when any value matches; a
//! value filter binds all its conditions to one element; `pr` is false for
//! null, "" and empty arrays; dateTimes compare chronologically and numbers
//! numerically. An attribute the schema does not define is unassigned: every
//! comparison on it is false (so `not (...)` around it is true).

use crate::scim::json::member_of;
use crate::scim::json::present;
use std::cmp::Ordering;

use chrono::DateTime;
use serde_json::Value;

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::error::ScimError;
use crate::scim::registry::{ResourceKind, common_attribute, registry};
use crate::scim::schema::{AttrType, AttributeDef, Returned};

/// The definition a path names: relative to `parent` inside a value filter.
/// A complex attribute without a sub-attribute stands for its `value`.
pub fn resolve(
    kind: ResourceKind,
    path: &AttrPath,
    parent: Option<&'static AttributeDef>,
) -> Option<&'static AttributeDef> {
    let reg = registry();
    let top: &'static AttributeDef = match (parent, &path.uri) {
        (Some(p), _) => {
            if path.uri.is_some() || path.sub.is_some() {
                return None;
            }
            p.sub_attribute(&path.name)?
        }
        (None, Some(uri)) => {
            let schema = reg.schema(uri)?;
            let allowed = schema.id == reg.core_schema(kind).id
                || reg.extensions(kind).any(|e| e.id == schema.id);
            if !allowed {
                return None;
            }
            schema.attribute(&path.name)?
        }
        (None, None) => {
            common_attribute(&path.name).or_else(|| reg.core_schema(kind).attribute(&path.name))?
        }
    };
    match &path.sub {
        Some(sub) if parent.is_none() => top.sub_attribute(sub),
        _ if top.attr_type == AttrType::Complex => top.sub_attribute("value").or(Some(top)),
        _ => Some(top),
    }
}

/// The definition of the complex attribute a value filter ranges over
/// (`None` when the path names no complex attribute of `kind`).
pub fn resolve_container(kind: ResourceKind, path: &AttrPath) -> Option<&'static AttributeDef> {
    let bare = AttrPath {
        uri: path.uri.clone(),
        name: path.name.clone(),
        sub: None,
    };
    let reg = registry();
    match &bare.uri {
        Some(uri) => {
            let schema = reg.schema(uri)?;
            let allowed = schema.id == reg.core_schema(kind).id
                || reg.extensions(kind).any(|e| e.id == schema.id);
            if allowed {
                schema.attribute(&bare.name)
            } else {
                None
            }
        }
        None => {
            common_attribute(&bare.name).or_else(|| reg.core_schema(kind).attribute(&bare.name))
        }
    }
    .filter(|d| d.attr_type == AttrType::Complex)
}

/// Refuses filters that are well-formed but not allowed: ordering on
/// booleans or binary data, substring operators on non-strings, and any
/// condition on a never-returned attribute (passwords could be guessed).
pub fn check(filter: &Filter, kind: ResourceKind) -> Result<(), ScimError> {
    check_in(filter, kind, None)
}

fn check_in(
    filter: &Filter,
    kind: ResourceKind,
    parent: Option<&'static AttributeDef>,
) -> Result<(), ScimError> {
    match filter {
        Filter::Compare { path, op, value } => check_leaf(kind, path, Some((*op, value)), parent),
        Filter::Present(path) => check_leaf(kind, path, None, parent),
        Filter::And(a, b) | Filter::Or(a, b) => {
            check_in(a, kind, parent)?;
            check_in(b, kind, parent)
        }
        Filter::Not(inner) => check_in(inner, kind, parent),
        Filter::ValuePath { path, filter } => {
            check_leaf(kind, path, None, None)?;
            match resolve_container(kind, path) {
                Some(def) => check_in(filter, kind, Some(def)),
                None => Ok(()),
            }
        }
    }
}

fn check_leaf(
    kind: ResourceKind,
    path: &AttrPath,
    comparison: Option<(CompareOp, &CompValue)>,
    parent: Option<&'static AttributeDef>,
) -> Result<(), ScimError> {
    let Some(def) = resolve(kind, path, parent) else {
        return Ok(());
    };
    if def.returned == Returned::Never {
        return Err(ScimError::invalid_filter(format!(
            "'{path}' cannot be used in a filter"
        )));
    }
    let Some((op, value)) = comparison else {
        return Ok(());
    };
    let t = def.attr_type;
    if op.is_ordering() && matches!(t, AttrType::Boolean | AttrType::Binary) {
        return Err(ScimError::invalid_filter(format!(
            "'{}' cannot be used with '{path}' (a {} attribute)",
            op.as_str(),
            if t == AttrType::Boolean {
                "boolean"
            } else {
                "binary"
            }
        )));
    }
    let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    if substring && matches!(t, AttrType::Boolean | AttrType::Integer | AttrType::Decimal) {
        return Err(ScimError::invalid_filter(format!(
            "'{}' works on strings; '{path}' is not a string",
            op.as_str()
        )));
    }
    check_value_kind(def, path, op, value)
}

/// A dateTime, number or boolean attribute compared with a value of another
/// kind would match nothing, silently: refuse it, naming the value. `null`
/// is allowed everywhere, as are string booleans ("True", Entra).
fn check_value_kind(
    def: &AttributeDef,
    path: &AttrPath,
    op: CompareOp,
    value: &CompValue,
) -> Result<(), ScimError> {
    let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    let expected = match (def.attr_type, value) {
        (_, CompValue::Null) => return Ok(()),
        (AttrType::DateTime, CompValue::String(_)) if substring => return Ok(()),
        (AttrType::DateTime, CompValue::String(s)) if DateTime::parse_from_rfc3339(s).is_ok() => {
            return Ok(());
        }
        (AttrType::DateTime, _) => {
            "a dateTime (RFC 3339, such as \"2015-10-10T14:38:21Z\" or 2015-10-10T14:38:21.86-07:00)"
        }
        (AttrType::Boolean, v) if v.as_boolean().is_some() => return Ok(()),
        (AttrType::Boolean, _) => "true or false",
        (AttrType::Integer | AttrType::Decimal, CompValue::Number(_)) => return Ok(()),
        (AttrType::Integer, _) => "an integer",
        (AttrType::Decimal, _) => "a number",
        _ => return Ok(()),
    };
    Err(ScimError::invalid_filter(format!(
        "'{path}' is compared with {value}, but it takes {expected}"
    )))
}

fn each(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// The container a root-level path reads from: the resource itself or an
/// extension object.
fn container<'v>(kind: ResourceKind, resource: &'v Value, path: &AttrPath) -> Option<&'v Value> {
    match &path.uri {
        None => Some(resource),
        Some(uri) => {
            let reg = registry();
            let schema = reg.schema(uri)?;
            if schema.id == reg.core_schema(kind).id {
                Some(resource)
            } else {
                member_of(resource, schema.id)
            }
        }
    }
}

/// The primitive values a path reaches (flattening multi-valued attributes;
/// a complex attribute without a sub-attribute yields its `value`s).
fn values<'v>(
    scope: &'v Value,
    path: &AttrPath,
    in_element: bool,
    kind: ResourceKind,
) -> Vec<&'v Value> {
    let base = if in_element {
        Some(scope)
    } else {
        container(kind, scope, path)
    };
    let Some(attr) = base.and_then(|b| member_of(b, &path.name)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for v in each(attr) {
        match (&path.sub, v) {
            (Some(sub), Value::Object(_)) => {
                out.extend(member_of(v, sub).map(each).unwrap_or_default())
            }
            (Some(_), _) => {}
            (None, Value::Object(_)) => {
                out.extend(member_of(v, "value").map(each).unwrap_or_default())
            }
            (None, other) => out.push(other),
        }
    }
    out
}

/// Evaluates a checked filter against a rendered resource.
pub fn matches(filter: &Filter, kind: ResourceKind, resource: &Value) -> bool {
    eval(filter, kind, resource, None)
}

/// Evaluates the inside of a value filter (`emails[...]`) against one element
/// of the multi-valued complex attribute `container` (PATCH paths).
pub fn matches_value(
    filter: &Filter,
    kind: ResourceKind,
    container: &'static AttributeDef,
    element: &Value,
) -> bool {
    element.is_object() && eval(filter, kind, element, Some(container))
}

fn eval(
    filter: &Filter,
    kind: ResourceKind,
    scope: &Value,
    parent: Option<&'static AttributeDef>,
) -> bool {
    match filter {
        Filter::And(a, b) => eval(a, kind, scope, parent) && eval(b, kind, scope, parent),
        Filter::Or(a, b) => eval(a, kind, scope, parent) || eval(b, kind, scope, parent),
        Filter::Not(inner) => !eval(inner, kind, scope, parent),
        Filter::Present(path) => {
            resolve(kind, path, parent).is_some()
                && values(scope, path, parent.is_some(), kind)
                    .into_iter()
                    .any(present)
        }
        Filter::Compare { path, op, value } => {
            let Some(def) = resolve(kind, path, parent) else {
                return false;
            };
            let found = values(scope, path, parent.is_some(), kind);
            match value {
                CompValue::Null => match op {
                    CompareOp::Eq => !found.into_iter().any(present),
                    CompareOp::Ne => found.into_iter().any(present),
                    _ => false,
                },
                literal => found.into_iter().any(|v| compare(def, v, *op, literal)),
            }
        }
        Filter::ValuePath { path, filter } => {
            let Some(def) = resolve_container(kind, path) else {
                return false;
            };
            let base = container(kind, scope, path);
            let Some(attr) = base.and_then(|b| member_of(b, &path.name)) else {
                return false;
            };
            each(attr)
                .into_iter()
                .any(|element| element.is_object() && eval(filter, kind, element, Some(def)))
        }
    }
}

fn order_matches(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// Folds case for attributes that are not case-exact.
pub fn fold(s: &str, case_exact: bool) -> String {
    if case_exact {
        s.to_string()
    } else {
        s.to_lowercase()
    }
}

fn compare(def: &AttributeDef, actual: &Value, op: CompareOp, literal: &CompValue) -> bool {
    match (def.attr_type, actual, literal) {
        (AttrType::Boolean, Value::Bool(a), b) => match b.as_boolean() {
            Some(b) => order_matches(op, a.cmp(&b)),
            None => false,
        },
        (AttrType::Integer | AttrType::Decimal, Value::Number(a), CompValue::Number(b)) => {
            match (a.as_f64(), b.as_f64()) {
                (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| order_matches(op, o)),
                _ => false,
            }
        }
        (AttrType::DateTime, Value::String(a), CompValue::String(b))
            if !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) =>
        {
            match (
                DateTime::parse_from_rfc3339(a),
                DateTime::parse_from_rfc3339(b),
            ) {
                (Ok(a), Ok(b)) => order_matches(op, a.cmp(&b)),
                _ => false,
            }
        }
        (
            AttrType::String
            | AttrType::Reference
            | AttrType::Binary
            | AttrType::DateTime
            | AttrType::Complex,
            Value::String(a),
            CompValue::String(b),
        ) => {
            let (a, b) = (fold(a, def.case_exact), fold(b, def.case_exact));
            match op {
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                _ => order_matches(op, a.as_str().cmp(b.as_str())),
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::{FilterLimits, parse_filter};
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "u1", "externalId": "Ext-1", "userName": "Ann@Example.com", "active": true,
            "title": "", "name": {"givenName": "Ann", "familyName": "O'Malley"},
            "emails": [
                {"value": "ann@work.example", "type": "work", "primary": true},
                {"value": "ann@home.example", "type": "home"}
            ],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m1"}, "department": "R&D"},
            "meta": {"created": "2026-01-01T10:00:00Z", "lastModified": "2026-01-02T10:00:00+02:00"}
        })
    }

    fn eval_str(s: &str) -> bool {
        let f = parse_filter(s, FilterLimits::default()).unwrap();
        check(&f, ResourceKind::User).unwrap();
        matches(&f, ResourceKind::User, &user())
    }

    #[test]
    fn semantics() {
        let truths = [
            (r#"userName eq "ann@example.COM""#, true), // caseExact=false
            (r#"externalId eq "ext-1""#, false),        // caseExact=true
            (r#"externalId eq "Ext-1""#, true),
            (r#"id eq "U1""#, false),
            (r#"emails.value ew "home.example""#, true), // any value
            (r#"emails co "work.example""#, true),       // complex → value
            (r#"emails[type eq "home" and primary eq true]"#, false), // bound to one element
            (r#"emails[type eq "work" and primary eq true]"#, true),
            (
                r#"emails[type eq "work"].value eq "ann@work.example""#,
                true,
            ),
            (
                r#"emails[type eq "home"].value eq "ann@work.example""#,
                false,
            ),
            ("title pr", false), // empty string
            ("nickName pr", false),
            ("emails pr", true),
            ("active eq true", true),
            ("active ne true", false),
            (r#"meta.lastModified gt "2026-01-02T09:00:00Z""#, false), // 08:00Z chronologically
            (r#"meta.lastModified lt "2026-01-02T09:00:00Z""#, true),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d""#,
                true,
            ),
            (r#"name.familyName sw "o'm""#, true),
            (r#"undefinedThing eq "x""#, false),
            (r#"undefinedThing ne "x""#, false),
            (r#"not (undefinedThing eq "x")"#, true),
            (r#"userName eq "nobody" or not (active eq false)"#, true),
            ("nickName eq null", true),
            // Entra's string booleans mean the boolean.
            (r#"active eq "True""#, true),
            (r#"active eq "false""#, false),
            (r#"active ne "FALSE""#, true),
            (r#"emails[type eq "work" and primary eq "true"]"#, true),
            // Unquoted values: strings, dateTimes by the attribute's type.
            ("name.familyName sw O", true),
            ("meta.created gt 2026-01-01T09:00:00-02:00", false), // 11:00Z
            ("meta.created lt 2026-01-01T11:00:00+00:30", true),
            ("meta.created eq 2026-01-01T10:00:00Z", true),
            (r#"meta.created sw "2026-01""#, true),
        ];
        for (f, expected) in truths {
            assert_eq!(eval_str(f), expected, "{f}");
        }
    }

    #[test]
    fn checks_refuse_meaningless_comparisons() {
        for f in [
            "active gt true",
            r#"password eq "guess""#,
            "active co true",
            r#"emails[primary gt false]"#,
        ] {
            let parsed = parse_filter(f, FilterLimits::default()).unwrap();
            let err = check(&parsed, ResourceKind::User).unwrap_err();
            assert_eq!(
                err.scim_type,
                Some(crate::scim::ScimType::InvalidFilter),
                "{f}"
            );
        }
    }

    /// A dateTime, boolean or number attribute compared with a value of
    /// another kind is refused, naming the value, instead of matching nothing.
    #[test]
    fn checks_refuse_values_of_the_wrong_kind() {
        for (f, named) in [
            (r#"meta.created gt "yesterday""#, "\"yesterday\""),
            ("meta.created gt yesterday", "\"yesterday\""),
            ("meta.lastModified eq 2015", "2015"),
            ("meta.created ge true", "true"),
            (r#"active eq "maybe""#, "\"maybe\""),
            ("active eq 1", "1"),
            (r#"emails[primary eq "yes"]"#, "\"yes\""),
        ] {
            let parsed = parse_filter(f, FilterLimits::default()).unwrap();
            let err = check(&parsed, ResourceKind::User).unwrap_err();
            assert_eq!(
                (err.status, err.scim_type),
                (400, Some(crate::scim::ScimType::InvalidFilter)),
                "{f}"
            );
            assert!(
                err.detail
                    .contains(&format!("compared with {named}, but it takes")),
                "{f}: {}",
                err.detail
            );
        }
        for f in [
            "meta.created eq null",
            r#"meta.created co "2026""#,
            r#"active eq "TRUE""#,
            "active ne null",
            "userName eq 12",
            "userName eq true",
        ] {
            let parsed = parse_filter(f, FilterLimits::default()).unwrap();
            assert!(check(&parsed, ResourceKind::User).is_ok(), "{f}");
        }
    }
}
