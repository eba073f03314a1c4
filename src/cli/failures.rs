//! `scimhub failures list|retry|discard`: the incremental sync's failure queue.

use clap::Subcommand;

use super::DatabaseArg;
use super::door::Door;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub(super) enum FailuresCommand {
    /// List queued failures (all targets, or one).
    List {
        /// Only this target's failures.
        #[arg(long, value_name = "NAME")]
        target: Option<String>,
        /// Print them as JSON, as `GET /admin/v1/failures` answers.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Make one failure (or all, of a target or everywhere) due for retry now.
    #[command(after_help = "Examples:\n  \
        scimhub failures list --target crm\n  \
        scimhub failures retry 42                  # one, after fixing its cause\n  \
        scimhub failures retry --all --target crm")]
    Retry {
        /// The failure's id (see `failures list`).
        #[arg(conflicts_with = "all", required_unless_present = "all")]
        id: Option<String>,
        /// Every queued failure (of every target, or of --target).
        #[arg(long)]
        all: bool,
        /// With --all: only this target's failures.
        #[arg(long, value_name = "NAME", requires = "all")]
        target: Option<String>,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Drop a failure: the object is not retried until it changes again.
    Discard {
        /// The failure's id (see `failures list`).
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

pub(super) fn run(cmd: &FailuresCommand, config: &Config) -> anyhow::Result<()> {
    let door = Door::open(config)?;
    let (sync, actor) = (&door.services.sync, &door.actor);
    match cmd {
        FailuresCommand::List { target, json, .. } => {
            let failures = door.block_on(sync.failures(target.clone()))?;
            if *json {
                let listed = serde_json::json!({ "failures": failures });
                println!("{}", serde_json::to_string_pretty(&listed)?);
                return Ok(());
            }
            println!(
                "{:<36} {:<14} {:<5} {:<36} {:<10} {:<9} {:>3} {:<24} ERROR",
                "ID", "TARGET", "TYPE", "LOCAL ID", "OPERATION", "STATUS", "N", "NEXT ATTEMPT"
            );
            for e in failures {
                println!(
                    "{:<36} {:<14} {:<5} {:<36} {:<10} {:<9} {:>3} {:<24} {}",
                    e.id,
                    e.target,
                    e.resource_type,
                    e.local_id,
                    e.operation,
                    e.status,
                    e.attempts,
                    e.next_attempt,
                    e.last_error
                );
            }
        }
        FailuresCommand::Retry { id: Some(id), .. } => {
            door.block_on(sync.retry_failure(actor, id))?;
            println!("{id} will be retried by the running workers.");
        }
        FailuresCommand::Retry { target, .. } => {
            let n = door.block_on(sync.retry_failures(actor, target.clone()))?;
            println!("{n} failure(s) will be retried by the running workers.");
        }
        FailuresCommand::Discard { id, .. } => {
            door.block_on(sync.discard_failure(actor, id))?;
            println!("Discarded {id}.");
        }
    }
    Ok(())
}
