//! PATCH engine tests: one rule per test, exact JSON and exact errors.

mod clients;
mod filters;
mod groups;
mod props;
mod request;
mod users;

use serde_json::{Map, Value, json};

use super::*;
use crate::scim::registry::ENTERPRISE_USER_SCHEMA as ENT;

pub(super) const MAX_OPS: usize = 10;

pub(super) fn message(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP_SCHEMA], "Operations": ops})
}

pub(super) fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// Parses and applies a whole PatchOp message.
pub(super) fn patch_body(
    kind: ResourceKind,
    current: &Value,
    body: &Value,
) -> Result<PatchOutcome, ScimError> {
    let ops = parse_patch_request(body, MAX_OPS)?;
    apply(kind, &object(current.clone()), &ops)
}

pub(super) fn patch(
    kind: ResourceKind,
    current: &Value,
    ops: Value,
) -> Result<PatchOutcome, ScimError> {
    patch_body(kind, current, &message(ops))
}

/// The attributes after a PATCH that must succeed.
pub(super) fn patched(kind: ResourceKind, current: &Value, ops: Value) -> Value {
    match patch(kind, current, ops.clone()) {
        Ok(outcome) => Value::Object(outcome.attributes),
        Err(e) => panic!("{ops}: {}", e.detail),
    }
}

/// The status, scimType and detail of a PATCH that must fail.
pub(super) fn refused(
    kind: ResourceKind,
    current: &Value,
    ops: Value,
) -> (u16, &'static str, String) {
    match patch(kind, current, ops.clone()) {
        Ok(outcome) => panic!("{ops} succeeded: {:?}", outcome.attributes),
        Err(e) => (e.status, e.scim_type.map_or("", |t| t.as_str()), e.detail),
    }
}

/// A stored user in canonical form.
pub(super) fn ann() -> Value {
    json!({
        "userName": "ann@example.com",
        "name": {"givenName": "Ann", "familyName": "Lee"},
        "emails": [
            {"value": "ann@work.example", "type": "work", "primary": true},
            {"value": "ann@home.example", "type": "home"}
        ],
        "active": true,
        ENT: {"department": "R&D", "manager": {"value": "m1"}}
    })
}

/// `ann()` with top-level attributes replaced (null removes).
pub(super) fn ann_with(changes: Value) -> Value {
    let mut user = object(ann());
    for (k, v) in object(changes) {
        if v.is_null() {
            user.remove(&k);
        } else {
            user.insert(k, v);
        }
    }
    Value::Object(user)
}

pub(super) fn group() -> Value {
    json!({"displayName": "Engineering", "externalId": "g-ext"})
}
