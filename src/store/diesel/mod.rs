//! The diesel store: one codebase over SQLite (embedded default) and
//! PostgreSQL, chosen by the database URL.

mod audit;
mod backup;
mod changelog;
mod checkpoint;
mod connection;
mod console_sessions;
mod department_hold;
mod department_list;
mod department_log;
mod departments;
mod filter_sql;
mod group_commit;
mod group_list;
mod groups;
mod list_sql;
mod members;
pub(crate) mod page_window;
mod query;
mod regrouped;
mod resource_list;
mod resource_search;
mod resources;
mod run;
mod schema;
mod schema_extensions;
mod source_links;
mod source_runs;
mod source_store;
mod sources;
mod stamp;
mod subquery;
mod sync;
mod sync_department_members;
mod sync_deprovisions;
mod sync_leases;
mod sync_links;
mod sync_queue;
mod sync_queue_alerts;
mod sync_runs;
mod sync_targets;
mod tokens;
mod user_list;
mod user_org;
mod users;
mod webhook_deliveries;
mod webhook_subscriptions;
mod webhooks;
mod write_lane;
mod written;

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Map, Value};

pub use backup::{Restored, restore};
pub use connection::{Backend, DbConnection, DieselStore, redact_url};

use super::{
    Actor, AuditEvent, AuditQuery, AuditRecord, ChangeRecord, DepartmentRemoval, ListPage,
    ListQuery, MemberKind, NewToken, RemoveMode, ResourceWrite, Rewrite, Store, StoreError,
    StoreResult, StoredDepartment, StoredGroup, StoredResource, StoredUser, StoredUserText,
    TokenRecord, UserKey, WriteJob, WriteOp,
};
use crate::scim::etag::TagList;
use crate::scim::render::ResourceMeta;
use crate::scim::{ResourceKind, ScimError};

/// Now, at the millisecond precision `meta` renders, so a timestamp read back
/// equals the one written and SQL comparisons agree with the rendered value.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn parse_data(data: &str) -> StoreResult<Map<String, Value>> {
    serde_json::from_str(data).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A unique-index violation that a pre-check could not see (a concurrent
/// writer on PostgreSQL) is reported like the pre-check would have.
fn unique_violation(e: diesel::result::Error, conflict: impl FnOnce() -> StoreError) -> StoreError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => conflict(),
        other => StoreError::Database(other),
    }
}

/// Whether SQL alone answers `filter` (no in-memory evaluation), for tests
/// that must know the pushdown path was taken.
pub fn sql_answers_exactly(
    kind: crate::scim::ResourceKind,
    filter: &crate::scim::filter::Filter,
) -> bool {
    match kind {
        crate::scim::ResourceKind::User => filter_sql::user_filter(filter).is_some(),
        crate::scim::ResourceKind::Group => filter_sql::group_filter(filter).is_some(),
        crate::scim::ResourceKind::Department => filter_sql::department_filter(filter).is_some(),
        kind @ crate::scim::ResourceKind::Plain(_) => {
            resource_search::translate(kind, connection::Backend::Sqlite, filter).is_some()
        }
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl DieselStore {
    /// Inserts many users in one transaction (seeding and benchmarks);
    /// returns their ids.
    pub fn insert_users(
        &self,
        users: Vec<ResourceWrite>,
        actor: &Actor,
    ) -> StoreResult<Vec<String>> {
        let new: Vec<(String, ResourceWrite)> = users.into_iter().map(|u| (new_id(), u)).collect();
        let ids = new.iter().map(|(id, _)| id.clone()).collect();
        self.write(|c| users::insert_many(c, new, actor).map(|_| ()))?;
        Ok(ids)
    }

    /// Creates departments one after another in one transaction (seeding
    /// and benchmarks): each may name an earlier one as its parent by id.
    /// Returns their ids.
    pub fn insert_departments(
        &self,
        batch: Vec<ResourceWrite>,
        actor: &Actor,
    ) -> StoreResult<Vec<String>> {
        self.write(|c| {
            batch
                .into_iter()
                .map(|d| {
                    let id = new_id();
                    departments::create(c, &id, d, actor).map(|_| id)
                })
                .collect()
        })
    }
}

impl Store for DieselStore {
    fn submit_write(&self, job: WriteJob) -> Result<(), WriteJob> {
        self.submit_to_lane(job)
    }

    fn writes_in_submission_order(&self) -> bool {
        self.has_write_lane()
    }

    fn ping(&self) -> StoreResult<()> {
        use diesel::connection::SimpleConnection;
        self.conn()?.batch_execute("SELECT 1")?;
        Ok(())
    }

    fn create_users(
        &self,
        batch: Vec<ResourceWrite>,
        actor: &Actor,
    ) -> StoreResult<Vec<Result<(String, ResourceMeta), ScimError>>> {
        self.write(|c| {
            let names: Vec<Option<String>> = batch
                .iter()
                .map(|w| {
                    w.attributes
                        .get("userName")
                        .and_then(Value::as_str)
                        .map(str::to_lowercase)
                })
                .collect();
            let known: Vec<String> = names.iter().flatten().cloned().collect();
            let mut taken = users::taken_names(c, &known)?;
            let managers: Vec<&str> = batch
                .iter()
                .filter_map(|w| users::manager_of(&w.attributes))
                .collect();
            let existing_managers = members::existing_ids(c, MemberKind::User, &managers)?;
            let mut outcome = Vec::with_capacity(batch.len());
            let mut insert = Vec::new();
            for (mut write, name) in batch.into_iter().zip(names) {
                if let Err(e) = user_org::derive(c, None, &mut write.attributes) {
                    match e {
                        StoreError::Rejected(e) => outcome.push(Err(e)),
                        other => return Err(other),
                    }
                    continue;
                }
                let Some(name) = name else {
                    outcome.push(Err(ScimError::invalid_value(
                        "attribute 'userName' is required",
                    )));
                    continue;
                };
                if let Some(manager) = users::manager_of(&write.attributes)
                    && !existing_managers.contains(manager)
                {
                    outcome.push(Err(users::unknown_manager(manager)));
                    continue;
                }
                if !taken.insert(name) {
                    let shown = write
                        .attributes
                        .get("userName")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    outcome.push(match users::taken(&shown) {
                        StoreError::Rejected(e) => Err(e),
                        _ => Err(ScimError::uniqueness("userName is already taken")),
                    });
                    continue;
                }
                let id = new_id();
                outcome.push(Ok((id.clone(), None)));
                insert.push((id, write));
            }
            let at = users::insert_many(c, insert, actor)?;
            let meta = ResourceMeta {
                created: at,
                last_modified: at,
                version: 1,
            };
            Ok(outcome
                .into_iter()
                .map(|r| r.map(|(id, _): (String, Option<()>)| (id, meta.clone())))
                .collect())
        })
    }

    fn create_user(&self, user: ResourceWrite, actor: &Actor) -> StoreResult<StoredUserText> {
        let id = new_id();
        self.write(|c| users::create(c, &id, user, actor))
    }

    fn get_user(&self, id: &str, with_groups: bool) -> StoreResult<StoredUser> {
        users::get_with(&mut *self.conn()?, id, with_groups)
    }

    fn get_user_text(&self, key: UserKey<'_>, with_groups: bool) -> StoreResult<StoredUserText> {
        users::get_text(&mut *self.conn()?, key, with_groups)
    }

    fn get_user_text_now(
        &self,
        key: UserKey<'_>,
        with_groups: bool,
    ) -> Option<StoreResult<StoredUserText>> {
        self.read_now(|c| users::get_text(c, key, with_groups))
    }

    fn replace_user(
        &self,
        id: &str,
        rewrite: Rewrite<'_, StoredUser>,
        actor: &Actor,
        op: WriteOp,
    ) -> StoreResult<StoredUserText> {
        self.write(|c| users::replace(c, id, rewrite, actor, op))
    }

    fn delete_user(&self, id: &str, actor: &Actor, if_match: Option<&TagList>) -> StoreResult<()> {
        self.write(|c| users::delete(c, id, actor, if_match))
    }

    fn list_users(&self, query: &ListQuery) -> StoreResult<ListPage<StoredUser>> {
        query::list(&mut *self.conn()?, &user_list::ops(), query)
    }

    fn create_group(&self, group: ResourceWrite, actor: &Actor) -> StoreResult<StoredGroup> {
        let id = new_id();
        self.write(|c| groups::create(c, &id, group, actor))
    }

    fn get_group(&self, id: &str, with_members: bool) -> StoreResult<StoredGroup> {
        groups::get_with(&mut *self.conn()?, id, with_members)
    }

    fn replace_group(
        &self,
        id: &str,
        rewrite: Rewrite<'_, StoredGroup>,
        actor: &Actor,
        op: WriteOp,
        with_members: bool,
    ) -> StoreResult<StoredGroup> {
        self.write(|c| groups::replace(c, id, rewrite, actor, op, with_members))
    }

    fn delete_group(&self, id: &str, actor: &Actor, if_match: Option<&TagList>) -> StoreResult<()> {
        self.write(|c| groups::delete(c, id, actor, if_match))
    }

    fn list_groups(&self, query: &ListQuery) -> StoreResult<ListPage<StoredGroup>> {
        query::list(&mut *self.conn()?, &group_list::ops(), query)
    }

    fn create_department(
        &self,
        department: ResourceWrite,
        actor: &Actor,
    ) -> StoreResult<StoredDepartment> {
        let id = new_id();
        self.write(|c| departments::create(c, &id, department, actor))
    }

    fn get_department(&self, id: &str) -> StoreResult<StoredDepartment> {
        departments::get(&mut *self.conn()?, id)
    }

    fn replace_department(
        &self,
        id: &str,
        rewrite: Rewrite<'_, StoredDepartment>,
        actor: &Actor,
        op: WriteOp,
    ) -> StoreResult<StoredDepartment> {
        self.write(|c| departments::replace(c, id, rewrite, actor, op))
    }

    fn delete_department(
        &self,
        id: &str,
        actor: &Actor,
        if_match: Option<&TagList>,
        mode: &RemoveMode,
    ) -> StoreResult<DepartmentRemoval> {
        self.write(|c| departments::delete(c, id, actor, if_match, mode))
    }

    fn list_departments(&self, query: &ListQuery) -> StoreResult<ListPage<StoredDepartment>> {
        query::list(&mut *self.conn()?, &department_list::ops(), query)
    }

    fn department_subtree(&self, root: Option<&str>) -> StoreResult<Vec<StoredDepartment>> {
        departments::subtree(&mut *self.conn()?, root)
    }

    fn department_head_counts(&self) -> StoreResult<std::collections::HashMap<String, u64>> {
        user_org::head_counts(&mut *self.conn()?)
    }

    fn create_resource(
        &self,
        kind: ResourceKind,
        write: ResourceWrite,
        actor: &Actor,
    ) -> StoreResult<StoredResource> {
        let id = new_id();
        self.write(|c| resources::create(c, kind, &id, write, actor))
    }

    fn get_resource(&self, kind: ResourceKind, id: &str) -> StoreResult<StoredResource> {
        resources::get(&mut *self.conn()?, kind, id)
    }

    fn replace_resource(
        &self,
        kind: ResourceKind,
        id: &str,
        rewrite: Rewrite<'_, StoredResource>,
        actor: &Actor,
        op: WriteOp,
    ) -> StoreResult<StoredResource> {
        self.write(|c| resources::replace(c, kind, id, rewrite, actor, op))
    }

    fn delete_resource(
        &self,
        kind: ResourceKind,
        id: &str,
        actor: &Actor,
        if_match: Option<&TagList>,
    ) -> StoreResult<()> {
        self.write(|c| resources::delete(c, kind, id, actor, if_match))
    }

    fn list_resources(
        &self,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> StoreResult<ListPage<StoredResource>> {
        query::list(&mut *self.conn()?, &resource_list::ops(kind), query)
    }

    fn record_audit(&self, event: AuditEvent) -> StoreResult<()> {
        self.write(|c| changelog::record(c, &event, now()))
    }

    fn audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
        audit::read(&mut *self.conn()?, query)
    }

    fn pool_connections(&self) -> (u32, u32, u64) {
        self.pool_state()
    }

    fn latest_change(&self) -> StoreResult<i64> {
        changelog::latest(&mut *self.conn()?)
    }

    fn changes_pruned_through(&self) -> StoreResult<i64> {
        changelog::pruned_through(&mut *self.conn()?)
    }

    fn prune_changes(
        &self,
        before: DateTime<Utc>,
        force: bool,
    ) -> StoreResult<crate::store::Pruned> {
        self.write(|c| changelog::prune(c, before, force))
    }

    fn changes_after(&self, after: i64, limit: u32) -> StoreResult<Vec<ChangeRecord>> {
        changelog::after(&mut *self.conn()?, after, limit)
    }

    fn create_token(&self, token: NewToken) -> StoreResult<()> {
        self.write(|c| tokens::create(c, token))
    }

    fn find_token(&self, id: &str) -> StoreResult<Option<TokenRecord>> {
        tokens::find(&mut *self.conn()?, id)
    }

    fn list_tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        tokens::list(&mut *self.conn()?)
    }

    fn revoke_token(&self, name: &str) -> StoreResult<bool> {
        self.write(|c| tokens::revoke(c, name))
    }

    fn revoke_token_id(&self, id: &str) -> StoreResult<bool> {
        self.write(|c| tokens::revoke_id(c, id))
    }

    fn touch_token(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.write(|c| tokens::touch(c, id, at))
    }
}
