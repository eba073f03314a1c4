//! The outbox deliverer: sends due notifications (webhooks, and e-mail for
//! `mailto:` rows), retries what may work later with capped exponential
//! backoff and jitter, and marks `dead` what was refused for good or ran
//! out of attempts.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{SubsecRound, Utc};
use tokio::sync::watch;

use super::mail::{MAILTO, Mailer};
use super::transport::{self, Outcome, SignedPost, shown_url};
use crate::provision::client::RetryPolicy;
use crate::settings::{EmailConfig, NotifyEndpoint, WebhookConfig};
use crate::store::{DeliveryRecord, DeliveryStatus, DeliveryUpdate, WebhookStore};

/// Deliveries claimed (and sent concurrently) per round.
const BATCH: u32 = 20;

pub struct Deliverer {
    store: Arc<dyn WebhookStore>,
    /// Endpoint URL → signing secret.
    secrets: HashMap<String, Vec<u8>>,
    client: reqwest::Client,
    policy: RetryPolicy,
    config: WebhookConfig,
    /// Sends `mailto:` rows; `None` when e-mail is off.
    mailer: Option<Mailer>,
}

impl Deliverer {
    /// Reads every endpoint's secret now, so a missing secret file stops
    /// start-up instead of the first notification.
    pub fn new(
        store: Arc<dyn WebhookStore>,
        endpoints: &[NotifyEndpoint],
        config: &WebhookConfig,
    ) -> anyhow::Result<Self> {
        let secrets = endpoints
            .iter()
            .map(|e| Ok((e.url.clone(), e.secret_bytes()?)))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            store,
            secrets,
            client: transport::http_client(config.timeout())?,
            policy: transport::retry_policy(config),
            config: config.clone(),
            mailer: None,
        })
    }

    /// Also mails (`[email]`, whose password is read now).
    pub fn with_email(mut self, email: &EmailConfig) -> anyhow::Result<Self> {
        self.mailer = Mailer::from_config(email, self.config.timeout())?;
        Ok(self)
    }

    /// Delivers until `stop` turns true (or its sender is gone).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let sent = tokio::select! {
                _ = stop.changed() => break,
                sent = self.run_once() => sent,
            };
            let full = match sent {
                Ok(n) => n == BATCH as usize,
                Err(e) => {
                    tracing::error!(error = %e, "notification deliverer: cannot read the outbox");
                    false
                }
            };
            if !full {
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tokio::time::sleep(self.config.poll_interval()) => {}
                }
            }
        }
    }

    /// One round: claims the due deliveries and attempts each once.
    /// Returns how many were attempted.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let now = Utc::now().trunc_subsecs(3);
        // Held long enough for one attempt; a crash mid-send retries after it.
        let lease =
            chrono::Duration::from_std(self.config.timeout() * 2)? + chrono::Duration::seconds(5);
        let store = self.store.clone();
        let due = crate::blocking::blocking(move || {
            Ok::<_, anyhow::Error>(store.claim_due_deliveries(now, now + lease, BATCH)?)
        })
        .await?;
        let count = due.len();
        futures_util::future::join_all(due.into_iter().map(|d| self.attempt(d))).await;
        Ok(count)
    }

    async fn attempt(&self, d: DeliveryRecord) {
        let outcome = if let Some(address) = d.endpoint.strip_prefix(MAILTO) {
            match &self.mailer {
                Some(mailer) => mailer.send(address, &d.id, &d.body).await,
                None => Outcome::Refused {
                    reason: "e-mail is not configured".into(),
                },
            }
        } else {
            self.post(&d).await
        };
        let update = self.next_state(&d, outcome);
        let (store, id) = (self.store.clone(), d.id.clone());
        let saved = crate::blocking::blocking(move || {
            Ok::<_, anyhow::Error>(store.update_delivery(&id, &update)?)
        })
        .await;
        if let Err(e) = saved {
            tracing::error!(delivery = %d.id, error = %e, "notification delivery state not saved");
        }
    }

    async fn post(&self, d: &DeliveryRecord) -> Outcome {
        match self.secrets.get(&d.endpoint) {
            None => Outcome::Refused {
                reason: "the endpoint is no longer configured".into(),
            },
            Some(secret) => {
                transport::post(
                    &self.client,
                    SignedPost {
                        url: &d.endpoint,
                        secret,
                        event: &d.event,
                        delivery_id: &d.id,
                        body: &d.body,
                    },
                )
                .await
            }
        }
    }

    fn next_state(&self, d: &DeliveryRecord, outcome: Outcome) -> DeliveryUpdate {
        let attempts = d.attempts.saturating_add(1);
        let now = Utc::now().trunc_subsecs(3);
        let url = shown_url(&d.endpoint);
        let dead = |reason: String| DeliveryUpdate {
            status: DeliveryStatus::Dead,
            attempts,
            next_attempt_at: now,
            last_error: Some(reason),
        };
        match outcome {
            Outcome::Delivered => {
                tracing::info!(delivery = %d.id, event = %d.event, endpoint = %url, attempts, "notification delivered");
                DeliveryUpdate {
                    status: DeliveryStatus::Delivered,
                    attempts,
                    next_attempt_at: now,
                    last_error: None,
                }
            }
            Outcome::Refused { reason } => {
                tracing::warn!(delivery = %d.id, event = %d.event, endpoint = %url, attempts, %reason, "notification refused for good; delivery is dead");
                dead(reason)
            }
            Outcome::Retry { reason, .. } if attempts >= self.policy.max_attempts as i32 => {
                tracing::warn!(delivery = %d.id, event = %d.event, endpoint = %url, attempts, %reason, "notification out of attempts; delivery is dead");
                dead(reason)
            }
            Outcome::Retry {
                reason,
                retry_after,
            } => {
                let wait = retry_after
                    .map(|w| w.min(self.policy.max_delay))
                    .unwrap_or_else(|| self.policy.backoff(attempts as u32));
                tracing::warn!(delivery = %d.id, event = %d.event, endpoint = %url, attempts, wait_ms = wait.as_millis() as u64, %reason, "notification failed; will retry");
                DeliveryUpdate {
                    status: DeliveryStatus::Pending,
                    attempts,
                    next_attempt_at: now
                        + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1)),
                    last_error: Some(reason),
                }
            }
        }
    }
}
