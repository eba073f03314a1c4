//! Sorting (RFC 7644 §3.4.2.3): the value a resource sorts by, and a total
//! order. A multi-valued attribute sorts by its primary value, else its first;
//! strings fold case unless the attribute is case-exact; missing values sort
//! last ascending (first descending); ties break by id. The SQL ordering in
//! `store` follows exactly these rules.

use super::json::member_of;
use std::cmp::Ordering;

use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::filter::AttrPath;
use super::filter::eval::{fold, resolve};
use super::registry::ResourceKind;
use super::schema::AttrType;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortSpec {
    pub path: AttrPath,
    pub descending: bool,
}

/// A resource's sort key. Variants order as listed within one attribute;
/// `Null` (missing) sorts after every value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SortValue {
    Bool(bool),
    Number(f64),
    /// Milliseconds since the epoch.
    Time(i64),
    Text(String),
    Null,
}

impl SortValue {
    fn rank(&self) -> u8 {
        match self {
            SortValue::Bool(_) => 0,
            SortValue::Number(_) => 1,
            SortValue::Time(_) => 2,
            SortValue::Text(_) => 3,
            SortValue::Null => 4,
        }
    }

    pub fn cmp_value(&self, other: &SortValue) -> Ordering {
        match (self, other) {
            (SortValue::Bool(a), SortValue::Bool(b)) => a.cmp(b),
            (SortValue::Number(a), SortValue::Number(b)) => a.total_cmp(b),
            (SortValue::Time(a), SortValue::Time(b)) => a.cmp(b),
            (SortValue::Text(a), SortValue::Text(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// Where a resource stands in an ordering: its sort key and its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub value: SortValue,
    pub id: String,
}

impl Position {
    /// Order of two positions under `descending` (which reverses all of it).
    pub fn cmp_in(&self, other: &Position, descending: bool) -> Ordering {
        let ord = self
            .value
            .cmp_value(&other.value)
            .then_with(|| self.id.cmp(&other.id));
        if descending { ord.reverse() } else { ord }
    }
}

/// The value `resource` sorts by under `path`.
pub fn sort_value(kind: ResourceKind, resource: &Value, path: &AttrPath) -> SortValue {
    let Some(def) = resolve(kind, path, None) else {
        return SortValue::Null;
    };
    let container = match &path.uri {
        Some(uri)
            if !uri.eq_ignore_ascii_case(super::registry::registry().core_schema(kind).id) =>
        {
            member_of(resource, uri)
        }
        _ => Some(resource),
    };
    let Some(mut v) = container.and_then(|c| member_of(c, &path.name)) else {
        return SortValue::Null;
    };
    if let Value::Array(items) = v {
        let primary = items
            .iter()
            .find(|i| i.get("primary") == Some(&Value::Bool(true)));
        match primary.or(items.first()) {
            Some(first) => v = first,
            None => return SortValue::Null,
        }
    }
    let sub = path.sub.as_deref().or(v.is_object().then_some("value"));
    if let Some(sub) = sub {
        match member_of(v, sub) {
            Some(inner) => v = inner,
            None => return SortValue::Null,
        }
    }
    match (def.attr_type, v) {
        (AttrType::Boolean, Value::Bool(b)) => SortValue::Bool(*b),
        (AttrType::Integer | AttrType::Decimal, Value::Number(n)) => {
            n.as_f64().map_or(SortValue::Null, SortValue::Number)
        }
        (AttrType::DateTime, Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map_or(SortValue::Null, |t| SortValue::Time(t.timestamp_millis())),
        (_, Value::String(s)) => SortValue::Text(fold(s, def.case_exact)),
        _ => SortValue::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pos(v: SortValue, id: &str) -> Position {
        Position {
            value: v,
            id: id.into(),
        }
    }

    #[test]
    fn values_follow_the_rules() {
        let user = json!({
            "userName": "Bob", "emails": [{"value": "B@x"}, {"value": "a@x", "primary": true}],
            "meta": {"created": "2026-01-01T00:00:01.500Z"},
        });
        let k = ResourceKind::User;
        assert_eq!(
            sort_value(k, &user, &AttrPath::new("userName")),
            SortValue::Text("bob".into())
        );
        assert_eq!(
            sort_value(k, &user, &AttrPath::new("emails")),
            SortValue::Text("a@x".into())
        );
        assert_eq!(
            sort_value(k, &user, &AttrPath::with_sub("emails", "value")),
            SortValue::Text("a@x".into())
        );
        assert_eq!(
            sort_value(k, &user, &AttrPath::new("title")),
            SortValue::Null
        );
        assert_eq!(
            sort_value(k, &user, &AttrPath::with_sub("meta", "created")),
            SortValue::Time(1_767_225_601_500)
        );
    }

    #[test]
    fn missing_sorts_last_and_ties_break_by_id() {
        let a = pos(SortValue::Text("a".into()), "2");
        let b = pos(SortValue::Text("a".into()), "1");
        let n = pos(SortValue::Null, "0");
        let mut v = vec![n.clone(), a.clone(), b.clone()];
        v.sort_by(|x, y| x.cmp_in(y, false));
        assert_eq!(v, vec![b.clone(), a.clone(), n.clone()]);
        v.sort_by(|x, y| x.cmp_in(y, true));
        assert_eq!(v, vec![n, a, b]);
    }
}
