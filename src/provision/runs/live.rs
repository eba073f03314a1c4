//! A running run's progress, written to its row at most every `EVERY`, so
//! whichever door started it (CLI, admin API, console, scheduler) and
//! whichever instance serves the page, the run can be watched.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::apply::{Progress, Tick};
use super::report::RunProgress;
use crate::store::SyncStore;

/// Where a run's progress is written (on the blocking pool): a target
/// run's row, or a source run's report. A failure is only logged.
pub type ProgressSink = Arc<dyn Fn(&RunProgress) -> anyhow::Result<()> + Send + Sync>;

/// The most often a run's progress is written.
pub const EVERY: Duration = Duration::from_millis(500);

#[derive(Default)]
struct Live {
    progress: RunProgress,
    /// Units of the phases finished before the current one.
    before_phase: usize,
    /// Changed since last written.
    dirty: bool,
}

impl Live {
    fn enter(&mut self, phase: &str, total: usize) {
        if self.progress.phase != phase {
            self.before_phase += self.progress.total;
            self.progress.phase = phase.to_string();
            self.progress.done = 0;
        }
        self.progress.total = total;
    }

    fn tick(&mut self, tick: Tick) {
        self.enter(tick.phase, tick.total);
        // Concurrent units may report out of order.
        self.progress.done = self.progress.done.max(tick.done);
        self.progress.failed = self.progress.failed.max(tick.failed);
        self.progress.completed = self.before_phase + self.progress.done;
        self.dirty = true;
    }
}

/// Keeps one run's progress and writes it while the run lasts.
pub struct Recorder {
    live: Arc<Mutex<Live>>,
    stop: watch::Sender<bool>,
    writer: JoinHandle<()>,
}

fn with<T>(live: &Mutex<Live>, f: impl FnOnce(&mut Live) -> T) -> T {
    f(&mut live.lock().unwrap_or_else(PoisonError::into_inner))
}

impl Recorder {
    /// Starts writing `run_id`'s progress to its row, beginning with `reading`.
    pub fn start(sync: Arc<dyn SyncStore>, run_id: String) -> Self {
        let id = run_id.clone();
        let sink: ProgressSink = Arc::new(move |progress: &RunProgress| {
            let json = serde_json::to_string(progress)?;
            Ok(sync.set_run_progress(&id, &json)?)
        });
        Self::start_with(run_id, sink)
    }

    /// Starts writing `run_id`'s progress to `sink`, beginning with `reading`.
    pub fn start_with(run_id: String, sink: ProgressSink) -> Self {
        let live = Arc::new(Mutex::new(Live::default()));
        with(&live, |l| {
            l.enter("reading", 0);
            l.dirty = true;
        });
        let (stop, mut stopped) = watch::channel(false);
        let shared = live.clone();
        let writer = tokio::spawn(async move {
            let mut every = tokio::time::interval(EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let last = tokio::select! {
                    _ = every.tick() => false,
                    _ = stopped.changed() => true,
                };
                write(&sink, &run_id, &shared).await;
                if last {
                    break;
                }
            }
        });
        Self { live, stop, writer }
    }

    /// A phase without units of its own (`planning`).
    pub fn phase(&self, phase: &'static str) {
        with(&self.live, |l| {
            l.enter(phase, 0);
            l.dirty = true;
        });
    }

    /// The plan's size: what `completed` counts towards.
    pub fn planned(&self, units: usize) {
        with(&self.live, |l| {
            l.progress.planned = units;
            l.dirty = true;
        });
    }

    /// The hook the applier calls: records each tick, then passes it on.
    pub fn hook(&self, also: Progress) -> Progress {
        let live = self.live.clone();
        Arc::new(move |tick: Tick| {
            with(&live, |l| l.tick(tick));
            also(tick);
        })
    }

    /// Writes the last progress and stops.
    pub async fn finish(self) {
        let _ = self.stop.send(true);
        let _ = self.writer.await;
    }
}

async fn write(sink: &ProgressSink, run_id: &str, live: &Arc<Mutex<Live>>) {
    let changed = with(live, |l| {
        std::mem::take(&mut l.dirty).then(|| l.progress.clone())
    });
    let Some(progress) = changed else {
        return;
    };
    let sink = sink.clone();
    // Progress is for watching: a failed write is retried with the next change.
    let written: anyhow::Result<()> = crate::blocking::blocking(move || sink(&progress)).await;
    if let Err(e) = written {
        tracing::warn!(
            run = run_id,
            error = format!("{e:#}"),
            "run progress not written"
        );
        with(live, |l| l.dirty = true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(phase: &'static str, done: usize, total: usize, failed: usize) -> Tick {
        Tick {
            phase,
            done,
            total,
            failed,
        }
    }

    #[test]
    fn completed_adds_up_the_phases_and_tolerates_out_of_order_ticks() {
        let mut l = Live::default();
        l.enter("reading", 0);
        l.enter("planning", 0);
        l.progress.planned = 7;
        l.tick(tick("users", 2, 4, 0));
        l.tick(tick("users", 1, 4, 0));
        assert_eq!((l.progress.done, l.progress.completed), (2, 2));
        l.tick(tick("users", 4, 4, 1));
        l.tick(tick("groups", 1, 3, 1));
        assert_eq!(
            l.progress,
            RunProgress {
                phase: "groups".into(),
                done: 1,
                total: 3,
                planned: 7,
                completed: 5,
                failed: 1,
            }
        );
    }
}
