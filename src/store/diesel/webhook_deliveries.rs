//! The webhook outbox rows.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::webhook_deliveries as d;
use crate::store::{DeliveryRecord, DeliveryStatus, DeliveryUpdate, StoreError, StoreResult};

type Row = (
    String,
    String,
    String,
    String,
    i32,
    NaiveDateTime,
    Option<String>,
    String,
    NaiveDateTime,
);

const ROW: (
    d::id,
    d::endpoint,
    d::event,
    d::body,
    d::attempts,
    d::next_attempt_at,
    d::last_error,
    d::status,
    d::created,
) = (
    d::id,
    d::endpoint,
    d::event,
    d::body,
    d::attempts,
    d::next_attempt_at,
    d::last_error,
    d::status,
    d::created,
);

fn from_row(r: Row) -> StoreResult<DeliveryRecord> {
    let (id, endpoint, event, body, attempts, next, last_error, status, created) = r;
    let status = DeliveryStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("delivery status {status:?}")))?;
    Ok(DeliveryRecord {
        id,
        endpoint,
        event,
        body,
        attempts,
        next_attempt_at: next.and_utc(),
        last_error,
        status,
        created: created.and_utc(),
    })
}

pub fn insert(conn: &mut DbConnection, r: &DeliveryRecord) -> StoreResult<()> {
    diesel::insert_into(d::table)
        .values((
            d::id.eq(&r.id),
            d::endpoint.eq(&r.endpoint),
            d::event.eq(&r.event),
            d::body.eq(&r.body),
            d::attempts.eq(r.attempts),
            d::next_attempt_at.eq(r.next_attempt_at.naive_utc()),
            d::last_error.eq(&r.last_error),
            d::status.eq(r.status.as_str()),
            d::created.eq(r.created.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Leases each due row with a conditional update: a row another instance
/// leased in between no longer matches and is skipped.
pub fn claim_due(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<DeliveryRecord>> {
    let pending = DeliveryStatus::Pending.as_str();
    let due: Vec<Row> = d::table
        .filter(d::status.eq(pending))
        .filter(d::next_attempt_at.le(now.naive_utc()))
        .order((d::next_attempt_at.asc(), d::created.asc()))
        .limit(i64::from(limit))
        .select(ROW)
        .load(conn)?;
    let mut claimed = Vec::with_capacity(due.len());
    for row in due {
        let taken = diesel::update(
            d::table
                .filter(d::id.eq(&row.0))
                .filter(d::status.eq(pending))
                .filter(d::next_attempt_at.eq(row.5)),
        )
        .set(d::next_attempt_at.eq(lease_until.naive_utc()))
        .execute(conn)?;
        if taken == 1 {
            claimed.push(from_row(row)?);
        }
    }
    Ok(claimed)
}

pub fn update(conn: &mut DbConnection, id: &str, u: &DeliveryUpdate) -> StoreResult<()> {
    diesel::update(d::table.filter(d::id.eq(id)))
        .set((
            d::status.eq(u.status.as_str()),
            d::attempts.eq(u.attempts),
            d::next_attempt_at.eq(u.next_attempt_at.naive_utc()),
            d::last_error.eq(&u.last_error),
        ))
        .execute(conn)?;
    Ok(())
}

/// How many outbox rows are in each status.
pub fn counts(conn: &mut DbConnection) -> StoreResult<Vec<(String, i64)>> {
    Ok(d::table
        .group_by(d::status)
        .select((d::status, diesel::dsl::count_star()))
        .load(conn)?)
}

pub fn list(conn: &mut DbConnection, limit: u32) -> StoreResult<Vec<DeliveryRecord>> {
    let rows: Vec<Row> = d::table
        .order((d::created.desc(), d::id.asc()))
        .limit(i64::from(limit))
        .select(ROW)
        .load(conn)?;
    rows.into_iter().map(from_row).collect()
}
