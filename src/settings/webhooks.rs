//! Webhook settings: notification endpoints (`[[notify]]`) and the
//! delivery timing (`[webhooks]`, `SCIMHUB_WEBHOOK_*`).

use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

/// A URL that receives operator notifications.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyEndpoint {
    pub url: String,
    /// The signing secret itself…
    #[serde(default)]
    pub secret: Option<String>,
    /// …or a file holding it (a mounted secret).
    #[serde(default)]
    pub secret_file: Option<String>,
    /// Event types to send (e.g. `sync.run.failed`); empty is all.
    #[serde(default)]
    pub events: Vec<String>,
}

impl std::fmt::Debug for NotifyEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyEndpoint")
            .field("url", &self.url)
            .field("secret_file", &self.secret_file)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl NotifyEndpoint {
    /// The signing secret, read from the file when configured that way.
    pub fn secret_bytes(&self) -> anyhow::Result<Vec<u8>> {
        let secret = match (&self.secret, &self.secret_file) {
            (Some(s), None) => s.clone(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .with_context(|| {
                    format!(
                        "cannot read the secret_file of notify endpoint {}",
                        self.url
                    )
                })?
                .trim()
                .to_string(),
            _ => bail!(
                "notify endpoint {}: set exactly one of secret and secret_file",
                self.url
            ),
        };
        if secret.is_empty() {
            bail!("notify endpoint {}: the secret is empty", self.url);
        }
        Ok(secret.into_bytes())
    }

    /// Whether this endpoint wants `event`.
    pub fn wants(&self, event: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|e| e == event)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// How often the deliverer looks for due notifications.
    pub poll_interval_ms: u64,
    /// Attempts per notification, the first included; then it is `dead`.
    pub max_attempts: u32,
    /// The first retry waits up to this long; the window doubles per attempt…
    pub retry_base_ms: u64,
    /// …up to this cap (also for subscriptions and `Retry-After`).
    pub retry_max_ms: u64,
    /// Per request: connecting, sending and reading the answer.
    pub timeout_ms: u64,
    /// How often subscriptions look for new changes.
    pub subscription_poll_interval_ms: u64,
    /// Most change events in one subscription request.
    pub subscription_batch: u32,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            poll_interval_ms: 1000,
            max_attempts: 12,
            retry_base_ms: 1000,
            retry_max_ms: 3_600_000,
            timeout_ms: 10_000,
            subscription_poll_interval_ms: 1000,
            subscription_batch: 100,
        }
    }
}

impl WebhookConfig {
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    pub fn subscription_poll_interval(&self) -> Duration {
        Duration::from_millis(self.subscription_poll_interval_ms)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}
