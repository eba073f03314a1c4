//! `Notifier`: puts one outbox row per interested endpoint (webhook URL or
//! e-mail recipient); the deliverer sends them. Enqueueing never fails the
//! caller: errors are logged.

use std::sync::Arc;

use chrono::{SubsecRound, Utc};

use super::mail::{self, ApiBase};
use super::notification::Notification;
use crate::provision::runs::RunReport;
use crate::settings::{EmailConfig, NotifyEndpoint};
use crate::store::{DeliveryRecord, DeliveryStatus, WebhookStore};

#[derive(Clone)]
pub struct Notifier {
    store: Arc<dyn WebhookStore>,
    endpoints: Arc<Vec<NotifyEndpoint>>,
    mail: Option<Arc<MailRoute>>,
}

/// Who gets which events by mail, and the admin API base the messages name.
struct MailRoute {
    /// `mailto:` endpoints, one per recipient.
    recipients: Vec<String>,
    config: EmailConfig,
    api: ApiBase,
}

impl Notifier {
    /// Webhooks only.
    pub fn new(store: Arc<dyn WebhookStore>, endpoints: Vec<NotifyEndpoint>) -> Self {
        Self {
            store,
            endpoints: Arc::new(endpoints),
            mail: None,
        }
    }

    /// Also mails the events `email` wants to its recipients (nothing when
    /// e-mail is off).
    pub fn with_email(mut self, email: &EmailConfig, public_url: Option<&str>) -> Self {
        if !email.enabled() {
            return self;
        }
        // The addresses were checked when the configuration was loaded.
        let recipients = email
            .recipients()
            .unwrap_or_default()
            .iter()
            .map(mail::transport::endpoint)
            .collect();
        self.mail = Some(Arc::new(MailRoute {
            recipients,
            config: email.clone(),
            api: ApiBase::new(public_url),
        }));
        self
    }

    /// Enqueues `event` for every endpoint and recipient that wants it.
    /// Blocking (a database write): from async code use `notify_async`.
    pub fn notify(&self, event: Notification) {
        let now = Utc::now().trunc_subsecs(3);
        let event_id = uuid::Uuid::new_v4().to_string();
        let kind = event.event_type();
        let mut rows: Vec<(String, String)> = Vec::new();
        let body = event.body(&event_id, now).to_string();
        for endpoint in self.endpoints.iter().filter(|e| e.wants(kind)) {
            rows.push((endpoint.url.clone(), body.clone()));
        }
        if let Some(route) = self.mail.as_ref().filter(|r| r.config.wants(kind)) {
            let text = mail::message::render(&event, &event_id, now, &route.api);
            match serde_json::to_string(&text) {
                Ok(message) => rows.extend(
                    route
                        .recipients
                        .iter()
                        .map(|to| (to.clone(), message.clone())),
                ),
                Err(e) => tracing::error!(event = kind, error = %e, "e-mail could not be rendered"),
            }
        }
        for (endpoint, body) in rows {
            let delivery = DeliveryRecord {
                id: uuid::Uuid::new_v4().to_string(),
                endpoint,
                event: kind.to_string(),
                body,
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
        let sent = crate::blocking::blocking(move || {
            notifier.notify(event);
            Ok::<_, crate::blocking::TaskFailed>(())
        })
        .await;
        if let Err(e) = sent {
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
