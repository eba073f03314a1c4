//! Paths into a JSON body: `meta.location`, `Resources[0].userName`,
//! `["urn:…:enterprise:2.0:User"].manager.value` (quote keys holding dots).

pub use crate::scim::json::member;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

pub fn parse(path: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut rest = path.trim();
    if rest.is_empty() {
        return Err("empty path".into());
    }
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("[\"") {
            let end = after.find("\"]").ok_or("unclosed [\"…\"]")?;
            segments.push(Segment::Key(after[..end].to_string()));
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').ok_or("unclosed [")?;
            let index = after[..end]
                .trim()
                .parse()
                .map_err(|_| format!("bad index [{}]", &after[..end]))?;
            segments.push(Segment::Index(index));
            rest = &after[end + 1..];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            if end == 0 {
                return Err(format!("empty segment in {path:?}"));
            }
            segments.push(Segment::Key(rest[..end].to_string()));
            rest = &rest[end..];
        }
        // A dot separates segments; it may not end the path.
        if let Some(after) = rest.strip_prefix('.') {
            if after.is_empty() || after.starts_with('.') {
                return Err(format!("empty segment in {path:?}"));
            }
            rest = after;
        }
    }
    Ok(segments)
}

pub fn lookup<'a>(value: &'a Value, segments: &[Segment]) -> Option<&'a Value> {
    segments.iter().try_fold(value, |v, s| match (s, v) {
        (Segment::Key(k), Value::Object(o)) => member(o, k),
        (Segment::Index(i), Value::Array(a)) => a.get(*i),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_keys_indexes_and_quoted_keys() {
        use Segment::*;
        assert_eq!(
            parse("Resources[0].userName").unwrap(),
            vec![Key("Resources".into()), Index(0), Key("userName".into())]
        );
        assert_eq!(
            parse("[\"urn:x:2.0:User\"].manager.value").unwrap(),
            vec![
                Key("urn:x:2.0:User".into()),
                Key("manager".into()),
                Key("value".into())
            ]
        );
        assert_eq!(
            parse("members[1].$ref").unwrap(),
            vec![Key("members".into()), Index(1), Key("$ref".into())]
        );
        for bad in ["", "a..b", "a.", "a[x]", "a[0", "[\"a"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn looks_up_ignoring_case_after_an_exact_miss() {
        let v = json!({"Resources": [{"userName": "a"}], "urn:x:2.0:User": {"d": 1}});
        let get = |p: &str| lookup(&v, &parse(p).unwrap()).cloned();
        assert_eq!(get("resources[0].USERNAME"), Some(json!("a")));
        assert_eq!(get("[\"urn:x:2.0:User\"].d"), Some(json!(1)));
        assert_eq!(get("Resources[1]"), None);
        assert_eq!(get("Resources.userName"), None);
    }
}
