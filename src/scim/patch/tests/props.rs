//! Fuzzing: arbitrary PATCH bodies (generated JSON, and client text) never
//! panic, fail only with a 4xx SCIM error, and a success always leaves
//! attributes in the canonical form `validate` makes.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::scim::registry::registry;
use crate::scim::resource::validate;

const WORDS: &[&str] = &[
    "schemas",
    "Operations",
    "op",
    "path",
    "value",
    "add",
    "Replace",
    "remove",
    "True",
    "false",
    "userName",
    "displayName",
    "name",
    "name.givenName",
    "emails",
    "emails[type eq \"work\"].value",
    "emails[type eq \"work\"]",
    "emails[primary eq true]",
    "emails[value co \"@\"].primary",
    "primary",
    "type",
    "work",
    "active",
    "title",
    "members",
    "members[value eq \"u1\"]",
    "members[value eq \"u1\" or value eq \"u2\"]",
    "members.value",
    "id",
    "meta",
    "groups",
    "password",
    "externalId",
    "$ref",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:api:messages:2.0:PatchOp",
    "u1",
    "",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(WORDS).prop_map(str::to_string),
        1 => ".{0,12}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(|n| json!(n)),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Mostly well-formed operations, so the engine itself gets exercised.
fn operation() -> impl Strategy<Value = Value> {
    let op = proptest::sample::select(&["add", "Replace", "remove", "REMOVE", "move"][..]);
    let path = proptest::option::of(word());
    let value = proptest::option::of(json_value());
    (op, path, value).prop_map(|(op, path, value)| {
        let mut o = Map::new();
        o.insert("op".into(), json!(op));
        if let Some(p) = path {
            o.insert("path".into(), json!(p));
        }
        if let Some(v) = value {
            o.insert("value".into(), v);
        }
        Value::Object(o)
    })
}

const PATHS: &[&str] = &[
    "title",
    "active",
    "userName",
    "displayName",
    "externalId",
    "name",
    "name.givenName",
    "emails",
    "emails[type eq \"work\"]",
    "emails[type eq \"work\"].value",
    "emails[type eq \"home\" and primary eq true].primary",
    "emails[value co \"@\"].display",
    "phoneNumbers[type eq \"mobile\"].value",
    "addresses[type eq \"work\"]",
    "members",
    "members[value eq \"u1\"]",
    "members[value eq \"u1\" or value eq \"u2\"]",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
];

const SUBS: &[&str] = &[
    "value",
    "type",
    "primary",
    "display",
    "givenName",
    "familyName",
    "$ref",
    "locality",
];

/// Values shaped like what the attributes take, so many requests succeed.
fn plausible_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        proptest::sample::select(&["x", "work", "home", "u1", "u2", "True", ""][..])
            .prop_map(|s| json!(s)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    let object = prop::collection::vec((proptest::sample::select(SUBS), leaf.clone()), 0..4)
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    let keyed = prop::collection::vec((proptest::sample::select(PATHS), leaf.clone()), 1..3)
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    prop_oneof![
        3 => leaf,
        2 => object.clone(),
        2 => prop::collection::vec(object, 0..3).prop_map(Value::Array),
        2 => keyed,
    ]
}

fn plausible_operation() -> impl Strategy<Value = Value> {
    let op = proptest::sample::select(&["add", "replace", "remove"][..]);
    let path = proptest::option::weighted(0.8, proptest::sample::select(PATHS));
    (op, path, plausible_value()).prop_map(|(op, path, value)| {
        let mut o = Map::new();
        o.insert("op".into(), json!(op));
        if let Some(p) = path {
            o.insert("path".into(), json!(p));
        }
        o.insert("value".into(), value);
        Value::Object(o)
    })
}

fn body() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::collection::vec(plausible_operation(), 1..4)
            .prop_map(|ops| message(Value::Array(ops))),
        2 => prop::collection::vec(operation(), 0..5).prop_map(|ops| message(Value::Array(ops))),
        1 => json_value(),
    ]
}

fn check(kind: ResourceKind, current: &Value, body: &Value) -> Result<(), TestCaseError> {
    match patch_body(kind, current, body) {
        Err(e) => {
            prop_assert!((400..500).contains(&e.status), "{body}: {e:?}");
            prop_assert!(e.scim_type.is_some(), "{body}: {e:?}");
        }
        Ok(outcome) => {
            let mut resource = outcome.attributes.clone();
            let core = registry().core_schema(kind).id;
            resource.insert("schemas".into(), json!([core]));
            let revalidated = validate(kind, &Value::Object(resource))
                .map_err(|e| TestCaseError::fail(format!("{body}: {}", e.detail)))?;
            prop_assert_eq!(&revalidated.attributes, &outcome.attributes, "{}", body);
            prop_assert!(revalidated.password.is_none());
            prop_assert!(!outcome.attributes.contains_key("members"));
        }
    }
    Ok(())
}

/// A generated body as JSON text with a few characters deleted, replaced
/// or inserted: mostly broken JSON, sometimes JSON of a surprising shape.
fn mutated_text() -> impl Strategy<Value = String> {
    let edit = (any::<prop::sample::Index>(), any::<char>(), 0..3u8);
    (body(), prop::collection::vec(edit, 0..4)).prop_map(|(body, edits)| {
        let mut chars: Vec<char> = body.to_string().chars().collect();
        for (at, c, kind) in edits {
            let i = at.index(chars.len() + 1);
            match kind {
                0 if i < chars.len() => {
                    chars.remove(i);
                }
                1 if i < chars.len() => chars[i] = c,
                _ => chars.insert(i, c),
            }
        }
        chars.into_iter().collect()
    })
}

// The fuzz_ properties: `PROPTEST_CASES=1000000 cargo test --release --lib fuzz_`.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn fuzz_patch_arbitrary_bodies(body in body()) {
        check(ResourceKind::User, &ann(), &body)?;
        check(ResourceKind::Group, &group(), &body)?;
    }

    /// Text as a client sends it: what is JSON goes through the engine.
    #[test]
    fn fuzz_patch_arbitrary_text(text in prop_oneof![3 => mutated_text(), 1 => ".{0,200}"]) {
        if let Ok(body) = serde_json::from_str::<Value>(&text) {
            check(ResourceKind::User, &ann(), &body)?;
            check(ResourceKind::Group, &group(), &body)?;
        }
    }
}
