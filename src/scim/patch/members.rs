//! Group membership changes. Members are rows in the store and a group may
//! have 100,000 of them, so PATCH never sees the member list: operations on
//! `members` become a description of the change, whatever the group's size.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::request::Op;
use super::target::AttrTarget;
use crate::scim::error::{ScimError, ScimType};
use crate::scim::filter::{CompValue, CompareOp, Filter};
use crate::scim::resource::coerce;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberType {
    User,
    Group,
}

impl MemberType {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberType::User => "User",
            MemberType::Group => "Group",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("User") {
            Some(MemberType::User)
        } else if s.eq_ignore_ascii_case("Group") {
            Some(MemberType::Group)
        } else {
            None
        }
    }
}

/// One member to add: its id and, when the client said, its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberValue {
    pub value: String,
    pub member_type: Option<MemberType>,
}

/// The net effect of a request on a group's members, in this order:
/// if `remove_all`, drop every current member; then drop `remove`; then
/// insert `add` (ignoring ones already present). The operations' order is
/// already folded in: an id is never in both `remove` and `add`, and
/// `remove` is empty when `remove_all` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberChanges {
    pub remove_all: bool,
    pub remove: Vec<String>,
    pub add: Vec<MemberValue>,
}

impl MemberChanges {
    pub fn is_empty(&self) -> bool {
        !self.remove_all && self.remove.is_empty() && self.add.is_empty()
    }
}

/// Builds `MemberChanges` in time linear in the number of ids named
/// (a replace may carry tens of thousands), keeping request order.
#[derive(Debug, Default)]
pub(super) struct MemberLog {
    remove_all: bool,
    remove: Vec<Option<String>>,
    removed_at: HashMap<String, usize>,
    add: Vec<Option<MemberValue>>,
    added_at: HashMap<String, usize>,
}

impl MemberLog {
    fn clear(&mut self) {
        *self = MemberLog {
            remove_all: true,
            ..MemberLog::default()
        };
    }

    fn add(&mut self, member: MemberValue) {
        if let Some(i) = self.removed_at.remove(&member.value) {
            self.remove[i] = None;
        }
        match self.added_at.get(&member.value) {
            Some(&i) => self.add[i] = Some(member),
            None => {
                self.added_at.insert(member.value.clone(), self.add.len());
                self.add.push(Some(member));
            }
        }
    }

    fn remove(&mut self, id: String) {
        if let Some(i) = self.added_at.remove(&id) {
            self.add[i] = None;
        }
        // After a clear nothing but this request's additions is left.
        if !self.remove_all && !self.removed_at.contains_key(&id) {
            self.removed_at.insert(id.clone(), self.remove.len());
            self.remove.push(Some(id));
        }
    }

    pub(super) fn finish(self) -> MemberChanges {
        MemberChanges {
            remove_all: self.remove_all,
            remove: self.remove.into_iter().flatten().collect(),
            add: self.add.into_iter().flatten().collect(),
        }
    }

    /// Applies one operation whose target is `members`.
    pub(super) fn apply(
        &mut self,
        op: Op,
        target: &AttrTarget,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        if target.sub.is_some() {
            return Err(ScimError::mutability(
                "a member's value, type and $ref cannot be changed; remove the member and add it again",
            ));
        }
        match (op, &target.filter) {
            (Op::Remove, Some(filter)) => {
                for id in filter_ids(filter)? {
                    self.remove(id);
                }
            }
            (_, Some(_)) => {
                return Err(ScimError::bad_request(
                    ScimType::InvalidPath,
                    "members are added with the path 'members' and removed with \
                     'members[value eq \"id\"]'; a filtered add or replace is not supported",
                ));
            }
            (Op::Add, None) => {
                for m in members(target, value)? {
                    self.add(m);
                }
            }
            (Op::Replace, None) => {
                let wanted = members(target, value)?;
                self.clear();
                for m in wanted {
                    self.add(m);
                }
            }
            (Op::Remove, None) => match value {
                None | Some(Value::Null) => self.clear(),
                // Entra: remove exactly the members listed in `value`.
                Some(v) => {
                    for m in members(target, Some(v))? {
                        self.remove(m.value);
                    }
                }
            },
        }
        Ok(())
    }
}

/// Member values from an operation's value: an array, one object or a bare
/// id (`"u1"` for `{"value": "u1"}`, alone or in the array); `$ref` (also
/// null) is accepted and ignored, `display` is readOnly.
fn members(target: &AttrTarget, value: Option<&Value>) -> Result<Vec<MemberValue>, ScimError> {
    // Bare ids become objects here, so a blank one is refused like
    // `{"value": ""}` instead of being dropped as an empty value.
    let object = |v: &Value| match v {
        Value::String(id) => json!({ "value": id }),
        other => other.clone(),
    };
    let value = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => Some(Value::Array(items.iter().map(object).collect())),
        Some(single) => Some(Value::Array(vec![object(single)])),
    };
    let coerced = match value {
        Some(v) => coerce(target.def, &v, "members")?,
        None => None,
    };
    let Some(Value::Array(items)) = coerced else {
        return Ok(Vec::new());
    };
    items.iter().map(member).collect()
}

fn member(item: &Value) -> Result<MemberValue, ScimError> {
    let value = match item.get("value") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => {
            return Err(ScimError::invalid_value(
                "every member needs a non-empty 'value' (the member's id)",
            ));
        }
    };
    let member_type = match item.get("type").and_then(Value::as_str) {
        None => None,
        Some(t) => Some(MemberType::parse(t).ok_or_else(|| {
            ScimError::invalid_value(format!("member type \"{t}\" is not User or Group"))
        })?),
    };
    Ok(MemberValue { value, member_type })
}

/// The ids of `value eq "id"` (or several joined with `or`): the only member
/// filters, since evaluating others would need the whole member list.
fn filter_ids(filter: &Filter) -> Result<Vec<String>, ScimError> {
    let mut ids = Vec::new();
    let mut stack = vec![filter];
    while let Some(f) = stack.pop() {
        match f {
            Filter::Or(a, b) => {
                stack.push(b);
                stack.push(a);
            }
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value: CompValue::String(id),
            } if path.uri.is_none()
                && path.sub.is_none()
                && path.name.eq_ignore_ascii_case("value") =>
            {
                ids.push(id.clone())
            }
            _ => {
                return Err(ScimError::invalid_filter(
                    "members can only be selected by id: members[value eq \"id\"], \
                     optionally several joined with 'or'",
                ));
            }
        }
    }
    Ok(ids)
}
