//! Looking up a JSON object's member the SCIM way: attribute names ignore
//! case (RFC 7643 §2.1). The exact spelling is tried first (the common case).

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
