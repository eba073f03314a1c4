//! Groups on the generic path (`flow`): their hooks, the members.

use serde_json::{Map, Value};

use super::flow::{Flow, Hooks};
use crate::error::AppError;
use crate::scim::ResourceKind;
use crate::scim::ScimError;
use crate::scim::etag::TagList;
use crate::scim::patch::{MemberChanges, MemberType};
use crate::store::{
    Actor, MemberKind, MemberRef, MembersWrite, PasswordWrite, RemoveMode, ResourceWrite, Rewrite,
    Store, StoreResult, StoredGroup, WriteOp,
};

/// Groups: members are taken out of the attributes and stored as rows;
/// a PATCH's member operations touch only the rows they name.
pub type Groups = Flow<GroupHooks>;

#[derive(Clone, Copy, Default)]
pub struct GroupHooks;

/// Splits validated group attributes into stored attributes and member refs.
fn split_members(mut attributes: Map<String, Value>) -> Result<ResourceWrite, AppError> {
    let mut members = Vec::new();
    if let Some(Value::Array(items)) = attributes.remove("members") {
        for item in items {
            let id = item.get("value").and_then(Value::as_str).ok_or_else(|| {
                ScimError::invalid_value("every member needs a 'value' (the member's id)")
            })?;
            let kind = match item.get("type").and_then(Value::as_str) {
                None => None,
                Some(t) => Some(MemberKind::parse(t).ok_or_else(|| {
                    ScimError::invalid_value(format!("member type \"{t}\" is not User or Group"))
                })?),
            };
            members.push(MemberRef {
                id: id.to_string(),
                kind,
            });
        }
    }
    Ok(ResourceWrite {
        attributes,
        members: MembersWrite::Set(members),
        password: PasswordWrite::Keep,
    })
}

/// A PATCH's member diff in the store's terms.
fn member_diff(changes: MemberChanges) -> MembersWrite {
    let kind = |t: MemberType| match t {
        MemberType::User => MemberKind::User,
        MemberType::Group => MemberKind::Group,
    };
    MembersWrite::Change {
        remove_all: changes.remove_all,
        remove: changes.remove,
        add: changes
            .add
            .into_iter()
            .map(|m| MemberRef {
                id: m.value,
                kind: m.member_type.map(kind),
            })
            .collect(),
    }
}

impl Hooks for GroupHooks {
    type Current = StoredGroup;
    type Stored = StoredGroup;
    type Removal = ();

    fn kind(&self) -> ResourceKind {
        ResourceKind::Group
    }

    fn id(stored: &StoredGroup) -> &str {
        &stored.id
    }

    fn write_of(&self, attributes: Map<String, Value>) -> Result<ResourceWrite, AppError> {
        split_members(attributes)
    }

    fn members(&self, changes: MemberChanges) -> MembersWrite {
        member_diff(changes)
    }

    fn create(
        &self,
        store: &dyn Store,
        write: ResourceWrite,
        actor: &Actor,
    ) -> StoreResult<StoredGroup> {
        store.create_group(write, actor)
    }

    fn get(&self, store: &dyn Store, id: &str, with_members: bool) -> StoreResult<StoredGroup> {
        store.get_group(id, with_members)
    }

    /// The rewrite reads the group without its members; `with_members`
    /// loads them for the answer.
    fn replace(
        &self,
        store: &dyn Store,
        id: &str,
        rewrite: Rewrite<'_, StoredGroup>,
        actor: &Actor,
        op: WriteOp,
        with_members: bool,
    ) -> StoreResult<StoredGroup> {
        store.replace_group(id, rewrite, actor, op, with_members)
    }

    /// Its memberships go with it.
    fn delete(
        &self,
        store: &dyn Store,
        id: &str,
        actor: &Actor,
        if_match: Option<&TagList>,
        _mode: &RemoveMode,
    ) -> StoreResult<()> {
        store.delete_group(id, actor, if_match)
    }
}
