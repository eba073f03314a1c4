//! PATCH paths (RFC 7644 §3.5.2): `attrPath` or `valuePath [ "." subAttr ]`,
//! e.g. `members`, `name.givenName`, `emails[type eq "work"].value` or
//! `urn:…:enterprise:2.0:User:manager.value`. Syntax only: what a path names
//! is decided against the registry by the PATCH engine.

use std::fmt;

use super::error::{ScimError, ScimType};
use super::filter::{AttrPath, Filter, FilterLimits, parse_path_prefix};

/// Paths are short; this bounds the work a hostile one can cause.
pub const MAX_PATH_LENGTH: usize = 1024;

/// A parsed PATCH path. Names keep the client's spelling.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The schema URN before the attribute name, when written.
    pub uri: Option<String>,
    pub name: String,
    /// The value filter inside `[...]`, relative to `name`.
    pub filter: Option<Filter>,
    /// The sub-attribute: `name.sub` or `name[filter].sub`.
    pub sub: Option<String>,
}

impl PatchPath {
    /// The attribute part without sub-attribute (what a filter ranges over).
    pub fn attr(&self) -> AttrPath {
        AttrPath {
            uri: self.uri.clone(),
            name: self.name.clone(),
            sub: None,
        }
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr())?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

fn invalid_path(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::InvalidPath, detail)
}

/// Parses a PATCH path. Syntax errors in the bracket filter are
/// `invalidFilter` (RFC 7644 Table 9 lists it for PATCH path filters),
/// every other malformed path is `invalidPath`.
pub fn parse_path(input: &str) -> Result<PatchPath, ScimError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(invalid_path("the path is empty"));
    }
    let limits = FilterLimits {
        max_length: MAX_PATH_LENGTH,
        ..FilterLimits::default()
    };
    let (attr, filter, rest) = parse_path_prefix(input, limits)?;
    let sub = match (&filter, rest) {
        (_, "") => attr.sub,
        (Some(_), tail) => match tail.strip_prefix('.') {
            Some(name) if is_name(name) => Some(name.to_string()),
            _ => return Err(unexpected(input, tail, "'.' and a sub-attribute name")),
        },
        (None, tail) => return Err(unexpected(input, tail, "'[' or the end of the path")),
    };
    Ok(PatchPath {
        uri: attr.uri,
        name: attr.name,
        filter,
        sub,
    })
}

fn unexpected(input: &str, tail: &str, expected: &str) -> ScimError {
    let position = input[..input.len() - tail.len()].chars().count() + 1;
    let snippet: String = tail.chars().take(24).collect();
    invalid_path(format!(
        "invalid path at character {position}: expected {expected}, found {snippet:?}"
    ))
}

/// `ATTRNAME` of RFC 7644 §3.10 (plus `$ref`).
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::{CompValue, CompareOp};

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn eq(name: &str, v: &str) -> Filter {
        Filter::Compare {
            path: AttrPath::new(name),
            op: CompareOp::Eq,
            value: CompValue::String(v.into()),
        }
    }

    fn path(uri: Option<&str>, name: &str, filter: Option<Filter>, sub: Option<&str>) -> PatchPath {
        PatchPath {
            uri: uri.map(str::to_string),
            name: name.into(),
            filter,
            sub: sub.map(str::to_string),
        }
    }

    #[test]
    fn parses_every_path_shape() {
        let cases = [
            ("members", path(None, "members", None, None)),
            (
                "name.givenName",
                path(None, "name", None, Some("givenName")),
            ),
            (
                r#"emails[type eq "work"].value"#,
                path(None, "emails", Some(eq("type", "work")), Some("value")),
            ),
            (
                r#"members[value eq "2819c223"]"#,
                path(None, "members", Some(eq("value", "2819c223")), None),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                path(Some(ENTERPRISE), "manager", None, None),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                path(Some(ENTERPRISE), "manager", None, Some("value")),
            ),
            // A bare schema URN splits like any URN path; the engine
            // recognises it as the whole extension.
            (
                ENTERPRISE,
                path(
                    Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0"),
                    "User",
                    None,
                    None,
                ),
            ),
            ("  active ", path(None, "active", None, None)),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_path(input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn display_is_canonical() {
        let p = parse_path(r#"emails[type eq "work" and primary eq true].value"#).unwrap();
        assert_eq!(
            p.to_string(),
            r#"emails[(type eq "work" and primary eq true)].value"#
        );
        assert_eq!(parse_path(&p.to_string()), Ok(p));
    }

    #[test]
    fn malformed_paths_are_invalid_path_and_bad_filters_invalid_filter() {
        let cases = [
            ("", ScimType::InvalidPath, "the path is empty"),
            (
                "emails value",
                ScimType::InvalidPath,
                r#"invalid path at character 7: expected '[' or the end of the path, found " value""#,
            ),
            (
                "9lives",
                ScimType::InvalidPath,
                "invalid path at character 1: expected an attribute path such as userName, \
                 name.givenName or a schema URN followed by ':attribute', found \"9lives\"",
            ),
            (
                r#"emails[type eq "work"]value"#,
                ScimType::InvalidPath,
                r#"invalid path at character 23: expected '.' and a sub-attribute name, found "value""#,
            ),
            (
                r#"emails[type eq "work"].9"#,
                ScimType::InvalidPath,
                r#"invalid path at character 23: expected '.' and a sub-attribute name, found ".9""#,
            ),
            (
                r#"name.givenName[type eq "x"]"#,
                ScimType::InvalidFilter,
                r#"invalid filter at character 16: expected '[' right after a top-level attribute name, found "type eq \"x\"]""#,
            ),
            (
                r#"emails[type eq "work""#,
                ScimType::InvalidFilter,
                "invalid filter at character 22: expected ']', found the end of the filter",
            ),
            (
                "emails[type xx 1]",
                ScimType::InvalidFilter,
                "invalid filter at character 13: expected an operator (eq, ne, co, sw, ew, gt, \
                 ge, lt, le, pr), found \"xx 1]\"",
            ),
        ];
        for (input, scim_type, detail) in cases {
            let err = parse_path(input).unwrap_err();
            assert_eq!(
                (err.status, err.scim_type, err.detail.as_str()),
                (400, Some(scim_type), detail),
                "{input}"
            );
        }
    }

    #[test]
    fn long_paths_are_refused() {
        let err = parse_path(&"a".repeat(MAX_PATH_LENGTH + 1)).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidPath));
        assert_eq!(err.detail, "the path is longer than 1024 characters");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        // A fuzz_ property: `PROPTEST_CASES=1000000 cargo test --release --lib fuzz_`.
        #[test]
        fn fuzz_path_arbitrary_text(s in r#"[a-zA-Z0-9:.\[\]" $_-]{0,60}|.{0,80}"#) {
            match parse_path(&s) {
                Ok(p) => prop_assert_eq!(parse_path(&p.to_string()), Ok(p), "{}", s),
                Err(e) => {
                    prop_assert_eq!(e.status, 400);
                    prop_assert!(matches!(e.scim_type, Some(ScimType::InvalidPath | ScimType::InvalidFilter)));
                }
            }
        }

        #[test]
        fn printed_paths_reparse(s in r#"(emails|name|members)(\[(type|value) eq "[a-z]{0,5}"\])?(\.(value|givenName))?"#) {
            if let Ok(p) = parse_path(&s) {
                prop_assert_eq!(parse_path(&p.to_string()), Ok(p));
            }
        }
    }
}
