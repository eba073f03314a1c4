//! Mapping expressions: the AST and a small recursive-descent parser.
//!
//! ```text
//! expr  := string | number | true | false | null | call | path
//! call  := NAME "(" [expr ("," expr)*] ")"
//! path  := an attribute path, e.g. name.givenName, emails[type eq "work"].value
//! ```
//! Strings are double-quoted JSON strings. Function names ignore case.

use regex::Regex;
use serde_json::Value;

use super::path::{ValuePath, bracket_len, parse_value_path};

/// Longest accepted expression and deepest nesting of calls.
pub const MAX_LENGTH: usize = 4096;
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Lower,
    Upper,
    Trim,
    Concat,
    Join,
    Split,
    Replace,
    RegexReplace,
    Substring,
    Coalesce,
    Default,
    If,
    FormatDate,
    Eq,
    Not,
    Collapse,
    Title,
    Email,
    Phone,
    ParseDate,
    First,
}

impl Func {
    const ALL: [(&'static str, Func); 21] = [
        ("lower", Func::Lower),
        ("upper", Func::Upper),
        ("trim", Func::Trim),
        ("concat", Func::Concat),
        ("join", Func::Join),
        ("split", Func::Split),
        ("replace", Func::Replace),
        ("regexReplace", Func::RegexReplace),
        ("substring", Func::Substring),
        ("coalesce", Func::Coalesce),
        ("default", Func::Default),
        ("if", Func::If),
        ("formatDate", Func::FormatDate),
        ("eq", Func::Eq),
        ("not", Func::Not),
        ("collapse", Func::Collapse),
        ("title", Func::Title),
        ("email", Func::Email),
        ("phone", Func::Phone),
        ("parseDate", Func::ParseDate),
        ("first", Func::First),
    ];

    pub fn lookup(name: &str) -> Option<Func> {
        Self::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, f)| *f)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| n)
    }

    /// Smallest and largest number of arguments.
    pub fn arity(self) -> (usize, usize) {
        match self {
            Func::Lower
            | Func::Upper
            | Func::Trim
            | Func::Not
            | Func::Collapse
            | Func::Title
            | Func::Email
            | Func::First => (1, 1),
            Func::Phone | Func::ParseDate => (1, 2),
            Func::Concat | Func::Coalesce => (1, usize::MAX),
            Func::Join | Func::Split | Func::Default | Func::Eq | Func::FormatDate => (2, 2),
            Func::Replace | Func::RegexReplace => (3, 3),
            Func::Substring | Func::If => (2, 3),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Expr {
    Const(Value),
    Path(ValuePath),
    Call(Func, Vec<Expr>),
    /// `regexReplace` with its pattern compiled when the mapping is loaded.
    Regex {
        input: Box<Expr>,
        pattern: Regex,
        replacement: String,
    },
    /// `formatDate` with its (checked) chrono format.
    FormatDate {
        input: Box<Expr>,
        format: String,
    },
    /// `phone` with its default region (checked when the mapping is loaded).
    Phone {
        input: Box<Expr>,
        region: Option<phonenumber::country::Id>,
    },
    /// `parseDate` with its (checked) chrono format, if one is given.
    ParseDate {
        input: Box<Expr>,
        format: Option<String>,
    },
}

/// A parse or validation failure at a character position (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub position: usize,
    pub message: String,
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

pub fn parse(src: &str) -> Result<Expr, ExprError> {
    if src.len() > MAX_LENGTH {
        return Err(ExprError {
            position: 1,
            message: format!("the expression is longer than {MAX_LENGTH} characters"),
        });
    }
    let mut p = Parser { src, pos: 0 };
    let e = p.expr(0)?;
    p.skip_ws();
    if p.pos < src.len() {
        return Err(p.err(format!("unexpected {:?}", p.rest_snippet())));
    }
    Ok(e)
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn rest_snippet(&self) -> String {
        self.rest().chars().take(16).collect()
    }

    fn err(&self, message: impl Into<String>) -> ExprError {
        ExprError {
            position: self.src[..self.pos].chars().count() + 1,
            message: message.into(),
        }
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn expr(&mut self, depth: usize) -> Result<Expr, ExprError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("calls are nested deeper than {MAX_DEPTH}")));
        }
        self.skip_ws();
        match self.peek() {
            None => Err(self.err("expected a value, found the end of the expression")),
            Some('"') => self.string().map(|s| Expr::Const(Value::String(s))),
            Some(c) if c.is_ascii_digit() || c == '-' => self.number(),
            Some(c) if c.is_ascii_alphabetic() => self.word(depth),
            Some(c) => Err(self.err(format!("unexpected {c:?}"))),
        }
    }

    fn string(&mut self) -> Result<String, ExprError> {
        let rest = self.rest();
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    let lit = &rest[..=i];
                    let s: String = serde_json::from_str(lit)
                        .map_err(|_| self.err(format!("invalid string literal {lit}")))?;
                    self.pos += i + 1;
                    return Ok(s);
                }
                _ => {}
            }
        }
        Err(self.err("unterminated string"))
    }

    fn number(&mut self) -> Result<Expr, ExprError> {
        let rest = self.rest();
        let len = rest
            .char_indices()
            .find(|(i, c)| {
                !(c.is_ascii_digit()
                    || matches!(c, '.' | 'e' | 'E' | '+')
                    || (*c == '-' && *i == 0))
            })
            .map_or(rest.len(), |(i, _)| i);
        let lit = &rest[..len];
        let n: serde_json::Number = lit
            .parse()
            .map_err(|_| self.err(format!("invalid number {lit:?}")))?;
        self.pos += len;
        Ok(Expr::Const(Value::Number(n)))
    }

    /// A path (with an optional `[filter]`), a keyword or a call.
    fn word(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let start = self.pos;
        let rest = self.rest();
        let mut len = rest
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$' | ':' | '.')))
            .map_or(rest.len(), |(i, _)| i);
        let word = &rest[..len];
        let after = rest[len..].trim_start();
        if after.starts_with('(') {
            let func = Func::lookup(word).ok_or_else(|| {
                self.err(format!(
                    "unknown function '{word}' (known: {})",
                    Func::ALL.map(|(n, _)| n).join(", ")
                ))
            })?;
            self.pos += rest.len() - after.len() + 1;
            return self.call(func, depth);
        }
        match word {
            "true" => return self.keyword(len, Value::Bool(true)),
            "false" => return self.keyword(len, Value::Bool(false)),
            "null" => return self.keyword(len, Value::Null),
            _ => {}
        }
        if rest[len..].starts_with('[') {
            let b = bracket_len(&rest[len..]).ok_or_else(|| self.err("unclosed '['"))?;
            len += b;
            let tail = &rest[len..];
            if let Some(sub) = tail.strip_prefix('.') {
                len += 1 + sub
                    .char_indices()
                    .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$')))
                    .map_or(sub.len(), |(i, _)| i);
            }
        }
        let text = &rest[..len];
        let path = parse_value_path(text).map_err(|m| ExprError {
            position: self.src[..start].chars().count() + 1,
            message: m,
        })?;
        self.pos += len;
        Ok(Expr::Path(path))
    }

    fn keyword(&mut self, len: usize, v: Value) -> Result<Expr, ExprError> {
        self.pos += len;
        Ok(Expr::Const(v))
    }

    fn call(&mut self, func: Func, depth: usize) -> Result<Expr, ExprError> {
        let open = self.pos;
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(')') {
            self.pos += 1;
        } else {
            loop {
                args.push(self.expr(depth + 1)?);
                self.skip_ws();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.err(format!("expected ',' or ')' in {}(…)", func.name()))),
                }
            }
        }
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            let want = match (min, max) {
                (a, b) if a == b => format!("{a}"),
                (a, usize::MAX) => format!("at least {a}"),
                (a, b) => format!("{a} to {b}"),
            };
            let at = self.pos;
            self.pos = open;
            let e = self.err(format!(
                "{}() takes {want} arguments, got {}",
                func.name(),
                args.len()
            ));
            self.pos = at;
            return Err(e);
        }
        self.specialize(func, args, open)
    }

    /// Compiles the constant arguments some functions need up front.
    fn specialize(&self, func: Func, mut args: Vec<Expr>, open: usize) -> Result<Expr, ExprError> {
        let at = |m: String| ExprError {
            position: self.src[..open].chars().count() + 1,
            message: m,
        };
        let constant = |e: &Expr, what: &str| match e {
            Expr::Const(Value::String(s)) => Ok(s.clone()),
            _ => Err(at(format!(
                "the {what} of {}() must be a string constant",
                func.name()
            ))),
        };
        match func {
            Func::RegexReplace => {
                let pattern = constant(&args[1], "pattern")?;
                let replacement = constant(&args[2], "replacement")?;
                let pattern = regex::RegexBuilder::new(&pattern)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| at(format!("invalid regular expression: {e}")))?;
                let input = Box::new(args.swap_remove(0));
                Ok(Expr::Regex {
                    input,
                    pattern,
                    replacement,
                })
            }
            Func::FormatDate => {
                let format = constant(&args[1], "format")?;
                check_date_format(&format).map_err(at)?;
                let input = Box::new(args.swap_remove(0));
                Ok(Expr::FormatDate { input, format })
            }
            Func::ParseDate => {
                let format = match args.get(1) {
                    Some(e) => {
                        let f = constant(e, "format")?;
                        check_date_format(&f).map_err(at)?;
                        Some(f)
                    }
                    None => None,
                };
                let input = Box::new(args.swap_remove(0));
                Ok(Expr::ParseDate { input, format })
            }
            Func::Phone => {
                let region = match args.get(1) {
                    Some(e) => {
                        let name = constant(e, "region")?;
                        Some(super::cleanse::region(&name).ok_or_else(|| {
                            at(format!(
                                "unknown region {name:?} (a two-letter country code such as \"US\")"
                            ))
                        })?)
                    }
                    None => None,
                };
                let input = Box::new(args.swap_remove(0));
                Ok(Expr::Phone { input, region })
            }
            _ => Ok(Expr::Call(func, args)),
        }
    }
}

fn check_date_format(format: &str) -> Result<(), String> {
    let bad = chrono::format::StrftimeItems::new(format)
        .any(|i| matches!(i, chrono::format::Item::Error));
    if bad {
        return Err(format!("invalid date format {format:?}"));
    }
    Ok(())
}

impl Expr {
    /// Every source path the expression reads.
    pub fn paths(&self) -> Vec<&ValuePath> {
        match self {
            Expr::Const(_) => Vec::new(),
            Expr::Path(p) => vec![p],
            Expr::Call(_, args) => args.iter().flat_map(Expr::paths).collect(),
            Expr::Regex { input, .. }
            | Expr::FormatDate { input, .. }
            | Expr::Phone { input, .. }
            | Expr::ParseDate { input, .. } => input.paths(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> ExprError {
        parse(s).unwrap_err()
    }

    #[test]
    fn parses_the_grammar() {
        for ok in [
            "userName",
            "\"x\\\"y\"",
            "-1.5e3",
            "true",
            "null",
            "lower( userName )",
            "concat(name.givenName, \" \", name.familyName)",
            "emails[type eq \"work\"].value",
            "coalesce(emails[type eq \"work\" and primary eq true].value, userName)",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "IF(active, \"yes\", \"no\")",
            "regexReplace(userName, \"@.*$\", \"\")",
            "formatDate(meta.created, \"%Y-%m-%d\")",
            "phone(phone, \"US\")",
            "parseDate(hire_date)",
            "title(collapse(email(x)))",
        ] {
            assert!(parse(ok).is_ok(), "{ok}: {:?}", parse(ok).err());
        }
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(
            err("lower(userName"),
            ExprError {
                position: 15,
                message: "expected ',' or ')' in lower(…)".into()
            }
        );
        assert!(
            err("shout(userName)")
                .message
                .starts_with("unknown function 'shout'")
        );
        assert_eq!(
            err("lower(a, b)").message,
            "lower() takes 1 arguments, got 2"
        );
        assert_eq!(
            err("concat()").message,
            "concat() takes at least 1 arguments, got 0"
        );
        assert_eq!(
            err("regexReplace(userName, \"(\", \"\")")
                .message
                .split(':')
                .next(),
            Some("invalid regular expression")
        );
        assert_eq!(
            err("regexReplace(userName, userName, \"\")").message,
            "the pattern of regexReplace() must be a string constant"
        );
        assert_eq!(
            err("formatDate(meta.created, \"%Q\")").message,
            "invalid date format \"%Q\""
        );
        assert_eq!(
            err("phone(phone, \"Atlantis\")").message,
            "unknown region \"Atlantis\" (a two-letter country code such as \"US\")"
        );
        assert_eq!(
            err("phone(phone, region)").message,
            "the region of phone() must be a string constant"
        );
        assert_eq!(
            err("parseDate(d, \"%Q\")").message,
            "invalid date format \"%Q\""
        );
        assert_eq!(err("\"open").message, "unterminated string");
        assert_eq!(err("userName userName").position, 10);
        assert_eq!(
            err("").message,
            "expected a value, found the end of the expression"
        );
        let deep = format!("{}x{}", "lower(".repeat(40), ")".repeat(40));
        assert!(err(&deep).message.contains("nested deeper"));
        assert!(err(&"a".repeat(MAX_LENGTH + 1)).message.contains("longer"));
    }
}
