//! RFC 7643 §2 attribute characteristics and schema definitions.

use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

#[derive(Debug, Clone)]
pub struct AttributeDef {
    pub name: &'static str,
    pub attr_type: AttrType,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: &'static [&'static str],
    /// Only `canonical_values` are accepted (admin-defined attributes); the
    /// built-in ones list them as suggestions (RFC 7643 §2.3.1).
    pub canonical_enforced: bool,
    pub reference_types: &'static [&'static str],
    pub sub_attributes: Vec<AttributeDef>,
}

impl AttributeDef {
    /// A single-valued, optional, readWrite string that is not case-exact:
    /// the most common shape, refined with the builder methods below.
    pub fn new(name: &'static str, attr_type: AttrType, description: &'static str) -> Self {
        Self {
            name,
            attr_type,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            canonical_enforced: false,
            reference_types: &[],
            sub_attributes: Vec::new(),
        }
    }

    pub fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::String, description)
    }

    pub fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    pub fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    pub fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    pub fn unique(mut self, u: Uniqueness) -> Self {
        self.uniqueness = u;
        self
    }
    pub fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }
    pub fn references(mut self, types: &'static [&'static str]) -> Self {
        self.reference_types = types;
        self
    }
    pub fn with_subs(mut self, subs: Vec<AttributeDef>) -> Self {
        self.sub_attributes = subs;
        self
    }

    /// Sub-attribute lookup; attribute names compare case-insensitively.
    pub fn sub_attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The RFC 7643 §7 representation used by `/Schemas`.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("name".into(), json!(self.name));
        map.insert("type".into(), json!(type_name(self.attr_type)));
        map.insert("multiValued".into(), json!(self.multi_valued));
        map.insert("description".into(), json!(self.description));
        map.insert("required".into(), json!(self.required));
        if !self.canonical_values.is_empty() {
            map.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        map.insert("caseExact".into(), json!(self.case_exact));
        map.insert("mutability".into(), json!(mutability_name(self.mutability)));
        map.insert("returned".into(), json!(returned_name(self.returned)));
        map.insert("uniqueness".into(), json!(uniqueness_name(self.uniqueness)));
        if !self.reference_types.is_empty() {
            map.insert("referenceTypes".into(), json!(self.reference_types));
        }
        if !self.sub_attributes.is_empty() {
            let subs: Vec<Value> = self.sub_attributes.iter().map(|a| a.to_json()).collect();
            map.insert("subAttributes".into(), Value::Array(subs));
        }
        Value::Object(map)
    }
}

#[derive(Debug, Clone)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<AttributeDef>,
}

impl SchemaDef {
    pub fn attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// The RFC 7643 §2.3 name of a type (`dateTime`, `reference`, …).
pub fn type_name(t: AttrType) -> &'static str {
    match t {
        AttrType::String => "string",
        AttrType::Boolean => "boolean",
        AttrType::Decimal => "decimal",
        AttrType::Integer => "integer",
        AttrType::DateTime => "dateTime",
        AttrType::Binary => "binary",
        AttrType::Reference => "reference",
        AttrType::Complex => "complex",
    }
}

/// The type an RFC 7643 type name stands for (ignoring case).
pub fn type_named(name: &str) -> Option<AttrType> {
    use AttrType::*;
    named(
        &[
            String, Boolean, Decimal, Integer, DateTime, Binary, Reference, Complex,
        ],
        type_name,
        name,
    )
}

/// The value of `named` whose `name` matches (ignoring case).
fn named<T: Copy>(all: &[T], name_of: fn(T) -> &'static str, name: &str) -> Option<T> {
    all.iter()
        .copied()
        .find(|v| name_of(*v).eq_ignore_ascii_case(name))
}

pub fn mutability_named(name: &str) -> Option<Mutability> {
    use Mutability::*;
    named(
        &[ReadOnly, ReadWrite, Immutable, WriteOnly],
        mutability_name,
        name,
    )
}

pub fn returned_named(name: &str) -> Option<Returned> {
    use Returned::*;
    named(&[Always, Never, Default, Request], returned_name, name)
}

pub fn uniqueness_named(name: &str) -> Option<Uniqueness> {
    use Uniqueness::*;
    named(&[None, Server, Global], uniqueness_name, name)
}

pub fn mutability_name(m: Mutability) -> &'static str {
    match m {
        Mutability::ReadOnly => "readOnly",
        Mutability::ReadWrite => "readWrite",
        Mutability::Immutable => "immutable",
        Mutability::WriteOnly => "writeOnly",
    }
}

pub fn returned_name(r: Returned) -> &'static str {
    match r {
        Returned::Always => "always",
        Returned::Never => "never",
        Returned::Default => "default",
        Returned::Request => "request",
    }
}

pub fn uniqueness_name(u: Uniqueness) -> &'static str {
    match u {
        Uniqueness::None => "none",
        Uniqueness::Server => "server",
        Uniqueness::Global => "global",
    }
}
