//! add / replace / remove on User attributes.

use serde_json::json;

use super::*;

const USER: ResourceKind = ResourceKind::User;

pub(super) fn check_cases(cases: Vec<(Value, Value, Value)>) {
    for (current, ops, expected) in cases {
        assert_eq!(patched(USER, &current, ops.clone()), expected, "{ops}");
    }
}

pub(super) fn check_errors(cases: Vec<(Value, (u16, &str, &str))>) {
    for (ops, (status, scim_type, detail)) in cases {
        assert_eq!(
            refused(USER, &ann(), ops.clone()),
            (status, scim_type, detail.to_string()),
            "{ops}"
        );
    }
}

#[test]
fn add_and_replace_single_valued_attributes_set_them() {
    check_cases(vec![
        (
            ann(),
            json!([{"op": "add", "path": "title", "value": "CTO"}]),
            ann_with(json!({"title": "CTO"})),
        ),
        (
            ann_with(json!({"title": "CTO"})),
            json!([{"op": "add", "path": "title", "value": "CEO"}]),
            ann_with(json!({"title": "CEO"})),
        ),
        (
            ann(),
            json!([{"op": "replace", "path": "active", "value": false}]),
            ann_with(json!({"active": false})),
        ),
        (
            ann(),
            json!([{"op": "replace", "path": "USERNAME", "value": "ann@new.example"}]),
            ann_with(json!({"userName": "ann@new.example"})),
        ),
        (
            ann(),
            json!([{"op": "replace", "path": "externalId", "value": "E-1"}]),
            ann_with(json!({"externalId": "E-1"})),
        ),
        // Replacing with null unassigns; adding null changes nothing.
        (
            ann_with(json!({"title": "CTO"})),
            json!([{"op": "replace", "path": "title", "value": null}]),
            ann(),
        ),
        (
            ann(),
            json!([{"op": "add", "path": "title", "value": null}]),
            ann(),
        ),
    ]);
}

#[test]
fn pathless_values_are_maps_of_paths() {
    check_cases(vec![
        (
            ann(),
            json!([{"op": "replace", "value": {"active": false, "title": "CTO"}}]),
            ann_with(json!({"active": false, "title": "CTO"})),
        ),
        (
            ann(),
            json!([{"op": "add", "value": {
                "name.givenName": "Anna",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7",
                "emails[type eq \"work\"].value": "anna@work.example"
            }}]),
            ann_with(json!({
                "name": {"givenName": "Anna", "familyName": "Lee"},
                "emails": [
                    {"value": "anna@work.example", "type": "work", "primary": true},
                    {"value": "ann@home.example", "type": "home"}
                ],
                ENT: {"department": "R&D", "manager": {"value": "m1"}, "employeeNumber": "7"}
            })),
        ),
        // An extension URN whose value is an object: its keys are paths too,
        // and attributes it does not name stay.
        (
            ann(),
            json!([{"op": "replace", "value": {ENT: {"costCenter": "42", "manager.value": "m2"}}}]),
            ann_with(json!({
                ENT: {"department": "R&D", "manager": {"value": "m2"}, "costCenter": "42"}
            })),
        ),
        // `schemas`, readOnly keys (Okta sends `id`) are ignored, as on PUT.
        (
            ann(),
            json!([{"op": "replace", "value": {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "u1", "meta": {"version": "W/\"1\""}, "groups": [],
                "title": "CTO"
            }}]),
            ann_with(json!({"title": "CTO"})),
        ),
    ]);
}

#[test]
fn pathless_unknown_keys_are_ignored_and_reported() {
    let outcome = patch(
        USER,
        &ann(),
        json!([{"op": "add", "value": {
            "shoeSize": 42,
            "name.nickname": "x",
            "urn:example:custom:2.0:User:level": 3,
            "First Name": "Ann",
            "title": "CTO"
        }}]),
    )
    .unwrap();
    assert_eq!(
        Value::Object(outcome.attributes),
        ann_with(json!({"title": "CTO"}))
    );
    assert_eq!(
        outcome.ignored,
        [
            "shoeSize",
            "name.nickname",
            "urn:example:custom:2.0:User:level",
            "First Name"
        ]
    );
}

#[test]
fn pathless_value_must_be_an_object() {
    check_errors(vec![
        (
            json!([{"op": "add", "value": {"emails[type eq": "x"}}]),
            (
                400,
                "invalidFilter",
                "operation 1: invalid filter at character 15: expected a space and a value after the operator, found the end of the filter",
            ),
        ),
        (
            json!([{"op": "add", "path": ENT, "value": "x"}]),
            (
                400,
                "invalidValue",
                "operation 1: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' takes an object of its attributes",
            ),
        ),
        (
            json!([{"op": "replace", "value": "x"}]),
            (
                400,
                "invalidValue",
                "operation 1: without a 'path', 'value' must be an object of attribute names and values",
            ),
        ),
        (
            json!([{"op": "add", "value": [{"title": "x"}]}]),
            (
                400,
                "invalidValue",
                "operation 1: without a 'path', 'value' must be an object of attribute names and values",
            ),
        ),
    ]);
}

#[test]
fn add_to_multi_valued_appends_and_skips_exact_duplicates() {
    let phone = json!({"value": "+1 555", "type": "work"});
    check_cases(vec![
        (
            ann(),
            json!([{"op": "add", "path": "phoneNumbers", "value": [phone]}]),
            ann_with(json!({"phoneNumbers": [phone]})),
        ),
        (
            ann_with(json!({"phoneNumbers": [phone]})),
            json!([{"op": "add", "path": "phoneNumbers", "value": [
                {"type": "work", "value": "+1 555"},
                {"value": "+1 666", "type": "mobile"}
            ]}]),
            ann_with(json!({"phoneNumbers": [phone, {"value": "+1 666", "type": "mobile"}]})),
        ),
        // A single object is read as a one-value array.
        (
            ann(),
            json!([{"op": "add", "path": "emails", "value": {"value": "a@x.example"}}]),
            ann_with(json!({"emails": [
                {"value": "ann@work.example", "type": "work", "primary": true},
                {"value": "ann@home.example", "type": "home"},
                {"value": "a@x.example"}
            ]})),
        ),
    ]);
}

#[test]
fn add_and_replace_of_a_complex_attribute_merge_sub_attributes() {
    check_cases(vec![
        (
            ann(),
            json!([{"op": "add", "path": "name", "value": {"middleName": "J", "givenName": "Anna"}}]),
            ann_with(
                json!({"name": {"givenName": "Anna", "familyName": "Lee", "middleName": "J"}}),
            ),
        ),
        (
            ann(),
            json!([{"op": "replace", "path": "name", "value": {"familyName": "Li", "givenName": null}}]),
            ann_with(json!({"name": {"familyName": "Li"}})),
        ),
        (
            ann(),
            json!([{"op": "replace", "path": "name.givenName", "value": "Anna"}]),
            ann_with(json!({"name": {"givenName": "Anna", "familyName": "Lee"}})),
        ),
        (
            ann_with(json!({"name": null})),
            json!([{"op": "add", "path": "name.familyName", "value": "Lee"}]),
            ann_with(json!({"name": {"familyName": "Lee"}})),
        ),
    ]);
}

#[test]
fn replace_of_a_multi_valued_attribute_replaces_all_values() {
    check_cases(vec![(
        ann(),
        json!([{"op": "replace", "path": "emails", "value": [{"value": "new@x.example", "type": "other"}]}]),
        ann_with(json!({"emails": [{"value": "new@x.example", "type": "other"}]})),
    )]);
}

#[test]
fn remove_of_a_whole_attribute_or_sub_attribute() {
    check_cases(vec![
        (
            ann(),
            json!([{"op": "remove", "path": "emails"}]),
            ann_with(json!({"emails": null})),
        ),
        (ann(), json!([{"op": "remove", "path": "title"}]), ann()),
        (
            ann(),
            json!([{"op": "remove", "path": "name.givenName"}]),
            ann_with(json!({"name": {"familyName": "Lee"}})),
        ),
        (
            ann_with(json!({"name": {"givenName": "Ann"}})),
            json!([{"op": "remove", "path": "name.givenName"}]),
            ann_with(json!({"name": null})),
        ),
        (
            ann(),
            json!([
                {"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
                {"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}
            ]),
            ann_with(json!({ENT: null})),
        ),
        (
            ann(),
            json!([{"op": "remove", "path": ENT}]),
            ann_with(json!({ENT: null})),
        ),
        // A listed value of a multi-valued attribute.
        (
            ann(),
            json!([{"op": "remove", "path": "emails", "value": [{"value": "ann@home.example"}]}]),
            ann_with(
                json!({"emails": [{"value": "ann@work.example", "type": "work", "primary": true}]}),
            ),
        ),
    ]);
}

#[test]
fn read_only_targets_are_mutability_errors() {
    let read_only = |path: &str| {
        (
            json!([{"op": "replace", "path": path, "value": "x"}]),
            (
                400,
                "mutability",
                format!("operation 1: '{path}' is readOnly and cannot be changed"),
            ),
        )
    };
    for (ops, (status, scim_type, detail)) in [
        read_only("id"),
        read_only("meta"),
        read_only("meta.version"),
        read_only("groups"),
        read_only("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName"),
    ] {
        assert_eq!(
            refused(USER, &ann(), ops.clone()),
            (status, scim_type, detail),
            "{ops}"
        );
    }
    check_errors(vec![(
        json!([{"op": "remove", "path": "groups[value eq \"g1\"]"}]),
        (
            400,
            "mutability",
            "operation 1: 'groups[value eq \"g1\"]' is readOnly and cannot be changed",
        ),
    )]);
}

#[test]
fn unknown_or_ill_placed_paths_are_invalid_path() {
    check_errors(vec![
        (
            json!([{"op": "add", "path": "shoeSize", "value": 42}]),
            (
                400,
                "invalidPath",
                "operation 1: 'shoeSize' does not name an attribute of a User",
            ),
        ),
        (
            json!([{"op": "add", "path": "name.nickname", "value": "x"}]),
            (
                400,
                "invalidPath",
                "operation 1: 'name.nickname' does not name an attribute of a User",
            ),
        ),
        (
            json!([{"op": "add", "path": "members", "value": [{"value": "u1"}]}]),
            (
                400,
                "invalidPath",
                "operation 1: 'members' does not name an attribute of a User",
            ),
        ),
        (
            json!([{"op": "add", "path": "urn:example:custom:2.0:User:level", "value": 1}]),
            (
                400,
                "invalidPath",
                "operation 1: 'urn:example:custom:2.0:User:level' does not name an attribute of a User",
            ),
        ),
        (
            json!([{"op": "add", "path": "name[givenName eq \"Ann\"].familyName", "value": "x"}]),
            (
                400,
                "invalidPath",
                "operation 1: 'name' is not multi-valued; a [filter] selects values of multi-valued attributes only",
            ),
        ),
        (
            json!([{"op": "replace", "path": "emails.value", "value": "x"}]),
            (
                400,
                "invalidPath",
                "operation 1: 'emails.value' would change every value of 'emails'; select values with a filter such as emails[type eq \"work\"].value",
            ),
        ),
        (
            json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:core:2.0:User"}]),
            (
                400,
                "invalidPath",
                "operation 1: the core schema cannot be removed; name the attributes to remove",
            ),
        ),
    ]);
}

#[test]
fn wrong_types_are_invalid_value_and_entra_booleans_are_read() {
    check_errors(vec![
        (
            json!([{"op": "replace", "path": "active", "value": "yes"}]),
            (
                400,
                "invalidValue",
                "operation 1: 'active' must be a boolean",
            ),
        ),
        (
            json!([{"op": "replace", "path": "userName", "value": 5}]),
            (
                400,
                "invalidValue",
                "operation 1: 'userName' must be a string",
            ),
        ),
        (
            json!([{"op": "add", "path": "name.givenName", "value": true}]),
            (
                400,
                "invalidValue",
                "operation 1: 'name.givenName' must be a string",
            ),
        ),
        (
            json!([{"op": "add", "path": "emails", "value": [{"value": 5}]}]),
            (
                400,
                "invalidValue",
                "operation 1: 'emails.value' must be a string",
            ),
        ),
        (
            json!([{"op": "add", "path": "name", "value": 5}]),
            (
                400,
                "invalidValue",
                "operation 1: 'name' must be a JSON object",
            ),
        ),
        (
            json!([{"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": 7}}]),
            (
                400,
                "invalidValue",
                "operation 1: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber' must be a string",
            ),
        ),
    ]);
    check_cases(vec![
        (
            ann(),
            json!([{"op": "replace", "path": "active", "value": "False"}]),
            ann_with(json!({"active": false})),
        ),
        (
            ann_with(json!({"active": false})),
            json!([{"op": "replace", "value": {"active": "TRUE"}}]),
            ann(),
        ),
    ]);
}

#[test]
fn password_goes_to_the_outcome_never_the_attributes() {
    for ops in [
        json!([{"op": "replace", "path": "password", "value": "s3cret"}]),
        json!([{"op": "add", "value": {"password": "s3cret"}}]),
    ] {
        let outcome = patch(USER, &ann(), ops).unwrap();
        assert_eq!(outcome.password.as_deref(), Some("s3cret"));
        assert_eq!(Value::Object(outcome.attributes), ann());
        assert_eq!(outcome.changed, ["password"]);
    }
    check_errors(vec![
        (
            json!([{"op": "remove", "path": "password"}]),
            (
                400,
                "mutability",
                "operation 1: 'password' cannot be removed, only replaced",
            ),
        ),
        (
            json!([{"op": "replace", "path": "password", "value": 5}]),
            (
                400,
                "invalidValue",
                "operation 1: 'password' must be a string",
            ),
        ),
        (
            json!([{"op": "replace", "path": "password", "value": null}]),
            (
                400,
                "invalidValue",
                "operation 1: 'password' must be a string",
            ),
        ),
    ]);
}

#[test]
fn required_attributes_must_stay() {
    check_errors(vec![
        (
            json!([{"op": "remove", "path": "userName"}]),
            (
                400,
                "mutability",
                "'userName' is required and cannot be removed",
            ),
        ),
        (
            json!([{"op": "replace", "path": "userName", "value": null}]),
            (
                400,
                "mutability",
                "'userName' is required and cannot be removed",
            ),
        ),
        (
            json!([{"op": "replace", "path": "userName", "value": "  "}]),
            (
                400,
                "invalidValue",
                "'userName' is required and cannot be empty",
            ),
        ),
    ]);
    // Checked on the final state: removing and setting again is fine.
    check_cases(vec![(
        ann(),
        json!([
            {"op": "remove", "path": "userName"},
            {"op": "add", "path": "userName", "value": "ann2"}
        ]),
        ann_with(json!({"userName": "ann2"})),
    )]);
}

#[test]
fn a_failing_operation_leaves_no_partial_result() {
    let current = ann();
    let ops = json!([
        {"op": "replace", "path": "title", "value": "CTO"},
        {"op": "remove", "path": "emails"},
        {"op": "replace", "path": "active", "value": "maybe"}
    ]);
    let err = patch(USER, &current, ops).unwrap_err();
    assert_eq!(
        (err.status, err.scim_type, err.detail.as_str()),
        (
            400,
            Some(ScimType::InvalidValue),
            "operation 3: 'active' must be a boolean"
        )
    );
    assert_eq!(current, ann());
    // Only the failing operation is at fault.
    let first_two = json!([
        {"op": "replace", "path": "title", "value": "CTO"},
        {"op": "remove", "path": "emails"}
    ]);
    assert_eq!(
        patched(USER, &current, first_two),
        ann_with(json!({"title": "CTO", "emails": null}))
    );
}

#[test]
fn operations_apply_in_order() {
    check_cases(vec![(
        ann(),
        json!([
            {"op": "add", "path": "title", "value": "A"},
            {"op": "replace", "path": "title", "value": "B"},
            {"op": "remove", "path": "emails[type eq \"home\"]"},
            {"op": "add", "path": "emails", "value": [{"value": "n@x", "type": "home"}]}
        ]),
        ann_with(json!({
            "title": "B",
            "emails": [
                {"value": "ann@work.example", "type": "work", "primary": true},
                {"value": "n@x", "type": "home"}
            ]
        })),
    )]);
}

#[test]
fn changed_lists_the_attributes_that_differ_in_schema_order() {
    let outcome = patch(
        USER,
        &ann(),
        json!([
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m2"},
            {"op": "replace", "path": "active", "value": false},
            {"op": "replace", "path": "name.givenName", "value": "Ann"},
            {"op": "add", "path": "externalId", "value": "E"}
        ]),
    )
    .unwrap();
    assert_eq!(
        outcome.changed,
        [
            "externalId",
            "active",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
        ]
    );
    let unchanged = patch(
        USER,
        &ann(),
        json!([{"op": "replace", "path": "active", "value": true}]),
    );
    assert_eq!(unchanged.unwrap().changed, Vec::<String>::new());
}

#[test]
fn manager_as_a_bare_string_is_its_value() {
    check_cases(vec![(
        ann_with(json!({ENT: {"department": "R&D"}})),
        json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m9"}]),
        ann_with(json!({ENT: {"department": "R&D", "manager": {"value": "m9"}}})),
    )]);
}
