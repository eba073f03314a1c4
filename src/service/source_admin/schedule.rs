//! Scheduled runs while serving: a source with `schedule_secs` runs that
//! often (one instance per period: a lease named after the source, taken
//! anew each period), and a file source's `watch_dir` is looked at every
//! few seconds: each new file (untouched for a moment, so it is whole) is
//! claimed by moving it to `processing/`, imported, then moved to
//! `processed/` — or `failed/` when the run failed as a whole.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::SourceAdmin;
use crate::provision::source::{
    FileInput, ImportOptions, RunMode, RunStatus, SourceKind, SourceWithStatus,
};
use crate::store::Actor;

/// How often sources are looked at.
const TICK: Duration = Duration::from_secs(2);
/// A file untouched this long is taken as written whole.
const SETTLED: Duration = Duration::from_secs(2);

/// The actor scheduled and watched runs carry in the audit trail.
pub const SCHEDULER: &str = "scheduler";

/// Runs due sources until the task is dropped (the server stops).
pub async fn run(admin: SourceAdmin) {
    let mut next: HashMap<String, Instant> = HashMap::new();
    let actor = Actor::system(SCHEDULER);
    loop {
        match admin.list().await {
            Ok(sources) => {
                for s in sources {
                    tick(&admin, &actor, &s, &mut next).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list sources for scheduled runs"),
        }
        tokio::time::sleep(TICK).await;
    }
}

async fn tick(
    admin: &SourceAdmin,
    actor: &Actor,
    s: &SourceWithStatus,
    next: &mut HashMap<String, Instant>,
) {
    let name = &s.source.name;
    let settings = &s.source.settings;
    if let Some(secs) = settings.schedule_secs {
        let due = next.get(name).is_none_or(|at| Instant::now() >= *at);
        if due {
            next.insert(name.clone(), Instant::now() + Duration::from_secs(secs));
            // One instance per period runs it.
            if admin.claim_period(name, secs).await {
                let options = ImportOptions {
                    mode: settings.schedule_mode,
                    trigger: "schedule".into(),
                    ..ImportOptions::default()
                };
                if let Err(e) = admin.run_now(actor, name, options, None).await {
                    tracing::warn!(source = %name, error = %e, "a scheduled run did not start");
                }
            }
        }
    }
    if s.source.kind == SourceKind::File
        && let Some(dir) = &settings.watch_dir
        && let Some(file) = claim_file(Path::new(dir))
    {
        watch_run(admin, actor, name, Path::new(dir), &file).await;
    }
}

/// The oldest settled file in `dir`, moved to `processing/` (a rename:
/// only one instance gets it).
fn claim_file(dir: &Path) -> Option<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
        })
        .filter(|p| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age >= SETTLED)
        })
        .collect();
    files.sort();
    let file = files.into_iter().next()?;
    let processing = dir.join("processing");
    std::fs::create_dir_all(&processing).ok()?;
    let claimed = processing.join(file.file_name()?);
    std::fs::rename(&file, &claimed).ok()?;
    Some(claimed)
}

async fn watch_run(admin: &SourceAdmin, actor: &Actor, name: &str, dir: &Path, file: &Path) {
    let input = match FileInput::read(&file.to_string_lossy()) {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(source = %name, error = %e, "a watched file cannot be read");
            return;
        }
    };
    let options = ImportOptions {
        mode: RunMode::Full,
        trigger: "watch".into(),
        upload: Some(input),
        ..ImportOptions::default()
    };
    let outcome = admin.run_now(actor, name, options, None).await;
    let failed = match &outcome {
        Ok(report) => report.status == RunStatus::Failed,
        Err(e) => {
            tracing::warn!(source = %name, error = %e, "a watched file was not imported");
            true
        }
    };
    let to = dir.join(if failed { "failed" } else { "processed" });
    let moved = std::fs::create_dir_all(&to)
        .and_then(|()| std::fs::rename(file, to.join(file.file_name().unwrap_or_default())));
    if let Err(e) = moved {
        tracing::warn!(source = %name, file = %file.display(), error = %e, "a watched file could not be moved");
    }
}
