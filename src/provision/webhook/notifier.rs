//! `Notifier`: puts one outbox row per interested endpoint; the deliverer
//! sends them. Enqueueing never fails the caller: errors are logged.

use std::sync::Arc;

use chrono::{SubsecRound, Utc};

use super::notification::Notification;
use crate::config::NotifyEndpoint;
use crate::provision::sync::RunReport;
use crate::store::{DeliveryRecord, DeliveryStatus, WebhookStore};

#[derive(Clone)]
pub struct Notifier {
    store: Arc<dyn WebhookStore>,
    endpoints: Arc<Vec<NotifyEndpoint>>,
}

impl Notifier {
    pub fn new(store: Arc<dyn WebhookStore>, endpoints: Vec<NotifyEndpoint>) -> Self {
        Self {
            store,
            endpoints: Arc::new(endpoints),
        }
    }

    /// Enqueues `event` for every endpoint that wants it. Blocking (a
    /// database write): from async code use `notify_async`.
    pub fn notify(&self, event: Notification) {
        let now = Utc::now().trunc_subsecs(3);
        let event_id = uuid::Uuid::new_v4().to_string();
        let body = event.body(&event_id, now).to_string();
        let kind = event.event_type();
        for endpoint in self.endpoints.iter().filter(|e| e.wants(kind)) {
            let delivery = DeliveryRecord {
                id: uuid::Uuid::new_v4().to_string(),
                endpoint: endpoint.url.clone(),
                event: kind.to_string(),
                body: body.clone(),
                attempts: 0,
                next_attempt_at: now,
                last_error: None,
                status: DeliveryStatus::Pending,
                created: now,
            };
            match self.store.enqueue_delivery(&delivery) {
                Ok(()) => {
                    tracing::debug!(event = kind, delivery = %delivery.id, "notification queued")
                }
                Err(e) => {
                    tracing::error!(event = kind, error = %e, "notification could not be queued")
                }
            }
        }
    }

    pub async fn notify_async(&self, event: Notification) {
        let notifier = self.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || notifier.notify(event)).await {
            tracing::error!(error = %e, "notification task failed");
        }
    }

    /// Notifies a run that ended failed, with failures or held by the guard.
    pub async fn sync_run_ended(&self, report: &RunReport) {
        if let Some(event) = Notification::for_run(report) {
            self.notify_async(event).await;
        }
    }
}
