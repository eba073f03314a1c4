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

/// RFC 3339 in UTC with milliseconds (`2026-01-02T03:04:05.678Z`), as
/// `to_rfc3339_opts(Millis, true)` writes it; written digit by digit for
/// the four-digit years every stored time has (chrono's formatter costs
/// more than the rest of a resource's meta).
pub fn format_time(t: &DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let (year, nanos) = (t.year(), t.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return t.to_rfc3339_opts(SecondsFormat::Millis, true);
    }
    let mut out = String::with_capacity(24);
    for (n, width, then) in [
        (year as u32, 4, '-'),
        (t.month(), 2, '-'),
        (t.day(), 2, 'T'),
        (t.hour(), 2, ':'),
        (t.minute(), 2, ':'),
        (t.second(), 2, '.'),
        (nanos / 1_000_000, 3, 'Z'),
    ] {
        let mut digits = [b'0'; 4];
        let mut n = n;
        for d in digits[..width].iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        out.extend(digits[..width].iter().map(|&b| char::from(b)));
        out.push(then);
    }
    out
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
        } else if !is_withdrawn(name) {
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

/// A stored member named by a schema URN that is no extension of the
/// resource type (any more): the values of an extension schema taken out of
/// the configuration stay stored but are not shown.
fn is_withdrawn(name: &str) -> bool {
    name.contains(':')
}

/// `render`, straight to JSON text from the stored attributes' JSON text
/// (`data`, an object as the store keeps it) and without building a
/// `Value`: the same bytes as `serde_json::to_vec(&render(..))` at a
/// fraction of the cost (the attribute values are copied as they are
/// stored). `derived` is rendered after the core attributes, as in `render`.
/// None when `data` is not an object of distinct plain attribute names
/// (then `render` is the answer).
pub fn render_text(
    kind: ResourceKind,
    id: &str,
    data: &str,
    derived: &[(&str, Value)],
    meta: &ResourceMeta,
    base_url: &str,
) -> Option<Vec<u8>> {
    let Members(members) = serde_json::from_str(data).ok()?;
    let reg = registry();
    let is_extension = |name: &str| reg.extensions(kind).any(|s| s.id == name);
    // Names `render` places itself: an attribute by such a name (never
    // stored) or a repeated name would change its result.
    let reserved = |name: &str| {
        ["schemas", "id", "meta"].contains(&name) || derived.iter().any(|(d, _)| *d == name)
    };
    for (i, (name, _)) in members.iter().enumerate() {
        if reserved(name) || members[..i].iter().any(|(other, _)| other == name) {
            return None;
        }
    }
    let mut out = Vec::with_capacity(data.len() + 256 + 64 * derived.len());
    out.extend_from_slice(b"{\"schemas\":[");
    write_str(&mut out, reg.core_schema(kind).id);
    for (name, _) in members.iter().filter(|(n, _)| is_extension(n)) {
        out.push(b',');
        write_str(&mut out, name);
    }
    out.extend_from_slice(b"],\"id\":");
    write_str(&mut out, id);
    let member = |out: &mut Vec<u8>, name: &str, raw: &str| {
        out.push(b',');
        write_str(out, name);
        out.push(b':');
        out.extend_from_slice(raw.as_bytes());
    };
    for (name, raw) in members
        .iter()
        .filter(|(n, _)| !is_extension(n) && !is_withdrawn(n))
    {
        member(&mut out, name, raw.get());
    }
    for (name, value) in derived {
        out.push(b',');
        write_str(&mut out, name);
        out.push(b':');
        serde_json::to_writer(&mut out, value).ok()?;
    }
    for (name, raw) in members.iter().filter(|(n, _)| is_extension(n)) {
        member(&mut out, name, raw.get());
    }
    out.extend_from_slice(b",\"meta\":{\"resourceType\":");
    write_str(&mut out, kind.as_str());
    out.extend_from_slice(b",\"created\":");
    write_str(&mut out, &format_time(&meta.created));
    out.extend_from_slice(b",\"lastModified\":");
    write_str(&mut out, &format_time(&meta.last_modified));
    out.extend_from_slice(b",\"location\":");
    write_str(&mut out, &location(base_url, kind, id));
    out.extend_from_slice(b",\"version\":");
    write_str(&mut out, &meta.etag());
    out.extend_from_slice(b"}}");
    Some(out)
}

/// A JSON string, escaped as serde_json escapes it.
fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(out, s);
}

/// The members of a JSON object in order, values left as JSON text.
struct Members<'a>(Vec<(std::borrow::Cow<'a, str>, &'a serde_json::value::RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Members<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Members<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Members<'a>, M::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(Key(name)) = map.next_key()? {
                    members.push((name, map.next_value()?));
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// An object key, borrowed from the text unless it holds escapes.
struct Key<'a>(std::borrow::Cow<'a, str>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Key<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'a>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'a>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(Visit(std::marker::PhantomData))
    }
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

    #[test]
    fn times_format_as_chrono_formats_them() {
        let cases = [
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            Utc.timestamp_millis_opt(1_790_000_000_123).unwrap(),
            Utc.timestamp_nanos(1_790_000_000_999_999_999),
            Utc.with_ymd_and_hms(9, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
        ];
        for t in cases {
            assert_eq!(
                format_time(&t),
                t.to_rfc3339_opts(SecondsFormat::Millis, true)
            );
        }
    }

    #[test]
    fn text_rendering_gives_the_bytes_of_the_value_rendering() {
        let meta = ResourceMeta {
            created: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            last_modified: Utc.timestamp_millis_opt(1_790_000_000_123).unwrap(),
            version: 12,
        };
        let groups = json!([{"value": "g1", "$ref": "http://h/scim/v2/Groups/g1",
            "display": "Ops \"north\" ✓", "type": "direct"}]);
        let resources = [
            json!({"userName": "a"}),
            json!({"userName": "bjørn\u{1}\n\"q\"\\", "active": true, "x\"y": [1, 2.5, -3e-7, null],
                "name": {"givenName": "Ünï", "familyName": "C😀"},
                ENTERPRISE_USER_SCHEMA: {"department": "R&D", "manager": {"value": "m1"}},
                "emails": [{"value": "a@b", "primary": true}], "nickName": ""}),
            json!({ENTERPRISE_USER_SCHEMA: {}, "userName": "ext-first", "title": 1.0e300}),
        ];
        for attrs in resources {
            let Value::Object(attrs) = attrs else {
                unreachable!()
            };
            let data = serde_json::to_string(&attrs).unwrap();
            for derived in [vec![], vec![("groups", groups.clone())]] {
                let by_value = render(
                    ResourceKind::User,
                    "u \"1\"",
                    &attrs,
                    derived
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.clone()))
                        .collect(),
                    &meta,
                    "http://h/scim/v2",
                );
                let text = render_text(
                    ResourceKind::User,
                    "u \"1\"",
                    &data,
                    &derived,
                    &meta,
                    "http://h/scim/v2",
                )
                .unwrap();
                assert_eq!(
                    String::from_utf8(text).unwrap(),
                    serde_json::to_string(&by_value).unwrap()
                );
            }
        }
    }

    #[test]
    fn text_rendering_declines_what_it_cannot_render_alike() {
        let meta = ResourceMeta {
            created: Utc::now(),
            last_modified: Utc::now(),
            version: 1,
        };
        let groups = [("groups", json!([]))];
        for (data, derived) in [
            ("[1]", &[][..]),
            ("{\"userName\":\"a\",\"id\":\"x\"}", &[][..]),
            ("{\"userName\":\"a\",\"userName\":\"b\"}", &[][..]),
            ("{\"userName\":\"a\",\"groups\":[]}", &groups[..]),
            ("{\"userName\":", &[][..]),
        ] {
            assert!(
                render_text(ResourceKind::User, "u", data, derived, &meta, "http://h").is_none(),
                "{data}"
            );
        }
    }
}
