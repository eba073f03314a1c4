//! `scimhub sync …`: run, approve, reject and show runs from a terminal,
//! with a progress bar when stderr is one.

use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use super::apply::Progress;
use super::engine::{RunOptions, SyncEngine};
use super::report::RunReport;
use super::text;

pub enum SyncAction {
    Run { target: String, dry_run: bool },
    Approve { run_id: String },
    Reject { run_id: String },
    Show { run_id: String },
}

fn progress_bar() -> (ProgressBar, Progress) {
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    let shown = bar.clone();
    let progress: Progress = Arc::new(move |phase, done, total| {
        shown.set_message(phase);
        shown.set_length(total as u64);
        shown.set_position(done as u64);
    });
    (bar, progress)
}

/// Prints the report (text or JSON); an error (exit 1) when the run failed,
/// had failures or awaits approval.
pub fn run(engine: SyncEngine, action: SyncAction, json: bool) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (bar, progress) = progress_bar();
    let actor = format!("cli:{}", whoami());
    let report: RunReport = runtime.block_on(async {
        match action {
            SyncAction::Run { target, dry_run } => {
                engine
                    .run(&target, RunOptions { dry_run }, Some(progress))
                    .await
            }
            SyncAction::Approve { run_id } => engine.approve(&run_id, &actor, Some(progress)).await,
            SyncAction::Reject { run_id } => engine.reject(&run_id, &actor).await,
            SyncAction::Show { run_id } => engine.report(&run_id).await,
        }
    })?;
    bar.finish_and_clear();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text::render(&report));
    }
    if report.status.is_unsuccessful() {
        anyhow::bail!("run {} is {}", report.id, report.status.as_str());
    }
    Ok(())
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "unknown".into())
}
