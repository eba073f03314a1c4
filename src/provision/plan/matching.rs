//! Finding a target's existing account for a local resource that has no
//! id-map row yet, so it is linked instead of duplicated.

use std::collections::HashMap;

use serde_json::Value;

use crate::provision::mapping::path::{ValuePath, parse_value_path, read};
use crate::scim::ResourceKind;

/// The attribute both sides are matched on, e.g. `userName` (the default,
/// ignoring case), `externalId` (exact) or `emails[type eq "work"].value`.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchKey {
    pub path: ValuePath,
    pub ignore_case: bool,
}

impl MatchKey {
    pub fn parse(text: &str) -> Result<Self, String> {
        let path = parse_value_path(text)?;
        let ignore_case = !path.attr.name.eq_ignore_ascii_case("externalId")
            && !path.attr.name.eq_ignore_ascii_case("id");
        Ok(Self { path, ignore_case })
    }

    pub fn user_name() -> Self {
        Self {
            path: ValuePath {
                attr: crate::scim::filter::AttrPath::new("userName"),
                filter: None,
                sub_after: None,
            },
            ignore_case: true,
        }
    }

    /// The key of a resource; `None` when it has no usable value.
    pub fn key(&self, kind: ResourceKind, resource: &Value) -> Option<String> {
        let v = read(kind, resource, &self.path);
        let s = match v {
            Value::String(s) => s,
            Value::Array(items) => items.first().and_then(Value::as_str)?.to_string(),
            _ => return None,
        };
        let s = s.trim();
        if s.is_empty() {
            None
        } else if self.ignore_case {
            Some(s.to_lowercase())
        } else {
            Some(s.to_string())
        }
    }
}

/// Remote ids by key; a key two remote accounts share is ambiguous and
/// maps to `None` (linking either could hand one person's account to another).
pub fn index<'r>(
    kind: ResourceKind,
    key: &MatchKey,
    remotes: impl Iterator<Item = (&'r str, &'r Value)>,
) -> HashMap<String, Option<&'r str>> {
    let mut out: HashMap<String, Option<&str>> = HashMap::new();
    for (id, resource) in remotes {
        if let Some(k) = key.key(kind, resource) {
            out.entry(k)
                .and_modify(|slot| *slot = None)
                .or_insert(Some(id));
        }
    }
    out
}
