//! The PATCH engine (RFC 7644 §3.5.2): a pure function from the stored
//! attributes and a list of operations to the new attributes, or an error.
//! Nothing is written until every operation succeeded, so a request is
//! atomic by construction.
//!
//! Decisions where the RFC leaves room or real clients disagree with it:
//! - Without a `path`, the value's keys are paths (`name.givenName`,
//!   `urn:…:User:employeeNumber`, a schema URN with an object); readOnly
//!   keys (`id`, `meta`, `groups`…) and `schemas` are ignored as on PUT (Okta
//!   renames a group with `{"id": …, "displayName": …}`), unknown ones (also
//!   keys that are no attribute name at all) are ignored and reported in
//!   `ignored`, as POST and PUT ignore unknown attributes. An explicit `path`
//!   naming a readOnly attribute is 400 `mutability`, an unknown one 400
//!   `invalidPath`.
//! - Group `members` are never read: operations on them come back as
//!   `MemberChanges`, so a PATCH costs the same at any group size.
//! - `remove` with a `value` on a multi-valued attribute removes the values
//!   carrying every sub-attribute given (Entra's member removal); on a
//!   single-valued attribute the value is ignored.
//! - `replace`/`add` through a filter that matches nothing creates the value
//!   when the filter is `eq` conditions joined by `and` (Entra), else 400
//!   `noTarget`. `remove` through a filter that matches nothing succeeds.
//! - Removing a required attribute is 400 `mutability` (RFC 7644 §3.5.2.2);
//!   blanking it is 400 `invalidValue`.

mod members;
mod ops;
mod request;
mod target;

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

pub use members::{MemberChanges, MemberType, MemberValue};
pub use request::{Op, PATCH_OP_SCHEMA, PatchOp, parse_patch_request};

use members::MemberLog;
use request::in_operation;
use target::{AttrTarget, Target, resolve};

use super::error::{ScimError, ScimType};
use super::path::parse_path;
use super::registry::{ResourceKind, common_attribute, registry};
use super::resource::{check_immutable, coerce, missing_extension_attribute};
use super::schema::{Mutability, SchemaDef};

/// The result of a successful PATCH.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOutcome {
    /// The new canonical attributes (same form as `resource::validate`).
    pub attributes: Map<String, Value>,
    /// A new cleartext password (write-only: hash it, never store it).
    pub password: Option<String>,
    /// Group membership changes, to apply to the member rows.
    pub members: MemberChanges,
    /// Canonical names of the attributes whose value changed, in schema
    /// order (`urn:…:User:manager` for extension attributes).
    pub changed: Vec<String>,
    /// Path-less keys naming nothing this server defines (log, never echo).
    pub ignored: Vec<String>,
}

/// Applies `ops` to `current`, the canonical stored attributes of a `kind`
/// (no `id`, `meta`, `schemas`, password or group members). All or nothing.
pub fn apply(
    kind: ResourceKind,
    current: &Map<String, Value>,
    ops: &[PatchOp],
) -> Result<PatchOutcome, ScimError> {
    let mut engine = Engine {
        kind,
        attrs: current.clone(),
        password: None,
        members: MemberLog::default(),
        ignored: Vec::new(),
    };
    for (i, op) in ops.iter().enumerate() {
        engine.operation(op).map_err(in_operation(i))?;
    }
    check_immutable(kind, current, &engine.attrs)?;
    check_required(kind, &engine.attrs)?;
    let members = engine.members.finish();
    let changed = changed(kind, current, &engine.attrs, &engine.password, &members);
    Ok(PatchOutcome {
        attributes: engine.attrs,
        password: engine.password,
        members,
        changed,
        ignored: engine.ignored,
    })
}

struct Engine {
    kind: ResourceKind,
    attrs: Map<String, Value>,
    password: Option<String>,
    members: MemberLog,
    ignored: Vec<String>,
}

impl Engine {
    fn operation(&mut self, op: &PatchOp) -> Result<(), ScimError> {
        let value = op.value.as_ref();
        let Some(path) = &op.path else {
            return match op.op {
                Op::Remove => Err(ScimError::bad_request(
                    ScimType::NoTarget,
                    "'remove' needs a 'path' naming what to remove",
                )),
                _ => self.pathless(op.op, value, None),
            };
        };
        match resolve(self.kind, path)? {
            None => Err(ScimError::bad_request(
                ScimType::InvalidPath,
                format!(
                    "'{path}' does not name an attribute of a {}",
                    self.kind.as_str()
                ),
            )),
            Some(Target::Schema { schema, extension }) => {
                self.schema(op.op, schema, extension, value)
            }
            Some(Target::Attr(t)) => self.attribute(op.op, &t, value),
        }
    }

    /// A path naming a whole schema: its attributes are the value's keys.
    fn schema(
        &mut self,
        op: Op,
        schema: &'static SchemaDef,
        extension: bool,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        match (op, value, extension) {
            (Op::Remove, _, true) | (Op::Replace, Some(Value::Null), true) => {
                self.attrs.remove(schema.id);
                Ok(())
            }
            (Op::Remove, _, false) => Err(ScimError::bad_request(
                ScimType::InvalidPath,
                "the core schema cannot be removed; name the attributes to remove",
            )),
            (_, Some(Value::Null), _) => Ok(()),
            (_, Some(Value::Object(_)), _) => self.pathless(op, value, extension.then_some(schema)),
            _ => Err(ScimError::invalid_value(format!(
                "'{}' takes an object of its attributes",
                schema.id
            ))),
        }
    }

    /// `add`/`replace` without a path (or on a schema URN): every key of the
    /// value is a path, relative to `extension` when given.
    fn pathless(
        &mut self,
        op: Op,
        value: Option<&Value>,
        extension: Option<&'static SchemaDef>,
    ) -> Result<(), ScimError> {
        let Some(Value::Object(fields)) = value else {
            return Err(ScimError::invalid_value(
                "without a 'path', 'value' must be an object of attribute names and values",
            ));
        };
        for (key, v) in fields {
            if extension.is_none() && key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            let text = match extension {
                Some(schema) => format!("{}:{key}", schema.id),
                None => key.clone(),
            };
            // A key that is no attribute name at all ("First Name") is as
            // unknown as any other; a broken `[filter]` is still an error.
            let path = match parse_path(&text) {
                Ok(path) => path,
                Err(e) if e.scim_type == Some(ScimType::InvalidPath) => {
                    self.ignored.push(text);
                    continue;
                }
                Err(e) => return Err(e),
            };
            match resolve(self.kind, &path)? {
                None => self.ignored.push(text),
                // `{"urn:…:enterprise:2.0:User": {…}}`; keys inside an
                // extension are prefixed with its URN, so this cannot nest.
                Some(Target::Schema { schema, extension }) => {
                    self.schema(op, schema, extension, Some(v))?
                }
                Some(Target::Attr(t)) if t.read_only() => {}
                Some(Target::Attr(t)) => self.attribute(op, &t, Some(v))?,
            }
        }
        Ok(())
    }

    fn attribute(
        &mut self,
        op: Op,
        t: &AttrTarget,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        if t.is_group_members(self.kind) {
            return self.members.apply(op, t, value);
        }
        if t.read_only() {
            return Err(ScimError::mutability(format!(
                "'{}' is readOnly and cannot be changed",
                t.label
            )));
        }
        if t.def.mutability == Mutability::WriteOnly {
            return self.write_only(op, t, value);
        }
        ops::apply(self.kind, &mut self.attrs, op, t, value)
    }

    /// `password`: handed back to be hashed, never kept in the attributes.
    fn write_only(
        &mut self,
        op: Op,
        t: &AttrTarget,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        if op == Op::Remove {
            return Err(ScimError::mutability(format!(
                "'{}' cannot be removed, only replaced",
                t.label
            )));
        }
        match coerce(t.def, value.unwrap_or(&Value::Null), t.def.name)? {
            Some(Value::String(s)) => {
                self.password = Some(s);
                Ok(())
            }
            _ => Err(ScimError::invalid_value(format!(
                "'{}' must be a string",
                t.def.name
            ))),
        }
    }
}

/// RFC 7644 §3.5.2.2: a required attribute that becomes unassigned is 400
/// `mutability`; one set to a blank string is an invalid value.
fn check_required(kind: ResourceKind, attrs: &Map<String, Value>) -> Result<(), ScimError> {
    for def in registry()
        .core_schema(kind)
        .attributes
        .iter()
        .filter(|a| a.required)
    {
        match attrs.get(def.name) {
            None | Some(Value::Null) => {
                return Err(ScimError::mutability(format!(
                    "'{}' is required and cannot be removed",
                    def.name
                )));
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(ScimError::invalid_value(format!(
                    "'{}' is required and cannot be empty",
                    def.name
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(path) = missing_extension_attribute(kind, attrs) {
        return Err(ScimError::mutability(format!(
            "'{path}' is required: give it a value, or remove the whole extension"
        )));
    }
    Ok(())
}

/// Names of the attributes that differ, in schema order.
fn changed(
    kind: ResourceKind,
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    password: &Option<String>,
    members: &MemberChanges,
) -> Vec<String> {
    let reg = registry();
    let mut out = Vec::new();
    let core = common_attribute("externalId")
        .into_iter()
        .chain(&reg.core_schema(kind).attributes);
    for def in core {
        let differs = before.get(def.name) != after.get(def.name)
            || (def.mutability == Mutability::WriteOnly && password.is_some())
            || (kind == ResourceKind::Group && def.name == "members" && !members.is_empty());
        if differs {
            out.push(def.name.to_string());
        }
    }
    for ext in reg.extensions(kind) {
        let pick =
            |m: &Map<String, Value>, name: &str| m.get(ext.id).and_then(|e| e.get(name)).cloned();
        for def in &ext.attributes {
            if pick(before, def.name) != pick(after, def.name) {
                out.push(format!("{}:{}", ext.id, def.name));
            }
        }
    }
    out
}
