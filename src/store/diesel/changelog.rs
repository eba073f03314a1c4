//! The append-only change log, written inside each write transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::connection::DbConnection;
use super::run;
use super::schema::{audit_events, change_log_state, changes};
use crate::store::{Actor, AuditEvent, ChangeRecord, Pruned, StoreResult};

/// Held until commit so that PostgreSQL commits change-log rows in `seq`
/// order: a consumer reading past `seq = n` can never miss a row below `n`.
const CHANGELOG_LOCK_KEY: i64 = 0x5c1_4b0b_0002;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Replace,
    Patch,
    Update,
    Delete,
}

impl From<crate::store::WriteOp> for Operation {
    fn from(op: crate::store::WriteOp) -> Self {
        match op {
            crate::store::WriteOp::Replace => Operation::Replace,
            crate::store::WriteOp::Patch => Operation::Patch,
        }
    }
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Replace => "replace",
            Operation::Patch => "patch",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = changes)]
struct NewChange<'a> {
    resource_type: &'a str,
    resource_id: &'a str,
    operation: &'a str,
    version: i64,
    changed_at: NaiveDateTime,
    actor: &'a str,
    attributes: String,
    active: Option<bool>,
}

impl<'a> NewChange<'a> {
    fn of(c: &'a Change<'a>) -> Self {
        NewChange {
            resource_type: c.resource_type,
            resource_id: c.resource_id,
            operation: c.operation.as_str(),
            version: c.version,
            changed_at: c.at.naive_utc(),
            actor: &c.actor.name,
            attributes: c.attributes.join(","),
            active: c.active,
        }
    }
}

pub struct Change<'a> {
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    pub operation: Operation,
    pub version: i64,
    pub at: DateTime<Utc>,
    pub actor: &'a Actor,
    /// Names of the attributes the change touched (never their values).
    pub attributes: Vec<String>,
    /// The new value of `active` when the change changed it (SCIM events
    /// send activate / deactivate from it).
    pub active: Option<bool>,
}

impl<'a> Change<'a> {
    /// The row of a write that brings `resource_type`'s `resource_id` to
    /// `version` (no news of `active`).
    pub fn new(
        resource_type: &'a str,
        resource_id: &'a str,
        operation: Operation,
        version: i64,
        at: DateTime<Utc>,
        actor: &'a Actor,
        attributes: Vec<String>,
    ) -> Self {
        Self {
            resource_type,
            resource_id,
            operation,
            version,
            at,
            actor,
            attributes,
            active: None,
        }
    }
}

/// `active` as a change leaves it, when `attributes` (what changed) names
/// it; an absent `active` counts as true, as in the `users.active` column.
pub fn active_change(
    attributes: &[String],
    new: &serde_json::Map<String, serde_json::Value>,
) -> Option<bool> {
    attributes.iter().any(|a| a == "active").then(|| {
        new.get("active")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true)
    })
}

#[derive(Insertable)]
#[diesel(table_name = audit_events, treat_none_as_null = true)]
struct NewAudit<'a> {
    at: NaiveDateTime,
    event: String,
    actor: &'a str,
    request_id: Option<&'a str>,
    source: Option<&'a str>,
    resource_type: Option<&'a str>,
    resource_id: Option<&'a str>,
    attributes: Option<String>,
    detail: Option<&'a str>,
}

fn audit_row<'a>(change: &'a Change<'a>) -> NewAudit<'a> {
    NewAudit {
        at: change.at.naive_utc(),
        event: format!("resource.{}", change.operation.as_str()),
        actor: &change.actor.name,
        request_id: change.actor.request_id.as_deref(),
        source: change.actor.source.as_deref(),
        resource_type: Some(change.resource_type),
        resource_id: Some(change.resource_id),
        attributes: Some(change.attributes.join(",")),
        detail: None,
    }
}

/// Names of the attributes that differ between two states (extension
/// attributes as `URN:name`); values are never recorded.
pub fn changed_names(
    old: Option<&serde_json::Map<String, serde_json::Value>>,
    new: &serde_json::Map<String, serde_json::Value>,
) -> Vec<String> {
    let empty = serde_json::Map::new();
    let old = old.unwrap_or(&empty);
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut names = Vec::new();
    for key in keys {
        let (a, b) = (old.get(key), new.get(key));
        if a == b {
            continue;
        }
        match (a, b) {
            (Some(serde_json::Value::Object(x)), Some(serde_json::Value::Object(y)))
                if key.starts_with("urn:") =>
            {
                names.extend(
                    changed_names(Some(x), y)
                        .into_iter()
                        .map(|n| format!("{key}:{n}")),
                );
            }
            _ => names.push(key.clone()),
        }
    }
    names
}

/// Records an event that is not a resource change.
pub fn record(conn: &mut DbConnection, event: &AuditEvent, at: DateTime<Utc>) -> StoreResult<()> {
    diesel::insert_into(audit_events::table)
        .values(NewAudit {
            at: at.naive_utc(),
            event: event.event.clone(),
            actor: &event.actor.name,
            request_id: event.actor.request_id.as_deref(),
            source: event.actor.source.as_deref(),
            resource_type: None,
            resource_id: None,
            attributes: None,
            detail: event.detail.as_deref(),
        })
        .execute(conn)?;
    Ok(())
}

pub fn append(conn: &mut DbConnection, change: Change<'_>) -> StoreResult<()> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query(format!(
            "SELECT pg_advisory_xact_lock({CHANGELOG_LOCK_KEY})"
        ))
        .execute(pg)?;
    }
    run::execute(
        conn,
        diesel::insert_into(changes::table).values(NewChange::of(&change)),
    )?;
    run::execute(
        conn,
        diesel::insert_into(audit_events::table).values(&audit_row(&change)),
    )?;
    Ok(())
}

/// Appends many rows at once (bulk imports), in order.
pub fn append_many(conn: &mut DbConnection, batch: &[Change<'_>]) -> StoreResult<()> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query(format!(
            "SELECT pg_advisory_xact_lock({CHANGELOG_LOCK_KEY})"
        ))
        .execute(pg)?;
    }
    let rows: Vec<NewChange<'_>> = batch.iter().map(NewChange::of).collect();
    let audits: Vec<NewAudit<'_>> = batch.iter().map(audit_row).collect();
    for chunk in rows.chunks(500) {
        super::connection::per_backend!(conn, c => diesel::insert_into(changes::table).values(chunk).execute(c))?;
    }
    for chunk in audits.chunks(500) {
        super::connection::per_backend!(conn, c => diesel::insert_into(audit_events::table).values(chunk).execute(c))?;
    }
    Ok(())
}

type ChangeRow = (
    i64,
    String,
    String,
    String,
    i64,
    NaiveDateTime,
    String,
    Option<String>,
    Option<bool>,
);

pub fn after(conn: &mut DbConnection, seq: i64, limit: u32) -> StoreResult<Vec<ChangeRecord>> {
    let rows: Vec<ChangeRow> = changes::table
        .filter(changes::seq.gt(seq))
        .order(changes::seq.asc())
        .limit(i64::from(limit))
        .select((
            changes::seq,
            changes::resource_type,
            changes::resource_id,
            changes::operation,
            changes::version,
            changes::changed_at,
            changes::actor,
            changes::attributes,
            changes::active,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(seq, resource_type, resource_id, operation, version, at, actor, names, active)| {
                ChangeRecord {
                    seq,
                    resource_type,
                    resource_id,
                    operation,
                    version,
                    changed_at: at.and_utc(),
                    actor,
                    attributes: names
                        .map(|n| {
                            n.split(',')
                                .filter(|a| !a.is_empty())
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default(),
                    active,
                }
            },
        )
        .collect())
}

/// The last sequence number pruned away (0 when nothing was).
pub fn pruned_through(conn: &mut DbConnection) -> StoreResult<i64> {
    let value: Option<i64> = change_log_state::table
        .select(change_log_state::pruned_through)
        .get_result(conn)
        .optional()?;
    Ok(value.unwrap_or(0))
}

/// Deletes change-log rows older than `before`, remembering how far it went.
/// Unless `force`, rows a sync target or webhook subscription has not read
/// yet stay: its cursor bounds the prune, and it is named in the result.
pub fn prune(conn: &mut DbConnection, before: DateTime<Utc>, force: bool) -> StoreResult<Pruned> {
    use super::schema::{sync_targets, webhook_subscriptions};
    let by_age: Option<i64> = changes::table
        .filter(changes::changed_at.lt(before.naive_utc()))
        .select(diesel::dsl::max(changes::seq))
        .get_result(conn)?;
    let Some(mut last) = by_age else {
        return Ok(Pruned::default());
    };
    let mut kept_for = Vec::new();
    if !force {
        let targets: Vec<(String, i64)> = sync_targets::table
            .filter(sync_targets::change_cursor.lt(last))
            .select((sync_targets::name, sync_targets::change_cursor))
            .order(sync_targets::name.asc())
            .load(conn)?;
        let subscriptions: Vec<(String, i64)> = webhook_subscriptions::table
            .filter(webhook_subscriptions::change_cursor.lt(last))
            .select((
                webhook_subscriptions::name,
                webhook_subscriptions::change_cursor,
            ))
            .order(webhook_subscriptions::name.asc())
            .load(conn)?;
        let consumers = targets
            .into_iter()
            .map(|(name, at)| (format!("sync target {name}"), at))
            .chain(
                subscriptions
                    .into_iter()
                    .map(|(name, at)| (format!("webhook subscription {name}"), at)),
            );
        for (consumer, read_through) in consumers {
            last = last.min(read_through);
            kept_for.push(consumer);
        }
    }
    let done = pruned_through(conn)?;
    if last <= done {
        return Ok(Pruned {
            removed: 0,
            kept_for,
        });
    }
    let removed = diesel::delete(changes::table.filter(changes::seq.le(last))).execute(conn)?;
    diesel::update(change_log_state::table)
        .set(change_log_state::pruned_through.eq(last))
        .execute(conn)?;
    Ok(Pruned {
        removed: removed as u64,
        kept_for,
    })
}

/// The newest sequence number (0 when the log is empty).
pub fn latest(conn: &mut DbConnection) -> StoreResult<i64> {
    let last: Option<i64> = changes::table
        .select(diesel::dsl::max(changes::seq))
        .get_result(conn)?;
    Ok(last.unwrap_or(0).max(pruned_through(conn)?))
}

/// Rows after `seq`: how far a consumer at that cursor is behind.
pub fn pending_after(conn: &mut DbConnection, seq: i64) -> StoreResult<i64> {
    Ok(changes::table
        .filter(changes::seq.gt(seq))
        .count()
        .get_result(conn)?)
}
