//! The link table of each source: (source, type, source id) → local id.

use diesel::prelude::*;

use super::connection::{DbConnection, per_backend};
use super::now;
use super::schema::source_links as l;
use crate::store::{SourceLinkRecord, StoreResult, UserFacts};

/// Rows per statement: well under both backends' bind-parameter limits.
const CHUNK: usize = 400;

pub fn list(
    conn: &mut DbConnection,
    source: &str,
    kind: &str,
) -> StoreResult<Vec<SourceLinkRecord>> {
    let rows: Vec<(String, String, String, Option<String>)> = l::table
        .filter(l::source_id.eq(source))
        .filter(l::resource_type.eq(kind))
        .order(l::external_key.asc())
        .select((l::external_key, l::local_id, l::state_hash, l::refs))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(external_key, local_id, state_hash, refs)| SourceLinkRecord {
                resource_type: kind.to_string(),
                external_key,
                local_id,
                state_hash,
                refs,
            },
        )
        .collect())
}

pub fn owners(conn: &mut DbConnection, kind: &str) -> StoreResult<Vec<(String, String)>> {
    Ok(l::table
        .filter(l::resource_type.eq(kind))
        .select((l::local_id, l::source_id))
        .load(conn)?)
}

#[derive(Insertable)]
#[diesel(table_name = l)]
struct Row<'a> {
    source_id: &'a str,
    resource_type: &'a str,
    external_key: &'a str,
    local_id: &'a str,
    state_hash: &'a str,
    refs: Option<&'a str>,
    updated: chrono::NaiveDateTime,
}

/// Delete-then-insert per chunk (the enum connection has no portable upsert).
pub fn put(conn: &mut DbConnection, source: &str, links: &[SourceLinkRecord]) -> StoreResult<()> {
    let at = now().naive_utc();
    for kind in ["User", "Group", "Department"] {
        let of_kind: Vec<&SourceLinkRecord> =
            links.iter().filter(|r| r.resource_type == kind).collect();
        for chunk in of_kind.chunks(CHUNK) {
            let keys: Vec<&str> = chunk.iter().map(|r| r.external_key.as_str()).collect();
            diesel::delete(
                l::table
                    .filter(l::source_id.eq(source))
                    .filter(l::resource_type.eq(kind))
                    .filter(l::external_key.eq_any(&keys)),
            )
            .execute(conn)?;
            let rows: Vec<Row<'_>> = chunk
                .iter()
                .map(|r| Row {
                    source_id: source,
                    resource_type: kind,
                    external_key: &r.external_key,
                    local_id: &r.local_id,
                    state_hash: &r.state_hash,
                    refs: r.refs.as_deref(),
                    updated: at,
                })
                .collect();
            per_backend!(conn, c => diesel::insert_into(l::table).values(&rows).execute(c))?;
        }
    }
    Ok(())
}

/// Every user's userName, employeeNumber and e-mail addresses (lower-cased
/// columns), and every group id.
pub fn user_facts(conn: &mut DbConnection) -> StoreResult<(Vec<UserFacts>, Vec<String>)> {
    use super::schema::{scim_groups as g, user_emails as e, users as u};
    let rows: Vec<(String, String, Option<String>)> = u::table
        .select((u::id, u::user_name_lower, u::employee_number_lower))
        .load(conn)?;
    let mut facts: Vec<UserFacts> = rows
        .into_iter()
        .map(|(id, user_name, employee_number)| UserFacts {
            id,
            user_name,
            employee_number,
            emails: Vec::new(),
        })
        .collect();
    let at: std::collections::HashMap<String, usize> = facts
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id.clone(), i))
        .collect();
    let mails: Vec<(String, Option<String>)> = e::table
        .order((e::user_id.asc(), e::position.asc()))
        .select((e::user_id, e::value_lower))
        .load(conn)?;
    for (user, mail) in mails {
        if let (Some(&i), Some(mail)) = (at.get(&user), mail) {
            facts[i].emails.push(mail);
        }
    }
    let groups: Vec<String> = g::table.select(g::id).load(conn)?;
    Ok((facts, groups))
}

pub fn department_ids(conn: &mut DbConnection) -> StoreResult<Vec<String>> {
    use super::schema::departments as d;
    Ok(d::table.select(d::id).load(conn)?)
}
