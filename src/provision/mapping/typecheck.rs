//! Does a mapping fit a target? Every rule's target attribute must be in
//! the target's published schemas (its core schema or an extension it
//! publishes), and the value the rule produces must fit that attribute's
//! type and multiplicity. Checked from the expression where it tells
//! (constants, functions, the source attribute's type in scimhub's
//! registry), and on real resources for what only a value can tell (a
//! computed string written into a dateTime). Pure.
//!
//! Attributes the identity base copies but the target lacks are warnings
//! (the file can `exclude` them); a rule written in the file that names a
//! missing attribute, and any type mismatch, is an error.

use std::fmt;
use std::sync::LazyLock;

use serde::Serialize;
use serde_json::Value;

use super::expr::{Expr, Func};
use super::path::{self, TargetPath, ValuePath};
use super::{ResourceMapping, Rule, eval, section_name};
use crate::provision::client::{PublishedAttribute, PublishedSchemas};
use crate::scim::ResourceKind;
use crate::scim::registry::registry;
use crate::scim::schema::{AttrType, AttributeDef, Mutability, type_name};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One rule that does not fit the target, named by its target path and
/// expression as written (both empty for a problem of the whole section).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeProblem {
    pub severity: Severity,
    /// `users` or `groups`.
    pub section: &'static str,
    pub target: String,
    pub value: String,
    pub message: String,
}

impl fmt::Display for TypeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.target.is_empty() {
            return write!(f, "{}: {}", self.section, self.message);
        }
        write!(
            f,
            "{} rule {} = {}: {}",
            self.section, self.target, self.value, self.message
        )
    }
}

/// A local resource the rules are tried on, with a name for messages.
pub struct Sample<'a> {
    pub label: String,
    pub resource: &'a Value,
}

/// The problems of `mapping` against `published`: first from the rules
/// alone, then from their values on `samples` (at most one problem a rule).
pub fn check(
    mapping: &ResourceMapping,
    published: &PublishedSchemas,
    samples: &[Sample<'_>],
) -> Vec<TypeProblem> {
    let kind = mapping.kind;
    let core = registry().core_schema(kind).id;
    let section = section_name(kind);
    if published.schema(core).is_none() {
        return vec![TypeProblem {
            severity: Severity::Warning,
            section,
            target: String::new(),
            value: String::new(),
            message: format!(
                "the target publishes no {core} schema, so the {section} rules cannot be checked"
            ),
        }];
    }
    let mut problems = Vec::new();
    for rule in &mapping.rules {
        let problem = |severity, message| TypeProblem {
            severity,
            section,
            target: rule.target.text.clone(),
            value: rule.source.clone(),
            message,
        };
        let slot = match resolve(kind, rule, published) {
            Resolved::Slot(slot) => slot,
            Resolved::Unchecked => continue,
            Resolved::Problem(severity, message) => {
                problems.push(problem(severity, message));
                continue;
            }
        };
        if let Some((severity, message)) = slot.issue.clone() {
            problems.push(problem(severity, message));
        }
        if let Some(message) = static_mismatch(kind, rule, &slot) {
            problems.push(problem(Severity::Error, message));
            continue;
        }
        let from_values = samples.iter().find_map(|s| {
            let v = eval::eval(&rule.expr, kind, s.resource);
            check_value(&v, slot.attr, slot.multi, &slot.label)
                .map(|m| format!("for {} {}: {m}", kind.as_str().to_lowercase(), s.label))
        });
        if let Some(message) = from_values {
            problems.push(problem(Severity::Error, message));
        }
    }
    problems
}

/// Where a rule writes in the target's schema.
struct Slot<'a> {
    attr: &'a PublishedAttribute,
    /// Whether the slot holds a list (a multi-valued attribute written whole).
    multi: bool,
    /// `attr` or `attr.sub`, for messages.
    label: String,
    /// Something worth saying that does not stop the type check.
    issue: Option<(Severity, String)>,
}

enum Resolved<'a> {
    Slot(Slot<'a>),
    /// The target publishes too little to check (no sub-attributes listed).
    Unchecked,
    Problem(Severity, String),
}

/// `externalId` is common to every resource (RFC 7643 §3.1), in no schema.
static EXTERNAL_ID: LazyLock<PublishedAttribute> = LazyLock::new(|| PublishedAttribute {
    name: "externalId".into(),
    attr_type: Some(AttrType::String),
    multi_valued: false,
    mutability: Mutability::ReadWrite,
    sub_attributes: Vec::new(),
});

fn a_type(attr: &PublishedAttribute) -> String {
    let name = attr.type_name();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    if attr.multi_valued {
        format!("a multi-valued {name}")
    } else if attr.attr_type.is_none() {
        name.to_string()
    } else {
        format!("{article} {name}")
    }
}

fn resolve<'a>(kind: ResourceKind, rule: &Rule, published: &'a PublishedSchemas) -> Resolved<'a> {
    let target: &TargetPath = &rule.target;
    // What the identity base copies may simply be unknown to the target.
    let missing = if rule.from_base {
        Severity::Warning
    } else {
        Severity::Error
    };
    let hint = if rule.from_base {
        format!(
            " (copied by the identity base; `exclude = [\"{}\"]` stops it)",
            target.text
        )
    } else {
        String::new()
    };
    let attr = match &target.uri {
        None if target.name.eq_ignore_ascii_case("externalId") => &*EXTERNAL_ID,
        uri => {
            let id = uri
                .as_deref()
                .unwrap_or_else(|| registry().core_schema(kind).id);
            let Some(schema) = published.schema(id) else {
                return Resolved::Problem(
                    missing,
                    format!("the target publishes no schema {id}{hint}"),
                );
            };
            let Some(attr) = schema.attribute(&target.name) else {
                return Resolved::Problem(
                    missing,
                    format!("the target has no attribute '{}'{hint}", target.name),
                );
            };
            attr
        }
    };
    let issue = (attr.mutability == Mutability::ReadOnly).then(|| {
        (
            missing,
            format!(
                "the target's '{}' is readOnly: the target ignores or refuses it{hint}",
                attr.name
            ),
        )
    });
    let Some(sub) = &target.sub else {
        return Resolved::Slot(Slot {
            attr,
            multi: attr.multi_valued,
            label: attr.name.clone(),
            issue,
        });
    };
    if attr.attr_type.is_some_and(|t| t != AttrType::Complex) {
        return Resolved::Problem(
            Severity::Error,
            format!(
                "the target's '{}' is {}: it has no sub-attribute '{sub}'",
                attr.name,
                a_type(attr)
            ),
        );
    }
    match (&target.element, attr.multi_valued) {
        (None, true) => {
            return Resolved::Problem(
                Severity::Error,
                format!(
                    "the target's '{0}' is multi-valued: name one element, e.g. {0}[type eq \"work\"].{sub}",
                    attr.name
                ),
            );
        }
        (Some(_), false) => {
            return Resolved::Problem(
                Severity::Error,
                format!(
                    "the target's '{}' is single-valued: drop the filter",
                    attr.name
                ),
            );
        }
        _ => {}
    }
    if attr.sub_attributes.is_empty() {
        return Resolved::Unchecked;
    }
    for (key, value) in target.element.iter().flatten() {
        let Some(sub_attr) = attr.sub_attribute(key) else {
            return Resolved::Problem(
                missing,
                format!("the target's '{}' has no sub-attribute '{key}'", attr.name),
            );
        };
        let label = format!("{}.{}", attr.name, sub_attr.name);
        if let Some(m) = check_value(value, sub_attr, false, &label) {
            return Resolved::Problem(Severity::Error, format!("its filter {m}"));
        }
    }
    match attr.sub_attribute(sub) {
        Some(sub_attr) => Resolved::Slot(Slot {
            attr: sub_attr,
            multi: sub_attr.multi_valued,
            label: format!("{}.{}", attr.name, sub_attr.name),
            issue,
        }),
        None => Resolved::Problem(
            missing,
            format!(
                "the target's '{}' has no sub-attribute '{sub}'{hint}",
                attr.name
            ),
        ),
    }
}

/// A value the expression can produce, as far as it tells without data.
#[derive(Debug, Clone)]
struct Shape {
    ty: AttrType,
    multi: bool,
    /// The scimhub attribute copied, when the value is one.
    source: Option<&'static AttributeDef>,
    /// A string made by a function: whether it is a dateTime only its value tells.
    computed: bool,
}

impl Shape {
    fn of(def: &'static AttributeDef, multi: bool) -> Self {
        Self {
            ty: def.attr_type,
            multi,
            source: Some(def),
            computed: false,
        }
    }

    fn text(multi: bool) -> Self {
        Self {
            ty: AttrType::String,
            multi,
            source: None,
            computed: true,
        }
    }

    fn describe(&self) -> String {
        let ty = type_name(self.ty);
        let what = if self.multi {
            format!("several {ty} values")
        } else if ty.starts_with(['a', 'e', 'i', 'o', 'u']) {
            format!("an {ty}")
        } else {
            format!("a {ty}")
        };
        match self.source {
            Some(def) => format!("{what} (scimhub's '{}')", def.name),
            None => what,
        }
    }
}

/// The value a path reads, typed from scimhub's registry.
fn read_shape(kind: ResourceKind, p: &ValuePath) -> Option<Shape> {
    let def = path::definition(kind, &p.attr)?;
    Some(match (&p.filter, p.sub()) {
        (Some(_), Some(sub)) => {
            let s = def.sub_attribute(sub)?;
            Shape::of(s, s.multi_valued)
        }
        (Some(_), None) => Shape::of(def, false),
        (None, Some(sub)) => {
            let s = def.sub_attribute(sub)?;
            Shape::of(s, def.multi_valued || s.multi_valued)
        }
        (None, None) => Shape::of(def, def.multi_valued),
    })
}

/// What a string function makes of its input (applied to each element of a list).
fn as_text(input: Vec<Shape>) -> Vec<Shape> {
    input
        .into_iter()
        .filter(|s| s.ty != AttrType::Complex)
        .map(|s| Shape::text(s.multi))
        .collect()
}

/// Every shape `expr` may produce (null is never written, so not listed).
/// Constant parts are evaluated: their value is known exactly.
fn infer(expr: &Expr, kind: ResourceKind) -> Vec<Shape> {
    if expr.paths().is_empty() {
        return value_shape(&eval::eval(expr, kind, &Value::Null));
    }
    let all = |args: &[Expr]| args.iter().flat_map(|a| infer(a, kind)).collect();
    match expr {
        Expr::Const(v) => value_shape(v),
        Expr::Path(p) => read_shape(kind, p).into_iter().collect(),
        Expr::Regex { input, .. } => as_text(infer(input, kind)),
        Expr::FormatDate { .. } | Expr::ParseDate { .. } => vec![Shape::text(false)],
        Expr::Phone { input, .. } => as_text(infer(input, kind)),
        Expr::Call(func, args) => match func {
            Func::Lower
            | Func::Upper
            | Func::Trim
            | Func::Replace
            | Func::Substring
            | Func::Collapse
            | Func::Title
            | Func::Email => as_text(args.first().map(|a| infer(a, kind)).unwrap_or_default()),
            Func::Concat | Func::Join => vec![Shape::text(false)],
            Func::Split => vec![Shape::text(true)],
            Func::Coalesce | Func::Default => all(args),
            Func::First => args
                .first()
                .map(|a| infer(a, kind))
                .unwrap_or_default()
                .into_iter()
                .map(|s| Shape { multi: false, ..s })
                .collect(),
            Func::If => all(args.get(1..).unwrap_or_default()),
            Func::Eq | Func::Not => vec![Shape {
                ty: AttrType::Boolean,
                multi: false,
                source: None,
                computed: false,
            }],
            // Compiled into their own variants by the parser.
            Func::RegexReplace | Func::FormatDate | Func::Phone | Func::ParseDate => Vec::new(),
        },
    }
}

/// The shape of a known value; strings count as computed (their content decides).
fn value_shape(v: &Value) -> Vec<Shape> {
    let scalar = |v: &Value| match v {
        Value::Bool(_) => Some(AttrType::Boolean),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(AttrType::Integer),
        Value::Number(_) => Some(AttrType::Decimal),
        Value::String(_) => Some(AttrType::String),
        Value::Object(_) => Some(AttrType::Complex),
        _ => None,
    };
    let (items, multi): (Vec<&Value>, bool) = match v {
        Value::Array(items) => (items.iter().collect(), true),
        one => (vec![one], false),
    };
    items
        .into_iter()
        .filter_map(scalar)
        .map(|ty| Shape {
            ty,
            multi,
            source: None,
            computed: true,
        })
        .collect()
}

/// Whether a value of type `from` is valid where `to` is published;
/// `None` when only the value can tell (a string into a dateTime).
fn compatible(from: AttrType, to: AttrType, computed: bool) -> Option<bool> {
    use AttrType::*;
    match (from, to) {
        (a, b) if a == b => Some(true),
        (Integer, Decimal) => Some(true),
        // All JSON strings.
        (DateTime | Reference | Binary, String) | (String, Reference | Binary) => Some(true),
        (String, DateTime) if computed => None,
        _ => Some(false),
    }
}

/// Why the rule cannot fit, when its expression alone shows it.
fn static_mismatch(kind: ResourceKind, rule: &Rule, slot: &Slot<'_>) -> Option<String> {
    if rule.expr.paths().is_empty() {
        let v = eval::eval(&rule.expr, kind, &Value::Null);
        return check_value(&v, slot.attr, slot.multi, &slot.label);
    }
    let to = slot.attr.attr_type?;
    infer(&rule.expr, kind).into_iter().find_map(|shape| {
        let target = format!("the target's '{}' is {}", slot.label, a_type(slot.attr));
        if shape.multi != slot.multi {
            return Some(format!("produces {}, but {target}", shape.describe()));
        }
        if compatible(shape.ty, to, shape.computed) == Some(false) {
            return Some(format!("produces {}, but {target}", shape.describe()));
        }
        if shape.ty == AttrType::Complex {
            return sub_mismatch(&shape, slot);
        }
        None
    })
}

/// A copied complex attribute whose sub-attributes the target types otherwise.
fn sub_mismatch(shape: &Shape, slot: &Slot<'_>) -> Option<String> {
    let source = shape.source?;
    source.sub_attributes.iter().find_map(|sub| {
        let theirs = slot.attr.sub_attribute(sub.name)?;
        let to = theirs.attr_type?;
        (compatible(sub.attr_type, to, false) == Some(false)).then(|| {
            format!(
                "'{}.{}' is a {} in scimhub but the target's '{}.{}' is {}",
                source.name,
                sub.name,
                type_name(sub.attr_type),
                slot.label,
                theirs.name,
                a_type(theirs)
            )
        })
    })
}

fn describe_value(v: &Value) -> String {
    const MAX: usize = 40;
    match v {
        Value::String(s) if s.chars().count() > MAX => {
            format!("the string {:?}…", s.chars().take(MAX).collect::<String>())
        }
        Value::String(s) => format!("the string {s:?}"),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::Array(items) => format!("a list of {} values", items.len()),
        Value::Object(_) => "an object".into(),
        Value::Null => "null".into(),
    }
}

fn is_date_time(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

/// Why `v` does not fit `attr` (as a list when `multi`); null always fits.
fn check_value(v: &Value, attr: &PublishedAttribute, multi: bool, label: &str) -> Option<String> {
    match (v, multi) {
        (Value::Null, _) => None,
        (Value::Array(items), true) => items.iter().find_map(|i| check_one(i, attr, label)),
        (Value::Array(_), false) => Some(format!(
            "produces {}, but the target's '{label}' takes one value",
            describe_value(v)
        )),
        (one, true) => Some(format!(
            "produces one value ({}), but the target's '{label}' is multi-valued",
            describe_value(one)
        )),
        (one, false) => check_one(one, attr, label),
    }
}

fn check_one(v: &Value, attr: &PublishedAttribute, label: &str) -> Option<String> {
    let fits = match attr.attr_type? {
        AttrType::Boolean => v.is_boolean(),
        AttrType::Integer => v.is_i64() || v.is_u64(),
        AttrType::Decimal => v.is_number(),
        AttrType::String | AttrType::Reference | AttrType::Binary => v.is_string(),
        AttrType::DateTime => v.as_str().is_some_and(is_date_time),
        AttrType::Complex => {
            let object = v.as_object()?;
            return object.iter().find_map(|(key, sub_value)| {
                let sub = attr.sub_attribute(key)?;
                let sub_label = format!("{label}.{}", sub.name);
                check_value(sub_value, sub, sub.multi_valued, &sub_label)
            });
        }
    };
    let mut single = attr.clone();
    single.multi_valued = false;
    (!fits).then(|| {
        format!(
            "produces {}, but the target's '{label}' is {}",
            describe_value(v),
            a_type(&single)
        )
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::provision::mapping::{Mapping, MappingFile};
    use crate::scim::registry::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

    /// A target publishing scimhub's own schemas, with `edit` applied to the User schema.
    fn published(edit: impl FnOnce(&mut Value)) -> PublishedSchemas {
        let reg = registry();
        let mut user = json!({"id": USER_SCHEMA, "attributes":
            reg.core_schema(ResourceKind::User).attributes.iter().map(|a| a.to_json()).collect::<Vec<_>>()});
        edit(&mut user);
        let ent = reg.schema(ENTERPRISE_USER_SCHEMA).unwrap();
        let group = reg.schema(GROUP_SCHEMA).unwrap();
        let schemas = json!([
            user,
            {"id": ent.id, "attributes": ent.attributes.iter().map(|a| a.to_json()).collect::<Vec<_>>()},
            {"id": group.id, "attributes": group.attributes.iter().map(|a| a.to_json()).collect::<Vec<_>>()},
        ]);
        PublishedSchemas::parse(&schemas).unwrap()
    }

    fn users(rules: &str) -> Mapping {
        let text = format!("[users]\nbase = \"none\"\n{rules}");
        MappingFile::load(&text).unwrap().1
    }

    fn rule(target: &str, value: &str) -> String {
        format!("[[users.rules]]\ntarget = {target:?}\nvalue = {value:?}\n")
    }

    fn problems(mapping: &Mapping, schemas: &PublishedSchemas) -> Vec<String> {
        check(&mapping.users, schemas, &[])
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn one_rule(target: &str, value: &str) -> Vec<String> {
        let m = users(&(rule("userName", "userName") + &rule(target, value)));
        problems(&m, &published(|_| {}))
    }

    #[test]
    fn the_identity_mapping_fits_scimhub_itself() {
        let schemas = published(|_| {});
        let m = Mapping::identity();
        assert_eq!(check(&m.users, &schemas, &[]), []);
        assert_eq!(check(&m.groups, &schemas, &[]), []);
    }

    #[test]
    fn a_constant_string_into_a_boolean_names_the_rule() {
        assert_eq!(
            one_rule("active", "\"yes\""),
            [
                r#"users rule active = "yes": produces the string "yes", but the target's 'active' is a boolean"#
            ]
        );
        assert_eq!(one_rule("active", "true"), Vec::<String>::new());
        assert_eq!(one_rule("active", "if(true, \"a\", false)").len(), 1);
    }

    #[test]
    fn types_are_inferred_from_functions_and_source_attributes() {
        let ok: [(&str, &str); 9] = [
            (
                "displayName",
                "concat(name.givenName, \" \", name.familyName)",
            ),
            ("active", "not(eq(userType, \"Contractor\"))"),
            ("active", "active"),
            ("nickName", "lower(userName)"),
            ("title", "coalesce(title, \"none\")"),
            ("profileUrl", "profileUrl"),
            ("emails[type eq \"work\"].value", "lower(userName)"),
            ("emails[type eq \"work\"].primary", "true"),
            ("emails", "emails"),
        ];
        for (target, value) in ok {
            assert_eq!(one_rule(target, value), Vec::<String>::new(), "{target}");
        }
        let bad: [(&str, &str, &str); 7] = [
            (
                "active",
                "lower(userName)",
                "produces a string, but the target's 'active' is a boolean",
            ),
            (
                "active",
                "userName",
                "produces a string (scimhub's 'userName'), but",
            ),
            (
                "nickName",
                "active",
                "a boolean (scimhub's 'active'), but the target's 'nickName' is a string",
            ),
            ("title", "emails.value", "produces several string values"),
            (
                "nickName",
                "split(userName, \"@\")",
                "several string values",
            ),
            (
                "emails",
                "userName",
                "the target's 'emails' is a multi-valued complex",
            ),
            (
                "emails[type eq \"work\"].primary",
                "userName",
                "'emails.primary' is a boolean",
            ),
        ];
        for (target, value, want) in bad {
            let got = one_rule(target, value);
            assert_eq!(got.len(), 1, "{target} = {value}: {got:?}");
            assert!(got[0].contains(want), "{target} = {value}: {}", got[0]);
            assert!(got[0].starts_with(&format!("users rule {target} = {value}: ")));
        }
    }

    #[test]
    fn attributes_the_target_lacks_or_types_otherwise_are_found() {
        let schemas = published(|user| {
            let attrs = user["attributes"].as_array_mut().unwrap();
            attrs.retain(|a| a["name"] != "nickName" && a["name"] != "x509Certificates");
            for a in attrs.iter_mut() {
                if a["name"] == "title" {
                    a["type"] = json!("dateTime");
                }
                if a["name"] == "userType" {
                    a["mutability"] = json!("readOnly");
                }
            }
        });
        let m = users(
            &(rule("userName", "userName")
                + &rule("nickName", "userName")
                + &rule("title", "lower(title)")
                + &rule("userType", "\"x\"")
                + &rule("urn:example:ext:1.0:User:badge", "userName")),
        );
        let got = problems(&m, &schemas);
        assert_eq!(got.len(), 3, "{got:#?}");
        assert!(got[0].ends_with("the target has no attribute 'nickName'"));
        assert!(got[1].contains("readOnly"));
        assert!(got[2].contains("publishes no schema urn:example:ext:1.0:User"));
        // A computed string into a dateTime: only values tell.
        let good = json!({"userName": "ann", "title": "2026-01-02T03:04:05Z"});
        let bad = json!({"userName": "bob", "title": "Engineer"});
        let samples = [
            Sample {
                label: "ann".into(),
                resource: &good,
            },
            Sample {
                label: "bob".into(),
                resource: &bad,
            },
        ];
        let with_values = check(&m.users, &schemas, &samples);
        let title = with_values.iter().find(|p| p.target == "title").unwrap();
        assert_eq!(title.severity, Severity::Error);
        assert_eq!(
            title.message,
            "for user bob: produces the string \"engineer\", but the target's 'title' is a dateTime"
        );
        // The identity base only warns about what the target lacks.
        let identity = check(&Mapping::identity().users, &schemas, &[]);
        let missing: Vec<_> = identity
            .iter()
            .filter(|p| p.message.contains("has no attribute"))
            .collect();
        assert_eq!(missing.len(), 2, "{identity:#?}");
        assert!(missing.iter().all(|p| p.severity == Severity::Warning));
        assert!(missing[0].message.contains("exclude"));
    }

    #[test]
    fn a_target_without_the_core_schema_cannot_be_checked() {
        let empty = PublishedSchemas::default();
        let got = check(&Mapping::identity().users, &empty, &[]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].severity, Severity::Warning);
    }
}
