//! Change-event subscriptions (secrets arrive sealed; never decrypted here)
//! and the SETs poll receivers acknowledged past a subscription's cursor.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::{DbConnection, per_backend};
use super::schema::event_acks as acks;
use super::schema::webhook_subscriptions as s;
use super::unique_violation;
use crate::scim::ScimError;
use crate::store::{Delivery, EventFormat, EventMode, StoreError, StoreResult, SubscriptionRecord};

type Row = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    NaiveDateTime,
    String,
    String,
    String,
);

const ROW: (
    s::id,
    s::name,
    s::url,
    s::secret,
    s::resource_types,
    s::change_cursor,
    s::last_error,
    s::created,
    s::format,
    s::delivery,
    s::mode,
) = (
    s::id,
    s::name,
    s::url,
    s::secret,
    s::resource_types,
    s::change_cursor,
    s::last_error,
    s::created,
    s::format,
    s::delivery,
    s::mode,
);

fn unknown(column: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("webhook_subscriptions.{column} holds {value:?}"))
}

fn from_row(r: Row) -> StoreResult<SubscriptionRecord> {
    let (id, name, url, secret, types, change_cursor, last_error, created, format, delivery, mode) =
        r;
    Ok(SubscriptionRecord {
        format: EventFormat::parse(&format).ok_or_else(|| unknown("format", &format))?,
        delivery: Delivery::parse(&delivery).ok_or_else(|| unknown("delivery", &delivery))?,
        mode: EventMode::parse(&mode).ok_or_else(|| unknown("mode", &mode))?,
        id,
        name,
        url,
        secret,
        resource_types: types
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        change_cursor,
        last_error,
        created: created.and_utc(),
    })
}

fn name_taken(name: &str) -> StoreError {
    StoreError::Rejected(ScimError::uniqueness(format!(
        "a subscription named \"{name}\" already exists"
    )))
}

pub fn create(conn: &mut DbConnection, r: &SubscriptionRecord) -> StoreResult<()> {
    let taken: i64 = s::table
        .filter(s::name.eq(&r.name))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(name_taken(&r.name));
    }
    diesel::insert_into(s::table)
        .values((
            s::id.eq(&r.id),
            s::name.eq(&r.name),
            s::url.eq(&r.url),
            s::secret.eq(&r.secret),
            s::resource_types.eq(r.resource_types.join(",")),
            s::change_cursor.eq(r.change_cursor),
            s::last_error.eq(&r.last_error),
            s::created.eq(r.created.naive_utc()),
            s::format.eq(r.format.as_str()),
            s::delivery.eq(r.delivery.as_str()),
            s::mode.eq(r.mode.as_str()),
        ))
        .execute(conn)
        .map_err(|e| unique_violation(e, || name_taken(&r.name)))?;
    Ok(())
}

pub fn list(conn: &mut DbConnection) -> StoreResult<Vec<SubscriptionRecord>> {
    let rows: Vec<Row> = s::table.order(s::name.asc()).select(ROW).load(conn)?;
    rows.into_iter().map(from_row).collect()
}

pub fn delete(conn: &mut DbConnection, id_or_name: &str) -> StoreResult<bool> {
    let ids: Vec<String> = s::table
        .filter(s::id.eq(id_or_name).or(s::name.eq(id_or_name)))
        .select(s::id)
        .load(conn)?;
    diesel::delete(acks::table.filter(acks::subscription_id.eq_any(&ids))).execute(conn)?;
    let removed = diesel::delete(s::table.filter(s::id.eq_any(&ids))).execute(conn)?;
    Ok(removed > 0)
}

/// Moves the cursor compare-and-set; acknowledgements it passes are dropped.
pub fn advance(conn: &mut DbConnection, id: &str, from: i64, to: i64) -> StoreResult<bool> {
    let moved = diesel::update(
        s::table
            .filter(s::id.eq(id))
            .filter(s::change_cursor.eq(from)),
    )
    .set((s::change_cursor.eq(to), s::last_error.eq(None::<String>)))
    .execute(conn)?;
    if moved == 1 {
        diesel::delete(
            acks::table
                .filter(acks::subscription_id.eq(id))
                .filter(acks::seq.le(to)),
        )
        .execute(conn)?;
    }
    Ok(moved == 1)
}

pub fn set_error(conn: &mut DbConnection, id: &str, error: Option<&str>) -> StoreResult<()> {
    diesel::update(s::table.filter(s::id.eq(id)))
        .set(s::last_error.eq(error))
        .execute(conn)?;
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = acks)]
struct Ack<'a> {
    subscription_id: &'a str,
    seq: i64,
}

/// Inserts the acknowledgements past the cursor, once each (a repeated
/// ack, e.g. after a lost poll answer, is no error).
pub fn ack(conn: &mut DbConnection, id: &str, seqs: &[i64]) -> StoreResult<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let cursor: Option<i64> = s::table
        .filter(s::id.eq(id))
        .select(s::change_cursor)
        .get_result(conn)
        .optional()?;
    let Some(cursor) = cursor else {
        return Err(StoreError::NotFound);
    };
    let mut wanted: Vec<i64> = seqs.iter().copied().filter(|q| *q > cursor).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let known: Vec<i64> = acks::table
        .filter(acks::subscription_id.eq(id))
        .filter(acks::seq.eq_any(&wanted))
        .select(acks::seq)
        .load(conn)?;
    let rows: Vec<Ack<'_>> = wanted
        .iter()
        .filter(|q| !known.contains(q))
        .map(|&seq| Ack {
            subscription_id: id,
            seq,
        })
        .collect();
    for chunk in rows.chunks(500) {
        per_backend!(conn, c => diesel::insert_into(acks::table).values(chunk).execute(c))?;
    }
    Ok(())
}

pub fn acked(conn: &mut DbConnection, id: &str, after: i64, through: i64) -> StoreResult<Vec<i64>> {
    Ok(acks::table
        .filter(acks::subscription_id.eq(id))
        .filter(acks::seq.gt(after))
        .filter(acks::seq.le(through))
        .order(acks::seq.asc())
        .select(acks::seq)
        .load(conn)?)
}
