//! `scimhub subscription add|list|remove`: change-event webhooks. The
//! secret can come from the environment, keeping it out of shell history.

use std::sync::Arc;

use clap::Subcommand;

use super::DatabaseArg;
use crate::config::Config;
use crate::provision::webhook::subscriptions::{self, NewSubscription};
use crate::store::diesel::DieselStore;

const SECRET_ENV: &str = "SCIMHUB_SUBSCRIPTION_SECRET";

#[derive(Debug, Subcommand)]
pub(super) enum SubscriptionCommand {
    /// Call URL back with signed batches of change events from now on.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        url: String,
        /// Signing secret (or env SCIMHUB_SUBSCRIPTION_SECRET); default: a
        /// random one, printed once.
        #[arg(long)]
        secret: Option<String>,
        /// Comma-separated: Users, Groups. Default: both.
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// List subscriptions (never their secrets).
    List {
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Remove a subscription by name or id.
    Remove {
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

impl SubscriptionCommand {
    pub(super) fn db(&self) -> &DatabaseArg {
        match self {
            SubscriptionCommand::Add { db, .. }
            | SubscriptionCommand::List { db }
            | SubscriptionCommand::Remove { db, .. } => db,
        }
    }
}

pub(super) fn run(cmd: &SubscriptionCommand, config: &Config) -> anyhow::Result<()> {
    let store = Arc::new(DieselStore::open(&config.database_url, config.pool_size)?);
    match cmd {
        SubscriptionCommand::Add {
            name,
            url,
            secret,
            types,
            ..
        } => {
            let secret = secret
                .clone()
                .or_else(|| std::env::var(SECRET_ENV).ok().filter(|s| !s.is_empty()));
            let created = subscriptions::add(
                store.as_ref(),
                store.as_ref(),
                config.secret_key.as_ref(),
                NewSubscription {
                    name: name.clone(),
                    url: url.clone(),
                    secret,
                    resource_types: types.clone(),
                },
                "cli",
            )?;
            println!(
                "Added subscription {:?} ({}), starting after change {}.",
                created.view.name, created.view.id, created.view.cursor
            );
            if let Some(secret) = created.secret {
                println!("Its signing secret, shown this once:");
                println!("{secret}");
            }
        }
        SubscriptionCommand::List { .. } => {
            println!(
                "{:<36} {:<20} {:<12} {:<10} {:<40} LAST ERROR",
                "ID", "NAME", "TYPES", "CURSOR", "URL"
            );
            for s in subscriptions::list(store.as_ref())? {
                let types = if s.resource_types.is_empty() {
                    "all".to_string()
                } else {
                    s.resource_types.join(",")
                };
                println!(
                    "{:<36} {:<20} {:<12} {:<10} {:<40} {}",
                    s.id,
                    s.name,
                    types,
                    s.cursor,
                    s.url,
                    s.last_error.as_deref().unwrap_or("-")
                );
            }
        }
        SubscriptionCommand::Remove { name, .. } => {
            subscriptions::remove(store.as_ref(), name, "cli")?;
            println!("Removed subscription {name:?}.");
        }
    }
    Ok(())
}
