//! Runs started with a watcher (the console): carried out on a task of
//! this process like `start_run`'s, with their progress (phase, done, total)
//! kept in memory under the run id while they run, for a page to poll.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{NO_KEY_FOR_RUNS, SyncAdmin, no_key};
use crate::error::AppError;
use crate::provision::runs::history;
use crate::provision::runs::{Progress, RunOptions, RunReport, RunStatus};
use crate::service::blocking;
use crate::store::Actor;

/// How long a started run may take to show up as `running`.
const START_PATIENCE: Duration = Duration::from_secs(10);

/// Where a watched run is: the phase it is in and how far through it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phase {
    pub phase: &'static str,
    pub done: usize,
    pub total: usize,
}

#[derive(Default)]
struct Slot {
    phase: Option<Phase>,
    finished: bool,
}

/// The progress of this process's watched runs, by run id.
#[derive(Clone, Default)]
pub struct RunProgress(Arc<Mutex<HashMap<String, Arc<Mutex<Slot>>>>>);

impl RunProgress {
    fn register(&self, id: &str, slot: &Arc<Mutex<Slot>>) {
        let finished = slot.lock().map(|s| s.finished).unwrap_or(true);
        if let (false, Ok(mut all)) = (finished, self.0.lock()) {
            all.insert(id.to_string(), slot.clone());
        }
    }

    fn remove(&self, id: &str) {
        if let Ok(mut all) = self.0.lock() {
            all.remove(id);
        }
    }

    fn get(&self, id: &str) -> Option<Phase> {
        let slot = self.0.lock().ok()?.get(id)?.clone();
        slot.lock().ok()?.phase.clone()
    }
}

impl SyncAdmin {
    /// Starts a run whose progress `run_progress` can tell while it runs on
    /// this instance; the report says `running` (audited as `sync.run.start`).
    pub async fn start_watched_run(
        &self,
        actor: &Actor,
        name: &str,
        options: RunOptions,
    ) -> Result<RunReport, AppError> {
        if self.key.is_none() {
            return Err(no_key(NO_KEY_FOR_RUNS));
        }
        let running_before = self.running_ids(name).await?;
        let slot = Arc::new(Mutex::new(Slot::default()));
        let noted = slot.clone();
        let progress: Progress = Arc::new(move |phase, done, total| {
            if let Ok(mut s) = noted.lock() {
                s.phase = Some(Phase { phase, done, total });
            }
        });
        let (engine, registry, ended) = (self.engine.clone(), self.progress.clone(), slot.clone());
        let target = name.to_string();
        let task = tokio::spawn(async move {
            let result = engine.run(&target, options, Some(progress)).await;
            if let Ok(mut s) = ended.lock() {
                s.finished = true;
            }
            if let Ok(report) = &result {
                registry.remove(&report.head.id);
            }
            result
        });
        let started = Instant::now();
        let report = loop {
            if task.is_finished() {
                let finished = task
                    .await
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("sync run task: {e}")))?;
                break finished?;
            }
            let running = self.running_ids(name).await?;
            if let Some(id) = running.difference(&running_before).next() {
                self.progress.register(id, &slot);
                break self.report(id).await?;
            }
            if started.elapsed() > START_PATIENCE {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "a run of target {name:?} was started but did not show up as running"
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        self.audit_run_start(actor, name, &report).await?;
        Ok(report)
    }

    /// A watched run's progress while it runs on this instance.
    pub fn run_progress(&self, run_id: &str) -> Option<Phase> {
        self.progress.get(run_id)
    }

    async fn running_ids(&self, name: &str) -> Result<HashSet<String>, AppError> {
        let (sync, name) = (self.sync.clone(), name.to_string());
        let runs = blocking(move || {
            Ok(history::find(
                sync.as_ref(),
                Some(&name),
                Some(RunStatus::Running),
                super::MAX_RUNS,
            )?)
        })
        .await?;
        Ok(runs.into_iter().map(|r| r.head.id).collect())
    }
}
