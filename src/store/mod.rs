//! The storage seam: a synchronous trait (callers run it off the async
//! workers) and its diesel implementation over SQLite and PostgreSQL.
//! Every write appends to the change log in the same transaction.

mod console;
pub mod diesel;
mod error;
mod model;
mod render;
pub use render::{Current, current, render_events};
mod schemas;
mod sources;
mod sync;
mod webhooks;

pub use console::{ConsoleStore, LoginRecord, SessionRecord};
pub use error::{StoreError, StoreResult};
pub use model::*;
pub use schemas::{SchemaRecord, SchemaStore};
pub use sources::{
    SourceFailureRecord, SourceLinkRecord, SourceRecord, SourceRunRecord, SourceStore, UserFacts,
};
pub use sync::{
    DepartmentMembership, FailureRecord, LinkRecord, QuarantineRecord, QueueDepth, QueueRecord,
    QueueSummary, RunRecord, SyncStore, TargetRecord, TargetState,
};
pub use webhooks::{
    Delivery, DeliveryRecord, DeliveryStatus, DeliveryUpdate, EventFormat, EventMode,
    SubscriptionRecord, WebhookStore,
};

use crate::scim::etag::TagList;

/// Computes the attributes to store from the ones currently stored; runs
/// inside the write transaction so read-modify-write is atomic.
pub type Rewrite<'a, T> = Box<dyn FnOnce(&T) -> StoreResult<ResourceWrite> + Send + 'a>;

/// A unit of writing work for a store's write lane (`Store::submit_write`):
/// it runs on the lane's thread, where its store writes join the batch the
/// lane holds, and returns how to hand its outcome over once that batch is
/// settled (`true`: committed).
pub type WriteJob = Box<dyn FnOnce() -> WriteSettle + Send>;
/// Hands a write job's outcome over; `true` when its batch committed.
pub type WriteSettle = Box<dyn FnOnce(bool) + Send>;

pub trait Store: Send + Sync + 'static {
    /// Queues `job` on the store's write lane, if it has one (SQLite: one
    /// thread runs the queued writes in shared transactions); gives it back
    /// otherwise, and the caller runs it on the blocking pool.
    fn submit_write(&self, job: WriteJob) -> Result<(), WriteJob> {
        Err(job)
    }

    /// True when `submit_write` takes jobs: they then run one after another
    /// in the order submitted, so a caller may queue several before awaiting
    /// the first without changing what each one sees.
    fn writes_in_submission_order(&self) -> bool {
        false
    }

    /// Answers when the database answers (used by `/healthz`).
    fn ping(&self) -> StoreResult<()>;

    /// Creates a user; answers what was stored (its attributes as the stored text).
    fn create_user(&self, user: ResourceWrite, actor: &Actor) -> StoreResult<StoredUserText>;
    /// Creates many users in one transaction (bulk imports). Each gets its
    /// own outcome: its id and meta, or why it was refused (a taken userName).
    fn create_users(
        &self,
        batch: Vec<ResourceWrite>,
        actor: &Actor,
    ) -> StoreResult<Vec<Result<(String, crate::scim::render::ResourceMeta), crate::scim::ScimError>>>;
    /// `with_groups: false` skips deriving `groups` (the caller will not show it).
    fn get_user(&self, id: &str, with_groups: bool) -> StoreResult<StoredUser>;
    /// A user (by id or userName) with the attributes left as stored JSON
    /// text, to render; `NotFound` when there is none.
    fn get_user_text(&self, key: UserKey<'_>, with_groups: bool) -> StoreResult<StoredUserText>;
    /// `get_user_text` answered on the caller's thread, when the store can
    /// do that without waiting (an embedded database with a free
    /// connection); None when the caller must run `get_user_text` on the
    /// blocking pool. Lets a read skip the hand-off to another thread.
    fn get_user_text_now(
        &self,
        key: UserKey<'_>,
        with_groups: bool,
    ) -> Option<StoreResult<StoredUserText>>;
    /// Rewrites a user from its current state (PUT or PATCH) under a row
    /// lock; answers what was stored.
    fn replace_user(
        &self,
        id: &str,
        rewrite: Rewrite<'_, StoredUser>,
        actor: &Actor,
        op: WriteOp,
    ) -> StoreResult<StoredUserText>;
    /// Deletes a user; with `if_match`, only while its version matches.
    fn delete_user(&self, id: &str, actor: &Actor, if_match: Option<&TagList>) -> StoreResult<()>;
    fn list_users(&self, query: &ListQuery) -> StoreResult<ListPage<StoredUser>>;

    fn create_group(&self, group: ResourceWrite, actor: &Actor) -> StoreResult<StoredGroup>;
    /// `with_members: false` skips loading members (the caller will not show them).
    fn get_group(&self, id: &str, with_members: bool) -> StoreResult<StoredGroup>;
    /// Rewrites a group (its current state is given without members: the
    /// rewrite must not need them); `with_members` loads them for the result.
    fn replace_group(
        &self,
        id: &str,
        rewrite: Rewrite<'_, StoredGroup>,
        actor: &Actor,
        op: WriteOp,
        with_members: bool,
    ) -> StoreResult<StoredGroup>;
    fn delete_group(&self, id: &str, actor: &Actor, if_match: Option<&TagList>) -> StoreResult<()>;
    fn list_groups(&self, query: &ListQuery) -> StoreResult<ListPage<StoredGroup>>;

    /// Creates a department (under the parent it names, if any).
    fn create_department(
        &self,
        department: ResourceWrite,
        actor: &Actor,
    ) -> StoreResult<StoredDepartment>;
    fn get_department(&self, id: &str) -> StoreResult<StoredDepartment>;
    /// Rewrites a department (PUT or PATCH). A new parent moves it with
    /// everything under it, in the same transaction; a parent inside its
    /// own subtree is refused and nothing changes.
    fn replace_department(
        &self,
        id: &str,
        rewrite: Rewrite<'_, StoredDepartment>,
        actor: &Actor,
        op: WriteOp,
    ) -> StoreResult<StoredDepartment>;
    /// Deletes a department; what is still under it is refused, moved or
    /// removed as `mode` says.
    fn delete_department(
        &self,
        id: &str,
        actor: &Actor,
        if_match: Option<&TagList>,
        mode: &RemoveMode,
    ) -> StoreResult<DepartmentRemoval>;
    fn list_departments(&self, query: &ListQuery) -> StoreResult<ListPage<StoredDepartment>>;
    /// `root` and everything under it (the whole tree when None), each
    /// department after its parent (reversed: each before its parent).
    fn department_subtree(&self, root: Option<&str>) -> StoreResult<Vec<StoredDepartment>>;
    /// How many people have each department as their primary one
    /// (departments without any are left out).
    fn department_head_counts(&self) -> StoreResult<std::collections::HashMap<String, u64>>;

    /// Creates a resource of a plain type (`ResourceKind::Plain`): its
    /// unique attribute must be free and every resource it names must exist.
    fn create_resource(
        &self,
        kind: crate::scim::ResourceKind,
        write: ResourceWrite,
        actor: &Actor,
    ) -> StoreResult<StoredResource>;
    fn get_resource(
        &self,
        kind: crate::scim::ResourceKind,
        id: &str,
    ) -> StoreResult<StoredResource>;
    /// Rewrites a plain resource from its current state (PUT or PATCH),
    /// under a row lock, with the checks of `create_resource`.
    fn replace_resource(
        &self,
        kind: crate::scim::ResourceKind,
        id: &str,
        rewrite: Rewrite<'_, StoredResource>,
        actor: &Actor,
        op: WriteOp,
    ) -> StoreResult<StoredResource>;
    fn delete_resource(
        &self,
        kind: crate::scim::ResourceKind,
        id: &str,
        actor: &Actor,
        if_match: Option<&TagList>,
    ) -> StoreResult<()>;
    fn list_resources(
        &self,
        kind: crate::scim::ResourceKind,
        query: &ListQuery,
    ) -> StoreResult<ListPage<StoredResource>>;

    /// Records an audit event that is not a resource change.
    fn record_audit(&self, event: AuditEvent) -> StoreResult<()>;
    /// Audit rows, newest first.
    fn audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>>;

    /// The newest change-log sequence number.
    fn latest_change(&self) -> StoreResult<i64>;
    /// Database connections of this instance: (open, idle, check-outs
    /// that had to wait since start).
    fn pool_connections(&self) -> (u32, u32, u64);
    /// The last change-log sequence number pruned away (0 if none).
    fn changes_pruned_through(&self) -> StoreResult<i64>;
    /// Removes change-log rows older than `before`, except (unless `force`)
    /// rows a sync target or webhook subscription has not read yet.
    fn prune_changes(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        force: bool,
    ) -> StoreResult<Pruned>;

    /// Change-log rows with `seq > after`, oldest first.
    fn changes_after(&self, after: i64, limit: u32) -> StoreResult<Vec<ChangeRecord>>;

    fn create_token(&self, token: NewToken) -> StoreResult<()>;
    fn find_token(&self, id: &str) -> StoreResult<Option<TokenRecord>>;
    fn list_tokens(&self) -> StoreResult<Vec<TokenRecord>>;
    /// Revokes the live token called `name`; false when there is none.
    fn revoke_token(&self, name: &str) -> StoreResult<bool>;
    /// Revokes the live token with this id; false when there is none.
    fn revoke_token_id(&self, id: &str) -> StoreResult<bool>;
    fn touch_token(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> StoreResult<()>;
}
