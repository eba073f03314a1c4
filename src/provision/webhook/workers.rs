//! The two background tasks `serve` runs: the notification deliverer and
//! the subscription pusher, stopped together on shutdown.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::deliverer::Deliverer;
use super::set::Publisher;
use super::subscription_worker::SubscriptionWorker;
use crate::crypto::SecretKey;
use crate::settings::{EmailConfig, NotifyEndpoint, WebhookConfig};
use crate::store::{Store, WebhookStore};

pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Spawns both tasks on the current runtime: notifications go to
    /// `notify` and `email`; change events name resources under
    /// `events_base_url`; SCIM events are signed by `publisher`.
    pub fn start(
        store: Arc<dyn Store>,
        hooks: Arc<dyn WebhookStore>,
        secret_key: Option<SecretKey>,
        channels: (&[NotifyEndpoint], &EmailConfig),
        webhooks: &WebhookConfig,
        events: (String, Option<Publisher>),
    ) -> anyhow::Result<Self> {
        let (notify, email) = channels;
        let (events_base_url, publisher) = events;
        let deliverer = Deliverer::new(hooks.clone(), notify, webhooks)?.with_email(email)?;
        let pusher = SubscriptionWorker::new(store, hooks, secret_key, webhooks, events_base_url)?
            .with_publisher(publisher);
        let (stop, stopped) = watch::channel(false);
        let tasks = vec![
            tokio::spawn(deliverer.run(stopped.clone())),
            tokio::spawn(pusher.run(stopped)),
        ];
        Ok(Self { stop, tasks })
    }

    /// Asks both tasks to stop and waits for them (an attempt in flight is
    /// abandoned; its row is retried after its lease).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "webhook worker ended abnormally");
            }
        }
    }
}
