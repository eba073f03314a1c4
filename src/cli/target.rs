//! `scimhub target add|list|show|remove`. Secrets can come from the
//! environment instead of flags, so they stay out of shell history.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};

use super::DatabaseArg;
use crate::config::Config;
use crate::provision::plan::{DeletionGuard, DeprovisionMode, OrphanPolicy};
use crate::provision::target::{self as targets, Credentials, NewTarget, TargetSettings};
use crate::provision::target_check::parse_actions;
use crate::store::diesel::DieselStore;

const TOKEN_ENV: &str = "SCIMHUB_TARGET_TOKEN";
const PASSWORD_ENV: &str = "SCIMHUB_TARGET_PASSWORD";
const CLIENT_SECRET_ENV: &str = "SCIMHUB_TARGET_CLIENT_SECRET";

#[derive(Debug, Subcommand)]
pub(super) enum TargetCommand {
    /// Add a target (its credentials are stored encrypted with SCIMHUB_SECRET_KEY).
    Add(Box<AddArgs>),
    /// List targets.
    List {
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Show one target's settings and mapping (never its credentials).
    Show {
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Remove a target with its id map and run history.
    Remove {
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Release a quarantined target now (its worker resumes from its cursor).
    Release {
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

/// One auth kind: `--token`, `--basic-user` + password, or `--oauth-token-url` + client.
#[derive(Debug, Args)]
pub(super) struct AddArgs {
    #[arg(long)]
    name: String,
    /// The target's SCIM base URL, e.g. https://app.example.com/scim/v2.
    #[arg(long, value_name = "BASE_URL")]
    url: String,
    /// Bearer token (or env SCIMHUB_TARGET_TOKEN, which keeps it out of shell history).
    #[arg(long, conflicts_with_all = ["basic_user", "oauth_token_url"])]
    token: Option<String>,
    /// HTTP basic auth user name.
    #[arg(long, value_name = "USER", conflicts_with = "oauth_token_url")]
    basic_user: Option<String>,
    /// HTTP basic auth password (or env SCIMHUB_TARGET_PASSWORD).
    #[arg(long, value_name = "PASSWORD", requires = "basic_user")]
    basic_password: Option<String>,
    /// OAuth 2.0 token URL for the client-credentials grant.
    #[arg(long, value_name = "URL")]
    oauth_token_url: Option<String>,
    #[arg(long, requires = "oauth_token_url")]
    client_id: Option<String>,
    /// OAuth client secret (or env SCIMHUB_TARGET_CLIENT_SECRET).
    #[arg(long, value_name = "SECRET", requires = "oauth_token_url")]
    client_secret: Option<String>,
    /// OAuth scope to ask for (space-separated).
    #[arg(long, value_name = "SCOPE", requires = "oauth_token_url")]
    oauth_scope: Option<String>,
    /// Attribute mapping file (TOML or JSON; see the README). Default: identity.
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// SCIM filter choosing the users to provision. Default: all users.
    #[arg(long, value_name = "FILTER")]
    scope: Option<String>,
    /// SCIM filter choosing the groups to provision. Default: all groups.
    #[arg(long, value_name = "FILTER")]
    group_scope: Option<String>,
    /// Only users who are members of these groups (display names, comma-separated).
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    group_members_of: Vec<String>,
    /// Attribute that links existing target accounts [default: userName].
    #[arg(long, value_name = "ATTR")]
    matching: Option<String>,
    /// Extra request header, repeatable (not secret: `target show` prints it).
    #[arg(long = "header", value_name = "NAME=VALUE")]
    headers: Vec<String>,
    /// Per-request timeout in seconds [default: 30].
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Requests in flight at once [default: 4].
    #[arg(long, value_name = "N")]
    max_concurrency: Option<usize>,
    /// Run a full reconcile (drift repair) every SECS seconds while serving.
    #[arg(long, value_name = "SECS")]
    reconcile_every: Option<u64>,
    /// Resource types to sync [default: Users,Groups].
    #[arg(long, value_name = "TYPES", value_delimiter = ',')]
    resource_types: Vec<String>,
    /// Allowed actions [default: create,update,deactivate].
    #[arg(long, value_name = "ACTIONS", value_delimiter = ',')]
    actions: Vec<String>,
    /// How users leaving scope are deprovisioned [default: deactivate].
    #[arg(long, value_enum)]
    deprovision: Option<Deprovision>,
    /// Deletion guard: hold a run deprovisioning more than P% of linked accounts… [default: 20]
    #[arg(long, value_name = "P")]
    guard_percent: Option<f64>,
    /// …when at least N would go [default: 10].
    #[arg(long, value_name = "N")]
    guard_min: Option<usize>,
    /// Hold a run deprovisioning more than N accounts whatever the share.
    #[arg(long, value_name = "N")]
    guard_max: Option<usize>,
    /// Target accounts no local user or group accounts for: report (default) or deprovision.
    #[arg(long, value_enum)]
    orphans: Option<Orphans>,
    /// Deprovisions of real-time sync and runs add up over this many seconds [default: 3600].
    #[arg(long, value_name = "SECS")]
    guard_window: Option<u64>,
    #[command(flatten)]
    db: DatabaseArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Orphans {
    Report,
    Deprovision,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Deprovision {
    Deactivate,
    Delete,
}

impl TargetCommand {
    pub(super) fn db(&self) -> &DatabaseArg {
        match self {
            TargetCommand::Add(args) => &args.db,
            TargetCommand::List { db }
            | TargetCommand::Show { db, .. }
            | TargetCommand::Remove { db, .. }
            | TargetCommand::Release { db, .. } => db,
        }
    }
}

/// A secret from its flag, else from its environment variable.
fn secret(flag: &Option<String>, env: &str) -> Option<String> {
    flag.clone().or_else(|| std::env::var(env).ok())
}

fn credentials(a: &AddArgs) -> anyhow::Result<Credentials> {
    if let Some(username) = &a.basic_user {
        let password = secret(&a.basic_password, PASSWORD_ENV)
            .with_context(|| format!("--basic-user needs --basic-password (or {PASSWORD_ENV})"))?;
        return Ok(Credentials::Basic {
            username: username.clone(),
            password,
        });
    }
    if let Some(token_url) = &a.oauth_token_url {
        let client_id = a
            .client_id
            .clone()
            .context("--oauth-token-url needs --client-id")?;
        let client_secret = secret(&a.client_secret, CLIENT_SECRET_ENV).with_context(|| {
            format!("--oauth-token-url needs --client-secret (or {CLIENT_SECRET_ENV})")
        })?;
        return Ok(Credentials::OAuth2 {
            token_url: token_url.clone(),
            client_id,
            client_secret,
            scope: a.oauth_scope.clone(),
        });
    }
    let token = secret(&a.token, TOKEN_ENV).with_context(|| {
        format!(
            "give the target's credentials: --token (or {TOKEN_ENV}), --basic-user with \
             --basic-password, or --oauth-token-url with --client-id and --client-secret"
        )
    })?;
    Ok(Credentials::Bearer { token })
}

fn headers(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            bail!("--header wants NAME=VALUE, got {pair:?}");
        };
        let name = name.trim().to_string();
        if out.insert(name.clone(), value.trim().to_string()).is_some() {
            bail!("header {name:?} is given twice");
        }
    }
    Ok(out)
}

fn settings(a: &AddArgs) -> anyhow::Result<TargetSettings> {
    let d = TargetSettings::default();
    Ok(TargetSettings {
        auth: d.auth,
        resource_types: if a.resource_types.is_empty() {
            d.resource_types
        } else {
            a.resource_types.clone()
        },
        actions: if a.actions.is_empty() {
            d.actions
        } else {
            parse_actions(&a.actions)?
        },
        deprovision: match a.deprovision {
            None => d.deprovision,
            Some(Deprovision::Deactivate) => DeprovisionMode::Deactivate,
            Some(Deprovision::Delete) => DeprovisionMode::Delete,
        },
        matching: a.matching.clone().unwrap_or(d.matching),
        guard: DeletionGuard {
            max_percent: a.guard_percent.unwrap_or(d.guard.max_percent),
            min_count: a.guard_min.unwrap_or(d.guard.min_count),
            max_count: a.guard_max.or(d.guard.max_count),
            window_secs: a.guard_window.unwrap_or(d.guard.window_secs),
        },
        timeout_secs: a.timeout.unwrap_or(d.timeout_secs),
        max_concurrency: a.max_concurrency.unwrap_or(d.max_concurrency),
        headers: headers(&a.headers)?,
        group_scope: a.group_scope.clone(),
        reconcile_secs: a.reconcile_every,
        scope_groups: a.group_members_of.clone(),
        orphans: match a.orphans {
            None => d.orphans,
            Some(Orphans::Report) => OrphanPolicy::Report,
            Some(Orphans::Deprovision) => OrphanPolicy::Deprovision,
        },
    })
}

fn add(store: &DieselStore, config: &Config, a: &AddArgs) -> anyhow::Result<()> {
    let mapping = match &a.mapping {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read mapping file {}", path.display()))?,
        ),
        None => None,
    };
    let new = NewTarget {
        name: a.name.clone(),
        base_url: a.url.clone(),
        credentials: credentials(a)?,
        mapping,
        scope: a.scope.clone(),
        settings: settings(a)?,
    };
    let view = targets::add(store, config.secret_key.as_ref(), new)?;
    println!(
        "Added target {:?} ({}, {} auth).",
        view.name, view.base_url, view.settings.auth
    );
    Ok(())
}

pub(super) fn run(cmd: &TargetCommand, config: &Config) -> anyhow::Result<()> {
    let store = DieselStore::open(&config.database_url, config.pool_size)?;
    match cmd {
        TargetCommand::Add(args) => add(&store, config, args)?,
        TargetCommand::List { .. } => {
            println!(
                "{:<20} {:<44} {:<7} {:<10} SCOPE",
                "NAME", "URL", "AUTH", "MAPPING"
            );
            for t in targets::list(&store)? {
                let mapping = if t.mapping.is_some() {
                    "custom"
                } else {
                    "identity"
                };
                println!(
                    "{:<20} {:<44} {:<7} {:<10} {}",
                    t.name,
                    t.base_url,
                    t.settings.auth,
                    mapping,
                    t.scope.as_deref().unwrap_or("all users")
                );
            }
        }
        TargetCommand::Show { name, .. } => {
            let t = targets::show(&store, name)?;
            println!("{}", serde_json::to_string_pretty(&t)?);
        }
        TargetCommand::Remove { name, .. } => {
            targets::remove(&store, name)?;
            println!("Removed target {name:?}.");
        }
        TargetCommand::Release { name, .. } => {
            if targets::release(&store, name)? {
                println!("Released target {name:?} from quarantine.");
            } else {
                println!("Target {name:?} was not quarantined.");
            }
        }
    }
    Ok(())
}
