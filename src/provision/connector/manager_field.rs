//! Systems with a plain manager field (a SQL column, an API's field): the
//! engines put a user's manager in the enterprise extension's
//! `manager.value` (the target's id of the manager); these move it to the
//! system's field on the way out and back on the way in, so a pushed state
//! and the state read back compare equal.

use serde_json::{Map, Value, json};

use crate::provision::plan::managers::{ENTERPRISE, manager_of};

/// `object` with the extension's manager moved to `field` (the extension
/// dropped); without a `field` the extension is only dropped.
pub fn outgoing(object: &Value, field: Option<&str>) -> Value {
    let Some(fields) = object.as_object() else {
        return object.clone();
    };
    let manager = manager_of(object);
    let mut out: Map<String, Value> = fields
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case(ENTERPRISE))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let had_extension = out.len() != fields.len();
    if let Some(field) = field
        && had_extension
    {
        out.insert(
            field.to_string(),
            manager.map_or(Value::Null, Value::String),
        );
    }
    Value::Object(out)
}

/// A stored object with its manager `field` also shown as the extension's
/// `manager.value`.
pub fn incoming(object: &mut Value, field: Option<&str>) {
    let Some(field) = field else {
        return;
    };
    let Some(fields) = object.as_object_mut() else {
        return;
    };
    let manager = match fields.get(field) {
        Some(Value::String(s)) if !s.is_empty() => json!({"manager": {"value": s}}),
        Some(Value::Number(n)) => json!({"manager": {"value": n.to_string()}}),
        _ => return,
    };
    fields.insert(ENTERPRISE.to_string(), manager);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manager_travels_as_a_field_and_comes_back_as_the_extension() {
        let mapped = json!({"login": "ada", ENTERPRISE: {"manager": {"value": "p-1"}}});
        let out = outgoing(&mapped, Some("boss"));
        assert_eq!(out, json!({"login": "ada", "boss": "p-1"}));
        let mut stored = json!({"login": "ada", "boss": "p-1", "id": "p-2"});
        incoming(&mut stored, Some("boss"));
        assert_eq!(manager_of(&stored).as_deref(), Some("p-1"));
        // No manager field: the extension is not sent.
        assert_eq!(outgoing(&mapped, None), json!({"login": "ada"}));
        // A user without a manager clears the field.
        let none = json!({"login": "ada", ENTERPRISE: {}});
        assert_eq!(
            outgoing(&none, Some("boss")),
            json!({"login": "ada", "boss": null})
        );
    }
}
