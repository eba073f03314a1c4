//! The PatchOp message: schemas, Operations, op names, limits.

use serde_json::json;

use super::*;

fn parse_err(body: Value) -> (u16, &'static str, String) {
    match parse_patch_request(&body, MAX_OPS) {
        Ok(ops) => panic!("{body} parsed: {ops:?}"),
        Err(e) => (e.status, e.scim_type.map_or("", |t| t.as_str()), e.detail),
    }
}

#[test]
fn op_names_ignore_case() {
    for name in [
        "add", "Add", "ADD", "Replace", "replace", "Remove", "rEmOvE",
    ] {
        let ops = parse_patch_request(
            &message(json!([{"op": name, "path": "title", "value": "x"}])),
            MAX_OPS,
        )
        .unwrap();
        assert_eq!(ops[0].op.as_str(), name.to_lowercase());
    }
}

#[test]
fn message_member_names_ignore_case() {
    let body = json!({
        "SCHEMAS": [PATCH_OP_SCHEMA.to_uppercase()],
        "operations": [{"OP": "replace", "Path": "title", "VALUE": "x"}]
    });
    let ops = parse_patch_request(&body, MAX_OPS).unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].value, Some(json!("x")));
}

#[test]
fn extra_schema_uris_are_tolerated() {
    let body = json!({
        "schemas": ["urn:example:custom", PATCH_OP_SCHEMA],
        "Operations": [{"op": "add", "path": "title", "value": "x"}]
    });
    assert!(parse_patch_request(&body, MAX_OPS).is_ok());
}

#[test]
fn schemas_must_include_patch_op() {
    let detail = format!("'schemas' must be an array that includes \"{PATCH_OP_SCHEMA}\"");
    let ops = json!([{"op": "add", "path": "title", "value": "x"}]);
    for body in [
        json!({"Operations": ops}),
        json!({"schemas": PATCH_OP_SCHEMA, "Operations": ops}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "Operations": ops}),
        json!({"schemas": [], "Operations": ops}),
    ] {
        assert_eq!(parse_err(body), (400, "invalidSyntax", detail.clone()));
    }
}

#[test]
fn operations_must_be_a_non_empty_array() {
    let schemas = json!([PATCH_OP_SCHEMA]);
    let not_array = (
        400,
        "invalidSyntax",
        "'Operations' must be an array of operations".to_string(),
    );
    assert_eq!(parse_err(json!({"schemas": schemas})), not_array);
    assert_eq!(
        parse_err(json!({"schemas": schemas, "Operations": {"op": "add"}})),
        not_array
    );
    assert_eq!(
        parse_err(json!({"schemas": schemas, "Operations": []})),
        (
            400,
            "invalidValue",
            "'Operations' must contain at least one operation".to_string()
        )
    );
    assert_eq!(
        parse_err(json!([])),
        (
            400,
            "invalidSyntax",
            "the request body must be a JSON object".to_string()
        )
    );
}

#[test]
fn more_than_max_operations_is_invalid_value() {
    let op = json!({"op": "add", "path": "title", "value": "x"});
    let ops = Value::Array(vec![op; MAX_OPS + 1]);
    assert_eq!(
        parse_err(message(ops)),
        (
            400,
            "invalidValue",
            "a PATCH request may carry at most 10 operations; this one has 11".to_string()
        )
    );
    let at_limit = Value::Array(vec![
        json!({"op": "add", "path": "title", "value": "x"});
        MAX_OPS
    ]);
    assert_eq!(
        parse_patch_request(&message(at_limit), MAX_OPS)
            .unwrap()
            .len(),
        MAX_OPS
    );
}

#[test]
fn malformed_operations_name_the_operation() {
    let cases = [
        (
            json!([{"op": "add", "path": "title", "value": "x"}, "remove"]),
            (
                400,
                "invalidSyntax",
                "operation 2: an operation must be a JSON object",
            ),
        ),
        (
            json!([{"op": "move", "path": "title"}]),
            (
                400,
                "invalidSyntax",
                "operation 1: 'op' must be \"add\", \"remove\" or \"replace\"",
            ),
        ),
        (
            json!([{"path": "title", "value": "x"}]),
            (
                400,
                "invalidSyntax",
                "operation 1: 'op' must be \"add\", \"remove\" or \"replace\"",
            ),
        ),
        (
            json!([{"op": "add", "path": 7, "value": "x"}]),
            (400, "invalidPath", "operation 1: 'path' must be a string"),
        ),
        (
            json!([{"op": "add", "path": "title"}]),
            (400, "invalidValue", "operation 1: 'add' needs a 'value'"),
        ),
        (
            json!([{"op": "Replace", "path": "title"}]),
            (
                400,
                "invalidValue",
                "operation 1: 'replace' needs a 'value'",
            ),
        ),
        (
            json!([{"op": "add", "path": "emails[type eq]", "value": "x"}]),
            (
                400,
                "invalidFilter",
                "operation 1: invalid filter at character 15: expected a space and a value after the operator, found \"]\"",
            ),
        ),
    ];
    for (ops, (status, scim_type, detail)) in cases {
        assert_eq!(
            parse_err(message(ops.clone())),
            (status, scim_type, detail.to_string()),
            "{ops}"
        );
    }
}

#[test]
fn remove_without_path_is_no_target() {
    for op in [
        json!({"op": "remove"}),
        json!({"op": "Remove", "path": "", "value": "x"}),
    ] {
        assert_eq!(
            parse_err(message(json!([op]))),
            (
                400,
                "noTarget",
                "operation 1: 'remove' needs a 'path' naming what to remove".to_string()
            )
        );
    }
}

#[test]
fn empty_or_null_path_means_no_path() {
    for path in [json!(null), json!(""), json!("  ")] {
        let ops = parse_patch_request(
            &message(json!([{"op": "replace", "path": path, "value": {"title": "x"}}])),
            MAX_OPS,
        )
        .unwrap();
        assert_eq!(ops[0].path, None);
    }
}
