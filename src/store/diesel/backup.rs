//! Online backup of a live SQLite store and restore into an empty one.
//! (PostgreSQL has `pg_dump` / `pg_restore`; see the operations guide.)

use std::path::Path;

use anyhow::{Context, bail};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::connection::{Backend, DbConnection, DieselStore};

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What a restored store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    pub users: i64,
    pub groups: i64,
}

const POSTGRES: &str = "backup and restore here are for the SQLite store; for PostgreSQL use \
     pg_dump / pg_restore (see docs/operations.md, \"Backups\")";

impl DieselStore {
    /// A consistent copy of the live database in `dest`, taken with SQLite's
    /// `VACUUM INTO` in one read transaction: writers carry on meanwhile.
    pub fn backup_to(&self, dest: &Path) -> anyhow::Result<()> {
        if self.backend() != Backend::Sqlite {
            bail!(POSTGRES);
        }
        if dest.exists() {
            bail!("{} already exists: back up into a new file", dest.display());
        }
        let path = dest
            .to_str()
            .with_context(|| format!("{} is not a UTF-8 path", dest.display()))?;
        let mut conn = self.conn()?;
        let DbConnection::Sqlite(c) = &mut *conn else {
            bail!(POSTGRES);
        };
        diesel::sql_query("VACUUM INTO ?")
            .bind::<Text, _>(path)
            .execute(c)
            .with_context(|| format!("cannot write the backup to {}", dest.display()))?;
        Ok(())
    }
}

/// Checks that `backup` is an intact scimhub SQLite store.
fn check_backup(backup: &Path) -> anyhow::Result<()> {
    let path = backup
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", backup.display()))?;
    if !backup.is_file() {
        bail!("{} is not a file", backup.display());
    }
    let mut c = SqliteConnection::establish(path)
        .with_context(|| format!("{} is not an SQLite database", backup.display()))?;
    let checks: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut c)
        .with_context(|| format!("{} is not an SQLite database", backup.display()))?;
    if checks.first().map(|c| c.integrity_check.as_str()) != Some("ok") {
        bail!(
            "{} is damaged (SQLite integrity check failed)",
            backup.display()
        );
    }
    let tables: Vec<Count> = diesel::sql_query(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'scim_groups', 'changes')",
    )
    .load(&mut c)?;
    if tables.first().map(|t| t.n) != Some(3) {
        bail!("{} is not a scimhub store", backup.display());
    }
    Ok(())
}

/// Restores `backup` as the SQLite store at `url`, which must not exist
/// yet (or be an empty file); migrations bring an older backup up to date.
pub fn restore(backup: &Path, url: &str) -> anyhow::Result<Restored> {
    let (backend, target) = Backend::from_url(url);
    if backend != Backend::Sqlite {
        bail!(POSTGRES);
    }
    let target = Path::new(&target);
    if target.metadata().is_ok_and(|m| m.len() > 0) {
        bail!(
            "{} already holds a database: restore needs an empty store (move it away first)",
            target.display()
        );
    }
    check_backup(backup)?;
    std::fs::copy(backup, target).with_context(|| format!("cannot write {}", target.display()))?;
    let store = DieselStore::open(url, 1)?;
    let mut conn = store.conn()?;
    let count = |conn: &mut DbConnection, table: &str| -> anyhow::Result<i64> {
        let rows: Vec<Count> =
            diesel::sql_query(format!("SELECT count(*) AS n FROM {table}")).load(conn)?;
        Ok(rows.first().map_or(0, |r| r.n))
    };
    Ok(Restored {
        users: count(&mut conn, "users")?,
        groups: count(&mut conn, "scim_groups")?,
    })
}
