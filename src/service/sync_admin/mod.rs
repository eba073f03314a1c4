//! The sync center for the admin API: targets (add, list, show, remove) and
//! runs (start in the background, read, list, approve, reject), and one
//! user pushed on demand. The same
//! use cases as `scimhub target …` / `scimhub sync …`, with the caller as
//! the audit actor.

mod failures;
mod lifecycle;
mod preview;
mod provision;
mod request;

pub use lifecycle::Updated;

use std::sync::Arc;

use serde_json::Value;

use super::blocking;
use crate::crypto::SecretKey;
use crate::error::AppError;
use crate::provision::client::RateLimits;
use crate::provision::runs::history::{self, RunSummary};
use crate::provision::runs::{RunOptions, RunReport, SyncEngine, SyncError};
use crate::provision::target::{self, TargetError, TargetView};
use crate::provision::target_test::{self, TestReport, TestedError};
use crate::scim::ScimError;
use crate::store::{Actor, Store, SyncStore};

/// Runs listed when the request names no `limit`, and the most it may name.
pub const DEFAULT_RUNS: u32 = 20;
pub const MAX_RUNS: u32 = 100;

const NO_KEY_FOR_RUNS: &str = "SCIMHUB_SECRET_KEY (secret_key) is not set on this server: \
     target credentials cannot be opened, so no run can start";

const NO_KEY_FOR_TESTS: &str = "SCIMHUB_SECRET_KEY (secret_key) is not set on this server: \
     target credentials cannot be opened, so no target can be tested";

fn no_key(detail: impl Into<String>) -> AppError {
    ScimError::new(503, None, detail).into()
}

impl From<TargetError> for AppError {
    fn from(e: TargetError) -> Self {
        match e {
            TargetError::Invalid(m) => ScimError::invalid_value(m).into(),
            TargetError::Duplicate(m) => ScimError::uniqueness(m).into(),
            e @ (TargetError::Unknown(_) | TargetError::Missing(_)) => {
                ScimError::not_found(e.to_string()).into()
            }
            e @ TargetError::NoSecretKey => no_key(e.to_string()),
            TargetError::Internal(e) => AppError::Internal(e),
        }
    }
}

impl From<TestedError> for AppError {
    fn from(e: TestedError) -> Self {
        match e {
            TestedError::Target(e) => e.into(),
            e @ (TestedError::AddFailed(_) | TestedError::UpdateFailed(_)) => {
                ScimError::new(422, None, e.to_string()).into()
            }
        }
    }
}

impl From<SyncError> for AppError {
    fn from(e: SyncError) -> Self {
        match e {
            e @ (SyncError::UnknownTarget(_)
            | SyncError::UnknownRun(_)
            | SyncError::UnknownUser(_)) => ScimError::not_found(e.to_string()).into(),
            SyncError::Conflict(m) => ScimError::new(409, None, m).into(),
            SyncError::Internal(e) => AppError::Internal(e),
        }
    }
}

/// A `limit` query parameter for run lists: 1 to `MAX_RUNS`, default `DEFAULT_RUNS`.
pub fn run_limit(text: Option<&str>) -> Result<u32, AppError> {
    match text {
        None => Ok(DEFAULT_RUNS),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_RUNS).contains(n))
            .ok_or_else(|| {
                ScimError::invalid_value(format!("limit is a number from 1 to {MAX_RUNS}")).into()
            }),
    }
}

#[derive(Clone)]
pub struct SyncAdmin {
    store: Arc<dyn Store>,
    sync: Arc<dyn SyncStore>,
    engine: SyncEngine,
    key: Option<SecretKey>,
}

impl SyncAdmin {
    /// `configure` finishes the engine (run lease, notifier).
    pub fn new(
        store: Arc<dyn Store>,
        sync: Arc<dyn SyncStore>,
        key: Option<SecretKey>,
        configure: impl FnOnce(SyncEngine) -> SyncEngine,
    ) -> Self {
        Self {
            engine: configure(SyncEngine::new(store.clone(), sync.clone(), key.clone())),
            store,
            sync,
            key,
        }
    }

    /// The per-target rate limiters of this process (its workers share them).
    pub fn rate_limits(&self) -> RateLimits {
        self.engine.rate_limits().clone()
    }

    /// Logs and stores one audit event.
    async fn audit(&self, event: &str, actor: &Actor, detail: String) -> Result<(), AppError> {
        super::audit::record(&self.store, event, actor, detail).await
    }

    /// Checks the whole request and (unless `"test": false`) tests the
    /// target before anything is stored.
    pub async fn add_target(&self, actor: &Actor, body: Value) -> Result<TargetView, AppError> {
        let request = request::add_request(body)?;
        let view = target_test::add_tested(
            self.store.clone(),
            self.sync.clone(),
            self.key.clone(),
            request.target,
            request.test,
        )
        .await?;
        let detail = format!("target {:?} ({})", view.name, view.base_url);
        self.audit("sync.target.add", actor, detail).await?;
        Ok(view)
    }

    /// Tests a stored target step by step; a failed step is in the report, not an error.
    pub async fn test_target(&self, name: &str) -> Result<TestReport, AppError> {
        if self.key.is_none() {
            // An unknown target is still a 404.
            self.target(name).await?;
            return Err(no_key(NO_KEY_FOR_TESTS));
        }
        let rates = self.engine.rate_limits();
        Ok(target_test::test_stored(
            self.store.clone(),
            self.sync.clone(),
            self.key.as_ref(),
            rates,
            name,
        )
        .await?)
    }

    pub async fn remove_target(&self, actor: &Actor, name: &str) -> Result<(), AppError> {
        let (sync, owned) = (self.sync.clone(), name.to_string());
        blocking(move || Ok(target::remove(sync.as_ref(), &owned)?)).await?;
        self.audit("sync.target.remove", actor, format!("target {name:?}"))
            .await
    }

    /// Starts a run on a background task; the report says `running`.
    pub async fn start_run(
        &self,
        actor: &Actor,
        name: &str,
        body: Option<Value>,
    ) -> Result<RunReport, AppError> {
        self.start_run_with(actor, name, request::run_options(body)?)
            .await
    }

    /// `start_run` with the options already read (the console's form).
    pub async fn start_run_with(
        &self,
        actor: &Actor,
        name: &str,
        options: RunOptions,
    ) -> Result<RunReport, AppError> {
        if self.key.is_none() {
            return Err(no_key(NO_KEY_FOR_RUNS));
        }
        let report = self.engine.spawn(name, options).await?;
        self.audit_run_start(actor, name, &report).await?;
        Ok(report)
    }

    async fn audit_run_start(
        &self,
        actor: &Actor,
        name: &str,
        report: &RunReport,
    ) -> Result<(), AppError> {
        let kind = if report.head.dry_run {
            "dry run"
        } else {
            "run"
        };
        let detail = format!("{kind} {} of target {name:?}", report.head.id);
        self.audit("sync.run.start", actor, detail).await
    }

    /// A target's runs, newest first; `limit` is 1 to `MAX_RUNS`.
    pub async fn runs(&self, name: &str, limit: Option<&str>) -> Result<Vec<RunSummary>, AppError> {
        let limit = run_limit(limit)?;
        let (sync, name) = (self.sync.clone(), name.to_string());
        blocking(move || Ok(history::recent(sync.as_ref(), &name, limit)?)).await
    }

    pub async fn report(&self, run_id: &str) -> Result<RunReport, AppError> {
        Ok(self.engine.report(run_id).await?)
    }

    /// Applies a held run's deprovisions (in this request).
    pub async fn approve(&self, actor: &Actor, run_id: &str) -> Result<RunReport, AppError> {
        if self.key.is_none() {
            // An unknown run is still a 404.
            self.engine.report(run_id).await?;
            return Err(no_key(NO_KEY_FOR_RUNS));
        }
        self.approve_with(actor, run_id, None).await
    }

    pub async fn reject(&self, actor: &Actor, run_id: &str) -> Result<RunReport, AppError> {
        let report = self.engine.reject(run_id, &actor.name).await?;
        let detail = format!("run {run_id} of target {:?}", report.head.target);
        self.audit("sync.run.reject", actor, detail).await?;
        Ok(report)
    }
}
