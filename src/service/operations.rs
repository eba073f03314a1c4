//! What an operator's metrics scrape reads from the store: the sync
//! center per target, the notification outbox and the database pool.

use std::collections::HashMap;
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
            let records = sync.list_targets()?;
            let names: HashMap<&str, &str> = records
                .iter()
                .map(|r| (r.id.as_str(), r.name.as_str()))
                .collect();
            let runs = sync
                .run_counts()?
                .into_iter()
                .map(|(id, status, n)| {
                    let name = names.get(id.as_str()).copied().unwrap_or_default();
                    (name.to_string(), status, n)
                })
                .collect();
            let targets = records
                .iter()
                .map(|r| target_status::status(sync.as_ref(), r))
                .collect::<Result<Vec<_>, _>>()?;
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
