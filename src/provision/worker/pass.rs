//! One target's worker: lease, quarantine probes, due retries, then the
//! next coalesced slice of the change log, advancing the saved cursor only
//! past objects that were written or queued.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::push::{PushError, Pushed, Session};
use super::queue;
use super::supervisor::WorkerContext;
use crate::provision::connector::ConnectorError;
use crate::provision::runs::{LoadedTarget, SyncError, blocking};
use crate::scim::ResourceKind;
use crate::store::{ChangeRecord, TargetRecord, TargetState};

/// What a pass found, to pace the next one.
#[derive(Debug, PartialEq, Eq)]
pub enum PassResult {
    /// Nothing to do: wait for the poll interval.
    Idle,
    /// Work was done; more may be waiting.
    Busy,
    /// Another instance holds the target.
    NotMine,
    Quarantined,
    /// The target cannot be reached: nothing moved; try again after a poll.
    Unreachable,
    /// New (awaiting its initial full run) or paused by an admin.
    Paused,
    /// The target was removed.
    Gone,
}

/// Rebuilt sessions are cached this long (settings changes apply after it).
const SESSION_TTL: Duration = Duration::from_secs(300);
/// Recent write outcomes kept for the failure share.
const WINDOW: usize = 100;

pub struct TargetWorker {
    ctx: Arc<WorkerContext>,
    target_id: String,
    session: Option<(Session, Instant, chrono::DateTime<Utc>)>,
    outcomes: VecDeque<bool>,
    last_probe: Option<Instant>,
    /// Probes failed in a row (each doubles the wait to the next).
    failed_probes: u32,
    /// When the target stopped answering at all.
    down_since: Option<Instant>,
}

/// The longest wait between probes of a quarantined target.
const MAX_PROBE_WAIT: Duration = Duration::from_secs(300);

fn kind_of(resource_type: &str) -> Option<ResourceKind> {
    match resource_type {
        "User" => Some(ResourceKind::User),
        "Group" => Some(ResourceKind::Group),
        "Department" => Some(ResourceKind::Department),
        _ => None,
    }
}

impl TargetWorker {
    pub fn new(ctx: Arc<WorkerContext>, target_id: String) -> Self {
        Self {
            ctx,
            target_id,
            session: None,
            outcomes: VecDeque::new(),
            last_probe: None,
            failed_probes: 0,
            down_since: None,
        }
    }

    pub fn lease_name(&self) -> String {
        format!("worker:{}", self.target_id)
    }

    pub async fn release(&self) {
        let (sync, name, holder) = (
            self.ctx.sync.clone(),
            self.lease_name(),
            self.ctx.instance.clone(),
        );
        let _ = blocking(move || Ok(sync.release_lease(&name, &holder)?)).await;
    }

    pub async fn pass(&mut self) -> Result<PassResult, SyncError> {
        let (sync, name, holder, id) = (
            self.ctx.sync.clone(),
            self.lease_name(),
            self.ctx.instance.clone(),
            self.target_id.clone(),
        );
        let ttl =
            chrono::Duration::seconds(i64::try_from(self.ctx.config.lease_secs).unwrap_or(30));
        let (mine, record, quarantine) = blocking(move || {
            if !sync.try_lease(&name, &holder, ttl)? {
                return Ok((false, None, None));
            }
            Ok((true, sync.find_target_by_id(&id)?, sync.quarantine(&id)?))
        })
        .await?;
        if !mine {
            return Ok(PassResult::NotMine);
        }
        let Some(record) = record else {
            return Ok(PassResult::Gone);
        };
        if record.state != TargetState::Active {
            return Ok(PassResult::Paused);
        }
        if let Some(q) = quarantine {
            return self.probe(&record, &q.reason).await;
        }
        self.ensure_session(&record).await?;
        let retried = self.retry_due(&record).await?;
        if retried == PassResult::Quarantined {
            return Ok(retried);
        }
        let changes = self.read_changes(record.change_cursor).await?;
        if changes.is_empty() {
            return Ok(retried);
        }
        self.push_changes(&record, changes).await
    }

    async fn ensure_session(&mut self, record: &TargetRecord) -> Result<(), SyncError> {
        let fresh = self.session.as_ref().is_some_and(|(_, at, updated)| {
            at.elapsed() < SESSION_TTL && *updated == record.updated
        });
        if fresh {
            return Ok(());
        }
        let target = Arc::new(LoadedTarget::load(record.clone())?);
        let connector =
            target.connector(self.ctx.key.as_ref(), self.ctx.engine.rate_limits(), None)?;
        let (store, sync) = (self.ctx.store.clone(), self.ctx.sync.clone());
        let session = Session::open(target, connector, store, sync).await?;
        self.session = Some((session, Instant::now(), record.updated));
        Ok(())
    }

    fn session(&self) -> Result<&Session, SyncError> {
        self.session
            .as_ref()
            .map(|(s, ..)| s)
            .ok_or_else(|| SyncError::Internal(anyhow::anyhow!("no session")))
    }

    async fn read_changes(&self, cursor: i64) -> Result<Vec<ChangeRecord>, SyncError> {
        let (store, batch) = (self.ctx.store.clone(), self.ctx.config.batch);
        let read = move || {
            let store = store.clone();
            async move { blocking(move || Ok(store.changes_after(cursor, batch)?)).await }
        };
        let first = read().await?;
        let coalesce = self.ctx.config.coalesce_ms;
        if first.is_empty() || coalesce == 0 || first.len() >= batch as usize {
            return Ok(first);
        }
        // Let a burst finish so it becomes one write per object.
        tokio::time::sleep(Duration::from_millis(coalesce)).await;
        read().await
    }

    /// Objects in the order of their latest change, with that change's seq.
    fn coalesce(changes: &[ChangeRecord]) -> Vec<(ResourceKind, String, i64, bool)> {
        let mut last: HashMap<(ResourceKind, &str), (i64, bool)> = HashMap::new();
        for c in changes {
            if let Some(kind) = kind_of(&c.resource_type) {
                last.insert(
                    (kind, c.resource_id.as_str()),
                    (c.seq, c.operation == "delete"),
                );
            }
        }
        let mut objects: Vec<_> = last
            .into_iter()
            .map(|((kind, id), (seq, deleted))| (kind, id.to_string(), seq, deleted))
            .collect();
        objects.sort_by_key(|o| o.2);
        objects
    }

    async fn push_changes(
        &mut self,
        record: &TargetRecord,
        changes: Vec<ChangeRecord>,
    ) -> Result<PassResult, SyncError> {
        let end = changes.last().map_or(record.change_cursor, |c| c.seq);
        for (kind, id, seq, _) in Self::coalesce(&changes) {
            let pushed = self.push_one(record, kind, &id).await?;
            if matches!(pushed, PassResult::Quarantined | PassResult::Unreachable) {
                // Not past this object: it is pushed once the target answers.
                return Ok(pushed);
            }
            self.set_cursor(&record.id, seq).await?;
        }
        self.set_cursor(&record.id, end).await?;
        Ok(PassResult::Busy)
    }

    async fn set_cursor(&self, target_id: &str, seq: i64) -> Result<(), SyncError> {
        let (sync, id) = (self.ctx.sync.clone(), target_id.to_string());
        blocking(move || Ok(sync.set_cursor(&id, seq)?)).await
    }

    async fn retry_due(&mut self, record: &TargetRecord) -> Result<PassResult, SyncError> {
        let (sync, id, batch) = (
            self.ctx.sync.clone(),
            record.id.clone(),
            i64::from(self.ctx.config.batch),
        );
        let due = blocking(move || Ok(sync.queue_due(&id, Utc::now(), batch)?)).await?;
        let mut result = PassResult::Idle;
        for entry in due {
            let Some(kind) = kind_of(&entry.resource_type) else {
                continue;
            };
            result = PassResult::Busy;
            let pushed = self.push_one(record, kind, &entry.local_id).await?;
            if matches!(pushed, PassResult::Quarantined | PassResult::Unreachable) {
                return Ok(pushed);
            }
        }
        Ok(result)
    }

    /// Pushes one object; a failure is queued (or quarantines the target).
    async fn push_one(
        &mut self,
        record: &TargetRecord,
        kind: ResourceKind,
        id: &str,
    ) -> Result<PassResult, SyncError> {
        let started = Instant::now();
        let outcome = self.session()?.push(kind, id).await;
        if let Err(PushError::Target(failure)) = &outcome
            && failure.error.is_unreachable()
        {
            return self.unreachable(record, started, &failure.error).await;
        }
        self.down_since = None;
        match outcome {
            Ok(Pushed::Held(item)) => {
                self.ctx.count_push(&record.name, "held", "ok");
                self.ctx.engine.hold(record, *item).await?;
                queue::resolve(&self.ctx.sync, &record.id, kind, id).await?;
                Ok(PassResult::Busy)
            }
            Ok(pushed) => {
                self.ctx.count_push(&record.name, pushed.action(), "ok");
                if pushed != Pushed::Unchanged && pushed != Pushed::Nothing {
                    tracing::info!(target: "audit", target = %record.name, kind = kind.as_str(), id, outcome = ?pushed, "pushed to target");
                    self.note(true);
                }
                queue::resolve(&self.ctx.sync, &record.id, kind, id).await?;
                Ok(PassResult::Busy)
            }
            Err(PushError::Internal(e)) => Err(e),
            Err(PushError::Target(failure)) => {
                if let ConnectorError::Unauthorized { status, .. } = &failure.error {
                    let reason = format!("the target refused the credentials ({status})");
                    self.quarantine(record, &reason).await?;
                    return Ok(PassResult::Quarantined);
                }
                let entry = queue::record(
                    &self.ctx.sync,
                    &record.id,
                    kind,
                    id,
                    &failure,
                    &self.ctx.config,
                )
                .await?;
                tracing::warn!(target: "audit", target = %record.name, kind = kind.as_str(), id, operation = failure.operation, attempts = entry.attempts, status = %entry.status, error = %failure.error, "push failed; queued");
                self.ctx
                    .count_push(&record.name, failure.operation, "failed");
                self.note(false);
                if self.failing_too_much() {
                    let reason = format!(
                        "more than {:.0}% of recent writes failed",
                        self.ctx.config.quarantine_failure_share * 100.0
                    );
                    self.quarantine(record, &reason).await?;
                    return Ok(PassResult::Quarantined);
                }
                Ok(PassResult::Busy)
            }
        }
    }

    /// The target did not answer at all: counted per target, not queued per
    /// object; quarantined once it has been down `down_quarantine_secs`.
    async fn unreachable(
        &mut self,
        record: &TargetRecord,
        attempt_started: Instant,
        error: &ConnectorError,
    ) -> Result<PassResult, SyncError> {
        let since = *self.down_since.get_or_insert(attempt_started);
        let limit = Duration::from_secs(self.ctx.config.down_quarantine_secs);
        tracing::warn!(target = %record.name, down_secs = since.elapsed().as_secs(), %error, "target unreachable");
        if since.elapsed() < limit {
            return Ok(PassResult::Unreachable);
        }
        self.down_since = None;
        self.quarantine(record, &format!("unreachable: {error}"))
            .await?;
        Ok(PassResult::Quarantined)
    }

    fn note(&mut self, ok: bool) {
        self.outcomes.push_back(ok);
        while self.outcomes.len() > WINDOW {
            self.outcomes.pop_front();
        }
    }

    fn failing_too_much(&self) -> bool {
        let n = self.outcomes.len();
        let failed = self.outcomes.iter().filter(|ok| !**ok).count();
        n >= self.ctx.config.quarantine_min_writes.max(1)
            && failed as f64 / n as f64 > self.ctx.config.quarantine_failure_share
    }

    async fn quarantine(&mut self, record: &TargetRecord, reason: &str) -> Result<(), SyncError> {
        let (sync, id, why) = (self.ctx.sync.clone(), record.id.clone(), reason.to_string());
        blocking(move || Ok(sync.set_quarantine(&id, Some(&why))?)).await?;
        tracing::error!(target: "audit", target = %record.name, reason, "target quarantined");
        self.ctx.alert(record, Some(reason)).await;
        self.outcomes.clear();
        self.last_probe = Some(Instant::now());
        Ok(())
    }

    /// A quarantined target is probed now and then; a good answer releases it.
    async fn probe(
        &mut self,
        record: &TargetRecord,
        reason: &str,
    ) -> Result<PassResult, SyncError> {
        let probe_every = Duration::from_secs(self.ctx.config.probe_secs)
            .saturating_mul(1 << self.failed_probes.min(16))
            .min(MAX_PROBE_WAIT);
        if self.last_probe.is_some_and(|at| at.elapsed() < probe_every) {
            return Ok(PassResult::Quarantined);
        }
        self.last_probe = Some(Instant::now());
        let target = LoadedTarget::load(record.clone())?;
        let connector =
            target.connector(self.ctx.key.as_ref(), self.ctx.engine.rate_limits(), None)?;
        if connector.probe().await.is_err() {
            self.failed_probes = self.failed_probes.saturating_add(1);
            tracing::debug!(target = %record.name, reason, "quarantined target still failing");
            return Ok(PassResult::Quarantined);
        }
        self.failed_probes = 0;
        let (sync, id) = (self.ctx.sync.clone(), record.id.clone());
        blocking(move || Ok(sync.set_quarantine(&id, None)?)).await?;
        tracing::info!(target: "audit", target = %record.name, "target released from quarantine (probe succeeded)");
        self.ctx.alert(record, None).await;
        self.session = None;
        Ok(PassResult::Busy)
    }
}
