//! The pieces of SCIM requests the connector builds: the filter that finds
//! an account by its matching key and member PATCH operations.

use serde_json::{Value, json};

use crate::provision::plan::MatchKey;

/// A SCIM filter string literal (JSON string escaping is the same).
pub fn literal(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// The SCIM filter that finds a target account by its matching key.
pub fn match_filter(key: &MatchKey, value: &str) -> Option<String> {
    let path = &key.path;
    match (&path.filter, &path.sub_after) {
        (None, _) => Some(format!("{} eq {}", path.attr, literal(value))),
        (Some(f), Some(sub)) => Some(format!(
            "{}[{f} and {sub} eq {}]",
            path.attr,
            literal(value)
        )),
        (Some(_), None) => None,
    }
}

/// PATCH operations adding and removing members by remote id.
pub fn member_ops(add: &[String], remove: &[String]) -> Vec<Value> {
    let mut ops: Vec<Value> = remove
        .iter()
        .map(|r| json!({"op": "remove", "path": format!("members[value eq {}]", literal(r))}))
        .collect();
    if !add.is_empty() {
        let values: Vec<Value> = add.iter().map(|r| json!({"value": r})).collect();
        ops.push(json!({"op": "add", "path": "members", "value": values}));
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_filters_quote_and_follow_value_paths() {
        let key = MatchKey::parse("userName").unwrap();
        assert_eq!(match_filter(&key, "a\"b").unwrap(), r#"userName eq "a\"b""#);
        let key = MatchKey::parse(r#"emails[type eq "work"].value"#).unwrap();
        let f = match_filter(&key, "x@y").unwrap();
        assert!(
            f.starts_with("emails[") && f.ends_with(r#"and value eq "x@y"]"#),
            "{f}"
        );
        crate::scim::filter::parse_filter(&f, Default::default()).unwrap();
    }

    #[test]
    fn member_ops_remove_each_and_add_in_one() {
        let ops = member_ops(&["r1".into(), "r2".into()], &["old".into()]);
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0]["path"], r#"members[value eq "old"]"#);
        assert_eq!(ops[1]["value"], json!([{"value": "r1"}, {"value": "r2"}]));
        assert!(member_ops(&[], &[]).is_empty());
    }
}
