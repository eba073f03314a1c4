//! `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5), applied to a
//! rendered resource and honouring `returned`: `id` and `schemas` always
//! stay, `never` attributes never appear.

use serde_json::{Map, Value};

use super::error::ScimError;
use super::filter::{AttrPath, parse_attr_path};
use super::registry::{ResourceKind, registry};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    /// When non-empty, only these (plus always-returned ones).
    pub attributes: Vec<AttrPath>,
    /// Removed, unless always returned. Ignored when `attributes` is given.
    pub excluded: Vec<AttrPath>,
}

const ALWAYS: [&str; 2] = ["id", "schemas"];

fn parse_list(list: Option<&str>) -> Result<Vec<AttrPath>, ScimError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            // A bare extension URN names the whole extension.
            if let Some(ext) = registry()
                .schemas
                .iter()
                .find(|x| x.id.eq_ignore_ascii_case(s))
            {
                return Ok(AttrPath {
                    uri: None,
                    name: ext.id.to_string(),
                    sub: None,
                });
            }
            parse_attr_path(s).map_err(|e| {
                ScimError::bad_request(
                    super::error::ScimType::InvalidValue,
                    format!("invalid attribute name {s:?}: {}", e.detail),
                )
            })
        })
        .collect()
}

impl Projection {
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>) -> Result<Self, ScimError> {
        Ok(Self {
            attributes: parse_list(attributes)?,
            excluded: parse_list(excluded)?,
        })
    }

    /// Whether the response will show top-level attribute `name` (so the
    /// store can skip loading derived ones such as `members`).
    pub fn shows(&self, name: &str) -> bool {
        let named = |p: &AttrPath| p.uri.is_none() && p.name.eq_ignore_ascii_case(name);
        if !self.attributes.is_empty() {
            self.attributes.iter().any(named)
        } else {
            !self.excluded.iter().any(|p| named(p) && p.sub.is_none())
        }
    }

    pub fn apply(&self, kind: ResourceKind, resource: Value) -> Value {
        let Value::Object(map) = resource else {
            return resource;
        };
        if !self.attributes.is_empty() {
            Value::Object(self.keep(kind, map))
        } else if !self.excluded.is_empty() {
            Value::Object(self.drop(kind, map))
        } else {
            Value::Object(map)
        }
    }

    fn keep(&self, kind: ResourceKind, map: Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in map {
            if ALWAYS.iter().any(|a| a.eq_ignore_ascii_case(&key)) {
                out.insert(key, value);
                continue;
            }
            let is_extension = registry()
                .extensions(kind)
                .any(|e| e.id.eq_ignore_ascii_case(&key));
            let wanted: Vec<&AttrPath> = self
                .attributes
                .iter()
                .filter(|p| match (&p.uri, is_extension) {
                    (None, false) => p.name.eq_ignore_ascii_case(&key),
                    (None, true) => p.name.eq_ignore_ascii_case(&key), // the whole extension
                    (Some(uri), true) => uri.eq_ignore_ascii_case(&key),
                    (Some(uri), false) => {
                        uri.eq_ignore_ascii_case(registry().core_schema(kind).id)
                            && p.name.eq_ignore_ascii_case(&key)
                    }
                })
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let whole = wanted
                .iter()
                .any(|p| (is_extension && p.uri.is_none()) || (!is_extension && p.sub.is_none()));
            if whole {
                out.insert(key, value);
            } else if is_extension {
                let names: Vec<(String, Option<String>)> = wanted
                    .iter()
                    .map(|p| (p.name.clone(), p.sub.clone()))
                    .collect();
                if let Value::Object(ext) = value {
                    let kept = keep_named(ext, &names);
                    if !kept.is_empty() {
                        out.insert(key, Value::Object(kept));
                    }
                }
            } else {
                let subs: Vec<&str> = wanted.iter().filter_map(|p| p.sub.as_deref()).collect();
                if let Some(v) = keep_subs(value, &subs) {
                    out.insert(key, v);
                }
            }
        }
        out
    }

    fn drop(&self, kind: ResourceKind, mut map: Map<String, Value>) -> Map<String, Value> {
        for p in &self.excluded {
            let key = match &p.uri {
                Some(uri) if !uri.eq_ignore_ascii_case(registry().core_schema(kind).id) => {
                    // An extension attribute: drop it inside the extension object.
                    let ext_key = map.keys().find(|k| k.eq_ignore_ascii_case(uri)).cloned();
                    if let Some(Value::Object(ext)) = ext_key.as_ref().and_then(|k| map.get_mut(k))
                    {
                        drop_named(ext, &p.name, p.sub.as_deref());
                    }
                    continue;
                }
                _ => p.name.clone(),
            };
            if ALWAYS.iter().any(|a| a.eq_ignore_ascii_case(&key)) {
                continue;
            }
            drop_named(&mut map, &key, p.sub.as_deref());
        }
        map
    }
}

fn find_key(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

fn keep_named(map: Map<String, Value>, names: &[(String, Option<String>)]) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in map {
        let subs: Vec<&str> = names
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(&key))
            .map(|(_, s)| s.as_deref().unwrap_or(""))
            .collect();
        if subs.is_empty() {
            continue;
        }
        if subs.contains(&"") {
            out.insert(key, value);
        } else if let Some(v) = keep_subs(value, &subs) {
            out.insert(key, v);
        }
    }
    out
}

/// Keeps only some sub-attributes of a complex (or multi-valued complex) value.
fn keep_subs(value: Value, subs: &[&str]) -> Option<Value> {
    let pick = |v: Value| -> Option<Value> {
        let Value::Object(m) = v else { return None };
        let kept: Map<String, Value> = m
            .into_iter()
            .filter(|(k, _)| subs.iter().any(|s| s.eq_ignore_ascii_case(k)))
            .collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match value {
        Value::Array(items) => {
            let kept: Vec<Value> = items.into_iter().filter_map(pick).collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        other => pick(other),
    }
}

fn drop_named(map: &mut Map<String, Value>, name: &str, sub: Option<&str>) {
    let Some(key) = find_key(map, name) else {
        return;
    };
    let Some(sub) = sub else {
        map.remove(&key);
        return;
    };
    let strip = |v: &mut Value| {
        if let Value::Object(m) = v
            && let Some(k) = find_key(m, sub)
        {
            m.remove(&k);
        }
    };
    match map.get_mut(&key) {
        Some(Value::Array(items)) => items.iter_mut().for_each(strip),
        Some(v) => strip(v),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::registry::ENTERPRISE_USER_SCHEMA;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["s"], "id": "1", "userName": "ann", "title": "x",
            "name": {"givenName": "Ann", "familyName": "Lee"},
            "emails": [{"value": "a@x", "type": "work"}],
            ENTERPRISE_USER_SCHEMA: {"department": "R&D", "costCenter": "7"},
            "meta": {"version": "W/\"1\""},
        })
    }

    #[test]
    fn attributes_keep_only_what_is_asked_plus_always() {
        let p = Projection::parse(Some("userName,name.givenName,emails.value"), None).unwrap();
        let v = p.apply(ResourceKind::User, user());
        assert_eq!(
            v,
            json!({"schemas": ["s"], "id": "1", "userName": "ann", "name": {"givenName": "Ann"}, "emails": [{"value": "a@x"}]})
        );
        let ext = format!("{ENTERPRISE_USER_SCHEMA}:department");
        let v = Projection::parse(Some(&ext), None)
            .unwrap()
            .apply(ResourceKind::User, user());
        assert_eq!(v[ENTERPRISE_USER_SCHEMA], json!({"department": "R&D"}));
        let v = Projection::parse(Some(ENTERPRISE_USER_SCHEMA), None)
            .unwrap()
            .apply(ResourceKind::User, user());
        assert_eq!(
            v[ENTERPRISE_USER_SCHEMA],
            json!({"department": "R&D", "costCenter": "7"})
        );
    }

    #[test]
    fn excluded_attributes_are_removed_but_never_id() {
        let ext = format!("{ENTERPRISE_USER_SCHEMA}:costCenter");
        let p = Projection::parse(None, Some(&format!("title,id,name.familyName,{ext}"))).unwrap();
        let v = p.apply(ResourceKind::User, user());
        assert!(v.get("title").is_none());
        assert_eq!(v["id"], "1");
        assert_eq!(v["name"], json!({"givenName": "Ann"}));
        assert_eq!(v[ENTERPRISE_USER_SCHEMA], json!({"department": "R&D"}));
    }

    #[test]
    fn shows_tells_whether_members_are_needed() {
        assert!(
            !Projection::parse(None, Some("members"))
                .unwrap()
                .shows("members")
        );
        assert!(
            Projection::parse(None, Some("members.display"))
                .unwrap()
                .shows("members")
        );
        assert!(
            !Projection::parse(Some("displayName"), None)
                .unwrap()
                .shows("members")
        );
        assert!(
            Projection::parse(Some("members"), None)
                .unwrap()
                .shows("MEMBERS")
        );
        assert!(Projection::default().shows("members"));
    }
}
