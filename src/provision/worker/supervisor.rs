//! Starts a worker per target (and the scheduled full reconciles) on a
//! runtime of their own, and stops them on shutdown.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle as Task;

use super::pass::{PassResult, TargetWorker};
use super::queue_watch::QueueWatch;
use crate::crypto::SecretKey;
use crate::metrics::Metrics;
use crate::provision::client::RateLimits;
use crate::provision::runs::{LoadedTarget, RunOptions, SyncEngine, blocking};
use crate::provision::webhook::{Notification, Notifier};
use crate::settings::SyncWorkerConfig;
use crate::store::{Store, SyncStore, TargetRecord, TargetState};

/// What every worker shares.
pub struct WorkerContext {
    pub store: Arc<dyn Store>,
    pub sync: Arc<dyn SyncStore>,
    pub key: Option<SecretKey>,
    pub config: SyncWorkerConfig,
    pub engine: SyncEngine,
    /// This process, as lease holder.
    pub instance: String,
    /// Where quarantine alerts (and run outcomes) go as webhooks.
    pub notifier: Option<Notifier>,
    /// Where pushed objects (and scheduled runs' writes) are counted.
    pub metrics: Option<Arc<Metrics>>,
}

impl WorkerContext {
    pub fn new(
        store: Arc<dyn Store>,
        sync: Arc<dyn SyncStore>,
        key: Option<SecretKey>,
        config: SyncWorkerConfig,
    ) -> Self {
        Self {
            engine: SyncEngine::new(store.clone(), sync.clone(), key.clone())
                .with_run_lease(std::time::Duration::from_secs(config.run_lease_secs)),
            store,
            sync,
            key,
            config,
            instance: uuid::Uuid::new_v4().to_string(),
            notifier: None,
            metrics: None,
        }
    }

    /// Counts pushes and scheduled runs' writes into the process's metrics.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.engine = self.engine.with_metrics(metrics.clone());
        self.metrics = Some(metrics);
        self
    }

    /// One object pushed by a worker (`outcome`: `ok` or `failed`).
    pub fn count_push(&self, target: &str, action: &str, outcome: &'static str) {
        if let Some(m) = &self.metrics {
            m.objects(target, action, outcome, 1);
        }
    }

    /// Shares `limits` (the per-target request rates) with the admin API's
    /// runs of this process; the workers use their engine's.
    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.engine = self.engine.with_rate_limits(limits);
        self
    }

    /// Alerts and scheduled runs' outcomes also go out as webhooks.
    pub fn with_notifier(mut self, notifier: Notifier) -> Self {
        self.engine = self.engine.with_notifier(notifier.clone());
        self.notifier = Some(notifier);
        self
    }

    /// A target entered (`Some(reason)`) or left (`None`) quarantine.
    pub async fn alert(&self, target: &TargetRecord, quarantined: Option<&str>) {
        match quarantined {
            Some(reason) => {
                tracing::error!(target: "audit", target = %target.name, reason, "alert: target quarantined")
            }
            None => {
                tracing::info!(target: "audit", target = %target.name, "alert: target released")
            }
        }
        if let Some(notifier) = &self.notifier {
            let event = match quarantined {
                Some(reason) => Notification::TargetQuarantined {
                    target: target.name.clone(),
                    reason: reason.to_string(),
                },
                None => Notification::TargetReleased {
                    target: target.name.clone(),
                    reason: Some("probe succeeded".into()),
                },
            };
            notifier.notify_async(event).await;
        }
    }
}

/// The running workers; `stop` ends them and waits.
pub struct Workers {
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Workers {
    pub fn start(ctx: WorkerContext) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("scimhub-sync")
            .enable_all()
            .build()?;
        let (stop, stopped) = watch::channel(false);
        let ctx = Arc::new(ctx);
        let thread = std::thread::Builder::new()
            .name("scimhub-sync".into())
            .spawn(move || runtime.block_on(supervise(ctx, stopped)))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Sleeps `wait` unless stopped first; true when stopped.
async fn pause(wait: Duration, stopped: &mut watch::Receiver<bool>) -> bool {
    if *stopped.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(wait) => *stopped.borrow(),
        _ = stopped.changed() => true,
    }
}

async fn supervise(ctx: Arc<WorkerContext>, mut stopped: watch::Receiver<bool>) {
    let mut running: HashMap<String, Task<()>> = HashMap::new();
    let every = Duration::from_millis(ctx.config.poll_ms.saturating_mul(10).clamp(500, 5000));
    let mut queue_watch = QueueWatch::new(&ctx.config);
    loop {
        let sync = ctx.sync.clone();
        match blocking(move || Ok(sync.list_targets()?)).await {
            Ok(targets) => {
                running.retain(|_, t| !t.is_finished());
                queue_watch.tick(&ctx, &targets).await;
                for t in targets {
                    schedule_reconcile(&ctx, &t).await;
                    if let std::collections::hash_map::Entry::Vacant(slot) = running.entry(t.id) {
                        let id = slot.key().clone();
                        slot.insert(tokio::spawn(work(ctx.clone(), id, stopped.clone())));
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "sync supervisor cannot list targets"),
        }
        if pause(every, &mut stopped).await {
            break;
        }
    }
    for (_, task) in running {
        let _ = task.await;
    }
}

/// Starts a full reconcile when the target's interval has passed. The
/// lease (a fresh holder each time) is won at most once per interval
/// across every instance on the database.
async fn schedule_reconcile(ctx: &Arc<WorkerContext>, record: &TargetRecord) {
    // A new target waits for an admin's initial run; a paused one for resume.
    if record.state != TargetState::Active {
        return;
    }
    let Ok(target) = LoadedTarget::load(record.clone()) else {
        return;
    };
    let Some(secs) = target.settings.reconcile_secs.filter(|s| *s > 0) else {
        return;
    };
    let (sync, name) = (ctx.sync.clone(), format!("reconcile:{}", record.id));
    let ttl = chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1000));
    let holder = uuid::Uuid::new_v4().to_string();
    let won = blocking(move || Ok(sync.try_lease(&name, &holder, ttl)?)).await;
    if matches!(won, Ok(true)) {
        let (engine, target_name) = (ctx.engine.clone(), record.name.clone());
        tokio::spawn(async move {
            match engine.run(&target_name, RunOptions::default(), None).await {
                Ok(r) => {
                    tracing::info!(target = %target_name, run = %r.head.id, status = r.head.status.as_str(), "scheduled reconcile finished")
                }
                Err(e) => {
                    tracing::warn!(target = %target_name, error = %e, "scheduled reconcile did not run")
                }
            }
        });
    }
}

async fn work(ctx: Arc<WorkerContext>, target_id: String, mut stopped: watch::Receiver<bool>) {
    let mut worker = TargetWorker::new(ctx.clone(), target_id.clone());
    let poll = Duration::from_millis(ctx.config.poll_ms);
    loop {
        let wait = match worker.pass().await {
            Ok(PassResult::Busy) => Duration::ZERO,
            Ok(PassResult::Idle) => poll,
            Ok(PassResult::NotMine) => {
                Duration::from_secs(ctx.config.lease_secs.div_ceil(3).max(1))
            }
            Ok(PassResult::Quarantined) => poll.max(Duration::from_millis(500)),
            Ok(PassResult::Paused) => poll.max(Duration::from_millis(250)),
            Ok(PassResult::Unreachable) => poll,
            Ok(PassResult::Gone) => break,
            Err(e) => {
                tracing::error!(target_id = %target_id, error = %e, "sync worker pass failed");
                poll * 10
            }
        };
        if pause(wait, &mut stopped).await {
            break;
        }
    }
    worker.release().await;
}
