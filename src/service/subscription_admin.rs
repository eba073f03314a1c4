//! Subscription management for the admin API and `scimhub subscription …`
//! alike: run off the async workers, strictly checked JSON requests, and a
//! durable audit row with the caller for every change.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::{audit, blocking};
use crate::crypto::SecretKey;
use crate::error::AppError;
use crate::provision::webhook::subscriptions::{
    self, CreatedSubscription, NewSubscription, SubscriptionView,
};
use crate::provision::webhook::transport::shown_url;
use crate::scim::ScimError;
use crate::store::{Actor, Store, WebhookStore};

/// `POST /admin/v1/subscriptions`: anything else in the body is refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateRequest {
    name: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    delivery: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    resource_types: Vec<String>,
}

#[derive(Clone)]
pub struct SubscriptionAdmin {
    store: Arc<dyn Store>,
    hooks: Arc<dyn WebhookStore>,
    key: Option<SecretKey>,
    /// An events signing key is configured (SET subscriptions possible).
    sets_signable: bool,
}

impl SubscriptionAdmin {
    pub fn new(
        store: Arc<dyn Store>,
        hooks: Arc<dyn WebhookStore>,
        key: Option<SecretKey>,
        sets_signable: bool,
    ) -> Self {
        Self {
            store,
            hooks,
            key,
            sets_signable,
        }
    }

    pub async fn list(&self) -> Result<Vec<SubscriptionView>, AppError> {
        let hooks = self.hooks.clone();
        blocking(move || subscriptions::list(hooks.as_ref())).await
    }

    /// Checks the whole request before anything is stored; the secret is
    /// in the answer only when scimhub generated it.
    pub async fn create(
        &self,
        actor: &Actor,
        body: Value,
    ) -> Result<CreatedSubscription, AppError> {
        let r: CreateRequest = serde_json::from_value(body)
            .map_err(|e| ScimError::invalid_value(format!("bad subscription request: {e}")))?;
        let (store, hooks, key) = (self.store.clone(), self.hooks.clone(), self.key.clone());
        let signable = self.sets_signable;
        let created = blocking(move || {
            subscriptions::add(
                store.as_ref(),
                hooks.as_ref(),
                key.as_ref(),
                signable,
                NewSubscription {
                    name: r.name,
                    url: r.url,
                    format: r.format,
                    delivery: r.delivery,
                    mode: r.mode,
                    secret: r.secret,
                    resource_types: r.resource_types,
                },
            )
        })
        .await?;
        let v = &created.view;
        let to = match v.poll_path.as_deref() {
            Some(path) => format!("polled at {path}"),
            None => format!("to {}", shown_url(&v.url)),
        };
        let detail = format!(
            "subscription {:?} ({}) {} {}, {to}",
            v.name, v.id, v.format, v.delivery
        );
        audit::record(&self.store, "subscription.add", actor, detail).await?;
        Ok(created)
    }

    /// Removes a subscription by id or name.
    pub async fn remove(&self, actor: &Actor, id_or_name: &str) -> Result<(), AppError> {
        let (hooks, owned) = (self.hooks.clone(), id_or_name.to_string());
        blocking(move || subscriptions::remove(hooks.as_ref(), &owned)).await?;
        let detail = format!("subscription {id_or_name:?}");
        audit::record(&self.store, "subscription.remove", actor, detail).await
    }
}
