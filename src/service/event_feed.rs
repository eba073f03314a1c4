//! SCIM events for the HTTP front end: the public signing key (JWKS) and
//! the poll endpoint (RFC 8936), authenticated by the subscription's own
//! secret as a bearer token (compared in constant time, never logged).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

use super::blocking;
use crate::config::Config;
use crate::crypto::SecretKey;
use crate::error::{AppError, AuthError};
use crate::provision::webhook::set::poll::{self, PollError, PollRequest};
use crate::provision::webhook::set::{Publisher, SetSigner};
use crate::provision::webhook::subscriptions;
use crate::scim::ScimError;
use crate::store::{Delivery, EventFormat, Store, SubscriptionRecord, WebhookStore};
use crate::telemetry::AUDIT;

/// Why a poll got no SETs: a request error in RFC 8935's shape (400
/// `{"err", "description"}`) or anything else the API answers.
#[derive(Debug, thiserror::Error)]
pub enum PollFailure {
    #[error("{0}")]
    InvalidRequest(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<PollError> for PollFailure {
    fn from(e: PollError) -> Self {
        match e {
            PollError::Invalid(m) => PollFailure::InvalidRequest(m),
            PollError::Set(e) => PollFailure::App(AppError::Internal(e.into())),
        }
    }
}

#[derive(Clone)]
pub struct EventFeed {
    store: Arc<dyn Store>,
    hooks: Arc<dyn WebhookStore>,
    key: Option<SecretKey>,
    publisher: Option<Publisher>,
    /// Most SETs in one answer (`webhooks.subscription_batch`).
    batch: u32,
    /// How long a poll may wait for a SET, and how often it looks.
    wait: Duration,
    interval: Duration,
}

impl EventFeed {
    /// Reads the signing key (a bad one fails start-up, naming the key).
    pub fn new(
        store: Arc<dyn Store>,
        hooks: Arc<dyn WebhookStore>,
        config: &Config,
    ) -> anyhow::Result<Self> {
        let publisher = SetSigner::load(&config.events)?
            .map(|signer| Publisher::new(signer, config.events_issuer(), &config.public_root()));
        Ok(Self {
            store,
            hooks,
            key: config.secret_key.clone(),
            publisher,
            batch: config.webhooks.subscription_batch,
            wait: config.events.poll_wait(),
            interval: config.webhooks.subscription_poll_interval(),
        })
    }

    /// What signs SETs, for the subscription worker; `None` without a key.
    pub fn publisher(&self) -> Option<Publisher> {
        self.publisher.clone()
    }

    /// The public signing key as a JWK Set (no keys without one).
    pub fn jwks(&self) -> Value {
        match &self.publisher {
            Some(p) => {
                serde_json::to_value(p.signer().jwks()).unwrap_or_else(|_| json!({"keys": []}))
            }
            None => json!({"keys": []}),
        }
    }

    /// One poll by `sub`'s receiver (see `authenticate`): records what it
    /// acknowledges and answers the next SETs (waiting for one up to
    /// `events.poll_wait_ms` unless `returnImmediately`).
    pub async fn poll(&self, sub: SubscriptionRecord, body: &[u8]) -> Result<Value, PollFailure> {
        let publisher = self.publisher.clone().ok_or_else(|| {
            AppError::from(ScimError::new(
                503,
                None,
                "SCIM events cannot be signed: events.signing_key_file is not set",
            ))
        })?;
        if sub.format != EventFormat::Set || sub.delivery != Delivery::Poll {
            return Err(PollFailure::InvalidRequest(format!(
                "subscription {:?} is not polled: its events are pushed to its URL",
                sub.name
            )));
        }
        let request: PollRequest = serde_json::from_slice(body)
            .map_err(|e| PollFailure::InvalidRequest(format!("not a poll request: {e}")))?;
        let max = request.max_events.unwrap_or(self.batch).min(self.batch);
        let (store, hooks, owned) = (self.store.clone(), self.hooks.clone(), sub.clone());
        let acknowledged = blocking(move || -> Result<_, AppError> {
            let checked = poll::check(&owned, &request, store.latest_change()?);
            let acknowledged = match checked {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            hooks.ack_events(&owned.id, &acknowledged.seqs)?;
            Ok(Ok((acknowledged, request.return_immediately)))
        })
        .await??;
        let (acknowledged, return_immediately) = acknowledged;
        let deadline = Instant::now() + self.wait;
        loop {
            let (store, hooks, publisher, id) = (
                self.store.clone(),
                self.hooks.clone(),
                publisher.clone(),
                sub.id.clone(),
            );
            let page = self.batch;
            let fetched = blocking(move || -> Result<_, AppError> {
                // Read again: the cursor may have moved since.
                let Some(sub) = hooks.list_subscriptions()?.into_iter().find(|s| s.id == id) else {
                    return Err(ScimError::not_found("the subscription was removed").into());
                };
                Ok(poll::fetch(
                    store.as_ref(),
                    hooks.as_ref(),
                    &publisher,
                    &sub,
                    max,
                    page,
                ))
            })
            .await??;
            let (sets, more) = fetched;
            let waited_enough = return_immediately || max == 0 || Instant::now() >= deadline;
            if !sets.is_empty() || waited_enough {
                self.report(&sub, &acknowledged.errors).await;
                let sets: Map<String, Value> = sets
                    .into_iter()
                    .map(|(jti, jws)| (jti, Value::String(jws)))
                    .collect();
                return Ok(json!({"sets": sets, "moreAvailable": more}));
            }
            tokio::time::sleep(
                self.interval
                    .min(deadline.saturating_duration_since(Instant::now())),
            )
            .await;
        }
    }

    /// The subscription `id` when `authorization` is its secret; unknown
    /// ids and wrong secrets are the same 401.
    pub async fn authenticate(
        &self,
        id: &str,
        authorization: Option<&str>,
        source: &str,
    ) -> Result<SubscriptionRecord, AppError> {
        let denied = |reason: AuthError| {
            tracing::warn!(target: AUDIT, event = "auth.failed", subscription = %id, reason = %reason, source);
            AppError::Auth(reason)
        };
        let presented = super::auth::bearer(authorization)
            .map_err(denied)?
            .to_string();
        let (hooks, wanted, key) = (self.hooks.clone(), id.to_string(), self.key.clone());
        let found = blocking(move || -> Result<_, AppError> {
            let Some(sub) = hooks
                .list_subscriptions()?
                .into_iter()
                .find(|s| s.id == wanted)
            else {
                return Ok(None);
            };
            let key = key.ok_or_else(|| {
                ScimError::new(
                    501,
                    None,
                    "SCIMHUB_SECRET_KEY (secret_key) must be set to read subscription secrets",
                )
            })?;
            let secret = subscriptions::secret(&key, &sub).map_err(anyhow::Error::from)?;
            let matches: bool = secret.ct_eq(presented.as_bytes()).into();
            Ok(matches.then_some(sub))
        })
        .await?;
        found.ok_or_else(|| denied(AuthError::Unknown))
    }

    /// Keeps the receiver's error reports where admins look.
    async fn report(&self, sub: &SubscriptionRecord, errors: &[(String, poll::SetErr)]) {
        let Some((jti, last)) = errors.last() else {
            return;
        };
        for (jti, e) in errors {
            tracing::warn!(subscription = %sub.name, %jti, err = %e.err, description = e.description.as_deref().unwrap_or(""), "the receiver could not process a SET");
        }
        let text = match &last.description {
            Some(d) => format!("the receiver reported SET {jti}: {}: {d}", last.err),
            None => format!("the receiver reported SET {jti}: {}", last.err),
        };
        let text: String = text.chars().take(500).collect();
        let (hooks, id) = (self.hooks.clone(), sub.id.clone());
        if let Err(e) = blocking(move || -> Result<(), AppError> {
            Ok(hooks.set_subscription_error(&id, Some(&text))?)
        })
        .await
        {
            tracing::error!(subscription = %sub.name, error = %e, "the receiver's report was not saved");
        }
    }
}
