//! `scimhub sync run|approve|reject|show`.

use std::sync::Arc;

use clap::Subcommand;

use super::DatabaseArg;
use crate::config::Config;
use crate::provision::sync::SyncEngine;
use crate::provision::sync::command::{self, SyncAction};
use crate::provision::webhook::Notifier;
use crate::store::diesel::DieselStore;

#[derive(Debug, Subcommand)]
pub(super) enum SyncCommand {
    /// Run a full sync of one target now; exits 1 when the run failed, had
    /// failures or awaits approval.
    Run {
        target: String,
        /// Compute and print the plan; write nothing to the target.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Apply the deprovisions a run held back (deletion guard).
    Approve {
        run_id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Refuse the deprovisions a run held back.
    Reject {
        run_id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Show a run's report.
    Show {
        run_id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

impl SyncCommand {
    pub(super) fn db(&self) -> &DatabaseArg {
        match self {
            SyncCommand::Run { db, .. }
            | SyncCommand::Approve { db, .. }
            | SyncCommand::Reject { db, .. }
            | SyncCommand::Show { db, .. } => db,
        }
    }
}

pub(super) fn run(cmd: &SyncCommand, config: &Config) -> anyhow::Result<()> {
    let (action, json) = match cmd {
        SyncCommand::Run {
            target,
            dry_run,
            json,
            ..
        } => (
            SyncAction::Run {
                target: target.clone(),
                dry_run: *dry_run,
            },
            *json,
        ),
        SyncCommand::Approve { run_id, json, .. } => (
            SyncAction::Approve {
                run_id: run_id.clone(),
            },
            *json,
        ),
        SyncCommand::Reject { run_id, json, .. } => (
            SyncAction::Reject {
                run_id: run_id.clone(),
            },
            *json,
        ),
        SyncCommand::Show { run_id, json, .. } => (
            SyncAction::Show {
                run_id: run_id.clone(),
            },
            *json,
        ),
    };
    let store = Arc::new(DieselStore::open(&config.database_url, config.pool_size)?);
    let notifier = Notifier::for_config(store.clone(), config);
    let engine = SyncEngine::new(store.clone(), store, config.secret_key.clone())
        .with_run_lease(std::time::Duration::from_secs(config.sync.run_lease_secs))
        .with_notifier(notifier);
    command::run(engine, action, json)
}
