//! API tokens: only a hash of each secret is stored.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::api_tokens;
use super::{now, unique_violation};
use crate::scim::ScimError;
use crate::store::{NewToken, StoreError, StoreResult, TokenRecord};

type TokenRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

const ROW: (
    api_tokens::id,
    api_tokens::name,
    api_tokens::secret_hash,
    api_tokens::scopes,
    api_tokens::user_id,
    api_tokens::created,
    api_tokens::last_used,
    api_tokens::revoked,
) = (
    api_tokens::id,
    api_tokens::name,
    api_tokens::secret_hash,
    api_tokens::scopes,
    api_tokens::user_id,
    api_tokens::created,
    api_tokens::last_used,
    api_tokens::revoked,
);

fn from_row(row: TokenRow) -> TokenRecord {
    let (id, name, secret_hash, scopes, user_id, created, last_used, revoked) = row;
    TokenRecord {
        id,
        name,
        secret_hash,
        scopes: scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        user_id,
        created: created.and_utc(),
        last_used: last_used.map(|t| t.and_utc()),
        revoked: revoked.map(|t| t.and_utc()),
    }
}

fn name_taken(name: &str) -> StoreError {
    StoreError::Rejected(ScimError::uniqueness(format!(
        "a live token named \"{name}\" already exists; revoke it first or pick another name"
    )))
}

pub fn create(conn: &mut DbConnection, token: NewToken) -> StoreResult<()> {
    let live: i64 = api_tokens::table
        .filter(api_tokens::name.eq(&token.name))
        .filter(api_tokens::revoked.is_null())
        .count()
        .get_result(conn)?;
    if live > 0 {
        return Err(name_taken(&token.name));
    }
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::id.eq(&token.id),
            api_tokens::name.eq(&token.name),
            api_tokens::secret_hash.eq(&token.secret_hash),
            api_tokens::scopes.eq(token.scopes.join(" ")),
            api_tokens::user_id.eq(&token.user_id),
            api_tokens::created.eq(now().naive_utc()),
        ))
        .execute(conn)
        .map_err(|e| unique_violation(e, || name_taken(&token.name)))?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> StoreResult<Option<TokenRecord>> {
    let row: Option<TokenRow> = api_tokens::table
        .find(id)
        .select(ROW)
        .get_result(conn)
        .optional()?;
    Ok(row.map(from_row))
}

pub fn list(conn: &mut DbConnection) -> StoreResult<Vec<TokenRecord>> {
    let rows: Vec<TokenRow> = api_tokens::table
        .order((api_tokens::created.asc(), api_tokens::id.asc()))
        .select(ROW)
        .load(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

pub fn revoke(conn: &mut DbConnection, name: &str) -> StoreResult<bool> {
    let n = diesel::update(
        api_tokens::table
            .filter(api_tokens::name.eq(name))
            .filter(api_tokens::revoked.is_null()),
    )
    .set(api_tokens::revoked.eq(now().naive_utc()))
    .execute(conn)?;
    Ok(n > 0)
}

pub fn revoke_id(conn: &mut DbConnection, id: &str) -> StoreResult<bool> {
    let n = diesel::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::revoked.is_null()),
    )
    .set(api_tokens::revoked.eq(now().naive_utc()))
    .execute(conn)?;
    Ok(n > 0)
}

pub fn touch(conn: &mut DbConnection, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::last_used.eq(at.naive_utc()))
        .execute(conn)?;
    Ok(())
}
