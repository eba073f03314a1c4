//! Change-event subscriptions (secrets arrive sealed; never decrypted here).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::webhook_subscriptions as s;
use super::unique_violation;
use crate::scim::ScimError;
use crate::store::{StoreError, StoreResult, SubscriptionRecord};

type Row = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    NaiveDateTime,
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
) = (
    s::id,
    s::name,
    s::url,
    s::secret,
    s::resource_types,
    s::change_cursor,
    s::last_error,
    s::created,
);

fn from_row(r: Row) -> SubscriptionRecord {
    let (id, name, url, secret, types, change_cursor, last_error, created) = r;
    SubscriptionRecord {
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
    }
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
        ))
        .execute(conn)
        .map_err(|e| unique_violation(e, || name_taken(&r.name)))?;
    Ok(())
}

pub fn list(conn: &mut DbConnection) -> StoreResult<Vec<SubscriptionRecord>> {
    let rows: Vec<Row> = s::table.order(s::name.asc()).select(ROW).load(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

pub fn delete(conn: &mut DbConnection, id_or_name: &str) -> StoreResult<bool> {
    let removed = diesel::delete(s::table.filter(s::id.eq(id_or_name).or(s::name.eq(id_or_name))))
        .execute(conn)?;
    Ok(removed > 0)
}

pub fn advance(conn: &mut DbConnection, id: &str, from: i64, to: i64) -> StoreResult<bool> {
    let moved = diesel::update(
        s::table
            .filter(s::id.eq(id))
            .filter(s::change_cursor.eq(from)),
    )
    .set((s::change_cursor.eq(to), s::last_error.eq(None::<String>)))
    .execute(conn)?;
    Ok(moved == 1)
}

pub fn set_error(conn: &mut DbConnection, id: &str, error: Option<&str>) -> StoreResult<()> {
    diesel::update(s::table.filter(s::id.eq(id)))
        .set(s::last_error.eq(error))
        .execute(conn)?;
    Ok(())
}
