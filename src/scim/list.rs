//! List responses and index paging (RFC 7644 §3.4.2.4).

use serde_json::{Value, json};

use super::error::ScimError;

pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// A requested page: 1-based `start_index`, `count` already clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub start_index: u64,
    pub count: u64,
}

impl PageRequest {
    /// Applies the RFC rules: startIndex < 1 means 1, a negative count means
    /// 0, a missing count means the default, and count never exceeds `max`.
    pub fn from_params(
        start_index: Option<&str>,
        count: Option<&str>,
        default_count: u64,
        max_count: u64,
    ) -> Result<Self, ScimError> {
        let parse = |name: &str, raw: Option<&str>| -> Result<Option<i64>, ScimError> {
            raw.map(|s| {
                s.trim()
                    .parse::<i64>()
                    .map_err(|_| ScimError::invalid_value(format!("'{name}' must be an integer")))
            })
            .transpose()
        };
        let start = parse("startIndex", start_index)?.unwrap_or(1).max(1) as u64;
        let count = match parse("count", count)? {
            None => default_count,
            Some(n) => n.max(0) as u64,
        };
        Ok(Self {
            start_index: start,
            count: count.min(max_count),
        })
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        self.start_index - 1
    }
}

/// A ListResponse. `Resources` is always there, also empty and with
/// `count=0` (RFC 7644 §3.4.2.4 lets it be left out then, but clients that
/// index into it unconditionally break on that).
pub fn list_response(total: u64, page: PageRequest, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total,
        "startIndex": page.start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// `list_response` as JSON text, from resources already rendered to JSON
/// text: the same bytes as `serde_json::to_vec(&list_response(..))`.
pub fn list_response_text(total: u64, page: PageRequest, resources: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + resources.iter().map(|r| r.len() + 1).sum::<usize>());
    out.extend_from_slice(b"{\"schemas\":[\"");
    out.extend_from_slice(LIST_RESPONSE_SCHEMA.as_bytes());
    out.extend_from_slice(
        format!(
            "\"],\"totalResults\":{total},\"startIndex\":{},\"itemsPerPage\":{},\"Resources\":[",
            page.start_index,
            resources.len()
        )
        .as_bytes(),
    );
    for (i, r) in resources.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(r);
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_response_text_is_the_list_response() {
        let page = PageRequest {
            start_index: 3,
            count: 10,
        };
        let a = json!({"id": "a", "x": [1, "ü\""]});
        let b = json!({"id": "b"});
        for items in [vec![], vec![a.clone()], vec![a, b]] {
            let texts: Vec<Vec<u8>> = items
                .iter()
                .map(|v| serde_json::to_vec(v).unwrap())
                .collect();
            assert_eq!(
                String::from_utf8(list_response_text(7, page, &texts)).unwrap(),
                serde_json::to_string(&list_response(7, page, items)).unwrap()
            );
        }
    }

    #[test]
    fn rfc_paging_rules() {
        let p = PageRequest::from_params(Some("0"), Some("-5"), 100, 1000).unwrap();
        assert_eq!(
            p,
            PageRequest {
                start_index: 1,
                count: 0
            }
        );
        let p = PageRequest::from_params(None, Some("5000"), 100, 1000).unwrap();
        assert_eq!(p.count, 1000);
        let p = PageRequest::from_params(Some("11"), None, 100, 1000).unwrap();
        assert_eq!((p.offset(), p.count), (10, 100));
        assert!(PageRequest::from_params(Some("x"), None, 100, 1000).is_err());
    }

    #[test]
    fn count_zero_still_carries_an_empty_resources_array() {
        let p = PageRequest {
            start_index: 1,
            count: 0,
        };
        let body = list_response(42, p, vec![]);
        assert_eq!(body["totalResults"], 42);
        assert_eq!(body["itemsPerPage"], 0);
        assert_eq!(body["Resources"], json!([]));
    }
}

/// The list parameters of a GET query string or a SearchRequest body
/// (RFC 7644 §3.4.3), as the client sent them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
    pub cursor: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

impl ListParams {
    /// From query pairs; names compare case-insensitively.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        Self {
            filter: get("filter"),
            sort_by: get("sortBy"),
            sort_order: get("sortOrder"),
            start_index: get("startIndex"),
            count: get("count"),
            cursor: get("cursor"),
            attributes: get("attributes"),
            excluded_attributes: get("excludedAttributes"),
        }
    }

    /// From a SearchRequest body.
    pub fn from_search_request(body: &Value) -> Result<Self, ScimError> {
        let Value::Object(map) = body else {
            return Err(ScimError::invalid_syntax(
                "a SearchRequest must be a JSON object",
            ));
        };
        let get = |name: &str| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let schemas_ok = get("schemas").and_then(Value::as_array).is_some_and(|s| {
            s.iter().any(|u| {
                u.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(SEARCH_REQUEST_SCHEMA))
            })
        });
        if !schemas_ok {
            return Err(ScimError::invalid_syntax(format!(
                "'schemas' must include \"{SEARCH_REQUEST_SCHEMA}\""
            )));
        }
        let text = |name: &str| -> Result<Option<String>, ScimError> {
            match get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(Value::Array(items)) => {
                    let names: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                    names.map(|n| Some(n.join(","))).ok_or_else(|| {
                        ScimError::invalid_value(format!("'{name}' must be a list of strings"))
                    })
                }
                Some(_) => Err(ScimError::invalid_value(format!(
                    "'{name}' has the wrong type"
                ))),
            }
        };
        Ok(Self {
            filter: text("filter")?,
            sort_by: text("sortBy")?,
            sort_order: text("sortOrder")?,
            start_index: text("startIndex")?,
            count: text("count")?,
            cursor: text("cursor")?,
            attributes: text("attributes")?,
            excluded_attributes: text("excludedAttributes")?,
        })
    }
}
