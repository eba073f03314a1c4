//! The PatchOp message (RFC 7644 §3.5.2): `schemas` and `Operations`.

use crate::scim::json::member;
use serde_json::{Map, Value};

use crate::scim::error::{ScimError, ScimType};
use crate::scim::path::{PatchPath, parse_path};

pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
}

impl Op {
    /// Entra sends "Add", "Replace", "Remove": compare ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        [
            ("add", Op::Add),
            ("remove", Op::Remove),
            ("replace", Op::Replace),
        ]
        .into_iter()
        .find(|(name, _)| s.eq_ignore_ascii_case(name))
        .map(|(_, op)| op)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Remove => "remove",
            Op::Replace => "replace",
        }
    }
}

/// One operation. `value` is `None` only for `remove` (the others need one).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: Op,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// Prefixes an error with the 1-based number of the operation it is about.
pub(super) fn in_operation(index: usize) -> impl Fn(ScimError) -> ScimError {
    move |e| ScimError {
        detail: format!("operation {}: {}", index + 1, e.detail),
        ..e
    }
}

/// Checks the message and parses every operation's path. More than
/// `max_operations` operations is 400 `invalidValue`: RFC 7644 defines
/// `tooMany` for filters whose results are too many to process, and 413 for
/// payloads, while here a limit on one value of the request was exceeded.
pub fn parse_patch_request(body: &Value, max_operations: usize) -> Result<Vec<PatchOp>, ScimError> {
    let Value::Object(body) = body else {
        return Err(ScimError::invalid_syntax(
            "the request body must be a JSON object",
        ));
    };
    check_schemas(body)?;
    let Some(Value::Array(operations)) = member(body, "Operations") else {
        return Err(ScimError::invalid_syntax(
            "'Operations' must be an array of operations",
        ));
    };
    if operations.is_empty() {
        return Err(ScimError::invalid_value(
            "'Operations' must contain at least one operation",
        ));
    }
    if operations.len() > max_operations {
        return Err(ScimError::invalid_value(format!(
            "a PATCH request may carry at most {max_operations} operations; this one has {}",
            operations.len()
        )));
    }
    operations
        .iter()
        .enumerate()
        .map(|(i, op)| parse_operation(op).map_err(in_operation(i)))
        .collect()
}

fn check_schemas(body: &Map<String, Value>) -> Result<(), ScimError> {
    let wanted = || {
        ScimError::invalid_syntax(format!(
            "'schemas' must be an array that includes \"{PATCH_OP_SCHEMA}\""
        ))
    };
    let Some(Value::Array(schemas)) = member(body, "schemas") else {
        return Err(wanted());
    };
    // Other URIs next to it are tolerated (some clients add their own).
    let found = schemas.iter().any(|s| {
        s.as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
    });
    if found { Ok(()) } else { Err(wanted()) }
}

fn parse_operation(op: &Value) -> Result<PatchOp, ScimError> {
    let Value::Object(op) = op else {
        return Err(ScimError::invalid_syntax(
            "an operation must be a JSON object",
        ));
    };
    let kind = member(op, "op")
        .and_then(Value::as_str)
        .and_then(Op::parse)
        .ok_or_else(|| {
            ScimError::invalid_syntax("'op' must be \"add\", \"remove\" or \"replace\"")
        })?;
    let path = match member(op, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(parse_path(s)?),
        Some(_) => {
            return Err(ScimError::bad_request(
                ScimType::InvalidPath,
                "'path' must be a string",
            ));
        }
    };
    let value = member(op, "value").cloned();
    match (kind, &path, &value) {
        (Op::Remove, None, _) => Err(ScimError::bad_request(
            ScimType::NoTarget,
            "'remove' needs a 'path' naming what to remove",
        )),
        (Op::Add | Op::Replace, _, None) => Err(ScimError::invalid_value(format!(
            "'{}' needs a 'value'",
            kind.as_str()
        ))),
        _ => Ok(PatchOp {
            op: kind,
            path,
            value,
        }),
    }
}
