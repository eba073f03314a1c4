//! The downstream pull API: ordered change events since a cursor, for apps
//! that pull instead of being pushed to. Upserts carry the resource as it is
//! now; deletions are tombstones. A cursor older than the retained log is 410.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use serde_json::{Value, json};

use super::blocking;
use crate::error::AppError;
use crate::scim::ScimError;
use crate::store::render_events;
use crate::store::{Actor, Pruned, Store};

pub const CHANGE_LIST: &str = "urn:scimhub:api:messages:1.0:ChangeList";

#[derive(Clone)]
pub struct ChangeFeed {
    store: Arc<dyn Store>,
    max_count: u64,
}

impl ChangeFeed {
    pub fn new(store: Arc<dyn Store>, max_count: u64) -> Self {
        Self { store, max_count }
    }

    /// `since`: a `nextCursor` from an earlier pull, `latest` (only new
    /// changes from now on) or absent (from the beginning of the log).
    pub async fn pull(
        &self,
        since: Option<&str>,
        count: Option<&str>,
        base_url: String,
    ) -> Result<Value, AppError> {
        let count = match count.map(str::trim) {
            None | Some("") => 100.min(self.max_count),
            Some(c) => c
                .parse::<u64>()
                .map_err(|_| ScimError::invalid_value("count must be a whole number"))?
                .min(self.max_count),
        };
        let since = since.map(str::trim).map(str::to_string);
        let store = self.store.clone();
        blocking(move || {
            let from = match since.as_deref() {
                None | Some("") => 0,
                Some("latest") => store.latest_change()?,
                Some(s) => s
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| ScimError::invalid_value("since must be a nextCursor from an earlier pull, or latest"))?,
            };
            if from < store.changes_pruned_through()? {
                return Err(ScimError::new(
                    410,
                    None,
                    "changes after this cursor are no longer kept: read /Users and /Groups in full, \
                     then continue with since=latest",
                )
                .into());
            }
            let rows = store.changes_after(from, u32::try_from(count).unwrap_or(u32::MAX))?;
            let next = rows.last().map_or(from, |r| r.seq);
            let events = render_events(store.as_ref(), rows, &base_url)?;
            Ok(json!({
                "schemas": [CHANGE_LIST],
                "changes": events,
                "nextCursor": next.to_string(),
            }))
        })
        .await
    }

    /// Removes change-log rows older than `before` (see `Store::prune_changes`);
    /// an audit row says how many and for whom some were kept.
    pub async fn prune(
        &self,
        actor: &Actor,
        before: DateTime<Utc>,
        force: bool,
    ) -> Result<Pruned, AppError> {
        let store = self.store.clone();
        let pruned = blocking(move || Ok(store.prune_changes(before, force)?)).await?;
        let mut detail = format!(
            "{} change-log rows before {}",
            pruned.removed,
            crate::scim::render::format_time(&before)
        );
        if force {
            detail.push_str(" (forced)");
        } else if !pruned.kept_for.is_empty() {
            detail.push_str(&format!(
                "; kept unread rows of {}",
                pruned.kept_for.join(", ")
            ));
        }
        super::audit::record(&self.store, "changes.prune", actor, detail).await?;
        Ok(pruned)
    }
}
