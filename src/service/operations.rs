//! What an operator's metrics scrape reads from the store: the sync
//! center per target, the notification outbox and the database pool.

use std::sync::Arc;

use super::blocking;
use crate::error::AppError;
use crate::metrics::{Snapshot, TargetGauges};
use crate::provision::target_status;
use crate::store::{Store, SyncStore, WebhookStore};

#[derive(Clone)]
pub struct Operations {
    store: Arc<dyn Store>,
    sync: Arc<dyn SyncStore>,
    hooks: Arc<dyn WebhookStore>,
}

impl Operations {
    pub fn new(
        store: Arc<dyn Store>,
        sync: Arc<dyn SyncStore>,
        hooks: Arc<dyn WebhookStore>,
    ) -> Self {
        Self { store, sync, hooks }
    }

    pub async fn snapshot(&self) -> Result<Snapshot, AppError> {
        let (store, sync, hooks) = (self.store.clone(), self.sync.clone(), self.hooks.clone());
        blocking(move || {
            let (pool_open, pool_idle, pool_waits) = store.pool_connections();
            let targets = target_status::list(sync.as_ref())?;
            let name_of = |id: &str| {
                sync.find_target_by_id(id)
                    .ok()
                    .flatten()
                    .map_or_else(String::new, |t| t.name)
            };
            let runs = sync
                .run_counts()?
                .into_iter()
                .map(|(id, status, n)| (name_of(&id), status, n))
                .collect();
            Ok(Snapshot {
                pool_open,
                pool_idle,
                pool_waits,
                outbox: hooks.delivery_counts()?,
                targets: targets
                    .into_iter()
                    .map(|t| TargetGauges {
                        name: t.target.name,
                        state: t.status.state,
                        queue_depth: t.status.queue_depth,
                        lag: t.status.lag,
                    })
                    .collect(),
                runs,
            })
        })
        .await
    }
}
