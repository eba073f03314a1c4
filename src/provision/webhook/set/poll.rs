//! Poll delivery (RFC 8936): the receiver acknowledges SETs (`ack`, or
//! `setErrs` for ones it could not process — also acknowledged) and gets
//! the next unacknowledged ones, oldest change first. A SET stays
//! available until acknowledged; the subscription's cursor moves over the
//! acknowledged prefix and acknowledgements past it wait in `event_acks`.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Publisher, SetError, jti, seq_of};
use crate::store::{Store, StoreError, SubscriptionRecord, WebhookStore};

/// Pages of the change log one poll reads at most while looking for SETs.
const PAGES_PER_POLL: usize = 10;

/// A poll request (RFC 8936 §2.4); anything else in it is refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PollRequest {
    #[serde(default)]
    pub ack: Vec<String>,
    #[serde(default)]
    pub set_errs: Map<String, Value>,
    #[serde(default)]
    pub max_events: Option<u32>,
    #[serde(default)]
    pub return_immediately: bool,
}

/// A receiver's report of a SET it could not process.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetErr {
    pub err: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// What a poll acknowledges, checked before anything is stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acknowledged {
    pub seqs: Vec<i64>,
    /// (jti, report), in request order.
    pub errors: Vec<(String, SetErr)>,
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The request is wrong (RFC 8935 `invalid_request`): nothing was stored.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Set(#[from] SetError),
}

impl From<StoreError> for PollError {
    fn from(e: StoreError) -> Self {
        PollError::Set(SetError::Store(e))
    }
}

/// Checks every `ack` and `setErrs` jti: issued to this subscription for
/// a change that exists (`latest` is the newest change).
pub fn check(
    sub: &SubscriptionRecord,
    request: &PollRequest,
    latest: i64,
) -> Result<Acknowledged, PollError> {
    let seq = |jti: &str| {
        seq_of(sub, jti)
            .filter(|s| *s <= latest)
            .ok_or_else(|| PollError::Invalid(format!("{jti:?} is not a jti of this stream")))
    };
    let mut out = Acknowledged::default();
    for jti in &request.ack {
        out.seqs.push(seq(jti)?);
    }
    for (jti, report) in &request.set_errs {
        out.seqs.push(seq(jti)?);
        let report: SetErr = serde_json::from_value(report.clone()).map_err(|e| {
            PollError::Invalid(format!(
                "setErrs {jti:?} must be {{\"err\": …, \"description\": …}}: {e}"
            ))
        })?;
        out.errors.push((jti.clone(), report));
    }
    Ok(out)
}

/// Up to `max` SETs past the acknowledged prefix, oldest first, and
/// whether more wait; moves the cursor over what is acknowledged (or not
/// for this subscription) at the front.
pub fn fetch(
    store: &dyn Store,
    hooks: &dyn WebhookStore,
    publisher: &Publisher,
    sub: &SubscriptionRecord,
    max: u32,
    page: u32,
) -> Result<(Vec<(String, String)>, bool), PollError> {
    let mut sets = Vec::new();
    let mut more = false;
    let (mut prefix, mut after) = (sub.change_cursor, sub.change_cursor);
    let mut in_prefix = true;
    // Read to the end of the log (else there may be more than was looked at).
    let mut read_all = false;
    'pages: for _ in 0..PAGES_PER_POLL {
        let rows = store.changes_after(after, page)?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            read_all = true;
            break;
        };
        let acked: HashSet<i64> = hooks
            .acked_events(&sub.id, after, last)?
            .into_iter()
            .collect();
        for row in &rows {
            let owed = sub.wants(&row.resource_type)
                && !acked.contains(&row.seq)
                && super::event::issues(&row.operation);
            if !owed {
                if in_prefix {
                    prefix = row.seq;
                }
                continue;
            }
            in_prefix = false;
            if sets.len() >= max as usize {
                more = true;
                break 'pages;
            }
            if let Some(jws) = publisher.issue(store, sub, row)? {
                sets.push((jti(sub, row.seq), jws));
            }
        }
        after = last;
        if rows.len() < page as usize {
            read_all = true;
            break;
        }
    }
    more = more || !read_all;
    if prefix > sub.change_cursor {
        // Compare-and-set: a concurrent poll that moved it already wins.
        hooks.advance_subscription(&sub.id, sub.change_cursor, prefix)?;
    }
    Ok((sets, more))
}
