//! `/Bulk` (RFC 7644 §3.7): request parsing, `bulkId` references and the
//! order that resolves them. Pure: executing the operations is the service's.

use super::json::member;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::error::{ScimError, ScimType};
use super::registry::ResourceKind;

pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
const PREFIX: &str = "bulkId:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMethod {
    Post,
    Put,
    Patch,
    Delete,
}

impl BulkMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            BulkMethod::Post => "POST",
            BulkMethod::Put => "PUT",
            BulkMethod::Patch => "PATCH",
            BulkMethod::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BulkOp {
    pub method: BulkMethod,
    pub bulk_id: Option<String>,
    /// An ETag the resource must still have (`If-Match`).
    pub version: Option<String>,
    pub path: String,
    pub data: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    pub fail_on_errors: Option<u64>,
    pub ops: Vec<BulkOp>,
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::invalid_syntax(detail)
}

/// Parses a BulkRequest; more than `max_operations` is 413 (RFC 7644 §3.7.4).
pub fn parse_bulk_request(body: &Value, max_operations: usize) -> Result<BulkRequest, ScimError> {
    let Value::Object(map) = body else {
        return Err(syntax("a BulkRequest must be a JSON object"));
    };
    let schemas_ok = member(map, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter().any(|u| {
                u.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(BULK_REQUEST))
            })
        });
    if !schemas_ok {
        return Err(syntax(format!("'schemas' must include \"{BULK_REQUEST}\"")));
    }
    let fail_on_errors =
        match member(map, "failOnErrors") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                ScimError::invalid_value("failOnErrors must be a positive integer")
            })?),
        };
    let Some(Value::Array(items)) = member(map, "Operations") else {
        return Err(syntax("'Operations' must be an array"));
    };
    if items.len() > max_operations {
        return Err(ScimError::payload_too_large(format!(
            "a bulk request may carry at most {max_operations} operations"
        )));
    }
    let mut ops = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let n = i + 1;
        let Value::Object(op) = item else {
            return Err(syntax(format!("operation {n} must be an object")));
        };
        let method = match member(op, "method")
            .and_then(Value::as_str)
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("POST") => BulkMethod::Post,
            Some("PUT") => BulkMethod::Put,
            Some("PATCH") => BulkMethod::Patch,
            Some("DELETE") => BulkMethod::Delete,
            _ => {
                return Err(syntax(format!(
                    "operation {n}: method must be POST, PUT, PATCH or DELETE"
                )));
            }
        };
        let text = |name: &str| member(op, name).and_then(Value::as_str).map(str::to_string);
        let path =
            text("path").ok_or_else(|| syntax(format!("operation {n}: 'path' is required")))?;
        let bulk_id = text("bulkId");
        if method == BulkMethod::Post && bulk_id.is_none() {
            return Err(syntax(format!("operation {n}: a POST needs a 'bulkId'")));
        }
        if let Some(b) = &bulk_id
            && !seen.insert(b.clone())
        {
            return Err(ScimError::invalid_value(format!(
                "operation {n}: bulkId \"{b}\" is used twice"
            )));
        }
        let data = member(op, "data").filter(|d| !d.is_null()).cloned();
        if method != BulkMethod::Delete && data.is_none() {
            return Err(syntax(format!(
                "operation {n}: 'data' is required for {}",
                method.as_str()
            )));
        }
        ops.push(BulkOp {
            method,
            bulk_id,
            version: text("version"),
            path,
            data,
        });
    }
    Ok(BulkRequest {
        fail_on_errors,
        ops,
    })
}

/// `/Users`, `/Groups/abc`: the resource type and the id (if any).
pub fn parse_target(path: &str) -> Result<(ResourceKind, Option<String>), ScimError> {
    // Endpoint names in any case and a trailing slash, as on the URL.
    let trimmed = path.trim().trim_start_matches('/');
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let (kind, id) = match trimmed.split_once('/') {
        Some((k, id)) => (k, Some(id.to_string())),
        None => (trimmed, None),
    };
    // Departments are refused here: their writes go to /Departments.
    let Some(kind) = ResourceKind::by_endpoint(kind).filter(|k| *k != ResourceKind::Department)
    else {
        return Err(ScimError::bad_request(
            ScimType::InvalidPath,
            format!("unknown bulk path \"{path}\""),
        ));
    };
    Ok((kind, id.filter(|i| !i.is_empty())))
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix(PREFIX) {
                out.push(id.to_string());
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The bulkIds an operation refers to (in its path or anywhere in its data).
pub fn references(op: &BulkOp) -> Vec<String> {
    let mut out = Vec::new();
    collect_refs(
        &Value::String(op.path.rsplit('/').next().unwrap_or_default().to_string()),
        &mut out,
    );
    if let Some(d) = &op.data {
        collect_refs(d, &mut out);
    }
    out
}

/// An order that runs every operation after the POSTs whose bulkIds it
/// uses (whatever the request order), and the operations caught in a cycle.
pub fn execution_order(ops: &[BulkOp]) -> (Vec<usize>, Vec<usize>) {
    let by_bulk_id: HashMap<&str, usize> = ops
        .iter()
        .enumerate()
        .filter_map(|(i, op)| op.bulk_id.as_deref().map(|b| (b, i)))
        .collect();
    let deps: Vec<Vec<usize>> = ops
        .iter()
        .enumerate()
        .map(|(i, op)| {
            references(op)
                .iter()
                .filter_map(|r| by_bulk_id.get(r.as_str()).copied())
                .filter(|j| *j != i || op.method != BulkMethod::Post)
                .collect()
        })
        .collect();
    let mut remaining: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
    for (i, ds) in deps.iter().enumerate() {
        for &j in ds {
            dependents[j].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..ops.len())
        .filter(|&i| remaining[i] == 0)
        .rev()
        .collect();
    let mut order = Vec::with_capacity(ops.len());
    while let Some(i) = ready.pop() {
        order.push(i);
        for &k in dependents[i].iter().rev() {
            remaining[k] -= 1;
            if remaining[k] == 0 {
                ready.push(k);
            }
        }
        // Keep request order among what is ready.
        ready.sort_unstable_by(|a, b| b.cmp(a));
    }
    let done: HashSet<usize> = order.iter().copied().collect();
    let cyclic = (0..ops.len()).filter(|i| !done.contains(i)).collect();
    (order, cyclic)
}

/// Replaces every `bulkId:X` with the id created for X. Returns the first
/// reference that has no id (its POST failed or does not exist).
pub fn substitute(value: &mut Value, created: &HashMap<String, String>) -> Result<(), String> {
    match value {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix(PREFIX) {
                *s = created.get(id).cloned().ok_or_else(|| id.to_string())?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|v| substitute(v, created)),
        Value::Object(map) => map.values_mut().try_for_each(|v| substitute(v, created)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(method: BulkMethod, bulk_id: Option<&str>, path: &str, data: Value) -> BulkOp {
        BulkOp {
            method,
            bulk_id: bulk_id.map(Into::into),
            version: None,
            path: path.into(),
            data: Some(data),
        }
    }

    #[test]
    fn references_resolve_in_dependency_order_and_cycles_are_found() {
        let ops = vec![
            op(
                BulkMethod::Post,
                Some("g"),
                "/Groups",
                json!({"members": [{"value": "bulkId:u"}]}),
            ),
            op(
                BulkMethod::Post,
                Some("u"),
                "/Users",
                json!({"userName": "a"}),
            ),
            op(
                BulkMethod::Post,
                Some("x"),
                "/Users",
                json!({"m": "bulkId:y"}),
            ),
            op(
                BulkMethod::Post,
                Some("y"),
                "/Users",
                json!({"m": "bulkId:x"}),
            ),
            op(BulkMethod::Patch, None, "/Users/bulkId:u", json!({})),
        ];
        let (order, cyclic) = execution_order(&ops);
        assert_eq!(order, vec![1, 0, 4]);
        assert_eq!(cyclic, vec![2, 3]);
    }

    #[test]
    fn substitution_fills_created_ids() {
        let mut v = json!({"members": [{"value": "bulkId:u"}], "x": "plain"});
        let created = HashMap::from([("u".to_string(), "id-1".to_string())]);
        substitute(&mut v, &created).unwrap();
        assert_eq!(v, json!({"members": [{"value": "id-1"}], "x": "plain"}));
        let mut missing = json!("bulkId:zz");
        assert_eq!(substitute(&mut missing, &created), Err("zz".to_string()));
    }

    #[test]
    fn requests_are_checked() {
        let ok = json!({"schemas": [BULK_REQUEST], "Operations": [{"method": "post", "bulkId": "a", "path": "/Users", "data": {}}]});
        assert_eq!(parse_bulk_request(&ok, 10).unwrap().ops.len(), 1);
        assert_eq!(parse_bulk_request(&ok, 0).unwrap_err().status, 413);
        let no_bulk_id = json!({"schemas": [BULK_REQUEST], "Operations": [{"method": "POST", "path": "/Users", "data": {}}]});
        assert_eq!(
            parse_bulk_request(&no_bulk_id, 10).unwrap_err().scim_type,
            Some(ScimType::InvalidSyntax)
        );
        assert!(parse_bulk_request(&json!({"Operations": []}), 10).is_err());
        assert_eq!(
            parse_target("/Groups/abc").unwrap(),
            (ResourceKind::Group, Some("abc".into()))
        );
        assert!(parse_target("/Widgets").is_err());
        // Tolerated like on the URL: any case, a trailing slash.
        assert_eq!(
            parse_target("/groups/abc/").unwrap(),
            (ResourceKind::Group, Some("abc".into()))
        );
        assert_eq!(parse_target("/USERS/").unwrap(), (ResourceKind::User, None));
    }
}
