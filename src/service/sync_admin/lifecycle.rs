//! A target's life over the admin API and the CLI alike: update in place,
//! pause, resume, status, runs and held approvals — audited with the actor.

use serde::Serialize;
use serde_json::Value;

use super::{SyncAdmin, request};
use crate::error::AppError;
use crate::provision::runs::history::{self, RunSummary};
use crate::provision::runs::{Progress, RunOptions, RunReport, RunStatus};
use crate::provision::target::{self, TargetView};
use crate::provision::target_status::{self, TargetWithStatus};
use crate::provision::target_test;
use crate::scim::ScimError;
use crate::service::blocking;
use crate::store::Actor;

/// What an update did, and whether existing accounts follow only after a
/// reconcile (scope, mapping or matching changed).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Updated {
    #[serde(flatten)]
    pub target: TargetView,
    pub reconcile_needed: bool,
}

impl SyncAdmin {
    pub async fn targets(&self) -> Result<Vec<TargetWithStatus>, AppError> {
        let sync = self.sync.clone();
        blocking(move || Ok(target_status::list(sync.as_ref())?)).await
    }

    pub async fn target(&self, name: &str) -> Result<TargetWithStatus, AppError> {
        let (sync, name) = (self.sync.clone(), name.to_string());
        blocking(move || Ok(target_status::show(sync.as_ref(), &name)?)).await
    }

    /// Applies a partial update (see `request::update_request`); nothing is
    /// stored unless all of it is valid and, when the URL or credentials
    /// change, the target passes its test (unless `"test": false`).
    pub async fn update_target(
        &self,
        actor: &Actor,
        name: &str,
        body: Value,
    ) -> Result<Updated, AppError> {
        let (sync, owned) = (self.sync.clone(), name.to_string());
        let (before, request, reconcile_needed) = blocking(move || {
            let before = target::find(sync.as_ref(), &owned)?;
            let shown = target::view(&before)?;
            let request = request::update_request(body, &shown.settings)?;
            let reconcile_needed = request.changes.needs_reconcile(&shown);
            Ok((before, request, reconcile_needed))
        })
        .await?;
        let view = target_test::update_tested(
            self.store.clone(),
            self.sync.clone(),
            self.key.clone(),
            self.engine.rate_limits(),
            before,
            request.changes,
            request.test,
        )
        .await?;
        let detail = format!("target {name:?} ({})", view.base_url);
        self.audit("sync.target.update", actor, detail).await?;
        Ok(Updated {
            target: view,
            reconcile_needed,
        })
    }

    pub async fn pause(&self, actor: &Actor, name: &str) -> Result<TargetView, AppError> {
        let (sync, owned) = (self.sync.clone(), name.to_string());
        let view = blocking(move || Ok(target::pause(sync.as_ref(), &owned)?)).await?;
        self.audit("sync.target.pause", actor, format!("target {name:?}"))
            .await?;
        Ok(view)
    }

    pub async fn resume(&self, actor: &Actor, name: &str) -> Result<TargetView, AppError> {
        let (store, sync, owned) = (self.store.clone(), self.sync.clone(), name.to_string());
        let view = blocking(move || {
            let head = store.latest_change()?;
            Ok(target::resume(sync.as_ref(), &owned, head)?)
        })
        .await?;
        self.audit("sync.target.resume", actor, format!("target {name:?}"))
            .await?;
        Ok(view)
    }

    /// Runs of every target (or one), optionally of one status.
    pub async fn find_runs(
        &self,
        target: Option<String>,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RunSummary>, AppError> {
        let status = status
            .map(|s| {
                RunStatus::parse(s).ok_or_else(|| {
                    ScimError::invalid_value(format!(
                        "status {s:?} is none of running, succeeded, completed_with_failures, \
                         failed, awaiting_approval, rejected, planned"
                    ))
                })
            })
            .transpose()?;
        let sync = self.sync.clone();
        blocking(move || {
            Ok(history::find(
                sync.as_ref(),
                target.as_deref(),
                status,
                limit,
            )?)
        })
        .await
    }

    /// Pending approvals with every held account.
    pub async fn held(&self, target: Option<String>) -> Result<Vec<RunReport>, AppError> {
        let sync = self.sync.clone();
        blocking(move || Ok(history::held(sync.as_ref(), target.as_deref())?)).await
    }

    /// A full run carried out in this call (the CLI's `sync run`).
    pub async fn run_now(
        &self,
        actor: &Actor,
        name: &str,
        options: RunOptions,
        progress: Option<Progress>,
    ) -> Result<RunReport, AppError> {
        let kind = if options.dry_run { "dry run" } else { "run" };
        let report = self.engine.run(name, options, progress).await?;
        let detail = format!(
            "{kind} {} of target {name:?}: {}",
            report.head.id,
            report.head.status.as_str()
        );
        self.audit("sync.run", actor, detail).await?;
        Ok(report)
    }

    /// Applies a held run's deprovisions, reporting progress (the CLI's `sync approve`).
    pub async fn approve_with(
        &self,
        actor: &Actor,
        run_id: &str,
        progress: Option<Progress>,
    ) -> Result<RunReport, AppError> {
        let report = self.engine.approve(run_id, &actor.name, progress).await?;
        let detail = format!(
            "run {run_id} of target {:?}: {}",
            report.head.target,
            report.head.status.as_str()
        );
        self.audit("sync.run.approve", actor, detail).await?;
        Ok(report)
    }
}
