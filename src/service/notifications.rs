//! The notification channels the configuration names (`[[notify]]`,
//! `[email]`, `[webhooks]`), handed to the webhook engines.

use std::sync::Arc;

use crate::config::Config;
use crate::provision::webhook::set::Publisher;
use crate::provision::webhook::{Deliverer, Notifier, Workers};
use crate::store::{Store, WebhookStore};

/// Records operator events for every configured channel.
pub fn notifier(hooks: Arc<dyn WebhookStore>, config: &Config) -> Notifier {
    Notifier::new(hooks, config.notify.clone())
        .with_email(&config.email, config.public_url.as_deref())
}

/// Delivers recorded events to every configured channel.
pub fn deliverer(hooks: Arc<dyn WebhookStore>, config: &Config) -> anyhow::Result<Deliverer> {
    Deliverer::new(hooks, &config.notify, &config.webhooks)?.with_email(&config.email)
}

/// The deliverer and the subscription pusher that `serve` runs; SCIM
/// events are signed by `publisher` (`Services::events`' own).
pub fn start_workers(
    store: Arc<dyn Store>,
    hooks: Arc<dyn WebhookStore>,
    config: &Config,
    publisher: Option<Publisher>,
) -> anyhow::Result<Workers> {
    Workers::start(
        store,
        hooks,
        config.secret_key.clone(),
        (&config.notify, &config.email),
        &config.webhooks,
        (config.scim_base_url(), publisher),
    )
}
