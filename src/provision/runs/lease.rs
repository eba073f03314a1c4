//! Runs of one target never overlap, across every instance on the
//! database: a run holds the `run:{target}` lease, renewed while it works;
//! a crashed run's lease expires.

use std::sync::Arc;
use std::time::Duration;

use super::{SyncError, blocking};
use crate::store::SyncStore;

pub struct RunLease {
    sync: Arc<dyn SyncStore>,
    name: String,
    holder: String,
    renewer: tokio::task::JoinHandle<()>,
}

impl RunLease {
    pub async fn acquire(
        sync: Arc<dyn SyncStore>,
        target_id: &str,
        target_name: &str,
        holder: &str,
        lease: Duration,
    ) -> Result<Self, SyncError> {
        let name = format!("run:{target_id}");
        let ttl = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
        let renew_every = (lease / 3).max(Duration::from_millis(100));
        let (s, n, h) = (sync.clone(), name.clone(), holder.to_string());
        if !blocking(move || Ok(s.try_lease(&n, &h, ttl)?)).await? {
            return Err(SyncError::Conflict(format!(
                "a sync run of target {target_name:?} is already in progress"
            )));
        }
        let (s, n, h) = (sync.clone(), name.clone(), holder.to_string());
        let renewer = tokio::spawn(async move {
            loop {
                tokio::time::sleep(renew_every).await;
                let (s, n, h) = (s.clone(), n.clone(), h.clone());
                let _ = blocking(move || Ok(s.try_lease(&n, &h, ttl)?)).await;
            }
        });
        Ok(Self {
            sync,
            name,
            holder: holder.to_string(),
            renewer,
        })
    }

    pub async fn release(self) {
        self.renewer.abort();
        let (s, n, h) = (self.sync.clone(), self.name.clone(), self.holder.clone());
        let _ = blocking(move || Ok(s.release_lease(&n, &h)?)).await;
    }
}

impl Drop for RunLease {
    /// An abandoned lease stops being renewed and expires.
    fn drop(&mut self) {
        self.renewer.abort();
    }
}
