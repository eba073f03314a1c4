//! `scimhub changes prune`: trims the change log through the service layer
//! (an audit row with the CLI actor).

use clap::Subcommand;

use super::DatabaseArg;
use super::door::Door;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub(super) enum ChangesCommand {
    /// Delete change-log rows older than N days; pull cursors before them get
    /// 410. Rows a sync target or webhook subscription has not read yet stay.
    #[command(after_help = "Example:\n  \
        scimhub changes prune --older-than-days 90")]
    Prune {
        /// Rows older than this many days go.
        #[arg(long, value_name = "DAYS")]
        older_than_days: u32,
        /// Remove them anyway: those consumers never see the removed changes.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

impl ChangesCommand {
    pub(super) fn db(&self) -> &DatabaseArg {
        match self {
            ChangesCommand::Prune { db, .. } => db,
        }
    }
}

pub(super) fn run(cmd: &ChangesCommand, config: &Config) -> anyhow::Result<()> {
    let ChangesCommand::Prune {
        older_than_days,
        force,
        ..
    } = cmd;
    let door = Door::open(config)?;
    let before = chrono::Utc::now() - chrono::Duration::days(i64::from(*older_than_days));
    let pruned = door.block_on(door.services.changes.prune(&door.actor, before, *force))?;
    println!(
        "Removed {} change-log rows older than {older_than_days} days.",
        pruned.removed
    );
    if !pruned.kept_for.is_empty() {
        println!(
            "Kept older changes not yet read by: {}. They go once read (or with --force, unread).",
            pruned.kept_for.join(", ")
        );
    }
    Ok(())
}
