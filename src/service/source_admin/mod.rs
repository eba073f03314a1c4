//! The organization center's sources for the admin API and the CLI: add,
//! update, list, show, remove, test, runs (now, in the background, from an
//! upload), approval of held deprovisions, and the failure list — the same
//! use cases through either door, audited with the caller as actor.

mod request;
pub mod schedule;
mod writes;

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::blocking;
use crate::crypto::SecretKey;
use crate::error::AppError;
use crate::provision::runs::Progress;
use crate::provision::source::manage::{self, SourceView, SourceWithStatus};
use crate::provision::source::{
    FileInput, ImportEngine, ImportOptions, ImportReport, Preview, SourceError,
};
use crate::scim::ScimError;
use crate::service::departments::Departments;
use crate::service::groups::Groups;
use crate::service::users::Users;
use crate::store::{Actor, SourceStore, Store, SyncStore};

pub use request::run_options;

/// Runs listed when the request names no `limit`, and the most it may name.
pub const DEFAULT_RUNS: u32 = 20;
pub const MAX_RUNS: u32 = 100;
/// Records `source test` maps when not told otherwise, and the most.
pub const DEFAULT_PREVIEW: usize = 5;
pub const MAX_PREVIEW: usize = 1000;

impl From<SourceError> for AppError {
    fn from(e: SourceError) -> Self {
        match e {
            SourceError::Invalid(m) => ScimError::invalid_value(m).into(),
            SourceError::Duplicate(m) => ScimError::uniqueness(m).into(),
            e @ (SourceError::Unknown(_) | SourceError::UnknownRun(_)) => {
                ScimError::not_found(e.to_string()).into()
            }
            SourceError::Conflict(m) => ScimError::new(409, None, m).into(),
            e @ SourceError::NoSecretKey => ScimError::new(503, None, e.to_string()).into(),
            SourceError::Internal(e) => AppError::Internal(e),
        }
    }
}

/// A limit from a query parameter or flag: 1 to `max`, else `default`.
pub fn limit(text: Option<&str>, default: u32, max: u32) -> Result<u32, AppError> {
    match text {
        None => Ok(default),
        Some(t) => t
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ScimError::invalid_value(format!("limit is a number from 1 to {max}")).into()
            }),
    }
}

/// One entry of a source's failure list, as people and the API see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureView {
    pub resource_type: String,
    pub key: String,
    pub locator: String,
    pub reason: String,
    pub detail: String,
    /// The record as read from the source.
    pub record: Value,
    pub run_id: String,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Clone)]
pub struct SourceAdmin {
    store: Arc<dyn Store>,
    sources: Arc<dyn SourceStore>,
    engine: ImportEngine,
    key: Option<SecretKey>,
    sync: Arc<dyn SyncStore>,
}

impl SourceAdmin {
    pub fn new(
        store: Arc<dyn Store>,
        sources: Arc<dyn SourceStore>,
        sync: Arc<dyn SyncStore>,
        key: Option<SecretKey>,
        users: Users,
        groups: Groups,
        departments: Departments,
    ) -> Self {
        let engine = ImportEngine::new(
            store.clone(),
            sources.clone(),
            sync.clone(),
            key.clone(),
            writes::writes_for(users, groups, departments),
        );
        Self {
            store,
            sources,
            engine,
            key,
            sync,
        }
    }

    /// Takes this period of a source's schedule: false when another
    /// instance (or this one) already ran it in the last `secs` seconds.
    pub async fn claim_period(&self, name: &str, secs: u64) -> bool {
        let (sync, lease) = (self.sync.clone(), format!("source-schedule:{name}"));
        let holder = uuid::Uuid::new_v4().to_string();
        let ttl = chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1000));
        blocking(move || Ok(sync.try_lease(&lease, &holder, ttl)?))
            .await
            .unwrap_or(false)
    }

    async fn audit(&self, event: &str, actor: &Actor, detail: String) -> Result<(), AppError> {
        super::audit::record(&self.store, event, actor, detail).await
    }

    pub async fn add(&self, actor: &Actor, body: Value) -> Result<SourceView, AppError> {
        let new = request::add_request(body)?;
        let (sources, key) = (self.sources.clone(), self.key.clone());
        let view = blocking(move || Ok(manage::add(sources.as_ref(), key.as_ref(), new)?)).await?;
        let detail = format!("source {:?} ({})", view.name, view.kind.as_str());
        self.audit("source.add", actor, detail).await?;
        Ok(view)
    }

    pub async fn list(&self) -> Result<Vec<SourceWithStatus>, AppError> {
        let sources = self.sources.clone();
        blocking(move || Ok(manage::list(sources.as_ref())?)).await
    }

    pub async fn show(&self, name: &str) -> Result<SourceWithStatus, AppError> {
        let (sources, name) = (self.sources.clone(), name.to_string());
        blocking(move || Ok(manage::show(sources.as_ref(), &name)?)).await
    }

    /// Applies a partial update; nothing is stored unless all of it is valid.
    pub async fn update(
        &self,
        actor: &Actor,
        name: &str,
        body: Value,
    ) -> Result<SourceView, AppError> {
        let (sources, key, owned) = (self.sources.clone(), self.key.clone(), name.to_string());
        let view = blocking(move || {
            let before = manage::find(sources.as_ref(), &owned)?;
            let current = manage::settings_of(&before).map_err(SourceError::Internal)?;
            let changes = request::update_request(body, &current)?;
            let after = manage::apply(before, key.as_ref(), changes)?;
            Ok(manage::save(sources.as_ref(), &after)?)
        })
        .await?;
        self.audit("source.update", actor, format!("source {name:?}"))
            .await?;
        Ok(view)
    }

    /// Removes the source, its links, runs and failure list; what it
    /// imported stays.
    pub async fn remove(&self, actor: &Actor, name: &str) -> Result<(), AppError> {
        let (sources, owned) = (self.sources.clone(), name.to_string());
        blocking(move || Ok(manage::remove(sources.as_ref(), &owned)?)).await?;
        self.audit("source.remove", actor, format!("source {name:?}"))
            .await
    }

    /// Reads the source and maps its first `limit` records; writes nothing.
    pub async fn test(
        &self,
        name: &str,
        limit: usize,
        upload: Option<FileInput>,
    ) -> Result<Preview, AppError> {
        Ok(self.engine.preview(name, limit, upload).await?)
    }

    /// A run carried out in this call (the CLI's `source run`).
    pub async fn run_now(
        &self,
        actor: &Actor,
        name: &str,
        options: ImportOptions,
        progress: Option<Progress>,
    ) -> Result<ImportReport, AppError> {
        let report = self.engine.run(name, options, progress).await?;
        self.audit("source.run", actor, run_detail(&report)).await?;
        Ok(report)
    }

    /// Starts a run on a background task; the report says `running`.
    pub async fn start_run(
        &self,
        actor: &Actor,
        name: &str,
        body: Option<Value>,
    ) -> Result<ImportReport, AppError> {
        let options = request::run_options(body, "api")?;
        self.start(actor, name, options).await
    }

    /// Starts a run with these options on a background task (the console's
    /// runs say `console` as their trigger).
    pub async fn start(
        &self,
        actor: &Actor,
        name: &str,
        options: ImportOptions,
    ) -> Result<ImportReport, AppError> {
        let report = self.engine.spawn(name, options).await?;
        self.audit("source.run.start", actor, run_detail(&report))
            .await?;
        Ok(report)
    }

    /// Starts a run of a file source on an uploaded file.
    pub async fn upload(
        &self,
        actor: &Actor,
        name: &str,
        file: FileInput,
        dry_run: bool,
    ) -> Result<ImportReport, AppError> {
        let source = self.show(name).await?;
        if source.source.kind != crate::provision::source::SourceKind::File {
            return Err(ScimError::invalid_value(format!(
                "source {name:?} is a {} source: only file sources take uploads",
                source.source.kind.as_str()
            ))
            .into());
        }
        let bytes = file.bytes.len();
        let options = ImportOptions {
            dry_run,
            trigger: "upload".into(),
            upload: Some(file),
            ..ImportOptions::default()
        };
        let report = self.engine.spawn(name, options).await?;
        let detail = format!("{} ({bytes} bytes uploaded)", run_detail(&report));
        self.audit("source.upload", actor, detail).await?;
        Ok(report)
    }

    pub async fn runs(&self, name: &str, limit: u32) -> Result<Vec<ImportReport>, AppError> {
        Ok(self.engine.runs(name, limit).await?)
    }

    pub async fn report(&self, run_id: &str) -> Result<ImportReport, AppError> {
        Ok(self.engine.report(run_id).await?)
    }

    /// Every source's runs whose deprovisions await approval, newest first.
    pub async fn held(&self) -> Result<Vec<ImportReport>, AppError> {
        Ok(self.engine.held(MAX_RUNS).await?)
    }

    pub async fn approve(&self, actor: &Actor, run_id: &str) -> Result<ImportReport, AppError> {
        let report = self.engine.approve(run_id, &actor.name).await?;
        self.audit("source.run.approve", actor, run_detail(&report))
            .await?;
        Ok(report)
    }

    pub async fn reject(&self, actor: &Actor, run_id: &str) -> Result<ImportReport, AppError> {
        let report = self.engine.reject(run_id, &actor.name).await?;
        self.audit("source.run.reject", actor, run_detail(&report))
            .await?;
        Ok(report)
    }

    /// The source's failure list: every refused record with its reason and
    /// the record as read.
    pub async fn failures(&self, name: &str) -> Result<Vec<FailureView>, AppError> {
        let (sources, owned) = (self.sources.clone(), name.to_string());
        blocking(move || {
            let source = manage::find(sources.as_ref(), &owned)?;
            Ok(sources
                .source_failures(&source.id)?
                .into_iter()
                .map(|f| FailureView {
                    record: serde_json::from_str(&f.raw).unwrap_or(Value::String(f.raw)),
                    resource_type: f.resource_type,
                    key: f.record_key,
                    locator: f.locator,
                    reason: f.reason,
                    detail: f.detail,
                    run_id: f.run_id,
                    first_seen: crate::scim::render::format_time(&f.first_seen),
                    last_seen: crate::scim::render::format_time(&f.last_seen),
                })
                .collect())
        })
        .await
    }
}

fn run_detail(r: &ImportReport) -> String {
    let kind = if r.dry_run { "dry run" } else { "run" };
    format!(
        "{kind} {} ({}) of source {:?}: {}",
        r.id,
        r.mode.as_str(),
        r.source,
        r.status.as_str()
    )
}
