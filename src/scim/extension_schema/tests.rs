use serde_json::json;

use super::*;
use crate::scim::resource::coerce;

const URN: &str = "urn:ietf:params:scim:schemas:extension:CustomApp:2.0:User";

fn every_type() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": URN,
        "name": "CustomApp",
        "description": "Entra's custom app attributes",
        "resourceType": "user",
        "attributes": [
            {"name": "badge", "type": "string", "uniqueness": "server", "caseExact": true},
            {"name": "clearance", "type": "string", "canonicalValues": ["low", "high"]},
            {"name": "remote", "type": "boolean"},
            {"name": "rate", "type": "decimal"},
            {"name": "floor", "type": "integer", "required": true},
            {"name": "hired", "type": "dateTime", "mutability": "immutable"},
            {"name": "buddy", "type": "reference", "referenceTypes": ["User"]},
            {"name": "photo", "type": "binary", "returned": "request"},
            {"name": "desks", "type": "complex", "multiValued": true, "subAttributes": [
                {"name": "building", "type": "string", "required": true},
                {"name": "number", "type": "integer"},
            ]},
        ],
    })
}

#[test]
fn every_type_parses_and_its_document_reads_back_alike() {
    let ext = parse(&every_type()).unwrap();
    assert_eq!(ext.kind, ResourceKind::User);
    assert_eq!((ext.schema.id, ext.schema.name), (URN, "CustomApp"));
    let types: Vec<AttrType> = ext.schema.attributes.iter().map(|a| a.attr_type).collect();
    use AttrType::*;
    assert_eq!(
        types,
        [
            String, String, Boolean, Decimal, Integer, DateTime, Reference, Binary, Complex
        ]
    );
    let badge = ext.schema.attribute("BADGE").unwrap();
    assert_eq!(
        (badge.uniqueness, badge.case_exact),
        (Uniqueness::Server, true)
    );
    let clearance = ext.schema.attribute("clearance").unwrap();
    assert!(clearance.canonical_enforced);
    assert_eq!(clearance.canonical_values, ["low", "high"]);
    let hired = ext.schema.attribute("hired").unwrap();
    assert_eq!(hired.mutability, Mutability::Immutable);
    let desks = ext.schema.attribute("desks").unwrap();
    assert!(desks.multi_valued && desks.sub_attribute("building").unwrap().required);

    let doc = document(&ext);
    assert_eq!(doc["resourceType"], "User");
    assert_eq!(
        doc["attributes"][1]["canonicalValues"],
        json!(["low", "high"])
    );
    let again = parse(&doc).unwrap();
    assert_eq!(document(&again), doc);
}

#[test]
fn bad_definitions_are_refused_naming_what_is_wrong() {
    let with = |change: &dyn Fn(&mut Value)| {
        let mut doc = every_type();
        change(&mut doc);
        let err = parse(&doc).unwrap_err();
        assert_eq!(err.status, 400);
        err.detail
    };
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Change, &str)> = vec![
        (Box::new(|d| d["id"] = json!("CustomApp")), "must be a URN"),
        (Box::new(|d| d["id"] = json!("urn:x:y:")), "must be a URN"),
        (
            Box::new(|d| d["id"] = json!("urn:x y:User")),
            "must be a URN",
        ),
        (
            Box::new(|d| {
                d["id"] = json!("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            }),
            "scimhub's own",
        ),
        (
            Box::new(|d| d["resourceType"] = json!("Department")),
            "User or Group",
        ),
        (
            Box::new(|d| d["attributes"] = json!([])),
            "at least one attribute",
        ),
        (
            Box::new(|d| d["attributes"][0]["name"] = json!("2fa")),
            "\"2fa\"",
        ),
        (
            Box::new(|d| d["attributes"][0]["name"] = json!("Remote")),
            "defined twice",
        ),
        (
            Box::new(|d| d["attributes"][0]["type"] = json!("text")),
            "\"text\"",
        ),
        (
            Box::new(|d| d["attributes"][0]["mutability"] = json!("writeOnly")),
            "writeOnly",
        ),
        (
            Box::new(|d| d["attributes"][0]["returned"] = json!("sometimes")),
            "sometimes",
        ),
        (
            Box::new(|d| d["attributes"][2]["uniqueness"] = json!("server")),
            "uniqueness",
        ),
        (
            Box::new(|d| d["attributes"][2]["canonicalValues"] = json!(["yes"])),
            "canonicalValues",
        ),
        (
            Box::new(|d| d["attributes"][0]["referenceTypes"] = json!(["User"])),
            "referenceTypes",
        ),
        (
            Box::new(|d| d["attributes"][8]["subAttributes"] = json!([])),
            "needs subAttributes",
        ),
        (
            Box::new(|d| d["attributes"][8]["subAttributes"][0]["type"] = json!("complex")),
            "desks.building",
        ),
        (
            Box::new(|d| {
                d["attributes"][0]["subAttributes"] = json!([{"name": "x", "type": "string"}])
            }),
            "only complex",
        ),
        (
            Box::new(|d| d["attributes"][0]["shoeSize"] = json!(42)),
            "shoeSize",
        ),
        (
            Box::new(|d| d["attributes"][0]["name"] = json!("$ref")),
            "$ref",
        ),
    ];
    for (change, expected) in cases {
        let detail = with(change.as_ref());
        assert!(detail.contains(expected), "{expected:?} not in {detail:?}");
    }
}

#[test]
fn canonical_values_are_enforced_and_spelled_as_defined() {
    let ext = parse(&every_type()).unwrap();
    let clearance = ext.schema.attribute("clearance").unwrap();
    let path = format!("{URN}:clearance");
    assert_eq!(
        coerce(clearance, &json!("HIGH"), &path).unwrap(),
        Some(json!("high"))
    );
    let err = coerce(clearance, &json!("secret"), &path).unwrap_err();
    assert_eq!(err.status, 400);
    assert!(
        err.detail.contains(&path) && err.detail.contains("\"low\", \"high\""),
        "{}",
        err.detail
    );
}

#[test]
fn a_new_definition_drops_removed_and_retyped_values_only() {
    let old = parse(&every_type()).unwrap();
    let mut doc = every_type();
    let attrs = doc["attributes"].as_array_mut().unwrap();
    attrs.retain(|a| a["name"] != "photo");
    attrs[1]["canonicalValues"] = json!(["low", "mid", "high"]); // kept: same type
    attrs[2]["type"] = json!("string"); // remote: retyped
    attrs[7]["subAttributes"] = json!([{"name": "building", "type": "string"}]);
    attrs.push(json!({"name": "team", "type": "string"}));
    let new = parse(&doc).unwrap();
    let dropped = dropped(&old.schema, Some(&new.schema));
    let shown: Vec<String> = dropped.iter().map(Dropped::to_string).collect();
    assert_eq!(shown, ["remote", "photo", "desks.number"]);
    let gone: Vec<String> = undefined(&dropped, Some(&new.schema))
        .iter()
        .map(Dropped::to_string)
        .collect();
    assert_eq!(gone, ["photo", "desks.number"]);
    assert_eq!(super::dropped(&old.schema, None).len(), 9);
}

#[test]
fn strip_takes_out_exactly_the_dropped_values() {
    let dropped = vec![
        Dropped {
            attribute: "photo".into(),
            sub: None,
        },
        Dropped {
            attribute: "desks".into(),
            sub: Some("number".into()),
        },
    ];
    let mut attrs = json!({
        "userName": "ann",
        URN: {"photo": "aGk=", "badge": "B1", "desks": [{"number": 4}, {"building": "N", "number": 5}]},
    })
    .as_object()
    .unwrap()
    .clone();
    assert!(holds(&attrs, URN, &dropped));
    assert!(strip(&mut attrs, URN, &dropped));
    assert_eq!(
        Value::Object(attrs.clone()),
        json!({"userName": "ann", URN: {"badge": "B1", "desks": [{"building": "N"}]}})
    );
    assert!(!holds(&attrs, URN, &dropped));
    assert!(!strip(&mut attrs, URN, &dropped));

    let mut only = json!({"userName": "bob", URN: {"photo": "aGk="}})
        .as_object()
        .unwrap()
        .clone();
    assert!(strip(&mut only, URN, &dropped));
    assert_eq!(Value::Object(only), json!({"userName": "bob"}));
}
