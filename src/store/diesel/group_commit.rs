//! Group commit for SQLite: writers of this process share one write
//! transaction while others are queued behind them, each inside its own
//! savepoint, and the last writer of a batch commits for all of them.
//!
//! SQLite has one writer at a time and a commit costs far more than a small
//! write (WAL frames for every touched page, sometimes a checkpoint), so under
//! concurrent load one commit per batch instead of one per request is most of
//! the write throughput. Nothing changes for a writer alone: it commits its
//! own batch of one at once. A writer's result is handed back only after the
//! batch that holds it has committed; if that commit fails, every writer of
//! the batch gets an error and none of them changed anything.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::{ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;

use super::checkpoint::Checkpointer;
use super::connection::{DbConnection, Manager};
use crate::store::{StoreError, StoreResult};

/// Most writes in one transaction, so a waiting writer's latency stays bounded.
const MAX_BATCH: usize = 64;

/// Finished batches remembered for writers that have not woken up yet.
const REMEMBERED_BATCHES: usize = 1024;

pub(super) struct GroupCommit {
    manager: Manager,
    checkpointer: Checkpointer,
    batch: Mutex<Batch>,
    finished: Condvar,
    /// Writers waiting for `batch`: while any are, the holder does not commit.
    queued: AtomicUsize,
}

struct Batch {
    /// The writer connection, opened on first use and after it breaks.
    conn: Option<DbConnection>,
    open: bool,
    /// The open (or last) batch's number.
    number: u64,
    writes: usize,
    /// (batch number, committed?) of recent batches, oldest first.
    outcomes: VecDeque<(u64, bool)>,
}

impl Batch {
    fn finish(&mut self, committed: bool) {
        self.open = false;
        if self.outcomes.len() == REMEMBERED_BATCHES {
            self.outcomes.pop_front();
        }
        self.outcomes.push_back((self.number, committed));
    }

    fn outcome(&self, number: u64) -> Option<bool> {
        self.outcomes
            .iter()
            .rev()
            .find(|(n, _)| *n == number)
            .map(|(_, ok)| *ok)
    }
}

impl GroupCommit {
    pub(super) fn new(manager: Manager) -> Self {
        Self {
            checkpointer: Checkpointer::start(manager.clone(), manager.target().to_string()),
            manager,
            batch: Mutex::new(Batch {
                conn: None,
                open: false,
                number: 0,
                writes: 0,
                outcomes: VecDeque::new(),
            }),
            finished: Condvar::new(),
            queued: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Batch> {
        // Every path below leaves `Batch` consistent before it can panic.
        self.batch.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn write<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut batch = self.lock();
        self.queued.fetch_sub(1, Ordering::SeqCst);
        if !batch.open {
            self.begin(&mut batch)?;
        }
        let mine = batch.number;
        let Some(conn) = batch.conn.as_mut() else {
            return Err(StoreError::Pool("the writer connection is gone".into()));
        };
        let (result, batch_intact) = in_savepoint(conn, f);
        batch.writes += 1;
        if !batch_intact {
            self.abandon(&mut batch);
            return match result {
                Err(panic) => resume_unwind(panic),
                Ok(Ok(_)) => Err(StoreError::Aborted),
                Ok(Err(e)) => Err(e),
            };
        }
        if self.queued.load(Ordering::SeqCst) == 0 || batch.writes >= MAX_BATCH {
            return match self.commit(&mut batch) {
                Ok(()) => settle(result, true),
                Err(e) => {
                    if let Err(panic) = result {
                        resume_unwind(panic);
                    }
                    Err(e)
                }
            };
        }
        // A failed writer waits too: its error may come from writes of this
        // batch (a name another writer just took), and must not reach its
        // client before they are stored.
        let batch = self
            .finished
            .wait_while(batch, |b| b.open && b.number == mine)
            .unwrap_or_else(|p| p.into_inner());
        let committed = batch.outcome(mine).unwrap_or(false);
        drop(batch);
        settle(result, committed)
    }

    fn begin(&self, batch: &mut Batch) -> StoreResult<()> {
        let conn = match &mut batch.conn {
            Some(conn) => conn,
            slot => slot.insert(self.connect()?),
        };
        let DbConnection::Sqlite(sqlite) = conn else {
            return Err(StoreError::Pool("group commit is for SQLite".into()));
        };
        if let Err(e) = begin_immediate(sqlite) {
            batch.conn = None;
            return Err(e.into());
        }
        batch.open = true;
        batch.number += 1;
        batch.writes = 0;
        Ok(())
    }

    fn connect(&self) -> StoreResult<DbConnection> {
        let mut conn = self
            .manager
            .connect()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        if self.checkpointer.running() {
            diesel::connection::SimpleConnection::batch_execute(
                &mut conn,
                "PRAGMA wal_autocheckpoint = 0",
            )?;
        }
        Ok(conn)
    }

    fn commit(&self, batch: &mut Batch) -> StoreResult<()> {
        let outcome = match batch.conn.as_mut() {
            Some(DbConnection::Sqlite(c)) => {
                AnsiTransactionManager::commit_transaction(c).map_err(StoreError::from)
            }
            _ => Err(StoreError::Pool("the writer connection is gone".into())),
        };
        match outcome {
            Ok(()) => self.checkpointer.committed(),
            Err(_) => self.roll_back(batch),
        }
        batch.finish(outcome.is_ok());
        self.finished.notify_all();
        outcome
    }

    /// Ends a batch that cannot commit: everything in it is rolled back.
    fn abandon(&self, batch: &mut Batch) {
        self.roll_back(batch);
        batch.finish(false);
        self.finished.notify_all();
    }

    fn roll_back(&self, batch: &mut Batch) {
        if let Some(DbConnection::Sqlite(c)) = batch.conn.as_mut() {
            let _ = AnsiTransactionManager::rollback_transaction(c);
        }
        if batch.conn.as_mut().is_none_or(R2D2Connection::is_broken) {
            tracing::warn!("replacing the SQLite writer connection after a failed transaction");
            batch.conn = None;
        }
    }
}

fn begin_immediate(c: &mut SqliteConnection) -> diesel::QueryResult<()> {
    AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
}

type Attempt<T> = std::thread::Result<StoreResult<T>>;

/// Runs `f` in a savepoint of the open batch: kept on success, rolled back on
/// an error or a panic. Returns the outcome and whether the batch can still
/// commit (false when the savepoint itself could not be kept or undone).
fn in_savepoint<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> StoreResult<T>,
) -> (Attempt<T>, bool) {
    let DbConnection::Sqlite(sqlite) = &mut *conn else {
        return (Ok(Err(StoreError::Pool("not SQLite".into()))), false);
    };
    if let Err(e) = AnsiTransactionManager::begin_transaction(sqlite) {
        return (Ok(Err(e.into())), false);
    }
    let attempt = catch_unwind(AssertUnwindSafe(|| f(conn)));
    let kept = match (&attempt, conn) {
        (Ok(Ok(_)), DbConnection::Sqlite(c)) => AnsiTransactionManager::commit_transaction(c),
        (_, DbConnection::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(c),
        (_, DbConnection::Pg(_)) => Err(diesel::result::Error::BrokenTransactionManager),
    };
    match kept {
        Ok(()) => (attempt, true),
        Err(e) => match attempt {
            Ok(Ok(_)) => (Ok(Err(e.into())), false),
            other => (other, false),
        },
    }
}

/// A writer's result once its batch is settled: a panic resumes in the
/// writer's own thread; an outcome only stands if the batch committed (a
/// refusal may rest on another writer's rolled-back write).
fn settle<T>(attempt: Attempt<T>, committed: bool) -> StoreResult<T> {
    match attempt {
        Err(panic) => resume_unwind(panic),
        Ok(_) if !committed => Err(StoreError::Aborted),
        Ok(result) => result,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use diesel::RunQueryDsl;
    use diesel::connection::SimpleConnection;

    use super::*;
    use crate::store::diesel::Backend;

    fn group(dir: &tempfile::TempDir) -> Arc<GroupCommit> {
        let path = dir.path().join("g.db").display().to_string();
        let group = GroupCommit::new(Manager::new(Backend::Sqlite, path));
        group
            .write(|c| {
                c.batch_execute(
                    "CREATE TABLE parent (id INTEGER PRIMARY KEY);
                     CREATE TABLE item (name TEXT PRIMARY KEY,
                       parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);",
                )?;
                Ok(())
            })
            .unwrap();
        Arc::new(group)
    }

    fn insert(c: &mut DbConnection, name: &str) -> StoreResult<()> {
        diesel::sql_query(format!("INSERT INTO item (name) VALUES ('{name}')")).execute(c)?;
        Ok(())
    }

    fn names(group: &GroupCommit) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Name {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        group
            .write(|c| {
                Ok(diesel::sql_query("SELECT name FROM item ORDER BY name")
                    .load::<Name>(c)?
                    .into_iter()
                    .map(|n| n.name)
                    .collect())
            })
            .unwrap()
    }

    /// Starts a writer whose closure holds the batch open until `waiting`
    /// other writers are queued behind it, then runs `f`. Returns once the
    /// batch is open, so writers started after it queue on it.
    fn holder<T: Send + 'static>(
        group: &Arc<GroupCommit>,
        waiting: usize,
        f: impl FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
    ) -> std::thread::JoinHandle<StoreResult<T>> {
        let group = group.clone();
        let (opened, is_open) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            let inner = group.clone();
            group.write(move |c| {
                let _ = opened.send(());
                while inner.queued.load(Ordering::SeqCst) < waiting {
                    std::thread::sleep(Duration::from_millis(1));
                }
                f(c)
            })
        });
        is_open.recv().unwrap();
        handle
    }

    fn writer(
        group: &Arc<GroupCommit>,
        name: &'static str,
    ) -> std::thread::JoinHandle<StoreResult<()>> {
        let group = group.clone();
        std::thread::spawn(move || group.write(|c| insert(c, name)))
    }

    #[test]
    fn queued_writers_share_one_commit() {
        let dir = tempfile::tempdir().unwrap();
        let group = group(&dir);
        let before = group.lock().number;
        let first = holder(&group, 3, |c| insert(c, "a"));
        let others: Vec<_> = ["b", "c", "d"].map(|n| writer(&group, n)).into();
        assert!(first.join().unwrap().is_ok());
        for w in others {
            assert!(w.join().unwrap().is_ok());
        }
        assert_eq!(names(&group), ["a", "b", "c", "d"]);
        // a, b, c and d went into one batch; reading the names took one more.
        assert_eq!(group.lock().number, before + 2);
    }

    #[test]
    fn a_failing_writer_leaves_the_rest_of_its_batch_alone() {
        let dir = tempfile::tempdir().unwrap();
        let group = group(&dir);
        let first = holder(&group, 2, |c| insert(c, "a"));
        let duplicate = writer(&group, "a");
        let fine = writer(&group, "b");
        assert!(first.join().unwrap().is_ok());
        assert!(matches!(
            duplicate.join().unwrap(),
            Err(StoreError::Database(_))
        ));
        assert!(fine.join().unwrap().is_ok());
        assert_eq!(names(&group), ["a", "b"]);
    }

    #[test]
    fn a_refused_writer_answers_after_the_write_that_refused_it_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let group = group(&dir);
        let first = holder(&group, 2, |c| insert(c, "a"));
        let duplicate = writer(&group, "a");
        let slow = {
            let group = group.clone();
            std::thread::spawn(move || {
                group.write(|c| {
                    std::thread::sleep(Duration::from_millis(100));
                    insert(c, "b")
                })
            })
        };
        assert!(duplicate.join().unwrap().is_err());
        // Seen from another connection: "a" is already committed.
        let path = dir.path().join("g.db").display().to_string();
        let mut outside = Manager::new(Backend::Sqlite, path).connect().unwrap();
        let count: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM item WHERE name = 'a')",
        ))
        .get_result(&mut outside)
        .unwrap();
        assert_eq!(count, 1);
        assert!(first.join().unwrap().is_ok());
        assert!(slow.join().unwrap().is_ok());
    }

    #[test]
    fn commits_reach_the_database_file_through_the_checkpoint_thread() {
        let dir = tempfile::tempdir().unwrap();
        let group = group(&dir);
        let file = dir.path().join("g.db");
        let before = std::fs::metadata(&file).unwrap().len();
        for i in 0..200 {
            // About 1 MB in all: far below SQLite's own checkpoint threshold.
            group
                .write(|c| insert(c, &format!("{i:05}{}", "x".repeat(5000))))
                .unwrap();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::fs::metadata(&file).unwrap().len() < before + 1_000_000 {
            assert!(std::time::Instant::now() < deadline, "never checkpointed");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_panicking_writer_panics_alone() {
        let dir = tempfile::tempdir().unwrap();
        let group = group(&dir);
        let first = holder::<()>(&group, 1, |c| {
            insert(c, "a")?;
            panic!("a bug in a writer");
        });
        let fine = writer(&group, "b");
        assert!(first.join().is_err(), "the panic reaches its own thread");
        assert!(fine.join().unwrap().is_ok());
        assert_eq!(names(&group), ["b"]);
    }

    #[test]
    fn a_failed_commit_fails_every_writer_of_the_batch_and_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let group = group(&dir);
        // The deferred foreign key passes the statement and fails the commit.
        let first = holder(&group, 2, |c| {
            diesel::sql_query("INSERT INTO item (name, parent) VALUES ('orphan', 42)")
                .execute(c)?;
            Ok(())
        });
        let b = writer(&group, "b");
        let c = writer(&group, "c");
        let outcomes = [first.join().unwrap(), b.join().unwrap(), c.join().unwrap()];
        assert!(outcomes.iter().all(Result::is_err), "{outcomes:?}");
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, Err(StoreError::Aborted))),
            "{outcomes:?}"
        );
        assert!(names(&group).is_empty());
        // The writer goes on after the failed batch.
        group.write(|c| insert(c, "later")).unwrap();
        assert_eq!(names(&group), ["later"]);
    }
}
