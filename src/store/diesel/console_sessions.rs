//! `ConsoleStore` over the diesel connection pool.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::DieselStore;
use super::schema::console_sessions as s;
use crate::store::{ConsoleStore, SessionRecord, StoreResult};

type Row = (String, String, Option<String>, NaiveDateTime, NaiveDateTime);

fn from_row((id_hash, actor, token_id, created, last_seen): Row) -> SessionRecord {
    SessionRecord {
        id_hash,
        actor,
        token_id,
        created: created.and_utc(),
        last_seen: last_seen.and_utc(),
    }
}

impl ConsoleStore for DieselStore {
    fn create_session(&self, session: &SessionRecord) -> StoreResult<()> {
        let values = (
            s::id_hash.eq(session.id_hash.clone()),
            s::actor.eq(session.actor.clone()),
            s::token_id.eq(session.token_id.clone()),
            s::created.eq(session.created.naive_utc()),
            s::last_seen.eq(session.last_seen.naive_utc()),
        );
        self.write(|c| {
            diesel::insert_into(s::table).values(values).execute(c)?;
            Ok(())
        })
    }

    fn find_session(&self, id_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let row: Option<Row> = s::table
            .find(id_hash)
            .select((s::id_hash, s::actor, s::token_id, s::created, s::last_seen))
            .get_result(&mut *self.conn()?)
            .optional()?;
        Ok(row.map(from_row))
    }

    fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.write(|c| {
            diesel::update(s::table.find(id_hash))
                .set(s::last_seen.eq(at.naive_utc()))
                .execute(c)?;
            Ok(())
        })
    }

    fn delete_session(&self, id_hash: &str) -> StoreResult<bool> {
        self.write(|c| Ok(diesel::delete(s::table.find(id_hash)).execute(c)? > 0))
    }

    fn delete_expired_sessions(
        &self,
        idle_before: DateTime<Utc>,
        opened_before: DateTime<Utc>,
    ) -> StoreResult<usize> {
        self.write(|c| {
            Ok(diesel::delete(
                s::table.filter(
                    s::last_seen
                        .lt(idle_before.naive_utc())
                        .or(s::created.lt(opened_before.naive_utc())),
                ),
            )
            .execute(c)?)
        })
    }
}
