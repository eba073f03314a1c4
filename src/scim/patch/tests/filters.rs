//! Value filters in paths (`emails[type eq "work"].value`) and `primary`.

use serde_json::json;

use super::users::{check_cases, check_errors};
use super::*;

#[test]
fn a_new_primary_value_clears_primary_on_its_siblings() {
    check_cases(vec![
        (
            ann(),
            json!([{"op": "add", "path": "emails", "value": [{"value": "b@x.example", "primary": true}]}]),
            ann_with(json!({"emails": [
                {"value": "ann@work.example", "type": "work"},
                {"value": "ann@home.example", "type": "home"},
                {"value": "b@x.example", "primary": true}
            ]})),
        ),
        (
            ann(),
            json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": "True"}]),
            ann_with(json!({"emails": [
                {"value": "ann@work.example", "type": "work"},
                {"value": "ann@home.example", "type": "home", "primary": true}
            ]})),
        ),
    ]);
    check_errors(vec![
        (
            json!([{"op": "replace", "path": "emails", "value": [
                {"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}
            ]}]),
            (
                400,
                "invalidValue",
                "operation 1: at most one value of 'emails' may be primary",
            ),
        ),
        (
            json!([{"op": "replace", "path": "emails[type pr].primary", "value": true}]),
            (
                400,
                "invalidValue",
                "operation 1: at most one value of 'emails' may be primary",
            ),
        ),
    ]);
}

#[test]
fn replace_through_a_filter_changes_the_matching_values() {
    let two_work = ann_with(json!({"emails": [
        {"value": "a@work.example", "type": "work"},
        {"value": "ann@home.example", "type": "home"},
        {"value": "b@work.example", "type": "WORK"}
    ]}));
    check_cases(vec![
        (
            ann(),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@work.example"}]),
            ann_with(json!({"emails": [
                {"value": "new@work.example", "type": "work", "primary": true},
                {"value": "ann@home.example", "type": "home"}
            ]})),
        ),
        // `type` is not case-exact, so both work addresses match.
        (
            two_work,
            json!([{"op": "replace", "path": "emails[type eq \"work\"].display", "value": "Work"}]),
            ann_with(json!({"emails": [
                {"value": "a@work.example", "type": "work", "display": "Work"},
                {"value": "ann@home.example", "type": "home"},
                {"value": "b@work.example", "type": "WORK", "display": "Work"}
            ]})),
        ),
        // A whole value is replaced, keeping what the filter pinned.
        (
            ann(),
            json!([{"op": "replace", "path": "emails[value eq \"ann@home.example\"]", "value": {"type": "other"}}]),
            ann_with(json!({"emails": [
                {"value": "ann@work.example", "type": "work", "primary": true},
                {"value": "ann@home.example", "type": "other"}
            ]})),
        ),
        // `add` through a filter merges into the matching values.
        (
            ann(),
            json!([{"op": "add", "path": "emails[type eq \"home\"]", "value": {"display": "Home"}}]),
            ann_with(json!({"emails": [
                {"value": "ann@work.example", "type": "work", "primary": true},
                {"value": "ann@home.example", "type": "home", "display": "Home"}
            ]})),
        ),
    ]);
}

#[test]
fn replace_through_a_filter_matching_nothing_creates_the_value() {
    check_cases(vec![
        (
            ann_with(json!({"emails": [{"value": "ann@home.example", "type": "home"}]})),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "x@y"}]),
            ann_with(json!({"emails": [
                {"value": "ann@home.example", "type": "home"},
                {"type": "work", "value": "x@y"}
            ]})),
        ),
        (
            ann_with(json!({"emails": null})),
            json!([{"op": "add", "path": "emails[type eq \"work\" and primary eq true].value", "value": "x@y"}]),
            ann_with(json!({"emails": [{"type": "work", "primary": true, "value": "x@y"}]})),
        ),
        (
            ann(),
            json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": {"locality": "Oslo"}}]),
            ann_with(json!({"addresses": [{"type": "work", "locality": "Oslo"}]})),
        ),
        // A created primary value takes primary from the others.
        (
            ann(),
            json!([{"op": "replace", "path": "emails[type eq \"other\"]", "value": {"value": "o@x", "primary": true}}]),
            ann_with(json!({"emails": [
                {"value": "ann@work.example", "type": "work"},
                {"value": "ann@home.example", "type": "home"},
                {"type": "other", "value": "o@x", "primary": true}
            ]})),
        ),
    ]);
}

#[test]
fn a_filtered_value_takes_one_object() {
    check_errors(vec![(
        json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": [{"value": "a@x"}]}]),
        (
            400,
            "invalidValue",
            "operation 1: 'emails[type eq \"work\"]' selects values one by one; its value must be one object, not an array",
        ),
    )]);
    // A bare value is the element's `value`.
    check_cases(vec![(
        ann(),
        json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": "w@x"}]),
        ann_with(json!({"emails": [
            {"type": "work", "value": "w@x"},
            {"value": "ann@home.example", "type": "home"}
        ]})),
    )]);
}

#[test]
fn replace_through_a_filter_that_cannot_describe_a_value_is_no_target() {
    check_errors(vec![
        (
            json!([{"op": "replace", "path": "emails[value co \"@nowhere\"].type", "value": "work"}]),
            (
                400,
                "noTarget",
                "operation 1: no value of 'emails' matches the filter in 'emails[value co \"@nowhere\"].type'",
            ),
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq \"a\" or type eq \"b\"].value", "value": "x"}]),
            (
                400,
                "noTarget",
                "operation 1: no value of 'emails' matches the filter in 'emails[(type eq \"a\" or type eq \"b\")].value'",
            ),
        ),
    ]);
}

#[test]
fn remove_through_a_filter_removes_only_the_matching_values() {
    check_cases(vec![
        (
            ann(),
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
            ann_with(
                json!({"emails": [{"value": "ann@work.example", "type": "work", "primary": true}]}),
            ),
        ),
        (
            ann(),
            json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]),
            ann_with(json!({"emails": [
                {"value": "ann@work.example", "type": "work"},
                {"value": "ann@home.example", "type": "home"}
            ]})),
        ),
        // The last value removed unassigns the attribute.
        (
            ann(),
            json!([{"op": "remove", "path": "emails[value ew \".example\"]"}]),
            ann_with(json!({"emails": null})),
        ),
        // Nothing matches: nothing to do, and no error (retries stay harmless).
        (
            ann(),
            json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]),
            ann(),
        ),
    ]);
}

#[test]
fn filters_must_name_sub_attributes_and_valid_comparisons() {
    check_errors(vec![
        (
            json!([{"op": "remove", "path": "emails[bogus eq \"x\"]"}]),
            (
                400,
                "invalidFilter",
                "operation 1: 'bogus' is not a sub-attribute of 'emails'",
            ),
        ),
        (
            json!([{"op": "remove", "path": "emails[primary gt false]"}]),
            (
                400,
                "invalidFilter",
                "operation 1: 'gt' cannot be used with 'primary' (a boolean attribute)",
            ),
        ),
    ]);
}
