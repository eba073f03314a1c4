//! What "differs" means between the mapped state and the target's copy,
//! and the stable hash of a pushed state.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::types::AttributeChange;
use crate::provision::mapping::path::definition;
use crate::scim::ResourceKind;
use crate::scim::filter::AttrPath;
use crate::scim::json::member;
use crate::scim::schema::AttrType;

/// Whether `want` is contained in `have`: objects by their keys (the target
/// may add sub-attributes such as `$ref` or `display`), arrays element by
/// element in any order with equal length, numbers numerically.
pub fn contained(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => w
            .iter()
            .all(|(k, v)| contained(v, member(h, k).unwrap_or(&Value::Null))),
        (Value::Array(w), Value::Array(h)) => {
            w.len() == h.len() && w.iter().all(|x| h.iter().any(|y| contained(x, y)))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Null, Value::Array(h)) => h.is_empty(),
        (a, b) => a == b,
    }
}

/// The top-level attributes (and extension objects) of `want` that `have`
/// does not already hold, with `have`'s value of each; `schemas` is not
/// compared. Top-level strings the schema calls case-insensitive
/// (`userName`) compare ignoring case, so a target that folds case is not
/// updated on every run.
fn differing<'a>(
    kind: ResourceKind,
    want: &'a Value,
    have: &'a Value,
) -> impl Iterator<Item = (&'a String, &'a Value, &'a Value)> {
    let have = have.as_object();
    want.as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("schemas"))
        .filter_map(move |(k, v)| {
            let h = have.and_then(|h| member(h, k)).unwrap_or(&Value::Null);
            let fold = definition(kind, &AttrPath::new(k))
                .is_some_and(|d| d.attr_type == AttrType::String && !d.case_exact);
            let differs = match (v, h) {
                (Value::String(a), Value::String(b)) if fold => {
                    a.to_lowercase() != b.to_lowercase()
                }
                _ => !contained(v, h),
            };
            differs.then_some((k, h, v))
        })
}

/// The names of the attributes that differ (see `differing`).
pub fn changed_attributes(kind: ResourceKind, want: &Value, have: &Value) -> Vec<String> {
    differing(kind, want, have)
        .map(|(k, _, _)| k.clone())
        .collect()
}

/// The attributes that differ, each with the target's value and the new one.
pub fn attribute_changes(kind: ResourceKind, want: &Value, have: &Value) -> Vec<AttributeChange> {
    differing(kind, want, have)
        .map(|(k, before, after)| AttributeChange {
            attribute: k.clone(),
            before: before.clone(),
            after: after.clone(),
        })
        .collect()
}

fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// SHA-256 of the key-sorted JSON: equal states hash equal whatever the
/// key order.
pub fn state_hash(v: &Value) -> String {
    hex::encode(Sha256::digest(canonical(v).to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containment_tolerates_what_targets_add() {
        assert!(contained(
            &json!({"value": "m1"}),
            &json!({"value": "m1", "$ref": "https://x/Users/m1", "displayName": "M"})
        ));
        assert!(contained(
            &json!([{"value": "a"}, {"value": "b"}]),
            &json!([{"value": "b", "display": "B"}, {"value": "a"}])
        ));
        assert!(!contained(
            &json!([{"value": "a"}]),
            &json!([{"value": "a"}, {"value": "b"}])
        ));
        assert!(contained(&json!(1), &json!(1.0)));
        assert!(!contained(&json!("Ann"), &json!("ann")));
        assert!(!contained(&json!({"a": 1}), &json!(null)));
    }

    #[test]
    fn changed_lists_only_differing_attributes() {
        let want =
            json!({"schemas": ["x"], "userName": "a", "active": true, "name": {"givenName": "A"}});
        let have = json!({"id": "r1", "userName": "a", "active": false, "name": {"givenName": "A", "familyName": "B"}});
        assert_eq!(
            changed_attributes(ResourceKind::User, &want, &have),
            vec!["active".to_string()]
        );
        let upper = json!({"userName": "A", "externalId": "X"});
        let lower = json!({"userName": "a", "externalId": "x"});
        assert_eq!(
            changed_attributes(ResourceKind::User, &upper, &lower),
            vec!["externalId".to_string()]
        );
    }

    #[test]
    fn changes_keep_the_targets_value_beside_the_new_one() {
        let want = json!({"userName": "a", "title": "Boss", "nickName": "Al", "active": true});
        let have = json!({"USERNAME": "A", "Title": "Clerk", "active": true});
        assert_eq!(
            attribute_changes(ResourceKind::User, &want, &have),
            vec![
                AttributeChange {
                    attribute: "title".into(),
                    before: json!("Clerk"),
                    after: json!("Boss"),
                },
                AttributeChange {
                    attribute: "nickName".into(),
                    before: Value::Null,
                    after: json!("Al"),
                },
            ]
        );
        assert!(attribute_changes(ResourceKind::User, &want, &want).is_empty());
    }

    #[test]
    fn hash_ignores_key_order() {
        assert_eq!(
            state_hash(&json!({"a": 1, "b": {"c": 2, "d": 3}})),
            state_hash(&json!({"b": {"d": 3, "c": 2}, "a": 1}))
        );
        assert_ne!(state_hash(&json!({"a": 1})), state_hash(&json!({"a": 2})));
    }
}
