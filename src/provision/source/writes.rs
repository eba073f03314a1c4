//! The write side an import needs. The service layer implements it with
//! its `Users`, `Groups` and `Departments` use cases (and their rules: no
//! cycles, whole subtrees moved, no department deleted while it holds
//! people), so imported changes reach the change
//! log, webhooks, downstream targets and the audit trail like any other
//! write; this module never writes to the store itself.

use futures_util::future::BoxFuture;
use serde_json::Value;

/// Why one write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The record's fault (a taken userName, an invalid value, a user
    /// deleted meanwhile): it goes to the failure list.
    #[error("{0}")]
    Refused(String),
    /// Anything else (the database is down): the run fails.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

pub type Written<T> = BoxFuture<'static, Result<T, WriteError>>;

pub trait IntakeWrites: Send + Sync {
    /// Creates users in one transaction; each gets its id or why it was refused.
    fn create_users(&self, bodies: Vec<Value>) -> Written<Vec<Result<String, String>>>;
    /// A SCIM PATCH of one user (its `Operations`).
    fn patch_user(&self, id: String, operations: Vec<Value>) -> Written<()>;
    fn create_group(&self, body: Value) -> Written<String>;
    fn patch_group(&self, id: String, operations: Vec<Value>) -> Written<()>;
    fn delete_group(&self, id: String) -> Written<()>;
    fn create_department(&self, body: Value) -> Written<String>;
    /// A SCIM PATCH of one department: a new `parent` moves it with
    /// everything under it.
    fn patch_department(&self, id: String, operations: Vec<Value>) -> Written<()>;
    /// Deletes a department that holds nothing; one that still has people
    /// or sub-departments is `Refused`, saying so.
    fn delete_department(&self, id: String) -> Written<()>;
}

/// The writes of one source, made by whoever builds the engine: the
/// argument is the actor the change log and audit trail name
/// (`source:NAME`).
pub type WritesFor = std::sync::Arc<dyn Fn(&str) -> std::sync::Arc<dyn IntakeWrites> + Send + Sync>;
