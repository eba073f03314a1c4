//! `scimhub failures list|retry|discard`: the incremental sync's failure queue.

use clap::Subcommand;

use super::DatabaseArg;
use crate::config::Config;
use crate::store::SyncStore;
use crate::store::diesel::DieselStore;

#[derive(Debug, Subcommand)]
pub(super) enum FailuresCommand {
    /// List queued failures (all targets, or one).
    List {
        #[arg(long, value_name = "NAME")]
        target: Option<String>,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Make one failure (or all, of a target or everywhere) due for retry now.
    Retry {
        #[arg(conflicts_with = "all", required_unless_present = "all")]
        id: Option<String>,
        #[arg(long)]
        all: bool,
        #[arg(long, value_name = "NAME", requires = "all")]
        target: Option<String>,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Drop a failure: the object is not retried until it changes again.
    Discard {
        id: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

impl FailuresCommand {
    pub(super) fn db(&self) -> &DatabaseArg {
        match self {
            FailuresCommand::List { db, .. }
            | FailuresCommand::Retry { db, .. }
            | FailuresCommand::Discard { db, .. } => db,
        }
    }
}

fn target_id(store: &DieselStore, name: Option<&str>) -> anyhow::Result<Option<String>> {
    name.map(|n| {
        store
            .find_target(n)?
            .map(|t| t.id)
            .ok_or_else(|| anyhow::anyhow!("no target named {n:?}"))
    })
    .transpose()
}

pub(super) fn run(cmd: &FailuresCommand, config: &Config) -> anyhow::Result<()> {
    let store = DieselStore::open(&config.database_url, config.pool_size)?;
    match cmd {
        FailuresCommand::List { target, .. } => {
            let names: std::collections::HashMap<String, String> = store
                .list_targets()?
                .into_iter()
                .map(|t| (t.id, t.name))
                .collect();
            let id = target_id(&store, target.as_deref())?;
            println!(
                "{:<36} {:<14} {:<5} {:<36} {:<10} {:<9} {:>3} {:<20} ERROR",
                "ID", "TARGET", "TYPE", "LOCAL ID", "OPERATION", "STATUS", "N", "NEXT ATTEMPT"
            );
            for e in store.queue_list(id.as_deref())? {
                println!(
                    "{:<36} {:<14} {:<5} {:<36} {:<10} {:<9} {:>3} {:<20} {}",
                    e.id,
                    names.get(&e.target_id).map_or("?", String::as_str),
                    e.resource_type,
                    e.local_id,
                    e.operation,
                    e.status,
                    e.attempts,
                    e.next_attempt.format("%Y-%m-%dT%H:%M:%SZ"),
                    e.last_error
                );
            }
        }
        FailuresCommand::Retry { id, target, .. } => {
            let target = target_id(&store, target.as_deref())?;
            if let Some(id) = id
                && store.queue_get(id)?.is_none()
            {
                anyhow::bail!("no queued failure {id:?}");
            }
            let n = store.queue_retry(id.as_deref(), target.as_deref())?;
            tracing::info!(target: "audit", count = n, "failures scheduled for retry by an admin");
            println!("{n} failure(s) will be retried by the running workers.");
        }
        FailuresCommand::Discard { id, .. } => {
            if !store.queue_remove_id(id)? {
                anyhow::bail!("no queued failure {id:?}");
            }
            tracing::info!(target: "audit", id, "failure discarded by an admin");
            println!("Discarded {id}.");
        }
    }
    Ok(())
}
