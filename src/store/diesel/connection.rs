//! Connections, pooling, migrations and transactions for both backends.

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::group_commit::GroupCommit;
use super::write_lane::WriteLane;
use crate::store::{StoreError, StoreResult, WriteJob};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Serializes schema migrations across instances sharing one PostgreSQL.
const MIGRATION_LOCK_KEY: i64 = 0x5c1_4b0b_0001;

/// Runs the same diesel code on the concrete connection inside, for the few
/// statements the multi-backend type cannot express (batch inserts, upserts).
macro_rules! per_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::store::diesel::DbConnection::Sqlite($c) => $body,
            $crate::store::diesel::DbConnection::Pg($c) => $body,
        }
    };
}
pub(crate) use per_backend;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` / `postgresql://` select PostgreSQL; `sqlite://PATH` or a
    /// plain path select SQLite. Returns the backend and what to open.
    pub fn from_url(url: &str) -> (Backend, String) {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            (Backend::Sqlite, path.to_string())
        } else {
            (
                Backend::Sqlite,
                url.strip_prefix("sqlite:").unwrap_or(url).to_string(),
            )
        }
    }
}

/// Opens connections of one backend (never guesses from the URL at runtime).
#[derive(Debug, Clone)]
pub(super) struct Manager {
    backend: Backend,
    target: String,
}

impl Manager {
    pub(super) fn new(backend: Backend, target: String) -> Self {
        Self { backend, target }
    }

    /// The database file (SQLite) or URL (PostgreSQL).
    pub(super) fn target(&self) -> &str {
        &self.target
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.target)
                    .map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the single writer; the busy
                // timeout makes writers queue instead of failing; LIKE must
                // be case-sensitive like PostgreSQL's (columns hold folded case);
                // a 4 MiB page cache per connection (16 MiB measured no
                // faster and cost the server's memory bound, BENCHMARKS.md).
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                     PRAGMA case_sensitive_like = ON; PRAGMA cache_size = -4096; \
                     PRAGMA temp_store = MEMORY;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Backend::Postgres => PgConnection::establish(&self.target)
                .map(DbConnection::Pg)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// A connection dropped by a panic may hold an open transaction: never
    /// hand it out again.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || R2D2Connection::is_broken(conn)
    }
}

pub(super) type PooledConn = PooledConnection<Manager>;

pub struct DieselStore {
    /// SQLite's thread for the request path's writes (declared first: it
    /// stops before the group commit it writes through goes away).
    lane: Option<WriteLane>,
    pool: Pool<Manager>,
    backend: Backend,
    /// SQLite's writes of this process, batched into shared commits. They
    /// never meet SQLite's busy handler (which sleeps in growing steps);
    /// other processes (the CLI) still queue on the busy timeout.
    group_commit: Option<Arc<GroupCommit>>,
    /// Check-outs that found no free connection (the pool was exhausted).
    pool_waits: std::sync::atomic::AtomicU64,
}

/// A check-out slower than this waited for a connection to come back.
const POOL_WAIT: Duration = Duration::from_millis(1);

impl DieselStore {
    /// Connects, applies the embedded migrations and builds the pool. The
    /// first connection is made directly so a bad URL fails fast and clearly.
    pub fn open(url: &str, pool_size: u32) -> anyhow::Result<Self> {
        let (backend, target) = Backend::from_url(url);
        let manager = Manager::new(backend, target);
        let group_commit =
            (backend == Backend::Sqlite).then(|| Arc::new(GroupCommit::new(manager.clone())));
        let mut first = manager
            .connect()
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", redact_url(url)))?;
        migrate(&mut first).map_err(|e| anyhow::anyhow!("cannot migrate database: {e}"))?;
        super::resources::fill_search(&mut first)
            .map_err(|e| anyhow::anyhow!("cannot index stored resources: {e}"))?;
        drop(first);
        // r2d2 checks a connection with `SELECT 1` at every check-out by
        // default: an extra statement per store call (a round trip on
        // PostgreSQL, where a connection can break). A SQLite file cannot.
        let pool = Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(1))
            .test_on_check_out(backend == Backend::Postgres)
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", redact_url(url)))?;
        Ok(Self {
            lane: group_commit.clone().and_then(WriteLane::start),
            pool,
            backend,
            group_commit,
            pool_waits: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// (open, idle) connections of the pool, and check-outs that waited.
    pub fn pool_state(&self) -> (u32, u32, u64) {
        let state = self.pool.state();
        let waits = self.pool_waits.load(std::sync::atomic::Ordering::Relaxed);
        (state.connections, state.idle_connections, waits)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(super) fn conn(&self) -> StoreResult<PooledConn> {
        // An idle connection (the usual case) is taken without timing.
        if let Some(conn) = self.pool.try_get() {
            return Ok(conn);
        }
        let asked = std::time::Instant::now();
        let conn = self.pool.get().map_err(|e| StoreError::Pool(e.to_string()));
        if asked.elapsed() > POOL_WAIT {
            self.pool_waits
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        conn
    }

    /// Runs a quick read on the caller's thread if it need not wait: on
    /// SQLite with an idle pooled connection. None on PostgreSQL (a network
    /// round trip) and when the pool has no idle connection (taking one
    /// could block): the caller then takes the read to the blocking pool.
    pub(super) fn read_now<T>(
        &self,
        read: impl FnOnce(&mut DbConnection) -> StoreResult<T>,
    ) -> Option<StoreResult<T>> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let mut conn = self.pool.try_get()?;
        Some(read(&mut conn))
    }

    pub(super) fn has_write_lane(&self) -> bool {
        self.lane.is_some()
    }

    /// Queues a job on the write lane (SQLite); gives it back when there is
    /// none (PostgreSQL: writers run their own transactions in parallel).
    pub(super) fn submit_to_lane(&self, job: WriteJob) -> Result<(), WriteJob> {
        match &self.lane {
            Some(lane) => lane.submit(job),
            None => Err(job),
        }
    }

    /// Runs `f` in a write transaction: all of it is stored or none of it.
    /// Must not be called from inside `f`.
    pub(super) fn write<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        match &self.group_commit {
            Some(group) => group.write(f),
            None => write_tx(&mut *self.conn()?, f),
        }
    }
}

fn migrate(conn: &mut DbConnection) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    match conn {
        DbConnection::Sqlite(c) => {
            c.run_pending_migrations(SQLITE_MIGRATIONS)?;
        }
        DbConnection::Pg(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(c)?;
            let result = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ());
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(c)?;
            result?;
        }
    }
    Ok(())
}

/// Runs `f` in a write transaction of its own (PostgreSQL; SQLite's writes
/// share transactions through `GroupCommit`). SQLite would take the write
/// lock up front (`BEGIN IMMEDIATE`) rather than fail to upgrade a read.
fn write_tx<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> StoreResult<T>,
) -> StoreResult<T> {
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    let outcome = f(conn);
    let finish = match (&outcome, &mut *conn) {
        (Ok(_), DbConnection::Sqlite(c)) => AnsiTransactionManager::commit_transaction(c),
        (Ok(_), DbConnection::Pg(c)) => AnsiTransactionManager::commit_transaction(c),
        (Err(_), DbConnection::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(c),
        (Err(_), DbConnection::Pg(c)) => AnsiTransactionManager::rollback_transaction(c),
    };
    match (outcome, finish) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) => Err(e.into()),
        (Err(e), _) => Err(e),
    }
}

/// Locks a row for the rest of the transaction on PostgreSQL, so concurrent
/// read-modify-writes of one resource serialize (SQLite's write transaction
/// is already exclusive). `table` is one of our own table names.
pub(super) fn lock_row(conn: &mut DbConnection, table: &'static str, id: &str) -> StoreResult<()> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query(format!("SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE"))
            .bind::<diesel::sql_types::Text, _>(id)
            .execute(pg)?;
    }
    Ok(())
}

/// The URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_selects_backend() {
        assert_eq!(Backend::from_url("postgres://u@h/db").0, Backend::Postgres);
        assert_eq!(
            Backend::from_url("POSTGRESQL://u@h/db").0,
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("sqlite://data/x.db"),
            (Backend::Sqlite, "data/x.db".into())
        );
        assert_eq!(
            Backend::from_url("scimhub.db"),
            (Backend::Sqlite, "scimhub.db".into())
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("scimhub.db"), "scimhub.db");
    }
}
