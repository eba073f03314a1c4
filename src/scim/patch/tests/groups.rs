//! Group PATCH: members become a change description, never a list.

use serde_json::json;

use super::*;

const GROUP: ResourceKind = ResourceKind::Group;

fn user(id: &str) -> MemberValue {
    MemberValue {
        value: id.into(),
        member_type: None,
    }
}

fn typed(id: &str, t: MemberType) -> MemberValue {
    MemberValue {
        value: id.into(),
        member_type: Some(t),
    }
}

fn changes(ops: Value) -> MemberChanges {
    match patch(GROUP, &group(), ops.clone()) {
        Ok(outcome) => {
            assert_eq!(Value::Object(outcome.attributes), group(), "{ops}");
            outcome.members
        }
        Err(e) => panic!("{ops}: {}", e.detail),
    }
}

fn delta(remove_all: bool, remove: &[&str], add: Vec<MemberValue>) -> MemberChanges {
    MemberChanges {
        remove_all,
        remove: remove.iter().map(|s| s.to_string()).collect(),
        add,
    }
}

#[test]
fn add_members_lists_them_with_their_types() {
    assert_eq!(
        changes(json!([{"op": "add", "path": "members", "value": [
            {"value": "u1"},
            {"value": "g1", "type": "group", "display": "Ops", "$ref": "https://h/Groups/g1"},
            {"value": "u1", "type": "User"}
        ]}])),
        delta(
            false,
            &[],
            vec![
                typed("u1", MemberType::User),
                typed("g1", MemberType::Group)
            ]
        )
    );
    // One object or a bare id also name one member; path-less works too.
    assert_eq!(
        changes(json!([
            {"op": "add", "path": "members", "value": {"value": "u2"}},
            {"op": "add", "path": "members", "value": "u3"},
            {"op": "add", "value": {"members": [{"value": "u4"}]}}
        ])),
        delta(false, &[], vec![user("u2"), user("u3"), user("u4")])
    );
}

#[test]
fn remove_members_by_value_filter() {
    assert_eq!(
        changes(json!([{"op": "remove", "path": "members[value eq \"u1\"]"}])),
        delta(false, &["u1"], vec![])
    );
    assert_eq!(
        changes(
            json!([{"op": "remove", "path": "members[value eq \"u1\" or VALUE eq \"u2\" or value eq \"u1\"]"}])
        ),
        delta(false, &["u1", "u2"], vec![])
    );
}

/// A bare id where a member object is expected (`"value": "<id>"` meaning
/// `[{"value": "<id>"}]`), as older clients send it, in every operation.
#[test]
fn a_bare_string_is_a_member_id_in_every_operation() {
    for (ops, expected) in [
        (
            json!([{"op": "Add", "path": "members", "value": ["u1", "u2"]}]),
            delta(false, &[], vec![user("u1"), user("u2")]),
        ),
        (
            json!([{"op": "add", "value": {"members": "u5"}}]),
            delta(false, &[], vec![user("u5")]),
        ),
        (
            json!([{"op": "remove", "path": "members", "value": "u1"}]),
            delta(false, &["u1"], vec![]),
        ),
        (
            json!([{"op": "remove", "path": "members", "value": ["u1", {"value": "u2"}]}]),
            delta(false, &["u1", "u2"], vec![]),
        ),
        (
            json!([{"op": "replace", "path": "members", "value": "u3"}]),
            delta(true, &[], vec![user("u3")]),
        ),
    ] {
        assert_eq!(changes(ops.clone()), expected, "{ops}");
    }
    for blank in [json!(""), json!(["u1", " "])] {
        let ops = json!([{"op": "add", "path": "members", "value": blank}]);
        let err = patch(GROUP, &group(), ops.clone()).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue), "{ops}");
    }
}

#[test]
fn remove_members_listed_in_value() {
    assert_eq!(
        changes(
            json!([{"op": "remove", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}])
        ),
        delta(false, &["u1", "u2"], vec![])
    );
}

#[test]
fn remove_members_without_filter_or_value_removes_all() {
    assert_eq!(
        changes(json!([{"op": "remove", "path": "members"}])),
        delta(true, &[], vec![])
    );
}

#[test]
fn replace_members_sets_exactly_these() {
    assert_eq!(
        changes(
            json!([{"op": "replace", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}])
        ),
        delta(true, &[], vec![user("u1"), user("u2")])
    );
    assert_eq!(
        changes(json!([{"op": "replace", "path": "members", "value": []}])),
        delta(true, &[], vec![])
    );
}

#[test]
fn member_operations_fold_in_request_order() {
    let cases = [
        (
            json!([
                {"op": "add", "path": "members", "value": [{"value": "a"}]},
                {"op": "remove", "path": "members[value eq \"a\"]"}
            ]),
            delta(false, &["a"], vec![]),
        ),
        (
            json!([
                {"op": "remove", "path": "members[value eq \"a\"]"},
                {"op": "add", "path": "members", "value": [{"value": "a"}]}
            ]),
            delta(false, &[], vec![user("a")]),
        ),
        (
            json!([
                {"op": "add", "path": "members", "value": [{"value": "x"}]},
                {"op": "replace", "path": "members", "value": [{"value": "a"}]},
                {"op": "remove", "path": "members[value eq \"a\"]"},
                {"op": "add", "path": "members", "value": [{"value": "b"}]}
            ]),
            delta(true, &[], vec![user("b")]),
        ),
        (
            json!([
                {"op": "remove", "path": "members[value eq \"a\"]"},
                {"op": "remove", "path": "members"},
                {"op": "add", "path": "members", "value": [{"value": "c"}]}
            ]),
            delta(true, &[], vec![user("c")]),
        ),
    ];
    for (ops, expected) in cases {
        assert_eq!(changes(ops.clone()), expected, "{ops}");
    }
}

#[test]
fn member_filters_other_than_value_eq_are_refused() {
    let detail = "operation 1: members can only be selected by id: members[value eq \"id\"], \
                  optionally several joined with 'or'";
    for path in [
        "members[display eq \"Ann\"]",
        "members[value ne \"u1\"]",
        "members[value eq \"u1\" and type eq \"User\"]",
        "members[value pr]",
    ] {
        let ops = json!([{"op": "remove", "path": path}]);
        assert_eq!(
            refused(GROUP, &group(), ops),
            (400, "invalidFilter", detail.to_string()),
            "{path}"
        );
    }
}

#[test]
fn member_sub_attributes_cannot_change() {
    let detail = "operation 1: a member's value, type and $ref cannot be changed; \
                  remove the member and add it again";
    for ops in [
        json!([{"op": "replace", "path": "members.value", "value": "u2"}]),
        json!([{"op": "replace", "path": "members[value eq \"u1\"].type", "value": "Group"}]),
        json!([{"op": "remove", "path": "members[value eq \"u1\"].display"}]),
    ] {
        assert_eq!(
            refused(GROUP, &group(), ops.clone()),
            (400, "mutability", detail.to_string()),
            "{ops}"
        );
    }
    assert_eq!(
        refused(
            GROUP,
            &group(),
            json!([{"op": "add", "path": "members[value eq \"u1\"]", "value": {"value": "u1"}}])
        ),
        (
            400,
            "invalidPath",
            "operation 1: members are added with the path 'members' and removed with \
             'members[value eq \"id\"]'; a filtered add or replace is not supported"
                .to_string()
        )
    );
}

#[test]
fn bad_member_values_are_invalid_value() {
    let cases = [
        (
            json!([{"op": "add", "path": "members", "value": [{"display": "Ann"}]}]),
            "operation 1: every value of 'members' needs 'value'",
        ),
        (
            json!([{"op": "add", "path": "members", "value": [{"value": " "}]}]),
            "operation 1: every member needs a non-empty 'value' (the member's id)",
        ),
        (
            json!([{"op": "add", "path": "members", "value": [{"value": "u1", "type": "Robot"}]}]),
            "operation 1: member type \"Robot\" is not User or Group",
        ),
        (
            json!([{"op": "add", "path": "members", "value": [{"value": 5}]}]),
            "operation 1: 'members.value' must be a string",
        ),
    ];
    for (ops, detail) in cases {
        assert_eq!(
            refused(GROUP, &group(), ops.clone()),
            (400, "invalidValue", detail.to_string()),
            "{ops}"
        );
    }
}

#[test]
fn group_attributes_patch_like_user_attributes() {
    let outcome = patch(
        GROUP,
        &group(),
        json!([
            {"op": "replace", "path": "displayName", "value": "Platform"},
            {"op": "remove", "path": "externalId"},
            {"op": "add", "path": "members", "value": [{"value": "u1"}]}
        ]),
    )
    .unwrap();
    assert_eq!(
        Value::Object(outcome.attributes),
        json!({"displayName": "Platform"})
    );
    assert_eq!(outcome.changed, ["externalId", "displayName", "members"]);
    assert_eq!(
        refused(
            GROUP,
            &group(),
            json!([{"op": "remove", "path": "displayName"}])
        ),
        (
            400,
            "mutability",
            "'displayName' is required and cannot be removed".to_string()
        )
    );
}

#[test]
fn members_of_a_large_group_cost_nothing_to_describe() {
    // 20,000 ids in one replace: linear folding keeps this instant.
    let many: Vec<Value> = (0..20_000)
        .map(|i| json!({"value": format!("u{i}")}))
        .collect();
    let body = message(json!([
        {"op": "replace", "path": "members", "value": many},
        {"op": "remove", "path": "members", "value": [{"value": "u7"}]}
    ]));
    let outcome = patch_body(GROUP, &group(), &body).unwrap();
    assert!(outcome.members.remove_all);
    assert_eq!(outcome.members.add.len(), 19_999);
    assert!(outcome.members.remove.is_empty());
}
