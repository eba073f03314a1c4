//! Paths inside a mapping: source paths read values out of a resource
//! (`name.givenName`, `urn:…:User:department`, `emails[type eq "work"].value`)
//! and target paths say where a value is written.

use crate::scim::json::member;
use serde_json::{Map, Value};

use crate::scim::ResourceKind;
use crate::scim::filter::{self, AttrPath, CompValue, CompareOp, Filter, FilterLimits};
use crate::scim::registry::registry;
use crate::scim::schema::AttributeDef;

/// `attr`, `attr.sub`, `urn:…:attr[.sub]` or `attr[filter][.sub]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuePath {
    /// The attribute; `sub` is set only when there is no filter.
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// The sub-attribute after `[filter]`.
    pub sub_after: Option<String>,
}

impl ValuePath {
    /// The sub-attribute the path ends in, wherever it was written.
    pub fn sub(&self) -> Option<&str> {
        self.sub_after.as_deref().or(self.attr.sub.as_deref())
    }
}

/// Length of a bracketed part starting at `s[0] == '['`, quotes respected.
pub fn bracket_len(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' => depth += 1,
            ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses a whole path string.
pub fn parse_value_path(input: &str) -> Result<ValuePath, String> {
    let text = input.trim();
    if text.is_empty() {
        return Err("the attribute path is empty".into());
    }
    let Some(open) = text.find('[') else {
        let attr = filter::parse_attr_path(text).map_err(|e| e.detail)?;
        return Ok(ValuePath {
            attr,
            filter: None,
            sub_after: None,
        });
    };
    let attr = filter::parse_attr_path(&text[..open]).map_err(|e| e.detail)?;
    if attr.sub.is_some() {
        return Err(format!(
            "'{}' : a filter follows the attribute, not its sub-attribute",
            text
        ));
    }
    let len = bracket_len(&text[open..]).ok_or_else(|| format!("unclosed '[' in '{text}'"))?;
    let inner = &text[open + 1..open + len - 1];
    let parsed = filter::parse_filter(inner, FilterLimits::default()).map_err(|e| e.detail)?;
    let rest = &text[open + len..];
    let sub_after = if rest.is_empty() {
        None
    } else {
        let sub = rest
            .strip_prefix('.')
            .ok_or_else(|| format!("expected '.subAttribute' after ']' in '{text}'"))?;
        let valid = sub.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && sub
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
        if !valid {
            return Err(format!("'{sub}' is not a sub-attribute name"));
        }
        Some(sub.to_string())
    };
    Ok(ValuePath {
        attr,
        filter: Some(parsed),
        sub_after,
    })
}

/// Whether `uri` names the core schema of `kind` (its attributes sit at the root).
pub fn is_core(kind: ResourceKind, uri: &str) -> bool {
    registry().core_schema(kind).id.eq_ignore_ascii_case(uri)
}

/// The definition of a path's top attribute, if the registry knows it.
pub fn definition(kind: ResourceKind, attr: &AttrPath) -> Option<&'static AttributeDef> {
    let reg = registry();
    match &attr.uri {
        Some(uri) if !is_core(kind, uri) => {
            let schema = reg
                .extensions(kind)
                .find(|s| s.id.eq_ignore_ascii_case(uri))?;
            schema.attribute(&attr.name)
        }
        _ => crate::scim::registry::common_attribute(&attr.name)
            .or_else(|| reg.core_schema(kind).attribute(&attr.name)),
    }
}

fn container<'v>(kind: ResourceKind, resource: &'v Value, attr: &AttrPath) -> Option<&'v Value> {
    let root = resource.as_object()?;
    match &attr.uri {
        Some(uri) if !is_core(kind, uri) => member(root, uri),
        _ => Some(resource),
    }
}

fn sub_of(v: &Value, sub: &str) -> Value {
    v.as_object()
        .and_then(|o| member(o, sub))
        .cloned()
        .unwrap_or(Value::Null)
}

/// Reads a path. Without a filter, `attr.sub` over a multi-valued attribute
/// yields the array of sub-values; with a filter the first matching element
/// (or its sub-attribute) is the value, as mapping a single target wants.
pub fn read(kind: ResourceKind, resource: &Value, path: &ValuePath) -> Value {
    let Some(attr) = container(kind, resource, &path.attr)
        .and_then(Value::as_object)
        .and_then(|o| member(o, &path.attr.name))
    else {
        return Value::Null;
    };
    match &path.filter {
        None => match (&path.attr.sub, attr) {
            (None, v) => v.clone(),
            (Some(sub), Value::Array(items)) => {
                let found: Vec<Value> = items
                    .iter()
                    .map(|v| sub_of(v, sub))
                    .filter(|v| !v.is_null())
                    .collect();
                if found.is_empty() {
                    Value::Null
                } else {
                    Value::Array(found)
                }
            }
            (Some(sub), v) => sub_of(v, sub),
        },
        Some(f) => {
            let items: Vec<&Value> = match attr {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            let probe = AttrPath {
                uri: None,
                name: path.attr.name.clone(),
                sub: None,
            };
            let vp = Filter::ValuePath {
                path: probe,
                filter: Box::new(f.clone()),
            };
            // The filter evaluator defines the meaning (caseExact, types);
            // it is asked about one element at a time.
            let hit = items.into_iter().find(|el| {
                let mut one = Map::new();
                one.insert(path.attr.name.clone(), Value::Array(vec![(*el).clone()]));
                filter::matches(&vp, kind, &Value::Object(one))
            });
            match (hit, &path.sub_after) {
                (None, _) => Value::Null,
                (Some(el), None) => el.clone(),
                (Some(el), Some(sub)) => sub_of(el, sub),
            }
        }
    }
}

/// Where a mapped value goes. A filter must be `a eq "x" [and b eq …]`: it
/// names (or creates) the element of a multi-valued attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetPath {
    /// `None` for the core schema (the resource root).
    pub uri: Option<String>,
    pub name: String,
    pub sub: Option<String>,
    pub element: Option<Vec<(String, Value)>>,
    pub text: String,
}

fn eq_template(f: &Filter, out: &mut Vec<(String, Value)>) -> Result<(), String> {
    match f {
        Filter::And(a, b) => {
            eq_template(a, out)?;
            eq_template(b, out)
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.uri.is_none() && path.sub.is_none() => {
            let v = match value {
                CompValue::Null => Value::Null,
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::String(s) => Value::String(s.clone()),
            };
            out.push((path.name.clone(), v));
            Ok(())
        }
        _ => Err("a target filter may only be 'sub eq value' joined with 'and'".into()),
    }
}

const READ_ONLY_TARGETS: [&str; 4] = ["id", "meta", "schemas", "groups"];

pub fn parse_target(kind: ResourceKind, text: &str) -> Result<TargetPath, String> {
    let vp = parse_value_path(text)?;
    let name = vp.attr.name.clone();
    if READ_ONLY_TARGETS
        .iter()
        .any(|r| r.eq_ignore_ascii_case(&name))
        && vp.attr.uri.as_deref().is_none_or(|u| is_core(kind, u))
    {
        return Err(format!(
            "'{name}' is set by the target, it cannot be mapped"
        ));
    }
    let element = match &vp.filter {
        None => None,
        Some(f) => {
            let mut t = Vec::new();
            eq_template(f, &mut t)?;
            if vp.sub_after.is_none() {
                return Err(format!(
                    "'{text}' must end in a sub-attribute, e.g. '{text}.value'"
                ));
            }
            Some(t)
        }
    };
    if let Some(def) = definition(kind, &vp.attr) {
        if def.multi_valued && vp.attr.sub.is_some() {
            return Err(format!(
                "'{text}': '{name}' has many values; name one with a filter, e.g. {name}[type eq \"work\"].{}",
                vp.attr.sub.as_deref().unwrap_or("value")
            ));
        }
        if element.is_some() && !def.multi_valued {
            return Err(format!(
                "'{text}': '{name}' has a single value, drop the filter"
            ));
        }
    }
    let uri = vp.attr.uri.clone().filter(|u| !is_core(kind, u));
    Ok(TargetPath {
        uri,
        name,
        sub: vp.sub().map(str::to_string),
        element,
        text: text.trim().to_string(),
    })
}

fn entry_ci<'m>(map: &'m mut Map<String, Value>, name: &str) -> &'m mut Value {
    let key = map
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_string());
    map.entry(key).or_insert(Value::Null)
}

/// The object at `v`, replacing whatever else was there (always `Some`).
fn as_object(v: &mut Value) -> Option<&mut Map<String, Value>> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut()
}

fn element_matches(el: &Value, template: &[(String, Value)]) -> bool {
    let Some(obj) = el.as_object() else {
        return false;
    };
    template
        .iter()
        .all(|(k, want)| match (member(obj, k), want) {
            (Some(Value::String(a)), Value::String(b)) => a.eq_ignore_ascii_case(b),
            (Some(a), b) => a == b,
            (None, Value::Null) => true,
            (None, _) => false,
        })
}

/// Writes `value` at `path` into `out` (an object), creating what is missing.
pub fn write(out: &mut Map<String, Value>, path: &TargetPath, value: Value) {
    let holder = match &path.uri {
        Some(uri) => match as_object(entry_ci(out, uri)) {
            Some(h) => h,
            None => return,
        },
        None => out,
    };
    let slot = entry_ci(holder, &path.name);
    match (&path.element, &path.sub) {
        (None, None) => *slot = value,
        (None, Some(sub)) => {
            if let Some(obj) = as_object(slot) {
                *entry_ci(obj, sub) = value;
            }
        }
        (Some(template), sub) => {
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            let Value::Array(items) = slot else { return };
            let pos = match items.iter().position(|e| element_matches(e, template)) {
                Some(p) => p,
                None => {
                    let mut el = Map::new();
                    for (k, v) in template {
                        el.insert(k.clone(), v.clone());
                    }
                    items.push(Value::Object(el));
                    items.len() - 1
                }
            };
            if let (Some(obj), Some(sub)) = (items.get_mut(pos).and_then(as_object), sub) {
                *entry_ci(obj, sub) = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn user() -> Value {
        json!({
            "userName": "Ann@Example.com",
            "name": {"givenName": "Ann"},
            "emails": [
                {"value": "ann@home.example", "type": "home"},
                {"value": "ann@work.example", "type": "Work"}
            ],
            ENT: {"department": "R&D", "manager": {"value": "m1"}}
        })
    }

    fn r(p: &str) -> Value {
        read(ResourceKind::User, &user(), &parse_value_path(p).unwrap())
    }

    #[test]
    fn reads_plain_sub_extension_and_filtered_paths() {
        assert_eq!(r("USERNAME"), json!("Ann@Example.com"));
        assert_eq!(r("name.givenName"), json!("Ann"));
        assert_eq!(r("name"), json!({"givenName": "Ann"}));
        assert_eq!(r("nickName"), Value::Null);
        assert_eq!(
            r("emails.value"),
            json!(["ann@home.example", "ann@work.example"])
        );
        assert_eq!(r(&format!("{ENT}:department")), json!("R&D"));
        assert_eq!(r(&format!("{ENT}:manager.value")), json!("m1"));
        // type is not caseExact in the schema, so "work" finds "Work".
        assert_eq!(
            r(r#"emails[type eq "work"].value"#),
            json!("ann@work.example")
        );
        assert_eq!(r(r#"emails[type eq "other"].value"#), Value::Null);
        assert_eq!(
            r(r#"emails[value ew "home.example"]"#),
            json!({"value": "ann@home.example", "type": "home"})
        );
    }

    #[test]
    fn bad_paths_are_refused_with_reasons() {
        assert!(parse_value_path("").is_err());
        assert!(
            parse_value_path("emails[type eq \"work\"")
                .unwrap_err()
                .contains("unclosed")
        );
        assert!(parse_value_path("emails[type eq \"work\"]value").is_err());
        assert!(parse_value_path("emails[type zz \"work\"].value").is_err());
        let t = |s| parse_target(ResourceKind::User, s);
        assert!(t("id").unwrap_err().contains("set by the target"));
        assert!(t("emails.value").unwrap_err().contains("many values"));
        assert!(t(r#"emails[type eq "work"]"#).is_err());
        assert!(t(r#"emails[type co "w"].value"#).is_err());
        assert!(
            t(r#"name[givenName eq "x"].value"#)
                .unwrap_err()
                .contains("single value")
        );
    }

    #[test]
    fn writes_create_structure_and_reuse_elements() {
        let mut out = Map::new();
        let t = |s: &str| parse_target(ResourceKind::User, s).unwrap();
        write(&mut out, &t("userName"), json!("a"));
        write(&mut out, &t("name.givenName"), json!("Ann"));
        write(
            &mut out,
            &t(r#"emails[type eq "work"].value"#),
            json!("w@x"),
        );
        write(
            &mut out,
            &t(r#"emails[type eq "WORK"].primary"#),
            json!(true),
        );
        write(&mut out, &t(&format!("{ENT}:department")), json!("R&D"));
        write(
            &mut out,
            &t("urn:ietf:params:scim:schemas:core:2.0:User:title"),
            json!("Dr"),
        );
        assert_eq!(
            Value::Object(out),
            json!({
                "userName": "a",
                "name": {"givenName": "Ann"},
                "emails": [{"type": "work", "value": "w@x", "primary": true}],
                ENT: {"department": "R&D"},
                "title": "Dr"
            })
        );
    }
}
