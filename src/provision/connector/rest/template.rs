//! Filling a request template: placeholders in the path (percent-encoded)
//! and in the body (as given), and the mapped object put where the body
//! template asks for it.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

/// The values a template may name: `{id}`, `{member}`, `{value}`.
#[derive(Default)]
pub struct Values<'a> {
    pub id: Option<&'a str>,
    pub member: Option<&'a str>,
    pub value: Option<&'a str>,
}

impl Values<'_> {
    fn fill(&self, text: &str, encode: bool) -> String {
        let mut out = text.to_string();
        for (name, value) in [
            ("{id}", self.id),
            ("{member}", self.member),
            ("{value}", self.value),
        ] {
            if let Some(v) = value {
                let v = if encode {
                    utf8_percent_encode(v, NON_ALPHANUMERIC).to_string()
                } else {
                    v.to_string()
                };
                out = out.replace(name, &v);
            }
        }
        out
    }

    pub fn path(&self, template: &str) -> String {
        self.fill(template, true)
    }

    /// The body: the template filled, `"{object}"` replaced by `object`.
    pub fn body(&self, template: &Value, object: Option<&Value>) -> Value {
        match template {
            Value::String(s) if s == "{object}" => object.cloned().unwrap_or(Value::Null),
            Value::String(s) => Value::String(self.fill(s, false)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|i| self.body(i, object)).collect())
            }
            Value::Object(fields) => {
                let mut out = Map::new();
                for (k, v) in fields {
                    if k == "{object}" {
                        if let Some(Value::Object(o)) = object {
                            out.extend(o.iter().map(|(k, v)| (k.clone(), v.clone())));
                        }
                    } else {
                        out.insert(k.clone(), self.body(v, object));
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_are_encoded_and_bodies_take_the_object() {
        let v = Values {
            id: Some("a b/c"),
            member: Some("m1"),
            value: None,
        };
        assert_eq!(v.path("/users/{id}?m={member}"), "/users/a%20b%2Fc?m=m1");
        let object = json!({"name": "Ada", "email": "ada@example.com"});
        assert_eq!(
            v.body(&json!({"userid": "{id}", "{object}": true}), Some(&object)),
            json!({"userid": "a b/c", "name": "Ada", "email": "ada@example.com"})
        );
        assert_eq!(
            v.body(
                &json!({"user": "{object}", "ids": ["{member}"]}),
                Some(&object)
            ),
            json!({"user": object, "ids": ["m1"]})
        );
    }
}
