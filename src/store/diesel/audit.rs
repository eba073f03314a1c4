//! Reading the audit trail.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::{DbConnection, MultiBackend};
use super::schema::audit_events;
use crate::store::{AuditQuery, AuditRecord, StoreResult};

type Row = (
    i64,
    NaiveDateTime,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub fn read(conn: &mut DbConnection, q: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
    let mut query = audit_events::table.into_boxed::<MultiBackend>();
    if let Some(since) = q.since {
        query = query.filter(audit_events::at.ge(since.naive_utc()));
    }
    if let Some(until) = q.until {
        query = query.filter(audit_events::at.lt(until.naive_utc()));
    }
    if let Some(prefix) = &q.event_prefix {
        let escaped = prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query = query.filter(audit_events::event.like(format!("{escaped}%")).escape('\\'));
    }
    if let Some(actor) = &q.actor {
        query = query.filter(audit_events::actor.eq(actor.clone()));
    }
    if let Some(id) = &q.resource_id {
        query = query.filter(audit_events::resource_id.eq(id.clone()));
    }
    let rows: Vec<Row> = query
        .order(audit_events::seq.desc())
        .limit(i64::from(q.limit.max(1)))
        .select((
            audit_events::seq,
            audit_events::at,
            audit_events::event,
            audit_events::actor,
            audit_events::request_id,
            audit_events::source,
            audit_events::resource_type,
            audit_events::resource_id,
            audit_events::attributes,
            audit_events::detail,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                seq,
                at,
                event,
                actor,
                request_id,
                source,
                resource_type,
                resource_id,
                attributes,
                detail,
            )| AuditRecord {
                seq,
                at: at.and_utc(),
                event,
                actor,
                request_id,
                source,
                resource_type,
                resource_id,
                attributes: attributes
                    .map(|a| {
                        a.split(',')
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
                detail,
            },
        )
        .collect())
}
