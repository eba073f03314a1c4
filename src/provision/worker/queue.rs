//! The failure queue's policy: transient failures retry with capped
//! exponential backoff and jitter; the target's 4xx refusals are permanent
//! and wait for an admin. One object's entry never blocks another.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rand::Rng;

use super::push::PushFailure;
use crate::provision::runs::{SyncError, blocking};
use crate::scim::ResourceKind;
use crate::settings::SyncWorkerConfig;
use crate::store::{QueueRecord, SyncStore};

pub const RETRYING: &str = "retrying";
pub const PERMANENT: &str = "permanent";

/// Delay before attempt `attempts + 1`: base·2^(attempts-1), capped, with
/// the upper half jittered so many failures do not retry in step.
pub fn backoff(attempts: i32, config: &SyncWorkerConfig) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(30);
    let full = config
        .retry_base_secs
        .saturating_mul(1u64 << exp)
        .min(config.retry_cap_secs)
        .max(1);
    let millis = full * 1000;
    let jittered = millis / 2 + rand::rng().random_range(0..=millis / 2);
    Duration::from_millis(jittered)
}

/// Records a failed write (attempts counted across retries).
pub async fn record(
    sync: &Arc<dyn SyncStore>,
    target_id: &str,
    kind: ResourceKind,
    local_id: &str,
    failure: &PushFailure,
    config: &SyncWorkerConfig,
) -> Result<QueueRecord, SyncError> {
    let (sync, target, local) = (sync.clone(), target_id.to_string(), local_id.to_string());
    let permanent = failure.error.is_permanent();
    let operation = failure.operation.to_string();
    let payload = failure.payload.as_ref().map(|p| p.to_string());
    let status = failure.error.status().map(i32::from);
    let detail = failure.error.to_string();
    let config = config.clone();
    blocking(move || {
        let now = Utc::now();
        let previous = sync.queue_find(&target, kind.as_str(), &local)?;
        let attempts = previous.as_ref().map_or(0, |p| p.attempts) + 1;
        let wait = chrono::Duration::from_std(backoff(attempts, &config))
            .unwrap_or(chrono::Duration::hours(1));
        let entry = QueueRecord {
            id: previous
                .as_ref()
                .map_or_else(|| uuid::Uuid::new_v4().to_string(), |p| p.id.clone()),
            target_id: target.clone(),
            resource_type: kind.as_str().to_string(),
            local_id: local.clone(),
            operation,
            payload,
            status: if permanent { PERMANENT } else { RETRYING }.to_string(),
            attempts,
            next_attempt: now + wait,
            last_status: status,
            last_error: detail,
            created: previous.as_ref().map_or(now, |p| p.created),
            updated: now,
        };
        sync.queue_put(&entry)?;
        Ok(entry)
    })
    .await
}

/// Clears an object's entry after a successful write.
pub async fn resolve(
    sync: &Arc<dyn SyncStore>,
    target_id: &str,
    kind: ResourceKind,
    local_id: &str,
) -> Result<(), SyncError> {
    let (sync, target, local) = (sync.clone(), target_id.to_string(), local_id.to_string());
    blocking(move || {
        sync.queue_remove(&target, kind.as_str(), &local)?;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let config = SyncWorkerConfig {
            retry_base_secs: 2,
            retry_cap_secs: 60,
            ..SyncWorkerConfig::default()
        };
        for (attempts, full) in [(1, 2), (2, 4), (3, 8), (6, 60), (40, 60)] {
            let d = backoff(attempts, &config).as_millis() as u64;
            assert!(d >= full * 500 && d <= full * 1000, "{attempts}: {d}");
        }
    }
}
