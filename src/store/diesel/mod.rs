//! The diesel store: one codebase over SQLite (embedded default) and
//! PostgreSQL, chosen by the database URL.

mod changelog;
mod connection;
mod groups;
mod members;
mod schema;
mod tokens;
mod users;

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Map, Value};

pub use connection::{Backend, DbConnection, DieselStore, redact_url};

use super::{
    ChangeRecord, NewToken, Page, ResourceWrite, Rewrite, Store, StoreError, StoreResult,
    StoredGroup, StoredUser, TokenRecord,
};
use crate::scim::list::PageRequest;
use connection::write_tx;

/// Now, at the microsecond precision both backends keep, so a version read
/// back compares equal to the one written.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
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

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Store for DieselStore {
    fn ping(&self) -> StoreResult<()> {
        use diesel::connection::SimpleConnection;
        self.conn()?.batch_execute("SELECT 1")?;
        Ok(())
    }

    fn create_user(&self, user: ResourceWrite, actor: &str) -> StoreResult<StoredUser> {
        let id = new_id();
        write_tx(&mut *self.conn()?, |c| users::create(c, &id, user, actor))
    }

    fn get_user(&self, id: &str) -> StoreResult<StoredUser> {
        users::get(&mut *self.conn()?, id)
    }

    fn replace_user(
        &self,
        id: &str,
        rewrite: Rewrite<'_, StoredUser>,
        actor: &str,
    ) -> StoreResult<StoredUser> {
        write_tx(&mut *self.conn()?, |c| {
            users::replace(c, id, rewrite, actor)
        })
    }

    fn delete_user(&self, id: &str, actor: &str) -> StoreResult<()> {
        write_tx(&mut *self.conn()?, |c| users::delete(c, id, actor))
    }

    fn list_users(&self, page: PageRequest) -> StoreResult<Page<StoredUser>> {
        users::list(&mut *self.conn()?, page)
    }

    fn create_group(&self, group: ResourceWrite, actor: &str) -> StoreResult<StoredGroup> {
        let id = new_id();
        write_tx(&mut *self.conn()?, |c| groups::create(c, &id, group, actor))
    }

    fn get_group(&self, id: &str) -> StoreResult<StoredGroup> {
        groups::get(&mut *self.conn()?, id)
    }

    fn replace_group(
        &self,
        id: &str,
        rewrite: Rewrite<'_, StoredGroup>,
        actor: &str,
    ) -> StoreResult<StoredGroup> {
        write_tx(&mut *self.conn()?, |c| {
            groups::replace(c, id, rewrite, actor)
        })
    }

    fn delete_group(&self, id: &str, actor: &str) -> StoreResult<()> {
        write_tx(&mut *self.conn()?, |c| groups::delete(c, id, actor))
    }

    fn list_groups(&self, page: PageRequest) -> StoreResult<Page<StoredGroup>> {
        groups::list(&mut *self.conn()?, page)
    }

    fn changes_after(&self, after: i64, limit: u32) -> StoreResult<Vec<ChangeRecord>> {
        changelog::after(&mut *self.conn()?, after, limit)
    }

    fn create_token(&self, token: NewToken) -> StoreResult<()> {
        write_tx(&mut *self.conn()?, |c| tokens::create(c, token))
    }

    fn find_token(&self, id: &str) -> StoreResult<Option<TokenRecord>> {
        tokens::find(&mut *self.conn()?, id)
    }

    fn list_tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        tokens::list(&mut *self.conn()?)
    }

    fn revoke_token(&self, name: &str) -> StoreResult<bool> {
        write_tx(&mut *self.conn()?, |c| tokens::revoke(c, name))
    }

    fn touch_token(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        write_tx(&mut *self.conn()?, |c| tokens::touch(c, id, at))
    }
}
