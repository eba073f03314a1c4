//! The sync engine: one full run of a target, and the approval or
//! rejection of a run the deletion guard held.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::apply::{Applier, Matching, Progress};
use super::blocking;
use super::error::SyncError;
use super::guard_window;
use super::lease::RunLease;
use super::live::Recorder;
use super::loaded::LoadedTarget;
use super::persist::{self, now};
use super::report::{
    ActionCounts, DepartmentCounts, HeldDeprovision, ObjectFailure, PlannedChange, RunHead,
    RunReport, RunStatus, reported,
};
use super::source::{self, LocalState};
use crate::crypto::SecretKey;
use crate::metrics::Metrics;
use crate::provision::client::RateLimits;
use crate::provision::connector::{Capabilities, Connector, ConnectorError, object_id};
use crate::provision::plan::{
    self, Action, DeprovisionMode, Link, Plan, PlanInput, PlanStatus, Remote, Source,
};
use crate::provision::webhook::Notifier;
use crate::scim::ResourceKind;
use crate::scim::render::format_time;
use crate::store::{DepartmentMembership, LinkRecord, Store, SyncStore, TargetRecord, TargetState};

#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Compute and report the plan without writing to the target.
    pub dry_run: bool,
}

#[derive(Clone)]
pub struct SyncEngine {
    store: Arc<dyn Store>,
    sync: Arc<dyn SyncStore>,
    key: Option<SecretKey>,
    /// How long a crashed run blocks the next one of its target.
    run_lease: std::time::Duration,
    notifier: Option<Notifier>,
    /// Per-target rate limiters, shared with the workers of this process.
    rate_limits: RateLimits,
    metrics: Option<Arc<Metrics>>,
}

/// A stored run (status `running`) holding its target's run lease (dry
/// runs hold none).
struct StartedRun {
    target: LoadedTarget,
    report: RunReport,
    started: DateTime<Utc>,
    lease: Option<RunLease>,
    /// The change-log head before anything was read: a new target's
    /// worker follows from here after its initial run.
    head: i64,
}

/// The remote side as read from the target.
struct RemoteState {
    capabilities: Capabilities,
    users: Vec<Remote>,
    groups: Vec<Remote>,
}

fn remotes(resources: Vec<serde_json::Value>) -> Vec<Remote> {
    resources
        .into_iter()
        .filter_map(|r| {
            let id = object_id(&r)?.to_string();
            Some(Remote { id, resource: r })
        })
        .collect()
}

fn links(records: Vec<LinkRecord>) -> Vec<Link> {
    records
        .into_iter()
        .map(|l| Link {
            local_id: l.local_id,
            remote_id: l.remote_id,
            hash: l.state_hash,
        })
        .collect()
}

fn no_progress() -> Progress {
    Arc::new(|_| {})
}

impl SyncEngine {
    pub fn new(store: Arc<dyn Store>, sync: Arc<dyn SyncStore>, key: Option<SecretKey>) -> Self {
        Self {
            store,
            sync,
            key,
            run_lease: std::time::Duration::from_secs(60),
            notifier: None,
            rate_limits: RateLimits::new(),
            metrics: None,
        }
    }

    /// Shares `limits` (the real-time workers' too) instead of its own.
    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    pub fn rate_limits(&self) -> &RateLimits {
        &self.rate_limits
    }

    /// Sets the run lease (`sync.run_lease_secs`).
    pub fn with_run_lease(mut self, lease: std::time::Duration) -> Self {
        self.run_lease = lease;
        self
    }

    /// Runs that end failed, with failures or held by the deletion guard
    /// are notified through `notifier` (webhooks).
    pub fn with_notifier(mut self, notifier: Notifier) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Objects written by runs count into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// What a run (or an approval) wrote, counted per action.
    fn count_objects(
        &self,
        target: &str,
        c: &ActionCounts,
        held: usize,
        failures: &[ObjectFailure],
    ) {
        let Some(m) = &self.metrics else {
            return;
        };
        for (action, n) in [
            ("created", c.created),
            ("updated", c.updated),
            ("deactivated", c.deactivated),
            ("deleted", c.deleted),
            ("linked", c.linked),
            ("unchanged", c.unchanged),
            ("member_patch", c.member_patches),
            ("manager_update", c.manager_updates),
            ("held", held),
        ] {
            m.objects(target, action, "ok", n as u64);
        }
        for f in failures {
            m.objects(target, &f.action, "failed", 1);
        }
    }

    async fn notify_run_ended(&self, report: &RunReport) {
        if let Some(notifier) = &self.notifier {
            notifier.sync_run_ended(report).await;
        }
    }

    async fn target(&self, name: &str) -> Result<LoadedTarget, SyncError> {
        let sync = self.sync.clone();
        let owned = name.to_string();
        let record = blocking(move || Ok(sync.find_target(&owned)?)).await?;
        let record = record.ok_or_else(|| SyncError::UnknownTarget(name.to_string()))?;
        Ok(LoadedTarget::load(record)?)
    }

    async fn save(
        &self,
        report: &RunReport,
        target_id: &str,
        started: DateTime<Utc>,
        finished: Option<DateTime<Utc>>,
        failures_from: usize,
        create: bool,
    ) -> Result<(), SyncError> {
        let record = persist::to_record(report, target_id, started, finished)?;
        let new_failures: Vec<_> = report.failures[failures_from..]
            .iter()
            .map(persist::failure_record)
            .collect();
        let sync = self.sync.clone();
        blocking(move || {
            if create {
                sync.create_run(&record)?;
            } else {
                sync.update_run(&record)?;
            }
            for f in &new_failures {
                sync.add_failure(&record.id, f)?;
            }
            Ok(())
        })
        .await
    }

    /// One full run of `target_name`. Failures of the target itself end the
    /// run in status `failed` (an `Ok` report); `Err` is for unknown targets,
    /// a run of the target already in progress, and internal errors.
    pub async fn run(
        &self,
        target_name: &str,
        options: RunOptions,
        progress: Option<Progress>,
    ) -> Result<RunReport, SyncError> {
        let run = self.start(target_name, options).await?;
        self.finish(run, progress).await
    }

    /// Starts a run and carries it out on a spawned task; returns the
    /// report as stored at the start (status `running`).
    pub async fn spawn(
        &self,
        target_name: &str,
        options: RunOptions,
    ) -> Result<RunReport, SyncError> {
        let run = self.start(target_name, options).await?;
        let report = run.report.clone();
        let engine = self.clone();
        tokio::spawn(async move {
            let id = run.report.head.id.clone();
            if let Err(e) = engine.finish(run, None).await {
                tracing::error!(run = %id, error = %e, "the end of a sync run could not be saved");
            }
        });
        Ok(report)
    }

    /// Takes the target's run lease and stores the new run (status `running`).
    async fn start(&self, target_name: &str, options: RunOptions) -> Result<StartedRun, SyncError> {
        let target = self.target(target_name).await?;
        let store = self.store.clone();
        let head = blocking(move || Ok(store.latest_change()?)).await?;
        let run_id = uuid::Uuid::new_v4().to_string();
        let lease = if options.dry_run {
            None
        } else {
            Some(
                RunLease::acquire(
                    self.sync.clone(),
                    &target.record.id,
                    &target.record.name,
                    &run_id,
                    self.run_lease,
                )
                .await?,
            )
        };
        let started = now();
        let report = RunReport::new(RunHead {
            id: run_id,
            target: target.record.name.clone(),
            status: RunStatus::Running,
            dry_run: options.dry_run,
            started: format_time(&started),
            finished: None,
            counts: ActionCounts::default(),
            error: None,
            progress: None,
        });
        self.save(&report, &target.record.id, started, None, 0, true)
            .await?;
        tracing::info!(target: "audit", run = %report.head.id, target = %report.head.target, dry_run = options.dry_run, "sync run started");
        Ok(StartedRun {
            target,
            report,
            started,
            lease,
            head,
        })
    }

    /// Carries out a started run, stores its end state and releases the lease.
    async fn finish(
        &self,
        run: StartedRun,
        progress: Option<Progress>,
    ) -> Result<RunReport, SyncError> {
        let StartedRun {
            target,
            mut report,
            started,
            lease,
            head,
        } = run;
        let recorder = Recorder::start(self.sync.clone(), report.head.id.clone());
        let progress = recorder.hook(progress.unwrap_or_else(no_progress));
        let executed = self
            .execute(&target, &mut report, &recorder, progress)
            .await;
        recorder.finish().await;
        match executed {
            Ok(()) => {}
            Err(RunFailure::Target(e)) => {
                report.head.status = RunStatus::Failed;
                report.head.error = Some(e);
            }
            Err(RunFailure::Internal(e)) => {
                tracing::error!(run = %report.head.id, error = %e, "sync run failed");
                report.head.status = RunStatus::Failed;
                report.head.error = Some("internal error; see the server log".into());
            }
        }
        if !report.head.dry_run
            && report.head.status != RunStatus::Failed
            && let Err(e) = self.finish_initial_sync(&target.record, head).await
        {
            tracing::error!(run = %report.head.id, error = %e, "the initial sync's end could not be saved; the target stays new");
        }
        let finished = now();
        report.head.finished = Some(format_time(&finished));
        let saved = self
            .save(
                &report,
                &target.record.id,
                started,
                Some(finished),
                0,
                false,
            )
            .await;
        if let Some(lease) = lease {
            lease.release().await;
        }
        saved?;
        tracing::info!(target: "audit", run = %report.head.id, target = %report.head.target, status = report.head.status.as_str(), created = report.head.counts.created, updated = report.head.counts.updated, deactivated = report.head.counts.deactivated, deleted = report.head.counts.deleted, failed = report.head.counts.failed, "sync run finished");
        if !report.head.dry_run {
            self.count_objects(
                &report.head.target,
                &report.head.counts,
                report.pending.len(),
                &report.failures,
            );
        }
        self.notify_run_ended(&report).await;
        Ok(report)
    }

    /// A new target's initial run is done: its worker starts at `head`, so
    /// changes made during the run are pushed (unchanged ones write nothing).
    async fn finish_initial_sync(&self, record: &TargetRecord, head: i64) -> Result<(), SyncError> {
        if record.state != TargetState::New {
            return Ok(());
        }
        let (sync, id, name) = (self.sync.clone(), record.id.clone(), record.name.clone());
        if blocking(move || Ok(sync.finish_initial_sync(&id, head)?)).await? {
            tracing::info!(target: "audit", target = %name, cursor = head, "initial sync done; real-time sync follows the change log");
        }
        Ok(())
    }

    async fn read_remote(
        &self,
        target: &LoadedTarget,
        connector: &dyn Connector,
    ) -> Result<RemoteState, ConnectorError> {
        let capabilities = connector.capabilities().await?;
        let at = std::time::Instant::now();
        let users = if target.syncs("Users") {
            remotes(connector.list(ResourceKind::User).await?)
        } else {
            Vec::new()
        };
        tracing::debug!(target = %target.record.name, users = users.len(), secs = at.elapsed().as_secs_f64(), "read the target's users");
        let groups = if target.syncs("Groups") || target.departments.as_groups() {
            remotes(connector.list(ResourceKind::Group).await?)
        } else {
            Vec::new()
        };
        Ok(RemoteState {
            capabilities,
            users,
            groups,
        })
    }

    async fn execute(
        &self,
        target: &LoadedTarget,
        report: &mut RunReport,
        recorder: &Recorder,
        progress: Progress,
    ) -> Result<(), RunFailure> {
        let connector = target
            .connector(self.key.as_ref(), &self.rate_limits, None)
            .map_err(|e| RunFailure::Target(e.to_string()))?;
        // Where a run's time goes, at debug level (`RUST_LOG=scimhub::provision::runs=debug`).
        let mut since = std::time::Instant::now();
        let run_id = report.head.id.clone();
        let mut lap = |phase: &str| {
            tracing::debug!(run = %run_id, phase, secs = since.elapsed().as_secs_f64(), "sync run phase");
            since = std::time::Instant::now();
        };
        let remote = self
            .read_remote(target, connector.as_ref())
            .await
            .map_err(|e| RunFailure::Target(format!("reading the target: {e}")))?;
        lap("reading the target");
        let Links {
            users: user_links,
            groups: group_links,
            departments: department_links,
        } = self.read_local_links(target).await?;
        let (local, all_ids) = self.read_local(target).await?;
        lap("reading the store");
        recorder.phase("planning");
        let options = target
            .plan_options(remote.capabilities.member_batch)
            .map_err(RunFailure::Internal)?;
        let all: HashSet<&str> = all_ids.iter().map(String::as_str).collect();
        let no_remotes: &[Remote] = &[];
        let plan = plan::plan(
            PlanInput {
                users: &local.users,
                groups: &local.groups,
                remote_users: &remote.users,
                remote_groups: if target.syncs("Groups") {
                    &remote.groups
                } else {
                    no_remotes
                },
                user_links: &user_links,
                group_links: &group_links,
                departments: &local.departments,
                department_links: &department_links,
                remote_department_groups: if target.departments.as_groups() {
                    &remote.groups
                } else {
                    no_remotes
                },
            },
            &all,
            &options,
        );
        lap("planning");
        recorder.planned(
            plan.users.len()
                + plan.managers.len()
                + plan.groups.len()
                + plan.members.len()
                + plan.departments.len()
                + plan.department_members.len()
                + plan.department_removals.len(),
        );
        report.warnings = plan.warnings.clone();
        report.orphans = plan.orphans.clone();
        let (sync, target_id, guard, n) = (
            self.sync.clone(),
            target.record.id.clone(),
            target.settings.guard,
            plan.deprovisions().count(),
        );
        let within_window =
            blocking(move || guard_window::admits(sync.as_ref(), &target_id, &guard, n)).await?;
        let hold = plan.status == PlanStatus::AwaitingApproval || !within_window;
        if report.head.dry_run {
            report.changes = planned_changes(&plan);
            report.head.counts = planned_counts(&plan);
            report.pending = if hold { held(&plan) } else { Vec::new() };
            report.head.status = RunStatus::Planned;
            return Ok(());
        }
        let hashes = |links: &[Link]| -> HashMap<String, String> {
            links
                .iter()
                .map(|l| (l.local_id.clone(), l.hash.clone()))
                .collect()
        };
        // Group and department local ids never collide (both are UUIDs).
        let mut group_hashes = hashes(&group_links);
        group_hashes.extend(hashes(&department_links));
        let mut applier = Applier::new(
            connector,
            self.sync.clone(),
            target.record.id.clone(),
            target.settings.actions,
            target.settings.max_concurrency,
            hashes(&user_links),
            group_hashes,
            progress,
        );
        applier.batch = remote.capabilities.batch.max(1);
        applier.matching = Some(Matching {
            users: options.user_match.clone(),
            groups: options.group_match.clone(),
            departments: options.department_match.clone(),
        });
        // Departments top-down before people; deleted bottom-up after them.
        for level in by_depth(plan.departments, &local.department_depths) {
            applier.apply(ResourceKind::Department, level, hold).await;
        }
        lap("department groups");
        applier.apply(ResourceKind::User, plan.users, hold).await;
        applier.set_managers(plan.managers).await;
        lap("users");
        applier.apply(ResourceKind::Group, plan.groups, hold).await;
        applier
            .patch_members(ResourceKind::Group, plan.members)
            .await;
        lap("groups");
        applier
            .patch_members(ResourceKind::Department, plan.department_members)
            .await;
        applier
            .apply_in_order(ResourceKind::Department, plan.department_removals, hold)
            .await;
        lap("department memberships and removals");
        if target.departments.as_groups() {
            let rows = department_memberships(&local.departments, &applier);
            let (sync, target_id) = (self.sync.clone(), target.record.id.clone());
            blocking(move || Ok(sync.replace_department_memberships(&target_id, &rows)?)).await?;
            lap("recording department memberships");
        }
        let outcome = applier.finish();
        let (sync, target_id, done) = (
            self.sync.clone(),
            target.record.id.clone(),
            outcome.deprovisioned.clone(),
        );
        blocking(move || guard_window::record(sync.as_ref(), &target_id, &done)).await?;
        report.head.counts = outcome.counts;
        report.failures = outcome.failures;
        report.pending = outcome.held;
        report.head.status = if let Some(reason) = outcome.aborted {
            report.head.error = Some(reason);
            RunStatus::Failed
        } else if !report.pending.is_empty() {
            RunStatus::AwaitingApproval
        } else if report.failures.is_empty() {
            RunStatus::Succeeded
        } else {
            RunStatus::CompletedWithFailures
        };
        if report.head.status == RunStatus::AwaitingApproval {
            tracing::warn!(target: "audit", run = %report.head.id, target = %report.head.target, held = report.pending.len(), "deletion guard tripped; deprovisions await approval");
        }
        Ok(())
    }

    /// The target's id map: users, groups and department groups.
    async fn read_local_links(&self, target: &LoadedTarget) -> Result<Links, RunFailure> {
        let (sync, id) = (self.sync.clone(), target.record.id.clone());
        blocking(move || {
            let of = |kind: ResourceKind| -> Result<Vec<Link>, SyncError> {
                Ok(links(sync.links(&id, kind.as_str())?))
            };
            Ok(Links {
                users: of(ResourceKind::User)?,
                groups: of(ResourceKind::Group)?,
                departments: of(ResourceKind::Department)?,
            })
        })
        .await
        .map_err(|e| RunFailure::Internal(anyhow::anyhow!(e)))
    }

    /// Local sources, and every local id the id map names that still
    /// exists (in scope or not).
    async fn read_local(
        &self,
        target: &LoadedTarget,
    ) -> Result<(LocalState, HashSet<String>), RunFailure> {
        let store = self.store.clone();
        let sync = self.sync.clone();
        let record: TargetRecord = target.record.clone();
        let loaded = LoadedTarget::load(record.clone()).map_err(RunFailure::Internal)?;
        blocking(move || {
            let local = source::load(store.as_ref(), &loaded)?;
            let mut all: HashSet<String> = HashSet::new();
            for kind in [
                ResourceKind::User,
                ResourceKind::Group,
                ResourceKind::Department,
            ] {
                let links = links(sync.links(&record.id, kind.as_str())?);
                let in_scope = local.in_scope(kind);
                all.extend(in_scope.iter().map(|s| s.to_string()));
                let leftovers = links
                    .iter()
                    .filter(|l| !in_scope.contains(l.local_id.as_str()))
                    .map(|l| l.local_id.clone());
                all.extend(source::existing(store.as_ref(), kind, leftovers)?);
            }
            Ok((local, all))
        })
        .await
        .map_err(|e| RunFailure::Internal(anyhow::anyhow!(e)))
    }

    /// Holds one deprovision of the real-time worker in the target's
    /// pending approval (created, and notified, the first time).
    pub async fn hold(
        &self,
        target: &TargetRecord,
        item: HeldDeprovision,
    ) -> Result<RunReport, SyncError> {
        let (sync, record) = (self.sync.clone(), target.clone());
        let (report, created) =
            blocking(move || guard_window::hold(sync.as_ref(), &record, item)).await?;
        if created {
            tracing::warn!(target: "audit", run = %report.head.id, target = %report.head.target, "deletion guard tripped on real-time sync; deprovisions await approval");
            self.notify_run_ended(&report).await;
        }
        Ok(report)
    }

    /// The stored report of a run.
    pub async fn report(&self, run_id: &str) -> Result<RunReport, SyncError> {
        let sync = self.sync.clone();
        let id = run_id.to_string();
        let found = blocking(move || {
            let Some(run) = sync.get_run(&id)? else {
                return Ok(None);
            };
            let failures = sync.failures(&id)?;
            Ok(Some(persist::from_record(&run, failures)?))
        })
        .await?;
        found.ok_or_else(|| SyncError::UnknownRun(run_id.to_string()))
    }

    async fn held_run(
        &self,
        run_id: &str,
    ) -> Result<(RunReport, TargetRecord, DateTime<Utc>), SyncError> {
        let report = self.report(run_id).await?;
        if report.head.status != RunStatus::AwaitingApproval {
            return Err(SyncError::Conflict(format!(
                "run {run_id} is {}, not awaiting approval",
                report.head.status.as_str()
            )));
        }
        let sync = self.sync.clone();
        let id = run_id.to_string();
        let (record, started) = blocking(move || {
            let run = sync
                .get_run(&id)?
                .ok_or_else(|| SyncError::UnknownRun(id.clone()))?;
            let target = sync
                .find_target_by_id(&run.target_id)?
                .ok_or_else(|| SyncError::Conflict("the run's target no longer exists".into()))?;
            Ok((target, run.started))
        })
        .await?;
        Ok((report, record, started))
    }

    /// Applies the deprovisions a run held back — except those whose
    /// resource is back in scope since — and finishes the run.
    pub async fn approve(
        &self,
        run_id: &str,
        actor: &str,
        progress: Option<Progress>,
    ) -> Result<RunReport, SyncError> {
        let (mut report, record, started) = self.held_run(run_id).await?;
        let target = LoadedTarget::load(record.clone())?;
        tracing::info!(target: "audit", run = run_id, target = %report.head.target, actor, held = report.pending.len(), "held deprovisions approved");
        let connector = target.connector(self.key.as_ref(), &self.rate_limits, None)?;
        if let Err(e) = connector.capabilities().await {
            return Err(SyncError::Conflict(format!(
                "the target cannot be reached, nothing was deprovisioned: {e}"
            )));
        }
        let (local, ..) = self.read_local(&target).await.map_err(|e| match e {
            RunFailure::Internal(e) => SyncError::Internal(e),
            RunFailure::Target(m) => SyncError::Conflict(m),
        })?;
        let failures_before = report.failures.len();
        let applier = Applier::new(
            connector,
            self.sync.clone(),
            record.id.clone(),
            target.settings.actions,
            target.settings.max_concurrency,
            HashMap::new(),
            HashMap::new(),
            progress.unwrap_or_else(no_progress),
        );
        let held = std::mem::take(&mut report.pending);
        for h in &held {
            let kind = ResourceKind::parse(&h.resource_type).unwrap_or(ResourceKind::Group);
            let back = local.in_scope(kind).contains(h.local_id.as_str());
            if back {
                report.warnings.push(format!(
                    "{} {} is back in scope; not deprovisioned",
                    h.resource_type, h.local_id
                ));
                continue;
            }
            applier
                .deprovision(kind, &h.local_id, &h.remote_id, h.mode)
                .await;
        }
        let outcome = applier.finish();
        self.count_objects(&report.head.target, &outcome.counts, 0, &outcome.failures);
        // The admin saw this burst: the guard's window starts over.
        let (sync, target_id) = (self.sync.clone(), record.id.clone());
        blocking(move || Ok(sync.clear_deprovisions(&target_id)?)).await?;
        add_counts(&mut report.head.counts, &outcome.counts);
        report.failures.extend(outcome.failures);
        report.head.status = if let Some(reason) = outcome.aborted {
            report.head.error = Some(reason);
            report.pending = held;
            RunStatus::Failed
        } else if report.failures.is_empty() {
            RunStatus::Succeeded
        } else {
            RunStatus::CompletedWithFailures
        };
        let finished = now();
        report.head.finished = Some(format_time(&finished));
        self.save(
            &report,
            &record.id,
            started,
            Some(finished),
            failures_before,
            false,
        )
        .await?;
        self.notify_run_ended(&report).await;
        Ok(report)
    }

    /// Refuses a held run's deprovisions: nothing is removed downstream.
    pub async fn reject(&self, run_id: &str, actor: &str) -> Result<RunReport, SyncError> {
        let (mut report, record, started) = self.held_run(run_id).await?;
        tracing::info!(target: "audit", run = run_id, target = %report.head.target, actor, held = report.pending.len(), "held deprovisions rejected");
        report.head.status = RunStatus::Rejected;
        let finished = now();
        report.head.finished = Some(format_time(&finished));
        let failures = report.failures.len();
        self.save(
            &report,
            &record.id,
            started,
            Some(finished),
            failures,
            false,
        )
        .await?;
        Ok(report)
    }
}

enum RunFailure {
    /// The target could not be read or used: shown in the report.
    Target(String),
    /// Our own fault: logged, reported generically.
    Internal(anyhow::Error),
}

impl From<SyncError> for RunFailure {
    fn from(e: SyncError) -> Self {
        RunFailure::Internal(anyhow::anyhow!(e))
    }
}

/// The id map of a target, per kind.
struct Links {
    users: Vec<Link>,
    groups: Vec<Link>,
    departments: Vec<Link>,
}

/// Department actions in levels from the top (parents' level first), each
/// level in its planned order; actions of departments not in the tree (none
/// are planned so) go last.
fn by_depth(actions: Vec<Action>, depths: &HashMap<String, usize>) -> Vec<Vec<Action>> {
    let mut levels: std::collections::BTreeMap<usize, Vec<Action>> = Default::default();
    for a in actions {
        let depth = depths.get(a.local_id()).copied().unwrap_or(usize::MAX);
        levels.entry(depth).or_default().push(a);
    }
    levels.into_values().collect()
}

/// What each department group holds after a run: the members of each
/// department in scope that are on the target, with the group itself.
fn department_memberships(departments: &[Source], applier: &Applier) -> Vec<DepartmentMembership> {
    let ids: HashSet<&str> = departments.iter().map(|d| d.local_id.as_str()).collect();
    let mut rows = Vec::new();
    for d in departments {
        if !applier.is_on_target(ResourceKind::Department, &d.local_id) {
            continue;
        }
        for m in &d.members {
            let kind = if ids.contains(m.as_str()) {
                ResourceKind::Department
            } else {
                ResourceKind::User
            };
            if applier.is_on_target(kind, m) {
                rows.push(DepartmentMembership {
                    department_id: d.local_id.clone(),
                    member_type: kind.as_str().to_string(),
                    member_id: m.clone(),
                });
            }
        }
    }
    rows
}

fn add_counts(into: &mut ActionCounts, more: &ActionCounts) {
    into.created += more.created;
    into.updated += more.updated;
    into.deactivated += more.deactivated;
    into.deleted += more.deleted;
    into.linked += more.linked;
    into.unchanged += more.unchanged;
    into.skipped += more.skipped;
    into.failed += more.failed;
    into.member_patches += more.member_patches;
    into.manager_updates += more.manager_updates;
    into.departments.add(&more.departments);
}

fn held(plan: &Plan) -> Vec<HeldDeprovision> {
    plan.actions()
        .filter_map(|(kind, a)| match a {
            Action::Deprovision {
                local_id,
                remote_id,
                mode,
                reason,
                name,
            } => Some(HeldDeprovision {
                resource_type: kind.as_str().to_string(),
                local_id: local_id.clone(),
                remote_id: remote_id.clone(),
                mode: *mode,
                reason: HeldDeprovision::reason_text(*reason).to_string(),
                name: name.clone(),
                held_at: None,
            }),
            _ => None,
        })
        .collect()
}

fn planned_counts(plan: &Plan) -> ActionCounts {
    let mut c = ActionCounts {
        created: plan.counts.create,
        updated: plan.counts.update,
        unchanged: plan.counts.no_op,
        skipped: plan.counts.skip,
        linked: plan.counts.linked,
        member_patches: plan.members.len() + plan.department_members.len(),
        manager_updates: plan.managers.len(),
        ..ActionCounts::default()
    };
    let mut d = DepartmentCounts {
        member_patches: plan.department_members.len(),
        ..DepartmentCounts::default()
    };
    for a in plan.departments.iter().chain(&plan.department_removals) {
        match a {
            Action::Create { .. } => d.created += 1,
            Action::Update { newly_linked, .. } => {
                d.updated += 1;
                d.linked += usize::from(*newly_linked);
            }
            Action::NoOp { newly_linked, .. } => {
                d.unchanged += 1;
                d.linked += usize::from(*newly_linked);
            }
            Action::Deprovision { .. } => d.deleted += 1,
            Action::Skip { .. } => d.skipped += 1,
            Action::Unlink { .. } => {}
        }
    }
    c.departments = d;
    for a in plan.deprovisions() {
        if let Action::Deprovision { mode, .. } = a {
            match mode {
                DeprovisionMode::Deactivate => c.deactivated += 1,
                DeprovisionMode::Delete => c.deleted += 1,
            }
        }
    }
    c
}

fn planned_changes(plan: &Plan) -> Vec<PlannedChange> {
    plan.actions()
        .filter_map(|(kind, a)| {
            let change =
                |action: &str, remote: Option<&String>, reason: Option<String>| PlannedChange {
                    resource_type: kind.as_str().to_string(),
                    local_id: a.local_id().to_string(),
                    action: action.to_string(),
                    remote_id: remote.cloned(),
                    changed: Vec::new(),
                    diff: Vec::new(),
                    reason,
                };
            match a {
                Action::Create { .. } => Some(change("create", None, None)),
                Action::Update {
                    remote_id, changed, ..
                } => Some(PlannedChange {
                    changed: changed.iter().map(|c| c.attribute.clone()).collect(),
                    diff: changed.iter().cloned().map(reported).collect(),
                    ..change("update", Some(remote_id), None)
                }),
                Action::NoOp {
                    remote_id,
                    newly_linked: true,
                    ..
                } => Some(change("link", Some(remote_id), None)),
                Action::NoOp { .. } | Action::Unlink { .. } => None,
                Action::Deprovision {
                    remote_id,
                    mode,
                    reason,
                    ..
                } => Some(change(
                    match mode {
                        DeprovisionMode::Deactivate => "deactivate",
                        DeprovisionMode::Delete => "delete",
                    },
                    Some(remote_id),
                    Some(HeldDeprovision::reason_text(*reason).to_string()),
                )),
                Action::Skip { reason, .. } => Some(change("skip", None, Some(reason.clone()))),
            }
        })
        .collect()
}
