//! The failure queue for people: list, retry and discard entries — the
//! same use cases behind `scimhub failures …` and the admin API.

use std::collections::HashMap;

use serde::Serialize;

use super::target::TargetError;
use crate::scim::render::format_time;
use crate::store::{QueueRecord, SyncStore};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureView {
    pub id: String,
    pub target: String,
    pub resource_type: String,
    pub local_id: String,
    pub operation: String,
    /// `retrying` (automatic) or `permanent` (waits for an admin).
    pub status: String,
    pub attempts: i32,
    pub next_attempt: String,
    /// The target's HTTP status on the last attempt, when it answered.
    pub last_status: Option<i32>,
    pub last_error: String,
    /// What was sent last (JSON), for diagnosis; retries send the current state.
    pub payload: Option<serde_json::Value>,
    pub created: String,
}

fn internal(e: crate::store::StoreError) -> TargetError {
    TargetError::Internal(e.into())
}

fn target_id(sync: &dyn SyncStore, name: Option<&str>) -> Result<Option<String>, TargetError> {
    name.map(|n| {
        sync.find_target(n)
            .map_err(internal)?
            .map(|t| t.id)
            .ok_or_else(|| TargetError::Unknown(n.to_string()))
    })
    .transpose()
}

fn view(e: QueueRecord, names: &HashMap<String, String>) -> FailureView {
    FailureView {
        target: names.get(&e.target_id).cloned().unwrap_or_default(),
        next_attempt: format_time(&e.next_attempt),
        created: format_time(&e.created),
        payload: e
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok()),
        id: e.id,
        resource_type: e.resource_type,
        local_id: e.local_id,
        operation: e.operation,
        status: e.status,
        attempts: e.attempts,
        last_status: e.last_status,
        last_error: e.last_error,
    }
}

/// Entries of one target (by name) or of all, oldest first.
pub fn list(sync: &dyn SyncStore, target: Option<&str>) -> Result<Vec<FailureView>, TargetError> {
    let id = target_id(sync, target)?;
    let names: HashMap<String, String> = sync
        .list_targets()
        .map_err(internal)?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    Ok(sync
        .queue_list(id.as_deref())
        .map_err(internal)?
        .into_iter()
        .map(|e| view(e, &names))
        .collect())
}

/// Makes one entry due now; `Unknown` when there is none.
pub fn retry_one(sync: &dyn SyncStore, id: &str) -> Result<(), TargetError> {
    if sync.queue_get(id).map_err(internal)?.is_none() {
        return Err(TargetError::Missing(format!("no queued failure {id:?}")));
    }
    sync.queue_retry(Some(id), None).map_err(internal)?;
    tracing::info!(target: "audit", id, "queued failure scheduled for retry by an admin");
    Ok(())
}

/// Makes every entry (of one target, or of all) due now; how many.
pub fn retry_all(sync: &dyn SyncStore, target: Option<&str>) -> Result<usize, TargetError> {
    let id = target_id(sync, target)?;
    let n = sync.queue_retry(None, id.as_deref()).map_err(internal)?;
    tracing::info!(target: "audit", count = n, target, "queued failures scheduled for retry by an admin");
    Ok(n)
}

/// Forgets an entry: the object syncs again when it next changes.
pub fn discard(sync: &dyn SyncStore, id: &str) -> Result<(), TargetError> {
    if !sync.queue_remove_id(id).map_err(internal)? {
        return Err(TargetError::Missing(format!("no queued failure {id:?}")));
    }
    tracing::info!(target: "audit", id, "queued failure discarded by an admin");
    Ok(())
}
