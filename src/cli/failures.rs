//! `scimhub failures list|retry|discard`: the incremental sync's failure queue.

use clap::Subcommand;

use super::DatabaseArg;
use super::door::Door;
use crate::config::Config;

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

pub(super) fn run(cmd: &FailuresCommand, config: &Config) -> anyhow::Result<()> {
    let door = Door::open(config)?;
    let (sync, actor) = (&door.services.sync, &door.actor);
    match cmd {
        FailuresCommand::List { target, .. } => {
            println!(
                "{:<36} {:<14} {:<5} {:<36} {:<10} {:<9} {:>3} {:<24} ERROR",
                "ID", "TARGET", "TYPE", "LOCAL ID", "OPERATION", "STATUS", "N", "NEXT ATTEMPT"
            );
            for e in door.block_on(sync.failures(target.clone()))? {
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
