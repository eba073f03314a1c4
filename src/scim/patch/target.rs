//! What a PATCH path names, decided against the schema registry.

use crate::scim::error::{ScimError, ScimType};
use crate::scim::filter::{Filter, check};
use crate::scim::path::PatchPath;
use crate::scim::registry::{ResourceKind, common_attribute, registry};
use crate::scim::schema::{AttrType, AttributeDef, Mutability, SchemaDef};

#[derive(Debug)]
pub(super) enum Target {
    /// A whole schema named by its URN: its attributes are the value's keys.
    /// `extension` is false for the resource's core schema.
    Schema {
        schema: &'static SchemaDef,
        extension: bool,
    },
    Attr(AttrTarget),
}

#[derive(Debug)]
pub(super) struct AttrTarget {
    /// The extension URN the attribute is stored under; `None` for core
    /// and common attributes, which sit at the top level.
    pub ext: Option<&'static str>,
    pub def: &'static AttributeDef,
    pub filter: Option<Filter>,
    pub sub: Option<&'static AttributeDef>,
    /// The path as the client wrote it, for error messages.
    pub label: String,
}

impl AttrTarget {
    /// The canonical name of the attribute (`urn:…:manager` for extensions).
    pub fn name(&self) -> String {
        match self.ext {
            Some(urn) => format!("{urn}:{}", self.def.name),
            None => self.def.name.to_string(),
        }
    }

    /// The canonical name of the sub-attribute when there is one.
    pub fn value_name(&self) -> String {
        match self.sub {
            Some(sub) => format!("{}.{}", self.name(), sub.name),
            None => self.name(),
        }
    }

    pub fn read_only(&self) -> bool {
        self.def.mutability == Mutability::ReadOnly
            || self
                .sub
                .is_some_and(|s| s.mutability == Mutability::ReadOnly)
    }

    pub fn is_group_members(&self, kind: ResourceKind) -> bool {
        kind == ResourceKind::Group && self.ext.is_none() && self.def.name == "members"
    }
}

fn invalid_path(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::InvalidPath, detail)
}

/// Resolves a path for `kind`. `Ok(None)` means the path names no attribute
/// this server defines (unknown name, sub-attribute or schema).
pub(super) fn resolve(kind: ResourceKind, path: &PatchPath) -> Result<Option<Target>, ScimError> {
    let reg = registry();
    let core = reg.core_schema(kind);
    let (schema, ext) = match &path.uri {
        None => (None, None),
        Some(uri) => {
            // A bare schema URN parses as `prefix:LastSegment`.
            let whole = format!("{uri}:{}", path.name);
            if let Some(schema) = reg.schema(&whole)
                && path.filter.is_none()
                && path.sub.is_none()
            {
                return Ok(schema_target(kind, schema));
            }
            let Some(schema) = reg.schema(uri) else {
                return Ok(None);
            };
            match schema_target(kind, schema) {
                Some(Target::Schema {
                    extension: true, ..
                }) => (Some(schema), Some(schema.id)),
                Some(_) => (Some(schema), None),
                None => return Ok(None),
            }
        }
    };
    let def = match schema {
        Some(s) => s.attribute(&path.name),
        None => common_attribute(&path.name).or_else(|| core.attribute(&path.name)),
    };
    let Some(def) = def else { return Ok(None) };
    let sub = match &path.sub {
        None => None,
        Some(name) => match def.sub_attribute(name) {
            Some(sub) => Some(sub),
            None => return Ok(None),
        },
    };
    if let Some(filter) = &path.filter {
        check_value_filter(kind, path, def, filter)?;
    }
    Ok(Some(Target::Attr(AttrTarget {
        ext,
        def,
        filter: path.filter.clone(),
        sub,
        label: path.to_string(),
    })))
}

fn schema_target(kind: ResourceKind, schema: &'static SchemaDef) -> Option<Target> {
    let reg = registry();
    if schema.id == reg.core_schema(kind).id {
        Some(Target::Schema {
            schema,
            extension: false,
        })
    } else if reg.extensions(kind).any(|e| e.id == schema.id) {
        Some(Target::Schema {
            schema,
            extension: true,
        })
    } else {
        None
    }
}

/// A value filter must range over a multi-valued complex attribute and name
/// only its sub-attributes; comparisons the filter language refuses (such
/// as ordering on booleans) are refused here too.
fn check_value_filter(
    kind: ResourceKind,
    path: &PatchPath,
    def: &'static AttributeDef,
    filter: &Filter,
) -> Result<(), ScimError> {
    if def.attr_type != AttrType::Complex || !def.multi_valued {
        return Err(invalid_path(format!(
            "'{}' is not multi-valued; a [filter] selects values of multi-valued attributes only",
            def.name
        )));
    }
    let mut stack = vec![filter];
    while let Some(f) = stack.pop() {
        let leaf = match f {
            Filter::And(a, b) | Filter::Or(a, b) => {
                stack.push(a);
                stack.push(b);
                continue;
            }
            Filter::Not(inner) => {
                stack.push(inner);
                continue;
            }
            Filter::Compare { path, .. } | Filter::Present(path) => path,
            // The parser refuses brackets inside brackets.
            Filter::ValuePath { path, .. } => path,
        };
        let known =
            leaf.uri.is_none() && leaf.sub.is_none() && def.sub_attribute(&leaf.name).is_some();
        if !known {
            return Err(ScimError::invalid_filter(format!(
                "'{leaf}' is not a sub-attribute of '{}'",
                def.name
            )));
        }
    }
    check(
        &Filter::ValuePath {
            path: path.attr(),
            filter: Box::new(filter.clone()),
        },
        kind,
    )
}
