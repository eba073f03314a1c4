//! `{{…}}` placeholders in case files.
//!
//! `{{run}}` is a random token fixed for one run of a case (unique names),
//! `{{uuid}}` a random UUID (ids no server has), `{{token}}` the read-write
//! token, `{{fill:N}}` N `x` characters (oversized bodies), and
//! `{{NAME.path}}` a value from a saved response body, optionally `+ N` or
//! `- N`. A string that is one placeholder and nothing else becomes the
//! value itself (a number stays a number); otherwise placeholders are
//! spliced into the string.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::path;

/// Largest `{{fill:N}}`, so a typo cannot exhaust memory.
const MAX_FILL: usize = 64 * 1024 * 1024;

/// The values placeholders refer to, for one run of one case.
#[derive(Debug, Clone)]
pub struct Vars {
    values: HashMap<String, Value>,
}

impl Vars {
    pub fn new(token: &str) -> Self {
        let uuid = uuid::Uuid::new_v4();
        let run = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        let values = HashMap::from([
            ("run".to_string(), Value::String(run)),
            ("uuid".to_string(), Value::String(uuid.to_string())),
            ("token".to_string(), Value::String(token.to_string())),
        ]);
        Self { values }
    }

    pub fn save(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_string(), value);
    }

    /// Renders every string (and object key) inside `value`.
    pub fn render(&self, value: &Value) -> Result<Value, String> {
        Ok(match value {
            Value::String(s) => self.render_value(s)?,
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.render(v))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(o) => {
                let mut out = Map::new();
                for (k, v) in o {
                    out.insert(self.render_str(k)?, self.render(v)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    /// A string that is exactly one placeholder becomes that value.
    fn render_value(&self, s: &str) -> Result<Value, String> {
        if let Some(inner) = s.strip_prefix("{{").and_then(|r| r.strip_suffix("}}"))
            && !inner.contains("{{")
            && !inner.contains("}}")
        {
            return self.eval(inner);
        }
        self.render_str(s).map(Value::String)
    }

    /// Splices every placeholder into `s`.
    pub fn render_str(&self, s: &str) -> Result<String, String> {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| format!("unclosed {{{{ in {s:?}"))?;
            match self.eval(&after[..end])? {
                Value::String(v) => out.push_str(&v),
                other => out.push_str(&other.to_string()),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn eval(&self, expr: &str) -> Result<Value, String> {
        let expr = expr.trim();
        if let Some(n) = expr.strip_prefix("fill:") {
            let n: usize = n
                .trim()
                .parse()
                .map_err(|_| format!("bad {{{{{expr}}}}}"))?;
            if n > MAX_FILL {
                return Err(format!("{{{{{expr}}}}} is over {MAX_FILL} bytes"));
            }
            return Ok(Value::String("x".repeat(n)));
        }
        let (reference, offset) = split_offset(expr)?;
        let segments = path::parse(reference).map_err(|e| format!("{{{{{expr}}}}}: {e}"))?;
        let Some((path::Segment::Key(name), rest)) = segments.split_first() else {
            return Err(format!("{{{{{expr}}}}} must start with a name"));
        };
        let value = self
            .values
            .get(name)
            .and_then(|v| path::lookup(v, rest))
            .filter(|v| !v.is_null())
            .ok_or_else(|| format!("no value for {{{{{expr}}}}}"))?;
        match offset {
            0 => Ok(value.clone()),
            n => value
                .as_i64()
                .and_then(|v| v.checked_add(n))
                .map(Value::from)
                .ok_or_else(|| format!("{{{{{expr}}}}}: {value} is not an integer")),
        }
    }
}

/// `a.b + 3` → ("a.b", 3); `a.b - 1` → ("a.b", -1); `a.b` → ("a.b", 0).
fn split_offset(expr: &str) -> Result<(&str, i64), String> {
    for (sign, op) in [(1, " + "), (-1, " - ")] {
        if let Some((left, right)) = expr.rsplit_once(op) {
            let n: i64 = right
                .trim()
                .parse()
                .map_err(|_| format!("bad number in {{{{{expr}}}}}"))?;
            return Ok((left.trim(), sign * n));
        }
    }
    Ok((expr, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_keep_types_or_splice() {
        let mut vars = Vars::new("tok");
        vars.save(
            "list",
            json!({"totalResults": 4, "Resources": [{"id": "u1"}]}),
        );
        assert_eq!(
            vars.render(&json!("{{list.totalResults + 2}}")).unwrap(),
            json!(6)
        );
        assert_eq!(
            vars.render(&json!("{{ list.totalResults - 1 }}")).unwrap(),
            json!(3)
        );
        assert_eq!(
            vars.render(&json!({"path": "/Users/{{list.Resources[0].id}}"}))
                .unwrap(),
            json!({"path": "/Users/u1"})
        );
        assert_eq!(vars.render_str("n={{list.totalResults}}").unwrap(), "n=4");
        assert_eq!(vars.render_str("Bearer {{token}}x").unwrap(), "Bearer tokx");
        assert_eq!(vars.render_str("{{fill:3}}").unwrap(), "xxx");
        let run = vars.render_str("{{run}}").unwrap();
        assert_eq!(run.len(), 12);
        assert_eq!(vars.render_str("a-{{run}}").unwrap(), format!("a-{run}"));
        assert!(vars.render_str("{{nope.id}}").is_err());
        assert!(vars.render_str("{{list.missing}}").is_err());
        assert!(vars.render_str("{{list").is_err());
    }
}
