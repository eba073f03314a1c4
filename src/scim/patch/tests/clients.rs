//! The exact bodies Microsoft Entra ID and Okta send (see shared/SCIM.md).

use serde_json::json;

use super::*;

fn user_after(body: Value) -> Value {
    match patch_body(ResourceKind::User, &ann(), &body) {
        Ok(outcome) => Value::Object(outcome.attributes),
        Err(e) => panic!("{body}: {}", e.detail),
    }
}

fn group_outcome(body: Value) -> PatchOutcome {
    match patch_body(ResourceKind::Group, &group(), &body) {
        Ok(outcome) => outcome,
        Err(e) => panic!("{body}: {}", e.detail),
    }
}

#[test]
fn entra_replace_work_email_and_family_name() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
        ]
    });
    assert_eq!(
        user_after(body),
        ann_with(json!({
            "name": {"givenName": "Ann", "familyName": "updatedFamilyName"},
            "emails": [
                {"value": "updatedEmail@microsoft.com", "type": "work", "primary": true},
                {"value": "ann@home.example", "type": "home"}
            ]
        }))
    );
}

#[test]
fn entra_replace_work_email_when_the_user_has_none() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "x@y"}
        ]
    });
    let current = ann_with(json!({"emails": null}));
    let after = patch_body(ResourceKind::User, &current, &body).unwrap();
    assert_eq!(
        Value::Object(after.attributes),
        ann_with(json!({"emails": [{"type": "work", "value": "x@y"}]}))
    );
}

#[test]
fn entra_disables_with_a_string_boolean() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
    });
    assert_eq!(user_after(body), ann_with(json!({"active": false})));
}

#[test]
fn entra_pathless_keys_are_paths() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "replace",
            "value": {
                "name.givenName": "A",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7"
            }
        }]
    });
    assert_eq!(
        user_after(body),
        ann_with(json!({
            "name": {"givenName": "A", "familyName": "Lee"},
            ENT: {"department": "R&D", "manager": {"value": "m1"}, "employeeNumber": "7"}
        }))
    );
}

#[test]
fn entra_adds_manager_as_a_bare_id() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "Add",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "value": "26118915-6090-4610-87e4-49d8ca9f808d"
        }]
    });
    assert_eq!(
        user_after(body),
        ann_with(json!({
            ENT: {"department": "R&D", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}
        }))
    );
}

#[test]
fn entra_adds_members_with_null_ref() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "Add",
            "path": "members",
            "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]
        }]
    });
    let outcome = group_outcome(body);
    assert_eq!(
        outcome.members,
        MemberChanges {
            remove_all: false,
            remove: vec![],
            add: vec![MemberValue {
                value: "f648f8d5ea4e4cd38e9c".into(),
                member_type: None
            }],
        }
    );
    assert_eq!(Value::Object(outcome.attributes), group());
}

#[test]
fn entra_removes_members_listed_in_value() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "Remove",
            "path": "members",
            "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]
        }]
    });
    assert_eq!(
        group_outcome(body).members,
        MemberChanges {
            remove_all: false,
            remove: vec!["f648f8d5ea4e4cd38e9c".into()],
            add: vec![],
        }
    );
}

#[test]
fn entra_renames_a_group() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "displayName", "value": "1879db59-updatedDisplayName"}]
    });
    let outcome = group_outcome(body);
    assert_eq!(
        Value::Object(outcome.attributes),
        json!({"displayName": "1879db59-updatedDisplayName", "externalId": "g-ext"})
    );
    assert!(outcome.members.is_empty());
}

#[test]
fn okta_deactivates_without_a_path() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]
    });
    assert_eq!(user_after(body), ann_with(json!({"active": false})));
}

#[test]
fn okta_renames_a_group_sending_its_id() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "replace",
            "value": {"id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "Test SCIMv2"}
        }]
    });
    let outcome = group_outcome(body);
    assert_eq!(
        Value::Object(outcome.attributes),
        json!({"displayName": "Test SCIMv2", "externalId": "g-ext"})
    );
    assert_eq!(outcome.changed, ["displayName"]);
}

#[test]
fn okta_pushes_member_additions_and_removals() {
    let add = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "add",
            "path": "members",
            "value": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}]
        }]
    });
    assert_eq!(
        group_outcome(add).members.add,
        [MemberValue {
            value: "23a35c27-23d3-4c03-b4c5-6443c09e7173".into(),
            member_type: None
        }]
    );
    let remove = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": "members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"}]
    });
    assert_eq!(
        group_outcome(remove).members.remove,
        ["89bb1940-b905-4575-9e7f-6f887cfb368e"]
    );
}
