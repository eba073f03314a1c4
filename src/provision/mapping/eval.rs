//! Evaluation of a parsed expression over a source resource. Total: every
//! input gives a value (null when nothing sensible can be made), never an
//! error or a panic, so one odd record cannot stop a sync run.

use serde_json::Value;

use super::cleanse;
use super::expr::{Expr, Func};
use super::path;
use crate::scim::ResourceKind;
use crate::scim::json::present;

/// The text of a scalar (strings, numbers, booleans); `None` otherwise.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty() && !s.eq_ignore_ascii_case("false"),
        other => present(other),
    }
}

/// Applies a string function to a scalar, or to each element of an array.
fn map_text(v: Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.into_iter().map(|i| map_text(i, f)).collect()),
        other => text(&other).map_or(Value::Null, |s| Value::String(f(&s))),
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn substring(s: &str, start: i64, len: Option<i64>) -> String {
    let start = usize::try_from(start.max(0)).unwrap_or(usize::MAX);
    let chars = s.chars().skip(start);
    match len {
        Some(n) => chars
            .take(usize::try_from(n.max(0)).unwrap_or(usize::MAX))
            .collect(),
        None => chars.collect(),
    }
}

fn format_date(v: &Value, format: &str) -> Value {
    use std::fmt::Write;
    let Some(s) = v.as_str() else {
        return Value::Null;
    };
    let formatted = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        t.format(format)
    } else if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        // A plain date has no time: formatting one would fail, so it gets midnight.
        return match d.and_hms_opt(0, 0, 0) {
            Some(t) => format_with(|out| write!(out, "{}", t.and_utc().format(format))),
            None => Value::Null,
        };
    } else {
        return Value::Null;
    };
    format_with(|out| write!(out, "{formatted}"))
}

/// chrono reports some format/value mismatches only when writing.
fn format_with(f: impl FnOnce(&mut String) -> std::fmt::Result) -> Value {
    let mut out = String::new();
    match f(&mut out) {
        Ok(()) => Value::String(out),
        Err(_) => Value::Null,
    }
}

pub fn eval(expr: &Expr, kind: ResourceKind, source: &Value) -> Value {
    match expr {
        Expr::Const(v) => v.clone(),
        Expr::Path(p) => path::read(kind, source, p),
        Expr::Regex {
            input,
            pattern,
            replacement,
        } => map_text(eval(input, kind, source), &|s| {
            pattern.replace_all(s, replacement.as_str()).into_owned()
        }),
        Expr::FormatDate { input, format } => format_date(&eval(input, kind, source), format),
        // A number that cannot be read stays as written (trimmed): intake
        // validation refuses it with the reason, instead of losing it.
        Expr::Phone { input, region } => map_text(eval(input, kind, source), &|s| {
            cleanse::to_e164(s, *region).unwrap_or_else(|| s.trim().to_string())
        }),
        Expr::ParseDate { input, format } => match text(&eval(input, kind, source)) {
            Some(s) => {
                cleanse::parse_date(&s, format.as_deref()).map_or(Value::Null, Value::String)
            }
            None => Value::Null,
        },
        Expr::Call(func, args) => call(*func, args, kind, source),
    }
}

fn call(func: Func, args: &[Expr], kind: ResourceKind, source: &Value) -> Value {
    let arg = |i: usize| args.get(i).map_or(Value::Null, |e| eval(e, kind, source));
    match func {
        Func::Lower => map_text(arg(0), &|s| s.to_lowercase()),
        Func::Upper => map_text(arg(0), &|s| s.to_uppercase()),
        Func::Trim => map_text(arg(0), &|s| s.trim().to_string()),
        Func::Collapse => map_text(arg(0), &cleanse::collapse_whitespace),
        Func::Title => map_text(arg(0), &cleanse::title_case),
        Func::Email => map_text(arg(0), &cleanse::normalize_email),
        Func::First => match arg(0) {
            Value::Array(items) => items.into_iter().find(present).unwrap_or(Value::Null),
            other => other,
        },
        Func::Concat => {
            let parts: Vec<Value> = (0..args.len()).map(arg).collect();
            if parts.iter().all(Value::is_null) {
                return Value::Null;
            }
            Value::String(parts.iter().filter_map(text).collect())
        }
        Func::Join => {
            let sep = text(&arg(1)).unwrap_or_default();
            match arg(0) {
                Value::Array(items) => {
                    let parts: Vec<String> = items.iter().filter_map(text).collect();
                    if parts.is_empty() {
                        Value::Null
                    } else {
                        Value::String(parts.join(&sep))
                    }
                }
                other => text(&other).map_or(Value::Null, Value::String),
            }
        }
        Func::Split => {
            let Some(s) = text(&arg(0)) else {
                return Value::Null;
            };
            let sep = text(&arg(1)).unwrap_or_default();
            if sep.is_empty() {
                return Value::Array(vec![Value::String(s)]);
            }
            Value::Array(s.split(&sep).map(|p| Value::String(p.into())).collect())
        }
        Func::Replace => {
            let from = text(&arg(1)).unwrap_or_default();
            let to = text(&arg(2)).unwrap_or_default();
            map_text(arg(0), &|s| {
                if from.is_empty() {
                    s.to_string()
                } else {
                    s.replace(&from, &to)
                }
            })
        }
        Func::Substring => {
            let Some(start) = int(&arg(1)) else {
                return Value::Null;
            };
            let len = if args.len() > 2 { int(&arg(2)) } else { None };
            if args.len() > 2 && len.is_none() {
                return Value::Null;
            }
            map_text(arg(0), &|s| substring(s, start, len))
        }
        Func::Coalesce | Func::Default => (0..args.len())
            .map(arg)
            .find(present)
            .unwrap_or(Value::Null),
        Func::If => {
            if truthy(&arg(0)) {
                arg(1)
            } else {
                arg(2)
            }
        }
        Func::Eq => Value::Bool(arg(0) == arg(1)),
        Func::Not => Value::Bool(!truthy(&arg(0))),
        // Compiled into their own variants by the parser.
        Func::RegexReplace | Func::FormatDate | Func::Phone | Func::ParseDate => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::mapping::expr::parse;
    use proptest::prelude::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "userName": "  Ann.Lee@Example.com ",
            "active": false,
            "name": {"givenName": "Ann", "familyName": "Lee"},
            "emails": [{"value": "ann@work.example", "type": "work"}, {"value": "a@home", "type": "home"}],
            "phoneNumbers": [],
            "title": "",
            "meta": {"created": "2026-03-04T05:06:07+02:00"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "employeeNumber": "00042", "department": "R&D"
            }
        })
    }

    fn ev(s: &str) -> Value {
        eval(&parse(s).unwrap(), ResourceKind::User, &user())
    }

    #[test]
    fn functions_give_exact_outputs() {
        let cases = [
            ("lower(trim(userName))", json!("ann.lee@example.com")),
            ("upper(name.givenName)", json!("ANN")),
            ("lower(emails.value)", json!(["ann@work.example", "a@home"])),
            (
                "concat(name.givenName, \" \", name.familyName)",
                json!("Ann Lee"),
            ),
            ("concat(nickName, title)", json!("")),
            ("concat(nickName)", Value::Null),
            ("concat(\"n=\", 42, \"/\", true)", json!("n=42/true")),
            (
                "join(emails.value, \";\")",
                json!("ann@work.example;a@home"),
            ),
            ("join(phoneNumbers.value, \";\")", Value::Null),
            ("join(name.givenName, \",\")", json!("Ann")),
            ("split(\"a,b,,c\", \",\")", json!(["a", "b", "", "c"])),
            ("split(\"abc\", \"\")", json!(["abc"])),
            ("replace(name.familyName, \"e\", \"3\")", json!("L33")),
            ("replace(name.familyName, \"\", \"3\")", json!("Lee")),
            (
                "regexReplace(trim(userName), \"@.*$\", \"\")",
                json!("Ann.Lee"),
            ),
            (
                "regexReplace(\"Lee, Ann\", \"^(\\\\w+), (\\\\w+)$\", \"$2 $1\")",
                json!("Ann Lee"),
            ),
            ("substring(name.familyName, 1)", json!("ee")),
            ("substring(name.familyName, 0, 2)", json!("Le")),
            ("substring(name.familyName, -3, 99)", json!("Lee")),
            ("substring(name.familyName, 10)", json!("")),
            ("substring(name.familyName, \"x\")", Value::Null),
            ("substring(\"Ünïcødé\", 2, 3)", json!("ïcø")),
            (
                "coalesce(nickName, title, phoneNumbers, name.givenName)",
                json!("Ann"),
            ),
            ("coalesce(nickName, title)", Value::Null),
            ("default(nickName, \"none\")", json!("none")),
            ("if(active, \"on\", \"off\")", json!("off")),
            ("if(not(active), \"on\", \"off\")", json!("on")),
            ("if(eq(name.givenName, \"Ann\"), 1, 2)", json!(1)),
            ("if(title, \"t\")", Value::Null),
            (
                "formatDate(meta.created, \"%Y-%m-%d %H:%M\")",
                json!("2026-03-04 05:06"),
            ),
            (
                "formatDate(\"2026-01-31\", \"%d/%m/%Y\")",
                json!("31/01/2026"),
            ),
            ("formatDate(\"yesterday\", \"%Y\")", Value::Null),
            ("formatDate(meta.created, \"%s\")", json!("1772593567")),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                json!("00042"),
            ),
            ("emails[type eq \"work\"].value", json!("ann@work.example")),
            ("upper(emails[type eq \"fax\"].value)", Value::Null),
            ("eq(1, 1.0)", json!(false)),
            ("collapse(\"  Ann \\t Lee \")", json!("Ann Lee")),
            ("title(\"ann o'brien\")", json!("Ann O'brien")),
            ("email(userName)", json!("ann.lee@example.com")),
            ("phone(\"(212) 555 0123\", \"US\")", json!("+12125550123")),
            ("phone(\" not a phone \", \"US\")", json!("not a phone")),
            ("phone(emails.value)", json!(["ann@work.example", "a@home"])),
            ("parseDate(\"31.01.2026\")", json!("2026-01-31T00:00:00Z")),
            (
                "parseDate(\"01/31/2026\", \"%m/%d/%Y\")",
                json!("2026-01-31T00:00:00Z"),
            ),
            ("parseDate(\"never\")", Value::Null),
            ("first(emails.value)", json!("ann@work.example")),
            ("first(name.givenName)", json!("Ann")),
            ("first(phoneNumbers)", Value::Null),
            ("-7", json!(-7)),
        ];
        for (expr, want) in cases {
            assert_eq!(ev(expr), want, "{expr}");
        }
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| json!(f)),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn arb_expr() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("userName".to_string()),
            Just("emails[type eq \"work\"].value".to_string()),
            Just("emails.value".to_string()),
            Just("name".to_string()),
            Just("meta.created".to_string()),
            any::<i32>().prop_map(|n| n.to_string()),
            "[a-z%@ .:-]{0,6}".prop_map(|s| format!("{s:?}")),
        ];
        leaf.prop_recursive(4, 32, 3, |inner| {
            let names = prop::sample::select(vec![
                "lower",
                "upper",
                "trim",
                "concat",
                "join",
                "split",
                "replace",
                "substring",
                "coalesce",
                "default",
                "if",
                "eq",
                "not",
                "collapse",
                "title",
                "email",
                "phone",
                "parseDate",
                "first",
            ]);
            (names, prop::collection::vec(inner, 1..4))
                .prop_map(|(f, args)| format!("{f}({})", args.join(", ")))
        })
    }

    proptest! {
        #[test]
        fn evaluation_never_panics(expr in arb_expr(), source in arb_value(), fmt in "[%a-zA-Z:. -]{0,8}") {
            // Arity errors are fine; whatever parses must evaluate.
            if let Ok(e) = parse(&expr) {
                let _ = eval(&e, ResourceKind::User, &source);
                let _ = eval(&e, ResourceKind::User, &user());
            }
            let dated = format!("formatDate(meta.created, {fmt:?})");
            if let Ok(e) = parse(&dated) {
                let _ = eval(&e, ResourceKind::User, &source);
                let _ = eval(&e, ResourceKind::User, &user());
            }
        }

        #[test]
        fn parsing_never_panics(s in ".{0,64}") {
            let _ = parse(&s);
        }
    }
}
