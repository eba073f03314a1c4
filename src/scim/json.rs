//! JSON the SCIM way: member lookup ignoring case (attribute names ignore
//! case, RFC 7643 §2.1; the exact spelling is tried first), what counts as
//! present, and telling an explicit `null` from a missing key.

use serde_json::{Map, Value};

/// `name` in `object`, ignoring case.
pub fn member<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// `name` in `value` when it is an object, ignoring case.
pub fn member_of<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    member(value.as_object()?, name)
}

/// Null, "", [] and {} count as absent (as SCIM's `pr` does).
pub fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

/// A serde `deserialize_with` for `Option<Value>` fields: any written value,
/// `null` included, is `Some` (only a missing key, with `#[serde(default)]`, is `None`).
pub fn given<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    serde::Deserialize::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn exact_spelling_first_then_any_case() {
        let v = json!({"userName": "a", "USERNAME": "b", "Active": true});
        assert_eq!(member_of(&v, "userName"), Some(&json!("a")));
        assert_eq!(member_of(&v, "active"), Some(&json!(true)));
        assert_eq!(member_of(&v, "title"), None);
        assert_eq!(member_of(&json!([1]), "x"), None);
    }
}
