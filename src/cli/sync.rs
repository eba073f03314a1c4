//! `scimhub sync run|user|approve|reject|show|runs|held`, over the same service
//! (and audit trail) as the admin API, with a progress bar on a terminal.

use std::io::IsTerminal;
use std::sync::Arc;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::DatabaseArg;
use super::door::Door;
use crate::config::Config;
use crate::provision::on_demand::{self, ProvisionOptions};
use crate::provision::runs::text;
use crate::provision::runs::{Progress, RunOptions, RunReport, Tick};
use crate::service::sync_admin::run_limit;

#[derive(Debug, Subcommand)]
pub(super) enum SyncCommand {
    /// Run a full sync of one target now; exits 1 when the run failed, had
    /// failures or awaits approval. A new target's first run is its initial
    /// sync: real-time sync follows from its start.
    #[command(after_help = "Examples:\n  \
        scimhub sync run crm --dry-run      # the plan; nothing written to the target\n  \
        scimhub sync run crm                # apply it; the report follows\n  \
        scimhub sync run crm --json > report.json")]
    Run {
        /// The target's name.
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
    /// Push one user (a userName or an id) and its group memberships to a
    /// target now, whatever the schedule or the target's state (new,
    /// paused), printing each step; exits 1 when a step failed.
    #[command(after_help = "Examples:\n  \
        scimhub sync user crm alice --dry-run   # the steps; nothing written\n  \
        scimhub sync user crm alice             # pushed now")]
    User {
        /// The target's name.
        target: String,
        /// userName or id.
        user: String,
        /// Show the steps; write nothing (writes show as "would send").
        #[arg(long)]
        dry_run: bool,
        /// Push to a quarantined target too.
        #[arg(long)]
        force: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Apply the deprovisions a run held back (deletion guard).
    #[command(after_help = "Examples:\n  \
        scimhub sync held                   # what awaits approval, by account name\n  \
        scimhub sync approve RUN_ID         # deprovision them now\n  \
        scimhub sync reject RUN_ID          # or leave them as they are")]
    Approve {
        /// The run awaiting approval (see `sync held`).
        run_id: String,
        /// Print the updated report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Refuse the deprovisions a run held back; those accounts stay as they are.
    Reject {
        /// The run awaiting approval (see `sync held`).
        run_id: String,
        /// Print the updated report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Show a run's report.
    Show {
        /// The run's id (see `sync runs`).
        run_id: String,
        /// Print the report as JSON, as `GET /admin/v1/runs/{id}` answers.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// List runs, newest first (of every target, or one); `--json` prints
    /// what `GET /admin/v1/runs` answers.
    Runs {
        /// Only this target's runs.
        target: Option<String>,
        /// Only runs with this status (e.g. awaiting_approval, failed).
        #[arg(long)]
        status: Option<String>,
        /// At most this many (1-100) [default: 20].
        #[arg(long)]
        limit: Option<String>,
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// List the deprovisions awaiting approval, by account name; `--json`
    /// prints what `GET /admin/v1/approvals` answers.
    Held {
        /// Only this target's approvals.
        target: Option<String>,
        /// Print them as JSON.
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
            | SyncCommand::User { db, .. }
            | SyncCommand::Approve { db, .. }
            | SyncCommand::Reject { db, .. }
            | SyncCommand::Show { db, .. }
            | SyncCommand::Runs { db, .. }
            | SyncCommand::Held { db, .. } => db,
        }
    }
}

pub(super) fn progress_bar() -> (ProgressBar, Progress) {
    let bar = ProgressBar::new(0);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let style = ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    let shown = bar.clone();
    let progress: Progress = Arc::new(move |tick: Tick| {
        shown.set_message(tick.phase);
        shown.set_length(tick.total as u64);
        shown.set_position(tick.done as u64);
    });
    (bar, progress)
}

/// Prints a report; an error (exit 1) when the run failed, had failures or
/// awaits approval.
fn print_report(report: &RunReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", text::render(report));
    }
    if report.head.status.is_unsuccessful() {
        anyhow::bail!("run {} is {}", report.head.id, report.head.status.as_str());
    }
    Ok(())
}

pub(super) fn run(cmd: &SyncCommand, config: &Config) -> anyhow::Result<()> {
    let door = Door::open(config)?;
    let sync = &door.services.sync;
    let actor = &door.actor;
    match cmd {
        SyncCommand::Run {
            target,
            dry_run,
            json,
            ..
        } => {
            let (bar, progress) = progress_bar();
            let options = RunOptions { dry_run: *dry_run };
            let report = door.block_on(sync.run_now(actor, target, options, Some(progress)));
            bar.finish_and_clear();
            print_report(&report?, *json)
        }
        SyncCommand::User {
            target,
            user,
            dry_run,
            force,
            json,
            ..
        } => {
            let options = ProvisionOptions {
                dry_run: *dry_run,
                force: *force,
            };
            let report = door.block_on(sync.provision_user(actor, target, user, options))?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", on_demand::text::render(&report));
            }
            if !report.ok {
                anyhow::bail!("provisioning {user:?} to target {target:?} failed");
            }
            Ok(())
        }
        SyncCommand::Approve { run_id, json, .. } => {
            let (bar, progress) = progress_bar();
            let report = door.block_on(sync.approve_with(actor, run_id, Some(progress)));
            bar.finish_and_clear();
            print_report(&report?, *json)
        }
        SyncCommand::Reject { run_id, json, .. } => {
            let report = door.block_on(sync.reject(actor, run_id))?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", text::render(&report));
            }
            Ok(())
        }
        SyncCommand::Show { run_id, json, .. } => {
            let report = door.block_on(sync.report(run_id))?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", text::render(&report));
            }
            Ok(())
        }
        SyncCommand::Runs {
            target,
            status,
            limit,
            json,
            ..
        } => {
            let limit = run_limit(limit.as_deref())?;
            let runs = door.block_on(sync.find_runs(target.clone(), status.as_deref(), limit))?;
            if *json {
                let listed = serde_json::json!({ "runs": runs });
                println!("{}", serde_json::to_string_pretty(&listed)?);
                return Ok(());
            }
            println!(
                "{:<36} {:<16} {:<24} {:<24} {:>7} {:>7} {:>7} {:>5}",
                "RUN", "TARGET", "STATUS", "STARTED", "CREATED", "UPDATED", "DEPROV", "HELD"
            );
            for r in runs {
                let status = format!(
                    "{}{}",
                    r.head.status.as_str(),
                    if r.head.dry_run { " (dry)" } else { "" }
                );
                println!(
                    "{:<36} {:<16} {:<24} {:<24} {:>7} {:>7} {:>7} {:>5}",
                    r.head.id,
                    r.head.target,
                    status,
                    r.head.started,
                    r.head.counts.created,
                    r.head.counts.updated,
                    r.head.counts.deactivated + r.head.counts.deleted,
                    r.held
                );
            }
            Ok(())
        }
        SyncCommand::Held { target, json, .. } => {
            let held = door.block_on(sync.held(target.clone()))?;
            if *json {
                let listed = serde_json::json!({ "approvals": held });
                println!("{}", serde_json::to_string_pretty(&listed)?);
            } else if held.is_empty() {
                println!("No deprovisions await approval.");
            } else {
                for report in &held {
                    print!("{}", text::render(report));
                }
            }
            Ok(())
        }
    }
}
