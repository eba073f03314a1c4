//! The one entry point per verb for every resource type (the SCIM handlers
//! and `/Bulk` call these): each dispatches on `ResourceKind` to that
//! type's `flow::Flow`. The plain types (`ResourceKind::Plain`: Agents,
//! AgenticApplications) are data in the registry and share one set of
//! hooks over the generic store path.

use std::sync::Arc;

use serde_json::Value;

use super::departments::Departments;
use super::flow::{Flow, Hooks};
use super::groups::Groups;
use super::users::Users;
use crate::error::AppError;
use crate::scim::ResourceKind;
use crate::scim::etag::TagList;
use crate::scim::render::ResourceMeta;
use crate::store::{
    Actor, RemoveMode, ResourceWrite, Rewrite, Store, StoreResult, StoredDepartment, StoredGroup,
    StoredResource, StoredUserText, WriteOp,
};

/// The hooks of a plain type: nothing of its own beyond its kind.
#[derive(Clone, Copy)]
pub struct PlainHooks(pub ResourceKind);

impl Hooks for PlainHooks {
    type Current = StoredResource;
    type Stored = StoredResource;
    type Removal = ();

    fn kind(&self) -> ResourceKind {
        self.0
    }

    fn id(stored: &StoredResource) -> &str {
        &stored.id
    }

    fn create(
        &self,
        store: &dyn Store,
        write: ResourceWrite,
        actor: &Actor,
    ) -> StoreResult<StoredResource> {
        store.create_resource(self.0, write, actor)
    }

    fn get(&self, store: &dyn Store, id: &str, _with_derived: bool) -> StoreResult<StoredResource> {
        store.get_resource(self.0, id)
    }

    fn replace(
        &self,
        store: &dyn Store,
        id: &str,
        rewrite: Rewrite<'_, StoredResource>,
        actor: &Actor,
        op: WriteOp,
        _with_derived: bool,
    ) -> StoreResult<StoredResource> {
        store.replace_resource(self.0, id, rewrite, actor, op)
    }

    fn delete(
        &self,
        store: &dyn Store,
        id: &str,
        actor: &Actor,
        if_match: Option<&TagList>,
        _mode: &RemoveMode,
    ) -> StoreResult<()> {
        store.delete_resource(self.0, id, actor, if_match)
    }
}

/// A resource of any type as a read or write answers it (a user as its
/// stored text, rendered without a JSON tree).
pub enum Resource {
    User(StoredUserText),
    Group(StoredGroup),
    Department(StoredDepartment),
    Plain(StoredResource),
}

impl Resource {
    pub fn id(&self) -> &str {
        match self {
            Resource::User(u) => &u.id,
            Resource::Group(g) => &g.id,
            Resource::Department(d) => &d.id,
            Resource::Plain(r) => &r.id,
        }
    }

    pub fn meta(&self) -> &ResourceMeta {
        match self {
            Resource::User(u) => &u.meta,
            Resource::Group(g) => &g.meta,
            Resource::Department(d) => &d.meta,
            Resource::Plain(r) => &r.meta,
        }
    }
}

/// The derived attribute a read or write of `kind` can skip loading when
/// the response does not show it (users' `groups`, groups' `members`).
pub fn derived_attribute(kind: ResourceKind) -> Option<&'static str> {
    match kind {
        ResourceKind::User => Some("groups"),
        ResourceKind::Group => Some("members"),
        ResourceKind::Department | ResourceKind::Plain(_) => None,
    }
}

/// What a deletion answered, left unread (a department's removal is on
/// its audit line).
fn ignore<T>(_: T) {}

#[derive(Clone)]
pub struct Resources {
    users: Users,
    groups: Groups,
    departments: Departments,
    store: Arc<dyn Store>,
    max_patch_operations: usize,
}

/// Runs `$call` on the flow of `$kind` (bound to `$flow`), its answer
/// wrapped as a `Resource` (or ignored, with `ignore`).
macro_rules! on_flow {
    ($self:ident, $kind:expr, |$flow:ident| $call:expr) => {
        on_flow!(
            $self,
            $kind,
            |$flow| $call,
            Resource::User,
            Resource::Group,
            Resource::Department,
            Resource::Plain
        )
    };
    ($self:ident, $kind:expr, ignore |$flow:ident| $call:expr) => {
        on_flow!($self, $kind, |$flow| $call, ignore, ignore, ignore, ignore)
    };
    ($self:ident, $kind:expr, |$flow:ident| $call:expr, $user:expr, $group:expr,
     $department:expr, $plain:expr) => {
        match $kind {
            ResourceKind::User => {
                let $flow = &$self.users;
                $user($call)
            }
            ResourceKind::Group => {
                let $flow = &$self.groups;
                $group($call)
            }
            ResourceKind::Department => {
                let $flow = &$self.departments;
                $department($call)
            }
            ResourceKind::Plain(_) => {
                let $flow = &$self.plain($kind);
                $plain($call)
            }
        }
    };
}

impl Resources {
    pub fn new(
        users: Users,
        groups: Groups,
        departments: Departments,
        store: Arc<dyn Store>,
        max_patch_operations: usize,
    ) -> Self {
        Self {
            users,
            groups,
            departments,
            store,
            max_patch_operations,
        }
    }

    fn plain(&self, kind: ResourceKind) -> Flow<PlainHooks> {
        Flow::with_hooks(
            self.store.clone(),
            self.max_patch_operations,
            PlainHooks(kind),
        )
    }

    pub async fn create(
        &self,
        kind: ResourceKind,
        actor: &Actor,
        body: Value,
    ) -> Result<Resource, AppError> {
        Ok(on_flow!(self, kind, |flow| flow
            .create(actor, body)
            .await?))
    }

    /// Users are read as their stored text (`Users::get_text`: on SQLite
    /// without a hand-off to the blocking pool).
    pub async fn get(
        &self,
        kind: ResourceKind,
        id: &str,
        with_derived: bool,
    ) -> Result<Resource, AppError> {
        Ok(match kind {
            ResourceKind::User => Resource::User(self.users.get_text(id, with_derived).await?),
            ResourceKind::Group => Resource::Group(self.groups.get(id, with_derived).await?),
            ResourceKind::Department => {
                Resource::Department(self.departments.get(id, with_derived).await?)
            }
            ResourceKind::Plain(_) => {
                Resource::Plain(self.plain(kind).get(id, with_derived).await?)
            }
        })
    }

    pub async fn replace(
        &self,
        kind: ResourceKind,
        actor: &Actor,
        id: &str,
        body: Value,
        if_match: Option<TagList>,
        with_derived: bool,
    ) -> Result<Resource, AppError> {
        Ok(on_flow!(self, kind, |flow| flow
            .replace(actor, id, body, if_match, with_derived)
            .await?))
    }

    pub async fn patch(
        &self,
        kind: ResourceKind,
        actor: &Actor,
        id: &str,
        body: Value,
        if_match: Option<TagList>,
        with_derived: bool,
    ) -> Result<Resource, AppError> {
        Ok(on_flow!(self, kind, |flow| flow
            .patch(actor, id, body, if_match, with_derived)
            .await?))
    }

    pub async fn delete(
        &self,
        kind: ResourceKind,
        actor: &Actor,
        id: &str,
        if_match: Option<TagList>,
        mode: RemoveMode,
    ) -> Result<(), AppError> {
        on_flow!(
            self,
            kind,
            ignore | flow | flow.delete(actor, id, if_match, mode).await?
        );
        Ok(())
    }
}
