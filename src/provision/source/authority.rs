//! Authority: the attributes a source owns. An update from a source
//! writes exactly those (a value it no longer has is removed), so two
//! sources can feed one person without overwriting each other.

use serde_json::{Map, Value};

use crate::provision::mapping::path::{self, TargetPath};
use crate::provision::mapping::{DEPARTMENTS, PRIMARY_DEPARTMENT};
use crate::scim::ResourceKind;
use crate::scim::json::member;
use crate::scim::registry::{ORGANIZATION_USER_SCHEMA, registry};

/// One attribute as a whole: a core (or common) attribute, or an
/// extension's attribute. Sub-attributes go with their attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OwnedKey {
    Core(String),
    Extension { uri: String, name: String },
}

impl OwnedKey {
    /// `title`, `name`, `emails`, `urn:…:enterprise:2.0:User:department`.
    pub fn parse(kind: ResourceKind, text: &str) -> Result<Self, String> {
        let p = path::parse_value_path(text)?;
        if p.filter.is_some() || p.attr.sub.is_some() {
            return Err(format!(
                "{text:?}: name a whole attribute (e.g. \"name\", not \"name.givenName\")"
            ));
        }
        Self::of(kind, p.attr.uri.as_deref(), &p.attr.name)
            .ok_or_else(|| format!("{text:?} is not a {} attribute", kind.as_str()))
    }

    /// The canonical key of an attribute a source can write, if the schema
    /// knows it: not a readOnly one (`groups`), nor a group's `members`
    /// (memberships are written from the references), nor a department's
    /// `parent` (a move). A user's departments by their short names are the
    /// organization extension's.
    fn of(kind: ResourceKind, uri: Option<&str>, name: &str) -> Option<Self> {
        if kind == ResourceKind::User && uri.is_none() {
            for short in [PRIMARY_DEPARTMENT, DEPARTMENTS] {
                if name.eq_ignore_ascii_case(short) {
                    return Some(OwnedKey::Extension {
                        uri: ORGANIZATION_USER_SCHEMA.into(),
                        name: short.into(),
                    });
                }
            }
        }
        if kind == ResourceKind::Department && name.eq_ignore_ascii_case("parent") {
            return None;
        }
        let def = path::definition(
            kind,
            &crate::scim::filter::AttrPath {
                uri: uri.map(str::to_string),
                name: name.to_string(),
                sub: None,
            },
        )?;
        let members = kind == ResourceKind::Group && def.name.eq_ignore_ascii_case("members");
        if def.mutability == crate::scim::schema::Mutability::ReadOnly || members {
            return None;
        }
        Self::named(kind, uri, name)
    }

    fn named(kind: ResourceKind, uri: Option<&str>, name: &str) -> Option<Self> {
        let reg = registry();
        match uri {
            Some(uri) if !path::is_core(kind, uri) => {
                let ext = reg
                    .extensions(kind)
                    .find(|s| s.id.eq_ignore_ascii_case(uri))?;
                let def = ext.attribute(name)?;
                Some(OwnedKey::Extension {
                    uri: ext.id.to_string(),
                    name: def.name.to_string(),
                })
            }
            _ => {
                let def = crate::scim::registry::common_attribute(name)
                    .or_else(|| reg.core_schema(kind).attribute(name))?;
                Some(OwnedKey::Core(def.name.to_string()))
            }
        }
    }

    /// The value in canonical attributes (as `scim::resource::validate` gives them).
    pub fn read<'a>(&self, attrs: &'a Map<String, Value>) -> Option<&'a Value> {
        match self {
            OwnedKey::Core(name) => attrs.get(name),
            OwnedKey::Extension { uri, name } => {
                attrs.get(uri)?.as_object().and_then(|o| member(o, name))
            }
        }
    }

    pub fn write(&self, attrs: &mut Map<String, Value>, value: Value) {
        match self {
            OwnedKey::Core(name) => {
                attrs.insert(name.clone(), value);
            }
            OwnedKey::Extension { uri, name } => {
                let ext = attrs
                    .entry(uri.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(o) = ext {
                    o.insert(name.clone(), value);
                }
            }
        }
    }

    /// The PATCH path naming it.
    pub fn patch_path(&self) -> String {
        match self {
            OwnedKey::Core(name) => name.clone(),
            OwnedKey::Extension { uri, name } => format!("{uri}:{name}"),
        }
    }
}

/// The keys a source owns for `kind`: its `owns` setting when given (those
/// of this kind), else every attribute its mapping can set (`targets`).
pub fn owned_keys(kind: ResourceKind, owns: &[String], targets: &[&TargetPath]) -> Vec<OwnedKey> {
    let mut keys: Vec<OwnedKey> = if owns.is_empty() {
        targets
            .iter()
            .filter_map(|t| OwnedKey::of(kind, t.uri.as_deref(), &t.name))
            .collect()
    } else {
        owns.iter()
            .filter_map(|o| OwnedKey::parse(kind, o).ok())
            .collect()
    };
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    #[test]
    fn keys_are_canonical_whole_attributes() {
        assert_eq!(
            OwnedKey::parse(ResourceKind::User, "TITLE"),
            Ok(OwnedKey::Core("title".into()))
        );
        assert_eq!(
            OwnedKey::parse(
                ResourceKind::User,
                &format!("{}:department", ENT.to_uppercase())
            ),
            Ok(OwnedKey::Extension {
                uri: ENT.into(),
                name: "department".into()
            })
        );
        assert!(OwnedKey::parse(ResourceKind::User, "name.givenName").is_err());
        assert!(OwnedKey::parse(ResourceKind::User, "shoeSize").is_err());
        assert!(
            OwnedKey::parse(ResourceKind::User, "groups").is_err(),
            "readOnly"
        );
        assert!(OwnedKey::parse(ResourceKind::Group, "members").is_err());
        assert_eq!(
            OwnedKey::parse(ResourceKind::User, "externalid"),
            Ok(OwnedKey::Core("externalId".into()))
        );
    }

    #[test]
    fn keys_read_and_name_their_attribute() {
        let dept = OwnedKey::Extension {
            uri: ENT.into(),
            name: "department".into(),
        };
        let attrs = json!({"userName": "a", "title": "Dr",
            ENT: {"department": "R&D", "costCenter": "7"}});
        let attrs = attrs.as_object().unwrap();
        assert_eq!(dept.read(attrs), Some(&json!("R&D")));
        assert_eq!(
            OwnedKey::Core("title".into()).read(attrs),
            Some(&json!("Dr"))
        );
        assert_eq!(OwnedKey::Core("nickName".into()).read(attrs), None);
        assert_eq!(dept.patch_path(), format!("{ENT}:department"));
        let mut out = Map::new();
        dept.write(&mut out, json!("Ops"));
        assert_eq!(Value::Object(out), json!({ENT: {"department": "Ops"}}));
    }
}
