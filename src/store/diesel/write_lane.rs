//! SQLite's write lane: a thread of its own that takes the writes of the
//! request path (queued by `Store::submit_write`) and runs as many as are
//! waiting in one group-commit batch, under one hold of the batch lock.
//!
//! A request's write then costs no hand-off to the blocking pool, no turn
//! at the batch lock and no wait on its condition variable: the request
//! queues a job and awaits its outcome, which the lane hands over after the
//! commit that holds it (`GroupCommit::lane_batch`).

use std::sync::Arc;
use std::sync::mpsc::{self, Sender};
use std::thread::JoinHandle;

use super::group_commit::GroupCommit;
use crate::store::WriteJob;

pub(super) struct WriteLane {
    jobs: Option<Sender<WriteJob>>,
    thread: Option<JoinHandle<()>>,
}

impl WriteLane {
    /// Starts the lane's thread; None (writes then take the blocking pool)
    /// if the thread cannot be started.
    pub(super) fn start(group: Arc<GroupCommit>) -> Option<Self> {
        let (jobs, queue) = mpsc::channel::<WriteJob>();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    group.lane_batch(first, &queue);
                }
            });
        match thread {
            Ok(thread) => Some(Self {
                jobs: Some(jobs),
                thread: Some(thread),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the SQLite write lane");
                None
            }
        }
    }

    /// Queues a job; gives it back if the lane has stopped.
    pub(super) fn submit(&self, job: WriteJob) -> Result<(), WriteJob> {
        match &self.jobs {
            Some(jobs) => jobs.send(job).map_err(|e| e.0),
            None => Err(job),
        }
    }
}

impl Drop for WriteLane {
    fn drop(&mut self) {
        // The thread ends once the queue is closed and drained.
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
