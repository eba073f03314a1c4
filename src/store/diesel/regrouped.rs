//! Users whose derived `groups` attribute a group write changed (a
//! membership added or removed, a containing group nested, renamed or
//! deleted): their version and lastModified move, so an ETag held for the
//! old view stops matching, and each gets a change-log row like any other
//! change of its representation.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::changelog::{self, Change, Operation};
use super::connection::DbConnection;
use super::run;
use super::schema::users;
use crate::store::{Actor, StoreResult};

/// Keeps `IN (...)` lists well under SQLite's bound-parameter limit.
const CHUNK: usize = 500;

/// Bumps the users and logs a `groups` change for each. The group write
/// calls it before its own change-log row: a worker replaying the log in
/// order then pushes the members before the group that lists them, and on
/// PostgreSQL the user row locks are taken before the change-log lock, as a
/// user's own write takes them. Ids are ordered, so concurrent group writes
/// lock shared users in the same order.
pub fn record(
    conn: &mut DbConnection,
    ids: &BTreeSet<String>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let bumped = bump(conn, ids, at)?;
    let changes: Vec<Change<'_>> = bumped
        .iter()
        .map(|(id, version)| {
            let groups = vec!["groups".to_string()];
            Change::new("User", id, Operation::Update, *version, at, actor, groups)
        })
        .collect();
    changelog::append_many(conn, &changes)
}

/// (id, new version) of each bumped user.
fn bump(
    conn: &mut DbConnection,
    ids: &BTreeSet<String>,
    at: DateTime<Utc>,
) -> StoreResult<Vec<(String, i64)>> {
    let set = (
        users::version.eq(users::version + 1),
        users::last_modified.eq(at.naive_utc()),
    );
    let returned = (users::id, users::version);
    let ids: Vec<&String> = ids.iter().collect();
    // One user (a member added or removed) as `=`: a cached statement.
    if let [one] = ids.as_slice() {
        return Ok(run::load(
            conn,
            diesel::update(users::table.find(one.as_str()))
                .set(set)
                .returning(returned),
        )?);
    }
    let mut bumped = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        bumped.extend(
            diesel::update(users::table.filter(users::id.eq_any(chunk)))
                .set(set)
                .returning(returned)
                .get_results::<(String, i64)>(conn)?,
        );
    }
    Ok(bumped)
}
