//! `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5), applied to a
//! rendered resource and honouring `returned`: `id` and `schemas` always
//! stay, `never` attributes never appear.

use serde_json::{Map, Value};

use super::error::{ScimError, ScimType};
use super::filter::eval::{resolve, resolve_container};
use super::filter::{self, AttrPath, Filter, FilterLimits, parse_attr_path, parse_path_prefix};
use super::registry::{ResourceKind, registry};
use super::schema::{AttributeDef, Returned};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projection {
    /// When non-empty, only these (plus always-returned ones).
    pub attributes: Vec<Selected>,
    /// Removed, unless always returned. Ignored when `attributes` is given.
    pub excluded: Vec<AttrPath>,
}

/// One entry of `attributes`: a path, and for a complex attribute
/// optionally a value filter choosing which of its values to show
/// (`emails[type eq "work"]`, `emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    pub path: AttrPath,
    pub filter: Option<Filter>,
}

const ALWAYS: [&str; 2] = ["id", "schemas"];

/// Splits a comma-separated list, except at commas inside a value filter.
fn split_list(list: &str) -> Vec<&str> {
    let (mut parts, mut start, mut depth, mut quoted, mut escaped) =
        (Vec::new(), 0, 0u32, false, false);
    for (i, c) in list.char_indices() {
        match (quoted, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => quoted = false,
            (false, _, '"') => quoted = true,
            (false, _, '[') => depth += 1,
            (false, _, ']') => depth = depth.saturating_sub(1),
            (false, _, ',') if depth == 0 => {
                parts.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&list[start..]);
    parts
}

/// An error in `attr[filter]`: `invalidFilter` when the filter is at fault.
fn invalid_name(item: &str, e: ScimError) -> ScimError {
    let scim_type = match e.scim_type {
        Some(ScimType::InvalidFilter) => ScimType::InvalidFilter,
        _ => ScimType::InvalidValue,
    };
    ScimError::bad_request(
        scim_type,
        format!("invalid attribute name {item:?}: {}", e.detail),
    )
}

/// An attribute name, or a bare extension URN (the whole extension).
fn parse_name(item: &str) -> Result<AttrPath, ScimError> {
    if let Some(ext) = registry()
        .schemas
        .iter()
        .find(|x| x.id.eq_ignore_ascii_case(item))
    {
        return Ok(AttrPath {
            uri: None,
            name: ext.id.to_string(),
            sub: None,
        });
    }
    parse_attr_path(item).map_err(|e| {
        ScimError::invalid_value(format!("invalid attribute name {item:?}: {}", e.detail))
    })
}

/// `attr[filter]` or `attr[filter].sub`, checked against `kind`'s schema.
fn parse_filtered(kind: ResourceKind, item: &str) -> Result<Selected, ScimError> {
    let (path, filter, rest) =
        parse_path_prefix(item, FilterLimits::default()).map_err(|e| invalid_name(item, e))?;
    let sub = match rest {
        "" => None,
        _ => {
            let sub = rest
                .strip_prefix('.')
                .and_then(|s| parse_attr_path(s).ok())
                .filter(|s| s.uri.is_none() && s.sub.is_none())
                .ok_or_else(|| {
                    ScimError::invalid_value(format!(
                        "invalid attribute name {item:?}: only '.subAttribute' may follow ']'"
                    ))
                })?;
            Some(sub.name)
        }
    };
    let Some(filter) = filter else {
        return Ok(Selected { path, filter: None });
    };
    // Unknown attributes select nothing, as without a filter (a root
    // `/.search` asks Users and Groups alike); known simple ones are a mistake.
    if resolve_container(kind, &path).is_none() && resolve(kind, &path, None).is_some() {
        return Err(ScimError::invalid_value(format!(
            "invalid attribute name {item:?}: '{path}' is not a complex attribute of a {}, so it takes no value filter",
            kind.as_str()
        )));
    }
    let whole = Filter::ValuePath {
        path: path.clone(),
        filter: Box::new(filter.clone()),
    };
    filter::check(&whole, kind).map_err(|e| invalid_name(item, e))?;
    Ok(Selected {
        path: AttrPath { sub, ..path },
        filter: Some(filter),
    })
}

fn parse_list(
    kind: ResourceKind,
    list: Option<&str>,
    filters_allowed: bool,
) -> Result<Vec<Selected>, ScimError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    split_list(list)
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| match (item.contains('['), filters_allowed) {
            (false, _) => Ok(Selected {
                path: parse_name(item)?,
                filter: None,
            }),
            (true, true) => parse_filtered(kind, item),
            (true, false) => Err(ScimError::invalid_value(format!(
                "invalid attribute name {item:?}: value filters are supported in 'attributes' only"
            ))),
        })
        .collect()
}

impl Projection {
    pub fn parse(
        kind: ResourceKind,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Self, ScimError> {
        Ok(Self {
            attributes: parse_list(kind, attributes, true)?,
            excluded: parse_list(kind, excluded, false)?
                .into_iter()
                .map(|s| s.path)
                .collect(),
        })
    }

    /// Whether the response will show top-level attribute `name` (so the
    /// store can skip loading derived ones such as `members`).
    pub fn shows(&self, name: &str) -> bool {
        let named = |p: &AttrPath| p.uri.is_none() && p.name.eq_ignore_ascii_case(name);
        if !self.attributes.is_empty() {
            self.attributes.iter().any(|s| named(&s.path))
        } else {
            !self.excluded.iter().any(|p| named(p) && p.sub.is_none())
        }
    }

    pub fn apply(&self, kind: ResourceKind, resource: Value) -> Value {
        let Value::Object(map) = resource else {
            return resource;
        };
        let mut map = if !self.attributes.is_empty() {
            self.keep(kind, map)
        } else if !self.excluded.is_empty() {
            self.drop(kind, map)
        } else {
            map
        };
        self.drop_unrequested(kind, &mut map);
        Value::Object(map)
    }

    /// Whether `apply` would leave a resource rendered as `text` as it is:
    /// no projection, and none of the keys holding `returned: request`
    /// attributes in it (a cheap test that lets whole users skip parsing).
    pub fn leaves_unchanged(&self, kind: ResourceKind, text: &str) -> bool {
        *self == Projection::default()
            && on_request(kind).all(|(schema, attr, _)| {
                let key = if schema == registry().core_schema(kind).id {
                    attr.name
                } else {
                    schema
                };
                !text.contains(key)
            })
    }

    /// Removes the `returned: request` attributes `attributes` does not name
    /// itself (naming the attribute or extension holding one is not asking).
    fn drop_unrequested(&self, kind: ResourceKind, map: &mut Map<String, Value>) {
        let core = registry().core_schema(kind).id;
        for (schema, attr, sub) in on_request(kind) {
            let asked = self.attributes.iter().any(|s| {
                let p = &s.path;
                let in_schema = match &p.uri {
                    Some(uri) => uri.eq_ignore_ascii_case(schema),
                    None => schema == core,
                };
                in_schema
                    && p.name.eq_ignore_ascii_case(attr.name)
                    && match (&p.sub, sub) {
                        (None, None) => true,
                        (Some(asked), Some(sub)) => asked.eq_ignore_ascii_case(sub.name),
                        _ => false,
                    }
            });
            if asked {
                continue;
            }
            let holder = if schema == core {
                Some(&mut *map)
            } else {
                find_key(map, schema).and_then(|k| match map.get_mut(&k) {
                    Some(Value::Object(ext)) => Some(ext),
                    _ => None,
                })
            };
            if let Some(holder) = holder {
                drop_named(holder, attr.name, sub.map(|s| s.name));
            }
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
            let wanted: Vec<&Selected> = self
                .attributes
                .iter()
                .filter(|s| {
                    let p = &s.path;
                    match (&p.uri, is_extension) {
                        (None, false) => p.name.eq_ignore_ascii_case(&key),
                        (None, true) => p.name.eq_ignore_ascii_case(&key), // the whole extension
                        (Some(uri), true) => uri.eq_ignore_ascii_case(&key),
                        (Some(uri), false) => {
                            uri.eq_ignore_ascii_case(registry().core_schema(kind).id)
                                && p.name.eq_ignore_ascii_case(&key)
                        }
                    }
                })
                .collect();
            if wanted.is_empty() {
                continue;
            }
            if is_extension {
                if wanted.iter().any(|s| s.path.uri.is_none()) {
                    out.insert(key, value);
                } else if let Value::Object(ext) = value {
                    let kept = keep_named(kind, ext, &wanted);
                    if !kept.is_empty() {
                        out.insert(key, Value::Object(kept));
                    }
                }
                continue;
            }
            let path = &wanted[0].path;
            let bare = AttrPath {
                sub: None,
                ..path.clone()
            };
            if let Some(v) = select(kind, &bare, value, &wanted) {
                out.insert(key, v);
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

/// The `returned: request` attributes of `kind`'s schemas: (schema id, the
/// attribute, and the sub-attribute when it is one of those).
fn on_request(
    kind: ResourceKind,
) -> impl Iterator<
    Item = (
        &'static str,
        &'static AttributeDef,
        Option<&'static AttributeDef>,
    ),
> {
    let r = registry();
    std::iter::once(r.core_schema(kind))
        .chain(r.extensions(kind))
        .flat_map(|schema| {
            schema.attributes.iter().flat_map(move |attr| {
                let whole = (attr.returned == Returned::Request).then_some((schema.id, attr, None));
                let subs = attr
                    .sub_attributes
                    .iter()
                    .filter(|sub| sub.returned == Returned::Request)
                    .map(move |sub| (schema.id, attr, Some(sub)));
                whole.into_iter().chain(subs)
            })
        })
}

fn find_key(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// The attributes of an extension object that `wanted` (paths with the
/// extension's URN) names.
fn keep_named(
    kind: ResourceKind,
    map: Map<String, Value>,
    wanted: &[&Selected],
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in map {
        let mine: Vec<&Selected> = wanted
            .iter()
            .copied()
            .filter(|s| s.path.name.eq_ignore_ascii_case(&key))
            .collect();
        let Some(first) = mine.first() else {
            continue;
        };
        let bare = AttrPath {
            sub: None,
            ..first.path.clone()
        };
        if let Some(v) = select(kind, &bare, value, &mine) {
            out.insert(key, v);
        }
    }
    out
}

/// What `wanted` keeps of one attribute's value (`attribute` names it):
/// the whole value, or of each of its values (one, or each of a
/// multi-valued attribute) the sub-attributes asked for, where a value
/// filter, if given, selects that value.
fn select(
    kind: ResourceKind,
    attribute: &AttrPath,
    value: Value,
    wanted: &[&Selected],
) -> Option<Value> {
    if wanted
        .iter()
        .any(|s| s.path.sub.is_none() && s.filter.is_none())
    {
        return Some(value);
    }
    let container: Option<&'static AttributeDef> = resolve_container(kind, attribute);
    let pick = |element: Value| -> Option<Value> {
        let applies: Vec<&Selected> = wanted
            .iter()
            .copied()
            .filter(|s| match (&s.filter, container) {
                (None, _) => true,
                (Some(f), Some(def)) => filter::matches_value(f, kind, def, &element),
                (Some(_), None) => false,
            })
            .collect();
        if applies.iter().any(|s| s.path.sub.is_none()) {
            return Some(element);
        }
        let Value::Object(m) = element else {
            return None;
        };
        let kept: Map<String, Value> = m
            .into_iter()
            .filter(|(k, _)| {
                applies.iter().any(|s| {
                    s.path
                        .sub
                        .as_deref()
                        .is_some_and(|sub| sub.eq_ignore_ascii_case(k))
                })
            })
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
    fn request_only_attributes_appear_when_named_themselves() {
        use crate::scim::registry::ORGANIZATION_USER_SCHEMA as ORG;
        let with_org = || {
            json!({
                "schemas": ["s"], "id": "1", "userName": "ann",
                ORG: {"primaryDepartment": {"value": "d", "$ref": "h/d", "display": "Lab"},
                      "departments": [{"value": "e", "display": "Ops"}],
                      "departmentPath": "/r/d/"},
            })
        };
        let bare = json!({"primaryDepartment": {"value": "d", "$ref": "h/d"},
                          "departments": [{"value": "e"}]});
        let parse =
            |a: Option<&str>, x: Option<&str>| Projection::parse(ResourceKind::User, a, x).unwrap();
        assert_eq!(
            Projection::default().apply(ResourceKind::User, with_org())[ORG],
            bare
        );
        assert_eq!(
            parse(None, Some("userName")).apply(ResourceKind::User, with_org())[ORG],
            bare
        );
        // Naming the extension or the attribute is not asking.
        assert_eq!(
            parse(Some(ORG), None).apply(ResourceKind::User, with_org())[ORG],
            bare
        );
        let asked =
            format!("{ORG}:primaryDepartment,{ORG}:primaryDepartment.display,{ORG}:departmentPath");
        assert_eq!(
            parse(Some(&asked), None).apply(ResourceKind::User, with_org())[ORG],
            json!({"primaryDepartment": {"value": "d", "$ref": "h/d", "display": "Lab"},
                   "departmentPath": "/r/d/"})
        );
        // Only text holding such attributes needs parsing.
        let whole = Projection::default();
        assert!(whole.leaves_unchanged(ResourceKind::User, r#"{"userName":"ann"}"#));
        assert!(!whole.leaves_unchanged(ResourceKind::User, &with_org().to_string()));
        assert!(!parse(Some("userName"), None).leaves_unchanged(ResourceKind::User, "{}"));
    }

    #[test]
    fn attributes_keep_only_what_is_asked_plus_always() {
        let p = Projection::parse(
            ResourceKind::User,
            Some("userName,name.givenName,emails.value"),
            None,
        )
        .unwrap();
        let v = p.apply(ResourceKind::User, user());
        assert_eq!(
            v,
            json!({"schemas": ["s"], "id": "1", "userName": "ann", "name": {"givenName": "Ann"}, "emails": [{"value": "a@x"}]})
        );
        let ext = format!("{ENTERPRISE_USER_SCHEMA}:department");
        let v = Projection::parse(ResourceKind::User, Some(&ext), None)
            .unwrap()
            .apply(ResourceKind::User, user());
        assert_eq!(v[ENTERPRISE_USER_SCHEMA], json!({"department": "R&D"}));
        let v = Projection::parse(ResourceKind::User, Some(ENTERPRISE_USER_SCHEMA), None)
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
        let p = Projection::parse(
            ResourceKind::User,
            None,
            Some(&format!("title,id,name.familyName,{ext}")),
        )
        .unwrap();
        let v = p.apply(ResourceKind::User, user());
        assert!(v.get("title").is_none());
        assert_eq!(v["id"], "1");
        assert_eq!(v["name"], json!({"givenName": "Ann"}));
        assert_eq!(v[ENTERPRISE_USER_SCHEMA], json!({"department": "R&D"}));
    }

    #[test]
    fn shows_tells_whether_members_are_needed() {
        assert!(
            !Projection::parse(ResourceKind::Group, None, Some("members"))
                .unwrap()
                .shows("members")
        );
        assert!(
            Projection::parse(ResourceKind::Group, None, Some("members.display"))
                .unwrap()
                .shows("members")
        );
        assert!(
            !Projection::parse(ResourceKind::Group, Some("displayName"), None)
                .unwrap()
                .shows("members")
        );
        assert!(
            Projection::parse(ResourceKind::Group, Some("members"), None)
                .unwrap()
                .shows("MEMBERS")
        );
        assert!(Projection::default().shows("members"));
    }

    fn with_emails() -> Value {
        json!({
            "schemas": ["s"], "id": "1", "userName": "ann",
            "emails": [
                {"value": "a@work", "type": "work", "primary": true},
                {"value": "a@home", "type": "home"},
                {"value": "b@work", "type": "Work"}
            ],
            "phoneNumbers": [{"value": "1", "type": "work"}],
        })
    }

    fn keep(attributes: &str) -> Value {
        Projection::parse(ResourceKind::User, Some(attributes), None)
            .unwrap_or_else(|e| panic!("{attributes}: {}", e.detail))
            .apply(ResourceKind::User, with_emails())
    }

    #[test]
    fn a_value_filter_in_attributes_selects_those_values() {
        let work = json!([
            {"value": "a@work", "type": "work", "primary": true},
            {"value": "b@work", "type": "Work"}
        ]);
        let v = keep(r#"emails[type eq "work"]"#);
        assert_eq!(v, json!({"schemas": ["s"], "id": "1", "emails": work}));
        // The unquoted form, a sub-attribute after the brackets, and commas
        // inside the filter do not split the list.
        assert_eq!(keep("emails[type eq work]")["emails"], work);
        assert_eq!(
            keep(r#"emails[type eq "work" and primary eq true].value"#)["emails"],
            json!([{"value": "a@work"}])
        );
        assert_eq!(
            keep(r#"userName,emails[value eq "x,y" or type eq "home"]"#),
            json!({"schemas": ["s"], "id": "1", "userName": "ann", "emails": [{"value": "a@home", "type": "home"}]})
        );
        // Several entries for one attribute show what any of them selects.
        assert_eq!(
            keep(r#"emails[type eq "home"],emails[primary eq true].type"#)["emails"],
            json!([{"type": "work"}, {"value": "a@home", "type": "home"}])
        );
        assert_eq!(
            keep(r#"emails[type eq "home"],emails"#)["emails"],
            with_emails()["emails"]
        );
        // Nothing selected: the attribute is left out.
        assert!(keep(r#"emails[type eq "other"]"#).get("emails").is_none());
        assert!(
            keep(r#"undefinedThing[type eq "x"]"#)
                .get("emails")
                .is_none()
        );
    }

    #[test]
    fn a_wrong_value_filter_in_attributes_is_refused() {
        for (list, scim_type) in [
            (r#"emails[type eq "work""#, ScimType::InvalidFilter),
            (r#"emails[primary eq "maybe"]"#, ScimType::InvalidFilter),
            (r#"userName[type eq "work"]"#, ScimType::InvalidValue),
            (r#"emails[type eq "work"]value"#, ScimType::InvalidValue),
            (r#"emails[type eq "work"].value.x"#, ScimType::InvalidValue),
        ] {
            let err = Projection::parse(ResourceKind::User, Some(list), None).unwrap_err();
            assert_eq!(
                (err.status, err.scim_type),
                (400, Some(scim_type)),
                "{list}: {}",
                err.detail
            );
            let named = list.split('[').next().unwrap();
            assert!(err.detail.contains(named), "{list}: {}", err.detail);
        }
        let err = Projection::parse(ResourceKind::User, None, Some(r#"emails[type eq "work"]"#))
            .unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
        assert!(err.detail.contains("'attributes' only"), "{}", err.detail);
    }
}
