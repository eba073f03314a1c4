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

use std::cell::RefCell;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Condvar, Mutex, MutexGuard};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::{ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;

use super::checkpoint::Checkpointer;
use super::connection::{DbConnection, Manager};
use crate::store::{StoreError, StoreResult, WriteJob, WriteSettle};

/// Most writes in one transaction, so a waiting writer's latency stays bounded.
const MAX_BATCH: usize = 64;

/// Finished batches remembered for writers that have not woken up yet.
const REMEMBERED_BATCHES: usize = 1024;

/// Tells group commits apart (a lane thread serves one of them).
static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// On a write lane's thread while it runs jobs: the batch it holds.
    static LANE_BATCH: RefCell<Option<LaneBatch>> = const { RefCell::new(None) };
}

/// The open batch a lane thread runs its jobs in: the writer connection is
/// taken out of `Batch` while the lane holds the batch lock.
struct LaneBatch {
    group: usize,
    /// None when no transaction could be opened: the jobs' writes fail.
    conn: Option<DbConnection>,
    /// False once a job's savepoint could be neither kept nor undone.
    intact: bool,
}

pub(super) struct GroupCommit {
    id: usize,
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
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
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
        let f = match self.write_in_lane(f) {
            Ok(done) => return done,
            Err(f) => f,
        };
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

    /// On this group's lane thread (running a job): `f` in a savepoint of
    /// the batch the lane holds, its result at once (the job hands it over
    /// after the commit). Elsewhere: `f` back.
    fn write_in_lane<T, F>(&self, f: F) -> Result<StoreResult<T>, F>
    where
        F: FnOnce(&mut DbConnection) -> StoreResult<T>,
    {
        LANE_BATCH.with(|slot| {
            let mut slot = slot.borrow_mut();
            let Some(lane) = slot.as_mut().filter(|l| l.group == self.id) else {
                return Err(f);
            };
            let Some(conn) = lane.conn.as_mut().filter(|_| lane.intact) else {
                return Ok(Err(StoreError::Aborted));
            };
            let (attempt, intact) = in_savepoint(conn, f);
            lane.intact &= intact;
            Ok(match attempt {
                Ok(result) => result,
                Err(panic) => resume_unwind(panic),
            })
        })
    }

    /// Runs `first` and the jobs queued behind it (up to `MAX_BATCH`) in one
    /// batch under the batch lock, commits, and only then settles them, in
    /// order. Writers of other threads queued meanwhile start the next batch.
    pub(super) fn lane_batch(&self, first: WriteJob, queue: &Receiver<WriteJob>) {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut batch = self.lock();
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let began = if batch.open {
            Ok(())
        } else {
            self.begin(&mut batch)
        };
        if let Err(e) = &began {
            tracing::warn!(error = %e, "cannot open a write transaction");
        }
        let conn = began.ok().and_then(|()| batch.conn.take());
        LANE_BATCH.with(|slot| {
            *slot.borrow_mut() = Some(LaneBatch {
                group: self.id,
                conn,
                intact: true,
            });
        });
        let mut settles: Vec<WriteSettle> = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            // A panicking job loses its settle: its caller sees its channel close.
            if let Ok(settle) = catch_unwind(AssertUnwindSafe(job)) {
                settles.push(settle);
            }
            if settles.len() < MAX_BATCH {
                next = queue.try_recv().ok();
            }
        }
        let lane = LANE_BATCH.with(|slot| slot.borrow_mut().take());
        let committed = match lane {
            Some(LaneBatch {
                conn: Some(conn),
                intact,
                ..
            }) => {
                batch.conn = Some(conn);
                batch.writes += settles.len();
                if intact {
                    self.commit(&mut batch).is_ok()
                } else {
                    self.abandon(&mut batch);
                    false
                }
            }
            _ => false,
        };
        drop(batch);
        for settle in settles {
            settle(committed);
        }
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

    /// Starts a lane on `group` and queues, behind a first job that holds
    /// the lane until all are queued, one job per name inserting it. Each
    /// answers (name, outcome, committed, visible from another connection
    /// when answered).
    fn lane_jobs(
        dir: &tempfile::TempDir,
        group: &Arc<GroupCommit>,
        names: &[&'static str],
    ) -> Vec<(&'static str, StoreResult<()>, bool, bool)> {
        use super::super::write_lane::WriteLane;
        let lane = WriteLane::start(group.clone()).unwrap();
        let path = dir.path().join("g.db").display().to_string();
        let (queued, all_queued) = std::sync::mpsc::channel::<()>();
        let (answer, answers) = std::sync::mpsc::channel();
        let hold: crate::store::WriteJob = Box::new(move || {
            all_queued.recv().unwrap();
            Box::new(|_| {})
        });
        assert!(lane.submit(hold).is_ok());
        for &name in names {
            let (group, answer, path) = (group.clone(), answer.clone(), path.clone());
            let job: crate::store::WriteJob = Box::new(move || {
                let outcome = group.write(|c| insert(c, name));
                Box::new(move |committed| {
                    let mut outside = Manager::new(Backend::Sqlite, path).connect().unwrap();
                    let visible: i64 =
                        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
                            "(SELECT count(*) FROM item WHERE name = '{name}')"
                        )))
                        .get_result(&mut outside)
                        .unwrap();
                    answer
                        .send((name, outcome, committed, visible == 1))
                        .unwrap();
                })
            });
            assert!(lane.submit(job).is_ok());
        }
        queued.send(()).unwrap();
        drop(answer);
        let got: Vec<_> = answers.iter().collect();
        drop(lane);
        got
    }

    #[test]
    fn lane_jobs_queued_together_share_one_commit_and_answer_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let group = group(&dir);
        let before = group.lock().number;
        let got = lane_jobs(&dir, &group, &["a", "b", "c"]);
        assert_eq!(got.len(), 3);
        for (name, outcome, committed, visible) in got {
            assert!(outcome.is_ok() && committed, "{name}");
            assert!(visible, "{name} answered before its commit");
        }
        // The holder, a, b and c: one batch; reading the names takes one more.
        assert_eq!(names(&group), ["a", "b", "c"]);
        assert_eq!(group.lock().number, before + 2);
    }

    #[test]
    fn a_failing_lane_job_leaves_the_rest_of_its_batch_alone() {
        let dir = tempfile::tempdir().unwrap();
        let group = group(&dir);
        let got = lane_jobs(&dir, &group, &["a", "a", "b"]);
        let outcomes: Vec<(&str, bool)> = got.iter().map(|(n, o, _, _)| (*n, o.is_ok())).collect();
        assert_eq!(outcomes, [("a", true), ("a", false), ("b", true)]);
        assert!(got.iter().all(|(_, _, committed, _)| *committed));
        assert_eq!(names(&group), ["a", "b"]);
    }

    #[test]
    fn a_writer_of_another_thread_waits_for_the_lane_batch_it_joined() {
        use super::super::write_lane::WriteLane;
        let dir = tempfile::tempdir().unwrap();
        let group = group(&dir);
        let lane = WriteLane::start(group.clone()).unwrap();
        // A writer of another thread opens a batch and keeps it open until
        // the lane queues on the lock; the lane's job joins that batch.
        let first = {
            let (inner, group) = (group.clone(), group.clone());
            let (opened, is_open) = std::sync::mpsc::channel();
            let t = std::thread::spawn(move || {
                group.write(move |c| {
                    let _ = opened.send(());
                    while inner.queued.load(Ordering::SeqCst) < 1 {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    insert(c, "outside")
                })
            });
            is_open.recv().unwrap();
            t
        };
        let (answer, answered) = std::sync::mpsc::channel();
        let inner = group.clone();
        let job: crate::store::WriteJob = Box::new(move || {
            let outcome = inner.write(|c| insert(c, "lane"));
            Box::new(move |committed| answer.send((outcome.is_ok(), committed)).unwrap())
        });
        assert!(lane.submit(job).is_ok());
        assert_eq!(answered.recv().unwrap(), (true, true));
        assert!(first.join().unwrap().is_ok());
        assert_eq!(names(&group), ["lane", "outside"]);
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
