//! `scimhub subscription add|list|remove`: change-event webhooks and SCIM
//! events (signed SETs, pushed or polled), over the
//! same service (and audit trail) as the admin API: flags become its
//! request body. The secret can come from the environment, keeping it out
//! of shell history.

use clap::Subcommand;
use serde_json::json;

use super::DatabaseArg;
use super::door::Door;
use crate::config::Config;

const SECRET_ENV: &str = "SCIMHUB_SUBSCRIPTION_SECRET";

#[derive(Debug, Subcommand)]
pub(super) enum SubscriptionCommand {
    /// Send change events from now on: signed JSON batches to a URL, or SCIM
    /// events (RFC 9967 Security Event Tokens) pushed to a URL or polled.
    #[command(after_help = "Examples:\n  \
        scimhub subscription add --name crm --url https://crm.example.com/scim-events\n  \
        scimhub subscription add --name hr --url https://hr.example.com/hook --types Users\n  \
        scimhub subscription add --name siem --format set --url https://siem.example.com/set\n  \
        scimhub subscription add --name audit --format set --delivery poll --mode notice\n\n\
        Needs SCIMHUB_SECRET_KEY (the secret is sealed at rest); SCIM events need\n\
        events.signing_key_file (SCIMHUB_EVENTS_SIGNING_KEY_FILE).")]
    Add {
        /// A unique name for the subscription.
        #[arg(long)]
        name: String,
        /// The receiver's URL: signed POSTs go there (not for --delivery poll).
        #[arg(long)]
        url: Option<String>,
        /// webhook (signed JSON batches, the default) or set (SCIM events).
        #[arg(long)]
        format: Option<String>,
        /// push (to --url, the default) or poll (the receiver fetches SETs).
        #[arg(long)]
        delivery: Option<String>,
        /// For SCIM events: full (the resource in each SET, the default) or
        /// notice (only the changed attribute names).
        #[arg(long)]
        mode: Option<String>,
        /// Signing secret (or env SCIMHUB_SUBSCRIPTION_SECRET); default: a
        /// random one, printed once.
        #[arg(long)]
        secret: Option<String>,
        /// Comma-separated: Users, Groups, Departments. Default: all.
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// List subscriptions (never their secrets).
    List {
        /// Print them as JSON, as `GET /admin/v1/subscriptions` answers.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Remove a subscription by name or id.
    Remove {
        /// The subscription's name or id.
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

impl SubscriptionCommand {
    pub(super) fn db(&self) -> &DatabaseArg {
        match self {
            SubscriptionCommand::Add { db, .. }
            | SubscriptionCommand::List { db, .. }
            | SubscriptionCommand::Remove { db, .. } => db,
        }
    }
}

pub(super) fn run(cmd: &SubscriptionCommand, config: &Config) -> anyhow::Result<()> {
    let door = Door::open(config)?;
    let (admin, actor) = (&door.services.subscriptions, &door.actor);
    match cmd {
        SubscriptionCommand::Add {
            name,
            url,
            format,
            delivery,
            mode,
            secret,
            types,
            ..
        } => {
            let secret = secret
                .clone()
                .or_else(|| std::env::var(SECRET_ENV).ok().filter(|s| !s.is_empty()));
            let mut body = json!({"name": name, "secret": secret, "resourceTypes": types});
            for (field, value) in [
                ("url", url),
                ("format", format),
                ("delivery", delivery),
                ("mode", mode),
            ] {
                if let Some(value) = value {
                    body[field] = json!(value);
                }
            }
            let created = door.block_on(admin.create(actor, body))?;
            println!(
                "Added subscription {:?} ({}), starting after change {}.",
                created.view.name, created.view.id, created.view.cursor
            );
            if let Some(path) = &created.view.poll_path {
                println!(
                    "Its receiver polls POST {path} (on this server) with the secret as bearer token."
                );
            }
            if let Some(secret) = created.secret {
                println!("Its secret, shown this once:");
                println!("{secret}");
            }
        }
        SubscriptionCommand::List { json, .. } => {
            let listed = door.block_on(admin.list())?;
            if *json {
                let listed = json!({ "subscriptions": listed });
                println!("{}", serde_json::to_string_pretty(&listed)?);
                return Ok(());
            }
            println!(
                "{:<36} {:<20} {:<20} {:<12} {:<10} {:<40} LAST ERROR",
                "ID", "NAME", "FORMAT", "TYPES", "CURSOR", "URL"
            );
            for s in listed {
                let types = if s.resource_types.is_empty() {
                    "all".to_string()
                } else {
                    s.resource_types.join(",")
                };
                let format = match s.format {
                    "set" => format!("set/{}/{}", s.delivery, s.mode),
                    other => other.to_string(),
                };
                let url = s.poll_path.as_deref().unwrap_or(&s.url);
                println!(
                    "{:<36} {:<20} {:<20} {:<12} {:<10} {:<40} {}",
                    s.id,
                    s.name,
                    format,
                    types,
                    s.cursor,
                    url,
                    s.last_error.as_deref().unwrap_or("-")
                );
            }
        }
        SubscriptionCommand::Remove { name, .. } => {
            door.block_on(admin.remove(actor, name))?;
            println!("Removed subscription {name:?}.");
        }
    }
    Ok(())
}
