//! Entries as the engines see them and back: an entry becomes a JSON
//! object of its attributes (one value as a string, several as a list)
//! with `id`, `dn`, `active` (users, read from the deactivation setting),
//! the manager as the SCIM enterprise `manager.value` and a group's
//! `member` DNs as `members[].value`, all by entry id. A mapped object
//! becomes attribute values the other way round.

use std::collections::{BTreeMap, HashMap};

use ldap3::{SearchEntry, ldap_escape};
use serde_json::{Map, Value, json};

use super::dn;
use super::settings::{ACCOUNT_CONTROL, ACCOUNT_DISABLED, Deactivation, LdapSettings};
use crate::provision::plan::managers::{ENTERPRISE, manager_of};
use crate::scim::ResourceKind;
use crate::scim::json::member_of;

/// The DN-valued attribute naming a user's manager (inetOrgPerson, AD).
pub const MANAGER: &str = "manager";

/// Keys of a mapped object that are not attributes of the entry.
const VIRTUAL: [&str; 6] = ["schemas", "id", "dn", "active", "members", "objectClass"];

/// Attribute values of an entry by name, whatever case the server used.
pub fn values<'e>(entry: &'e SearchEntry, attr: &str) -> &'e [String] {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .map_or(&[], |(_, v)| v.as_slice())
}

/// Binary ids (Active Directory's GUIDs and SIDs) travel as hex.
pub fn is_binary_id(id_attribute: &str) -> bool {
    ["objectGUID", "objectSid"]
        .iter()
        .any(|b| b.eq_ignore_ascii_case(id_attribute))
}

/// The entry's id: its `id_attribute`, hex for binary ones.
pub fn id_of(entry: &SearchEntry, id_attribute: &str) -> Option<String> {
    if is_binary_id(id_attribute) {
        let bytes = entry
            .bin_attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(id_attribute))
            .and_then(|(_, v)| v.first().cloned())
            .or_else(|| {
                values(entry, id_attribute)
                    .first()
                    .map(|s| s.as_bytes().to_vec())
            })?;
        return Some(hex::encode(bytes));
    }
    values(entry, id_attribute).first().cloned()
}

/// The filter matching the entry with `id`.
pub fn id_filter(id_attribute: &str, id: &str) -> String {
    if is_binary_id(id_attribute)
        && let Ok(bytes) = hex::decode(id)
    {
        let escaped: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
        return format!("({id_attribute}={escaped})");
    }
    format!("({id_attribute}={})", ldap_escape(id))
}

/// Whether a user entry is active by the target's deactivation setting
/// (`None` when the target has none).
pub fn is_active(entry: &SearchEntry, settings: &LdapSettings) -> Option<bool> {
    match &settings.deactivate {
        Deactivation::None => None,
        Deactivation::Attribute {
            attribute, value, ..
        } => Some(
            !values(entry, attribute)
                .iter()
                .any(|v| v.eq_ignore_ascii_case(value)),
        ),
        Deactivation::AccountControl => Some(account_control(entry) & ACCOUNT_DISABLED == 0),
        Deactivation::Move { container } => {
            Some(dn::normalize(&dn::parent(&entry.dn)) != dn::normalize(container))
        }
    }
}

/// `userAccountControl`, or a normal account's 512 when it is unset.
pub fn account_control(entry: &SearchEntry) -> i64 {
    values(entry, ACCOUNT_CONTROL)
        .first()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(512)
}

/// The entry as an object of the engines' vocabulary; `ids` maps
/// normalized DNs to entry ids (for the manager and members).
pub fn to_object(
    kind: ResourceKind,
    entry: &SearchEntry,
    settings: &LdapSettings,
    ids: &HashMap<String, String>,
) -> Option<Value> {
    let id = id_of(entry, &settings.id_attribute)?;
    let mut out = Map::new();
    out.insert("id".into(), Value::String(id));
    out.insert("dn".into(), Value::String(entry.dn.clone()));
    let skipped = |attr: &str| {
        attr.eq_ignore_ascii_case("objectClass")
            || attr.eq_ignore_ascii_case(&settings.id_attribute)
            || (kind == ResourceKind::Group
                && attr.eq_ignore_ascii_case(&settings.member_attribute))
            || (kind == ResourceKind::User && attr.eq_ignore_ascii_case(MANAGER))
    };
    let sorted: BTreeMap<&String, &Vec<String>> = entry.attrs.iter().collect();
    for (attr, vals) in sorted {
        if skipped(attr) {
            continue;
        }
        let value = match vals.as_slice() {
            [one] => Value::String(one.clone()),
            many => Value::Array(many.iter().cloned().map(Value::String).collect()),
        };
        out.insert(attr.clone(), value);
    }
    let id_of_dn = |d: &String| ids.get(&dn::normalize(d)).cloned();
    match kind {
        ResourceKind::User => {
            if let Some(active) = is_active(entry, settings) {
                out.insert("active".into(), Value::Bool(active));
            }
            if let Some(manager) = values(entry, MANAGER).first().and_then(id_of_dn) {
                out.insert(ENTERPRISE.into(), json!({"manager": {"value": manager}}));
            }
        }
        ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
            let members: Vec<Value> = values(entry, &settings.member_attribute)
                .iter()
                .filter_map(id_of_dn)
                .map(|id| json!({"value": id}))
                .collect();
            out.insert("members".into(), Value::Array(members));
        }
    }
    Some(Value::Object(out))
}

/// The DNs an entry refers to that `to_object` shows by id.
pub fn referenced_dns(
    kind: ResourceKind,
    entry: &SearchEntry,
    settings: &LdapSettings,
) -> Vec<String> {
    match kind {
        ResourceKind::User => values(entry, MANAGER).to_vec(),
        ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
            values(entry, &settings.member_attribute).to_vec()
        }
    }
}

fn text(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        // LDAP's Boolean syntax (RFC 4517 §3.3.3).
        Value::Bool(b) => Ok(Some(if *b { "TRUE" } else { "FALSE" }.into())),
        Value::Null => Ok(None),
        _ => Err("an LDAP value is a string, number or boolean".into()),
    }
}

/// The entry attributes a mapped object sets (in its order), each with its
/// values; an attribute mapped to nothing has none.
pub fn attribute_values(object: &Value) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut out = Vec::new();
    for (key, value) in object.as_object().into_iter().flatten() {
        if VIRTUAL.iter().any(|v| v.eq_ignore_ascii_case(key))
            || key.eq_ignore_ascii_case(ENTERPRISE)
        {
            continue;
        }
        if !dn::is_attribute_name(key) {
            return Err(format!("{key:?} is not an LDAP attribute name"));
        }
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        let mut vals = Vec::new();
        for item in items {
            if let Some(t) = text(item).map_err(|e| format!("attribute {key}: {e}"))?
                && !vals.contains(&t)
            {
                vals.push(t);
            }
        }
        out.push((key.clone(), vals));
    }
    Ok(out)
}

/// The manager's entry id a mapped user names (the engines set it to the
/// target's id before writing).
pub fn manager_id(object: &Value) -> Option<String> {
    manager_of(object)
}

/// `active` of a mapped object, when it says.
pub fn wanted_active(object: &Value) -> Option<bool> {
    match member_of(object, "active")? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse::<bool>().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dn: &str, attrs: &[(&str, &[&str])]) -> SearchEntry {
        SearchEntry {
            dn: dn.into(),
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
            bin_attrs: HashMap::new(),
        }
    }

    fn settings() -> LdapSettings {
        LdapSettings {
            deactivate: Deactivation::Attribute {
                attribute: "employeeType".into(),
                value: "disabled".into(),
                active_value: None,
            },
            ..LdapSettings::default()
        }
    }

    #[test]
    fn entries_become_objects_with_ids_for_dns() {
        let boss = "uid=boss,ou=people,dc=x";
        let ids = HashMap::from([(dn::normalize(boss), "b-1".to_string())]);
        let e = entry(
            "uid=ann,ou=people,dc=x",
            &[
                ("entryUUID", &["a-1"]),
                ("objectClass", &["inetOrgPerson"]),
                ("uid", &["ann"]),
                ("mail", &["a@x", "ann@x"]),
                ("employeeType", &["Disabled"]),
                ("manager", &["UID=Boss,ou=people,dc=x"]),
            ],
        );
        let o = to_object(ResourceKind::User, &e, &settings(), &ids).unwrap();
        assert_eq!(
            o,
            json!({"id": "a-1", "dn": "uid=ann,ou=people,dc=x", "employeeType": "Disabled",
                   "mail": ["a@x", "ann@x"], "uid": "ann", "active": false,
                   ENTERPRISE: {"manager": {"value": "b-1"}}})
        );
        let g = entry(
            "cn=eng,ou=groups,dc=x",
            &[
                ("entryUUID", &["g-1"]),
                ("cn", &["eng"]),
                ("member", &["", boss]),
            ],
        );
        let o = to_object(ResourceKind::Group, &g, &settings(), &ids).unwrap();
        assert_eq!(
            o["members"],
            json!([{"value": "b-1"}]),
            "the empty member is no one"
        );
        assert!(to_object(ResourceKind::Group, &entry("cn=x", &[]), &settings(), &ids).is_none());
    }

    #[test]
    fn mapped_objects_become_attribute_values() {
        let o = json!({"schemas": ["s"], "uid": "ann", "cn": ["Ann", "Ann", ""], "age": 7,
                       "enabled": true, "title": null, "active": true,
                       ENTERPRISE: {"manager": {"value": "b-1"}}});
        let values = attribute_values(&o).unwrap();
        assert_eq!(
            values,
            vec![
                ("uid".to_string(), vec!["ann".to_string()]),
                ("cn".into(), vec!["Ann".into()]),
                ("age".into(), vec!["7".into()]),
                ("enabled".into(), vec!["TRUE".into()]),
                ("title".into(), vec![]),
            ]
        );
        assert_eq!(manager_id(&o).as_deref(), Some("b-1"));
        assert_eq!(wanted_active(&o), Some(true));
        let e = attribute_values(&json!({"name": {"givenName": "A"}})).unwrap_err();
        assert!(e.contains("attribute name"), "{e}");
        let e = attribute_values(&json!({"cn": {"x": 1}})).unwrap_err();
        assert!(e.contains("string, number or boolean"), "{e}");
    }

    #[test]
    fn binary_ids_travel_as_hex_and_filters_escape() {
        let mut e = entry("cn=a", &[]);
        e.bin_attrs
            .insert("objectGUID".into(), vec![vec![0x00, 0xff, 0x28]]);
        assert_eq!(id_of(&e, "objectGUID").as_deref(), Some("00ff28"));
        assert_eq!(id_filter("objectGUID", "00ff28"), r"(objectGUID=\00\ff\28)");
        assert_eq!(id_filter("entryUUID", "a*)(x"), r"(entryUUID=a\2a\29\28x)");
    }

    #[test]
    fn activity_follows_the_deactivation_setting() {
        let mut s = settings();
        let e = entry("uid=a,ou=off,dc=x", &[("userAccountControl", &["514"])]);
        assert_eq!(is_active(&e, &s), Some(true));
        s.deactivate = Deactivation::AccountControl;
        assert_eq!(is_active(&e, &s), Some(false));
        s.deactivate = Deactivation::Move {
            container: "OU=off, dc=x".into(),
        };
        assert_eq!(is_active(&e, &s), Some(false));
        s.deactivate = Deactivation::None;
        assert_eq!(is_active(&e, &s), None);
    }
}
