//! What a directory's subschema entry says (RFC 4512 §4.1): the attribute
//! types it knows and, per object class, the attributes an entry of that
//! class must have (its superclasses' included). Enough to tell whether a
//! mapping produces entries the directory accepts.

use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Default)]
struct ObjectClass {
    superclasses: Vec<String>,
    must: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DirectorySchema {
    /// By lower-cased name (every alias).
    classes: HashMap<String, ObjectClass>,
    /// Lower-cased names and aliases.
    attributes: HashSet<String>,
}

/// A description's tokens: `(`, `)`, `$`, quoted strings and bare words.
fn tokens(description: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = description.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            '(' | ')' | '$' => {
                out.push(c.to_string());
                chars.next();
            }
            '\'' => {
                chars.next();
                out.push(chars.by_ref().take_while(|c| *c != '\'').collect());
            }
            c if c.is_whitespace() => {
                chars.next();
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '$' | '\'') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(word);
            }
        }
    }
    out
}

/// The values after `keyword`: one word, or a parenthesized list.
fn field(tokens: &[String], keyword: &str) -> Vec<String> {
    let Some(at) = tokens.iter().position(|t| t == keyword) else {
        return Vec::new();
    };
    match tokens.get(at + 1).map(String::as_str) {
        Some("(") => tokens[at + 2..]
            .iter()
            .take_while(|t| *t != ")")
            .filter(|t| *t != "$")
            .cloned()
            .collect(),
        Some(one) => vec![one.to_string()],
        None => Vec::new(),
    }
}

impl DirectorySchema {
    /// From the subschema entry's `objectClasses` and `attributeTypes`.
    pub fn parse(object_classes: &[String], attribute_types: &[String]) -> Self {
        let mut schema = Self::default();
        for description in attribute_types {
            let t = tokens(description);
            schema
                .attributes
                .extend(field(&t, "NAME").iter().map(|n| n.to_lowercase()));
        }
        for description in object_classes {
            let t = tokens(description);
            let class = ObjectClass {
                superclasses: field(&t, "SUP"),
                must: field(&t, "MUST"),
            };
            for name in field(&t, "NAME") {
                schema.classes.insert(name.to_lowercase(), class.clone());
            }
        }
        schema
    }

    pub fn class_count(&self) -> usize {
        self.classes.len()
    }

    pub fn attribute_count(&self) -> usize {
        self.attributes.len()
    }

    pub fn knows_attribute(&self, name: &str) -> bool {
        self.attributes.contains(&name.to_lowercase())
    }

    /// The attributes entries of `classes` must have (superclasses'
    /// included), or the first class the directory does not know.
    pub fn required(&self, classes: &[String]) -> Result<Vec<String>, String> {
        let mut out: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        let mut todo: Vec<String> = classes.to_vec();
        while let Some(name) = todo.pop() {
            if !seen.insert(name.to_lowercase()) {
                continue;
            }
            let class = self
                .classes
                .get(&name.to_lowercase())
                .ok_or_else(|| format!("the directory has no object class {name:?}"))?;
            for a in &class.must {
                if !out.iter().any(|o| o.eq_ignore_ascii_case(a)) {
                    out.push(a.clone());
                }
            }
            todo.extend(class.superclasses.iter().cloned());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn must_attributes_include_the_superclasses() {
        let classes = [
            "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
            "( 2.5.6.6 NAME 'person' DESC 'RFC2256: a person' SUP top STRUCTURAL \
             MUST ( sn $ cn ) MAY ( userPassword $ telephoneNumber ) )",
            "( 2.5.6.7 NAME 'organizationalPerson' SUP person STRUCTURAL MAY title )",
            "( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' SUP organizationalPerson \
             STRUCTURAL MAY ( mail $ uid ) )",
        ]
        .map(String::from);
        let attributes = [
            "( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )",
            "( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) EQUALITY caseIgnoreMatch )",
        ]
        .map(String::from);
        let s = DirectorySchema::parse(&classes, &attributes);
        let mut must = s.required(&["inetOrgPerson".into()]).unwrap();
        must.sort();
        assert_eq!(must, ["cn", "objectClass", "sn"]);
        assert!(s.knows_attribute("commonName") && s.knows_attribute("UID"));
        assert!(!s.knows_attribute("mail"));
        let e = s.required(&["groupOfThings".into()]).unwrap_err();
        assert!(e.contains("groupOfThings"), "{e}");
        assert_eq!(s.class_count(), 4);
    }
}
