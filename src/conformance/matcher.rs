//! Matchers: an expected JSON value compared with an actual one.
//!
//! Plain values match as a subset: an object matches when each of its
//! members matches (other members are ignored), an array when each of its
//! elements matches some actual element (order ignored), `null` when the
//! value is missing or null, `[]` when it is missing or empty, and scalars by
//! equality. A one-member object whose key is an operator (`$eq`, `$len`, …)
//! applies that operator instead.

use serde_json::Value;

use super::path::member;

pub const OPERATORS: &[&str] = &[
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$len",
    "$prefix",
    "$suffix",
    "$contains",
    "$type",
    "$oneOf",
    "$not",
    "$exists",
];

/// The operator and its argument, when `expected` is an operator object.
fn operator(expected: &Value) -> Option<(&str, &Value)> {
    match expected {
        Value::Object(o) if o.len() == 1 => o
            .iter()
            .next()
            .filter(|(k, _)| OPERATORS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v)),
        _ => None,
    }
}

/// Catches unknown `$operators` and malformed arguments at load time
/// (`$ref` is a SCIM attribute name, not an operator).
pub fn validate(expected: &Value) -> Result<(), String> {
    match (operator(expected), expected) {
        (Some((op, arg)), _) => validate_op(op, arg),
        (None, Value::Object(o)) => {
            if let (1, Some(k)) = (o.len(), o.keys().next())
                && k.starts_with('$')
                && k != "$ref"
            {
                return Err(format!("unknown operator {k}"));
            }
            o.values().try_for_each(validate)
        }
        (None, Value::Array(a)) => a.iter().try_for_each(validate),
        _ => Ok(()),
    }
}

fn validate_op(op: &str, arg: &Value) -> Result<(), String> {
    let templated = arg.as_str().is_some_and(|s| s.contains("{{"));
    match op {
        "$gt" | "$gte" | "$lt" | "$lte" if !arg.is_number() && !templated => {
            Err(format!("{op} needs a number"))
        }
        "$prefix" | "$suffix" if !arg.is_string() => Err(format!("{op} needs a string")),
        "$type" => match arg.as_str() {
            Some("string" | "number" | "integer" | "boolean" | "array" | "object" | "null") => {
                Ok(())
            }
            _ => Err("$type needs string, number, integer, boolean, array, object or null".into()),
        },
        "$oneOf" => match arg {
            Value::Array(a) => a.iter().try_for_each(validate),
            _ => Err("$oneOf needs a list".into()),
        },
        "$exists" if !arg.is_boolean() => Err("$exists needs true or false".into()),
        _ => validate(arg),
    }
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 120 {
        let cut = (0..=117)
            .rev()
            .find(|i| s.is_char_boundary(*i))
            .unwrap_or(0);
        format!("{}...", &s[..cut])
    } else {
        s
    }
}

fn show_opt(v: Option<&Value>) -> String {
    v.map_or("nothing".into(), show)
}

/// `None` and `null` are both "no value" (RFC 7643 §2.5: unassigned).
fn assigned(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Exact equality, except that numbers compare by value (1 == 1.0).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Ok when `actual` matches `expected`; otherwise why not.
pub fn check(expected: &Value, actual: Option<&Value>) -> Result<(), String> {
    if let Some((op, arg)) = operator(expected) {
        return apply(op, arg, actual);
    }
    match (expected, assigned(actual)) {
        (Value::Null, None) => Ok(()),
        (Value::Null, Some(a)) => Err(format!("expected no value, got {}", show(a))),
        (Value::Array(e), None) if e.is_empty() => Ok(()),
        (_, None) => Err(format!("expected {}, got nothing", show(expected))),
        (Value::Object(e), Some(Value::Object(a))) => {
            for (k, ev) in e {
                check(ev, member(a, k)).map_err(|m| format!("{k}: {m}"))?;
            }
            Ok(())
        }
        (Value::Array(e), Some(Value::Array(a))) => {
            if e.is_empty() && !a.is_empty() {
                return Err(format!("expected an empty list, got {}", show_opt(actual)));
            }
            for (i, ev) in e.iter().enumerate() {
                if !a.iter().any(|av| check(ev, Some(av)).is_ok()) {
                    return Err(format!(
                        "no element matches [{i}] {} in {}",
                        show(ev),
                        show_opt(actual)
                    ));
                }
            }
            Ok(())
        }
        (_, Some(a)) if same(expected, a) => Ok(()),
        (_, Some(a)) => Err(format!("expected {}, got {}", show(expected), show(a))),
    }
}

fn apply(op: &str, arg: &Value, actual: Option<&Value>) -> Result<(), String> {
    let fail = |what: String| Err(format!("expected {what}, got {}", show_opt(actual)));
    let present = assigned(actual);
    match op {
        "$eq" if present.is_some_and(|a| same(arg, a)) || (arg.is_null() && present.is_none()) => {
            Ok(())
        }
        "$eq" => fail(format!("exactly {}", show(arg))),
        "$ne" if present.is_some_and(|a| same(arg, a)) => fail(format!("not {}", show(arg))),
        "$ne" => Ok(()),
        "$gt" | "$gte" | "$lt" | "$lte" => {
            let (Some(a), Some(b)) = (present.and_then(number), number(arg)) else {
                return fail(format!("a number {op} {}", show(arg)));
            };
            let ok = match op {
                "$gt" => a > b,
                "$gte" => a >= b,
                "$lt" => a < b,
                _ => a <= b,
            };
            if ok {
                Ok(())
            } else {
                fail(format!("{op} {}", show(arg)))
            }
        }
        "$len" => {
            let len = match present {
                None => 0,
                Some(Value::Array(a)) => a.len(),
                Some(Value::Object(o)) => o.len(),
                Some(Value::String(s)) => s.chars().count(),
                Some(_) => return fail("something with a length".into()),
            };
            check(arg, Some(&Value::from(len))).map_err(|m| format!("length: {m}"))
        }
        "$prefix" | "$suffix" => {
            let want = arg.as_str().unwrap_or_default();
            let ok = present.and_then(Value::as_str).is_some_and(|s| {
                if op == "$prefix" {
                    s.starts_with(want)
                } else {
                    s.ends_with(want)
                }
            });
            if ok {
                Ok(())
            } else {
                fail(format!("a string with {op} {}", show(arg)))
            }
        }
        "$contains" => {
            let ok = match (present, arg) {
                (Some(Value::String(s)), Value::String(want)) => s.contains(want.as_str()),
                (Some(Value::Array(items)), _) => items.iter().any(|i| check(arg, Some(i)).is_ok()),
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                fail(format!("something containing {}", show(arg)))
            }
        }
        "$type" => {
            let name = arg.as_str().unwrap_or_default();
            let ok = match (name, actual) {
                ("null", None | Some(Value::Null)) => true,
                ("string", Some(Value::String(_))) => true,
                ("number", Some(Value::Number(_))) => true,
                ("integer", Some(Value::Number(n))) => n.is_i64() || n.is_u64(),
                ("boolean", Some(Value::Bool(_))) => true,
                ("array", Some(Value::Array(_))) => true,
                ("object", Some(Value::Object(_))) => true,
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                fail(format!("a {name}"))
            }
        }
        "$oneOf" => {
            let options = arg.as_array().map(Vec::as_slice).unwrap_or_default();
            if options.iter().any(|o| check(o, actual).is_ok()) {
                Ok(())
            } else {
                fail(format!("one of {}", show(arg)))
            }
        }
        "$not" => match check(arg, actual) {
            Ok(()) => fail(format!("anything but {}", show(arg))),
            Err(_) => Ok(()),
        },
        "$exists" => match (arg.as_bool().unwrap_or(true), present.is_some()) {
            (true, true) | (false, false) => Ok(()),
            (true, false) => fail("a value".into()),
            (false, true) => fail("no value".into()),
        },
        _ => Err(format!("unknown operator {op}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(expected: Value, actual: Value) -> bool {
        check(&expected, Some(&actual)).is_ok()
    }

    #[test]
    fn plain_values_match_as_a_subset() {
        let user =
            json!({"userName": "a", "emails": [{"value": "x", "type": "work"}, {"value": "y"}]});
        assert!(ok(json!({"userName": "a"}), user.clone()));
        assert!(
            ok(json!({"username": "a"}), user.clone()),
            "names ignore case"
        );
        assert!(ok(
            json!({"emails": [{"value": "y"}, {"type": "work"}]}),
            user.clone()
        ));
        assert!(!ok(json!({"emails": [{"value": "z"}]}), user.clone()));
        assert!(
            !ok(json!({"userName": "A"}), user.clone()),
            "values are exact"
        );
        assert!(ok(json!({"password": null}), user.clone()));
        assert!(!ok(json!({"userName": null}), user.clone()));
        assert!(ok(json!({"groups": []}), user.clone()));
        assert!(!ok(json!({"emails": []}), user));
        assert!(ok(json!(1), json!(1.0)));
    }

    #[test]
    fn operators() {
        assert!(ok(json!({"$gte": 2}), json!(2)));
        assert!(!ok(json!({"$gt": 2}), json!(2)));
        assert!(ok(json!({"$lte": "3"}), json!(3)));
        assert!(ok(json!({"$len": 2}), json!([1, 2])));
        assert!(ok(json!({"$len": {"$gte": 1}}), json!("ab")));
        assert!(check(&json!({"$len": 0}), None).is_ok());
        assert!(ok(json!({"$prefix": "W/"}), json!("W/\"1\"")));
        assert!(ok(
            json!({"$suffix": "/Users/1"}),
            json!("http://h/Users/1")
        ));
        assert!(ok(json!({"$contains": "urn:a"}), json!(["urn:b", "urn:a"])));
        assert!(!ok(
            json!({"$contains": "urn:c"}),
            json!(["urn:b", "urn:a"])
        ));
        assert!(ok(json!({"$oneOf": [200, 204]}), json!(204)));
        assert!(ok(json!({"$not": {"$oneOf": [200, 204]}}), json!(404)));
        assert!(!ok(json!({"$eq": ["a"]}), json!(["a", "b"])));
        assert!(ok(json!({"$ne": "a"}), json!("b")));
        assert!(ok(json!({"$type": "integer"}), json!(3)));
        assert!(check(&json!({"$exists": false}), Some(&Value::Null)).is_ok());
        assert!(check(&json!({"$exists": true}), None).is_err());
        assert!(ok(json!({"$ref": "x"}), json!({"$ref": "x", "value": "1"})));
    }

    #[test]
    fn validation_catches_typos() {
        assert!(validate(&json!({"a": {"$gtee": 1}})).is_err());
        assert!(validate(&json!({"$gt": "x"})).is_err());
        assert!(validate(&json!({"$gt": "{{t.totalResults}}"})).is_ok());
        assert!(validate(&json!({"$type": "text"})).is_err());
        assert!(validate(&json!([{"$ref": "x"}])).is_ok());
    }
}
