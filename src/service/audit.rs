//! Durable audit rows for admin actions, written the same way whichever
//! door (admin API or CLI) the action came through.

use std::sync::Arc;

use super::blocking;
use crate::error::AppError;
use crate::store::{Actor, AuditEvent, Store};
use crate::telemetry::AUDIT;

/// Logs one audit event and stores it.
pub async fn record(
    store: &Arc<dyn Store>,
    event: &str,
    actor: &Actor,
    detail: String,
) -> Result<(), AppError> {
    tracing::info!(target: AUDIT, operation = event, actor = %actor.name, detail = %detail);
    let store = store.clone();
    let event = AuditEvent {
        event: event.to_string(),
        actor: actor.clone(),
        detail: Some(detail),
    };
    blocking(move || Ok(store.record_audit(event)?)).await
}

/// Audit rows, newest first (a read: nothing is recorded).
pub async fn list(
    store: &Arc<dyn Store>,
    query: crate::store::AuditQuery,
) -> Result<Vec<crate::store::AuditRecord>, AppError> {
    let store = store.clone();
    blocking(move || Ok(store.audit(&query)?)).await
}
