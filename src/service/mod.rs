//! Use cases: validate through `scim`, write through `store` (which appends
//! the change log in the same transaction), and emit audit events.

pub mod audit;
pub mod auth;
mod blocking;
pub mod bulk;
pub mod changes;
pub mod console;
pub mod cursor;
pub mod departments;
pub mod event_feed;
pub mod flow;
pub mod groups;
pub mod jwt;
pub mod listing;
pub mod notifications;
pub mod operations;
pub mod password;
pub mod resources;
pub mod schemas;
pub mod source_admin;
pub mod subscription_admin;
pub mod sync_admin;
pub mod token_admin;
pub mod token_cache;
pub mod tokens;
pub mod users;

use std::sync::Arc;

use crate::config::Config;
use crate::scim::filter::FilterLimits;
use crate::store::{ConsoleStore, SchemaStore, SourceStore, Store, SyncStore, WebhookStore};

pub use auth::{Authenticator, Principal};
pub use blocking::{blocking, writing};

/// Everything the front ends (HTTP, CLI) call, built once around one store.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub users: users::Users,
    pub groups: groups::Groups,
    /// The organization tree.
    pub departments: departments::Departments,
    /// Every resource type's verbs, one entry point each (`flow` underneath).
    pub resources: resources::Resources,
    pub auth: Authenticator,
    pub listing: listing::Listing,
    pub bulk: bulk::Bulk,
    pub changes: changes::ChangeFeed,
    pub tokens: token_admin::TokenAdmin,
    pub sync: sync_admin::SyncAdmin,
    pub subscriptions: subscription_admin::SubscriptionAdmin,
    /// The organization center's upstream sources.
    pub sources: source_admin::SourceAdmin,
    /// Admin-defined extension schemas (published into the registry).
    pub schemas: schemas::SchemaAdmin,
    /// Console sign-in and sessions.
    pub console: console::ConsoleAuth,
    /// SCIM events: the JWKS and the poll endpoint.
    pub events: event_feed::EventFeed,
    pub operations: operations::Operations,
    /// The process's metrics, recorded into by the HTTP layer and the sync engines.
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Services {
    /// Builds every service (the sync center's over the same database) and
    /// publishes the extension schemas; fails on a bad JWT issuer
    /// configuration, events signing key or configured schema.
    pub fn new<S: Store + SyncStore + WebhookStore + ConsoleStore + SourceStore + SchemaStore>(
        store: Arc<S>,
        config: &Config,
    ) -> anyhow::Result<Self> {
        let sync: Arc<dyn SyncStore> = store.clone();
        let hooks: Arc<dyn WebhookStore> = store.clone();
        let sessions: Arc<dyn ConsoleStore> = store.clone();
        let inbound: Arc<dyn SourceStore> = store.clone();
        let extensions: Arc<dyn SchemaStore> = store.clone();
        let store: Arc<dyn Store> = store;
        let schemas = schemas::SchemaAdmin::start(store.clone(), extensions, config)?;
        let limits = listing::ListLimits {
            default_page_size: config.default_page_size,
            max_page_size: config.max_page_size,
            filter: FilterLimits {
                max_length: config.filter_max_length,
                max_depth: config.filter_max_depth,
            },
        };
        let cursors = cursor::CursorCodec::new(config.cursor_key(), config.cursor_timeout_secs);
        let verified_tokens =
            token_cache::TokenCache::new(std::time::Duration::from_secs(config.token_cache_secs));
        let users = users::Users::new(store.clone(), config.max_patch_operations);
        let groups = groups::Groups::new(store.clone(), config.max_patch_operations);
        let departments = departments::Departments::new(store.clone(), config.max_patch_operations);
        let resources = resources::Resources::new(
            users.clone(),
            groups.clone(),
            departments.clone(),
            store.clone(),
            config.max_patch_operations,
        );
        let metrics = crate::metrics::Metrics::new();
        let auth = Authenticator::new(
            store.clone(),
            jwt::JwtVerifier::from_config(&config.jwt_issuers)?,
            verified_tokens.clone(),
        );
        let events = event_feed::EventFeed::new(store.clone(), hooks.clone(), config)?;
        Ok(Self {
            console: console::ConsoleAuth::new(
                store.clone(),
                sessions,
                auth.clone(),
                &config.console,
            )?,
            operations: operations::Operations::new(store.clone(), sync.clone(), hooks.clone()),
            listing: listing::Listing::new(store.clone(), limits, cursors),
            changes: changes::ChangeFeed::new(store.clone(), config.max_page_size),
            tokens: token_admin::TokenAdmin::new(store.clone(), verified_tokens.clone()),
            sync: sync_admin::SyncAdmin::new(
                store.clone(),
                sync.clone(),
                config.secret_key.clone(),
                // Runs started over HTTP lease and notify like every other run.
                |engine| {
                    engine
                        .with_run_lease(std::time::Duration::from_secs(config.sync.run_lease_secs))
                        .with_notifier(notifications::notifier(hooks.clone(), config))
                        .with_metrics(metrics.clone())
                },
            ),
            subscriptions: subscription_admin::SubscriptionAdmin::new(
                store.clone(),
                hooks,
                config.secret_key.clone(),
                events.publisher().is_some(),
            ),
            sources: source_admin::SourceAdmin::new(
                store.clone(),
                inbound,
                sync.clone(),
                config.secret_key.clone(),
                users.clone(),
                groups.clone(),
                departments.clone(),
            ),
            events,
            schemas,
            bulk: bulk::Bulk::new(
                users.clone(),
                resources.clone(),
                config.bulk_max_operations,
                store.writes_in_submission_order(),
            ),
            users,
            groups,
            departments,
            resources,
            auth,
            store,
            metrics,
        })
    }
}
