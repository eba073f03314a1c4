//! Subscription management for the admin API: the same use cases as
//! `scimhub subscription …`, run off the async workers, with strictly
//! checked JSON requests.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::blocking;
use crate::config::SecretKey;
use crate::error::AppError;
use crate::provision::webhook::subscriptions::{
    self, CreatedSubscription, NewSubscription, SubscriptionView,
};
use crate::scim::ScimError;
use crate::store::{Actor, Store, WebhookStore};

/// `POST /admin/v1/subscriptions`: anything else in the body is refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateRequest {
    name: String,
    url: String,
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
}

impl SubscriptionAdmin {
    pub fn new(
        store: Arc<dyn Store>,
        hooks: Arc<dyn WebhookStore>,
        key: Option<SecretKey>,
    ) -> Self {
        Self { store, hooks, key }
    }

    pub async fn list(&self) -> Result<Vec<SubscriptionView>, AppError> {
        let hooks = self.hooks.clone();
        blocking(move || subscriptions::list(hooks.as_ref())).await
    }

    pub async fn create(
        &self,
        actor: &Actor,
        body: Value,
    ) -> Result<CreatedSubscription, AppError> {
        let r: CreateRequest = serde_json::from_value(body)
            .map_err(|e| ScimError::invalid_value(format!("bad subscription request: {e}")))?;
        let (store, hooks, key) = (self.store.clone(), self.hooks.clone(), self.key.clone());
        let actor = actor.name.clone();
        blocking(move || {
            subscriptions::add(
                store.as_ref(),
                hooks.as_ref(),
                key.as_ref(),
                NewSubscription {
                    name: r.name,
                    url: r.url,
                    secret: r.secret,
                    resource_types: r.resource_types,
                },
                &actor,
            )
        })
        .await
    }

    pub async fn remove(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        let (hooks, id, actor) = (self.hooks.clone(), id.to_string(), actor.name.clone());
        blocking(move || subscriptions::remove(hooks.as_ref(), &id, &actor)).await
    }
}
