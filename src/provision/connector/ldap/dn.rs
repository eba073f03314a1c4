//! Distinguished names (RFC 4514): parsing into attribute/value pairs to
//! compare them, and the DN templates that place a target's entries, e.g.
//! `uid={uid},ou=people,dc=example,dc=org`, whose `{name}`s are attributes
//! of the mapped object.

use std::fmt::Write as _;

use ldap3::dn_escape;
use serde_json::Value;

use crate::scim::json::member_of;

/// One `attr=value` of a DN, the value unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ava {
    pub attr: String,
    pub value: String,
}

/// A DN as its RDNs (each one or more AVAs joined by `+`), leftmost first.
pub fn parse(dn: &str) -> Result<Vec<Vec<Ava>>, String> {
    let mut rdns = Vec::new();
    if dn.trim().is_empty() {
        return Ok(rdns);
    }
    let mut rdn = Vec::new();
    let mut chars = dn.chars().peekable();
    loop {
        let mut attr = String::new();
        let mut equals = false;
        for c in chars.by_ref() {
            if c == '=' {
                equals = true;
                break;
            }
            attr.push(c);
        }
        let attr = attr.trim().to_string();
        if !equals || !is_attribute_name(&attr) {
            return Err(format!("{dn:?} is not a DN: bad attribute name {attr:?}"));
        }
        let mut value: Vec<u8> = Vec::new();
        let mut end = None;
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    let first = chars.next().ok_or_else(|| format!("{dn:?} ends in '\\'"))?;
                    match chars.peek().copied() {
                        Some(second) if first.is_ascii_hexdigit() && second.is_ascii_hexdigit() => {
                            chars.next();
                            let hex = format!("{first}{second}");
                            value.push(u8::from_str_radix(&hex, 16).unwrap_or(b'?'));
                        }
                        _ => {
                            let mut buf = [0u8; 4];
                            value.extend_from_slice(first.encode_utf8(&mut buf).as_bytes());
                        }
                    }
                }
                ',' | ';' | '+' => {
                    end = Some(c);
                    break;
                }
                c => {
                    let mut buf = [0u8; 4];
                    value.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        let value = String::from_utf8(value)
            .map_err(|_| format!("{dn:?} is not a DN: a value is not UTF-8"))?;
        rdn.push(Ava {
            attr,
            value: value.trim().to_string(),
        });
        match end {
            Some('+') => continue,
            Some(_) => rdns.push(std::mem::take(&mut rdn)),
            None => {
                rdns.push(rdn);
                return Ok(rdns);
            }
        }
    }
}

/// An attribute description: a name (letter, then letters, digits, '-')
/// or a numeric OID.
pub fn is_attribute_name(s: &str) -> bool {
    let name = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let oid = !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    name || oid
}

/// A DN in a form two spellings of the same name share: attribute names
/// and values lower-cased, escapes resolved, spaces around separators gone.
/// (Directories compare naming attributes case-insensitively.)
pub fn normalize(dn: &str) -> String {
    match parse(dn) {
        Ok(rdns) => rdns
            .iter()
            .map(|rdn| {
                let mut avas: Vec<String> = rdn
                    .iter()
                    .map(|a| format!("{}={}", a.attr.to_lowercase(), a.value.to_lowercase()))
                    .collect();
                avas.sort();
                avas.join("+")
            })
            .collect::<Vec<_>>()
            .join(","),
        Err(_) => dn.trim().to_lowercase(),
    }
}

/// Whether `dn` is `base` or below it.
pub fn is_within(dn: &str, base: &str) -> bool {
    let (dn, base) = (normalize(dn), normalize(base));
    base.is_empty() || dn == base || dn.ends_with(&format!(",{base}"))
}

/// The DN's first RDN and its parent (the rest), as written.
pub fn split_first(dn: &str) -> (String, String) {
    let mut escaped = false;
    for (i, c) in dn.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            ',' | ';' if !escaped => {
                return (dn[..i].trim().to_string(), dn[i + 1..].trim().to_string());
            }
            _ => escaped = false,
        }
    }
    (dn.trim().to_string(), String::new())
}

/// The DN's parent (everything after the first RDN), as written.
pub fn parent(dn: &str) -> String {
    split_first(dn).1
}

/// `attr=value` with the value escaped.
pub fn rdn(attr: &str, value: &str) -> String {
    format!("{attr}={}", dn_escape(value))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Attribute(String),
}

/// A DN template whose first RDN is `ATTR={ATTR}`: the entry's naming
/// attribute is one the mapping sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnTemplate {
    rdn_attribute: String,
    /// What follows the first RDN (the container), with placeholders.
    container: Vec<Piece>,
}

impl DnTemplate {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (first, rest) = match text.split_once(',') {
            Some((first, rest)) => (first.trim(), rest.trim()),
            None => (text, ""),
        };
        let bad_first = || {
            format!(
                "the DN template {text:?} must start with ATTR={{ATTR}}, e.g. \
                 uid={{uid}},ou=people,dc=example,dc=org"
            )
        };
        let (attr, placeholder) = first.split_once('=').ok_or_else(bad_first)?;
        let attr = attr.trim();
        let named = placeholder
            .trim()
            .strip_prefix('{')
            .and_then(|p| p.strip_suffix('}'))
            .ok_or_else(bad_first)?;
        if !is_attribute_name(attr) || !named.trim().eq_ignore_ascii_case(attr) {
            return Err(bad_first());
        }
        if rest.is_empty() {
            return Err(format!(
                "the DN template {text:?} names no container (…,ou=people,dc=example,dc=org)"
            ));
        }
        let mut container = Vec::new();
        let mut chars = rest.chars();
        let mut literal = String::new();
        while let Some(c) = chars.next() {
            if c != '{' {
                literal.push(c);
                continue;
            }
            let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
            if !is_attribute_name(name.trim()) {
                return Err(format!(
                    "the DN template {text:?} has a bad placeholder {{{name}}}"
                ));
            }
            container.push(Piece::Text(std::mem::take(&mut literal)));
            container.push(Piece::Attribute(name.trim().to_string()));
        }
        container.push(Piece::Text(literal));
        let template = Self {
            rdn_attribute: attr.to_string(),
            container,
        };
        // Every placeholder filled with a plain value must give a DN.
        parse(&template.container_with(|_| "x".to_string()))
            .map_err(|e| format!("the DN template {text:?}: {e}"))?;
        Ok(template)
    }

    /// The entry's naming attribute (`uid` in `uid={uid},…`).
    pub fn rdn_attribute(&self) -> &str {
        &self.rdn_attribute
    }

    /// Every attribute the template reads from the mapped object.
    pub fn attributes(&self) -> Vec<&str> {
        let mut out = vec![self.rdn_attribute.as_str()];
        for p in &self.container {
            if let Piece::Attribute(a) = p
                && !out.iter().any(|o| o.eq_ignore_ascii_case(a))
            {
                out.push(a);
            }
        }
        out
    }

    fn container_with(&self, mut fill: impl FnMut(&str) -> String) -> String {
        let mut out = String::new();
        for p in &self.container {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Attribute(a) => {
                    let _ = write!(out, "{}", dn_escape(fill(a)));
                }
            }
        }
        out.trim().to_string()
    }

    /// The container when the template names one with no placeholder.
    pub fn fixed_container(&self) -> Option<String> {
        match self.container.as_slice() {
            [Piece::Text(t)] => Some(t.trim().to_string()),
            _ => None,
        }
    }

    /// The container with every placeholder filled in (for checks).
    pub fn sample_container(&self) -> String {
        self.container_with(|_| "x".to_string())
    }

    /// The entry's RDN (`uid=ann`) and its container's DN for `object`.
    pub fn place(&self, object: &Value) -> Result<(String, String), String> {
        let value_of = |attr: &str| -> Result<String, String> {
            first_value(object, attr).ok_or_else(|| {
                format!("the DN template needs '{attr}', which the mapped object lacks")
            })
        };
        let rdn_value = value_of(&self.rdn_attribute)?;
        let mut missing = None;
        let container = self.container_with(|a| {
            value_of(a).unwrap_or_else(|e| {
                missing.get_or_insert(e);
                String::new()
            })
        });
        if let Some(e) = missing {
            return Err(e);
        }
        Ok((rdn(&self.rdn_attribute, &rdn_value), container))
    }
}

/// The first non-empty value of an attribute of a mapped object, as text.
pub fn first_value(object: &Value, attr: &str) -> Option<String> {
    let text = |v: &Value| match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match member_of(object, attr)? {
        Value::Array(items) => items.iter().find_map(text),
        v => text(v),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dns_parse_with_escapes_and_compare_by_meaning() {
        let rdns = parse(r"cn=Lee\, Ann+uid=al,OU=People , dc=example,dc=org").unwrap();
        assert_eq!(rdns.len(), 4);
        assert_eq!(rdns[0][0].value, "Lee, Ann");
        assert_eq!(rdns[0][1].attr, "uid");
        assert_eq!(parse(r"cn=a\2Cb").unwrap()[0][0].value, "a,b");
        assert_eq!(
            normalize("uid=Ann,OU=People, dc=Example,dc=org"),
            normalize("UID=ann,ou=people,dc=example,DC=org")
        );
        assert!(is_within(
            "uid=a,ou=People,dc=example,dc=org",
            "DC=example,dc=org"
        ));
        assert!(!is_within("uid=a,dc=other,dc=org", "dc=example,dc=org"));
        assert!(!is_within("uid=a,dc=xexample,dc=org", "dc=example,dc=org"));
        assert_eq!(parent(r"cn=a\,b,ou=x,dc=y"), "ou=x,dc=y");
        assert_eq!(split_first(r"cn=a\,b,ou=x").0, r"cn=a\,b");
        assert!(parse("no equals sign").is_err());
        assert!(parse("1bad=x").is_err());
        assert_eq!(parse("").unwrap(), Vec::<Vec<Ava>>::new());
    }

    #[test]
    fn templates_place_entries_by_the_mapped_object() {
        let t = DnTemplate::parse("uid={uid},ou={ou},dc=example,dc=org").unwrap();
        assert_eq!(t.rdn_attribute(), "uid");
        assert_eq!(t.attributes(), vec!["uid", "ou"]);
        assert_eq!(t.fixed_container(), None);
        let fixed = DnTemplate::parse("cn={cn}, ou=groups,dc=x").unwrap();
        assert_eq!(fixed.fixed_container().as_deref(), Some("ou=groups,dc=x"));
        let (rdn, container) = t
            .place(&json!({"uid": "lee, ann", "ou": ["Sales+EU"]}))
            .unwrap();
        assert_eq!(rdn, r"uid=lee\2c ann");
        assert_eq!(container, r"ou=Sales\2bEU,dc=example,dc=org");
        assert_eq!(parse(&rdn).unwrap()[0][0].value, "lee, ann");
        let e = t.place(&json!({"uid": "a"})).unwrap_err();
        assert!(e.contains("needs 'ou'"), "{e}");
        assert!(t.place(&json!({"uid": " ", "ou": "x"})).is_err());
    }

    #[test]
    fn templates_must_start_with_their_naming_attribute() {
        for bad in [
            "cn={uid},ou=people,dc=x",
            "uid=fixed,ou=people,dc=x",
            "uid={uid}",
            "{uid},ou=x",
            "uid={uid},ou={not valid},dc=x",
            "uid={uid},ou",
        ] {
            assert!(DnTemplate::parse(bad).is_err(), "{bad}");
        }
        assert!(DnTemplate::parse("CN={cn},ou=groups,dc=x").is_ok());
    }
}
