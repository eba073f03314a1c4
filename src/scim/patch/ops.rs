//! `add`, `replace` and `remove` on one stored attribute (RFC 7644 §3.5.2.1-3).
//! Every function computes the attribute's new value from its old one;
//! values are checked and normalized with `resource::coerce`.

use serde_json::{Map, Value};

use super::request::Op;
use super::target::AttrTarget;
use crate::scim::error::{ScimError, ScimType};
use crate::scim::filter::{CompValue, CompareOp, Filter, matches_value};
use crate::scim::registry::ResourceKind;
use crate::scim::resource::coerce;
use crate::scim::schema::{AttrType, AttributeDef};

const PRIMARY: &str = "primary";

/// Applies one operation to the attribute `t` names in `attrs`.
pub(super) fn apply(
    kind: ResourceKind,
    attrs: &mut Map<String, Value>,
    op: Op,
    t: &AttrTarget,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let value = value.unwrap_or(&Value::Null);
    let old = get(attrs, t);
    let new = match (&t.filter, t.sub) {
        (Some(filter), _) => filtered(kind, op, t, filter, old, value)?,
        (None, Some(sub)) => sub_attribute(op, t, sub, old, value)?,
        (None, None) => whole(op, t, old, value)?,
    };
    put(attrs, t, new);
    Ok(())
}

fn get(attrs: &Map<String, Value>, t: &AttrTarget) -> Option<Value> {
    let scope = match t.ext {
        Some(urn) => attrs.get(urn)?.as_object()?,
        None => attrs,
    };
    scope.get(t.def.name).cloned()
}

/// Stores the new value; `None` unassigns it, and an extension left empty
/// disappears (the canonical form holds no empty objects).
fn put(attrs: &mut Map<String, Value>, t: &AttrTarget, new: Option<Value>) {
    let Some(urn) = t.ext else {
        match new {
            Some(v) => attrs.insert(t.def.name.into(), v),
            None => attrs.remove(t.def.name),
        };
        return;
    };
    let mut ext = match attrs.remove(urn) {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    match new {
        Some(v) => ext.insert(t.def.name.into(), v),
        None => ext.remove(t.def.name),
    };
    if !ext.is_empty() {
        attrs.insert(urn.into(), Value::Object(ext));
    }
}

/// A lone value where an array is expected is read as a one-value array.
fn as_array(value: &Value) -> Value {
    match value {
        Value::Array(_) | Value::Null => value.clone(),
        single => Value::Array(vec![single.clone()]),
    }
}

/// An empty multi-valued attribute is unassigned.
fn array(items: Vec<Value>) -> Option<Value> {
    (!items.is_empty()).then_some(Value::Array(items))
}

fn items(old: Option<Value>) -> Vec<Value> {
    match old {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// Checks and normalizes one value of a multi-valued complex attribute.
fn element(def: &AttributeDef, value: &Value, label: &str) -> Result<Option<Value>, ScimError> {
    match coerce(def, &as_array(value), label)? {
        Some(Value::Array(mut one)) => Ok(one.pop()),
        _ => Ok(None),
    }
}

/// Merges a complex value into `old`: given sub-attributes replace, null
/// ones are removed, the rest stay (RFC 7644 §3.5.2.3).
fn merge(
    def: &AttributeDef,
    old: Option<Value>,
    value: &Value,
    coerced: Option<Value>,
) -> Option<Value> {
    let mut out = match old {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    if let Value::Object(fields) = value {
        for (name, v) in fields {
            if let (Value::Null, Some(sub)) = (v, def.sub_attribute(name)) {
                out.remove(sub.name);
            }
        }
    }
    if let Some(Value::Object(new)) = coerced {
        out.extend(new);
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// The attribute itself: `emails`, `title`, `name`, `…:manager`.
fn whole(
    op: Op,
    t: &AttrTarget,
    old: Option<Value>,
    value: &Value,
) -> Result<Option<Value>, ScimError> {
    let (def, label) = (t.def, t.name());
    match op {
        Op::Remove if def.multi_valued && !value.is_null() => remove_listed(t, old, value),
        Op::Remove => Ok(None),
        Op::Add if def.multi_valued => {
            let Some(Value::Array(new)) = coerce(def, &as_array(value), &label)? else {
                return Ok(old);
            };
            let mut items = items(old);
            let mut touched = Vec::new();
            for item in new {
                if !items.contains(&item) {
                    touched.push(items.len());
                    items.push(item);
                }
            }
            finish_multi(items, &touched, &label)
        }
        Op::Replace if def.multi_valued => coerce(def, &as_array(value), &label),
        Op::Add | Op::Replace if value.is_null() => Ok(if op == Op::Add { old } else { None }),
        Op::Add | Op::Replace if def.attr_type == AttrType::Complex => {
            let coerced = coerce(def, value, &label)?;
            Ok(merge(def, old, value, coerced))
        }
        Op::Add | Op::Replace => coerce(def, value, &label),
    }
}

/// `remove` of a multi-valued attribute with a `value`: drops the values
/// that carry every sub-attribute given (Entra sends `[{"value": id}]`).
fn remove_listed(
    t: &AttrTarget,
    old: Option<Value>,
    value: &Value,
) -> Result<Option<Value>, ScimError> {
    let Some(Value::Array(listed)) = coerce(t.def, &as_array(value), &t.name())? else {
        return Ok(old);
    };
    let covers = |item: &Value, given: &Value| match (item, given) {
        (Value::Object(item), Value::Object(given)) => {
            given.iter().all(|(k, v)| item.get(k) == Some(v))
        }
        (item, given) => item == given,
    };
    let mut items = items(old);
    items.retain(|item| !listed.iter().any(|given| covers(item, given)));
    Ok(array(items))
}

/// `name.givenName`: a sub-attribute of a single-valued complex attribute.
fn sub_attribute(
    op: Op,
    t: &AttrTarget,
    sub: &AttributeDef,
    old: Option<Value>,
    value: &Value,
) -> Result<Option<Value>, ScimError> {
    if t.def.multi_valued {
        return Err(ScimError::bad_request(
            ScimType::InvalidPath,
            format!(
                "'{}' would change every value of '{}'; select values with a filter such as {}[type eq \"work\"].{}",
                t.label, t.def.name, t.def.name, sub.name
            ),
        ));
    }
    let mut object = match old {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let new = match op {
        Op::Remove => None,
        Op::Add | Op::Replace => coerce(sub, value, &t.value_name())?,
    };
    match new {
        Some(v) => {
            object.insert(sub.name.into(), v);
        }
        None if op == Op::Add => {}
        None => {
            object.remove(sub.name);
        }
    }
    Ok((!object.is_empty()).then_some(Value::Object(object)))
}

/// `emails[type eq "work"]` and `emails[type eq "work"].value`.
fn filtered(
    kind: ResourceKind,
    op: Op,
    t: &AttrTarget,
    filter: &Filter,
    old: Option<Value>,
    value: &Value,
) -> Result<Option<Value>, ScimError> {
    let label = t.name();
    let mut items = items(old);
    let matched: Vec<usize> = (0..items.len())
        .filter(|&i| matches_value(filter, kind, t.def, &items[i]))
        .collect();
    if op == Op::Remove {
        // Removing what is not there leaves the wanted state: no error.
        for &i in &matched {
            match (t.sub, items[i].as_object_mut()) {
                (Some(sub), Some(object)) => {
                    object.remove(sub.name);
                }
                _ => items[i] = Value::Null,
            }
        }
        return finish_multi(items, &[], &label);
    }
    if t.sub.is_none() && value.is_array() {
        return Err(ScimError::invalid_value(format!(
            "'{}' selects values one by one; its value must be one object, not an array",
            t.label
        )));
    }
    if value.is_null() && (op == Op::Add || matched.is_empty()) {
        return Ok(array(items));
    }
    let pinned = derive(t.def, filter);
    if matched.is_empty() {
        // Entra replaces `emails[type eq "work"].value` on users without a
        // work email and expects one to appear: build it from the filter.
        let Some(pinned) = pinned else {
            return Err(ScimError::bad_request(
                ScimType::NoTarget,
                format!(
                    "no value of '{}' matches the filter in '{}'",
                    t.def.name, t.label
                ),
            ));
        };
        let mut raw = pinned;
        match t.sub {
            Some(sub) => {
                raw.insert(sub.name.into(), value.clone());
            }
            None => fill(&mut raw, value),
        }
        if let Some(new) = element(t.def, &Value::Object(raw), &label)? {
            items.push(new);
            let touched = [items.len() - 1];
            return finish_multi(items, &touched, &label);
        }
        return Ok(array(items));
    }
    for &i in &matched {
        let old = std::mem::take(&mut items[i]);
        items[i] = match (t.sub, op) {
            (Some(sub), _) => {
                let mut object = match old {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                match coerce(sub, value, &t.value_name())? {
                    Some(v) => object.insert(sub.name.into(), v),
                    None => object.remove(sub.name),
                };
                Value::Object(object)
            }
            (None, Op::Add) => {
                let coerced = element(t.def, value, &label)?;
                merge(t.def, Some(old), value, coerced).unwrap_or_default()
            }
            (None, _) if value.is_null() => Value::Null,
            // Replace the whole value, keeping what the filter pinned so the
            // value still matches it (the next request finds it again).
            (None, _) => {
                let mut raw = pinned.clone().unwrap_or_default();
                fill(&mut raw, value);
                element(t.def, &Value::Object(raw), &label)?.unwrap_or_default()
            }
        };
    }
    finish_multi(items, &matched, &label)
}

/// Overlays the client's value on the pinned sub-attributes.
fn fill(raw: &mut Map<String, Value>, value: &Value) {
    match value {
        Value::Object(fields) => {
            raw.retain(|k, _| !fields.keys().any(|f| f.eq_ignore_ascii_case(k)));
            raw.extend(fields.clone());
        }
        // A bare value of a complex attribute is its `value` (see `coerce`).
        other => {
            raw.insert("value".into(), other.clone());
        }
    }
}

/// The value a filter of `eq` conditions joined by `and` describes, e.g.
/// `type eq "work"` → `{"type": "work"}`; `None` for any other filter.
fn derive(def: &AttributeDef, filter: &Filter) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    let mut stack = vec![filter];
    while let Some(f) = stack.pop() {
        match f {
            Filter::And(a, b) => {
                stack.push(b);
                stack.push(a);
            }
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } => {
                let name = def.sub_attribute(&path.name)?.name;
                let v = match value {
                    CompValue::String(s) => Value::String(s.clone()),
                    CompValue::Bool(b) => Value::Bool(*b),
                    CompValue::Number(n) => Value::Number(n.clone()),
                    CompValue::Null => return None,
                };
                if out.get(name).is_some_and(|old| old != &v) {
                    return None;
                }
                out.insert(name.into(), v);
            }
            _ => return None,
        }
    }
    Some(out)
}

fn is_primary(v: &Value) -> bool {
    v.get(PRIMARY) == Some(&Value::Bool(true))
}

/// Values just written with `primary: true` take it from their siblings
/// (RFC 7643 §2.4: at most one primary value); emptied values go.
fn finish_multi(
    mut items: Vec<Value>,
    touched: &[usize],
    label: &str,
) -> Result<Option<Value>, ScimError> {
    if touched
        .iter()
        .any(|&i| items.get(i).is_some_and(is_primary))
    {
        for (i, item) in items.iter_mut().enumerate() {
            if !touched.contains(&i)
                && is_primary(item)
                && let Some(object) = item.as_object_mut()
            {
                object.remove(PRIMARY);
            }
        }
    }
    if items.iter().filter(|v| is_primary(v)).count() > 1 {
        return Err(ScimError::invalid_value(format!(
            "at most one value of '{label}' may be primary"
        )));
    }
    items.retain(|item| !item.is_null() && item.as_object().is_none_or(|o| !o.is_empty()));
    Ok(array(items))
}
