//! The two background tasks `serve` runs: the notification deliverer and
//! the subscription pusher, stopped together on shutdown.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::deliverer::Deliverer;
use super::subscription_worker::SubscriptionWorker;
use crate::config::Config;
use crate::store::{Store, WebhookStore};

pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Spawns both tasks on the current runtime.
    pub fn start(
        store: Arc<dyn Store>,
        hooks: Arc<dyn WebhookStore>,
        config: &Config,
    ) -> anyhow::Result<Self> {
        let deliverer = Deliverer::for_config(hooks.clone(), config)?;
        let pusher = SubscriptionWorker::new(
            store,
            hooks,
            config.secret_key.clone(),
            &config.webhooks,
            events_base_url(config),
        )?;
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

/// Where event resources say they live: the public URL, else the listen address.
fn events_base_url(config: &Config) -> String {
    let root = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    format!("{}/scim/v2", root.trim_end_matches('/'))
}
