//! SQLite WAL checkpoints on a thread of their own. By default SQLite
//! checkpoints inside the commit that crosses 1,000 WAL pages, which would
//! stall every writer queued behind the group commit while pages are copied
//! and the database file is synced. Here the writer connection never
//! checkpoints (`wal_autocheckpoint = 0`); this thread runs a PASSIVE
//! checkpoint (it never waits for readers or writers) shortly after commits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::r2d2::ManageConnection;

use super::connection::{DbConnection, Manager};

/// How long commits gather before they are checkpointed together.
const INTERVAL: Duration = Duration::from_millis(100);

/// A WAL this large is checkpointed with TRUNCATE (it waits for readers,
/// then empties the file) so that readers never holding still cannot make
/// it grow without bound.
const WAL_LIMIT_BYTES: u64 = 256 * 1024 * 1024;

pub(super) struct Checkpointer {
    commits: Arc<AtomicU64>,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(super) fn start(manager: Manager, database_path: String) -> Self {
        let commits = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = mpsc::channel::<()>();
        let seen = commits.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let wal = format!("{database_path}-wal");
                let mut conn = None;
                let mut done = 0;
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    let now = seen.load(Ordering::Relaxed);
                    if now == done {
                        continue;
                    }
                    let big = std::fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_LIMIT_BYTES);
                    match checkpoint(&manager, &mut conn, big) {
                        Ok(()) => done = now,
                        Err(e) => {
                            tracing::warn!(error = %e, "SQLite checkpoint failed; retrying");
                            conn = None;
                        }
                    }
                }
            })
            .ok();
        if thread.is_none() {
            tracing::warn!("cannot start the SQLite checkpoint thread");
        }
        Self {
            commits,
            stop: Some(stop),
            thread,
        }
    }

    /// Whether the thread runs: if not, the writer must checkpoint itself.
    pub(super) fn running(&self) -> bool {
        self.thread.is_some()
    }

    pub(super) fn committed(&self) {
        self.commits.fetch_add(1, Ordering::Relaxed);
    }
}

fn checkpoint(
    manager: &Manager,
    conn: &mut Option<DbConnection>,
    truncate: bool,
) -> Result<(), String> {
    let conn = match conn {
        Some(conn) => conn,
        slot => slot.insert(manager.connect().map_err(|e| e.to_string())?),
    };
    let mode = if truncate { "TRUNCATE" } else { "PASSIVE" };
    diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})"))
        .execute(conn)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
