//! `docs/configuration.md` cannot drift from `Config`: every key the file
//! accepts has a row, every row names a real key, every `SCIMHUB_*`
//! variable the code reads is named, and every TOML example parses.
//!
//! The keys come from `Config`'s own `Deserialize`: it is run against a
//! deserializer that answers every struct with all of its fields and records
//! the path of each value it is asked for, so a field added to any nested
//! struct shows up here without a list to maintain.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde::Deserialize;
use serde::de::value::{Error, MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use super::Config;

const DOC: &str = include_str!("../../docs/configuration.md");

#[derive(Default)]
struct Trace {
    /// Paths of values (not tables), e.g. `sync.poll_ms`, `notify[].url`.
    keys: BTreeSet<String>,
    /// The last value path read: where a failed pass failed.
    last: String,
    /// Paths answered as absent (`None`, `[]`) because a made-up value was
    /// refused there (e.g. an empty string is no `SecretKey`).
    absent: BTreeSet<String>,
    /// Set when an array element turned out not to be a table.
    element_not_table: bool,
}

#[derive(Clone)]
struct Probe<'t> {
    trace: &'t RefCell<Trace>,
    path: String,
    /// An array element: only a table is explored; anything else ends the array.
    element: bool,
}

impl<'t> Probe<'t> {
    fn child(&self, field: &str) -> Self {
        let path = if self.path.is_empty() {
            field.to_string()
        } else {
            format!("{}.{field}", self.path)
        };
        Probe {
            trace: self.trace,
            path,
            element: false,
        }
    }

    /// Records a value at this path; an array element must be a table.
    fn value(&self) -> Result<(), Error> {
        let mut trace = self.trace.borrow_mut();
        if self.element {
            trace.element_not_table = true;
            return Err(de::Error::custom("not a table"));
        }
        trace.keys.insert(self.path.clone());
        trace.last = self.path.clone();
        Ok(())
    }

    fn absent(&self) -> bool {
        self.trace.borrow().absent.contains(&self.path)
    }
}

macro_rules! values {
    ($($method:ident => $visit:ident($($arg:expr)?)),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.value()?;
            visitor.$visit($($arg)?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Probe<'_> {
    type Error = Error;

    values! {
        deserialize_any => visit_unit(),
        deserialize_bool => visit_bool(false),
        deserialize_i8 => visit_i8(0),
        deserialize_i16 => visit_i16(0),
        deserialize_i32 => visit_i32(0),
        deserialize_i64 => visit_i64(0),
        deserialize_u8 => visit_u8(0),
        deserialize_u16 => visit_u16(0),
        deserialize_u32 => visit_u32(0),
        deserialize_u64 => visit_u64(0),
        deserialize_f32 => visit_f32(0.0),
        deserialize_f64 => visit_f64(0.0),
        deserialize_char => visit_char('x'),
        deserialize_str => visit_str(""),
        deserialize_string => visit_str(""),
        deserialize_bytes => visit_bytes(&[]),
        deserialize_byte_buf => visit_bytes(&[]),
        deserialize_unit => visit_unit(),
        deserialize_identifier => visit_str(""),
        deserialize_ignored_any => visit_unit(),
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.absent() {
            self.value()?;
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.value()?;
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.element || self.absent() {
            self.value()?;
            return visitor.visit_seq(SeqDeserializer::new(std::iter::empty::<u8>()));
        }
        let element = Probe {
            trace: self.trace,
            path: format!("{}[]", self.path),
            element: true,
        };
        visitor.visit_seq(OneElement {
            array: self,
            element: Some(element),
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.value()?;
        visitor.visit_map(MapDeserializer::new(std::iter::empty::<(u8, u8)>()))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let table = Probe {
            element: false,
            ..self
        };
        visitor.visit_map(Fields {
            table,
            fields: fields.iter(),
            current: None,
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.value()?;
        let first = variants.first().copied().unwrap_or_default();
        visitor.visit_enum(first.into_deserializer())
    }
}

/// A table answering each of its fields once.
struct Fields<'t> {
    table: Probe<'t>,
    fields: std::slice::Iter<'static, &'static str>,
    current: Option<&'static str>,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(field) = self.fields.next() else {
            return Ok(None);
        };
        self.current = Some(field);
        seed.deserialize(field.into_deserializer()).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        let field = self.current.take().unwrap_or_default();
        seed.deserialize(self.table.child(field))
    }
}

/// An array of one probed element; when that element is no table the
/// array is answered empty and recorded as a value itself.
struct OneElement<'t> {
    array: Probe<'t>,
    element: Option<Probe<'t>>,
}

impl<'de> SeqAccess<'de> for OneElement<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(element) = self.element.take() else {
            return Ok(None);
        };
        match seed.deserialize(element) {
            Ok(value) => Ok(Some(value)),
            Err(_) if std::mem::take(&mut self.array.trace.borrow_mut().element_not_table) => {
                self.array.value()?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// Every key `Config` accepts in the file: `listen`, `sync.poll_ms`,
/// `jwt_issuers[].issuer`, … (tables themselves are not keys).
fn accepted_keys() -> BTreeSet<String> {
    let trace = RefCell::new(Trace::default());
    loop {
        trace.borrow_mut().keys.clear();
        let probe = Probe {
            trace: &trace,
            path: String::new(),
            element: false,
        };
        let failed = match Config::deserialize(probe) {
            Ok(_) => return trace.take().keys,
            Err(e) => (trace.borrow().last.clone(), e),
        };
        // Answer that value as absent next time; a second failure there is a bug here.
        let newly = trace.borrow_mut().absent.insert(failed.0.clone());
        assert!(newly, "cannot trace Config at {}: {}", failed.0, failed.1);
    }
}

/// The first cells of every table whose header's first cell is `key`.
fn documented_keys(doc: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut in_table = false;
    for line in doc.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        let first = line
            .trim_matches('|')
            .split('|')
            .next()
            .unwrap_or("")
            .trim();
        if first == "key" {
            in_table = true;
        } else if in_table && !first.starts_with("---") {
            keys.push(first.trim_matches('`').to_string());
        }
    }
    keys
}

fn scimhub_variables(text: &str) -> BTreeSet<String> {
    let name = regex::Regex::new(r"SCIMHUB_[A-Z0-9_]*[A-Z0-9]").unwrap();
    name.find_iter(text)
        .map(|m| m.as_str().to_string())
        .collect()
}

/// Every `SCIMHUB_*` variable the code reads: the names `apply_env` matches
/// (written without the prefix) and every quoted `SCIMHUB_…` literal in
/// `src/` (clap `env = …`, constants), except compile-time `env!` ones.
fn variables_read_by_the_code() -> BTreeSet<String> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let arm = regex::Regex::new(r#""([A-Z][A-Z0-9_]*)"\s*=>"#).unwrap();
    let literal = regex::Regex::new(r#"(env!\(\s*)?"(SCIMHUB_[A-Z0-9_]+)""#).unwrap();
    let mut names = BTreeSet::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let literals = literal.captures_iter(&text).filter(|c| c.get(1).is_none());
            names.extend(literals.map(|c| c[2].to_string()));
            let config_file = path.starts_with(src.join("config")) || path == src.join("config.rs");
            if config_file && text.contains("fn apply_env") {
                names.extend(
                    arm.captures_iter(&text)
                        .map(|c| format!("SCIMHUB_{}", &c[1])),
                );
            }
        }
    }
    names
}

#[test]
fn the_probe_finds_nested_and_array_keys() {
    let keys = accepted_keys();
    for key in [
        "listen",
        "secret_key",
        "trusted_proxies",
        "sync.poll_ms",
        "webhooks.subscription_batch",
        "email.security",
        "email.to",
        "notify[].url",
        "jwt_issuers[].leeway_secs",
        "log_format",
    ] {
        assert!(keys.contains(key), "{key} missing from {keys:?}");
    }
    // Tables are not keys, and skipped fields (the SMTP password: environment only) are none.
    for not_a_key in ["sync", "email", "notify", "notify[]", "email.password"] {
        assert!(!keys.contains(not_a_key), "{not_a_key} in {keys:?}");
    }
}

#[test]
fn the_reference_has_a_row_for_every_key_and_no_other() {
    let accepted = accepted_keys();
    let rows = documented_keys(DOC);
    let documented: BTreeSet<String> = rows.iter().cloned().collect();
    assert_eq!(documented.len(), rows.len(), "a key has two rows: {rows:?}");
    let missing: Vec<_> = accepted.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&accepted).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "docs/configuration.md lacks rows for {missing:?} and has rows for unknown keys {unknown:?}"
    );
}

#[test]
fn the_reference_names_every_environment_variable_the_code_reads() {
    let read = variables_read_by_the_code();
    assert!(read.contains("SCIMHUB_SECRET_KEY") && read.contains("SCIMHUB_WEBHOOK_TIMEOUT_MS"));
    assert!(read.contains("SCIMHUB_TARGET_TOKEN") && read.contains("SCIMHUB_CONFIG"));
    let documented = scimhub_variables(DOC);
    let missing: Vec<_> = read.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&read).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "docs/configuration.md lacks {missing:?} and names {unknown:?}, which nothing reads"
    );
}

#[test]
fn every_toml_example_in_the_reference_is_a_valid_configuration() {
    let mut blocks = 0;
    let mut rest = DOC;
    while let Some(start) = rest.find("```toml\n") {
        let body = &rest[start + "```toml\n".len()..];
        let end = body.find("```").expect("an unclosed toml block");
        if let Err(e) = toml::from_str::<Config>(&body[..end]) {
            panic!(
                "a TOML example in docs/configuration.md is refused: {e}\n{}",
                &body[..end]
            );
        }
        blocks += 1;
        rest = &body[end..];
    }
    assert!(blocks >= 2, "the examples were not found");
}
