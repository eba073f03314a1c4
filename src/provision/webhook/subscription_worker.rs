//! Pushes the change log to subscriptions: reads past each one's cursor,
//! posts a signed batch (format `webhook`) or one SET after another
//! (format `set`, RFC 8935), and moves the cursor only after a 2xx. A
//! failing receiver is retried with backoff; its events wait behind the
//! cursor, in order. Poll subscriptions are fetched, not pushed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use tokio::sync::watch;

use super::set::{self, Publisher};
use super::subscriptions;
use super::transport::{self, Outcome, SignedPost, shown_url};
use crate::crypto::SecretKey;
use crate::provision::client::RetryPolicy;
use crate::settings::WebhookConfig;
use crate::store::render_events;
use crate::store::{Delivery, EventFormat, Store, SubscriptionRecord, WebhookStore};

pub const CHANGES_EVENT: &str = "scim.changes";

/// Batches one subscription may send per round before the others get a turn.
const BATCHES_PER_ROUND: usize = 10;

/// A failing receiver: how often in a row, and when to try again.
struct Backoff {
    failures: u32,
    next: Instant,
}

pub struct SubscriptionWorker {
    store: Arc<dyn Store>,
    hooks: Arc<dyn WebhookStore>,
    key: Option<SecretKey>,
    client: reqwest::Client,
    policy: RetryPolicy,
    config: WebhookConfig,
    /// Ends in `/scim/v2`, for `meta.location` in the events.
    base_url: String,
    /// Signs SETs; `None` when no events key is configured.
    publisher: Option<Publisher>,
    backoff: HashMap<String, Backoff>,
}

impl SubscriptionWorker {
    pub fn new(
        store: Arc<dyn Store>,
        hooks: Arc<dyn WebhookStore>,
        key: Option<SecretKey>,
        config: &WebhookConfig,
        base_url: String,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            store,
            hooks,
            key,
            client: transport::http_client(config.timeout())?,
            policy: transport::retry_policy(config),
            config: config.clone(),
            base_url,
            publisher: None,
            backoff: HashMap::new(),
        })
    }

    /// Pushes SCIM events (format `set`) signed by `publisher`.
    pub fn with_publisher(mut self, publisher: Option<Publisher>) -> Self {
        self.publisher = publisher;
        self
    }

    /// Pushes until `stop` turns true (or its sender is gone).
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            tokio::select! {
                _ = stop.changed() => break,
                done = self.run_once() => if let Err(e) = done {
                    tracing::error!(error = %e, "subscription worker: cannot read subscriptions");
                },
            }
            tokio::select! {
                _ = stop.changed() => break,
                _ = tokio::time::sleep(self.config.subscription_poll_interval()) => {}
            }
        }
    }

    /// One round over every subscription not backing off.
    pub async fn run_once(&mut self) -> anyhow::Result<()> {
        let hooks = self.hooks.clone();
        let subs = crate::blocking::blocking::<_, anyhow::Error, _>(move || {
            Ok(hooks.list_subscriptions()?)
        })
        .await?;
        self.backoff
            .retain(|id, _| subs.iter().any(|s| &s.id == id));
        let now = Instant::now();
        for sub in subs {
            if self.backoff.get(&sub.id).is_some_and(|b| b.next > now) {
                continue;
            }
            let pushed = match (sub.format, sub.delivery) {
                (EventFormat::Webhook, _) => self.push(&sub).await,
                (EventFormat::Set, Delivery::Push) => self.push_sets(&sub).await,
                (EventFormat::Set, Delivery::Poll) => continue,
            };
            if let Err(e) = pushed {
                self.failed(&sub, &e.to_string()).await;
            }
        }
        Ok(())
    }

    /// Sends what is past the cursor, batch by batch.
    async fn push(&mut self, sub: &SubscriptionRecord) -> anyhow::Result<()> {
        let key = self.key.as_ref().ok_or_else(|| {
            anyhow::anyhow!("SCIMHUB_SECRET_KEY is not set: the subscription secret cannot be read")
        })?;
        let secret = subscriptions::secret(key, sub)?;
        let mut cursor = sub.change_cursor;
        for _ in 0..BATCHES_PER_ROUND {
            let (store, types, base) = (
                self.store.clone(),
                sub.resource_types.clone(),
                self.base_url.clone(),
            );
            let batch = self.config.subscription_batch;
            let (events, next, full) =
                crate::blocking::blocking::<_, anyhow::Error, _>(move || {
                    let rows = store.changes_after(cursor, batch)?;
                    let full = rows.len() == batch as usize;
                    let next = rows.last().map_or(cursor, |r| r.seq);
                    let wanted: Vec<_> = rows
                        .into_iter()
                        .filter(|r| types.is_empty() || types.contains(&r.resource_type))
                        .collect();
                    Ok((render_events(store.as_ref(), wanted, &base)?, next, full))
                })
                .await?;
            if next == cursor {
                break;
            }
            if !events.is_empty() {
                let body = json!({"events": events, "nextCursor": next.to_string()}).to_string();
                let delivery_id = format!("{}:{}-{}", sub.id, cursor + 1, next);
                let outcome = transport::post(
                    &self.client,
                    SignedPost {
                        url: &sub.url,
                        secret: &secret,
                        event: CHANGES_EVENT,
                        delivery_id: &delivery_id,
                        body: &body,
                    },
                )
                .await;
                match outcome {
                    Outcome::Delivered => {}
                    Outcome::Retry { reason, .. } | Outcome::Refused { reason } => {
                        anyhow::bail!(reason)
                    }
                }
            }
            let (hooks, id) = (self.hooks.clone(), sub.id.clone());
            let moved = crate::blocking::blocking::<_, anyhow::Error, _>(move || {
                Ok(hooks.advance_subscription(&id, cursor, next)?)
            })
            .await?;
            if self.backoff.remove(&sub.id).is_some() {
                tracing::info!(subscription = %sub.name, "subscription receiver recovered");
            }
            if !moved || !full {
                // Removed or moved by another instance meanwhile; or all sent.
                break;
            }
            cursor = next;
        }
        Ok(())
    }

    /// Sends the SETs past the cursor one by one, oldest first, moving the
    /// cursor after each accepted one: a receiver that fails stops the
    /// stream at that SET until it accepts it.
    async fn push_sets(&mut self, sub: &SubscriptionRecord) -> anyhow::Result<()> {
        let publisher = self.publisher.clone().ok_or_else(|| {
            anyhow::anyhow!(
                "events.signing_key_file (SCIMHUB_EVENTS_SIGNING_KEY_FILE) is not set: SCIM events cannot be signed"
            )
        })?;
        let key = self.key.as_ref().ok_or_else(|| {
            anyhow::anyhow!("SCIMHUB_SECRET_KEY is not set: the subscription secret cannot be read")
        })?;
        let secret = subscriptions::secret(key, sub)?;
        let mut cursor = sub.change_cursor;
        for _ in 0..BATCHES_PER_ROUND {
            let (store, owned, publisher) = (self.store.clone(), sub.clone(), publisher.clone());
            // A receiver that has been failing is tried with its next SET only.
            let batch = match self.backoff.contains_key(&sub.id) {
                true => 1,
                false => self.config.subscription_batch,
            };
            let (sets, last) = crate::blocking::blocking::<_, anyhow::Error, _>(move || {
                let rows = store.changes_after(cursor, batch)?;
                let last = rows.last().map(|r| r.seq);
                let mut sets = Vec::new();
                for row in rows.iter().filter(|r| owned.wants(&r.resource_type)) {
                    if let Some(jws) = publisher.issue(store.as_ref(), &owned, row)? {
                        sets.push((row.seq, jws));
                    }
                }
                Ok((sets, last))
            })
            .await?;
            let Some(last) = last else { break };
            for (seq, jws) in sets {
                match set::push::post(&self.client, &sub.url, &secret, &jws).await {
                    Outcome::Delivered => {}
                    Outcome::Retry { reason, .. } | Outcome::Refused { reason } => {
                        anyhow::bail!("SET {}: {reason}", set::jti(sub, seq))
                    }
                }
                if !self.advance(sub, cursor, seq).await? {
                    return Ok(());
                }
                cursor = seq;
            }
            // Past the rows that carried no SET for this subscription too.
            if last > cursor {
                if !self.advance(sub, cursor, last).await? {
                    return Ok(());
                }
                cursor = last;
            }
            if self.backoff.remove(&sub.id).is_some() {
                tracing::info!(subscription = %sub.name, "subscription receiver recovered");
            }
        }
        Ok(())
    }

    /// Moves the cursor compare-and-set; false when the subscription was
    /// removed or moved by another instance meanwhile.
    async fn advance(&self, sub: &SubscriptionRecord, from: i64, to: i64) -> anyhow::Result<bool> {
        let (hooks, id) = (self.hooks.clone(), sub.id.clone());
        crate::blocking::blocking::<_, anyhow::Error, _>(move || {
            Ok(hooks.advance_subscription(&id, from, to)?)
        })
        .await
    }

    async fn failed(&mut self, sub: &SubscriptionRecord, reason: &str) {
        let entry = self.backoff.entry(sub.id.clone()).or_insert(Backoff {
            failures: 0,
            next: Instant::now(),
        });
        entry.failures = entry.failures.saturating_add(1);
        let wait = self.policy.backoff(entry.failures);
        entry.next = Instant::now() + wait;
        tracing::warn!(subscription = %sub.name, url = %shown_url(&sub.url), failures = entry.failures, wait_ms = wait.as_millis() as u64, %reason, "subscription push failed; will retry");
        let (hooks, id, reason) = (self.hooks.clone(), sub.id.clone(), reason.to_string());
        let saved = crate::blocking::blocking::<_, anyhow::Error, _>(move || {
            Ok(hooks.set_subscription_error(&id, Some(&reason))?)
        })
        .await;
        if let Err(e) = saved {
            tracing::error!(subscription = %sub.name, error = %e, "subscription error not saved");
        }
    }
}
