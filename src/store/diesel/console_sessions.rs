//! `ConsoleStore` over the diesel connection pool: sessions and OpenID
//! Connect sign-ins under way.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::DieselStore;
use super::schema::{console_logins as l, console_sessions as s};
use crate::store::{ConsoleStore, LoginRecord, SessionRecord, StoreResult};

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

    fn create_login(&self, login: &LoginRecord, stale_before: DateTime<Utc>) -> StoreResult<()> {
        let values = (
            l::id_hash.eq(login.id_hash.clone()),
            l::state.eq(login.state.clone()),
            l::nonce.eq(login.nonce.clone()),
            l::pkce_verifier.eq(login.pkce_verifier.clone()),
            l::next.eq(login.next.clone()),
            l::created.eq(login.created.naive_utc()),
        );
        self.write(|c| {
            diesel::delete(l::table.filter(l::created.lt(stale_before.naive_utc()))).execute(c)?;
            diesel::insert_into(l::table).values(values).execute(c)?;
            Ok(())
        })
    }

    fn take_login(&self, id_hash: &str) -> StoreResult<Option<LoginRecord>> {
        type LoginRow = (String, String, String, String, String, NaiveDateTime);
        self.write(|c| {
            let row: Option<LoginRow> = l::table
                .find(id_hash)
                .select((
                    l::id_hash,
                    l::state,
                    l::nonce,
                    l::pkce_verifier,
                    l::next,
                    l::created,
                ))
                .get_result(c)
                .optional()?;
            if row.is_some() {
                diesel::delete(l::table.find(id_hash)).execute(c)?;
            }
            Ok(row.map(
                |(id_hash, state, nonce, pkce_verifier, next, created)| LoginRecord {
                    id_hash,
                    state,
                    nonce,
                    pkce_verifier,
                    next,
                    created: created.and_utc(),
                },
            ))
        })
    }
}
