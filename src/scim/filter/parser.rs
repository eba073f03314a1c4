//! A nom parser for the RFC 7644 §3.4.2.2 filter grammar, with bounded
//! length and nesting and errors that say what was expected and where.
//! Precedence: `not` > `and` > `or`; operators and keywords ignore case.

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while1};
use nom::character::complete::{char, digit1, multispace0, multispace1, one_of};
use nom::combinator::{eof, opt, peek, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::{Err, IResult, Parser};
use serde_json::Number;

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::error::{ScimError, ScimType};

/// Bounds on what a client may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    pub max_length: usize,
    pub max_depth: usize,
}

impl Default for FilterLimits {
    fn default() -> Self {
        Self {
            max_length: 4096,
            max_depth: 32,
        }
    }
}

/// Where parsing stopped and what it wanted there.
#[derive(Debug, Clone, PartialEq)]
struct Failure<'a> {
    rest: &'a str,
    expected: String,
}

impl<'a> ParseError<&'a str> for Failure<'a> {
    fn from_error_kind(rest: &'a str, _: ErrorKind) -> Self {
        Failure {
            rest,
            expected: "a filter expression".into(),
        }
    }
    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }
    /// Of two alternatives, report the one that got further.
    fn or(self, other: Self) -> Self {
        if other.rest.len() <= self.rest.len() {
            other
        } else {
            self
        }
    }
}

type Res<'a, T> = IResult<&'a str, T, Failure<'a>>;

fn fail<'a, T>(rest: &'a str, expected: impl Into<String>) -> Res<'a, T> {
    Err(Err::Error(Failure {
        rest,
        expected: expected.into(),
    }))
}

/// Like `fail`, but stops backtracking: the input is definitely wrong here.
fn cut_fail<'a, T>(rest: &'a str, expected: impl Into<String>) -> Res<'a, T> {
    Err(Err::Failure(Failure {
        rest,
        expected: expected.into(),
    }))
}

struct Ctx {
    limits: FilterLimits,
}

/// Parses a filter. Errors are `400 invalidFilter` with the position.
pub fn parse_filter(input: &str, limits: FilterLimits) -> Result<Filter, ScimError> {
    if input.len() > limits.max_length {
        return Err(ScimError::invalid_filter(format!(
            "the filter is longer than {} characters",
            limits.max_length
        )));
    }
    if input.trim().is_empty() {
        return Err(ScimError::invalid_filter("the filter is empty"));
    }
    let ctx = Ctx { limits };
    let result = ctx.or_expr(input, 0, false).and_then(|(rest, f)| {
        let (rest, _) = multispace0(rest)?;
        if rest.is_empty() {
            Ok(f)
        } else {
            fail::<Filter>(rest, "'and', 'or' or the end of the filter").map(|(_, f)| f)
        }
    });
    result.map_err(|e| match e {
        Err::Error(f) | Err::Failure(f) => describe(input, &f),
        Err::Incomplete(_) => ScimError::invalid_filter("the filter ended early"),
    })
}

/// Parses a bare attribute path (`sortBy`, `attributes`), e.g.
/// `name.givenName` or `urn:…:enterprise:2.0:User:manager.value`.
pub fn parse_attr_path(input: &str) -> Result<AttrPath, ScimError> {
    let trimmed = input.trim();
    match attr_path(trimmed) {
        Ok(("", path)) => Ok(path),
        Ok((rest, _)) => Err(describe(
            trimmed,
            &Failure {
                rest,
                expected: "the end of the attribute path".into(),
            },
        )),
        Err(Err::Error(f) | Err::Failure(f)) => Err(describe(trimmed, &f)),
        Err(Err::Incomplete(_)) => Err(ScimError::invalid_filter("the attribute path ended early")),
    }
}

/// The start of a PATCH path (RFC 7644 §3.5.2): an attribute path and an
/// optional `[valFilter]`, returning the unparsed rest (such as `.value`).
/// Errors in the attribute path are `invalidPath`, in the filter `invalidFilter`.
pub fn parse_path_prefix(
    input: &str,
    limits: FilterLimits,
) -> Result<(AttrPath, Option<Filter>, &str), ScimError> {
    if input.len() > limits.max_length {
        return Err(ScimError::bad_request(
            ScimType::InvalidPath,
            format!("the path is longer than {} characters", limits.max_length),
        ));
    }
    let as_path = |e: Err<Failure<'_>>| match e {
        Err::Error(f) | Err::Failure(f) => locate(input, &f, "path", |d| {
            ScimError::bad_request(ScimType::InvalidPath, d)
        }),
        Err::Incomplete(_) => ScimError::bad_request(ScimType::InvalidPath, "the path ended early"),
    };
    let (rest, path) = attr_path(input).map_err(as_path)?;
    let Some(after) = rest.strip_prefix('[') else {
        return Ok((path, None, rest));
    };
    let ctx = Ctx { limits };
    let (rest, filter) = ctx.bracketed(after, &path, 0).map_err(|e| match e {
        Err::Error(f) | Err::Failure(f) => describe(input, &f),
        Err::Incomplete(_) => ScimError::invalid_filter("the filter ended early"),
    })?;
    Ok((path, Some(filter), rest))
}

fn describe(input: &str, failure: &Failure<'_>) -> ScimError {
    locate(input, failure, "filter", ScimError::invalid_filter)
}

fn locate(
    input: &str,
    failure: &Failure<'_>,
    what: &str,
    make: impl Fn(String) -> ScimError,
) -> ScimError {
    let consumed = input.len().saturating_sub(failure.rest.len());
    let position = input[..consumed].chars().count() + 1;
    let found = if failure.rest.is_empty() {
        format!("the end of the {what}")
    } else {
        let snippet: String = failure.rest.chars().take(24).collect();
        format!("{snippet:?}")
    };
    make(format!(
        "invalid {what} at character {position}: expected {}, found {found}",
        failure.expected
    ))
}

/// A keyword (`and`, `or`) between operands: whitespace before, and
/// whitespace or an opening parenthesis after.
fn keyword<'a>(input: &'a str, word: &'static str) -> Res<'a, ()> {
    let (rest, _) = (
        multispace1,
        tag_no_case(word),
        alt((multispace1, peek(tag("(")), eof)),
    )
        .parse(input)?;
    Ok((rest, ()))
}

/// The characters a path token can hold (URNs carry ':' and '.').
fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '-' | '$')
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '$' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn attr_path(input: &str) -> Res<'_, AttrPath> {
    let (rest, token) = match take_while1::<_, _, Failure<'_>>(path_char).parse(input) {
        Ok(ok) => ok,
        Err(_) => return fail(input, "an attribute name"),
    };
    let (uri, local) = match token.rfind(':') {
        Some(i) => (Some(token[..i].to_string()), &token[i + 1..]),
        None => (None, token),
    };
    let (name, sub) = match local.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (local, None),
    };
    let bad_uri = uri
        .as_deref()
        .is_some_and(|u| u.is_empty() || u.ends_with(':'));
    if bad_uri || !valid_name(name) || sub.is_some_and(|s| !valid_name(s)) {
        return cut_fail(
            input,
            "an attribute path such as userName, name.givenName or a schema URN followed by ':attribute'",
        );
    }
    Ok((
        rest,
        AttrPath {
            uri,
            name: name.to_string(),
            sub: sub.map(str::to_string),
        },
    ))
}

fn compare_op(input: &str) -> Res<'_, CompareOp> {
    for op in CompareOp::ALL {
        if let Ok((rest, _)) = tag_no_case::<_, _, Failure<'_>>(op.as_str()).parse(input)
            && at_word_end(rest)
        {
            return Ok((rest, op));
        }
    }
    fail(
        input,
        "an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)",
    )
}

/// True when `rest` does not continue a word (so `prx` is not `pr`).
fn at_word_end(rest: &str) -> bool {
    !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
}

fn string_literal(input: &str) -> Res<'_, String> {
    let mut escaped = false;
    for (i, c) in input.char_indices().skip(1) {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => {
                let raw = &input[..=i];
                return match serde_json::from_str::<String>(raw) {
                    Ok(s) if s.contains('\0') => cut_fail(input, "a string without NUL characters"),
                    Ok(s) => Ok((&input[i + 1..], s)),
                    Err(_) => cut_fail(input, "a valid JSON string (check its escapes)"),
                };
            }
            _ => {}
        }
    }
    cut_fail(input, "a closing '\"' for this string")
}

/// The number grammar of RFC 7644 / JSON, as text.
fn number_text(input: &str) -> Res<'_, &str> {
    recognize((
        opt(char('-')),
        digit1,
        opt((char('.'), digit1)),
        opt((one_of("eE"), opt(one_of("+-")), digit1)),
    ))
    .parse(input)
}

/// Where an unquoted value ends: whitespace (as `multispace` reads it), a
/// parenthesis, a bracket or a quote.
fn ends_bare_value(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '(' | ')' | '[' | ']' | '"')
}

/// An unquoted value that is not `true`/`false`/`null` or a number: read as
/// a string (`userName sw O`, `meta.created gt 2015-10-10T14:38:21.86-07:00`),
/// as Microsoft's validator and older clients send it. The words that join
/// filters are refused, so `userName eq and x pr` stays an error.
fn bare_string(input: &str) -> Res<'_, CompValue> {
    let end = input.find(ends_bare_value).unwrap_or(input.len());
    let (word, rest) = input.split_at(end);
    let keyword = ["and", "or", "not"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k));
    if word.is_empty() || keyword {
        return cut_fail(
            input,
            "a value: a quoted string, a number, true, false or null",
        );
    }
    if word.contains('\0') {
        return cut_fail(input, "a value without NUL characters");
    }
    Ok((rest, CompValue::String(word.to_string())))
}

fn comp_value(input: &str) -> Res<'_, CompValue> {
    if input.starts_with('"') {
        let (rest, s) = string_literal(input)?;
        return Ok((rest, CompValue::String(s)));
    }
    for (word, value) in [
        ("true", CompValue::Bool(true)),
        ("false", CompValue::Bool(false)),
        ("null", CompValue::Null),
    ] {
        if let Ok((rest, _)) = tag_no_case::<_, _, Failure<'_>>(word).parse(input)
            && (rest.is_empty() || rest.starts_with(ends_bare_value))
        {
            return Ok((rest, value));
        }
    }
    // A number only when the whole unquoted value is one (a date such as
    // 2015-10-10 starts like a number but is not).
    if let Ok((rest, text)) = number_text(input)
        && (rest.is_empty() || rest.starts_with(ends_bare_value))
    {
        return match serde_json::from_str::<Number>(text) {
            Ok(n) => Ok((rest, CompValue::Number(n))),
            Err(_) => cut_fail(input, "a valid number"),
        };
    }
    bare_string(input)
}

impl Ctx {
    fn deeper<'a>(&self, input: &'a str, depth: usize) -> Result<usize, Err<Failure<'a>>> {
        if depth >= self.limits.max_depth {
            return Err(Err::Failure(Failure {
                rest: input,
                expected: format!("at most {} levels of nesting", self.limits.max_depth),
            }));
        }
        Ok(depth + 1)
    }

    fn or_expr<'a>(&self, input: &'a str, depth: usize, in_value: bool) -> Res<'a, Filter> {
        let (mut input, mut left) = self.and_expr(input, depth, in_value)?;
        while let Ok((rest, ())) = keyword(input, "or") {
            let (rest, right) = self.and_expr(rest, depth, in_value)?;
            left = Filter::Or(Box::new(left), Box::new(right));
            input = rest;
        }
        Ok((input, left))
    }

    fn and_expr<'a>(&self, input: &'a str, depth: usize, in_value: bool) -> Res<'a, Filter> {
        let (mut input, mut left) = self.unary(input, depth, in_value)?;
        while let Ok((rest, ())) = keyword(input, "and") {
            let (rest, right) = self.unary(rest, depth, in_value)?;
            left = Filter::And(Box::new(left), Box::new(right));
            input = rest;
        }
        Ok((input, left))
    }

    /// `( filter )` after the opening parenthesis was seen.
    fn group<'a>(&self, input: &'a str, depth: usize, in_value: bool) -> Res<'a, Filter> {
        let depth = self.deeper(input, depth)?;
        let (rest, _) = multispace0(input)?;
        let (rest, inner) = self.or_expr(rest, depth, in_value)?;
        let (rest, _) = multispace0(rest)?;
        match char::<_, Failure<'_>>(')').parse(rest) {
            Ok((rest, _)) => Ok((rest, inner)),
            Err(_) => cut_fail(rest, "')'"),
        }
    }

    fn unary<'a>(&self, input: &'a str, depth: usize, in_value: bool) -> Res<'a, Filter> {
        let (input, _) = multispace0(input)?;
        if let Ok((rest, _)) = (
            tag_no_case::<_, _, Failure<'_>>("not"),
            multispace0,
            char('('),
        )
            .parse(input)
        {
            let (rest, inner) = self.group(rest, depth, in_value)?;
            return Ok((rest, Filter::Not(Box::new(inner))));
        }
        if let Ok((rest, _)) = char::<_, Failure<'_>>('(').parse(input) {
            return self.group(rest, depth, in_value);
        }
        let (rest, path) = attr_path(input)?;
        if let Ok((after, _)) = char::<_, Failure<'_>>('[').parse(rest) {
            if in_value {
                return cut_fail(rest, "no '[' inside a value filter");
            }
            return self.value_path(after, path, depth);
        }
        attr_exp(rest, path)
    }

    /// The inside of `attr[...]` and the closing bracket.
    fn bracketed<'a>(&self, input: &'a str, path: &AttrPath, depth: usize) -> Res<'a, Filter> {
        if path.sub.is_some() {
            return cut_fail(input, "'[' right after a top-level attribute name");
        }
        let depth = self.deeper(input, depth)?;
        let (rest, _) = multispace0(input)?;
        let (rest, inner) = self.or_expr(rest, depth, true)?;
        let (rest, _) = multispace0(rest)?;
        match char::<_, Failure<'_>>(']').parse(rest) {
            Ok((rest, _)) => Ok((rest, inner)),
            Err(_) => cut_fail(rest, "']'"),
        }
    }

    /// `attr[filter]`, optionally followed by `.sub op value` or `.sub pr`.
    fn value_path<'a>(&self, input: &'a str, path: AttrPath, depth: usize) -> Res<'a, Filter> {
        let (rest, inner) = self.bracketed(input, &path, depth)?;
        let mut filter = inner;
        let rest = match char::<_, Failure<'_>>('.').parse(rest) {
            Ok((after_dot, _)) => {
                let (after, sub) = attr_path(after_dot)?;
                if sub.uri.is_some() || sub.sub.is_some() {
                    return cut_fail(after_dot, "a sub-attribute name");
                }
                let (after, tail) = attr_exp(after, sub)?;
                filter = Filter::And(Box::new(filter), Box::new(tail));
                after
            }
            Err(_) => rest,
        };
        Ok((
            rest,
            Filter::ValuePath {
                path,
                filter: Box::new(filter),
            },
        ))
    }
}

/// After an attribute path: ` pr` or ` op value`.
fn attr_exp(input: &str, path: AttrPath) -> Res<'_, Filter> {
    let Ok((rest, _)) = multispace1::<_, Failure<'_>>(input) else {
        return cut_fail(input, "a space and an operator after the attribute name");
    };
    if let Ok((after, _)) = tag_no_case::<_, _, Failure<'_>>("pr").parse(rest)
        && at_word_end(after)
    {
        return Ok((after, Filter::Present(path)));
    }
    let (rest, op) = match compare_op(rest) {
        Ok(ok) => ok,
        Err(Err::Error(f)) => return Err(Err::Failure(f)),
        Err(e) => return Err(e),
    };
    let Ok((rest, _)) = multispace1::<_, Failure<'_>>(rest) else {
        return cut_fail(rest, "a space and a value after the operator");
    };
    let (rest, value) = comp_value(rest)?;
    Ok((rest, Filter::Compare { path, op, value }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Filter {
        parse_filter(s, FilterLimits::default()).unwrap_or_else(|e| panic!("{s}: {}", e.detail))
    }

    fn cmp(name: &str, op: CompareOp, v: &str) -> Filter {
        Filter::Compare {
            path: AttrPath::new(name),
            op,
            value: CompValue::String(v.into()),
        }
    }

    #[test]
    fn rfc_examples_parse() {
        for s in [
            r#"userName Eq "john""#,
            r#"name.familyName co "O'Malley""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley""#,
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"title pr and userType eq "Employee""#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
            r#"emails[type eq "work"].value eq "a@x.org""#,
            "active eq true and id pr",
            "x gt -1.5e3",
        ] {
            parse(s);
        }
    }

    #[test]
    fn precedence_is_not_over_and_over_or() {
        let f = parse(r#"a eq "1" or b eq "2" and c eq "3""#);
        let expected = Filter::Or(
            Box::new(cmp("a", CompareOp::Eq, "1")),
            Box::new(Filter::And(
                Box::new(cmp("b", CompareOp::Eq, "2")),
                Box::new(cmp("c", CompareOp::Eq, "3")),
            )),
        );
        assert_eq!(f, expected);
    }

    #[test]
    fn sub_attribute_after_value_path_folds_into_the_filter() {
        let f = parse(r#"emails[type eq "work"].value eq "a@x.org""#);
        assert_eq!(
            f,
            Filter::ValuePath {
                path: AttrPath::new("emails"),
                filter: Box::new(Filter::And(
                    Box::new(cmp("type", CompareOp::Eq, "work")),
                    Box::new(cmp("value", CompareOp::Eq, "a@x.org")),
                )),
            }
        );
    }

    #[test]
    fn urn_paths_split_at_the_last_colon() {
        let Filter::Present(p) =
            parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr")
        else {
            panic!()
        };
        assert_eq!(
            p.uri.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(
            (p.name.as_str(), p.sub.as_deref()),
            ("manager", Some("value"))
        );
    }

    #[test]
    fn string_escapes_are_json() {
        let Filter::Compare { value, .. } = parse(r#"displayName eq "a\"b\\c\u00e9""#) else {
            panic!()
        };
        assert_eq!(value, CompValue::String("a\"b\\cé".into()));
    }

    #[test]
    fn errors_say_what_and_where() {
        let cases = [
            ("userName eq", "character 12"),
            (r#"userName xx "a""#, "operator"),
            (r#"userName eq "a" and"#, "attribute"),
            (r#"(userName eq "a""#, "')'"),
            (r#"userName eq "a"#, "closing"),
            (r#"emails[type eq "a""#, "']'"),
            (r#"emails[x[y eq 1]]"#, "inside a value filter"),
            (r#"userName eq "a" garbage"#, "'and', 'or'"),
            ("userName eq )", "a value"),
            ("userName eq and", "a value"),
            (r#"userName eq "a" and title eq or"#, "a value"),
            ("userName eq 1e999", "a valid number"),
            ("(userName eq ann", "')'"),
            ("userName eq O\"Malley\"", "'and', 'or'"),
            ("", "empty"),
        ];
        for (input, needle) in cases {
            let err = parse_filter(input, FilterLimits::default()).unwrap_err();
            assert_eq!(err.status, 400);
            assert_eq!(err.scim_type, Some(crate::scim::ScimType::InvalidFilter));
            assert!(err.detail.contains(needle), "{input}: {}", err.detail);
        }
    }

    /// Unquoted values are strings unless they are a keyword or a whole
    /// number; the filter words around them keep their meaning.
    #[test]
    fn unquoted_values_are_strings_where_unambiguous() {
        let string = |name: &str, op, v: &str| Filter::Compare {
            path: AttrPath {
                uri: None,
                name: name.into(),
                sub: None,
            },
            op,
            value: CompValue::String(v.into()),
        };
        assert_eq!(
            parse("userName sw O"),
            string("userName", CompareOp::Sw, "O")
        );
        assert_eq!(
            parse("name.familyName eq Employee"),
            Filter::Compare {
                path: AttrPath::with_sub("name", "familyName"),
                op: CompareOp::Eq,
                value: CompValue::String("Employee".into()),
            }
        );
        let Filter::Compare { value, .. } = parse("meta.created gt 2015-10-10T14:38:21.86-07:00")
        else {
            panic!()
        };
        assert_eq!(
            value,
            CompValue::String("2015-10-10T14:38:21.86-07:00".into())
        );
        assert_eq!(
            parse("(userName eq ann) or emails[type eq work]"),
            Filter::Or(
                Box::new(string("userName", CompareOp::Eq, "ann")),
                Box::new(Filter::ValuePath {
                    path: AttrPath::new("emails"),
                    filter: Box::new(string("type", CompareOp::Eq, "work")),
                }),
            )
        );
        assert_eq!(
            parse("userName eq ann AND title pr"),
            Filter::And(
                Box::new(string("userName", CompareOp::Eq, "ann")),
                Box::new(Filter::Present(AttrPath::new("title"))),
            )
        );
        for (text, value) in [
            ("active eq TRUE", CompValue::Bool(true)),
            ("active eq false", CompValue::Bool(false)),
            ("title eq null", CompValue::Null),
            (
                "x eq -2.5e3",
                CompValue::Number(Number::from_f64(-2500.0).unwrap()),
            ),
            ("x eq 42", CompValue::Number(42.into())),
            ("x eq 42abc", CompValue::String("42abc".into())),
            ("x eq truely", CompValue::String("truely".into())),
            ("x eq r&d", CompValue::String("r&d".into())),
        ] {
            let Filter::Compare { value: got, .. } = parse(text) else {
                panic!("{text}")
            };
            assert_eq!(got, value, "{text}");
        }
    }

    #[test]
    fn length_and_depth_are_bounded() {
        let limits = FilterLimits {
            max_length: 100,
            max_depth: 3,
        };
        assert!(parse_filter(&"a pr or ".repeat(20), limits).is_err());
        assert!(parse_filter("(((a pr)))", limits).is_ok());
        let err = parse_filter("((((a pr))))", limits).unwrap_err();
        assert!(err.detail.contains("nesting"), "{}", err.detail);
        let deep = format!("{}a pr{}", "not (".repeat(10_000), ")".repeat(10_000));
        assert!(
            parse_filter(
                &deep,
                FilterLimits {
                    max_length: usize::MAX,
                    max_depth: 32
                }
            )
            .is_err()
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("userName".to_string()),
            Just("emails".to_string()),
            Just("$ref".to_string()),
            "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
        ]
    }

    fn path(relative: bool) -> impl Strategy<Value = AttrPath> {
        let uri = prop_oneof![
            Just(None),
            Just(Some(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_string()
            )),
            Just(Some(
                "urn:ietf:params:scim:schemas:core:2.0:User".to_string()
            )),
        ];
        (uri, name(), proptest::option::of(name())).prop_map(move |(uri, name, sub)| {
            if relative {
                AttrPath {
                    uri: None,
                    name,
                    sub: None,
                }
            } else {
                AttrPath { uri, name, sub }
            }
        })
    }

    fn value() -> impl Strategy<Value = CompValue> {
        prop_oneof![
            Just(CompValue::Null),
            any::<bool>().prop_map(CompValue::Bool),
            any::<i64>().prop_map(|n| CompValue::Number(n.into())),
            (-1.0e12f64..1.0e12)
                .prop_filter_map("finite", |f| Number::from_f64(f).map(CompValue::Number)),
            any::<String>().prop_map(CompValue::String),
        ]
    }

    fn leaf(relative: bool) -> impl Strategy<Value = Filter> {
        let op = proptest::sample::select(CompareOp::ALL.to_vec());
        prop_oneof![
            (path(relative), op, value()).prop_map(|(path, op, value)| Filter::Compare {
                path,
                op,
                value
            }),
            path(relative).prop_map(Filter::Present),
        ]
    }

    fn tree(relative: bool) -> impl Strategy<Value = Filter> {
        leaf(relative).prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
                inner.prop_map(|f| Filter::Not(Box::new(f))),
            ]
        })
    }

    fn filter() -> impl Strategy<Value = Filter> {
        prop_oneof![
            3 => tree(false),
            1 => (name(), tree(true)).prop_map(|(name, f)| Filter::ValuePath {
                path: AttrPath::new(&name),
                filter: Box::new(f),
            }),
        ]
    }

    /// Filter words, operators and punctuation in any order: reaches the
    /// parser's deeper states far more often than arbitrary text does.
    fn token_soup() -> impl Strategy<Value = String> {
        const TOKENS: &[&str] = &[
            "userName",
            "emails",
            "value",
            "type",
            "members",
            "meta.created",
            "name.givenName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "urn:ietf:params:scim:schemas:core:2.0:User:",
            "eq",
            "ne",
            "co",
            "sw",
            "ew",
            "gt",
            "ge",
            "lt",
            "le",
            "pr",
            "and",
            "or",
            "not",
            "AND",
            "Or",
            "(",
            ")",
            "[",
            "]",
            ".",
            "\"",
            "\"a\"",
            "\"\\u00e9\\\"\"",
            "true",
            "false",
            "null",
            "1",
            "-2.5e3",
            "1e999",
            "\"2026-11-22T00:00:00Z\"",
            " ",
            "  ",
            "\t",
            "$ref",
            "ü",
            "\\",
        ];
        let token = prop_oneof![
            9 => proptest::sample::select(TOKENS).prop_map(str::to_string),
            1 => ".{0,3}",
        ];
        prop::collection::vec(token, 0..40).prop_map(|parts| {
            parts.iter().fold(String::new(), |mut out, p| {
                if !out.is_empty() && p.len() > 1 {
                    out.push(' ');
                }
                out.push_str(p);
                out
            })
        })
    }

    /// Any input either parses or is refused as a 400 SCIM error; a parsed
    /// filter prints to text that parses back to it.
    fn parses_or_refuses(s: &str) -> Result<(), TestCaseError> {
        match parse_filter(s, FilterLimits::default()) {
            Ok(f) => {
                let limits = FilterLimits {
                    max_length: usize::MAX,
                    max_depth: 64,
                };
                prop_assert_eq!(parse_filter(&f.to_string(), limits), Ok(f), "{}", s);
            }
            Err(e) => {
                prop_assert_eq!(e.status, 400, "{}", s);
                prop_assert!(e.scim_type.is_some(), "{}: {:?}", s, e);
                prop_assert!(!e.detail.is_empty());
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn printing_round_trips(f in filter()) {
            let printed = f.to_string();
            let limits = FilterLimits { max_length: usize::MAX, max_depth: 64 };
            let reparsed = parse_filter(&printed, limits).map_err(|e| TestCaseError::fail(format!("{printed}: {}", e.detail)))?;
            prop_assert_eq!(reparsed, f);
        }

        // The fuzz_ properties: `PROPTEST_CASES=1000000 cargo test --release --lib fuzz_`.
        #[test]
        fn fuzz_filter_arbitrary_text(s in ".{0,200}") {
            parses_or_refuses(&s)?;
        }

        #[test]
        fn fuzz_filter_token_soup(s in token_soup()) {
            parses_or_refuses(&s)?;
        }
    }
}
